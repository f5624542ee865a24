"""The reference side of Compare's CKA figures: times torch_cka's CKA.compare() on the workload
of `compare bench cka`, and checks torch_cka against Compare (and a float64 numpy
implementation) on generated activations, including the inputs where float32 evaluation of the
formula on raw Gram matrices breaks down.

    /path/to/python Benchmarks/cka_reference.py time [--threads 1] [--quick]
    /path/to/python Benchmarks/cka_reference.py digits --compare .build/release/compare
    /path/to/python Benchmarks/cka_reference.py accuracy --compare .build/release/compare

Needs torch, torch_cka and numpy. Activations are served to torch_cka by modules that look
rows up in fixed tables, so the forward passes cost nothing and compare() times only CKA.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "Fixtures", "cka"))
import make_fixtures as reference  # noqa: E402  (the float64 implementation of the papers)


class Lookup(nn.Module):
    """A 'layer' whose output for example indices is rows of a fixed table."""

    def __init__(self, table):
        super().__init__()
        self.table = table

    def forward(self, index):
        return self.table[index % self.table.shape[0]]


class Tables(nn.Module):
    def __init__(self, tables):
        super().__init__()
        self.layers = nn.ModuleList([Lookup(t) for t in tables])

    def forward(self, index):
        for layer in self.layers:
            layer(index)
        return index


def torch_cka(tables_a, tables_b, examples, batch, drop_last=True):
    from torch_cka import CKA
    ma, mb = Tables(tables_a), Tables(tables_b)
    names_a = [f"layers.{i}" for i in range(len(tables_a))]
    names_b = [f"layers.{i}" for i in range(len(tables_b))]
    cka = CKA(ma, mb, model1_name="A", model2_name="B", model1_layers=names_a,
              model2_layers=names_b, device="cpu")
    loader = DataLoader(TensorDataset(torch.arange(examples)), batch_size=batch, shuffle=False,
                        drop_last=drop_last)
    import contextlib
    import io
    with contextlib.redirect_stderr(io.StringIO()):
        cka.compare(loader)
    return cka.export()["CKA"].numpy().astype(np.float64)


def related_layers(rng, rows, features, count, code=64):
    """Layers that are random linear maps of one shared code plus noise (as the Swift bench)."""
    z = rng.standard_normal((rows, code)).astype(np.float32)
    return [torch.from_numpy(z @ rng.standard_normal((code, features)).astype(np.float32)
                             + rng.standard_normal((rows, features)).astype(np.float32))
            for _ in range(count)]


def time_compare(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        la, lb, examples, batch, features = 3, 3, 1000, 128, 512
    else:
        la, lb, examples, batch, features = 6, 6, 10_000, 512, 4096
    rng = np.random.default_rng(6)
    tables = related_layers(rng, batch, features, la + lb)
    start = time.perf_counter()
    torch_cka(tables[:la], tables[la:], examples, batch, drop_last=True)
    seconds = time.perf_counter() - start
    batches = examples // batch
    # Per batch torch_cka forms K and K·K for each layer of A, and for each pair L, K·L and L·L.
    gram, cube = 2 * batch * batch * features, 2 * batch ** 3
    flops = batches * (la * (gram + cube) + la * lb * (gram + 2 * cube))
    print(json.dumps({"tool": "torch_cka 0.21 CKA.compare()", "threads": torch.get_num_threads(),
                      "layers_a": la, "layers_b": lb, "examples": examples, "batch_size": batch,
                      "features": features, "batches": batches, "seconds": round(seconds, 3),
                      "approx_tflop": round(flops / 1e12, 2)}))


def load_layers(path):
    if path.endswith(".npz"):
        with np.load(path) as f:
            keys = sorted(f.files, key=natural)
            return keys, [f[k].reshape(f[k].shape[0], -1) for k in keys]
    from safetensors.numpy import load_file
    f = load_file(path)
    keys = sorted(f, key=natural)
    return keys, [f[k].reshape(f[k].shape[0], -1) for k in keys]


def natural(name):
    import re
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def digits(args):
    """torch_cka and `compare cka` on the bundled example activations, timed end to end."""
    if args.threads:
        torch.set_num_threads(args.threads)
    data = os.path.join(HERE, "..", "Examples", "data")
    a_path, b_path = os.path.join(data, "activations_mlp.safetensors"), os.path.join(data, "activations_cnn.npz")
    start = time.perf_counter()
    _, a = load_layers(a_path)
    _, b = load_layers(b_path)
    n = a[0].shape[0]
    ours = torch_cka([torch.from_numpy(x.astype(np.float32)) for x in a],
                     [torch.from_numpy(x.astype(np.float32)) for x in b], n, 256, drop_last=True)
    torch_seconds = time.perf_counter() - start
    start = time.perf_counter()
    out = subprocess.run([args.compare, "cka", a_path, b_path, "--json"], check=True,
                         capture_output=True, text=True).stdout
    compare_seconds = time.perf_counter() - start
    compare = np.array(json.loads(out)["CKA"], dtype=np.float64)
    exact = reference.cka_minibatch([x.astype(np.float64) for x in a],
                                    [x.astype(np.float64) for x in b], "linear", 256, False)[0]
    # The digits-sized synthetic case of `compare bench cka`: the same widths, 1797 examples.
    rng = np.random.default_rng(6)
    z = rng.standard_normal((1797, 64)).astype(np.float32)
    def synthetic(width):
        return torch.from_numpy(z @ rng.standard_normal((64, width)).astype(np.float32)
                                + rng.standard_normal((1797, width)).astype(np.float32))
    start = time.perf_counter()
    torch_cka([synthetic(x.shape[1]) for x in a], [synthetic(y.shape[1]) for y in b], 1797, 256)
    synthetic_seconds = time.perf_counter() - start
    print(json.dumps({"examples": n, "layers": [len(a), len(b)], "threads": torch.get_num_threads(),
                      "torch_cka_seconds, synthetic 1797 examples, batch 256": round(synthetic_seconds, 3),
                      "torch_cka_seconds (reading included)": round(torch_seconds, 3),
                      "compare_seconds (process, reading included)": round(compare_seconds, 3),
                      "max |torch_cka - float64|": float(np.abs(ours - exact).max()),
                      "max |compare - float64|": float(np.abs(compare - exact).max())}, indent=1))


def accuracy(args):
    """torch_cka vs Compare vs float64 on generated post-ReLU activations, then with an offset,
    then with a partial last batch."""
    rng = np.random.default_rng(2021)
    n, batch = 1000, 256
    z = rng.standard_normal((n, 32))
    def relu_layer(features, scale=1.0):
        return np.maximum(z @ rng.standard_normal((32, features)) * scale
                          + rng.standard_normal((n, features)), 0)
    a = [relu_layer(256), relu_layer(512), relu_layer(128)]
    b = [relu_layer(300), relu_layer(64)]
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        def run(label, xs, ys, drop_last=True, extra=()):
            for model, layers in (("a", xs), ("b", ys)):
                folder = os.path.join(tmp, label, model)
                os.makedirs(folder, exist_ok=True)
                for i, x in enumerate(layers):
                    np.save(os.path.join(folder, f"layer{i}.npy"), x.astype(np.float32))
            exact = reference.cka_minibatch([x.astype(np.float32).astype(np.float64) for x in xs],
                                            [y.astype(np.float32).astype(np.float64) for y in ys],
                                            "linear", batch, not drop_last)
            try:
                theirs = torch_cka([torch.from_numpy(x.astype(np.float32)) for x in xs],
                                   [torch.from_numpy(y.astype(np.float32)) for y in ys],
                                   n, batch, drop_last=drop_last)
                theirs_error = float(np.nanmax(np.abs(theirs - exact[0])))
                theirs_note = "ok" if np.isfinite(theirs).all() else "NaN in matrix"
            except AssertionError as error:
                theirs, theirs_error, theirs_note = None, None, f"AssertionError: {error}"
            # torch_cka's self-HSIC of each layer, per batch, as it evaluates it (float32).
            from torch_cka import CKA
            probe = CKA(nn.Identity(), nn.Identity(), "A", "B", [], [], "cpu")
            selfs = []
            for x in xs:
                t = torch.from_numpy(x[:batch].astype(np.float32))
                k = t @ t.T
                k.fill_diagonal_(0)
                selfs.append(probe._HSIC(k, k))
            exact_selfs = [reference.hsic_unbiased(reference.gram_linear(x[:batch].astype(np.float32).astype(np.float64)),
                                                   reference.gram_linear(x[:batch].astype(np.float32).astype(np.float64))) for x in xs]
            cmd = [args.compare, "cka", os.path.join(tmp, label, "a"), os.path.join(tmp, label, "b"),
                   "--batch-size", str(batch), "--json", *extra]
            ours = np.array([[np.nan if v is None else v for v in row]
                             for row in json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                                                  text=True).stdout)["CKA"]])
            report[label] = {
                "torch_cka": theirs_note,
                "max |torch_cka - float64|": theirs_error,
                "max |compare - float64|": float(np.abs(ours - exact[0]).max()),
                "first-batch self-HSIC, torch_cka float32": [float(s) for s in selfs],
                "first-batch self-HSIC, float64": [float(s) for s in exact_selfs],
                "relative error of torch_cka's self-HSIC": [abs(s - e) / abs(e) for s, e in zip(selfs, exact_selfs)],
            }
            return exact[0], theirs, ours

        run("post-ReLU", a, b)
        run("post-ReLU + 100", [x + 100 for x in a], [y + 100 for y in b])
        dropped, theirs_dropped, _ = run("partial batch dropped", a, b)
        kept, theirs_kept, _ = run("partial batch kept", a, b, drop_last=False, extra=("--keep-last",))
        # One batch of 256 post-ReLU examples, 64 features, shifted by an offset: torch_cka's
        # self-HSIC (float32, raw Gram) against float64.
        from torch_cka import CKA
        probe = CKA(nn.Identity(), nn.Identity(), "A", "B", [], [], "cpu")
        x = np.maximum(rng.standard_normal((256, 64)), 0)
        sweep = {}
        for offset in (0, 1, 3, 10, 30, 100):
            t = torch.from_numpy((x + offset).astype(np.float32))
            k = t @ t.T
            k.fill_diagonal_(0)
            g = (x + offset).astype(np.float32).astype(np.float64)
            sweep[str(offset)] = {"torch_cka": probe._HSIC(k, k),
                                  "float64": reference.hsic_unbiased(g @ g.T, g @ g.T)}
        report["self-HSIC of one batch (256 x 64, post-ReLU) shifted by an offset"] = sweep
        # A constant layer: torch_cka's matrix entry (its assertion only catches NaN).
        constant = [torch.from_numpy(a[0][:512].astype(np.float32)), torch.full((512, 8), 0.25)]
        report["constant layer, torch_cka's row"] = torch_cka(
            constant, [torch.from_numpy(b[0][:512].astype(np.float32))], 512, 128).ravel().tolist()
        report["effect of the partial last batch (1000 = 3 x 256 + 232)"] = {
            "max |kept - dropped|, float64": float(np.abs(kept - dropped).max()),
            "max |kept - dropped|, torch_cka": float(np.abs(theirs_kept - theirs_dropped).max()),
        }
    print(json.dumps(report, indent=1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["time", "digits", "accuracy"])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--compare", default=os.path.join(HERE, "..", ".build", "release", "compare"))
    args = parser.parse_args()
    {"time": time_compare, "digits": digits, "accuracy": accuracy}[args.mode](args)


if __name__ == "__main__":
    main()
