#!/usr/bin/env python3
"""Independent float64 check of `compare kernel` on the logs of make_zoo_logs.py.

Regenerates the logits from the generator's seeds (it does not read the archives, so it shares
no reader with Compare), streams over the files twice (statistics over runs, then the kernel rows
of a sample of test examples against every training example) and compares each sampled row's top
neighbours with those in a `compare kernel --save-neighbors` file. Exact ties aside, the indices
must agree; the kernel values to float32 accuracy.

Usage: check_zoo_kernel.py --files 40 --runs 500 [--test 10000 --train 50000]
                           --neighbors neighbors.npz [--sample 32] [--top 5]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_zoo_logs import logits_for  # noqa: E402


def log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--files", type=int, required=True)
    p.add_argument("--runs", type=int, required=True)
    p.add_argument("--test", type=int, default=10000)
    p.add_argument("--train", type=int, default=50000)
    p.add_argument("--neighbors", required=True)
    p.add_argument("--sample", type=int, default=32)
    p.add_argument("--top", type=int, default=5)
    a = p.parse_args()
    rows = np.sort(np.random.default_rng(0).choice(a.test, a.sample, replace=False))
    models = a.files * a.runs
    stats = {}
    for kind, n in (("logits", a.test), ("logits_train", a.train)):
        s = np.zeros((n, 10)); ss = np.zeros((n, 10))
        for f in range(a.files):
            z = log_softmax(logits_for(f, a.runs, kind, a.test, a.train).astype(np.float64))
            s += z.sum(0); ss += (z * z).sum(0)
        mean = s / models
        std = np.sqrt(np.maximum(ss - models * mean * mean, 0) / (models - 1))
        stats[kind] = (mean, std)
        print("statistics of", kind, "done", flush=True)
    kernel = np.zeros((len(rows), a.train))
    for f in range(a.files):
        zt = log_softmax(logits_for(f, a.runs, "logits", a.test, a.train).astype(np.float64))[:, rows]
        zr = log_softmax(logits_for(f, a.runs, "logits_train", a.test, a.train).astype(np.float64))
        for z, (mean, std), sel in ((zt, stats["logits"], rows), (zr, stats["logits_train"], slice(None))):
            m, sd = mean[sel], std[sel]
            z -= m
            np.divide(z, sd, out=z, where=sd > 0)
            z[:, sd == 0] = 0
        kernel += np.einsum("mic,mjc->ij", zt, zr)
    kernel /= models * 10
    saved = np.load(a.neighbors)
    first = int(saved["rows"][0]) if "rows" in saved else 0
    indices, values = saved["indices"], saved["values"]
    worst, mismatches = 0.0, 0
    for r, i in enumerate(rows):
        order = np.argsort(-kernel[r], kind="stable")[: a.top]
        got = indices[i - first, : a.top]
        if not np.array_equal(order, got):
            # Accept a swap only between values equal to float32 rounding.
            if not np.allclose(np.sort(kernel[r][order]), np.sort(kernel[r][got]), rtol=0, atol=2e-6):
                mismatches += 1
        worst = max(worst, float(np.abs(values[i - first, : a.top] - kernel[r][got]).max()))
    print(f"{len(rows)} sampled rows: top-{a.top} neighbours differ in {mismatches}; "
          f"largest kernel value difference {worst:.2e}")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
