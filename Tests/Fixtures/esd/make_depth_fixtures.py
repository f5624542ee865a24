"""Golden values for the columns and weights added after make_fixtures.py: sv_max, sv_min,
rank_loss, weak_rank_loss on every fixture, and whole rows for 3-D weights (stacked experts,
one row per expert plus the pooled summary row; a conv1d kernel with k pooled slices).

Independent float64 numpy, reusing make_fixtures.py's SplitMix64, power-law and MP-fit code.
The definitions follow weightwatcher 0.7.7's combined_eigenvalues / apply_esd:
  sv_max = largest singular value of the (conv-normed) slices,
  sv_min = max over slices of each slice's smallest singular value,
  rank_loss = sum over slices of len(sv) - #(sv > sv.max() * N * eps64),
  weak_rank_loss = #(pooled eigenvalues < 1e-6).

Run from the repository root:  python Tests/Fixtures/esd/make_depth_fixtures.py
Writes depth/*.npy and golden_depth.json next to this script (numpy only).
"""
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import (SplitMix64, fnv1a, powerlaw_fit, mp_fit, jsd_distance,  # noqa: E402
                           slices as matrices_of, EPS)

SEED = 7
TOLERANCE = 1e-6
EPS64 = np.finfo(np.float64).eps


def slice_eigenvalues(raw, scale):
    """Each slice's eigenvalues of W^T W times scale, ascending (a values-only SVD)."""
    out = []
    for m in raw:
        sv = np.linalg.svd(m.astype(np.float64), compute_uv=False)
        out.append(np.sort(sv * sv * scale))
    return out


def draws(raw, seed, scale, count):
    """count shuffles: each slice's row-major elements shuffled in turn with one SplitMix64
    stream, pooled eigenvalues of each draw, ascending."""
    rng = SplitMix64(seed)
    flats = [m.astype(np.float32).ravel().tolist() for m in raw]
    out = []
    for _ in range(count):
        ev = []
        for m, flat in zip(raw, flats):
            rng.shuffle(flat)
            sh = np.array(flat, dtype=np.float32).reshape(m.shape).astype(np.float64)
            sv = np.linalg.svd(sh, compute_uv=False)
            ev.append(sv * sv * scale)
        out.append(np.sort(np.concatenate(ev)))
    return out


def rank_columns(per_slice, N):
    ev = np.sort(np.concatenate(per_slice))
    rank_loss = 0
    for e in per_slice:
        sv = np.sqrt(np.maximum(e, 0))
        rank_loss += len(sv) - int(np.sum(sv > sv.max() * N * EPS64))
    return dict(sv_max=float(math.sqrt(ev.max())),
                sv_min=float(max(math.sqrt(max(e.min(), 0)) for e in per_slice)),
                rank_loss=int(rank_loss), weak_rank_loss=int(np.sum(ev < TOLERANCE)))


def row(per_slice, shuffles, N, M, rf):
    """Every column of one row from its slices' eigenvalues and its shuffles."""
    ev = np.sort(np.concatenate(per_slice))
    sv = np.sqrt(ev)
    norm = ev.sum()
    lmax = ev.max()
    rank = int(np.sum(sv > sv.max() * N * EPS64))
    p = ev / norm + EPS
    r = dict(N=N, M=M, Q=N / M, rf=rf, num_evals=len(ev), lambda_max=lmax, norm=norm,
             log_norm=math.log10(norm), log_spectral_norm=math.log10(lmax),
             stable_rank=norm / lmax, matrix_rank=rank,
             entropy=-np.sum(p * np.log(p)) / math.log(rank + EPS))
    r.update(rank_columns(per_slice, N))
    pl = powerlaw_fit(ev)
    r.update(pl)
    r["alpha_weighted"] = pl["alpha"] * math.log10(lmax)
    r["log_alpha_norm"] = math.log10(np.sum(ev ** pl["alpha"]))
    r.update(mp_fit(ev, N, M))
    replicas = 5 if M * rf < 100 else 1
    r["rand_distance"] = jsd_distance(ev, shuffles[0])
    pooled = np.sort(np.concatenate(shuffles[:replicas]))
    r["max_rand_eval"] = pooled.max()
    r["ww_softrank"] = shuffles[0].max() / lmax
    r["ww_maxdist"] = lmax - shuffles[0].max()
    rm = mp_fit(pooled, N, M)
    r.update({"rand_" + k if k != "num_spikes" else "rand_num_spikes": v for k, v in rm.items()})
    return {k: (float(v) if isinstance(v, (float, np.floating)) else int(v) if isinstance(v, np.integer) else v)
            for k, v in r.items()}


def experts_rows(name, w):
    """A stacked (experts, out, in) tensor: one row per expert, then the pooled summary."""
    E, o, i = w.shape
    N, M = max(o, i), min(o, i)
    base = SEED ^ fnv1a(name)
    count = 5 if M < 100 else 1
    rows, evs, shuffles = {}, [], []
    for e in range(E):
        raw = [w[e]]
        per = slice_eigenvalues(raw, 1.0)
        sh = draws(raw, base ^ fnv1a(str(e)), 1.0, count)
        rows[f"{name}.expert.{e}"] = row(per, sh, N, M, 1)
        evs += per
        shuffles.append(sh)
    need = 5 if M * E < 100 else 1
    pooled_draws = [np.sort(np.concatenate([s[k] for s in shuffles])) for k in range(need)]
    rows[name] = row(evs, pooled_draws, N, M, E)
    return rows


def conv1d_row(name, w):
    """A conv1d (out, in, k) kernel: k slices W[:, :, p], eigenvalues x 1/2, pooled."""
    raw = [w[:, :, p] for p in range(w.shape[2])]
    N, M = max(raw[0].shape), min(raw[0].shape)
    rf = len(raw)
    per = slice_eigenvalues(raw, 0.5)
    count = 5 if M * rf < 100 else 1
    return row(per, draws(raw, SEED ^ fnv1a(name), 0.5, count), N, M, rf)


def main():
    rng = np.random.default_rng(20261129)
    depth = os.path.join(HERE, "depth")
    os.makedirs(depth, exist_ok=True)
    # Four experts of 24 x 20 (no "expert" in the name: the shape rule applies), heavy-tailed.
    moe = (rng.standard_t(4, size=(4, 24, 20)) / 5).astype(np.float32)
    conv1d = (rng.standard_normal((16, 12, 5)) / 4).astype(np.float32)
    # Three zero columns (rank loss 3) and three tiny ones (eigenvalues ~1e-9: weak rank loss 6).
    rankdef = (rng.standard_normal((40, 20)) / math.sqrt(40))
    rankdef[:, :3] = 0
    rankdef[:, 3:6] *= 1e-4
    rankdef = rankdef.astype(np.float32)
    for name, w in [("moe", moe), ("conv1d", conv1d), ("rankdef", rankdef)]:
        np.save(os.path.join(depth, name + ".npy"), w)
    golden = {"seed": SEED, "tolerance": TOLERANCE, "always": {}, "rows": {}}
    golden["rows"].update(experts_rows("moe", moe))
    golden["rows"]["conv1d"] = conv1d_row("conv1d", conv1d)
    golden["rows"]["rankdef"] = row(slice_eigenvalues([rankdef], 1.0),
                                    draws([rankdef], SEED ^ fnv1a("rankdef"), 1.0, 5), 40, 20, 1)
    # The four rank columns of make_fixtures.py's weights (conv: x 1/2, max of slice minima).
    for name in ["gaussian", "heavy", "lowrank", "conv", "small", "small_tail", "wide"]:
        w = np.load(os.path.join(HERE, name + ".npy"))
        mats = matrices_of(w)
        scale = 0.5 if w.ndim == 4 else 1.0
        golden["always"][name] = rank_columns(slice_eigenvalues(mats, scale), max(mats[0].shape))
    with open(os.path.join(HERE, "golden_depth.json"), "w") as f:
        json.dump(golden, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
