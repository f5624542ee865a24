#!/usr/bin/env python3
"""Build the example data in Examples/data/ from scikit-learn's bundled digits data set.

Run from the repository root (no network needed):

    python3 Examples/make_examples.py

Needs numpy, torch, scikit-learn and safetensors. Everything is seeded and torch runs on one CPU
thread, so a rerun on the same library versions gives the same numbers; the .npy, .npz and
.safetensors files are byte-identical across reruns (the .npz members carry a fixed timestamp).

What it writes is described in Examples/data/README.md, which this script also writes.
"""

import copy
import io
import os
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.numpy import load_file, save_file
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")

SPLIT_SEED = 0
N_TEST = 450
N_MODELS = 64
ENSEMBLE_HIDDEN = 128
ENSEMBLE_EPOCHS = 15
ENSEMBLE_LR = 0.05
ENSEMBLE_BATCH = 32
NET_EPOCHS = 30
NET_LR = 0.05
NET_BATCH = 32
MLP_SEED = 1001
CNN_SEED = 2002
KNN_K = 3


# ---------------------------------------------------------------------------------------------
# Data


def load_split():
    """Digits as float32 in [0, 1], stratified 1347 / 450 split with a fixed seed."""
    digits = load_digits()
    pixels = digits.images.astype(np.float64)  # [1797, 8, 8], values 0..16
    labels = digits.target.astype(np.int64)
    index = np.arange(len(labels))
    index_train, index_test = train_test_split(
        index, test_size=N_TEST, random_state=SPLIT_SEED, stratify=labels
    )
    return pixels, labels, np.sort(index_train), np.sort(index_test)


def to_input(pixels):
    return torch.from_numpy((pixels / 16.0).astype(np.float32))


# ---------------------------------------------------------------------------------------------
# Models


class EnsembleMLP(nn.Module):
    """64-128-10 MLP with ReLU; one member of the ensemble."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, ENSEMBLE_HIDDEN)
        self.fc2 = nn.Linear(ENSEMBLE_HIDDEN, 10)

    def features(self, x):
        return F.relu(self.fc1(x.reshape(len(x), -1)))

    def forward(self, x):
        return self.fc2(self.features(x))


class MLP(nn.Module):
    """Model A: 64-256-128-64-10 MLP; records fc1, fc2, fc3 (post-ReLU) and logits."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 64)
        self.fc4 = nn.Linear(64, 10)

    def layers(self, x):
        h1 = F.relu(self.fc1(x.reshape(len(x), -1)))
        h2 = F.relu(self.fc2(h1))
        h3 = F.relu(self.fc3(h2))
        logits = self.fc4(h3)
        return {"fc1": h1, "fc2": h2, "fc3": h3, "logits": logits}

    def forward(self, x):
        return self.layers(x)["logits"]


class CNN(nn.Module):
    """Model B: three 3x3 convolutions (16, 32, 64 channels), then 256-64-10.

    Records conv1 (post-ReLU, 2x2 max-pooled: 16x4x4), conv2 (post-ReLU, pooled: 32x2x2),
    conv3 (post-ReLU: 64x2x2), fc1 (post-ReLU: 64) and logits (10).
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 10)

    def layers(self, x):
        x = x.reshape(len(x), 1, 8, 8)
        c1 = F.max_pool2d(F.relu(self.conv1(x)), 2)  # [n, 16, 4, 4]
        c2 = F.max_pool2d(F.relu(self.conv2(c1)), 2)  # [n, 32, 2, 2]
        c3 = F.relu(self.conv3(c2))  # [n, 64, 2, 2]
        f1 = F.relu(self.fc1(c3.flatten(1)))
        logits = self.fc2(f1)
        return {"conv1": c1, "conv2": c2, "conv3": c3, "fc1": f1, "logits": logits}

    def forward(self, x):
        return self.layers(x)["logits"]


def train(model, x, y, *, seed, epochs, lr, batch):
    """Plain minibatch SGD with momentum 0.9; `seed` fixes the data order."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y), batch):
            idx = order[start : start + batch]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
    model.eval()
    return model


def accuracy(logits, labels):
    return float((np.asarray(logits).argmax(-1) == np.asarray(labels)).mean())


# ---------------------------------------------------------------------------------------------
# Writers


FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def savez_compressed_deterministic(path, arrays):
    """Like np.savez_compressed, but with fixed member timestamps so reruns give the same bytes."""
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buffer.getvalue())
    os.replace(tmp, path)


def write_bytes(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def torch_save(obj, path):
    """torch.save through a buffer: the archive's inner folder is `archive`, whatever the file name."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(path, buffer.getvalue())


def safetensors_save(tensors, path):
    """safetensors.numpy.save_file, then readable by all (it creates files with mode 0600)."""
    save_file(tensors, path)
    os.chmod(path, 0o644)


def state_numpy(model):
    return {k: v.detach().cpu().numpy().astype(np.float32).copy() for k, v in model.state_dict().items()}


def state_torch(model):
    """A copy of model.state_dict() as it is (an OrderedDict with its `_metadata`), as users save it."""
    return copy.deepcopy(model.state_dict())


# ---------------------------------------------------------------------------------------------
# Reference numbers (float64 numpy, the published kernel recipe)


def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def normalise(logits):
    """log-softmax over classes, then standardise every (example, class) across models (std N-1)."""
    z = log_softmax(logits)
    mean = z.mean(axis=0, keepdims=True)
    std = z.std(axis=0, ddof=1, keepdims=True)
    return (z - mean) / std


def mode_smallest(values):
    """Most frequent value; the smallest one among ties (torch.mode semantics)."""
    counts = np.bincount(values)
    return int(np.flatnonzero(counts == counts.max())[0])


def reference_numbers(logits, logits_train, labels, labels_train, features=None, features_train=None, k=KNN_K):
    """Accuracies a user of Compare sees on this data, computed independently in float64.

    logits: [models, n_test, classes]; logits_train: [models, n_train, classes] (as stored, float16
    upcast to float64). kernel[i, j] = mean over classes of mean over models of Z_test·Z_train.
    Prediction of test i: mode of the labels of its top-k train examples by kernel value.
    """
    logits = np.asarray(logits, dtype=np.float64)
    logits_train = np.asarray(logits_train, dtype=np.float64)
    models, n_test, classes = logits.shape
    z_test = normalise(logits)
    z_train = normalise(logits_train)
    kernel = np.einsum("mic,mjc->ij", z_test, z_train) / (models * classes)

    # Top-k: largest values, ties broken by lower train index (stable sort of the negated kernel).
    top = np.argsort(-kernel, axis=1, kind="stable")[:, :k]
    predictions = np.array([mode_smallest(labels_train[row]) for row in top])

    # Cross-check against torch.topk / torch.mode on the same float64 kernel.
    _, top_torch = torch.topk(torch.from_numpy(kernel), k, dim=1)
    pred_torch = torch.mode(torch.from_numpy(labels_train)[top_torch], dim=1).values.numpy()
    ties = int((np.sort(kernel, axis=1)[:, ::-1][:, k - 1] == np.sort(kernel, axis=1)[:, ::-1][:, k]).sum())

    # torch.topk does not promise an order among equal values; record what it does here.
    tie_probe = torch.tensor([1.0, 2.0, 2.0, 2.0, 0.0, 2.0], dtype=torch.float64)
    tie_order = torch.topk(tie_probe, 3).indices.tolist()

    single = [accuracy(logits[m], labels) for m in range(models)]
    result = {
        "models": models,
        "n_test": n_test,
        "n_train": logits_train.shape[1],
        "single_mean": float(np.mean(single)),
        "single_min": float(np.min(single)),
        "single_max": float(np.max(single)),
        "ensemble": accuracy(logits.mean(axis=0), labels),
        "kernel_knn": float((predictions == labels).mean()),
        "kernel_knn_torch": float((pred_torch == labels).mean()),
        "kernel_knn_agree": int((pred_torch == predictions).sum()),
        "kernel_ties_at_k": ties,
        "topk_tie_order": tie_order,
    }
    if features is not None:
        a = np.asarray(features, dtype=np.float64)
        b = np.asarray(features_train, dtype=np.float64)
        a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-300)
        b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-300)
        cos = a @ b.T
        top = np.argsort(-cos, axis=1, kind="stable")[:, :k]
        pred = np.array([mode_smallest(labels_train[row]) for row in top])
        result["cosine_knn"] = float((pred == labels).mean())
    return result


# ---------------------------------------------------------------------------------------------


def human_size(n):
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT, exist_ok=True)

    pixels, labels_all, index_train, index_test = load_split()
    x_train, x_test = to_input(pixels[index_train]), to_input(pixels[index_test])
    y_train = torch.from_numpy(labels_all[index_train])
    y_test = torch.from_numpy(labels_all[index_test])
    images = np.rint(pixels * 255.0 / 16.0).astype(np.uint8)

    # (a) Ensemble --------------------------------------------------------------------------
    logits, logits_train = [], []
    features = features_train = None
    for m in range(N_MODELS):
        torch.manual_seed(10_000 + m)  # initial weights
        model = train(EnsembleMLP(), x_train, y_train, seed=20_000 + m,
                      epochs=ENSEMBLE_EPOCHS, lr=ENSEMBLE_LR, batch=ENSEMBLE_BATCH)
        with torch.no_grad():
            logits.append(model(x_test).numpy())
            logits_train.append(model(x_train).numpy())
            if m == 0:
                features = model.features(x_test).numpy().astype(np.float32)
                features_train = model.features(x_train).numpy().astype(np.float32)
        print(f"ensemble model {m:2d}: test accuracy {accuracy(logits[-1], y_test.numpy()):.4f}", file=sys.stderr)
    logits16 = np.stack(logits).astype(np.float16)
    logits_train16 = np.stack(logits_train).astype(np.float16)
    labels = y_test.numpy().astype(np.int64)
    labels_train = y_train.numpy().astype(np.int64)

    torch_save(
        {
            "logits": torch.from_numpy(logits16),
            "logits_train": torch.from_numpy(logits_train16),
            "labels": torch.from_numpy(labels),
            "labels_train": torch.from_numpy(labels_train),
        },
        os.path.join(OUT, "ensemble.pt"),
    )
    savez_compressed_deterministic(
        os.path.join(OUT, "ensemble.npz"),
        {
            "logits": logits16,
            "logits_train": logits_train16,
            "labels": labels,
            "labels_train": labels_train,
            "images": images[index_test],
            "images_train": images[index_train],
            "features": features,
            "features_train": features_train,
            "index": index_test.astype(np.int64),
            "index_train": index_train.astype(np.int64),
        },
    )
    np.save(os.path.join(OUT, "labels_test.npy"), labels)
    np.save(os.path.join(OUT, "labels_train.npy"), labels_train)

    # (b, c) Two different networks -------------------------------------------------------
    torch.manual_seed(MLP_SEED)
    mlp = MLP()
    mlp_init = state_numpy(mlp)
    train(mlp, x_train, y_train, seed=MLP_SEED + 1, epochs=NET_EPOCHS, lr=NET_LR, batch=NET_BATCH)

    torch.manual_seed(CNN_SEED)
    cnn = CNN()
    cnn_init = state_torch(cnn)
    train(cnn, x_train, y_train, seed=CNN_SEED + 1, epochs=NET_EPOCHS, lr=NET_LR, batch=NET_BATCH)

    with torch.no_grad():
        acts_mlp = {k: v.flatten(1).numpy().astype(np.float32) for k, v in mlp.layers(x_test).items()}
        acts_cnn = {k: v.flatten(1).numpy().astype(np.float32) for k, v in cnn.layers(x_test).items()}
    acc_mlp = accuracy(acts_mlp["logits"], labels)
    acc_cnn = accuracy(acts_cnn["logits"], labels)
    print(f"model A (MLP) test accuracy {acc_mlp:.4f}; model B (CNN) test accuracy {acc_cnn:.4f}", file=sys.stderr)

    safetensors_save(acts_mlp, os.path.join(OUT, "activations_mlp.safetensors"))
    savez_compressed_deterministic(os.path.join(OUT, "activations_cnn.npz"), acts_cnn)
    torch_save({k: torch.from_numpy(v.astype(np.float16)) for k, v in acts_cnn.items()},
               os.path.join(OUT, "activations_cnn.pt"))
    safetensors_save(state_numpy(mlp), os.path.join(OUT, "weights_mlp.safetensors"))
    safetensors_save(mlp_init, os.path.join(OUT, "weights_mlp_init.safetensors"))
    torch_save(state_torch(cnn), os.path.join(OUT, "weights_cnn.pt"))
    torch_save(cnn_init, os.path.join(OUT, "weights_cnn_init.pt"))

    # Reload everything the way a user would and compute the reference numbers from the files.
    check = verify()
    ref = reference_numbers(check["logits"], check["logits_train"], check["labels"], check["labels_train"],
                            check["features"], check["features_train"])
    ref["mlp"] = acc_mlp
    ref["cnn"] = acc_cnn
    for key, value in ref.items():
        print(f"{key}: {value}")
    write_readme(ref)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"total size of {OUT}: {human_size(total)}")


def verify():
    """Load every file with the readers a user has and check keys, shapes and dtypes."""
    pt = torch.load(os.path.join(OUT, "ensemble.pt"), weights_only=True)
    npz = dict(np.load(os.path.join(OUT, "ensemble.npz"), allow_pickle=False))
    for key in ("logits", "logits_train", "labels", "labels_train"):
        assert np.array_equal(pt[key].numpy(), npz[key]), key
    assert npz["logits"].dtype == np.float16 and npz["logits"].shape == (N_MODELS, N_TEST, 10)
    assert npz["labels"].dtype == np.int64
    assert np.array_equal(np.load(os.path.join(OUT, "labels_test.npy")), npz["labels"])
    assert np.array_equal(np.load(os.path.join(OUT, "labels_train.npy")), npz["labels_train"])
    a = load_file(os.path.join(OUT, "activations_mlp.safetensors"))
    b = dict(np.load(os.path.join(OUT, "activations_cnn.npz"), allow_pickle=False))
    bt = torch.load(os.path.join(OUT, "activations_cnn.pt"), weights_only=True)
    assert all(v.shape[0] == N_TEST for v in list(a.values()) + list(b.values()))
    assert all(np.array_equal(bt[k].numpy(), b[k].astype(np.float16)) for k in b)
    for name in ("weights_mlp.safetensors", "weights_mlp_init.safetensors"):
        w = load_file(os.path.join(OUT, name))
        assert w["fc1.weight"].shape == (256, 64) and w["fc2.weight"].shape == (128, 256), name
    for name in ("weights_cnn.pt", "weights_cnn_init.pt"):
        w = torch.load(os.path.join(OUT, name), weights_only=True)
        assert tuple(w["conv2.weight"].shape) == (32, 16, 3, 3), name
    w0 = load_file(os.path.join(OUT, "weights_mlp_init.safetensors"))
    w1 = load_file(os.path.join(OUT, "weights_mlp.safetensors"))
    assert not np.array_equal(w0["fc1.weight"], w1["fc1.weight"])
    return npz


def describe(path):
    """Lines `key | dtype | shape` for a data file, read back from disk."""
    full = os.path.join(OUT, path)
    if path.endswith(".safetensors"):
        items = load_file(full).items()
    elif path.endswith(".npz"):
        items = np.load(full, allow_pickle=False).items()
    elif path.endswith(".npy"):
        items = [("(array)", np.load(full))]
    else:
        items = [(k, v.numpy()) for k, v in torch.load(full, weights_only=True).items()]
    return [f"| `{k}` | {v.dtype} | {list(v.shape)} |" for k, v in items]


README_FILES = [
    ("ensemble.pt", "Ensemble logits, `torch.save` of a dict (the keys of a published CIFAR-10 ensemble log)."),
    ("ensemble.npz", "The same four arrays, plus the images, model 0's penultimate features "
                     "(a cosine-similarity baseline) and the example indices into `load_digits()`."),
    ("labels_test.npy", "Test labels alone."),
    ("labels_train.npy", "Train labels alone."),
    ("activations_mlp.safetensors", "Model A (MLP) activations on the 450 test digits, one matrix per layer."),
    ("activations_cnn.npz", "Model B (CNN) activations on the same 450 test digits, same order."),
    ("activations_cnn.pt", "The same CNN activations as float16, `torch.save` of a dict."),
    ("weights_mlp.safetensors", "Model A's trained weights (state_dict names)."),
    ("weights_mlp_init.safetensors", "Model A's initial weights."),
    ("weights_cnn.pt", "Model B's trained weights, `torch.save(model.state_dict())` (an `OrderedDict`, "
                       "as users save it; conv weights are out × in × kh × kw)."),
    ("weights_cnn_init.pt", "Model B's initial weights."),
]


def write_readme(ref):
    sizes = {name: os.path.getsize(os.path.join(OUT, name)) for name, _ in README_FILES}
    total = sum(sizes.values())
    lines = [
        "# Example data: scikit-learn's digits",
        "",
        "Real, small data for trying every Compare command. Made by `Examples/make_examples.py` "
        "from the digits data set bundled with scikit-learn (`sklearn.datasets.load_digits`: 1797 "
        "8×8 grey images of the digits 0–9, pixel values 0–16). No download is involved.",
        "",
        "Regenerate (numpy, torch, scikit-learn, safetensors; about a minute on one CPU thread):",
        "",
        "```sh",
        "python3 Examples/make_examples.py",
        "```",
        "",
        "The script is seeded and runs torch on one thread; every file comes out byte-identical on a "
        "rerun with the same library versions on the same machine.",
        "",
        "## How it was made",
        "",
        f"- **Split.** Stratified `train_test_split(random_state={SPLIT_SEED})`: "
        f"{ref['n_train']} train, {ref['n_test']} test digits. Rows of every file are in increasing "
        "order of the original index into `load_digits()` (`index`, `index_train` in `ensemble.npz`). "
        "Inputs to the networks are pixels / 16.",
        f"- **Ensemble.** {N_MODELS} MLPs 64–{ENSEMBLE_HIDDEN}–10 (ReLU), each with its own seed for "
        f"the initial weights and for the data order; SGD, momentum 0.9, learning rate {ENSEMBLE_LR}, "
        f"batch {ENSEMBLE_BATCH}, {ENSEMBLE_EPOCHS} epochs. Logits stored as float16.",
        f"- **Model A (MLP).** 64–256–128–64–10, ReLU; SGD as above, {NET_EPOCHS} epochs. "
        f"Test accuracy {ref['mlp']:.4f}.",
        "- **Model B (CNN).** conv 1→16, 16→32, 32→64 (3×3, padding 1, ReLU; 2×2 max-pool after "
        f"the first two), then fc 256→64→10; SGD as above, {NET_EPOCHS} epochs. "
        f"Test accuracy {ref['cnn']:.4f}.",
        "- **Activations** are recorded on the 450 test digits (held out from both networks' "
        "training), in the order of `labels_test.npy`, each layer flattened to "
        "`examples × features` (post-ReLU for hidden layers, raw for logits; CNN maps flattened "
        "channel-major, as `tensor.flatten(1)`).",
        "",
        "## Files",
        "",
    ]
    for name, text in README_FILES:
        lines += [f"### `{name}` ({human_size(sizes[name])})", "", text, "", "| key | dtype | shape |",
                  "|---|---|---|"] + describe(name) + [""]
    lines += [
        f"Total: {human_size(total)}.",
        "",
        "## Reference numbers",
        "",
        "Computed by `reference_numbers()` in the script with numpy in float64 from the stored "
        "(float16) logits, by the published kernel recipe: log-softmax over classes; standardise "
        "every (example, class) across models (mean, standard deviation with N−1); "
        "kernel[i, j] = mean over classes of mean over models of Z_test[m, i, c]·Z_train[m, j, c]; "
        f"prediction = most frequent label among the top-{KNN_K} train examples (smallest label on a "
        "tie in counts; equal kernel values ordered by lower train index).",
        "",
        "| quantity | test accuracy |",
        "|---|---|",
        f"| single model, mean of {ref['models']} (min – max) | {ref['single_mean']:.4f} "
        f"({ref['single_min']:.4f} – {ref['single_max']:.4f}) |",
        f"| ensemble, argmax of mean logits | {ref['ensemble']:.4f} |",
        f"| kernel k-NN, k = {KNN_K} | {ref['kernel_knn']:.4f} |",
        f"| cosine k-NN on model 0's features, k = {KNN_K} | {ref['cosine_knn']:.4f} |",
        "",
        f"torch.topk/torch.mode on the same float64 kernel agree on {ref['kernel_knn_agree']} of "
        f"{ref['n_test']} predictions; rows whose kernel values tie at rank {KNN_K}: "
        f"{ref['kernel_ties_at_k']}, so the tie rule does not matter on this data. (torch.topk does "
        "not order equal values by index: on the machine that made these files, "
        f"`torch.topk(tensor([1, 2, 2, 2, 0, 2]), 3).indices` was {ref['topk_tie_order']}.)",
        "",
        "## Licence",
        "",
        "The digits are the test set of the UCI “Optical Recognition of Handwritten Digits” data "
        "(E. Alpaydin, C. Kaynak, 1998; "
        "https://archive.ics.uci.edu/ml/datasets/Optical+Recognition+of+Handwritten+Digits), "
        "licensed CC BY 4.0, as shipped by scikit-learn. The files derived from them here are "
        "under the same licence.",
        "",
    ]
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
