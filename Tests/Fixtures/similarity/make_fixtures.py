"""Golden values for the Similarity module: an independent float64 numpy implementation of each
measure's definition (README, "Similarity"). Run from this folder: python3 make_fixtures.py

CCA here goes through whitened covariances (Σxx^-1/2 Σxy Σyy^-1/2, as google/svcca's
cca_core does) rather than orthonormal bases, so the Swift path is checked against a different
formulation. Writes goldens.json: the inputs (rows of each layer) and every measure's values.
"""
import json

import numpy as np

TOLERANCE = 1e-6       # relative singular-value cut for ranks (--cca-tolerance)
SVCCA_VARIANCE = 0.99  # --svcca-variance
RIDGE = 0.5            # the ridge case of linreg


def centred(x):
    return x - x.mean(axis=0, keepdims=True)


def reduced(x):
    """Centred X projected on its right singular directions above the rank cut: full rank."""
    xc = centred(x)
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    if s.size == 0 or s[0] == 0:
        return None, s
    r = int(np.sum(s > TOLERANCE * s[0]))
    return xc @ vt[:r].T, s


def inv_sqrt(c):
    w, v = np.linalg.eigh(c)
    return v @ np.diag(w ** -0.5) @ v.T


def cca_parts(xr, yr):
    """Canonical correlations and X's/Y's canonical weights, by whitening."""
    n = xr.shape[0]
    sxx, syy, sxy = xr.T @ xr / n, yr.T @ yr / n, xr.T @ yr / n
    wx, wy = inv_sqrt(sxx), inv_sqrt(syy)
    u, rho, vt = np.linalg.svd(wx @ sxy @ wy, full_matrices=False)
    k = min(xr.shape[1], yr.shape[1])
    return np.clip(rho[:k], 0, 1), wx @ u[:, :k], wy @ vt[:k].T


def cka(x, y):
    xc, yc = centred(x), centred(y)
    den = np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc)
    return None if den == 0 else np.linalg.norm(xc.T @ yc) ** 2 / den


def cca(x, y, squared=False):
    xr, _ = reduced(x)
    yr, _ = reduced(y)
    if xr is None or yr is None:
        return None
    rho, _, _ = cca_parts(xr, yr)
    return float(np.mean(rho ** 2 if squared else rho))


def svcca(x, y):
    parts = []
    for m in (x, y):
        xc = centred(m)
        u, s, vt = np.linalg.svd(xc, full_matrices=False)
        if s.size == 0 or s[0] == 0:
            return None
        share = np.cumsum(s ** 2) / np.sum(s ** 2)
        k = int(np.searchsorted(share, SVCCA_VARIANCE - 1e-12) + 1)
        parts.append(xc @ vt[:k].T)
    rho, _, _ = cca_parts(*parts)
    return float(np.mean(rho))


def pwcca(x, y):
    xr, _ = reduced(x)
    yr, _ = reduced(y)
    if xr is None or yr is None:
        return None
    rho, ax, ay = cca_parts(xr, yr)
    if x.shape[1] <= y.shape[1]:
        z, zr, a = centred(x), xr, ax
    else:
        z, zr, a = centred(y), yr, ay
    h = zr @ a                      # canonical variates, n × k
    p, r = np.linalg.qr(h)
    p = p * np.sign(np.diag(r))     # signs as in the variates
    weights = np.sum(np.abs(p.T @ z), axis=1)
    weights = weights / weights.sum()
    return float(np.sum(weights * rho))


def procrustes(x, y, euclidean=False):
    xc, yc = centred(x), centred(y)
    nx, ny = np.linalg.norm(xc), np.linalg.norm(yc)
    if nx == 0 or ny == 0:
        return None
    nuclear = np.linalg.svd((xc / nx).T @ (yc / ny), compute_uv=False).sum()
    nuclear = min(nuclear, 1.0)
    return float(np.sqrt(max(2 - 2 * nuclear, 0))) if euclidean else float(np.arccos(nuclear))


def linreg(x, y, ridge=0.0):
    xc, yc = centred(x), centred(y)
    total = np.sum(yc ** 2)
    xr, s = reduced(x)
    if xr is None or total == 0:
        return None
    if ridge == 0:
        b, *_ = np.linalg.lstsq(xr, yc, rcond=None)
    else:
        b = np.linalg.solve(xr.T @ xr + ridge * np.eye(xr.shape[1]), xr.T @ yc)
    return float(1 - np.sum((yc - xr @ b) ** 2) / total)


MEASURES = {
    "cka": cka,
    "cca": cca,
    "cca_r2": lambda x, y: cca(x, y, squared=True),
    "svcca": svcca,
    "pwcca": pwcca,
    "procrustes": procrustes,
    "procrustes_euclidean": lambda x, y: procrustes(x, y, euclidean=True),
    "linreg": linreg,
    "linreg_ridge": lambda x, y: linreg(x, y, ridge=RIDGE),
}


def main():
    rng = np.random.default_rng(20261129)
    n = 40
    base = rng.standard_normal((n, 6))
    a = {
        "a1": base @ rng.standard_normal((6, 5)) + 0.3 * rng.standard_normal((n, 5)) + 2.0,
        "a2": np.tanh(base @ rng.standard_normal((6, 12))),
        # Rank 3 inside 7 columns: checks the rank cut.
        "a3": rng.standard_normal((n, 3)) @ rng.standard_normal((3, 7)),
    }
    b = {
        "b1": base[:, :4] * np.array([1.0, 3.0, 0.1, 2.0]) + 0.5 * rng.standard_normal((n, 4)),
        "b2": np.maximum(base @ rng.standard_normal((6, 9)), 0) - 1.0,
    }
    out = {
        "tolerance": TOLERANCE, "svcca_variance": SVCCA_VARIANCE, "ridge": RIDGE,
        "layers_a": {k: v.tolist() for k, v in a.items()},
        "layers_b": {k: v.tolist() for k, v in b.items()},
        "names_a": list(a), "names_b": list(b),
        "measures": {
            name: [[f(a[i], b[j]) for j in b] for i in a] for name, f in MEASURES.items()
        },
    }
    with open("goldens.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
