"""Golden values for the SpectralMetrics tests: an independent float64 numpy implementation of
the ESD columns (eigenvalues from a values-only SVD, the power-law fit, the Marchenko-Pastur fit,
rand_distance over a SplitMix64 shuffle, distances from init).

Run from the repository root:  python Tests/Fixtures/esd/make_fixtures.py [--check-reference]
Writes small .npy weight files and golden.json next to this script. With --check-reference it
also runs the reference Python tool on the same weights and prints the largest differences
(see NOTES.md).
"""
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = (1 << 64) - 1
EPS = 1e-10
EVALS_THRESH = 1e-5


# ---------------------------------------------------------------- SplitMix64, as in CompareCore
class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def next_index(self, bound):
        b = bound
        product = self.next() * b
        low = product & MASK
        if low < b:
            threshold = ((1 << 64) - b) % b
            while low < threshold:
                product = self.next() * b
                low = product & MASK
        return product >> 64

    def shuffle(self, a):
        i = len(a) - 1
        while i > 0:
            j = self.next_index(i + 1)
            a[i], a[j] = a[j], a[i]
            i -= 1


def fnv1a(text):
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h ^= byte
        h = (h * 0x100000001B3) & MASK
    return h


# ---------------------------------------------------------------- layers
def slices(w):
    """The matrices of a weight: itself (2-D) or the kh*kw slices W[:, :, i, j] of a conv,
    each oriented with rows >= columns."""
    if w.ndim == 2:
        mats = [w]
    else:
        mats = [w[:, :, i, j] for i in range(w.shape[2]) for j in range(w.shape[3])]
    return [m.T if m.shape[0] < m.shape[1] else m for m in mats]


def eigenvalues(mats, scale):
    ev = []
    for m in mats:
        sv = np.linalg.svd(m.astype(np.float64), compute_uv=False)
        ev.append(sv * sv * scale)
    return np.sort(np.concatenate(ev))


# ---------------------------------------------------------------- power law
def powerlaw_fit(evals):
    x = np.sort(evals[evals > EVALS_THRESH])
    n = len(x)
    logs = np.log(x)
    if n < 2:
        return None
    alphas = np.zeros(n - 1)
    ds = np.ones(n - 1)
    if n < 20:
        # Small-sample variant: tails of at least 8, bias-corrected alpha. The reference's
        # fit_powerlaw_smallN ranks candidates by D - 0.868/sqrt(k), but its WWFit constructor
        # then re-selects argmin(D) over the same arrays, which is what its output shows; we
        # reproduce that output.
        valid = False
        for i in range(n - 1):
            k = n - i
            if k < 8:
                continue
            s = logs[i:].sum() - k * logs[i]
            if s <= 1e-12:
                continue
            a = 1 + (k - 1) / s
            alphas[i] = a
            if a <= 1:
                continue
            valid = True
            ds[i] = np.max(np.abs(np.arange(k) / k - (1 - (x[i:] / x[i]) ** (1 - a))))
        if not valid:
            s = logs.sum() - n * logs[0]
            if s <= 1e-12:
                return None
            alphas[0] = 1 + (n - 1) / s
            ds[0] = np.max(np.abs(np.arange(n) / n - (1 - (x / x[0]) ** (1 - alphas[0]))))
        sigmas = (alphas - 1) / np.sqrt(n - np.arange(n - 1))
        best = int(np.argmin(ds))
    else:
        for i in range(n - 1):
            k = n - i
            a = 1 + k / (logs[i:].sum() - k * logs[i])
            alphas[i] = a
            if a > 1:
                ds[i] = np.max(np.abs(1 - (x[i:] / x[i]) ** (1 - a) - np.arange(k) / k))
        sigmas = (alphas - 1) / np.sqrt(n - np.arange(n - 1))
        best = int(np.argmin(ds))
    xmin = x[best]
    return dict(alpha=alphas[best], xmin=xmin, xmax=x[-1], D=ds[best], sigma=sigmas[best],
                num_pl_spikes=int(np.sum(evals >= xmin)))


# ---------------------------------------------------------------- Marchenko-Pastur fit
def linear_kde(points, grid, h=0.1):
    d = np.abs(grid[:, None] - points[None, :]) / h
    return np.maximum(0, 1 - d).sum(axis=1) / (len(points) * h)


def mp_objective(sigma, xde, yde, bad, Q):
    if Q == 1:
        with np.errstate(invalid="ignore"):
            ymp = np.nan_to_num(1 / (np.pi * sigma * sigma) * np.sqrt(4 - xde ** 2))
        resid = ymp - yde
    else:
        b = (sigma * (1 + math.sqrt(1 / Q))) ** 2
        a = (sigma * (1 - math.sqrt(1 / Q))) ** 2
        # The density has plateaus (sums of linear ramps): the first point within 1e-12 of
        # the maximum, which is what exact arithmetic (and the reference, on our fixtures) picks.
        peak = xde[np.argmax(yde >= yde.max() * (1 - 1e-12))]
        if b < peak or b > xde.max() or a > peak:
            resid = np.full(len(yde), 1000.0)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                ymp = np.nan_to_num(1 / (2 * np.pi * sigma * sigma * xde / Q) * np.sqrt((b - xde) * (xde - a)))
            resid = ymp - yde
    return float(np.sum(resid ** 2))


def nelder_mead_1d(f, x0, xtol=1e-4, ftol=1e-4, maxiter=200):
    sim = [x0, 1.05 * x0 if x0 != 0 else 0.00025]
    fs = [f(sim[0]), f(sim[1])]
    calls = 2
    order = sorted(range(2), key=lambda k: fs[k])
    sim, fs = [sim[k] for k in order], [fs[k] for k in order]
    it = 1
    while calls < maxiter and it < maxiter:
        if abs(sim[1] - sim[0]) <= xtol and abs(fs[0] - fs[1]) <= ftol:
            break
        xbar = sim[0]
        xr = 2 * xbar - sim[1]
        fxr = f(xr); calls += 1
        if fxr < fs[0]:
            xe = 3 * xbar - 2 * sim[1]
            fxe = f(xe); calls += 1
            if fxe < fxr:
                sim[1], fs[1] = xe, fxe
            else:
                sim[1], fs[1] = xr, fxr
        else:
            shrink = False
            if fxr < fs[1]:
                xc = 1.5 * xbar - 0.5 * sim[1]
                fxc = f(xc); calls += 1
                if fxc <= fxr:
                    sim[1], fs[1] = xc, fxc
                else:
                    shrink = True
            else:
                xcc = 0.5 * xbar + 0.5 * sim[1]
                fxcc = f(xcc); calls += 1
                if fxcc < fs[1]:
                    sim[1], fs[1] = xcc, fxcc
                else:
                    shrink = True
            if shrink:
                sim[1] = sim[0] + 0.5 * (sim[1] - sim[0])
                fs[1] = f(sim[1]); calls += 1
        it += 1
        order = sorted(range(2), key=lambda k: fs[k])
        sim, fs = [sim[k] for k in order], [fs[k] for k in order]
    return sim[0]


def mp_fit(evals, N, M):
    Q = N / M
    scale = math.sqrt(len(evals)) / math.sqrt(evals.sum())
    x = evals * scale * scale
    lmax = x.max()
    fit = np.sqrt(x) if Q == 1 else x
    xde = np.linspace(0, fit.max() + 0.5, 1000)
    yde = linear_kde(fit, xde)
    good = yde > 0.01
    bad = int(np.sum(yde < 0.01))
    xde, yde = xde[good], yde[good]
    s = math.sqrt(lmax / (1 + 1 / math.sqrt(Q)) ** 2)
    grid = np.arange(0.05 * s, 2.0 * s, 0.01 * s)
    values = [mp_objective(g, xde, yde, bad, Q) for g in grid]
    s0 = grid[int(np.argmin(values))]
    s1 = nelder_mead_1d(lambda v: mp_objective(v, xde, yde, bad, Q), s0)
    bulk_max = (s1 * (1 + 1 / math.sqrt(Q))) ** 2
    bulk_min = (s1 * (1 - 1 / math.sqrt(Q))) ** 2
    tw = 1 / math.sqrt(Q) * bulk_max ** (2 / 3) * M ** (-2 / 3)
    spikes = int(np.sum(x > bulk_max + math.sqrt(tw)))
    return dict(sigma_mp=s1, bulk_max=bulk_max / scale ** 2, bulk_min=bulk_min / scale ** 2,
                num_spikes=spikes, mp_softrank=bulk_max / lmax, W_scale=scale)


# ---------------------------------------------------------------- rand_distance
def jsd_distance(p, q):
    p = np.asarray(p, float); q = np.asarray(q, float)
    m = (p + q) / 2
    def kl(a, b):
        a = a / a.sum(); b = b / b.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(a > 0, a * np.log(a / b), 0.0)
        return t.sum()
    return math.sqrt((kl(p, m) + kl(q, m)) / 2)


def shuffled_eigenvalues(w, name, seed, scale, count):
    """count successive shuffles (each slice in turn, one SplitMix64 stream per layer)."""
    rng = SplitMix64(seed ^ fnv1a(name))
    # Slices as stored (not re-oriented): the permutation applies to their row-major elements.
    raw = [w] if w.ndim == 2 else [w[:, :, i, j] for i in range(w.shape[2]) for j in range(w.shape[3])]
    mats = [np.array(m, dtype=np.float32) for m in raw]
    flats = [m.ravel().tolist() for m in mats]
    out = []
    for _ in range(count):
        ev = []
        for m, flat in zip(mats, flats):
            rng.shuffle(flat)
            sh = np.array(flat, dtype=np.float32).reshape(m.shape)
            sv = np.linalg.svd(sh.astype(np.float64), compute_uv=False)
            ev.append(sv * sv * scale)
        out.append(np.sort(np.concatenate(ev)))
    return out


# ---------------------------------------------------------------- one layer
def analyze(w, name, seed=7, conv_norm=True):
    mats = slices(w)
    rf = 1 if w.ndim == 2 else w.shape[2] * w.shape[3]
    N, M = max(mats[0].shape), min(mats[0].shape)
    scale = 0.5 if (w.ndim == 4 and conv_norm) else 1.0
    ev = eigenvalues(mats, scale)
    sv = np.sqrt(ev)
    norm = ev.sum()
    lmax = ev.max()
    rank = int(np.sum(sv > sv.max() * N * np.finfo(np.float64).eps))
    p = ev / norm + EPS
    entropy = -np.sum(p * np.log(p)) / math.log(rank + EPS)
    row = dict(name=name, N=N, M=M, Q=N / M, rf=rf, num_evals=len(ev), lambda_max=lmax,
               norm=norm, log_norm=math.log10(norm), spectral_norm=lmax,
               log_spectral_norm=math.log10(lmax), stable_rank=norm / lmax, matrix_rank=rank,
               entropy=entropy)
    pl = powerlaw_fit(ev)
    row.update(pl)
    row["alpha_weighted"] = pl["alpha"] * math.log10(lmax)
    row["log_alpha_norm"] = math.log10(np.sum(ev ** pl["alpha"]))
    row.update(mp_fit(ev, N, M))
    replicas = 5 if M * rf < 100 else 1
    rand = shuffled_eigenvalues(w, name, seed, scale, replicas)
    row["rand_distance"] = jsd_distance(ev, rand[0])
    pooled = np.sort(np.concatenate(rand))
    row["max_rand_eval"] = pooled.max()
    row["ww_softrank"] = rand[0].max() / lmax
    row["ww_maxdist"] = lmax - rand[0].max()
    r = mp_fit(pooled, N, M)
    row.update({"rand_" + k if k != "num_spikes" else "rand_num_spikes": v for k, v in r.items()})
    return row, ev, pooled


def distances(w, w0):
    a = w.astype(np.float64).reshape(w.shape[0], -1)
    b = w0.astype(np.float64).reshape(w0.shape[0], -1)
    d = np.linalg.norm(a - b)
    ac = a - a.mean(axis=0); bc = b - b.mean(axis=0)
    cka = np.linalg.norm(ac.T @ bc) ** 2 / (np.linalg.norm(ac.T @ ac) * np.linalg.norm(bc.T @ bc))
    cos = 1 - np.sum(a * b) / (np.linalg.norm(a) * np.linalg.norm(b))
    return dict(distance_from_init=d, relative_distance_from_init=d / np.linalg.norm(b),
                cosine_distance_from_init=cos, cka_from_init=cka)


def small_fit_choices_differ(w):
    ev = eigenvalues(slices(w), 1.0)
    x = np.sort(ev[ev > EVALS_THRESH]); n = len(x); logs = np.log(x)
    ds, js = np.ones(n - 1), np.full(n - 1, np.inf)
    for i in range(n - 1):
        k = n - i
        if k < 8:
            continue
        a = 1 + (k - 1) / (logs[i:].sum() - k * logs[i])
        ds[i] = np.max(np.abs(np.arange(k) / k - (1 - (x[i:] / x[i]) ** (1 - a))))
        js[i] = ds[i] - 0.868 / math.sqrt(k)
    return int(np.argmin(ds)) != int(np.argmin(js))


def fixtures():
    rng = np.random.default_rng(20261122)
    out = {}
    out["gaussian"] = rng.standard_normal((60, 40)).astype(np.float32) / math.sqrt(60)
    heavy = rng.standard_t(3, size=(80, 50)) / 8
    u = rng.standard_normal((80, 3)); v = rng.standard_normal((3, 50))
    out["heavy"] = (heavy + u @ np.diag([3.0, 2.0, 1.5]) @ v / 10).astype(np.float32)
    lr = rng.standard_normal((70, 5)) @ rng.standard_normal((5, 30))
    out["lowrank"] = (lr + 0.01 * rng.standard_normal((70, 30))).astype(np.float32)
    out["conv"] = (rng.standard_normal((16, 12, 3, 3)) / 6).astype(np.float32)
    out["small"] = rng.standard_normal((12, 10)).astype(np.float32)
    # A 10-eigenvalue layer where min D and min D - 0.868/sqrt(k) pick different tails.
    for attempt in range(1000):
        cand = (rng.standard_normal((64, 10)) * np.linspace(0.2, 2.0, 10)).astype(np.float32)
        if small_fit_choices_differ(cand):
            out["small_tail"] = cand
            break
    out["wide"] = rng.standard_normal((30, 90)).astype(np.float32) / 10
    init = {k: (v + 0.3 * rng.standard_normal(v.shape) * np.std(v)).astype(np.float32)
            for k, v in out.items() if k in ("gaussian", "conv")}
    return out, init


def example_goldens():
    import torch
    from safetensors.numpy import load_file
    root = os.path.join(HERE, "..", "..", "..", "Examples", "data")
    out = {}
    for name in ["weights_mlp.safetensors", "weights_cnn.pt"]:
        path = os.path.join(root, name)
        if name.endswith(".pt"):
            state = {k: v.numpy() for k, v in torch.load(path).items()}
        else:
            state = load_file(path)
        layers = {}
        for key, w in state.items():
            if w.ndim not in (2, 4):
                continue
            mats = slices(w)
            rf = 1 if w.ndim == 2 else w.shape[2] * w.shape[3]
            if min(mats[0].shape) * rf < 8:
                continue
            ev = eigenvalues(mats, 0.5 if w.ndim == 4 else 1.0)
            rank = int(np.sum(np.sqrt(ev) > np.sqrt(ev.max()) * max(mats[0].shape) * np.finfo(float).eps))
            p = ev / ev.sum() + EPS
            layers[key[:-7] if key.endswith(".weight") else key] = dict(
                alpha=float(powerlaw_fit(ev)["alpha"]),
                entropy=float(-np.sum(p * np.log(p)) / math.log(rank + EPS)))
        out[name] = layers
    return out


def main():
    weights, inits = fixtures()
    golden = {"seed": 7, "layers": {}, "distances": {}}
    for name, w in weights.items():
        np.save(os.path.join(HERE, name + ".npy"), w)
        row, _, _ = analyze(w, name)
        golden["layers"][name] = {k: (float(v) if isinstance(v, (float, np.floating)) else v)
                                  for k, v in row.items()}
    for name, w0 in inits.items():
        np.save(os.path.join(HERE, name + "_init.npy"), w0)
        golden["distances"][name] = {k: float(v) for k, v in distances(weights[name], w0).items()}
        delta = (weights[name].astype(np.float64) - w0.astype(np.float64)).astype(np.float32)
        row, _, _ = analyze(delta, name)
        golden["distances"][name]["delta_alpha"] = float(row["alpha"])
        golden["distances"][name]["delta_lambda_max"] = float(row["lambda_max"])
    # Bad inputs for the command-line tests.
    bad = np.ones((12, 10), dtype=np.float32); bad[3, 4] = np.nan
    np.save(os.path.join(HERE, "bad_nan.npy"), bad)
    np.save(os.path.join(HERE, "bad_zeros.npy"), np.zeros((20, 10), dtype=np.float32))
    np.save(os.path.join(HERE, "bad_vector.npy"), np.ones(10, dtype=np.float32))
    np.save(os.path.join(HERE, "bad_init_shape.npy"), np.ones((40, 60), dtype=np.float32))
    # The bundled example models (read with torch / safetensors): alpha and entropy per layer.
    golden["examples"] = example_goldens()
    # SplitMix64 shuffle of 0..9 with seed 7, to pin the permutation itself.
    perm = list(range(10)); SplitMix64(7).shuffle(perm)
    golden["shuffle_0_to_9_seed_7"] = perm
    golden["fnv1a_gaussian"] = str(fnv1a("gaussian"))
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1, sort_keys=True)
    if "--check-reference" in sys.argv:
        check_reference(weights)


def check_reference(weights):
    import logging
    logging.disable(logging.WARNING)
    import weightwatcher as ww
    from weightwatcher.RMT_Util import jensen_shannon_distance
    import torch
    state = {f"{k}.weight": torch.from_numpy(v) for k, v in weights.items()}
    watcher = ww.WeightWatcher(model=state)
    details = watcher.analyze(mp_fit=True, randomize=False)
    worst = {}
    for _, r in details.iterrows():
        mine, ev, _ = analyze(weights[r["name"]], r["name"])
        for col in ["N", "M", "rf", "num_evals", "lambda_max", "norm", "log_norm", "spectral_norm",
                    "log_spectral_norm", "stable_rank", "matrix_rank", "entropy", "alpha", "xmin",
                    "xmax", "D", "sigma", "num_pl_spikes", "alpha_weighted", "log_alpha_norm",
                    "num_spikes", "sigma_mp", "mp_softrank", "bulk_max", "bulk_min", "W_scale"]:
            a, b = float(mine[col]), float(r[col])
            rel = abs(a - b) / max(abs(b), 1e-300)
            worst[col] = max(worst.get(col, 0), rel)
            if rel > 1e-6:
                print(f"{r['name']:10s} {col:18s} mine {a!r:24} reference {b!r}")
    print("max relative difference per column:")
    for k, v in worst.items():
        print(f"  {k:18s} {v:.1e}")
    # rand_distance: same formula on the same pair of spectra
    w = weights["heavy"]
    mine, ev, _ = analyze(w, "heavy")
    rand = shuffled_eigenvalues(w, "heavy", 7, 1.0, 1)[0]
    print("rand_distance formula difference:", abs(jensen_shannon_distance(ev, rand) - mine["rand_distance"]))


if __name__ == "__main__":
    main()
