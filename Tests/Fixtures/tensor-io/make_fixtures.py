"""Writes the tensor-file fixtures of Tests/TensorIOTests and their golden values.

Run with a Python that has numpy, safetensors and torch:

    python Tests/Fixtures/tensor-io/make_fixtures.py

Every good file is listed in expected.json with its format and, per tensor, key, numpy dtype
name, shape and the values in row-major (C) order as numpy (or torch, for bfloat16) reads them,
as float64; NaN and infinities are the strings "nan", "inf", "-inf". The bad files under bad/
are checked by the Swift tests for their error messages.
"""
import io
import json
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import torch
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file as save_torch

HERE = os.path.dirname(os.path.abspath(__file__))
files = []


def path(*parts):
    p = os.path.join(HERE, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def number(x):
    x = float(x)
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def describe(key, array, dtype_name=None):
    """Golden entry of one tensor (numpy array, or torch tensor for bfloat16)."""
    if isinstance(array, torch.Tensor):
        name = dtype_name or str(array.dtype).replace("torch.", "")
        values = array.detach().to(torch.float64).reshape(-1).tolist()
        shape = list(array.shape)
    else:
        name = dtype_name or array.dtype.name
        values = np.ascontiguousarray(array).astype(np.float64).reshape(-1).tolist()
        shape = list(array.shape)
    return {"key": key, "dtype": name, "shape": shape, "values": [number(v) for v in values]}


def record(name, fmt, tensors, metadata=None):
    entry = {"file": name, "format": fmt, "tensors": tensors}
    if metadata is not None:
        entry["metadata"] = metadata
    files.append(entry)


def sample(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    dt = np.dtype(dtype)
    if dt.kind == "f":
        values = rng.standard_normal(n) * 3
        if n >= 4:
            values[1] = np.nan
            values[2] = np.inf
            values[3] = -np.inf
        return values.astype(dt).reshape(shape)
    if dt.kind == "b":
        return (rng.integers(0, 2, n) == 1).reshape(shape)
    info = np.iinfo(dt)
    low, high = max(info.min, -1000), min(info.max, 1000)
    values = rng.integers(low, high, n, endpoint=True).astype(dt)
    values[0] = info.max if dt.itemsize < 8 else 2**52
    if info.min < 0:
        values[-1] = info.min if dt.itemsize < 8 else -(2**52)
    return values.reshape(shape)


# ---- .npy: every dtype, both byte orders, Fortran order, 0-d to 4-d, versions 1-3
codes = ["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]
for i, code in enumerate(codes):
    orders = ["<", ">"] if code not in ("i1", "u1", "b1") else ["|"]
    for order in orders:
        a = sample(order + code, (2, 3), seed=i)
        suffix = {"<": "le", ">": "be", "|": "le"}[order]
        name = f"npy/{code}_{suffix}.npy"
        np.save(path(name), a)
        record(name, "npy", [describe(f"{code}_{suffix}", a)])

for name, shape, order in [("fortran_2d", (3, 4), "F"), ("fortran_3d", (2, 3, 4), "F"),
                           ("scalar", (), "C"), ("vector", (5,), "C"), ("cube", (2, 3, 4), "C"),
                           ("tesseract", (2, 1, 3, 2), "C"), ("empty", (0, 3), "C")]:
    a = np.asfortranarray(np.arange(np.prod(shape), dtype=np.float32).reshape(shape) * 0.5 - 1) \
        if order == "F" else (np.arange(np.prod(shape), dtype=np.float32).reshape(shape) * 0.5 - 1)
    np.save(path(f"npy/{name}.npy"), a)
    record(f"npy/{name}.npy", "npy", [describe(name, a)])

fortran_be = np.asfortranarray(sample(">f8", (3, 2), seed=40))
np.save(path("npy/fortran_be.npy"), fortran_be)
record("npy/fortran_be.npy", "npy", [describe("fortran_be", fortran_be)])

for version in [(1, 0), (2, 0), (3, 0)]:
    a = sample("<f4", (2, 2), seed=50)
    name = f"npy/version{version[0]}.npy"
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, a, version=version)
    record(name, "npy", [describe(f"version{version[0]}", a)])

# ---- .npz: stored and deflated (numpy writes zip64 extras for every member)
members = {"logits": sample("<f2", (3, 4, 2), seed=60), "labels": np.arange(4, dtype=np.int64),
           "fortran": np.asfortranarray(sample("<f4", (2, 3), seed=61)), "layer.1": sample("<f8", (2,), seed=62)}
np.savez(path("npz/stored.npz"), **members)
np.savez_compressed(path("npz/deflated.npz"), **members)
for name in ["npz/stored.npz", "npz/deflated.npz"]:
    record(name, "npz", [describe(k, v) for k, v in members.items()])

# ---- .safetensors: every numeric dtype, metadata
st = OrderedDict()
for i, code in enumerate(["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]):
    st[f"t_{np.dtype(code).name}"] = sample("<" + code if code not in ("i1", "u1", "b1") else code, (2, 3), seed=70 + i)
save_numpy(dict(st), path("safetensors/all_dtypes.safetensors"), metadata={"format": "np", "note": "fixture"})
# Tensors appear in the header in the writer's order (by dtype alignment, then name), read here.
with open(path("safetensors/all_dtypes.safetensors"), "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    order = [k for k in json.loads(f.read(n)) if k != "__metadata__"]
record("safetensors/all_dtypes.safetensors", "safetensors", [describe(k, st[k]) for k in order],
       metadata={"format": "np", "note": "fixture"})

bf = torch.tensor([[1.5, -2.25, 3.0e38], [0.0, -0.0, 1e-3]], dtype=torch.bfloat16)
half = torch.tensor([1.0, 65504.0, -0.5], dtype=torch.float16)
save_torch({"bf16": bf, "f16": half, "scalar": torch.tensor(7.0)}, path("safetensors/torch.safetensors"))
with open(path("safetensors/torch.safetensors"), "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    order = [k for k in json.loads(f.read(n)) if k != "__metadata__"]
tt = {"bf16": bf, "f16": half, "scalar": torch.tensor(7.0)}
record("safetensors/torch.safetensors", "safetensors", [describe(k, tt[k]) for k in order])

# ---- torch.save zip archives
torch.manual_seed(0)
nested = {"a": torch.randn(2, 3), "b": {"c": torch.arange(5), "d": [torch.randn(2).half(), torch.tensor([True, False])]},
          "epoch": 3, "name": "run-1"}
torch.save(nested, path("torch/nested.pt"))
record("torch/nested.pt", "torch", [describe("a", nested["a"]), describe("b.c", nested["b"]["c"]),
                                    describe("b.d.0", nested["b"]["d"][0]), describe("b.d.1", nested["b"]["d"][1])],
       metadata={"epoch": "3", "name": "run-1"})

dtype_list = [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int64, torch.int32,
              torch.int16, torch.int8, torch.uint8, torch.bool]
typed = OrderedDict()
for i, dt in enumerate(dtype_list):
    if dt == torch.bool:
        typed[str(dt).replace("torch.", "")] = torch.tensor([[True, False, True], [False, False, True]])
    elif dt.is_floating_point:
        typed[str(dt).replace("torch.", "")] = (torch.arange(6, dtype=torch.float64).reshape(2, 3) * 1.25 - 3).to(dt)
    else:
        typed[str(dt).replace("torch.", "")] = (torch.arange(6).reshape(2, 3) * 7 - (0 if dt == torch.uint8 else 20)).to(dt)
torch.save(typed, path("torch/dtypes.pt"))
record("torch/dtypes.pt", "torch", [describe(k, v) for k, v in typed.items()])

model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
checkpoint = {"state_dict": model.state_dict(), "epoch": 5}
torch.save(checkpoint, path("torch/checkpoint.pt"))
record("torch/checkpoint.pt", "torch", [describe("state_dict." + k, v) for k, v in model.state_dict().items()],
       metadata={"epoch": "5"})

params = {"weight": torch.nn.Parameter(torch.randn(2, 2)), "scale": torch.nn.Parameter(torch.ones(3), requires_grad=False)}
torch.save(params, path("torch/parameters.pt"))
record("torch/parameters.pt", "torch", [describe(k, v) for k, v in params.items()])

base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5
views = {"base": base, "transposed": base.t(), "slice": base[1:3, 2:5], "column": base[:, 1],
         "stepped": base[::2, ::3]}
torch.save(views, path("torch/views.pt"))
record("torch/views.pt", "torch", [describe(k, v) for k, v in views.items()])

lone = torch.linspace(-1, 1, 7, dtype=torch.float64)
torch.save(lone, path("torch/lone.pt"))
record("torch/lone.pt", "torch", [describe("lone", lone)])

# A log.pt-shaped dict: float16 logits [runs, test examples, classes] and the training logits.
logits = (torch.randn(3, 8, 10) * 4).half()
logits_train = (torch.randn(3, 12, 10) * 4).half()
torch.save({"logits": logits, "logits_train": logits_train}, path("torch/log.pt"))
record("torch/log.pt", "torch", [describe("logits", logits), describe("logits_train", logits_train)])

# A list at the top level, and a tuple inside: keys are indices.
seq = [torch.tensor([1, 2], dtype=torch.int32), (torch.tensor([0.5]), torch.tensor([[3]], dtype=torch.int8))]
torch.save(seq, path("torch/sequence.pt"))
record("torch/sequence.pt", "torch", [describe("0", seq[0]), describe("1.0", seq[1][0]), describe("1.1", seq[1][1])])

# Pickle protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE) instead of torch's default 2.
torch.save(nested, path("torch/protocol4.pt"), pickle_protocol=4)
record("torch/protocol4.pt", "torch", [describe("a", nested["a"]), describe("b.c", nested["b"]["c"]),
                                       describe("b.d.0", nested["b"]["d"][0]), describe("b.d.1", nested["b"]["d"][1])],
       metadata={"epoch": "3", "name": "run-1"})

# A bare untyped storage is its bytes, as uint8.
raw = torch.tensor([1.0, -2.0], dtype=torch.float32)
torch.save({"raw": raw.untyped_storage()}, path("torch/untyped.pt"))
record("torch/untyped.pt", "torch", [describe("raw", raw.numpy().view(np.uint8))])

# ---- small files for the command-line tests
small = np.array([[1.0, -2.0, 0.5], [np.nan, np.inf, 4.0]], dtype=np.float32)
np.savez(path("cli/small.npz"), x=small, ids=np.array([3, 1, 2], dtype=np.int64))
np.save(path("cli/fortran.npy"), np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)))

# ---- bad files
def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


good_npy = open(path("npy/f4_le.npy"), "rb").read()
write("bad/truncated.npy", good_npy[:-5])
write("bad/header_past_end.npy", good_npy[:8] + struct.pack("<H", 60000) + good_npy[10:])
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"
header += " " * (63 - (10 + len(header)) % 64) + "\n"
write("bad/shape_overflow.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 16)
header = "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }"
header += " " * (63 - (10 + len(header)) % 64) + "\n"
write("bad/complex.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 16)
write("bad/empty.npy", b"")
write("bad/not_a_tensor.txt", b"hello, world\n")


def safetensors(header, data):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


write("bad/truncated.safetensors", safetensors({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 10))
write("bad/header_past_end.safetensors", struct.pack("<Q", 5000) + b'{"w": {}}')
write("bad/overlap.safetensors", safetensors({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                              "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, b"\0" * 16))
write("bad/shape_overflow.safetensors", safetensors({"w": {"dtype": "F32", "shape": [2**62, 4], "data_offsets": [0, 16]}}, b"\0" * 16))
write("bad/wrong_length.safetensors", safetensors({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}}, b"\0" * 16))
write("bad/unsupported_dtype.safetensors", safetensors({"w": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}}, b"\0" * 4))
write("bad/not_json.safetensors", struct.pack("<Q", 6) + b"{oops}")

deflated = bytearray(open(path("npz/deflated.npz"), "rb").read())
with zipfile.ZipFile(path("npz/deflated.npz")) as z:
    info = z.getinfo("logits.npy")
start = info.header_offset + 30 + len(info.filename) + len(info.extra if False else b"")
# Local extra length differs from the central one: read it from the local header.
name_len, extra_len = struct.unpack("<HH", deflated[info.header_offset + 26: info.header_offset + 30])
start = info.header_offset + 30 + name_len + extra_len
for i in range(start + 5, start + 25):
    deflated[i] ^= 0x5A
write("bad/corrupt_member.npz", bytes(deflated))
# A deflated member whose central directory claims 2 GiB: refused before any allocation.
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("x.npy", "w") as member:
        np.lib.format.write_array(member, np.zeros(16, np.float32))
bomb = bytearray(buffer.getvalue())
central = bomb.rindex(b"PK\x01\x02")
bomb[central + 24: central + 28] = struct.pack("<I", 0x7FFFFFFF)
write("bad/claimed_size.npz", bytes(bomb))
stored = open(path("npz/stored.npz"), "rb").read()
write("bad/truncated.npz", stored[: len(stored) // 2])


def torch_zip(pickle_bytes, extra=None):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/version", "3\n")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buffer.getvalue()


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo owned",))


write("bad/forbidden_global.pt", torch_zip(pickle.dumps({"w": Exploit()}, protocol=2)))


class Custom:
    pass


write("bad/custom_class.pt", torch_zip(pickle.dumps({"w": Custom()}, protocol=2)))
# A storage persistent id whose data entry is missing.
good = zipfile.ZipFile(path("torch/lone.pt"))
prefix = good.namelist()[0].split("/")[0]
write("bad/missing_storage.pt", torch_zip(good.read(f"{prefix}/data.pkl")))
# A view whose strides reach past its storage.
torch.save(torch.arange(6, dtype=torch.float32), path("bad/view_past_storage.pt"))
with zipfile.ZipFile(path("bad/view_past_storage.pt")) as z:
    entries = {n: z.read(n) for n in z.namelist()}
prefix = next(iter(entries)).split("/")[0]
data_pkl = entries[f"{prefix}/data.pkl"]
# (6,) and (1,) are pickled as K\x06\x85 and K\x01\x85; make the size 60.
assert data_pkl.count(b"K\x06\x85") == 1
entries[f"{prefix}/data.pkl"] = data_pkl.replace(b"K\x06\x85", b"K\x3c\x85")
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
    for n, d in entries.items():
        z.writestr(n, d)
write("bad/view_past_storage.pt", buffer.getvalue())
torch.save({"w": torch.ones(2)}, path("bad/legacy.pt"), _use_new_zipfile_serialization=False)
write("bad/truncated_pickle.pt", torch_zip(pickle.dumps({"w": [1, 2, 3]}, protocol=2)[:-4]))

# ---- fuzzing findings: inputs whose cost grew with a number in them, not with the file's size
# (standard library only: struct, io, zipfile).
# A zero-element .npy whose first axis is 6 × 10^17: `inspect --stats` walked its rows.
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (600003488427387903, 0), }"
header += " " * (144 - 10 - 1 - len(header)) + "\n"
write("bad/zero_rows.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
# An .npz whose central directory names one deflated member 20 times: each name was inflated
# into a buffer of its own (80 MiB here from 5 kB; a million names would be terabytes).
member = "{'descr': '<f4', 'fortran_order': False, 'shape': (1048576,), }"
member += " " * (63 - (10 + len(member)) % 64) + "\n"
member = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(member)) + member.encode() + b"\0" * (4 << 20)
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("x0.npy", member)
single = buffer.getvalue()
central = single.index(b"PK\x01\x02")
end = single.index(b"PK\x05\x06")
entry = single[central:end]
entries = b"".join(entry.replace(b"x0.npy", b"x%d.npy" % i if i < 10 else b"y%d.npy" % (i % 10))
                   for i in range(20))
record = bytearray(single[end:])
record[8:12] = struct.pack("<HH", 20, 20)
record[12:16] = struct.pack("<I", len(entries))
write("bad/overlapping_members.npz", single[:central] + entries + bytes(record))
# A pickle nesting 90 dictionaries under one memoized 1000-character key: 1.4 kB of pickle,
# 4 MB of key paths ('aaa….aaa….aaa…'), and more per leaf at the bottom.
nested = b"\x80\x02X" + struct.pack("<I", 1000) + b"a" * 1000 + b"q\x000"
nested += b"(h\x00" * 90 + b"K\x01" + b"d" * 90 + b"."
write("bad/long_key_paths.pt", torch_zip(nested))
# A pickle that builds OrderedDict(pairs) 1000 times from one memoized list of 4000 pairs:
# 15 kB of pickle, 4 M dictionary items.
copies = b"\x80\x02ccollections\nOrderedDict\nq\x00KaKb\x86q\x01]q\x02(" + b"h\x01" * 4000 + b"e0"
copies += b"h\x00h\x02\x85R0" * 1000 + b"N."
write("bad/ordered_dict_copies.pt", torch_zip(copies))
# One tensor memoized once and listed 2000 times (two bytes each): with 2000 axes of length 1 it
# was 4 M axes to check; as a 1 MiB stride-0 view of a 4 kB storage, 2 GB to convert.
def listed_tensor(shape, strides, storage_bytes, times=2000):
    def ints(values):
        return b"(" + b"".join(b"J" + struct.pack("<i", v) for v in values) + b"t"
    pkl = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n("
    pkl += b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpu"
    pkl += b"J" + struct.pack("<i", storage_bytes // 4) + b"tQ"
    pkl += b"K\x00" + ints(shape) + ints(strides) + b"\x89NtRq\x010]q\x02(" + b"h\x01" * times + b"e."
    return torch_zip(pkl, {"archive/data/0": b"\0" * storage_bytes})


write("bad/many_axes.pt", listed_tensor([1] * 2000, [0] * 2000, 4))
write("bad/listed_view.pt", listed_tensor([16384, 16], [0, 1], 4096))

# Raw pickles of the torch fixtures, good and bad: the seed corpus of the pickle and unpickler
# fuzz targets.
for folder, stem in (("torch", ""), ("bad", "bad-")):
    for name in sorted(os.listdir(path(folder))):
        if not name.endswith(".pt") or not zipfile.is_zipfile(path(folder, name)):
            continue
        with zipfile.ZipFile(path(folder, name)) as z:
            pkl = next(n for n in z.namelist() if n.endswith("/data.pkl"))
            write(f"pickle/{stem}{name[:-3]}.pkl", z.read(pkl))

# The JSON headers of the safetensors fixtures and a shard index: the seed corpus of the json
# fuzz target.
os.makedirs(path("json"), exist_ok=True)
for folder in ("safetensors", "bad"):
    for name in sorted(os.listdir(path(folder))):
        data = open(path(folder, name), "rb").read()
        if not name.endswith(".safetensors") or len(data) < 8:
            continue
        length = struct.unpack("<Q", data[:8])[0]
        write(f"json/{name[:-12]}.json", data[8:8 + length])
write("json/model.safetensors.index.json", json.dumps({
    "metadata": {"total_size": 48},
    "weight_map": {"fc1.weight": "model-00001-of-00002.safetensors", "fc1.bias": "model-00001-of-00002.safetensors",
                   "fc2.weight": "model-00002-of-00002.safetensors"}}, indent=2).encode())

with open(path("expected.json"), "w") as f:
    json.dump({"files": files}, f, indent=1)
    f.write("\n")
print(f"wrote {len(files)} good files")
