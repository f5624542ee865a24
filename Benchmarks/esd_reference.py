"""Reference timings for `compare bench esd`: the reference Python tool on the same weights.

  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python Benchmarks/esd_reference.py \
      --model PATH/model.safetensors --layer /tmp/esd_layer.npy

(a) a real model from its safetensors file: analyze() and analyze(randomize=True, mp_fit=True);
(b) one 4096 x 11008 float32 matrix written by `COMPARE_ESD_BENCH_DUMP=/tmp/esd_layer.npy
compare bench esd`: analyze() and analyze(randomize=True, mp_fit=True).
Prints one JSON object of wall-clock seconds.
"""
import argparse
import json
import logging
import time

import numpy as np
import torch
from safetensors.numpy import load_file

logging.disable(logging.WARNING)
import weightwatcher as ww  # noqa: E402


def timed(state, **kwargs):
    watcher = ww.WeightWatcher(model=state)
    start = time.perf_counter()
    details = watcher.analyze(**kwargs)
    return time.perf_counter() - start, details


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model")
    p.add_argument("--layer")
    p.add_argument("--skip-plain", action="store_true")
    args = p.parse_args()
    out = {"threads": torch.get_num_threads()}
    if args.model:
        state = {k: torch.from_numpy(v) for k, v in load_file(args.model).items()}
        out["model_parameters"] = int(sum(v.numel() for v in state.values()))
        if not args.skip_plain:
            out["model_analyze_s"], _ = timed(state)
        t, details = timed(state, randomize=True, mp_fit=True)
        out["model_analyze_randomize_mp_s"] = t
        out["model_layers"] = len(details)
        out["model_mean_alpha"] = float(details["alpha"].mean())
    if args.layer:
        w = np.load(args.layer)
        state = {"layer.weight": torch.from_numpy(w)}
        if not args.skip_plain:
            out["layer_analyze_s"], _ = timed(state)
        t, details = timed(state, randomize=True, mp_fit=True)
        out["layer_analyze_randomize_mp_s"] = t
        out["layer_alpha"] = float(details["alpha"].iloc[0])
        out["layer_rand_distance"] = float(details["rand_distance"].iloc[0])
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
