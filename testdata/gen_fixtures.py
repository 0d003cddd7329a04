#!/usr/bin/python3
"""Whole-model correctness fixtures for lethe's Go engine.

Run (from anywhere; Debian's interpreter has torch 1.13 + onnx 1.12 + numpy):

    /usr/bin/python3 testdata/gen_fixtures.py

It is deterministic (fixed seeds everywhere, single-threaded torch) and rerunnable: it
overwrites testdata/models/* and testdata/fixtures/*. It takes well under a minute.

For each model NAME in MODELS below it writes

  testdata/models/NAME.onnx          the model exported by torch.onnx.export (dynamic batch
                                     axis, input "x", output "logits", export_params=True)
  testdata/models/NAME.params.json   the trainable parameters in DESIGN.md section 2 order
                                     (see trainable_params()), with name/shape/offset/size
  testdata/fixtures/NAME.npz         x (float32), y (int64), logits, loss, grad, v, hvp
                                     (float64; grad/v/hvp flattened in params.json order)
  testdata/fixtures/mlp_losses.npz   mlp only: loss/grad/hvp for MSE and BCE-with-logits on
                                     one-hot targets (split from mlp.npz to keep files < 1 MB)

How the references are computed
-------------------------------
The gradients must be taken w.r.t. the ONNX *initializers*, which after export may differ
from the PyTorch module's parameters (BatchNorm folded into Conv, weights pre-transposed for
MatMul, equal-valued parameters de-duplicated behind Identity nodes). So the references are
computed by evaluating the exported ONNX graph itself: OnnxTorch below is a small ONNX->torch
interpreter covering exactly the ops these exports contain. It runs in float64 with the
trainable initializers as leaf tensors (requires_grad=True); gradients come from
torch.autograd.grad, Hessian-vector products from double backward (create_graph=True).
Float tensors are computed in float64 throughout, so a Cast to FLOAT keeps float64; float
constants/attributes stored in the file as float32 (e.g. sqrt(2) in GELU, epsilon) are used
with exactly their float32 value, as an engine reading the file would.

Checks (the script fails loudly with SystemExit if any does not hold):
  * onnx.checker passes; the graph contains the op the model is meant to test
    (BatchNormalization in cnn_bn, none in the folded models, LayerNormalization and Erf in
    the transformer, Identity in cnn_folded);
  * forward: interpreter(x) vs module.double()(x), max |diff| relative to max |logits|;
    tolerance 1e-12 where the ONNX graph is numerically the module (mlp, logreg, cnn_bn);
    for folded models against a "twin" module (BN removed, conv params set to the folded
    initializers) at 1e-12 and against the original module at 1e-5 (float32 folding
    rounding); for the transformer 1e-6 (the file stores float32 constants sqrt(2), sqrt(8));
  * also at a second batch size (N=3) to make sure nothing froze the batch axis;
  * gradient: interpreter vs the module's own autograd gradient, mapped by value (every
    ONNX trainable initializer equals one or more module parameters, possibly transposed;
    the ONNX gradient is the sum over them) -- exact-by-name mapping for mlp/logreg/cnn_bn;
  * HVP: central finite difference of the interpreter gradient along v, in float64,
    relative error <= 1e-6 (best of a few step sizes).

Inputs: MNIST-shaped models get synthetic, MNIST-looking digits (pen strokes, values k/255 in
[0,1], exact-zero background) from make_strokes(); the others get standard normal inputs.
The models are untrained (seeded default init) except that BatchNorm statistics/affine
parameters and the transformer's parameters are perturbed so that no two parameters are
equal (equal initializers get de-duplicated by the exporter; cnn_folded does it on purpose).
"""

import collections
import io
import json
import math
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.join(HERE, "models")
FIXTURES_DIR = os.path.join(HERE, "fixtures")

N_BATCH = 8          # fixture batch size
N_ALT = 3            # second batch size for the dynamic-axis check
FD_STEPS = (1e-3, 1e-4, 1e-5)
HVP_FD_TOL = 1e-6


def fail(msg):
    raise SystemExit("gen_fixtures.py: CHECK FAILED: " + msg)


# ---------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------

class MLP(nn.Module):
    """The paper's MNIST MLP 784-32-32-10 with ReLU (26,506 parameters)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 32)
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class LogReg(nn.Module):
    """Multinomial logistic regression 784->10: a single Gemm."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(784, 10)

    def forward(self, x):
        return self.linear(x)


class CNNBN(nn.Module):
    """Conv/BN net whose BatchNorms follow a ReLU, so the exporter cannot fold them.
    Conv1: 3x3 pad 1; Conv2: 3x3 stride 2 pad 2 dilation 2 groups 2; MaxPool 2;
    AvgPool 3/2 pad 1 count_include_pad=False."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)                                 # 28x28
        self.bn1 = nn.BatchNorm2d(8)
        self.pool1 = nn.MaxPool2d(2)                                                # 14x14
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=2, dilation=2, groups=2)  # 7x7
        self.bn2 = nn.BatchNorm2d(8)
        self.pool2 = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)  # 4x4
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = self.pool1(self.bn1(F.relu(self.conv1(x))))
        x = self.pool2(self.bn2(F.relu(self.conv2(x))))
        return self.fc(torch.flatten(x, 1))


class CNNFolded(nn.Module):
    """Ordinary Conv->BN->ReLU blocks (folded by the exporter in eval mode), then an MLP
    head with (a) fc2 applied twice (one parameter, two consumers) and (b) fc3 whose weight
    is a value-copy of fc2.weight (two parameters with equal values: the exporter keeps one
    initializer and emits Identity(fc2.weight) -> fc3.weight)."""

    fold_pairs = (("conv1", "bn1"), ("conv2", "bn2"))

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)             # 28x28
        self.bn1 = nn.BatchNorm2d(8)                            # -> maxpool 14x14
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)  # 7x7
        self.bn2 = nn.BatchNorm2d(16)                           # -> maxpool 3x3
        self.fc1 = nn.Linear(16 * 3 * 3, 32)
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 32)
        self.out = nn.Linear(32, 10)
        with torch.no_grad():
            self.fc3.weight.copy_(self.fc2.weight)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        x = F.relu(self.fc2(x))
        x = F.relu(self.fc2(x))       # tied: the same Linear used twice
        x = F.relu(self.fc3(x))       # equal-valued copy: de-duplicated -> Identity
        return self.out(x)


class ResBlockNet(nn.Module):
    """Stem conv-bn-relu (3->8), a residual block (conv-bn-relu-conv-bn + skip, relu),
    global average pool, linear 8->10. Input [N,3,8,8]. All BNs are folded on export."""

    fold_pairs = (("stem", "stem_bn"), ("block.conv1", "block.bn1"), ("block.conv2", "block.bn2"))

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.stem_bn = nn.BatchNorm2d(8)
        self.block = ResBlock(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.block(F.relu(self.stem_bn(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + x)


class TransformerNet(nn.Module):
    """nn.TransformerEncoderLayer(d=16, 2 heads, ff 32, gelu, batch_first), mean over T,
    linear to 5 classes. Input [N,6,16]."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32,
                                                  dropout=0.0, batch_first=True,
                                                  activation="gelu")
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        return self.fc(self.encoder(x).mean(dim=1))


def randomize_batchnorm(module, gen):
    """Gives every BatchNorm non-trivial running statistics and affine parameters (as after
    training), so they are distinct values and the eval-mode BN is not the identity."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(0.2 * torch.randn(c, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(c, generator=gen))
                m.weight.copy_(1.0 + 0.2 * torch.randn(c, generator=gen))
                m.bias.copy_(0.1 * torch.randn(c, generator=gen))


def perturb_all(module, gen, scale=0.1):
    """Adds small noise to every parameter (a stand-in for training) so that no two
    parameters are equal (zero biases, unit LayerNorm scales would be de-duplicated)."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))


# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------

def make_strokes(n, rng):
    """n MNIST-looking 28x28 images in [0,1]: 2-4 thick pen strokes (line segments and
    arcs) around the centre, anti-aliased, quantised to k/255, exact-zero background."""
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float64)
    out = np.zeros((n, 28, 28), dtype=np.float64)
    for i in range(n):
        img = np.zeros((28, 28))
        for _ in range(rng.integers(2, 5)):
            if rng.random() < 0.5:    # segment
                p0 = rng.uniform(6, 22, size=2)
                p1 = rng.uniform(6, 22, size=2)
                t = np.linspace(0.0, 1.0, 40)[:, None]
                pts = p0[None, :] * (1 - t) + p1[None, :] * t
            else:                     # arc
                c = rng.uniform(10, 18, size=2)
                r = rng.uniform(3, 7)
                a0 = rng.uniform(0, 2 * np.pi)
                a = a0 + np.linspace(0, rng.uniform(np.pi, 2 * np.pi), 60)
                pts = np.stack([c[0] + r * np.cos(a), c[1] + r * np.sin(a)], axis=1)
            width = rng.uniform(0.9, 1.4)
            d2 = ((yy[None] - pts[:, 0, None, None]) ** 2 + (xx[None] - pts[:, 1, None, None]) ** 2).min(0)
            img = np.maximum(img, np.exp(-d2 / (2 * width ** 2)))
        img = np.where(img < 0.08, 0.0, np.minimum(1.0, 1.3 * img))
        out[i] = np.round(img * 255.0) / 255.0
    return out.astype(np.float32)


# ---------------------------------------------------------------------------------------
# DESIGN.md section 2: the trainable parameters of an ONNX graph
# ---------------------------------------------------------------------------------------

FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16,
               onnx.TensorProto.BFLOAT16}

# op_type -> input slots that are not differentiable (shapes, axes, indices, exponents,
# bounds, running statistics, ...). Every other input slot counts as differentiable.
NON_DIFF_INPUTS = {
    "BatchNormalization": {3, 4},    # running mean / variance
    "Reshape": {1}, "Expand": {1}, "Tile": {1}, "ConstantOfShape": {0},
    "Slice": {1, 2, 3, 4}, "Squeeze": {1}, "Unsqueeze": {1}, "Split": {1},
    "Gather": {1}, "GatherElements": {1}, "GatherND": {1}, "ScatterElements": {1},
    "ScatterND": {1}, "Pad": {1, 3}, "Pow": {1}, "Clip": {1, 2}, "Resize": {1, 2, 3},
    "TopK": {1}, "OneHot": {0, 1, 2}, "Range": {0, 1, 2}, "CumSum": {1}, "Trilu": {1},
    "Dropout": {1, 2},
    "ReduceMean": {1}, "ReduceSum": {1}, "ReduceMax": {1}, "ReduceMin": {1},
    "ReduceProd": {1}, "ReduceL2": {1}, "ReduceLogSumExp": {1}, "ReduceSumSquare": {1},
    "Shape": {0}, "Size": {0},       # only the shape of the input is used
}


def trainable_params(model):
    """DESIGN.md section 2: the trainable parameters are the floating-point initializers
    in graph.initializer order, excluding those whose every use is a non-differentiable
    input slot (NON_DIFF_INPUTS: BatchNormalization running mean/var, shape/axes/indices
    inputs, Pow exponents, Clip bounds, ...). Uses are followed through Identity nodes (an
    initializer feeding Identity counts as used wherever the Identity's output is used).
    Integer/bool initializers are never trainable. Returns a list of dicts
    {name, shape, offset, size}; offsets are the running sum of sizes (row-major flatten)."""
    g = model.graph
    consumers = collections.defaultdict(list)          # value name -> [(node, slot)]
    for node in g.node:
        for slot, name in enumerate(node.input):
            if name:
                consumers[name].append((node, slot))
    graph_outputs = {o.name for o in g.output}

    def uses(name, seen=()):
        out = []
        if name in graph_outputs:
            out.append(("<graph output>", 0))
        for node, slot in consumers[name]:
            if node.op_type == "Identity":
                if node.output[0] in seen:
                    continue
                out.extend(uses(node.output[0], seen + (node.output[0],)))
            else:
                out.append((node.op_type, slot))
        return out

    params, offset = [], 0
    for init in g.initializer:
        if init.data_type not in FLOAT_TYPES:
            continue
        u = uses(init.name)
        if not u:
            fail(f"initializer {init.name!r} is unused; section 2 does not say whether an "
                 "unused float initializer is trainable, and no fixture should contain one")
        if all(slot in NON_DIFF_INPUTS.get(op, ()) for op, slot in u):
            continue
        shape = [int(d) for d in init.dims]
        size = int(np.prod(shape)) if shape else 1
        params.append({"name": init.name, "shape": shape, "offset": offset, "size": size})
        offset += size
    return params


def selftest_trainable_params():
    """A hand-built graph exercising every rule of trainable_params()."""
    from onnx import helper, TensorProto as TP
    f = lambda name, shape: numpy_helper.from_array(np.ones(shape, np.float32), name)
    inits = [f("w", [4, 4]), f("bn_scale", [4]), f("bn_b", [4]), f("bn_mean", [4]), f("bn_var", [4]),
             numpy_helper.from_array(np.array([-1, 4], np.int64), "shape"),
             f("pow_exp", []), f("clip_lo", []), f("alias_src", [4]), f("mean_via_identity", [4]),
             f("both", [])]
    nodes = [
        helper.make_node("Identity", ["alias_src"], ["alias"]),
        helper.make_node("Identity", ["mean_via_identity"], ["mean2"]),
        helper.make_node("MatMul", ["x", "w"], ["a"]),
        helper.make_node("Reshape", ["a", "shape"], ["b"]),
        helper.make_node("Unsqueeze", ["b", "axes"], ["c"]),   # axes: a Constant, not an init
        helper.make_node("Squeeze", ["c", "axes"], ["d"]),
        helper.make_node("Pow", ["d", "pow_exp"], ["e"]),
        helper.make_node("Clip", ["e", "clip_lo", "both"], ["f"]),
        helper.make_node("Mul", ["f", "both"], ["g"]),
        helper.make_node("Add", ["g", "alias"], ["h"]),
        helper.make_node("Unsqueeze", ["h", "axes2"], ["h4"]),
        helper.make_node("BatchNormalization", ["h4", "bn_scale", "bn_b", "bn_mean", "bn_var"], ["i"]),
        helper.make_node("BatchNormalization", ["i", "bn_scale", "bn_b", "mean2", "bn_var"], ["y"]),
    ]
    nodes.insert(0, helper.make_node("Constant", [], ["axes"], value=numpy_helper.from_array(np.array([0], np.int64))))
    nodes.insert(0, helper.make_node("Constant", [], ["axes2"], value=numpy_helper.from_array(np.array([2, 3], np.int64))))
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TP.FLOAT, [2, 4])],
                          [helper.make_tensor_value_info("y", TP.FLOAT, None)], inits)
    got = [p["name"] for p in trainable_params(helper.make_model(g))]
    want = ["w", "bn_scale", "bn_b", "alias_src", "both"]
    if got != want:
        fail(f"trainable_params self-test: got {got}, want {want}")


# ---------------------------------------------------------------------------------------
# A small ONNX -> torch interpreter (float64), differentiable twice
# ---------------------------------------------------------------------------------------

ONNX_TO_TORCH_DTYPE = {
    onnx.TensorProto.FLOAT: torch.float64,     # computed in float64 (see module doc)
    onnx.TensorProto.DOUBLE: torch.float64,
    onnx.TensorProto.FLOAT16: torch.float64,
    onnx.TensorProto.INT64: torch.int64,
    onnx.TensorProto.INT32: torch.int64,
    onnx.TensorProto.INT8: torch.int64,
    onnx.TensorProto.UINT8: torch.int64,
    onnx.TensorProto.BOOL: torch.bool,
}


def to_torch(arr):
    """numpy array from the file -> torch tensor: floats as float64, ints as int64."""
    arr = np.asarray(arr)
    if arr.dtype.kind == "f":
        return torch.from_numpy(arr.astype(np.float64))
    if arr.dtype.kind in "iu":
        return torch.from_numpy(arr.astype(np.int64))
    if arr.dtype.kind == "b":
        return torch.from_numpy(arr.copy())
    raise TypeError(f"unsupported initializer dtype {arr.dtype}")


def attrs_of(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pads_split(pads, nd):
    """ONNX pads [b1..bn, e1..en] -> (begin, end) lists."""
    pads = list(pads) if pads else [0] * (2 * nd)
    return pads[:nd], pads[nd:]


def _pad_nd(x, begin, end, value):
    """Pads the trailing spatial dims of x (F.pad order: last dim first)."""
    pad = []
    for b, e in zip(reversed(begin), reversed(end)):
        pad += [b, e]
    return F.pad(x, pad, value=value)


def _ints(t):
    return [int(v) for v in t.reshape(-1).tolist()]


class OnnxTorch:
    """Evaluates an ONNX graph with torch ops. `params` maps trainable initializer names to
    float64 tensors (leaves with requires_grad); every other initializer is a constant."""

    def __init__(self, model, exact_constants=None):
        self.model = model
        self.graph = model.graph
        # Diagnostics only: {float32 value: exact float64 value} substituted for scalar float
        # Constants and epsilon attributes (to show a gap to the module is only that).
        self.exact = dict(exact_constants or {})
        self.opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
        self.consts = {t.name: to_torch(numpy_helper.to_array(t)) for t in self.graph.initializer}
        self.op_types = sorted({n.op_type for n in self.graph.node})
        missing = [op for op in self.op_types if not hasattr(self, "op_" + op)]
        if missing:
            fail(f"interpreter lacks ops {missing}")

    def run(self, x, params):
        env = dict(self.consts)
        env.update(params)
        env[self.graph.input[0].name] = x
        for node in self.graph.node:
            ins = [env[n] if n else None for n in node.input]
            a = attrs_of(node)
            if self.exact and isinstance(a.get("epsilon"), float):
                a["epsilon"] = self.exact.get(np.float32(a["epsilon"]).item(), a["epsilon"])
            outs = getattr(self, "op_" + node.op_type)(ins, a, node)
            if self.exact and node.op_type == "Constant" and outs.is_floating_point() and outs.dim() == 0:
                outs = torch.tensor(self.exact.get(outs.item(), outs.item()), dtype=torch.float64)
            if not isinstance(outs, (list, tuple)):
                outs = [outs]
            for name, val in zip(node.output, outs):
                if name:
                    env[name] = val
        return env[self.graph.output[0].name]

    # -- elementwise -------------------------------------------------------------------
    def op_Identity(self, i, a, n): return i[0]
    def op_Relu(self, i, a, n): return torch.relu(i[0])
    def op_Erf(self, i, a, n): return torch.erf(i[0])
    def op_Sqrt(self, i, a, n): return torch.sqrt(i[0])
    def op_Neg(self, i, a, n): return -i[0]
    def op_Exp(self, i, a, n): return torch.exp(i[0])
    def op_Tanh(self, i, a, n): return torch.tanh(i[0])
    def op_Sigmoid(self, i, a, n): return torch.sigmoid(i[0])
    def op_Add(self, i, a, n): return i[0] + i[1]
    def op_Sub(self, i, a, n): return i[0] - i[1]
    def op_Mul(self, i, a, n): return i[0] * i[1]
    def op_Pow(self, i, a, n): return torch.pow(i[0], i[1])
    def op_Equal(self, i, a, n): return i[0] == i[1]
    def op_Where(self, i, a, n): return torch.where(i[0], i[1], i[2])

    def op_Div(self, i, a, n):
        if i[0].is_floating_point():
            return i[0] / i[1]
        return torch.div(i[0], i[1], rounding_mode="trunc")   # ONNX integer Div truncates

    def op_Cast(self, i, a, n):
        return i[0].to(ONNX_TO_TORCH_DTYPE[a["to"]])

    def op_Dropout(self, i, a, n):
        return i[0]       # inference

    # -- constants and shapes -------------------------------------------------------------
    def op_Constant(self, i, a, n):
        if "value" in a:
            return to_torch(numpy_helper.to_array(a["value"]))
        if "value_float" in a:
            return torch.tensor(np.float32(a["value_float"]), dtype=torch.float64)
        if "value_floats" in a:
            return torch.tensor(np.asarray(a["value_floats"], np.float32), dtype=torch.float64)
        if "value_int" in a:
            return torch.tensor(a["value_int"], dtype=torch.int64)
        if "value_ints" in a:
            return torch.tensor(a["value_ints"], dtype=torch.int64)
        fail(f"Constant {n.name}: unsupported attribute {list(a)}")

    def op_ConstantOfShape(self, i, a, n):
        v = to_torch(numpy_helper.to_array(a["value"])) if "value" in a else torch.zeros(1, dtype=torch.float64)
        return v.reshape(-1)[0].expand(_ints(i[0])).clone()

    def op_Shape(self, i, a, n):
        s = list(i[0].shape)
        start, end = a.get("start", 0), a.get("end", len(s))
        return torch.tensor(s[start:end], dtype=torch.int64)

    def op_Gather(self, i, a, n):
        data, idx = i[0], i[1]
        axis = a.get("axis", 0) % data.dim()
        idx = torch.where(idx < 0, idx + data.shape[axis], idx)
        out = torch.index_select(data, axis, idx.reshape(-1))
        return out.reshape(tuple(data.shape[:axis]) + tuple(idx.shape) + tuple(data.shape[axis + 1:]))

    def op_Unsqueeze(self, i, a, n):
        axes = _ints(i[1]) if self.opset >= 13 else a["axes"]
        x = i[0]
        rank = x.dim() + len(axes)
        for ax in sorted(ax % rank for ax in axes):
            x = x.unsqueeze(ax)
        return x

    def op_Squeeze(self, i, a, n):
        x = i[0]
        axes = (_ints(i[1]) if len(i) > 1 and i[1] is not None else None) if self.opset >= 13 else a.get("axes")
        if axes is None:
            return x.squeeze()
        for ax in sorted((ax % x.dim() for ax in axes), reverse=True):
            x = x.squeeze(ax)
        return x

    def op_Concat(self, i, a, n):
        return torch.cat(i, dim=a["axis"])

    def op_Reshape(self, i, a, n):
        x, shape = i[0], _ints(i[1])
        if not a.get("allowzero", 0):
            shape = [x.shape[k] if s == 0 else s for k, s in enumerate(shape)]
        return x.reshape(shape)

    def op_Flatten(self, i, a, n):
        x = i[0]
        axis = a.get("axis", 1) % (x.dim() + 1) if x.dim() else 0
        lead = int(np.prod(x.shape[:axis])) if axis else 1
        return x.reshape(lead, -1)

    def op_Transpose(self, i, a, n):
        perm = a.get("perm", list(range(i[0].dim()))[::-1])
        return i[0].permute(*perm)

    def op_Expand(self, i, a, n):
        shape = torch.broadcast_shapes(tuple(i[0].shape), tuple(_ints(i[1])))
        return i[0].expand(shape)

    def op_Slice(self, i, a, n):
        x = i[0]
        starts, ends = _ints(i[1]), _ints(i[2])
        axes = _ints(i[3]) if len(i) > 3 and i[3] is not None else list(range(len(starts)))
        steps = _ints(i[4]) if len(i) > 4 and i[4] is not None else [1] * len(starts)
        idx = [slice(None)] * x.dim()
        for s, e, ax, st in zip(starts, ends, axes, steps):
            if st <= 0:
                fail(f"Slice {n.name}: non-positive step {st} not supported")
            dim = x.shape[ax % x.dim()]
            s = max(0, min(dim, s + dim if s < 0 else s))
            e = max(0, min(dim, e + dim if e < 0 else e))
            idx[ax % x.dim()] = slice(s, e, st)
        return x[tuple(idx)]

    def op_Split(self, i, a, n):
        x, axis = i[0], a.get("axis", 0)
        if len(i) > 1 and i[1] is not None:
            sizes = _ints(i[1])
        elif "split" in a:
            sizes = list(a["split"])
        else:
            k = len(n.output)
            sizes = [x.shape[axis] // k] * k
        return list(torch.split(x, sizes, dim=axis))

    # -- linear algebra --------------------------------------------------------------------
    def op_MatMul(self, i, a, n):
        return torch.matmul(i[0], i[1])

    def op_Gemm(self, i, a, n):
        A = i[0].t() if a.get("transA", 0) else i[0]
        B = i[1].t() if a.get("transB", 0) else i[1]
        y = a.get("alpha", 1.0) * (A @ B)
        if len(i) > 2 and i[2] is not None:
            y = y + a.get("beta", 1.0) * i[2]
        return y

    # -- convolution and pooling -------------------------------------------------------------
    def op_Conv(self, i, a, n):
        x, w = i[0], i[1]
        b = i[2] if len(i) > 2 else None
        nd = w.dim() - 2
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            fail(f"Conv {n.name}: auto_pad not supported")
        begin, end = _pads_split(a.get("pads"), nd)
        x = _pad_nd(x, begin, end, 0.0)
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
        return conv(x, w, b, stride=a.get("strides", [1] * nd), padding=0,
                    dilation=a.get("dilations", [1] * nd), groups=a.get("group", 1))

    def op_MaxPool(self, i, a, n):
        k = a["kernel_shape"]
        nd = len(k)
        if len(n.output) > 1 and n.output[1]:
            fail(f"MaxPool {n.name}: Indices output not supported")
        begin, end = _pads_split(a.get("pads"), nd)
        x = _pad_nd(i[0], begin, end, -math.inf)
        pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[nd]
        return pool(x, k, stride=a.get("strides", [1] * nd), padding=0,
                    dilation=a.get("dilations", [1] * nd), ceil_mode=bool(a.get("ceil_mode", 0)))

    def op_AveragePool(self, i, a, n):
        k = a["kernel_shape"]
        nd = len(k)
        begin, end = _pads_split(a.get("pads"), nd)
        if begin != end:
            fail(f"AveragePool {n.name}: asymmetric pads not supported")
        pool = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[nd]
        return pool(i[0], k, stride=a.get("strides", [1] * nd), padding=begin,
                    ceil_mode=bool(a.get("ceil_mode", 0)),
                    count_include_pad=bool(a.get("count_include_pad", 0)))

    def op_GlobalAveragePool(self, i, a, n):
        x = i[0]
        return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)

    # -- normalisation and reductions ---------------------------------------------------------
    def op_BatchNormalization(self, i, a, n):
        """Inference form, written out: (x - mean) / sqrt(var + eps) * scale + B."""
        x, scale, B, mean, var = i[:5]
        if a.get("training_mode", 0):
            fail(f"BatchNormalization {n.name}: training_mode=1")
        shape = [1, -1] + [1] * (x.dim() - 2)
        eps = a.get("epsilon", 1e-5)
        return (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps) * scale.reshape(shape) + B.reshape(shape)

    def op_LayerNormalization(self, i, a, n):
        """Written out: normalise over axes [axis, rank), biased variance, then scale, B."""
        x, scale = i[0], i[1]
        B = i[2] if len(i) > 2 else None
        if len(n.output) > 1 and any(n.output[1:]):
            fail(f"LayerNormalization {n.name}: Mean/InvStdDev outputs not supported")
        axis = a.get("axis", -1) % x.dim()
        dims = tuple(range(axis, x.dim()))
        mu = x.mean(dim=dims, keepdim=True)
        var = ((x - mu) ** 2).mean(dim=dims, keepdim=True)
        y = (x - mu) / torch.sqrt(var + a.get("epsilon", 1e-5)) * scale
        return y + B if B is not None else y

    def op_Softmax(self, i, a, n):
        if self.opset < 13:
            fail("Softmax before opset 13 (coerced 2-D) not supported")
        return torch.softmax(i[0], dim=a.get("axis", -1))

    def op_ReduceMean(self, i, a, n):
        x = i[0]
        axes = a.get("axes")
        if len(i) > 1 and i[1] is not None:
            axes = _ints(i[1])
        if axes is None:
            axes = list(range(x.dim()))
        return x.mean(dim=tuple(axes), keepdim=bool(a.get("keepdims", 1)))


# ---------------------------------------------------------------------------------------
# Losses, gradients, HVPs
# ---------------------------------------------------------------------------------------

def loss_fn(kind, logits, y):
    """Mean loss. xent: softmax cross-entropy over the batch; mse / bce: on one-hot targets,
    mean over all N*C elements."""
    if kind == "xent":
        return F.cross_entropy(logits, y)
    onehot = F.one_hot(y, logits.shape[1]).to(logits.dtype)
    if kind == "mse":
        return ((logits - onehot) ** 2).mean()
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits, onehot)
    raise ValueError(kind)


class Objective:
    """Loss of the ONNX graph as a function of the flat trainable parameter vector."""

    def __init__(self, model, params, x, y, exact_constants=None):
        self.interp = OnnxTorch(model, exact_constants)
        self.params = params
        self.x = torch.from_numpy(np.asarray(x, np.float64))
        self.y = torch.from_numpy(np.asarray(y, np.int64))
        self.w0 = torch.cat([self.interp.consts[p["name"]].reshape(-1) for p in params])

    def leaves(self, w):
        return {p["name"]: w[p["offset"]:p["offset"] + p["size"]].reshape(p["shape"])
                for p in self.params}

    def forward(self, w, x=None):
        return self.interp.run(self.x if x is None else x, self.leaves(w))

    def loss(self, w, kind):
        return loss_fn(kind, self.forward(w), self.y)

    def grad(self, w, kind):
        w = w.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(self.loss(w, kind), w)
        return g

    def hvp(self, w, v, kind):
        w = w.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(self.loss(w, kind), w, create_graph=True)
        (hv,) = torch.autograd.grad((g * v).sum(), w)
        return hv


def hvp_fd_check(obj, v, hv, kind):
    """Central difference of the gradient along v/|v|; returns (best rel err, step)."""
    nv = v.norm()
    u = v / nv
    best = (math.inf, None)
    for h in FD_STEPS:
        fd = (obj.grad(obj.w0 + h * u, kind) - obj.grad(obj.w0 - h * u, kind)) / (2 * h) * nv
        err = ((fd - hv).norm() / hv.norm()).item()
        best = min(best, (err, h))
    return best


# ---------------------------------------------------------------------------------------
# Cross-checks against the PyTorch module
# ---------------------------------------------------------------------------------------

def folded_twin(module, model):
    """float64 copy of `module` with each folded BN replaced by Identity and its conv's
    weight/bias set to the folded ONNX initializers (found through the Conv node's scoped
    name, e.g. '/block/conv1/Conv' -> module path 'block.conv1')."""
    import copy
    twin = copy.deepcopy(module).double()
    consts = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    convs = {}
    for node in model.graph.node:
        if node.op_type == "Conv":
            path = ".".join(node.name.strip("/").split("/")[:-1])
            convs[path] = node
    for conv_path, bn_path in module.fold_pairs:
        node = convs.get(conv_path)
        if node is None:
            fail(f"no Conv node for module {conv_path!r} (have {sorted(convs)})")
        conv = twin.get_submodule(conv_path)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(consts[node.input[1]].astype(np.float64)))
            conv.bias = nn.Parameter(torch.from_numpy(consts[node.input[2]].astype(np.float64)))
        parent, _, leaf = bn_path.rpartition(".")
        setattr(twin.get_submodule(parent) if parent else twin, leaf, nn.Identity())
    return twin


def module_grad_in_onnx_order(module, params, model, x, y, by_name):
    """The module's own float64 autograd gradient of the mean cross-entropy, mapped onto
    the ONNX trainable initializers. A module parameter maps to the initializer it equals
    (exactly, or transposed for 2-D); the initializer's gradient is the sum over all module
    parameters mapping to it (de-duplicated/tied parameters). Every module parameter must
    map to exactly one initializer. With by_name=True the mapping must be by equal names."""
    names = [n for n, _ in module.named_parameters()]
    mparams = [p for _, p in module.named_parameters()]
    loss = loss_fn("xent", module(torch.from_numpy(x.astype(np.float64))), torch.from_numpy(y))
    grads = torch.autograd.grad(loss, mparams)
    consts = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    out = []
    used = collections.Counter()
    mapping = {}
    for p in params:
        val = consts[p["name"]]
        acc = np.zeros(val.shape)
        hits = []
        for n, mp, g in zip(names, mparams, grads):
            mv = mp.detach().numpy()
            if mv.shape == val.shape and np.array_equal(mv, val):
                acc += g.numpy()
                hits.append(n)
            elif mv.ndim == 2 and mv.T.shape == val.shape and np.array_equal(mv.T, val):
                acc += g.numpy().T
                hits.append(n + ".T")
        if not hits:
            fail(f"initializer {p['name']!r} matches no module parameter")
        if by_name and hits != [p["name"]]:
            fail(f"initializer {p['name']!r} maps to {hits}, expected the same name")
        for h in hits:
            used[h.removesuffix(".T")] += 1
        mapping[p["name"]] = hits
        out.append(acc.reshape(-1))
    bad = [n for n in names if used[n] != 1]
    if bad:
        fail(f"module parameters mapped {[(n, used[n]) for n in bad]} times (want 1)")
    return np.concatenate(out), mapping


def params_json(model_file, opset, total, params):
    """params.json text: one parameter per line, keys model/opset/total/params."""
    rows = ",\n".join("  " + json.dumps(p) for p in params)
    return (f'{{"model": {json.dumps(model_file)}, "opset": {opset}, "total": {total},\n'
            f' "params": [\n{rows}\n ]}}\n')


def rel_diff(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


# ---------------------------------------------------------------------------------------
# Per-model pipeline
# ---------------------------------------------------------------------------------------

def export(module, example, opset):
    module.eval()
    buf = io.BytesIO()
    torch.onnx.export(module, example, buf, export_params=True, opset_version=opset,
                      do_constant_folding=True, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}},
                      training=torch.onnx.TrainingMode.EVAL)
    data = buf.getvalue()
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model)
    return data, model


# name: (constructor, opset, input kind, classes, folded, required ops, forbidden ops,
#        forward tolerance vs the original module)
MODELS = {
    "mlp":         (MLP,            13, "mnist784", 10, False, {"Gemm", "Relu"}, set(), 1e-12),
    "logreg":      (LogReg,         13, "mnist784", 10, False, {"Gemm"}, set(), 1e-12),
    "cnn_bn":      (CNNBN,          13, "mnist2d",  10, False,
                    {"Conv", "BatchNormalization", "MaxPool", "AveragePool", "Flatten", "Gemm"}, set(), 1e-12),
    "cnn_folded":  (CNNFolded,      13, "mnist2d",  10, True, {"Conv", "Identity", "Gemm"},
                    {"BatchNormalization"}, 1e-5),
    "resblock":    (ResBlockNet,    13, "img3x8x8", 10, True, {"Conv", "Add", "GlobalAveragePool", "Gemm"},
                    {"BatchNormalization"}, 1e-5),
    "transformer": (TransformerNet, 17, "seq6x16",  5,  False,
                    {"LayerNormalization", "Erf", "Softmax", "MatMul"}, {"Identity"}, 1e-6),
}


# Float32 constants the transformer export stores (GELU's sqrt(2), attention's sqrt(d_head)
# = sqrt(8), LayerNorm epsilon) -> the float64 values the module uses.
EXACT_CONSTANTS = {
    "transformer": {np.float32(v).item(): v for v in (math.sqrt(2.0), math.sqrt(8.0), 1e-5)},
}


def make_inputs(kind, n, rng):
    if kind == "mnist784":
        return make_strokes(n, rng).reshape(n, 784)
    if kind == "mnist2d":
        return make_strokes(n, rng).reshape(n, 1, 28, 28)
    if kind == "img3x8x8":
        return rng.standard_normal((n, 3, 8, 8)).astype(np.float32)
    if kind == "seq6x16":
        return rng.standard_normal((n, 6, 16)).astype(np.float32)
    raise ValueError(kind)


def build(name, seed):
    ctor, opset, in_kind, classes, folded, need, forbid, fwd_tol = MODELS[name]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    module = ctor()
    randomize_batchnorm(module, gen)
    if name == "transformer":
        perturb_all(module, gen)
    module.eval()
    return module


def process(name, seed):
    ctor, opset, in_kind, classes, folded, need, forbid, fwd_tol = MODELS[name]
    rng = np.random.default_rng(seed)
    module = build(name, seed)
    x = make_inputs(in_kind, N_BATCH, rng)
    y = rng.integers(0, classes, size=N_BATCH).astype(np.int64)
    x_alt = make_inputs(in_kind, N_ALT, rng)

    data, model = export(module, torch.from_numpy(x[:2]), opset)
    hist = collections.Counter(n.op_type for n in model.graph.node)
    if not need <= set(hist):
        fail(f"{name}: exported graph lacks {sorted(need - set(hist))}; has {dict(hist)}")
    if forbid & set(hist):
        fail(f"{name}: exported graph unexpectedly has {sorted(forbid & set(hist))}")

    params = trainable_params(model)
    total = sum(p["size"] for p in params)
    obj = Objective(model, params, x, y)
    report = {"name": name, "opset": opset, "ops": dict(sorted(hist.items())), "params": total,
              "initializers": len(model.graph.initializer), "bytes_onnx": len(data)}

    # Forward: interpreter vs module (and vs the folded twin).
    mod64 = __import__("copy").deepcopy(module).double()
    ref_mod = folded_twin(module, model) if folded else mod64
    with torch.no_grad():
        logits = obj.forward(obj.w0)
        for xx, tag in ((x, ""), (x_alt, "_alt")):
            xi = torch.from_numpy(xx.astype(np.float64))
            got = obj.forward(obj.w0, xi).numpy()
            d = rel_diff(got, ref_mod(xi).numpy())
            report["fwd_vs_module" + ("_twin" if folded else "") + tag] = d
            if d > 1e-12 and (folded or fwd_tol <= 1e-12):
                fail(f"{name}: forward{tag} differs from the {'twin ' if folded else ''}module by {d:.3g}")
            if folded:
                d2 = rel_diff(got, mod64(xi).numpy())
                report["fwd_vs_module" + tag] = d2
                if d2 > fwd_tol:
                    fail(f"{name}: forward{tag} differs from the original module by {d2:.3g}")
            elif d > fwd_tol:
                fail(f"{name}: forward{tag} differs from the module by {d:.3g}")

    # Gradient / HVP of the mean cross-entropy.
    loss = obj.loss(obj.w0, "xent").item()
    grad = obj.grad(obj.w0, "xent")
    v = torch.from_numpy(np.random.default_rng(seed + 1000).standard_normal(total))
    hvp = obj.hvp(obj.w0, v, "xent")

    mgrad, mapping = module_grad_in_onnx_order(ref_mod, params, model, x, y, by_name=not folded and name != "transformer")
    gd = rel_diff(grad.numpy(), mgrad)
    report["grad_vs_module"] = gd
    report["grad_mapping"] = {k: m for k, m in mapping.items() if m != [k]}
    gtol = 1e-6 if name == "transformer" else 1e-11
    if gd > gtol:
        fail(f"{name}: gradient differs from the module's autograd by {gd:.3g}")

    if name in EXACT_CONSTANTS:
        # Diagnostic: with the file's float32 constants replaced by their exact values the
        # interpreter must reproduce the module to float64 rounding.
        ex = Objective(model, params, x, y, EXACT_CONSTANTS[name])
        with torch.no_grad():
            xi = torch.from_numpy(x.astype(np.float64))
            d = rel_diff(ex.forward(ex.w0, xi).numpy(), ref_mod(xi).numpy())
        dg = rel_diff(ex.grad(ex.w0, "xent").numpy(), mgrad)
        report["fwd_vs_module_exact_consts"], report["grad_vs_module_exact_consts"] = d, dg
        if d > 1e-12 or dg > 1e-11:
            fail(f"{name}: with exact constants forward/grad differ from module by {d:.3g}/{dg:.3g}")

    err, h = hvp_fd_check(obj, v, hvp, "xent")
    report["hvp_vs_fd"], report["hvp_fd_step"] = err, h
    if err > HVP_FD_TOL:
        fail(f"{name}: HVP vs finite difference rel err {err:.3g} > {HVP_FD_TOL}")
    # Symmetry sanity check: u.(Hv) == v.(Hu).
    u = torch.from_numpy(np.random.default_rng(seed + 2000).standard_normal(total))
    hu = obj.hvp(obj.w0, u, "xent")
    sym = abs((u @ hvp - v @ hu).item()) / max(abs((u @ hvp).item()), 1e-300)
    report["hvp_symmetry"] = sym
    if sym > 1e-10:
        fail(f"{name}: HVP not symmetric: {sym:.3g}")

    fixture = {"x": x, "y": y, "logits": logits.numpy(), "loss": np.float64(loss),
               "grad": grad.numpy(), "v": v.numpy(), "hvp": hvp.numpy()}
    extra = None
    if name == "mlp":
        extra = {}
        for kind in ("mse", "bce"):
            g = obj.grad(obj.w0, kind)
            hv = obj.hvp(obj.w0, v, kind)
            e, hk = hvp_fd_check(obj, v, hv, kind)
            report[f"hvp_{kind}_vs_fd"] = e
            if e > HVP_FD_TOL:
                fail(f"{name}: {kind} HVP vs finite difference rel err {e:.3g}")
            # The module's autograd for the same loss (names map 1:1 for the mlp).
            xi = torch.from_numpy(x.astype(np.float64))
            mp = list(mod64.parameters())
            mg = torch.autograd.grad(loss_fn(kind, mod64(xi), torch.from_numpy(y)), mp)
            d = rel_diff(g.numpy(), torch.cat([t.reshape(-1) for t in mg]).numpy())
            report[f"grad_{kind}_vs_module"] = d
            if d > 1e-11:
                fail(f"{name}: {kind} gradient differs from module by {d:.3g}")
            extra[f"loss_{kind}"] = np.float64(obj.loss(obj.w0, kind).item())
            extra[f"grad_{kind}"] = g.numpy()
            extra[f"hvp_{kind}"] = hv.numpy()

    # Write.
    with open(os.path.join(MODELS_DIR, name + ".onnx"), "wb") as f:
        f.write(data)
    with open(os.path.join(MODELS_DIR, name + ".params.json"), "w") as f:
        f.write(params_json(name + ".onnx", opset, total, params))
    np.savez(os.path.join(FIXTURES_DIR, name + ".npz"), **fixture)
    if extra is not None:
        np.savez(os.path.join(FIXTURES_DIR, name + "_losses.npz"), **extra)
    return report


def main():
    os.makedirs(MODELS_DIR, exist_ok=True)
    os.makedirs(FIXTURES_DIR, exist_ok=True)
    print(f"torch {torch.__version__}, onnx {onnx.__version__}, numpy {np.__version__}")
    selftest_trainable_params()
    reports = []
    for k, name in enumerate(MODELS):
        r = process(name, seed=1000 + 17 * k)
        reports.append(r)
        print(f"\n== {name}: opset {r['opset']}, {r['params']} trainable params, "
              f"{r['initializers']} initializers, {r['bytes_onnx']} bytes")
        print("   ops:", ", ".join(f"{op}:{c}" for op, c in r["ops"].items()))
        for key, val in r.items():
            if key.startswith(("fwd", "grad_v", "grad_m", "grad_s", "grad_b", "hvp")):
                if isinstance(val, float):
                    print(f"   {key:28s} {val:.3e}")
            if key == "grad_mapping" and val:
                print(f"   {key:28s} {val}")
    print("\nall checks passed")


if __name__ == "__main__":
    main()
