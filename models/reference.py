"""Reference architectures, data loading and ONNX weight I/O shared by
models/train.py and bench/torch_bench.py.

Run with Debian's interpreter (/usr/bin/python3: torch 1.13 CPU, onnx 1.12, numpy).

Data: the MNIST / Fashion-MNIST idx files (gzip), pixels scaled to x/255 in
[0, 1] with no mean/std normalisation -- the same preprocessing as lethe's
`mnist:` / `fashion-mnist:` loaders.
"""

import gzip
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MNIST_DIR = os.path.expanduser(os.environ.get("LETHE_MNIST_DIR", "~/.cache/lethe/mnist"))
FASHION_DIR = os.environ.get("LETHE_FASHION_DIR", "/usr/share/datasets/fashion-mnist")

DATASETS = {"mnist": MNIST_DIR, "fashion-mnist": FASHION_DIR}


def read_idx(path):
    """Reads an idx(.gz) file into a numpy array (uint8 data, big-endian header)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte idx file")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {data.size} bytes for shape {dims}")
    return data.reshape(dims)


def load_dataset(name, split):
    """Returns (x float32 [N,28,28] in [0,1], y int64 [N]) for name in
    {"mnist", "fashion-mnist"} and split in {"train", "test"}."""
    root = DATASETS[name]
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(root, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(root, f"{prefix}-labels-idx1-ubyte.gz"))
    return x.astype(np.float32) / np.float32(255.0), y.astype(np.int64)


class MLP(nn.Module):
    """The paper's MNIST MLP: 784-32-32-10 with ReLU (26,506 parameters).
    Input [N, 784], output logits [N, 10]."""

    def __init__(self, hidden=32, layers=3, inputs=784, classes=10):
        super().__init__()
        mods = [nn.Linear(inputs, hidden), nn.ReLU()]
        for _ in range(layers - 2):
            mods += [nn.Linear(hidden, hidden), nn.ReLU()]
        mods += [nn.Linear(hidden, classes)]
        self.layers = nn.Sequential(*mods)

    def forward(self, x):
        return self.layers(x)


class SmallCNN(nn.Module):
    """Conv(1->8,3,pad1)-ReLU-MaxPool2-Conv(8->16,3,pad1)-ReLU-MaxPool2-Flatten-
    Linear(784->10) (9,098 parameters). Input [N,1,28,28], output logits [N,10]."""

    def __init__(self, c1=8, c2=16, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.fc = nn.Linear(c2 * 7 * 7, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


# name -> (constructor, data set, input shape without the batch axis)
ARCHS = {
    "mnist_mlp": (MLP, "mnist", (784,)),
    "fashion_cnn": (SmallCNN, "fashion-mnist", (1, 28, 28)),
}


def load_data_for(model_name, split):
    """Data set of a bundled model, shaped for its input."""
    _, ds, shape = ARCHS[model_name]
    x, y = load_dataset(ds, split)
    return torch.from_numpy(x.reshape((-1,) + shape)), torch.from_numpy(y)


def flat_params(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def param_count(model):
    return sum(p.numel() for p in model.parameters())


def onnx_initializers(path):
    """Returns the ONNX file's initializers as an ordered list of (name, ndarray)."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    return [(t.name, numpy_helper.to_array(t)) for t in m.graph.initializer]


def load_from_onnx(model_name, path):
    """Builds the reference architecture and fills it with the ONNX file's
    initializers, matched by name (torch.onnx.export keeps state_dict names)."""
    ctor = ARCHS[model_name][0]
    model = ctor()
    inits = dict(onnx_initializers(path))
    sd = model.state_dict()
    missing = [k for k in sd if k not in inits]
    if missing:
        raise ValueError(f"{path}: no initializer for {missing}")
    model.load_state_dict({k: torch.from_numpy(inits[k].copy()) for k in sd})
    return model
