"""Golden CKA values for Tests/CKATests, from an independent float64 numpy implementation of the
papers (Kornblith et al. 2019 for the full-batch estimators, Nguyen, Raghu & Kornblith 2021 for
minibatch CKA). Run with any Python that has numpy:

    python3 Tests/Fixtures/cka/make_fixtures.py

Writes model_a/*.npy, model_b/*.npy (float64 activations, one file per layer), goldens.json,
and float32 bad inputs for the command-line tests (short/, constant/, nan/, empty/).
The Swift tests read only these committed files.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


# --- kernels (Kornblith et al.'s definitions) ------------------------------------------------

def gram_linear(x):
    return x @ x.T


def gram_rbf(x, threshold=1.0):
    dot = x @ x.T
    sq_norms = np.diag(dot)
    sq_distances = -2 * dot + sq_norms[:, None] + sq_norms[None, :]
    sq_median = np.median(sq_distances)
    return np.exp(-sq_distances / (2 * threshold ** 2 * sq_median))


# --- HSIC estimators written as in the papers ------------------------------------------------

def hsic_biased(k, l):
    """tr(K H L H) / (n-1)^2 (Gretton et al. 2005)."""
    n = k.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    return np.trace(k @ h @ l @ h) / (n - 1) ** 2


def hsic_unbiased(k, l):
    """HSIC_1 of Song et al. 2012 as eq. 3 of Nguyen, Raghu & Kornblith 2021."""
    n = k.shape[0]
    kt = k.copy()
    lt = l.copy()
    np.fill_diagonal(kt, 0)
    np.fill_diagonal(lt, 0)
    ones = np.ones(n)
    value = (np.trace(kt @ lt)
             + (ones @ kt @ ones) * (ones @ lt @ ones) / ((n - 1) * (n - 2))
             - 2 / (n - 2) * (ones @ kt @ lt @ ones))
    return value / (n * (n - 3))


def kernel(x, spec):
    if spec == "linear":
        return gram_linear(x)
    threshold = float(spec.split(":")[1]) if ":" in spec else 1.0
    return gram_rbf(x, threshold)


def cka_full(xs, ys, spec, debiased):
    hsic = hsic_unbiased if debiased else hsic_biased
    ks = [kernel(x, spec) for x in xs]
    ls = [kernel(y, spec) for y in ys]
    return cka_from(ks, ls, hsic)


def cka_from(ks, ls, hsic):
    cross = np.array([[hsic(k, l) for l in ls] for k in ks])
    self_a = np.array([hsic(k, k) for k in ks])
    self_b = np.array([hsic(l, l) for l in ls])
    return cross / np.sqrt(np.outer(self_a, self_b)), cross, self_a, self_b


def cka_minibatch(xs, ys, spec, batch, keep_last):
    n = xs[0].shape[0]
    starts = list(range(0, n - batch + 1, batch))
    bounds = [(s, s + batch) for s in starts]
    if keep_last and n % batch >= 4:
        bounds.append((n - n % batch, n))
    cross = np.zeros((len(xs), len(ys)))
    self_a = np.zeros(len(xs))
    self_b = np.zeros(len(ys))
    for lo, hi in bounds:
        ks = [kernel(x[lo:hi], spec) for x in xs]
        ls = [kernel(y[lo:hi], spec) for y in ys]
        _, c, a, b = cka_from(ks, ls, hsic_unbiased)
        cross += c
        self_a += a
        self_b += b
    return cross / np.sqrt(np.outer(self_a, self_b)), cross, self_a, self_b, len(bounds)


# --- uncertainty of the minibatch estimate (Compare's CKAUncertainty) -----------------------

def batch_terms(xs, ys, spec, batch):
    """Per-batch unbiased HSIC terms: cross (B, a, b), self_a (B, a), self_b (B, b)."""
    n = xs[0].shape[0]
    cross, self_a, self_b = [], [], []
    for lo in range(0, n - batch + 1, batch):
        ks = [kernel(x[lo:lo + batch], spec) for x in xs]
        ls = [kernel(y[lo:lo + batch], spec) for y in ys]
        cross.append([[hsic_unbiased(k, l) for l in ls] for k in ks])
        self_a.append([hsic_unbiased(k, k) for k in ks])
        self_b.append([hsic_unbiased(l, l) for l in ls])
    return np.array(cross), np.array(self_a), np.array(self_b)


def ratio_of_sums(cross, self_a, self_b, weights):
    """theta = sum_b w_b h_xy / sqrt(sum_b w_b h_xx * sum_b w_b h_yy)."""
    w = np.asarray(weights, dtype=np.float64)
    c = np.tensordot(w, cross, axes=1)
    a = w @ self_a
    b = w @ self_b
    return c / np.sqrt(np.outer(a, b))


def jackknife_std_error(cross, self_a, self_b):
    """Delete-one-batch jackknife: sqrt((B-1)/B * sum_i (theta_-i - mean)^2)."""
    count = cross.shape[0]
    leave_out = np.array([ratio_of_sums(cross, self_a, self_b,
                                        [0.0 if t == i else 1.0 for t in range(count)])
                          for i in range(count)])
    return np.sqrt((count - 1) / count * ((leave_out - leave_out.mean(axis=0)) ** 2).sum(axis=0))


def fixed_resamples(count, draws):
    """Resample indices from a fixed formula (no generator), so Swift can replay them."""
    return [[(7 * r + 3 * k * k + r * k) % count for k in range(count)] for r in range(draws)]


def main():
    rng = np.random.default_rng(20261122)
    n = 40
    # Model A: a shared latent mapped through ReLU layers (with an offset in the last one);
    # model B: other maps of the same latent, so some pairs are similar and some not.
    z = rng.standard_normal((n, 6))
    a1 = np.maximum(z @ rng.standard_normal((6, 5)), 0)
    a2 = np.maximum(a1 @ rng.standard_normal((5, 12)) + 0.3 * rng.standard_normal((n, 12)), 0)
    a10 = np.tanh(a2 @ rng.standard_normal((12, 7))) + 3.0
    b1 = z @ rng.standard_normal((6, 9)) + 0.5 * rng.standard_normal((n, 9))
    b2 = np.maximum(b1 @ rng.standard_normal((9, 3)), 0)
    model_a = {"layer1": a1, "layer2": a2, "layer10": a10}
    model_b = {"block1": b1, "block2": b2}
    for folder, layers in (("model_a", model_a), ("model_b", model_b)):
        os.makedirs(os.path.join(HERE, folder), exist_ok=True)
        for name, x in layers.items():
            np.save(os.path.join(HERE, folder, name + ".npy"), x.astype(np.float64))
    # Bad inputs for the command-line tests: fewer examples, a constant layer, a NaN, no examples.
    bad = {
        "short": {"x": rng.standard_normal((30, 4))},
        "constant": {"flat": np.full((40, 3), 0.25), "varied": rng.standard_normal((40, 4))},
        "nan": {"x": rng.standard_normal((40, 2))},
        "empty": {"layer": np.zeros((0, 3))},
    }
    bad["nan"]["x"][17, 1] = np.nan
    for folder, layers in bad.items():
        os.makedirs(os.path.join(HERE, folder), exist_ok=True)
        for name, x in layers.items():
            np.save(os.path.join(HERE, folder, name + ".npy"), x.astype(np.float32))
    xs = list(model_a.values())
    ys = list(model_b.values())

    goldens = {"examples": n, "layers_a": list(model_a), "layers_b": list(model_b), "cases": []}

    def add(name, estimator, spec, batch, keep_last, result):
        cka, cross, sa, sb = result[:4]
        case = {"name": name, "estimator": estimator, "kernel": spec, "batch_size": batch,
                "keep_last": keep_last, "CKA": cka.tolist(), "hsic": cross.tolist(),
                "hsic_a": sa.tolist(), "hsic_b": sb.tolist()}
        if len(result) > 4:
            case["batches"] = result[4]
        goldens["cases"].append(case)

    add("minibatch linear, batch 16", "minibatch", "linear", 16, False,
        cka_minibatch(xs, ys, "linear", 16, False))
    add("minibatch linear, batch 16, last kept", "minibatch", "linear", 16, True,
        cka_minibatch(xs, ys, "linear", 16, True))
    add("minibatch linear, batch 40", "minibatch", "linear", 40, False,
        cka_minibatch(xs, ys, "linear", 40, False))
    add("full linear", "full", "linear", n, False, cka_full(xs, ys, "linear", False))
    add("debiased linear", "debiased", "linear", n, False, cka_full(xs, ys, "linear", True))
    add("full rbf", "full", "rbf:1.0", n, False, cka_full(xs, ys, "rbf:1.0", False))
    add("debiased rbf 0.5", "debiased", "rbf:0.5", n, False, cka_full(xs, ys, "rbf:0.5", True))
    add("minibatch rbf 2, batch 20", "minibatch", "rbf:2.0", 20, False,
        cka_minibatch(xs, ys, "rbf:2.0", 20, False))

    # Unbiased HSIC of two fixed small kernel matrices (for HSIC.unbiased / HSIC.biased).
    k = gram_linear(a2[:9])
    l = gram_rbf(b1[:9], 1.0)
    goldens["hsic_pair"] = {"k": k.tolist(), "l": l.tolist(),
                            "unbiased": hsic_unbiased(k, l), "biased": hsic_biased(k, l)}

    # Jackknife standard errors and bootstrap resamples with given indices (for BatchHSIC).
    goldens["statistics"] = []
    for batch in (10, 8):
        cross, sa, sb = batch_terms(xs, ys, "linear", batch)
        count = cross.shape[0]
        resamples = fixed_resamples(count, 41)
        draws = np.array([ratio_of_sums(cross, sa, sb, np.bincount(r, minlength=count))
                          for r in resamples])
        goldens["statistics"].append({
            "batch_size": batch, "batches": count, "batch_cross": cross.tolist(),
            "batch_hsic_a": sa.tolist(), "batch_hsic_b": sb.tolist(),
            "CKA": ratio_of_sums(cross, sa, sb, np.ones(count)).tolist(),
            "std_error": jackknife_std_error(cross, sa, sb).tolist(),
            "resamples": resamples, "resampled_CKA": draws.tolist(),
            "ci_low_90": np.quantile(draws, 0.05, axis=0).tolist(),
            "ci_high_90": np.quantile(draws, 0.95, axis=0).tolist(),
        })

    with open(os.path.join(HERE, "goldens.json"), "w") as f:
        json.dump(goldens, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
