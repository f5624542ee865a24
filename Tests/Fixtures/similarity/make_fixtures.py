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
KNN = 5                # --knn for mknn and cknna


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


def rsa(x, y):
    """rsatoolbox's 'correlation' RDM, compared by 'spearman' (scipy's average ranks)."""
    from scipy.stats import rankdata

    def rdm(m):
        ma = m - m.mean(axis=1, keepdims=True)
        ma = ma / np.sqrt(np.einsum("ij,ij->i", ma, ma))[:, None]
        # Rounded to 10 decimals: ties in exact arithmetic stay ties (RankedDissimilarities).
        return np.round((1 - ma @ ma.T)[np.triu_indices(m.shape[0], 1)], 10)

    rx, ry = rankdata(rdm(x)), rankdata(rdm(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def normalise_rows(m):
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def knn_mask(f, k):
    """platonic-rep's compute_nearest_neighbors, as a 0/1 mask (ties: lower index first)."""
    g = f @ f.T
    np.fill_diagonal(g, -1e8)
    knn = np.argsort(-g, axis=1, kind="stable")[:, :k]
    mask = np.zeros_like(g)
    mask[np.arange(g.shape[0])[:, None], knn] = 1.0
    return mask


def mknn(x, y, k=KNN):
    fx, fy = normalise_rows(x), normalise_rows(y)
    return float(np.mean((knn_mask(fx, k) * knn_mask(fy, k)).sum(axis=1) / k))


def hsic_unbiased(k, l):
    m = k.shape[0]
    kt, lt = k.copy(), l.copy()
    np.fill_diagonal(kt, 0)
    np.fill_diagonal(lt, 0)
    value = (np.sum(kt * lt.T) + np.sum(kt) * np.sum(lt) / ((m - 1) * (m - 2))
             - 2 * np.sum(kt @ lt) / (m - 2))
    return value / (m * (m - 3))


def cknna(x, y, k=KNN):
    """platonic-rep's cknna(..., topk=k, unbiased=True) on L2-normalised rows."""
    fx, fy = normalise_rows(x), normalise_rows(y)
    kx, ly = fx @ fx.T, fy @ fy.T

    def sim(a, b):
        mask = knn_mask_from_kernel(a, k) * knn_mask_from_kernel(b, k)
        return hsic_unbiased(mask * a, mask * b)

    return float(sim(kx, ly) / (np.sqrt(sim(kx, kx) * sim(ly, ly)) + 1e-6))


def knn_mask_from_kernel(g, k):
    g = g.copy()
    np.fill_diagonal(g, -np.inf)
    knn = np.argsort(-g, axis=1, kind="stable")[:, :k]
    mask = np.zeros_like(g)
    mask[np.arange(g.shape[0])[:, None], knn] = 1.0
    return mask


def dcor(x, y):
    """dcor's u_distance_correlation_sqr, distances from explicit differences."""
    def u_centred(m):
        n = m.shape[0]
        a = np.linalg.norm(m[:, None, :] - m[None, :, :], axis=2)
        u = (a - a.sum(axis=0, keepdims=True) / (n - 2) - a.sum(axis=1, keepdims=True) / (n - 2)
             + a.sum() / ((n - 1) * (n - 2)))
        np.fill_diagonal(u, 0)
        return u

    a, b = u_centred(x), u_centred(y)
    return float(np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b)))


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
    "rsa": rsa,
    "mknn": mknn,
    "cknna": cknna,
    "dcor": dcor,
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
        "tolerance": TOLERANCE, "svcca_variance": SVCCA_VARIANCE, "ridge": RIDGE, "knn": KNN,
        "layers_a": {k: v.tolist() for k, v in a.items()},
        "layers_b": {k: v.tolist() for k, v in b.items()},
        "names_a": list(a), "names_b": list(b),
        "measures": {
            name: [[f(a[i], b[j]) for j in b] for i in a] for name, f in MEASURES.items()
        },
    }
    # Wide layers (fewer examples than features): the QR-first path; CCA is trivially 1 there.
    m = 12
    wide_a = {"w1": rng.standard_normal((m, 20)), "w2": np.tanh(rng.standard_normal((m, 30)) + 1.0)}
    wide_b = {"v1": rng.standard_normal((m, 5)) * 3.0 - 1.0, "v2": rng.standard_normal((m, 16))}
    out["wide"] = {
        "layers_a": {k: v.tolist() for k, v in wide_a.items()},
        "layers_b": {k: v.tolist() for k, v in wide_b.items()},
        "names_a": list(wide_a), "names_b": list(wide_b),
        "measures": {
            name: [[f(wide_a[i], wide_b[j]) for j in wide_b] for i in wide_a]
            for name, f in MEASURES.items()
        },
    }
    with open("goldens.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
