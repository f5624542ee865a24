"""Side-by-side timing of the published ensemble-kernel recipe in PyTorch (CPU) and
`compare kernel`, on the same synthetic float16 logits, in the same run.

The PyTorch code follows the published recipe for the 500-run CIFAR-10 ensemble: float() then
log_softmax over classes, standardise over models (std with N-1), one (test x train) matmul per
class accumulated into the kernel, topk(k) per row, mode of the neighbours' labels. The only
change is that it runs on the CPU (`.cuda()` removed) and divides by the number of classes.

Times: the reference from loading the .npy files to the predictions (its `import torch` excluded);
compare's whole process. Peak memory: each process's VmHWM (the reference's includes torch itself).

Usage:
    python Benchmarks/kernel_reference.py --compare .build/release/compare [--threads 1]
        [--models 100 --test 10000 --train 50000 --classes 10]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def make_logits(path, models, examples, classes, rng):
    pattern = rng.normal(size=(examples, classes)).astype(np.float32) * 3
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(models, examples, classes))
    for m in range(models):
        out[m] = (pattern + rng.uniform(-1, 1, size=pattern.shape).astype(np.float32)).astype(np.float16)
    out.flush()
    return pattern.argmax(1)


def reference(logits_test, logits_train, labels_train, k):
    import torch

    def normalize(logits):
        logits = logits.float()
        logits = logits.log_softmax(-1)
        return (logits - logits.mean(0, keepdim=True)) / logits.std(0, keepdim=True)

    def compute_kernel(logits1, logits2):
        logits1, logits2 = normalize(logits1), normalize(logits2)
        classes = logits1.shape[2]
        kernel = torch.zeros(logits1.shape[1], logits2.shape[1])
        for c in range(classes):
            corr_cls = (logits1[..., c].T @ logits2[..., c]) / len(logits1)
            kernel += corr_cls / classes
        return kernel

    kernel = compute_kernel(logits_test, logits_train)
    nbrs = kernel.topk(k, dim=1)
    return labels_train[nbrs.indices].mode(1).values


def run_measured(command, env):
    """Runs `command`; returns (seconds, peak resident MiB from /proc VmHWM, stdout)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        try:
            with open(f"/proc/{process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            pass
        time.sleep(0.02)
    out = process.stdout.read()
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"{command[0]} failed with status {process.returncode}")
    return seconds, peak, out


def run_reference(test_path, train_path, labels_train_path, k, threads):
    import torch
    if threads:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    test = torch.from_numpy(np.load(test_path))
    train = torch.from_numpy(np.load(train_path))
    pred = reference(test, train, torch.from_numpy(np.load(labels_train_path)), k)
    np.save(os.path.join(os.path.dirname(test_path), "pred.npy"), pred.numpy())
    print(json.dumps({"seconds": time.perf_counter() - start, "threads": torch.get_num_threads()}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compare", default=".build/release/compare", help="the compare executable")
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--test", type=int, default=10_000)
    parser.add_argument("--train", type=int, default=50_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("-k", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="threads for both (0: their defaults)")
    parser.add_argument("--run-reference", nargs=3, metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_reference:
        run_reference(*args.run_reference, args.k, args.threads)
        return

    import torch
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        paths = {name: os.path.join(folder, name + ".npy") for name in ("test", "train", "labels", "labels_train")}
        labels = make_logits(paths["test"], args.models, args.test, args.classes, rng)
        labels_train = make_logits(paths["train"], args.models, args.train, args.classes, rng)
        # Some label noise so that the kernel has something to get wrong.
        flip = rng.random(args.train) < 0.1
        labels_train[flip] = rng.integers(0, args.classes, size=flip.sum())
        np.save(paths["labels"], labels.astype(np.int64))
        np.save(paths["labels_train"], labels_train.astype(np.int64))

        reference_command = [sys.executable, os.path.abspath(__file__), "--run-reference", paths["test"],
                             paths["train"], paths["labels_train"], "-k", str(args.k), "--threads", str(args.threads)]
        _, torch_peak, out = run_measured(reference_command, dict(os.environ))
        torch_seconds = json.loads(out)["seconds"]   # after `import torch`, from loading the files on
        torch_accuracy = (np.load(os.path.join(folder, "pred.npy")) == labels).mean()

        env = dict(os.environ)
        if args.threads:
            env["OPENBLAS_NUM_THREADS"] = str(args.threads)
        command = [args.compare, "kernel", "--test", paths["test"], "--train", paths["train"],
                   "--test-labels", paths["labels"], "--train-labels", paths["labels_train"],
                   "-k", str(args.k), "--json"]
        compare_seconds, compare_peak, out = run_measured(command, env)
        compare_accuracy = json.loads(out)["kernel_accuracy"]

    print(f"{args.models} models, {args.test} test x {args.train} train x {args.classes} classes, float16, "
          f"threads: {args.threads or 'default'} (torch {torch.__version__})")
    print(f"{'':28}{'seconds':>10}{'peak MiB':>10}{'kernel acc':>12}")
    print(f"{'PyTorch reference (CPU)':28}{torch_seconds:10.2f}{torch_peak:10.0f}{torch_accuracy:12.4f}")
    print(f"{'compare kernel':28}{compare_seconds:10.2f}{compare_peak:10.0f}{compare_accuracy:12.4f}")
    print(f"speed-up: {torch_seconds / compare_seconds:.2f}x")


if __name__ == "__main__":
    main()
