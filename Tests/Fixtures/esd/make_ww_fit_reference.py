"""Reference outputs of the tail-fit options, from the reference tool itself, on the seven
weights of make_fixtures.py and on the bundled example models (Examples/data/weights_mlp.safetensors,
weights_cnn.pt). Run once, in a virtualenv outside the repository:

  python3 -m venv /tmp/venv-ww
  /tmp/venv-ww/bin/pip install weightwatcher==0.7.7 powerlaw==1.5 torch   # torch: CPU wheel
  /tmp/venv-ww/bin/python Tests/Fixtures/esd/make_ww_fit_reference.py

Writes ww_fits_reference.json next to this script: per run (the analyze() keywords) and per
layer, the columns weightwatcher reports ("runs" for the fixtures, "examples" per model file). fit='TPL'/'E_TPL' and fix_fingers='xmin_peak' need
pl_package='powerlaw' (with weightwatcher's own fitter TPL is refused and xmin_peak ignored);
clip_xmax runs with weightwatcher's default fitter, and with fit='TPL' (then with the powerlaw
package's power-law fitter, as weightwatcher requires for the TPL). randomize and mp_fit are off (not
compared here).
"""
import json
import logging
import math
import os
import sys

import numpy as np

logging.disable(logging.WARNING)
import powerlaw  # noqa: E402
import torch  # noqa: E402
import weightwatcher as ww  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = ["gaussian", "heavy", "lowrank", "conv", "small", "small_tail", "wide"]
COLUMNS = ["alpha", "Lambda", "xmin", "xmax", "D", "sigma", "num_pl_spikes", "num_fingers", "raw_alpha",
           "detX_num", "detX_val", "detX_val_unrescaled", "num_ERG_spikes", "ERG_gap", "alpha_weighted",
           "log_alpha_norm", "status",
           "N", "M", "num_evals"]
RUNS = {
    "TPL": dict(fit="TPL", pl_package="powerlaw"),
    "E_TPL": dict(fit="E_TPL", pl_package="powerlaw"),
    "xmin_peak": dict(fix_fingers="xmin_peak", pl_package="powerlaw"),
    "xmin_peak_xmin_max_3": dict(fix_fingers="xmin_peak", xmin_max=3.0, pl_package="powerlaw"),
    "clip_xmax": dict(fix_fingers="clip_xmax"),
    "TPL_clip_xmax": dict(fit="TPL", fix_fingers="clip_xmax", pl_package="powerlaw"),
    "detX": dict(detX=True),
}


def clean(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if (v is None or math.isnan(v)) else float(v)
    return v


def analyze(state):
    out = {}
    for run, kwargs in RUNS.items():
        details = ww.WeightWatcher(model=state).analyze(randomize=False, mp_fit=False, **kwargs)
        rows = {}
        for _, r in details.iterrows():
            rows[str(r["name"]).removesuffix(".weight")] = {c: clean(r[c]) for c in COLUMNS if c in r.index}
        out[run] = {"kwargs": kwargs, "layers": rows}
        print(run, {k: v.get("alpha") for k, v in rows.items()}, file=sys.stderr)
    return out


def main():
    state = {f"{k}.weight": torch.from_numpy(np.load(os.path.join(HERE, k + ".npy")).astype(np.float32))
             for k in FIXTURES}
    out = {"versions": {"weightwatcher": ww.__version__, "powerlaw": powerlaw.__version__,
                        "numpy": np.__version__, "torch": torch.__version__,
                        "scipy": __import__("scipy").__version__, "mpmath": __import__("mpmath").__version__,
                        "python": sys.version.split()[0]},
           "runs": analyze(state), "examples": {}}
    from safetensors.torch import load_file
    examples = os.path.join(HERE, "..", "..", "..", "Examples", "data")
    for name in ["weights_mlp.safetensors", "weights_cnn.pt"]:
        path = os.path.join(examples, name)
        model = load_file(path) if name.endswith(".safetensors") else torch.load(path)
        out["examples"][name] = analyze({k: v for k, v in model.items()})
    with open(os.path.join(HERE, "ww_fits_reference.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
