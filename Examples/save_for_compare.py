"""Save a PyTorch model's activations, weights and logits in files `compare` reads.

    python Examples/save_for_compare.py --out /tmp/run1     # a tiny demo model and data

Adapt `make_model` and `make_loader` to your own model and data. What it writes:

  activations.safetensors  one tensor per hooked layer, [examples, features] float32, in
                           data-loader order (keep `shuffle=False` so two models see the same
                           examples in the same order): `compare cka run1/activations.safetensors
                           run2/activations.safetensors`
  weights.safetensors      the trained state_dict (`compare esd run1/weights.safetensors`)
  weights_init.safetensors the state_dict before training (for weightwatcher's rand/init metrics)
  logits.pt                {"logits": [1, examples, classes] float16}, the shape of the published
                           CIFAR-10 ensemble `log.pt` (stack several runs along the first axis)

Check any of them with `compare inspect FILE --stats`.
"""
import argparse
import os

import torch
from safetensors.torch import save_file


def make_model():
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))


def make_loader(seed=0):
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(256, 3, 8, 8, generator=generator)
    labels = torch.randint(0, 10, (256,), generator=generator)
    dataset = torch.utils.data.TensorDataset(images, labels)
    return torch.utils.data.DataLoader(dataset, batch_size=64, shuffle=False)


def contiguous_state(model):
    # safetensors refuses tensors that share memory or are non-contiguous: clone each one.
    return {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}


@torch.no_grad()
def save_activations(model, loader, layers, path):
    """Runs `loader` through `model` with a forward hook on each named layer and saves every
    layer's outputs, flattened per example, as `[examples, features]` float32."""
    captured = {name: [] for name in layers}
    modules = dict(model.named_modules())
    hooks = [modules[name].register_forward_hook(
                 lambda _m, _i, out, name=name: captured[name].append(out.flatten(1).float().cpu()))
             for name in layers]
    model.eval()
    logits = torch.cat([model(x) for x, _ in loader])
    for hook in hooks:
        hook.remove()
    save_file({name: torch.cat(chunks) for name, chunks in captured.items()}, path,
              metadata={"examples": str(len(logits))})
    return logits


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="compare-run", help="output folder")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    model = make_model()
    save_file(contiguous_state(model), os.path.join(args.out, "weights_init.safetensors"))

    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(args.epochs):
        model.train()
        for x, y in make_loader():
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    save_file(contiguous_state(model), os.path.join(args.out, "weights.safetensors"))

    # Hook the layers whose representations you compare: here every ReLU and the last Linear.
    layers = [name for name, m in model.named_modules() if isinstance(m, torch.nn.ReLU)] + ["6"]
    logits = save_activations(model, make_loader(), layers, os.path.join(args.out, "activations.safetensors"))
    torch.save({"logits": logits.half().unsqueeze(0)}, os.path.join(args.out, "logits.pt"))
    print(f"wrote {args.out}/activations.safetensors ({', '.join(layers)}), weights.safetensors, "
          f"weights_init.safetensors, logits.pt")


if __name__ == "__main__":
    main()
