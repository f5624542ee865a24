"""The similarity measures computed by the field's own packages on the fixture layers of
goldens.json, written to reference.json for the Swift check (Tests/SimilarityTests).

Run once, in a virtualenv outside the repository, with the reference sources at hand:

    pip install numpy scipy scikit-learn torch rsatoolbox dcor
    python3 reference_packages.py --svcca DIR --platonic DIR --netrep DIR

where the three folders are checkouts of google/svcca (cca_core.py, pwcca.py),
minyoungg/platonic-rep (metrics.py) and ahwillia/netrep (the netrep package). The file
records the packages' versions and the commits of the checkouts. What each reference computes:

- cka: platonic-rep `AlignmentMetrics.cka(kernel_metric='ip')` (biased HSIC, linear kernel).
- cca, cca_r2: google/svcca `cca_core.get_cca_similarity(epsilon=0)`, the mean of
  `cca_coef1` (and of its squares) over all min(p, q) coefficients.
- svcca: numpy's SVD keeping the directions that explain 99 % of the variance, then
  google/svcca's `get_cca_similarity` on them, as its tutorials do.
- pwcca: google/svcca's projection weighting (pwcca.py) on column-centred activations
  (pwcca.py weights with uncentred ones; on centred inputs the two agree), applied to google's
  canonical directions (`cca_dirns1` of `get_cca_similarity(compute_dirns=True)`): pwcca.py
  itself forms them as uᵀX̃ without Σxx^(-1/2); that verbatim value is recorded as
  `pwcca_google_verbatim`. The narrower layer goes first (with Y narrower, pwcca.py indexes
  X's activations with Y's indices and fails); null where a layer is rank-deficient (google's
  code cannot invert its covariance). CCA-type measures of a
  rank-deficient layer are given google's code on the layer projected on its rank-revealing basis.
- procrustes, procrustes_euclidean: netrep `LinearMetric(alpha=1, center_columns=True,
  score_method='angular' / 'euclidean')`, fitted and scored on (X, Y); netrep's Euclidean score
  is ‖X̃ − ỸQ‖_F of the unnormalised layers, so it is given X̃/‖X̃‖_F and Ỹ/‖Ỹ‖_F, where it is
  √(2 − 2‖X̂ᵀŶ‖_*).
- linreg: scikit-learn `LinearRegression` fitted from X to Y, `r2_score(...,
  multioutput='variance_weighted')`, which is ‖Q_XᵀỸ‖²_F / ‖Ỹ‖²_F.
- rsa: rsatoolbox `calc_rdm(method='correlation')` then `compare(method='spearman')`, on
  dissimilarities rounded to 10 decimals as Compare rounds them (ties in exact arithmetic stay
  ties); unrounded, as `rsa_rsatoolbox_verbatim`.
- mknn, cknna: platonic-rep `AlignmentMetrics.mutual_knn(topk=K)` and
  `cknna(topk=K, unbiased=True)` on L2-normalised rows (torch, float64).
- dcor: `dcor.u_distance_correlation_sqr`.
"""
import argparse
import importlib.metadata as md
import json
import subprocess
import sys

import numpy as np


def commit(folder):
    try:
        return subprocess.run(["git", "-C", folder, "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except Exception:
        return "unknown"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--svcca", required=True)
    parser.add_argument("--platonic", required=True)
    parser.add_argument("--netrep", required=True)
    parser.add_argument("--commits", default="", help="svcca,platonic,netrep commits if not git folders")
    args = parser.parse_args()
    sys.path[:0] = [args.svcca, args.platonic, args.netrep]
    import cca_core
    import pwcca as google_pwcca
    import dcor
    import rsatoolbox
    import torch
    import torch.nn.functional as F
    # metrics.py imports torchaudio only for its edit-distance metric, which is not used here.
    import types
    torchaudio = types.ModuleType("torchaudio")
    torchaudio.functional = types.ModuleType("torchaudio.functional")
    sys.modules.setdefault("torchaudio", torchaudio)
    sys.modules.setdefault("torchaudio.functional", torchaudio.functional)
    from metrics import AlignmentMetrics
    from netrep.metrics import LinearMetric
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score

    golden = json.load(open("goldens.json"))
    k = golden["knn"]
    variance = golden["svcca_variance"]

    def centred(x):
        return x - x.mean(axis=0, keepdims=True)

    def full_rank(x):
        s = np.linalg.svd(centred(x), compute_uv=False)
        return s[-1] > golden["tolerance"] * s[0]

    def rank_reduced(x):
        """X̃ on its right singular directions above the rank cut (google's code inverts the
        singular covariance of a rank-deficient layer and fails: epsilon > 0 is its workaround)."""
        if full_rank(x):
            return x
        xc = centred(x)
        u, s, vt = np.linalg.svd(xc, full_matrices=False)
        return xc @ vt[: int(np.sum(s > golden["tolerance"] * s[0]))].T

    def cca_values(x, y):
        x, y = rank_reduced(x), rank_reduced(y)
        r = cca_core.get_cca_similarity(x.T, y.T, epsilon=0.0, verbose=False)
        rho = np.asarray(r["cca_coef1"])[: min(x.shape[1], y.shape[1])]
        return float(np.mean(rho)), float(np.mean(rho ** 2))

    def svd_reduced(x):
        xc = centred(x)
        u, s, vt = np.linalg.svd(xc, full_matrices=False)
        share = np.cumsum(s ** 2) / np.sum(s ** 2)
        keep = int(np.searchsorted(share, variance - 1e-12) + 1)
        return xc @ vt[:keep].T

    def pwcca(x, y, verbatim):
        """google/svcca's projection weighting. pwcca.py forms its directions as coef_x · X̃ with
        coef_x = uᵀ, the singular vectors in whitened coordinates, without the Σxx^(-1/2) that
        makes them canonical variates; its own `compute_dirns=True` output (`cca_dirns1`) has
        it. `verbatim` calls pwcca.py as published; otherwise its weighting is applied to
        google's canonical directions. The narrower layer goes first: with Y narrower,
        pwcca.py indexes X's activations with Y's indices and fails."""
        if not (full_rank(x) and full_rank(y)):
            return None
        if y.shape[1] < x.shape[1]:
            x, y = y, x
        a1, a2 = centred(x).T, centred(y).T
        if verbatim:
            return float(google_pwcca.compute_pwcca(a1, a2, epsilon=0.0)[0])
        r = cca_core.get_cca_similarity(a1, a2, epsilon=0.0, compute_dirns=True, verbose=False)
        q, _ = np.linalg.qr(r["cca_dirns1"].T)
        weights = np.sum(np.abs(q.T @ a1.T), axis=1)
        weights = weights / np.sum(weights)
        return float(np.sum(weights * r["cca_coef1"]))

    def rsa(x, y, verbatim):
        """rsatoolbox's RDMs and comparison; unless `verbatim`, the dissimilarities are rounded
        to 10 decimals first, as Compare does, so that values equal in exact arithmetic (ReLU
        layers have many) stay ties whatever the rounding of the products."""
        rdms = [rsatoolbox.rdm.calc_rdm(rsatoolbox.data.Dataset(m), method="correlation") for m in (x, y)]
        if not verbatim:
            for r in rdms:
                r.dissimilarities = np.round(r.dissimilarities, 10)
        return float(rsatoolbox.rdm.compare(rdms[0], rdms[1], method="spearman")[0][0])

    def normalised(m):
        return F.normalize(torch.tensor(m, dtype=torch.float64), dim=-1)

    def procrustes(x, y, method):
        if method == "euclidean":
            # netrep's Euclidean score is ‖X̃ − ỸQ‖_F of the unnormalised centred layers: on
            # unit-norm inputs it is √(2 − 2‖X̂ᵀŶ‖_*).
            x, y = centred(x) / np.linalg.norm(centred(x)), centred(y) / np.linalg.norm(centred(y))
        metric = LinearMetric(alpha=1.0, center_columns=True, score_method=method)
        metric.fit(x, y)
        return float(metric.score(x, y))

    def linreg(x, y):
        fit = LinearRegression().fit(x, y)
        return float(r2_score(y, fit.predict(x), multioutput="variance_weighted"))

    measures = {
        "cka": lambda x, y: float(AlignmentMetrics.cka(torch.tensor(x), torch.tensor(y), kernel_metric="ip")),
        "cca": lambda x, y: cca_values(x, y)[0],
        "cca_r2": lambda x, y: cca_values(x, y)[1],
        "svcca": lambda x, y: cca_values(svd_reduced(x), svd_reduced(y))[0],
        "pwcca": lambda x, y: pwcca(x, y, verbatim=False),
        "pwcca_google_verbatim": lambda x, y: pwcca(x, y, verbatim=True),
        "procrustes": lambda x, y: procrustes(x, y, "angular"),
        "procrustes_euclidean": lambda x, y: procrustes(x, y, "euclidean"),
        "linreg": linreg,
        "rsa": lambda x, y: rsa(x, y, verbatim=False),
        "rsa_rsatoolbox_verbatim": lambda x, y: rsa(x, y, verbatim=True),
        "mknn": lambda x, y: float(AlignmentMetrics.mutual_knn(normalised(x), normalised(y), topk=k)),
        "cknna": lambda x, y: float(AlignmentMetrics.cknna(normalised(x), normalised(y), topk=k, unbiased=True)),
        "dcor": lambda x, y: float(dcor.u_distance_correlation_sqr(x, y)),
    }
    a = [np.array(golden["layers_a"][n], dtype=np.float64) for n in golden["names_a"]]
    b = [np.array(golden["layers_b"][n], dtype=np.float64) for n in golden["names_b"]]
    values = {name: [[f(x, y) for y in b] for x in a] for name, f in measures.items()}
    commits = args.commits.split(",") if args.commits else [commit(args.svcca), commit(args.platonic), commit(args.netrep)]
    versions = {p: md.version(p) for p in ("numpy", "scipy", "scikit-learn", "torch", "rsatoolbox", "dcor")}
    versions.update({"google/svcca": commits[0], "minyoungg/platonic-rep": commits[1], "ahwillia/netrep": commits[2]})
    with open("reference.json", "w") as f:
        json.dump({"versions": versions, "names_a": golden["names_a"], "names_b": golden["names_b"],
                   "measures": values}, f, indent=1)


if __name__ == "__main__":
    main()
