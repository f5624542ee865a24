"""Checks the ECE of `golden.json` against torchmetrics itself (not needed to run the tests):

    python3 -m venv /tmp/venv-tm && /tmp/venv-tm/bin/pip install numpy torchmetrics
    /tmp/venv-tm/bin/python Tests/Fixtures/ensemble/check_torchmetrics.py

For each fixture, the ensemble's mean softmax and every run's softmax (float64, as the golden
generator computes them) go to `MulticlassCalibrationError(num_classes=C, n_bins=15, norm="l1")`;
the script prints the largest difference from the golden `ece` and `mean_model_ece`.
"""
import json
import os

import numpy as np
import torch
from torchmetrics.classification import MulticlassCalibrationError

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def softmax(x):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def ece(p, labels):
    metric = MulticlassCalibrationError(num_classes=p.shape[-1], n_bins=15, norm="l1")
    return float(metric(torch.from_numpy(p), torch.from_numpy(labels)))


def main():
    golden = json.load(open(os.path.join(HERE, "golden.json")))
    bundled = np.load(os.path.join(ROOT, "Examples", "data", "ensemble.npz"))
    cases = {
        "a": (np.load(os.path.join(HERE, "a.npy")), np.load(os.path.join(HERE, "labels.npy"))),
        "b": (np.load(os.path.join(HERE, "b.npy")), np.load(os.path.join(HERE, "labels.npy"))),
        "undefined": (np.load(os.path.join(HERE, "undefined.npy")), np.load(os.path.join(HERE, "undefined_labels.npy"))),
        "bundled": (bundled["logits"], bundled["labels"]),
    }
    for key, (logits, labels) in cases.items():
        p = softmax(logits)
        ensemble = ece(p.mean(0), labels)
        runs = np.mean([ece(p[m], labels) for m in range(len(p))])
        print(f"{key:10s} ece {ensemble:.12f} (golden {golden[key]['ece']:.12f}, diff {abs(ensemble - golden[key]['ece']):.1e})"
              f"  mean_model_ece {runs:.12f} (diff {abs(runs - golden[key]['mean_model_ece']):.1e})")
    print("torch", torch.__version__)


if __name__ == "__main__":
    main()
