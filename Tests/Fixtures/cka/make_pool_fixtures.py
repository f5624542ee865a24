#!/usr/bin/env python3
"""Pooling fixtures for `ActivationSet(pool:)` / `--pool`: token activations [n, tokens, d] and
spatial ones [n, C, H, W], and their pooled features computed with numpy (float64)."""
import json
import os

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pool")
os.makedirs(HERE, exist_ok=True)
g = np.random.default_rng(11)
tokens = g.standard_normal((6, 4, 5)).astype(np.float32)
spatial = g.standard_normal((6, 3, 2, 2)).astype(np.float32)
dense = g.standard_normal((6, 7)).astype(np.float32)
np.savez(os.path.join(HERE, "activations.npz"), tokens=tokens, spatial=spatial, dense=dense)
t, s, d = tokens.astype(np.float64), spatial.astype(np.float64), dense.astype(np.float64)
golden = {
    "tokens": {"mean": t.mean(1).tolist(), "max": t.max(1).tolist(), "cls": t[:, 0].tolist(),
               "last": t[:, -1].tolist(), "flatten": t.reshape(6, -1).tolist()},
    "spatial": {"mean": s.mean((2, 3)).tolist(), "max": s.max((2, 3)).tolist(),
                "flatten": s.reshape(6, -1).tolist()},
    "dense": {"mean": d.tolist(), "flatten": d.tolist()},
}
with open(os.path.join(HERE, "golden.json"), "w") as f:
    json.dump(golden, f, indent=1)
    f.write("\n")
