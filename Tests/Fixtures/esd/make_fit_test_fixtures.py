"""Golden values for the power-law fit tests (--pl-test): the log-likelihood ratio tests of the
power law against the exponential, lognormal and truncated power law on the tail x >= xmin, as
powerlaw 1.5's Fit(x, xmin=xmin).distribution_compare('power_law', alt, normalized_ratio=True)
defines them, computed independently in float64 numpy/scipy:

  - the tail's xmin from make_fixtures.py's own power-law fit (the reference tool's xmin search);
  - power law: alpha = 1 + n / sum(log(x/xmin)); exponential: lambda = 1/(mean(x) - xmin)
    (both closed-form MLEs);
  - lognormal and truncated power law: scipy.optimize.minimize (Nelder-Mead, xatol=fatol=1e-13,
    restarted from its result until it stops improving, then polished by BFGS) on the
    log-likelihood, the lognormal normaliser by scipy.special.log_ndtr, the truncated power
    law's normaliser integral_xmin^inf x^-a e^-lx dx by scipy.integrate.quad over u = ln(x/xmin) (not the
    incomplete gamma function Compare uses);
  - R = sum(d) / sqrt(n var(d)), p = erfc(|sum d| / sqrt(2 n var(d))) (not nested) or
    1 - chi2.cdf(2|sum d|, 1) (truncated power law, nested in powerlaw's rule).

Eigenvalue sets: the ESD fixtures heavy, gaussian, lowrank, wide and conv (eigenvalues of W^T W,
conv pooled and halved), and three samples written here as 1-D .npy: pl_sample (a power law,
alpha 2.5, above a uniform body), exp_sample (exponential) and lognormal_sample.

Also, under "bootstrap", the --alpha-ci and --pl-test columns of four weight fixtures, drawn
with Compare's SplitMix64 streams (seed 7, each row's seed = seed ^ fnv1a(name) ^ fnv1a("alpha_ci")
or ^ fnv1a("pl_test"), resample r from that ^ fnv1a(str(r))) and refitted with make_fixtures.py's
own xmin search: the alpha interval (50 resamples, confidence 0.9; np.quantile) and pl_p_value
(50 synthetic sets: each value from the fitted power law xmin (1-u)^(-1/(alpha-1)) with
probability k/n, else a uniform draw among the values below xmin).

Run from the repository root:  python Tests/Fixtures/esd/make_fit_test_fixtures.py
Writes *_sample.npy and golden_fit_tests.json next to this script.
"""
import json
import math
import os
import sys

import numpy as np
from scipy import integrate, optimize, special, stats

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import MASK, SplitMix64, eigenvalues, fnv1a, powerlaw_fit, slices  # noqa: E402

LAYERS = ["heavy", "gaussian", "lowrank", "wide", "conv"]


def samples():
    rng = np.random.default_rng(20261129)
    body = rng.uniform(0.05, 1.0, 300)
    tail = (1 - rng.uniform(size=1200)) ** (-1 / 1.5)          # Pareto, alpha = 2.5, xmin = 1
    exp = 0.2 + rng.exponential(1.0, 1500)
    logn = np.exp(rng.normal(0.0, 0.7, 1500))
    return {"pl_sample": np.sort(np.concatenate([body, tail])), "exp_sample": np.sort(exp),
            "lognormal_sample": np.sort(logn)}


def minimize(f, x0):
    best = optimize.minimize(f, x0, method="Nelder-Mead",
                             options=dict(xatol=1e-13, fatol=1e-13, maxiter=20000, maxfev=40000))
    for _ in range(5):
        again = optimize.minimize(f, best.x, method="Nelder-Mead",
                                  options=dict(xatol=1e-13, fatol=1e-13, maxiter=20000, maxfev=40000))
        if again.fun >= best.fun - 1e-15 * abs(best.fun):
            break
        best = again
    polished = optimize.minimize(f, best.x, method="BFGS", options=dict(gtol=1e-12))
    return polished.x if polished.fun <= best.fun else best.x


def polish(f, gradient, p, transformed):
    """The zero of the analytic gradient near the simplex optimum p (scipy.optimize.root), kept
    only when it is a strict interior point no worse than p; an optimum on the edge of the
    parameter space (lambda -> 0, alpha -> 1, sigma -> inf) keeps the simplex point."""
    try:
        root = optimize.root(gradient, p, method="hybr", options=dict(xtol=1e-14))
    except (ValueError, FloatingPointError, ZeroDivisionError):
        return p
    q = root.x
    if not np.all(np.isfinite(q)):
        return p
    try:
        smaller = np.linalg.norm(gradient(q)) < np.linalg.norm(gradient(p))
        if smaller and f(np.array(transformed(q))) <= f(np.array(transformed(p))) + 1e-10 * abs(f(np.array(transformed(p)))):
            return q
    except (ValueError, FloatingPointError, ZeroDivisionError):
        pass
    return p


def ll_power_law(x, xmin):
    alpha = 1 + len(x) / np.sum(np.log(x / xmin))
    return np.log(alpha - 1) - np.log(xmin) - alpha * np.log(x / xmin), dict(alpha=alpha)


def ll_exponential(x, xmin):
    lam = 1 / (np.mean(x) - xmin)
    return np.log(lam) - lam * (x - xmin), dict(**{"lambda": lam})


def ll_lognormal(x, xmin):
    lx = np.log(x)

    def ll(mu, sigma):
        # ln P(X >= xmin) of the untruncated lognormal: log_ndtr((mu - ln xmin)/sigma)
        return (-lx - np.log(sigma) - 0.5 * np.log(2 * np.pi) - (lx - mu) ** 2 / (2 * sigma ** 2)
                - special.log_ndtr((mu - np.log(xmin)) / sigma))

    def gradient(p):
        # d/dmu, d/dsigma of the mean log-likelihood; r = d log_ndtr(w)/dw = pdf(w)/cdf(w)
        mu, sigma = p
        w = (mu - np.log(xmin)) / sigma
        r = np.exp(stats.norm.logpdf(w) - special.log_ndtr(w))
        return [np.mean(lx - mu) / sigma ** 2 - r / sigma,
                -1 / sigma + np.mean((lx - mu) ** 2) / sigma ** 3 + r * w / sigma]

    f = lambda p: -np.mean(ll(p[0], np.exp(p[1])))
    p = minimize(f, np.array([lx.mean(), np.log(lx.std())]))
    p = polish(f, gradient, np.array([p[0], np.exp(p[1])]), lambda q: [q[0], np.log(q[1])])
    return ll(p[0], p[1]), dict(mu=p[0], sigma=p[1])


def log_tpl_normaliser(alpha, lam, xmin):
    # integral_xmin^inf x^-alpha e^(-lam x) dx = xmin^(1-alpha) integral_0^inf e^((1-alpha)u - z e^u) du
    # (x = xmin e^u, z = lam xmin): scaled by e^z, split where z e^u reaches 1; beyond 40 more
    # units of u the integrand is below e^(-e^40).
    z = lam * xmin
    g = lambda u: np.exp((1 - alpha) * u - z * np.expm1(u))
    knee = max(-np.log(z), 0.0)
    total = sum(integrate.quad(g, a, b, epsabs=0, epsrel=1e-13, limit=1000)[0]
                for a, b in [(0, knee), (knee, knee + 3), (knee + 3, knee + 40)] if b > a)
    return (1 - alpha) * np.log(xmin) - z + np.log(total)


def ll_truncated_power_law(x, xmin):
    lx = np.log(x)

    def ll(alpha, lam):
        return -alpha * lx - lam * x - log_tpl_normaliser(alpha, lam, xmin)

    def gradient(p):
        # d/dalpha, d/dlambda of the mean log-likelihood: -mean(ln x) + E[ln x], -mean(x) + E[x]
        # under the fitted density, the moments by quad as the normaliser
        alpha, lam = p
        z = lam * xmin
        moments = []
        for power, log_moment in [(0, False), (0, True), (1, False)]:
            g = lambda u: np.exp((1 - alpha + power) * u - z * np.expm1(u)) * ((np.log(xmin) + u) if log_moment else 1)
            knee = max(-np.log(z), 0.0)
            moments.append(sum(integrate.quad(g, a, b, epsabs=0, epsrel=1e-13, limit=1000)[0]
                               for a, b in [(0, knee), (knee, knee + 3), (knee + 3, knee + 40)] if b > a))
        return [-lx.mean() + moments[1] / moments[0], -x.mean() + xmin * moments[2] / moments[0]]

    f = lambda p: -np.mean(ll(1 + np.exp(p[0]), np.exp(p[1]) / xmin))
    a0 = 1 + len(x) / np.sum(np.log(x / xmin))
    p = minimize(f, np.array([np.log(a0 - 1), np.log(xmin / np.mean(x))]))
    p = polish(f, gradient, np.array([1 + np.exp(p[0]), np.exp(p[1]) / xmin]),
               lambda q: [np.log(q[0] - 1), np.log(q[1] * xmin)])
    return ll(p[0], p[1]), dict(alpha=p[0], **{"lambda": p[1]})


def ratio(l1, l2, nested):
    d = l1 - l2
    n = len(d)
    total = d.sum()
    var = np.mean((d - d.mean()) ** 2)
    p = (1 - stats.chi2.cdf(abs(2 * total), 1)) if nested else special.erfc(abs(total) / np.sqrt(2 * n * var))
    return total / np.sqrt(n * var), p


def tests(evals):
    fit = powerlaw_fit(evals)
    xmin = fit["xmin"]
    x = np.sort(evals[evals >= xmin])
    pl, _ = ll_power_law(x, xmin)
    out = dict(xmin=xmin, alpha=fit["alpha"], tail=len(x))
    for name, f, nested in [("exponential", ll_exponential, False), ("lognormal", ll_lognormal, False),
                            ("truncated_power_law", ll_truncated_power_law, True)]:
        ll, params = f(x, xmin)
        r, p = ratio(pl, ll, nested)
        out[f"pl_vs_{name}_R"] = float(r)
        out[f"pl_vs_{name}_p"] = float(p)
        out[f"{name}_parameters"] = {k: float(v) for k, v in params.items()}
    return out


BOOTSTRAP_LAYERS = ["heavy", "wide", "gaussian", "small"]
BOOTSTRAP_SEED = 7
RESAMPLES = 50
CONFIDENCE = 0.9


def uniform(rng):
    return (rng.next() >> 11) * 2.0 ** -53


def bootstrap(evals, name):
    x = np.sort(evals[evals > 1e-5])
    n = len(x)
    fit = powerlaw_fit(evals)
    row_seed = BOOTSTRAP_SEED ^ fnv1a(name)
    alphas = []
    seed = row_seed ^ fnv1a("alpha_ci")
    for r in range(RESAMPLES):
        rng = SplitMix64((seed ^ fnv1a(str(r))) & MASK)
        sample = np.array([x[rng.next_index(n)] for _ in range(n)])
        f = powerlaw_fit(sample)
        if f is not None:
            alphas.append(f["alpha"])
    alphas = np.sort(alphas)
    seed = row_seed ^ fnv1a("pl_test")
    body = int(np.searchsorted(x, fit["xmin"], side="left"))
    fraction = (n - body) / n
    exponent = -1 / (fit["alpha"] - 1)
    distances = []
    for r in range(RESAMPLES):
        rng = SplitMix64((seed ^ fnv1a(str(r))) & MASK)
        sample = []
        for _ in range(n):
            if body == 0 or uniform(rng) < fraction:
                sample.append(fit["xmin"] * (1 - uniform(rng)) ** exponent)
            else:
                sample.append(x[rng.next_index(body)])
        f = powerlaw_fit(np.array(sample))
        if f is not None:
            distances.append(f["D"])
    return dict(alpha=float(fit["alpha"]), D=float(fit["D"]),
                alpha_ci_low=float(np.quantile(alphas, (1 - CONFIDENCE) / 2)),
                alpha_ci_high=float(np.quantile(alphas, (1 + CONFIDENCE) / 2)),
                pl_p_value=float(np.mean(np.array(distances) >= fit["D"])), resamples=len(alphas),
                synthetic=len(distances))


def main():
    golden = {}
    golden["bootstrap"] = {}
    for name in BOOTSTRAP_LAYERS:
        w = np.load(os.path.join(HERE, name + ".npy"))
        scale = 0.5 if w.ndim == 4 else 1.0
        golden["bootstrap"][name] = bootstrap(eigenvalues(slices(w), scale), name)
        print(name, golden["bootstrap"][name])
    for name in LAYERS:
        w = np.load(os.path.join(HERE, name + ".npy"))
        scale = 0.5 if w.ndim == 4 else 1.0
        golden[name] = tests(eigenvalues(slices(w), scale))
    for name, values in samples().items():
        np.save(os.path.join(HERE, name + ".npy"), values)
        golden[name] = tests(values)
    with open(os.path.join(HERE, "golden_fit_tests.json"), "w") as f:
        json.dump(golden, f, indent=1, sort_keys=True)
    for name, g in golden.items():
        if name == "bootstrap":
            continue
        print(name, g["tail"], {k: round(v, 6) for k, v in g.items() if k.startswith("pl_vs")})


if __name__ == "__main__":
    main()
