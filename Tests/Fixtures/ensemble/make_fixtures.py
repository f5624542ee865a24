"""Golden values for `compare ensemble`, from an independent float64 numpy implementation.

For run m, example i with label y_i and logits L[m, i, :], p = softmax(L) in float64:

    correct[m, i]               = argmax_c L[m, i, c] == y_i                (first of equal maxima)
    single_model_accuracy       = mean over runs of mean_i correct[m, i]
    single_model_accuracy_std   = std over runs, ddof = 1
    single_model_accuracy_ci    = mean -+ 1.96 std / sqrt(runs)
    variance analysis           = eval_kernel.py (KellerJordan/cifar10-zoo, kernel/) as fractions:
        pp = correct.mean(0); V = correct.sum(1).var(ddof=1); P = (pp (1 - pp)).sum()
        empirical_std = sqrt(V) / n; independent_std = sqrt(P) / n
        distribution_std = sqrt(n / (n - 1) (V - P)) / n, None when V < P (the script: nan)
    ensemble_accuracy           = argmax of mean logits, the mean rounded to the storage dtype
    ensemble_accuracy_probs     = argmax of mean softmax
    ece                         = torchmetrics MulticlassCalibrationError(n_bins=15, norm="l1"),
                                  transcribed: bin = searchsorted(linspace(0, 1, 16), conf, "right") - 1
    nll, brier                  = mean -log p_y, mean sum_c (p_c - [c = y])^2
    mean_model_*                = the same of each run's softmax, averaged over runs
    disagreement                = mean over unordered pairs of runs of the fraction of examples
                                  whose argmax differs, computed over the pairs directly
    per example                 = p_correct, margin (L_y - max_{c != y} L_c) mean and std (ddof 1),
                                  entropy of the mean softmax
    comparison                  = churn of the two ensembles' (mean-logit) predictions; single-model
                                  accuracy difference and SE sqrt(sA^2/MA + sB^2/MB); per example
                                  dp = pA - pB, pooled two-proportion z-test p = erfc(|z| / sqrt 2)
                                  (1 when the pooled proportion is 0 or 1)
    sizes                       = first n runs (one resample), and SplitMix64-shuffled orders
                                  (a Python transcription of CompareCore's SplitMix64 and Lemire's
                                  bounded draw) for several resamples

Fixtures:
  a.npy [8, 40, 4] float32, a_tta.npy [8, 40, 4], b.npy [6, 40, 4], labels.npy [40] int64:
      runs share a per-example pattern plus run noise; B is A's recipe with more noise.
  undefined.npy [4, 6, 3] float32, undefined_labels.npy: every run gets exactly 3 of 6 right,
      different ones, so V = 0 < sum p(1 - p): distribution_std is undefined.
  a_f16.npy: a.npy as float16 (the ensemble mean is rounded to float16 before the argmax).
Also the bundled ensemble (Examples/data/ensemble.npz): the variance lines by eval_kernel.py's
own expressions, in torch's float32 where the script computes in float32 (correct.float()).

Run: python3 Tests/Fixtures/ensemble/make_fixtures.py  (writes next to itself)
"""
import json
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def index_below(self, bound):
        product = self.next() * bound
        low = product & MASK
        if low < bound:
            threshold = ((1 << 64) - bound) % bound
            while low < threshold:
                product = self.next() * bound
                low = product & MASK
        return product >> 64

    def shuffle(self, values):
        i = len(values) - 1
        while i > 0:
            j = self.index_below(i + 1)
            values[i], values[j] = values[j], values[i]
            i -= 1


def softmax(x):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def calibration(p, labels):
    conf = p.max(-1)
    pred = p.argmax(-1)
    acc = (pred == labels).astype(np.float64)
    boundaries = np.linspace(0, 1, 16)
    idx = np.searchsorted(boundaries, conf, side="right") - 1
    count = np.bincount(idx, minlength=16).astype(np.float64)
    conf_sum = np.bincount(idx, weights=conf, minlength=16)
    acc_sum = np.bincount(idx, weights=acc, minlength=16)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf_bin = np.nan_to_num(conf_sum / count)
        acc_bin = np.nan_to_num(acc_sum / count)
    ece = float((np.abs(acc_bin - conf_bin) * count / count.sum()).sum())
    nll = float(-np.log(p[np.arange(len(labels)), labels]).mean())
    onehot = np.eye(p.shape[-1])[labels]
    brier = float(((p - onehot) ** 2).sum(-1).mean())
    return ece, nll, brier


def summary(logits, labels, round_to=None):
    M, n, C = logits.shape
    x = logits.astype(np.float64)
    pred = logits.argmax(-1)
    correct = (pred == labels[None]).astype(np.float64)
    acc = correct.mean(1)
    mean, std = acc.mean(), acc.std(ddof=1)
    pp = correct.mean(0)
    V = correct.sum(1).var(ddof=1)
    P = (pp * (1 - pp)).sum()
    bracket = n / (n - 1) * (V - P)
    mean_logits = x.mean(0)
    if round_to is not None:
        mean_logits = mean_logits.astype(round_to).astype(np.float64)
    ens_pred = mean_logits.argmax(-1)
    p = softmax(x)
    pbar = p.mean(0)
    ece, nll, brier = calibration(pbar, labels)
    per_run = np.array([calibration(p[m], labels) for m in range(M)])
    disagreements = [(pred[a] != pred[b]).mean() for a in range(M) for b in range(a + 1, M)]
    idx = np.arange(n)
    true_logit = x[:, idx, labels]
    others = x.copy()
    others[:, idx, labels] = -np.inf
    margin = true_logit - others.max(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(pbar > 0, pbar * np.log(pbar), 0).sum(-1)
    return {
        "models": M, "examples": n, "classes": C,
        "single_model_accuracy": float(mean),
        "single_model_accuracy_std": float(std),
        "single_model_accuracy_ci": [float(mean - 1.96 * std / math.sqrt(M)), float(mean + 1.96 * std / math.sqrt(M))],
        "empirical_std": float(math.sqrt(V) / n),
        "independent_std": float(math.sqrt(P) / n),
        "distribution_std": float(math.sqrt(bracket) / n) if bracket >= 0 else None,
        "ensemble_accuracy": float((ens_pred == labels).mean()),
        "ensemble_accuracy_probs": float((pbar.argmax(-1) == labels).mean()),
        "ece": ece, "nll": nll, "brier": brier,
        "mean_model_ece": float(per_run[:, 0].mean()),
        "mean_model_nll": float(per_run[:, 1].mean()),
        "mean_model_brier": float(per_run[:, 2].mean()),
        "disagreement": float(np.mean(disagreements)),
        "p_correct": pp.tolist(),
        "margin_mean": margin.mean(0).tolist(),
        "margin_std": margin.std(0, ddof=1).tolist(),
        "entropy": entropy.tolist(),
        "ensemble_prediction": ens_pred.tolist(),
        "per_run_accuracy": acc.tolist(),
    }


def comparison(a, b, labels):
    sa, sb = summary(a, labels), summary(b, labels)
    ka = np.array(sa["p_correct"]) * a.shape[0]
    kb = np.array(sb["p_correct"]) * b.shape[0]
    ma, mb = a.shape[0], b.shape[0]
    diff = ka / ma - kb / mb
    pooled = (ka + kb) / (ma + mb)
    var = pooled * (1 - pooled) * (1 / ma + 1 / mb)
    pvalue = [math.erfc(abs(d) / math.sqrt(v) / math.sqrt(2)) if v > 0 else 1.0 for d, v in zip(diff, var)]
    return {
        "churn": float((np.array(sa["ensemble_prediction"]) != np.array(sb["ensemble_prediction"])).mean()),
        "single_model_accuracy_difference": sa["single_model_accuracy"] - sb["single_model_accuracy"],
        "single_model_accuracy_difference_se": math.sqrt(sa["single_model_accuracy_std"] ** 2 / ma
                                                         + sb["single_model_accuracy_std"] ** 2 / mb),
        "ensemble_accuracy_difference": sa["ensemble_accuracy"] - sb["ensemble_accuracy"],
        "p_correct_difference": diff.tolist(),
        "p_value": pvalue,
    }


def sizes(logits, labels, sizes_list, resamples, seed):
    M = logits.shape[0]
    rng = SplitMix64(seed)
    orders = []
    for _ in range(resamples):
        order = list(range(M))
        if resamples > 1:
            rng.shuffle(order)
        orders.append(order)
    rows = []
    for s in sizes_list:
        single, ens = [], []
        for order in orders:
            sub = logits[order[:s]]
            r = summary(sub, labels) if s >= 2 else None
            correct = (sub.argmax(-1) == labels[None]).mean()
            single.append(float(correct))
            mean_logits = sub.astype(np.float64).mean(0)
            ens.append(float((mean_logits.argmax(-1) == labels).mean()))
        rows.append({"models": s, "single_model_accuracy": single, "ensemble_accuracy": ens})
    return {"orders": orders, "rows": rows}


def eval_kernel_variance(logits, labels):
    """The script's lines, in its own order of operations: correct is float32 as in torch."""
    pred = logits.argmax(-1)
    correct = (pred == labels[None]).astype(np.float32)
    pp = correct.mean(0)
    true_var = correct.sum(1).var(ddof=1)
    pred_var = (pp * (1 - pp)).sum()
    n = logits.shape[1]
    # The script prints sqrt(var) / 100 for n = 10,000: percent; here as fractions, sqrt(var) / n.
    return {
        "empirical_std": float(np.sqrt(true_var) / n),
        "independent_std": float(np.sqrt(pred_var) / n),
        "distribution_std": float(np.sqrt((n / (n - 1)) * (true_var - pred_var)) / n),
    }


def main():
    rng = np.random.default_rng(20261129)
    M, n, C = 8, 40, 4
    base = rng.normal(size=(n, C)) * 1.5
    labels = np.where(rng.random(n) < 0.75, base.argmax(1), rng.integers(0, C, size=n)).astype(np.int64)
    a = (base[None] + rng.normal(size=(M, n, C))).astype(np.float32)
    a_tta = (a + 0.3 * rng.normal(size=(M, n, C))).astype(np.float32)
    b = (base[None] + 1.6 * rng.normal(size=(6, n, C))).astype(np.float32)
    a[:, 5] = a[0, 5]          # an example every run treats alike: p_correct 0 or 1, margin_std 0
    np.save(os.path.join(HERE, "a.npy"), a)
    np.save(os.path.join(HERE, "a_f16.npy"), a.astype(np.float16))
    np.save(os.path.join(HERE, "a_tta.npy"), a_tta)
    np.save(os.path.join(HERE, "b.npy"), b)
    np.save(os.path.join(HERE, "labels.npy"), labels)

    # Every run gets exactly 3 of the 6 examples right, each run different ones: V = 0.
    und = np.zeros((4, 6, 3), np.float32)
    und_labels = np.array([0, 1, 2, 0, 1, 2], np.int64)
    right_sets = [[0, 1, 2], [3, 4, 5], [0, 2, 4], [1, 3, 5]]
    for m, right in enumerate(right_sets):
        for i in range(6):
            cls = und_labels[i] if i in right else (und_labels[i] + 1 + m % 2) % 3
            und[m, i] = 0.1 * (m + 1) * np.arange(3)
            und[m, i, cls] = 2.0 + 0.25 * m + 0.1 * i
    np.save(os.path.join(HERE, "undefined.npy"), und)
    np.save(os.path.join(HERE, "undefined_labels.npy"), und_labels)

    bundled = np.load(os.path.join(ROOT, "Examples", "data", "ensemble.npz"))
    golden = {
        "a": summary(a, labels),
        "a_f16": summary(a.astype(np.float16), labels, round_to=np.float16),
        "a_tta": summary(a_tta, labels),
        "b": summary(b, labels),
        "comparison": comparison(a, b, labels),
        "undefined": summary(und, und_labels),
        "sizes_first": sizes(a, labels, [2, 4, 8], 1, 0),
        "sizes_resampled": sizes(a, labels, [2, 5, 8], 3, 7),
        "bundled": summary(bundled["logits"], bundled["labels"], round_to=np.float16),
        "bundled_eval_kernel": eval_kernel_variance(bundled["logits"], bundled["labels"]),
    }
    for key in ("bundled",):
        for big in ("p_correct", "margin_mean", "margin_std", "entropy", "ensemble_prediction"):
            golden[key][big] = golden[key][big][:20]
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print("undefined: V < P:", golden["undefined"]["distribution_std"] is None)
    print("bundled:", {k: golden["bundled"][k] for k in ("single_model_accuracy", "empirical_std", "independent_std",
                                                          "distribution_std", "ensemble_accuracy", "ece", "disagreement")})
    print("eval_kernel:", golden["bundled_eval_kernel"])


if __name__ == "__main__":
    main()
