"""Golden values for the tail-fit options of `compare esd` (weightwatcher 0.7.7's analyze()
options fit='TPL'|'E_TPL', fix_fingers='xmin_peak'|'clip_xmax', detX=True) on the seven
weights of make_fixtures.py, by an independent float64 implementation: numpy, scipy's
Nelder-Mead (scipy.optimize.fmin, as the powerlaw package calls it) and mpmath's incomplete
gamma function (the truncated power law's normaliser and CDF, evaluated at 30 digits).

Definitions, read from weightwatcher 0.7.7 (weightwatcher.py fit_powerlaw, RMT_Util.py
fit_clipped_powerlaw / detX_constraint) and powerlaw 1.5 (Fit.find_xmin, Truncated_Power_Law):
  TPL: candidates xmin = distinct eigenvalues > 1e-5 but the largest; per candidate fmin of the
       negative log-likelihood of x^-a e^(-L x) L^(1-a)/Gamma(1-a, L xmin) from
       a0 = 1 + k/sum(ln(x/xmin)), L0 = 1/mean(tail); D = max |F - A| over the distinct tail
       values, F = 1 - Gamma(1-a, L x)/Gamma(1-a, L xmin), A the renormalised empirical CDF;
       the first least D among fits with a > 1, L > 0.
  xmin_peak: p = 10**(left edge of the fullest of 100 bins of log10 eigenvalues); candidates
       within [log10(0.95 p), 1.5 p] (weightwatcher's range, log10 included), minus the last;
       with xmin_max = 3 the upper end is 3 (the range is [min, max] of the two ends).
  E_TPL = TPL over the xmin_peak candidates.
  clip_xmax: the default power-law fit (make_fixtures.powerlaw_fit) of the eigenvalues without
       the 2, 3, ..., 9 largest until alpha + 1 < raw alpha (num_fingers = clipped - 1) or
       alpha <= 2.
  TPL with clip_xmax: the same clipping with the powerlaw package's power-law fit (candidates
       every distinct value, no small-sample variant), then the TPL above the kept xmin on the
       clipped eigenvalues; D and sigma are the kept power law's.
  detX: eigenvalues rescaled to mean 1; the least k with prod(k largest) < 1.

Run from the repository root:  python Tests/Fixtures/esd/make_fit_fixtures.py
Writes golden_fits.json next to this script.
"""
import json
import math
import os
import sys

import mpmath
import numpy as np
from scipy.optimize import fmin

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import powerlaw_fit, slices, eigenvalues  # noqa: E402

mpmath.mp.dps = 30
THRESH = 1e-5
FIXTURES = ["gaussian", "heavy", "lowrank", "conv", "small", "small_tail", "wide"]


def layer_evals(name):
    w = np.load(os.path.join(HERE, name + ".npy")).astype(np.float64)
    return eigenvalues(slices(w), 0.5 if w.ndim == 4 else 1.0)


def candidates(x, lo=None, hi=None):
    u = np.unique(x)
    if lo is not None:
        u = u[(u >= lo) & (u <= hi)]
    return u[:-1]


def empirical(x, xmin):
    """Distinct values >= xmin and the empirical CDF renormalised to the tail."""
    u = np.unique(x)
    below = np.searchsorted(x, u, side="left") / len(x)
    keep = u >= xmin
    u, a = u[keep], below[keep]
    return u, (a - a[0]) / (1 - a[0])


def tpl_candidate(x, xmin):
    tail = x[x >= xmin]
    k = len(tail)
    slog, ssum = np.sum(np.log(tail)), np.sum(tail)

    def nll(p):
        a, lam = p
        if not (lam > 0 and a > 1):
            return -k * math.log(1e-307)
        log_c = (1 - a) * math.log(lam) - float(mpmath.log(mpmath.gammainc(1 - a, lam * xmin)))
        return -(-a * slog - lam * ssum + k * log_c)

    a0 = 1 + k / np.sum(np.log(tail / xmin))
    p = fmin(nll, [a0, 1 / np.mean(tail)], disp=False)
    a, lam = float(p[0]), float(p[1])
    if not (lam > 0 and a > 1):
        return a, lam, math.inf, False
    u, emp = empirical(x, xmin)
    g0 = mpmath.gammainc(1 - a, lam * xmin)
    f = np.array([float(1 - mpmath.gammainc(1 - a, lam * v) / g0) for v in u])
    return a, lam, float(np.max(np.abs(f - emp))), True


def tpl_fit(ev, lo=None, hi=None):
    x = np.sort(ev[ev > THRESH])
    xs = candidates(x, lo, hi)
    fits = [tpl_candidate(x, xm) for xm in xs]
    ds = np.array([f[2] for f in fits])
    ok = np.array([f[3] for f in fits])
    if ok.any() and not ok.all():
        ds = np.where(ok, ds, np.inf)
    b = int(np.argmin(ds))
    return dict(alpha=fits[b][0], Lambda=fits[b][1], xmin=float(xs[b]), D=fits[b][2],
                num_pl_spikes=int(np.sum(ev >= xs[b])), xmax=float(x[-1]))


def pl_range_fit(ev, lo, hi):
    x = np.sort(ev[ev > THRESH])
    xs = candidates(x, lo, hi)
    rows = []
    for xm in xs:
        tail = x[x >= xm]
        a = 1 + len(tail) / np.sum(np.log(tail / xm))
        u, emp = empirical(x, xm)
        rows.append((a, float(np.max(np.abs(1 - (u / xm) ** (1 - a) - emp))), len(tail)))
    b = int(np.argmin([r[1] for r in rows]))
    a, d, k = rows[b]
    return dict(alpha=a, xmin=float(xs[b]), D=d, sigma=(a - 1) / math.sqrt(k),
                num_pl_spikes=int(np.sum(ev >= xs[b])), xmax=float(x[-1]))


def peak_range(ev, xmin_max=None):
    nz = ev[ev > THRESH]
    counts, edges = np.histogram(np.log10(nz), bins=100)
    p = 10 ** edges[np.argmax(counts)]
    hi = 1.5 * p if xmin_max is None else xmin_max
    lo = math.log10(0.95 * p)
    return min(lo, hi), max(lo, hi), p


def clip_fit(ev):
    nz = np.sort(ev[ev > THRESH])
    raw = powerlaw_fit(nz)
    best, fingers = raw, 0
    for idx in range(2, 10):
        fit = powerlaw_fit(nz[:-idx])
        if fit["alpha"] + 1.0 < raw["alpha"]:
            best, fingers = fit, idx - 1
            break
        if fit["alpha"] <= 2.0:
            break
    return dict(alpha=best["alpha"], xmin=best["xmin"], xmax=best["xmax"], D=best["D"],
                sigma=best["sigma"], num_pl_spikes=int(np.sum(ev >= best["xmin"])),
                num_fingers=fingers, raw_alpha=raw["alpha"])


def tpl_clip_fit(ev):
    nz = np.sort(ev[ev > THRESH])
    raw = pl_range_fit(nz, -math.inf, math.inf)
    best, fingers = raw, 0
    for idx in range(2, 10):
        fit = pl_range_fit(nz[:-idx], -math.inf, math.inf)
        if fit["alpha"] + 1.0 < raw["alpha"]:
            best, fingers = fit, idx - 1
            break
        if fit["alpha"] <= 2.0:
            break
    kept = nz[:len(nz) - (fingers + 1 if fingers else 0)]
    a, lam, _, ok = tpl_candidate(kept, best["xmin"])
    return dict(alpha=a, Lambda=lam, xmin=best["xmin"], D=best["D"], sigma=best["sigma"],
                num_pl_spikes=int(np.sum(ev >= best["xmin"])), num_fingers=fingers, raw_alpha=raw["alpha"])


def detx(ev):
    ev = np.sort(ev)
    n = len(ev)
    scale = n / ev.sum()
    r = ev * scale
    for idx in range(n - 1, -1, -1):
        if np.prod(r[idx:]) < 1.0:
            return dict(detX_num=n - idx, detX_val=float(ev[idx]), detX_val_unrescaled=float(r[idx]))
    return dict(detX_num=n, detX_val=float(ev[0]), detX_val_unrescaled=float(r[0]))


def main():
    golden = {"layers": {}, "gamma": []}
    for name in FIXTURES:
        ev = layer_evals(name)
        lo, hi, p = peak_range(ev)
        row = {"peak": p, "TPL": tpl_fit(ev), "clip_xmax": clip_fit(ev), "detX": detx(ev),
               "TPL_clip_xmax": tpl_clip_fit(ev)}
        lo3, hi3, _ = peak_range(ev, 3.0)
        for key, fit, a, b in [("xmin_peak", pl_range_fit, lo, hi), ("E_TPL", tpl_fit, lo, hi),
                               ("xmin_peak_xmin_max_3", pl_range_fit, lo3, hi3)]:
            try:
                row[key] = fit(ev, a, b)
            except (ValueError, IndexError):
                row[key] = None  # fewer than 2 distinct eigenvalues in the peak's range: a failed fit
        golden["layers"][name] = row
        print(name, {k: (v["alpha"] if isinstance(v, dict) and "alpha" in v else v) for k, v in row.items()})
    for a in [-29.7, -12.3, -5.5, -2.0001, -1.9999, -1.5, -1.0, -0.9999, -0.3, -1e-7, 0.4, 1.0, 2.5]:
        for z in [1e-6, 0.01, 0.3, 0.4999, 0.5, 1.0, 3.0, 20.0, 150.0, 700.0]:
            golden["gamma"].append([a, z, float(mpmath.gammainc(a, z))])
    with open(os.path.join(HERE, "golden_fits.json"), "w") as f:
        json.dump(golden, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
