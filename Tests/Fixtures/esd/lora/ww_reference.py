"""Runs weightwatcher itself on the fixture adapter (once; CI has no Python) and writes its
tables: ww_peft.csv (`analyze(peft=True, randomize=True, mp_fit=True)`, the B·A rows) and
ww_peft_with_base.csv (`peft="with_base"`), with the versions in ww_versions.txt.

    /tmp/venv-peft/bin/python Tests/Fixtures/esd/lora/ww_reference.py
Needs torch, peft, weightwatcher==0.7.7, powerlaw==1.5.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_lora_fixtures import peft_model  # noqa: E402


def main():
    import pandas as pd
    import peft
    import powerlaw
    import torch
    import weightwatcher as ww
    np.random.seed(0)
    model = peft_model()
    watcher = ww.WeightWatcher(model=model)
    for peft_mode, out in [(True, "ww_peft.csv"), ("with_base", "ww_peft_with_base.csv")]:
        df = watcher.analyze(peft=peft_mode, randomize=True, mp_fit=True)
        df.to_csv(os.path.join(HERE, out), index=False, float_format="%.17g")
    with open(os.path.join(HERE, "ww_versions.txt"), "w") as f:
        f.write(f"weightwatcher {ww.__version__}\npowerlaw {getattr(powerlaw, '__version__', '1.5')}\n"
                f"torch {torch.__version__}\npeft {peft.__version__}\nnumpy {np.__version__}\n"
                f"pandas {pd.__version__}\n")


if __name__ == "__main__":
    main()
