#!/usr/bin/env python3
"""Writes a large activation file for the CKA scale run: one float32 (or float16) layer of N examples × P
features in a .safetensors file, written in blocks (memory: one block), related to a shared
64-dimensional code so that CKA between two such files (different --seed) has signal.

    python3 Benchmarks/make_activations.py OUT.safetensors --examples 1000000 --features 4096 --seed 1
"""
import argparse
import json
import os
import struct

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--examples", type=int, default=1_000_000)
    p.add_argument("--features", type=int, default=4096)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dtype", choices=["f32", "f16"], default="f32")
    a = p.parse_args()
    n, d = a.examples, a.features
    size = 4 if a.dtype == "f32" else 2
    header = {"layer": {"dtype": a.dtype.upper(), "shape": [n, d], "data_offsets": [0, size * n * d]}}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    maps = np.random.default_rng(1000 + a.seed).standard_normal((64, d), dtype=np.float32)
    block = max(1, (1 << 24) // d)
    with open(a.out + ".partial", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for start in range(0, n, block):
            rows = min(block, n - start)
            # The code depends on the example only (same for every file), the noise on the seed.
            code = np.random.default_rng(start).standard_normal((rows, 64), dtype=np.float32)
            noise = np.random.default_rng((a.seed, start)).standard_normal((rows, d), dtype=np.float32)
            f.write((code @ maps + 2 * noise).astype("<f4" if a.dtype == "f32" else "<f2").tobytes())
    os.replace(a.out + ".partial", a.out)


if __name__ == "__main__":
    main()
