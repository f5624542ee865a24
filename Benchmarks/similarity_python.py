#!/usr/bin/env python3
"""The Python packages' time for each measure of `compare similarity`, on the same files and
layer pairs as `compare bench similarity`, called as their users call them (one call per layer
pair: none of them shares per-layer work across pairs).

    python3 Benchmarks/similarity_python.py A B [--examples-quadratic 4000] \
        --svcca DIR --platonic DIR --netrep DIR [--threads N]

A and B: .safetensors or .npz activation files (one [examples, features...] tensor per layer,
flattened). The packages and sources are those of Tests/Fixtures/similarity/reference_packages.py
(google/svcca, platonic-rep, netrep checkouts; rsatoolbox, dcor, scikit-learn, torch installed).
Prints one line per measure: its total seconds over all pairs (with --pairs K, the time of the
first K pairs scaled to all of them, and said so).
"""
import argparse
import json
import os
import struct
import sys
import time
import types


def load(path):
    import numpy as np
    if path.endswith(".npz"):
        z = np.load(path)
        return [(k, z[k].reshape(z[k].shape[0], -1).astype(np.float64)) for k in z.files]
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        layers = []
        for key, info in header.items():
            if key == "__metadata__":
                continue
            dtype = {"F32": np.float32, "F64": np.float64, "F16": np.float16}[info["dtype"]]
            start, end = info["data_offsets"]
            f.seek(base + start)
            x = np.frombuffer(f.read(end - start), dtype=dtype).reshape(info["shape"])
            layers.append((key, x.reshape(x.shape[0], -1).astype(np.float64)))
    return layers


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--examples-quadratic", type=int, default=0)
    parser.add_argument("--svcca", required=True)
    parser.add_argument("--platonic", required=True)
    parser.add_argument("--netrep", required=True)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--knn", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=0,
                        help="time only the first K layer pairs and scale to all (the packages share no work "
                             "across pairs, so the time per pair is the same for every pair of equal shapes)")
    args = parser.parse_args()
    if args.threads:
        for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[v] = str(args.threads)
    import numpy as np
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    sys.path[:0] = [args.svcca, args.platonic, args.netrep]
    for name in ("torchaudio", "torchaudio.functional"):  # metrics.py's unused edit distance
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["torchaudio"].functional = sys.modules["torchaudio.functional"]
    import cca_core
    import pwcca
    import dcor
    import rsatoolbox
    import torch.nn.functional as F
    from metrics import AlignmentMetrics
    from netrep.metrics import LinearMetric
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score

    a, b = load(args.a), load(args.b)
    n = min(x.shape[0] for _, x in a + b)

    def svcca(x, y):
        def reduce(m):
            m = m - m.mean(0)
            u, s, vt = np.linalg.svd(m, full_matrices=False)
            keep = int(np.searchsorted(np.cumsum(s ** 2) / np.sum(s ** 2), 0.99) + 1)
            return m @ vt[:keep].T
        return np.mean(cca_core.get_cca_similarity(reduce(x).T, reduce(y).T, epsilon=1e-10, verbose=False)["cca_coef1"])

    def rsa(x, y):
        rdms = [rsatoolbox.rdm.calc_rdm(rsatoolbox.data.Dataset(m), method="correlation") for m in (x, y)]
        return rsatoolbox.rdm.compare(rdms[0], rdms[1], method="spearman")

    def procrustes(x, y):
        return LinearMetric(alpha=1.0, center_columns=True, score_method="angular").fit(x, y).score(x, y)

    def linreg(x, y):
        return r2_score(y, LinearRegression().fit(x, y).predict(x), multioutput="variance_weighted")

    def normalised(m):
        return F.normalize(torch.from_numpy(m), dim=-1)

    measures = [
        ("cka", "platonic-rep cka", lambda x, y: AlignmentMetrics.cka(torch.from_numpy(x), torch.from_numpy(y), kernel_metric="ip"), False),
        ("cca", "google/svcca cca_core", lambda x, y: np.mean(cca_core.get_cca_similarity(x.T, y.T, epsilon=1e-10, verbose=False)["cca_coef1"]), False),
        ("svcca", "numpy SVD + cca_core", svcca, False),
        ("pwcca", "google/svcca pwcca", lambda x, y: pwcca.compute_pwcca(x.T, y.T, epsilon=1e-10)[0] if x.shape[1] <= y.shape[1] else pwcca.compute_pwcca(y.T, x.T, epsilon=1e-10)[0], False),
        ("procrustes", "netrep LinearMetric", procrustes, False),
        ("linreg", "scikit-learn", linreg, False),
        ("rsa", "rsatoolbox", rsa, True),
        ("mknn", "platonic-rep mutual_knn", lambda x, y: AlignmentMetrics.mutual_knn(normalised(x), normalised(y), topk=args.knn), False),
        ("cknna", "platonic-rep cknna", lambda x, y: AlignmentMetrics.cknna(normalised(x), normalised(y), topk=args.knn, unbiased=True), False),
        ("dcor", "dcor", lambda x, y: dcor.u_distance_correlation_sqr(x, y), True),
    ]
    print(f"Python packages: {len(a)} x {len(b)} layers, {n} examples"
          f"{f' ({args.examples_quadratic} for rsa and dcor)' if args.examples_quadratic else ''}, threads {args.threads or 'default'}")
    pairs = [(x, y) for _, x in a for _, y in b]
    timed = pairs[: args.pairs] if args.pairs else pairs
    for name, package, f, quadratic in measures:
        m = args.examples_quadratic if quadratic and args.examples_quadratic else n
        start = time.perf_counter()
        try:
            for x, y in timed:
                f(x[:m], y[:m])
            elapsed = time.perf_counter() - start
            seconds = (f"{elapsed * len(pairs) / len(timed):.2f} s" + (
                f" ({elapsed / len(timed):.2f} s per pair × {len(pairs)} pairs)" if len(timed) < len(pairs) else ""))
        except Exception as error:  # a package failing on these layers is a result too
            seconds = f"failed: {type(error).__name__}: {str(error).splitlines()[0][:60]}"
        print(f"{name:11s} {package:26s} {m:6d} examples  {seconds}", flush=True)


if __name__ == "__main__":
    main()
