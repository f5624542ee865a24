"""Runs the powerlaw package itself (version 1.5; 2.0 differs) on the eigenvalue sets of
golden_fit_tests.json at Compare's xmin, and writes powerlaw_1_5.json: for each set and
alternative, Fit(evals, xmin=xmin).distribution_compare('power_law', alt, normalized_ratio=True)
and the alternative's fitted parameters, with the versions used.

Not run by CI (no Python there); run once, outside the repository's environment:
  python3 -m venv /tmp/venv-pl && /tmp/venv-pl/bin/pip install powerlaw==1.5 numpy scipy mpmath
  /tmp/venv-pl/bin/python Tests/Fixtures/esd/check_powerlaw.py
"""
import json
import os
import sys
import warnings
from importlib.metadata import version

import numpy as np
import powerlaw

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fit_test_fixtures import LAYERS, samples  # noqa: E402
from make_fixtures import eigenvalues, slices  # noqa: E402

PARAMETERS = {"exponential": ["Lambda"], "lognormal": ["mu", "sigma"], "truncated_power_law": ["alpha", "Lambda"]}


def main():
    warnings.simplefilter("ignore")
    golden = json.load(open(os.path.join(HERE, "golden_fit_tests.json")))
    sets = {}
    for name in LAYERS:
        w = np.load(os.path.join(HERE, name + ".npy"))
        sets[name] = eigenvalues(slices(w), 0.5 if w.ndim == 4 else 1.0)
    for name in samples():
        sets[name] = np.load(os.path.join(HERE, name + ".npy"))
    out = {"versions": {p: version(p) for p in ["powerlaw", "numpy", "scipy", "mpmath"]}}
    for name, evals in sets.items():
        xmin = golden[name]["xmin"]
        fit = powerlaw.Fit(evals, xmin=xmin, verbose=False)
        row = {"xmin": xmin, "alpha": float(fit.power_law.alpha), "tail": int(fit.n)}
        for alternative, keys in PARAMETERS.items():
            r, p = fit.distribution_compare("power_law", alternative, normalized_ratio=True)
            row[f"pl_vs_{alternative}_R"] = float(r)
            row[f"pl_vs_{alternative}_p"] = float(p)
            dist = getattr(fit, alternative)
            row[f"{alternative}_parameters"] = {k.lower(): float(getattr(dist, k)) for k in keys}
        out[name] = row
        print(name, {k: round(v, 6) for k, v in row.items() if k.startswith("pl_vs")})
    with open(os.path.join(HERE, "powerlaw_1_5.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
