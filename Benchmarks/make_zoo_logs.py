#!/usr/bin/env python3
"""Synthetic training-run logs shaped and keyed like the published CIFAR-10 ones.

Writes FILES torch.save archives of RUNS runs each (the published set is 40 files of 500 runs):
keys `code` (a string), `accs` (float32 [runs]), `logits` (float16 [runs, 10000, 10]),
`logits_tta` (float16, the same shape), `logits_train` (float16 [runs, 50000, 10]), with storages
tagged as saved from `cuda:0`, as `torch.save` writes them on a GPU machine. Needs only numpy:
the archive is written by hand (zip of `archive/data.pkl` with persistent storage ids,
`archive/data/N`, `archive/byteorder`, `archive/version`), so no torch is needed to make it.

The logits have signal for the kernel: each example has a pattern shared by all runs, and
each run moves every example's logits by `u_i · R_run` (a per-run random map R of an example's
latent code u, which is close for examples of the same class), plus independent noise. The
kernel correlates examples across runs, so it sees the shared `u·R` part: examples of one class
correlate, others do not, and near-duplicates (every 50th example) correlate most. Everything is
seeded: `logits_for(file, runs, kind)` regenerates any file's values, which is how
`check_zoo_kernel.py` computes its independent float64 reference without reading the archives.

Usage: make_zoo_logs.py OUT_DIR [--files 40] [--runs 500] [--test 10000] [--train 50000]
"""
import argparse
import collections
import io
import os
import pickle
import sys
import types
import zipfile

import numpy as np

CLASSES = 10
SEED = 20261129


LATENT = 16


def patterns(n, seed):
    """Per-example logit patterns shared by every run, latent codes, and labels."""
    g = np.random.default_rng([SEED, seed])
    centroids = np.random.default_rng([SEED, 99]).standard_normal((CLASSES, LATENT)).astype(np.float32)
    labels = g.integers(0, CLASSES, n)
    base = g.standard_normal((n, CLASSES), dtype=np.float32)
    base[np.arange(n), labels] += 4.0
    code = centroids[labels] + 0.8 * g.standard_normal((n, LATENT), dtype=np.float32)
    # Near-duplicates: every 50th example copies an earlier one, as CIFAR-10 has some.
    dup = np.arange(50, n, 50)
    base[dup], code[dup], labels[dup] = base[dup - 50], code[dup - 50] + 0.05, labels[dup - 50]
    # A few labels are wrong, as in real data: no method gets those right.
    wrong = g.random(n) < 0.04
    labels[wrong] = g.integers(0, CLASSES, int(wrong.sum()))
    return base, code, labels.astype(np.int64)


def logits_for(file_index, runs, kind, n_test, n_train):
    """The float16 logits of one file: `kind` is 'logits', 'logits_tta' or 'logits_train'."""
    n = n_train if kind == "logits_train" else n_test
    base, code, _ = patterns(n, 1 if kind == "logits_train" else 0)
    g = np.random.default_rng([SEED, file_index, {"logits": 0, "logits_tta": 1, "logits_train": 2}[kind]])
    out = np.empty((runs, n, CLASSES), dtype=np.float16)
    for r in range(runs):
        # The run's map: the same for its test and training logits.
        run_map = np.random.default_rng([SEED, file_index, r, 7]).standard_normal((LATENT, CLASSES), dtype=np.float32)
        noise = g.standard_normal((n, CLASSES), dtype=np.float32)
        out[r] = base + 0.35 * (code @ run_map) + (0.5 if kind == "logits_tta" else 0.6) * noise
    return out


# ---- torch.save without torch: stand-in globals with the names torch's unpickler expects.
_torch = types.ModuleType("torch")
_utils = types.ModuleType("torch._utils")


def _rebuild_tensor_v2(*args):  # never called: only its name is pickled
    raise RuntimeError("stand-in")


_rebuild_tensor_v2.__module__ = "torch._utils"
_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
STORAGES = {}
for name in ("HalfStorage", "FloatStorage", "LongStorage"):
    cls = type(name, (), {"__module__": "torch"})
    setattr(_torch, name, cls)
    STORAGES[name] = cls
sys.modules.setdefault("torch", _torch)
sys.modules.setdefault("torch._utils", _utils)
STORAGE_OF = {np.dtype(np.float16): "HalfStorage", np.dtype(np.float32): "FloatStorage",
              np.dtype(np.int64): "LongStorage"}


class _Storage:
    def __init__(self, key, array):
        self.key, self.array = key, array


class _Tensor:
    def __init__(self, storage):
        self.storage = storage

    def __reduce__(self):
        a = self.storage.array
        stride = tuple(s // a.itemsize for s in a.strides)
        return (_rebuild_tensor_v2, (self.storage, 0, a.shape, stride, False, collections.OrderedDict()))


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", STORAGES[STORAGE_OF[obj.array.dtype]], obj.key, "cuda:0", obj.array.size)
        return None


def torch_save(obj, path):
    """Writes a dict of str/np.ndarray as a torch.save zip archive, atomically."""
    storages = []

    def wrap(v):
        if isinstance(v, np.ndarray):
            s = _Storage(str(len(storages)), np.ascontiguousarray(v))
            storages.append(s)
            return _Tensor(s)
        return v

    data = io.BytesIO()
    _Pickler(data, protocol=2).dump({k: wrap(v) for k, v in obj.items()})
    tmp = path + ".part"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", data.getvalue())
        z.writestr("archive/byteorder", "little")
        for s in storages:
            z.writestr("archive/data/" + s.key, s.array.tobytes())
        z.writestr("archive/version", "3\n")
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("--files", type=int, default=40)
    p.add_argument("--runs", type=int, default=500)
    p.add_argument("--test", type=int, default=10000)
    p.add_argument("--train", type=int, default=50000)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    _, _, test_labels = patterns(a.test, 0)
    _, _, train_labels = patterns(a.train, 1)
    np.save(os.path.join(a.out, "labels_test.npy"), test_labels)
    np.save(os.path.join(a.out, "labels_train.npy"), train_labels)
    for f in range(a.files):
        path = os.path.join(a.out, "log-%02d.pt" % f)
        if os.path.exists(path):
            continue
        logits = logits_for(f, a.runs, "logits", a.test, a.train)
        accs = (logits.astype(np.float32).argmax(2) == test_labels).mean(1).astype(np.float32)
        torch_save({"code": "synthetic zoo, make_zoo_logs.py", "accs": accs, "logits": logits,
                    "logits_tta": logits_for(f, a.runs, "logits_tta", a.test, a.train),
                    "logits_train": logits_for(f, a.runs, "logits_train", a.test, a.train)}, path)
        print("wrote", path, flush=True)


if __name__ == "__main__":
    main()
