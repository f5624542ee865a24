#!/usr/bin/env python3
"""Writes a Llama-2-7B-shaped Hugging Face folder of synthetic bf16 weights.

    python3 Benchmarks/make_llama_folder.py OUT [--layers 32] [--shards 14]

The folder is what `huggingface-cli download meta-llama/Llama-2-7b-hf` gives, minus the
tokenizer: `config.json`, `model.safetensors.index.json` and shards
`model-0000I-of-0000N.safetensors` holding the 291 tensors under Llama's names and shapes
(hidden 4096, intermediate 11008, 32 heads, vocabulary 32000, 6.74 B parameters, 13.5 GB of
bfloat16). Norm weights are ones, as at initialisation.

Each weight matrix W (out × in) has a planted heavy-tailed spectrum, so the power-law fits
are not trivial: W = G · diag(s) / √in with G standard Gaussian and column scales
s_j = u_j^(−1/β) (Pareto with tail index β, capped at 30) for u_j uniform in (0, 1], β drawn per
tensor from [2, 6] (so alphas differ from layer to layer). The eigenvalues of WᵀW then follow
the scales' squares: a power-law tail with exponent about 1 + β/2 above a Marchenko–Pastur
bulk. Every tensor has its own seed (from its name), so the files are the same on every
machine, and a tensor is generated in row blocks to keep memory at a few hundred MB.

Only numpy is needed. bf16 is float32 rounded to nearest even in its top 16 bits, as torch
converts.
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np

HIDDEN, INTERMEDIATE, VOCAB = 4096, 11008, 32000


def tensors(layers):
    """(name, shape) in the order Hugging Face's Llama state dict lists them."""
    yield "model.embed_tokens.weight", (VOCAB, HIDDEN)
    for i in range(layers):
        p = f"model.layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
            yield p + f"self_attn.{proj}.weight", (HIDDEN, HIDDEN)
        yield p + "mlp.gate_proj.weight", (INTERMEDIATE, HIDDEN)
        yield p + "mlp.up_proj.weight", (INTERMEDIATE, HIDDEN)
        yield p + "mlp.down_proj.weight", (HIDDEN, INTERMEDIATE)
        yield p + "input_layernorm.weight", (HIDDEN,)
        yield p + "post_attention_layernorm.weight", (HIDDEN,)
    yield "model.norm.weight", (HIDDEN,)
    yield "lm_head.weight", (VOCAB, HIDDEN)


def seed_of(name):
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def to_bf16(x):
    """float32 → bfloat16 bits, round to nearest, ties to even (torch's conversion)."""
    u = x.view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def write_tensor(f, name, shape):
    if len(shape) == 1:
        f.write(to_bf16(np.ones(shape, dtype=np.float32)).tobytes())
        return
    rows, cols = shape
    rng = np.random.default_rng(seed_of(name))
    beta = rng.uniform(2.0, 6.0)
    scales = np.minimum(rng.uniform(0.0, 1.0, cols).clip(1e-12) ** (-1.0 / beta), 30.0)
    scales = (scales / np.sqrt(cols)).astype(np.float32)
    block = max(1, (1 << 25) // cols)  # about 128 MB of float32 per block
    for start in range(0, rows, block):
        n = min(block, rows - start)
        g = rng.standard_normal((n, cols), dtype=np.float32)
        g *= scales
        f.write(to_bf16(g).tobytes())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--layers", type=int, default=32)
    parser.add_argument("--shards", type=int, default=14)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    items = list(tensors(args.layers))
    total = sum(2 * int(np.prod(s)) for _, s in items)
    target = total / args.shards
    # Deal tensors into shards in order, each about total/shards bytes.
    shards, current, size = [], [], 0
    for name, shape in items:
        nbytes = 2 * int(np.prod(shape))
        if current and size + nbytes > target and len(shards) < args.shards - 1:
            shards.append(current)
            current, size = [], 0
        current.append((name, shape))
        size += nbytes
    shards.append(current)
    count = len(shards)
    weight_map = {}
    written = 0
    for index, group in enumerate(shards, 1):
        file = f"model-{index:05d}-of-{count:05d}.safetensors"
        header, offset = {"__metadata__": {"format": "pt"}}, 0
        for name, shape in group:
            nbytes = 2 * int(np.prod(shape))
            header[name] = {"dtype": "BF16", "shape": list(shape),
                            "data_offsets": [offset, offset + nbytes]}
            offset += nbytes
            weight_map[name] = file
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        path = os.path.join(args.out, file)
        with open(path + ".partial", "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for name, shape in group:
                write_tensor(f, name, shape)
                written += 2 * int(np.prod(shape))
                print(f"\r{written / 1e9:6.2f} / {total / 1e9:.2f} GB", end="", file=sys.stderr)
        os.replace(path + ".partial", path)
    print(file=sys.stderr)
    with open(os.path.join(args.out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": HIDDEN, "intermediate_size": INTERMEDIATE,
        "num_attention_heads": 32, "num_key_value_heads": 32,
        "num_hidden_layers": args.layers, "vocab_size": VOCAB,
        "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "torch_dtype": "bfloat16",
    }
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    params = total // 2
    print(f"{args.out}: {len(items)} tensors, {params / 1e9:.2f} B parameters, "
          f"{total / 1e9:.1f} GB in {count} shards", file=sys.stderr)


if __name__ == "__main__":
    main()
