"""Golden rows for the LoRA adapter fixture (mlp/), independent float64 numpy.

For each module ΔW = s·B·A (s = 1, weightwatcher's peft=True, or lora_alpha/r from
adapter_config.json with rank_pattern / alpha_pattern): the top min(r, M) eigenvalues of
ΔWᵀΔW from a values-only SVD of the formed product, N and M of ΔW, rf 1, and the columns of
make_fixtures.py / make_depth_fixtures.py (power law, MP fit with ΔW's N and M, rank columns
over the r values as weightwatcher's combined_eigenvalues computes them). Shuffles: ΔW's float64
elements shuffled with SplitMix64 seeded seed ^ fnv1a(name), each draw's top min(r, M)
eigenvalues, 5 draws pooled (fewer than 100 eigenvalues). With the base model (the bundled
MLP): NAME.base = W and NAME.merged = W + s·B·A, whole spectra, as plain dense rows.

    python Tests/Fixtures/esd/lora/make_lora_golden.py        (numpy only)
Writes golden_lora.json next to this script, and prints the largest differences from
weightwatcher 0.7.7's table ww_peft.csv (written once by ww_reference.py): ~1e-8 relative,
all of it from weightwatcher forming B·A in float32 (with a float32 product: ~1e-16).
"""
import csv
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
from make_fixtures import SplitMix64, fnv1a, powerlaw_fit, mp_fit, jsd_distance, EPS  # noqa: E402
import make_depth_fixtures as depth  # noqa: E402

SEED = 0  # compare esd's default --seed


def read_safetensors(path):
    """A minimal safetensors reader (numpy only): {key: float32 array}."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        a, b = info["data_offsets"]
        out[key] = np.frombuffer(data[a:b], dtype="<f4").reshape(info["shape"])
    return out


def modules():
    """(name, A, B, scale) per module, in natural order of the names."""
    tensors = read_safetensors(os.path.join(HERE, "mlp", "adapter_model.safetensors"))
    with open(os.path.join(HERE, "mlp", "adapter_config.json")) as f:
        cfg = json.load(f)
    names = sorted({k.split(".")[2] for k in tensors})
    out = []
    for name in names:
        A = tensors[f"base_model.model.{name}.lora_A.weight"].astype(np.float64)
        B = tensors[f"base_model.model.{name}.lora_B.weight"].astype(np.float64)
        r = cfg["rank_pattern"].get(name, cfg["r"])
        alpha = cfg["alpha_pattern"].get(name, cfg["lora_alpha"])
        assert A.shape[0] == r
        out.append((name, A, B, alpha / r))
    return out


def shuffles(w, name, k, count):
    """count SplitMix64 shuffles of w's float64 elements, each draw's top k eigenvalues."""
    rng = SplitMix64(SEED ^ fnv1a(name))
    flat = w.ravel().tolist()
    out = []
    for _ in range(count):
        rng.shuffle(flat)
        sv = np.linalg.svd(np.array(flat).reshape(w.shape), compute_uv=False)
        out.append(np.sort(sv * sv)[-k:])
    return out


def full_row(per_slice, draws, N, M):
    """Every column from the eigenvalues and draws; draws pooled 5 times below 100 values."""
    ev = np.sort(np.concatenate(per_slice))
    r = {}
    sv = np.sqrt(ev)
    norm, lmax = ev.sum(), ev.max()
    rank = int(np.sum(sv > sv.max() * N * depth.EPS64))
    p = ev / norm + EPS
    r.update(N=N, M=M, Q=N / M, rf=1, num_evals=len(ev), lambda_max=lmax, spectral_norm=lmax, norm=norm,
             log_norm=np.log10(norm), log_spectral_norm=np.log10(lmax), stable_rank=norm / lmax,
             matrix_rank=rank, entropy=-np.sum(p * np.log(p)) / np.log(rank + EPS))
    r.update(depth.rank_columns(per_slice, N))
    pl = powerlaw_fit(ev)
    r.update(pl)
    r["alpha_weighted"] = pl["alpha"] * np.log10(lmax)
    r["log_alpha_norm"] = np.log10(np.sum(ev ** pl["alpha"]))
    r.update(mp_fit(ev, N, M))
    replicas = 5 if len(ev) < 100 else 1
    r["rand_distance"] = jsd_distance(ev, draws[0])
    pooled = np.sort(np.concatenate(draws[:replicas]))
    r["max_rand_eval"] = pooled.max()
    r["ww_softrank"] = draws[0].max() / lmax
    r["ww_maxdist"] = lmax - draws[0].max()
    rm = mp_fit(pooled, N, M)
    r.update({"rand_" + k if k != "num_spikes" else "rand_num_spikes": v for k, v in rm.items()})
    return {k: (float(v) if isinstance(v, (float, np.floating)) else int(v) if isinstance(v, np.integer) else v)
            for k, v in r.items()}


def lora_row(name, dw, k):
    N, M = max(dw.shape), min(dw.shape)
    sv = np.linalg.svd(dw, compute_uv=False)
    ev = np.sort(sv * sv)[-k:]
    return full_row([ev], shuffles(dw, name, k, 5), N, M), ev


def dense_row(name, w):
    N, M = max(w.shape), min(w.shape)
    sv = np.linalg.svd(w, compute_uv=False)
    ev = np.sort(sv * sv)
    return full_row([ev], shuffles(w, name, M, 5 if M < 100 else 1), N, M)


def main():
    base = {k: v.astype(np.float64) for k, v in read_safetensors(
        os.path.join(ROOT, "Examples", "data", "weights_mlp.safetensors")).items()}
    golden = {"unscaled": {}, "scaled": {}, "with_base_scaled": {}, "scales": {}, "eigenvalues": {}}
    for name, A, B, s in modules():
        k = min(A.shape[0], *(B @ A).shape)
        golden["unscaled"][name], ev = lora_row(name, B @ A, k)
        golden["eigenvalues"][name] = ev.tolist()
        golden["scaled"][name], _ = lora_row(name, s * (B @ A), k)
        golden["scales"][name] = s
        rows = golden["with_base_scaled"]
        rows[name] = golden["scaled"][name]
        W = base[name + ".weight"]
        rows[name + ".base"] = dense_row(name + ".base", W)
        rows[name + ".merged"] = dense_row(name + ".merged", W + s * (B @ A))
    with open(os.path.join(HERE, "golden_lora.json"), "w") as f:
        json.dump(golden, f, indent=1, sort_keys=True)

    # The same rows against weightwatcher 0.7.7's own table (peft=True, unscaled B·A).
    with open(os.path.join(HERE, "ww_peft.csv")) as f:
        ww = {row["longname"].split(".")[2]: row for row in csv.DictReader(f)}
    worst = {}
    for name, mine in golden["unscaled"].items():
        for col, v in mine.items():
            if col not in ww[name] or col.startswith("rand_") or col in ("max_rand_eval", "ww_softrank", "ww_maxdist", "Q"):
                continue
            theirs = float(ww[name][col])
            rel = abs(v - theirs) / max(abs(theirs), 1e-300)
            worst[col] = max(worst.get(col, 0.0), rel)
    print("largest relative difference from ww_peft.csv, B·A in float64 (as Compare):")
    for col, rel in sorted(worst.items(), key=lambda x: -x[1]):
        print(f"  {col:20s} {rel:.2e}")
    # weightwatcher multiplies the float32 factors in float32 (np.dot of the torch weights):
    # with that product the eigenvalues agree to rounding, so the differences above are its GEMM.
    for name, A, B, s in modules():
        k = A.shape[0]
        p = np.dot(B.astype(np.float32), A.astype(np.float32)).astype(np.float64)
        ev = np.sort(np.linalg.svd(p, compute_uv=False) ** 2)[-k:]
        print(f"  {name}: B·A in float32, lambda_max and norm vs ww:"
              f" {abs(ev.max() - float(ww[name]['lambda_max'])) / ev.max():.1e},"
              f" {abs(ev.sum() - float(ww[name]['norm'])) / ev.sum():.1e}")


if __name__ == "__main__":
    main()
