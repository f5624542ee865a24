"""LoRA adapter fixtures, made with the `peft` package on the bundled MLP (fc1..fc4).

Run from the repository root with a Python that has torch, peft and safetensors:
    /tmp/venv-peft/bin/python Tests/Fixtures/esd/lora/make_lora_fixtures.py
Writes, next to this script:
  mlp/       adapter_config.json + adapter_model.safetensors   (r=8, lora_alpha=16,
             targets fc1..fc4, rank_pattern {"fc3": 12}, alpha_pattern {"fc2": 32})
  mlp-bin/   the same adapter saved with safe_serialization=False (adapter_model.bin)
  bad-missing-b/, bad-shapes/, bad-absent-module/   broken copies for the error tests
PEFT initialises B = 0; here every lora_B is drawn from N(0, 0.05²) with a fixed seed, so
ΔW = B·A is not zero. Versions used are written to versions.txt.
"""
import json
import os
import shutil

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
BASE = os.path.join(ROOT, "Examples", "data", "weights_mlp.safetensors")


class MLP(torch.nn.Module):
    """The bundled MLP's architecture: 64 -> 256 -> 128 -> 64 -> 10."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(64, 256)
        self.fc2 = torch.nn.Linear(256, 128)
        self.fc3 = torch.nn.Linear(128, 64)
        self.fc4 = torch.nn.Linear(64, 10)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        x = torch.relu(self.fc3(x))
        return self.fc4(x)


def peft_model():
    """The MLP loaded from the bundled weights, wrapped by get_peft_model, B drawn with a seed."""
    from peft import LoraConfig, get_peft_model
    torch.manual_seed(20261129)
    model = MLP()
    state = {k: torch.from_numpy(v) for k, v in load_file(BASE).items()}
    model.load_state_dict(state)
    config = LoraConfig(r=8, lora_alpha=16, target_modules=["fc1", "fc2", "fc3", "fc4"],
                        rank_pattern={"fc3": 12}, alpha_pattern={"fc2": 32}, lora_dropout=0.0)
    model = get_peft_model(model, config)
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    return model


def main():
    import peft
    import safetensors
    model = peft_model()
    good = os.path.join(HERE, "mlp")
    for d in ["mlp", "mlp-bin", "bad-missing-b", "bad-shapes", "bad-absent-module"]:
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)
    model.save_pretrained(good)
    model.save_pretrained(os.path.join(HERE, "mlp-bin"), safe_serialization=False)
    for d in ["mlp", "mlp-bin"]:  # the generated model card is not needed
        os.remove(os.path.join(HERE, d, "README.md"))
    tensors = load_file(os.path.join(good, "adapter_model.safetensors"))
    with open(os.path.join(good, "adapter_config.json")) as f:
        config = json.load(f)
    small = {k: v for k, v in tensors.items() if ".fc1." in k or ".fc4." in k}

    def write(name, weights, cfg):
        d = os.path.join(HERE, name)
        os.makedirs(d)
        save_file(weights, os.path.join(d, "adapter_model.safetensors"))
        with open(os.path.join(d, "adapter_config.json"), "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)

    cfg = dict(config, target_modules=["fc1", "fc4"], rank_pattern={}, alpha_pattern={})
    write("bad-missing-b", {k: v for k, v in small.items() if "fc4.lora_B" not in k}, cfg)
    shapes = dict(small)
    shapes["base_model.model.fc4.lora_B.weight"] = np.zeros((10, 7), np.float32) + 0.01
    write("bad-shapes", shapes, cfg)
    write("bad-absent-module", small, dict(cfg, target_modules=["fc1", "fc4", "q_proj"]))
    with open(os.path.join(HERE, "versions.txt"), "w") as f:
        f.write(f"torch {torch.__version__}\npeft {peft.__version__}\nsafetensors {safetensors.__version__}\n"
                f"numpy {np.__version__}\n")


if __name__ == "__main__":
    main()
