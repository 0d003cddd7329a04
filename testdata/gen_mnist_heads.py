#!/usr/bin/python3
"""Head-scope fixtures whose backbone lethe's native engine cannot run (issue 10).

Run (Debian's interpreter: torch 1.13, onnx 1.12, numpy; MNIST in ~/.cache/lethe/mnist):

    /usr/bin/python3 testdata/gen_mnist_heads.py

Deterministic (fixed seeds, one torch thread, one BLAS thread), rerunnable; about a minute.
For each model NAME in {mnist_lstm_head, mnist_convt_head} it writes

  testdata/models/NAME.onnx          backbone + linear head, exported by torch.onnx.export
                                     (opset 13, input "x" float32 [N,784], output "logits"
                                     [N,10], dynamic batch axis N), metadata_props lethe.l2,
                                     lethe.loss, lethe.radius and train.*
  testdata/models/NAME.params.json   trainable parameters in DESIGN.md §2 order (the rule of
                                     gen_fixtures.trainable_params)
  testdata/fixtures/NAME.npz         np.savez_compressed, keys below

The models (the head is the last node, a Gemm reading head.weight and head.bias)
  mnist_lstm_head   x [N,784] -> Reshape [N,28,28] (28 steps of 28 pixels) -> LSTM(28 -> 32,
                    batch_first) -> last hidden state [N,32] -> head Linear(32 -> 10).
                    The graph holds an LSTM node (weights onnx::LSTM_* [1,128,28],
                    [1,128,32], [1,256], gates in ONNX's i,o,f,c order) plus the
                    Shape/Gather/ConstantOfShape that build the zero initial state. Its
                    initializers come in the order head.*, then onnx::LSTM_*.
  mnist_convt_head  x [N,784] -> Reshape [N,1,28,28] -> Conv(1->8, 4x4, stride 4) -> ReLU
                    [N,8,7,7] -> ConvTranspose(8->4, 3x3, stride 2, pads 1, output_padding 1)
                    -> ReLU [N,4,14,14] -> MaxPool 2 -> Flatten [N,196] -> head Linear(196 -> 10).
  (testdata/gen_backbones.py makes the tiny untrained lstm_head/convt_head graph fixtures;
  these are trained MNIST-sized models with exactly fitted heads, for end-to-end tests.)

How they are made
  * backbone: trained with a temporary head on mnist:train[0:10000] (Adam lr 3e-3, batch 128,
    3 epochs); the fixture samples below are not among them.
  * fixture set S: mnist:train[50000:50300] (300 samples, pixels x/255, flattened to 784).
  * head: the exact minimiser on S of mean softmax cross-entropy + MU/2 ||(head.weight,
    head.bias)||^2 (MU = 1e-3) over the backbone's float32 features of S, by Newton-CG in
    float64 (models/softmax_newton.py) until ||grad|| < 1e-10, rounded to float32.
  * a reference retrain: the same minimiser on S minus the samples `forget`.

Keys of fixtures/NAME.npz
  x            float32 [300,784]  inputs (S)
  y            int64   [300]      labels
  logits       float64 [300,10]   PyTorch's float32 forward of the exported model
  features     float64 [300,d]    the head's input (PyTorch float32 backbone), d = 32 / 196
  forget       int64   [10]       indices into S: 0, 30, ..., 270
  fit_weight   float64 [10,d]     the float64 minimiser on S (before the float32 rounding)
  fit_bias     float64 [10]
  retrain_weight, retrain_bias    the float64 minimiser on S minus forget
  mu           float64 []         MU

Checks (SystemExit "CHECK FAILED" if one fails): onnx.checker; the graph holds the LSTM /
ConvTranspose op and ends in the Gemm (features, head.weight, head.bias) -> logits; x and
logits have the dynamic batch axis N; an independent NumPy forward pass of the ONNX
semantics (ONNX LSTM equations with the file's W/R/B; ConvTranspose by scatter-add with the
file's pads and output_padding) from the file's initializers matches PyTorch to 1e-5
relative to the largest value; the file's head initializers are the float32 rounding of
fit_weight/fit_bias; both head fits have ||grad|| < 1e-10; each file stays under 1 MB.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from onnx import numpy_helper  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "models"))
import gen_fixtures as gf  # noqa: E402  (sets one torch thread, deterministic algorithms)
import reference as ref  # noqa: E402
import softmax_newton as sn  # noqa: E402

MU = 1e-3
TOL = 1e-10
BACKBONE_SPLIT = (0, 10000)
FIXTURE_SPLIT = (50000, 50300)
FORGET = np.arange(0, 300, 30)
MAX_BYTES = 1 << 20


def fail(msg):
    raise SystemExit("gen_mnist_heads.py: CHECK FAILED: " + msg)


class LSTMHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 32, batch_first=True)
        self.head = nn.Linear(32, 10)

    def features(self, x):
        _, (h, _) = self.lstm(x.reshape(-1, 28, 28))
        return h[-1]

    def forward(self, x):
        return self.head(self.features(x))


class ConvTHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 4, stride=4)
        self.convt = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
        self.head = nn.Linear(4 * 7 * 7, 10)

    def features(self, x):
        h = F.relu(self.conv(x.reshape(-1, 1, 28, 28)))
        h = F.relu(self.convt(h))
        return torch.flatten(F.max_pool2d(h, 2), 1)

    def forward(self, x):
        return self.head(self.features(x))


# ----------------------------------------------------------------------------- NumPy ONNX semantics


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def np_lstm_head(w, x):
    """ONNX LSTM (forward, default activations, no peepholes; gates i, o, f, c in W/R/B),
    initial state 0, input [N,28,28] batch-first -> last hidden state, then the head Gemm."""
    lstm = next(k for k in w if w[k].ndim == 3 and w[k].shape[2] == 28)        # W [1,4H,28]
    rk = next(k for k in w if w[k].ndim == 3 and w[k].shape[2] == 32)          # R [1,4H,32]
    bk = next(k for k in w if w[k].ndim == 2 and w[k].shape[1] == 256)         # B [1,8H]
    W, R, B = w[lstm][0], w[rk][0], w[bk][0]
    hd = R.shape[1]
    xs = x.astype(np.float64).reshape(-1, 28, 28)
    h = np.zeros((xs.shape[0], hd))
    c = np.zeros_like(h)
    for t in range(28):
        g = xs[:, t] @ W.T + h @ R.T + B[:4 * hd] + B[4 * hd:]
        i, o, f, cc = (g[:, k * hd:(k + 1) * hd] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(cc)
        h = sigmoid(o) * np.tanh(c)
    return h, h @ w["head.weight"].T + w["head.bias"]


def np_conv_transpose(x, W, b, stride, pad, out_pad):
    """ONNX ConvTranspose, group 1, 2-D: scatter-add, then crop `pad` at the start and
    keep (H-1)*stride - 2*pad + k + out_pad rows/columns."""
    n, ci, hh, ww = x.shape
    _, co, k, _ = W.shape
    full = np.zeros((n, co, (hh - 1) * stride + k + out_pad, (ww - 1) * stride + k + out_pad))
    for ki in range(k):
        for kj in range(k):
            full[:, :, ki:ki + (hh - 1) * stride + 1:stride, kj:kj + (ww - 1) * stride + 1:stride] += \
                np.einsum("nchw,co->nohw", x, W[:, :, ki, kj])
    ho = (hh - 1) * stride - 2 * pad + k + out_pad
    wo = (ww - 1) * stride - 2 * pad + k + out_pad
    return full[:, :, pad:pad + ho, pad:pad + wo] + b[None, :, None, None]


def np_convt_head(w, x, convt_attrs):
    xs = x.astype(np.float64).reshape(-1, 1, 28, 28)
    n = xs.shape[0]
    # Conv 4x4 stride 4, no padding: non-overlapping patches
    patches = xs.reshape(n, 1, 7, 4, 7, 4).transpose(0, 2, 4, 1, 3, 5).reshape(n, 7, 7, 16)
    h = np.einsum("nijk,ok->noij", patches, w["conv.weight"].reshape(8, 16)) + w["conv.bias"][None, :, None, None]
    h = np.maximum(h, 0)
    h = np.maximum(np_conv_transpose(h, w["convt.weight"], w["convt.bias"], **convt_attrs), 0)
    h = h.reshape(n, 4, 7, 2, 7, 2).max(axis=(3, 5)).reshape(n, -1)
    return h, h @ w["head.weight"].T + w["head.bias"]


def convt_attributes(model):
    node = next(n for n in model.graph.node if n.op_type == "ConvTranspose")
    a = {at.name: (list(at.ints) if at.type == onnx.AttributeProto.INTS else at.i) for at in node.attribute}
    s, p, op = a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]), a.get("output_padding", [0, 0])
    if (len(set(s)) != 1 or len(set(p)) != 1 or len(set(op)) != 1 or a.get("group", 1) != 1
            or a.get("dilations", [1, 1]) != [1, 1] or "output_shape" in a or "auto_pad" in a):
        fail(f"ConvTranspose attributes {a} are not the square case the NumPy check implements")
    return dict(stride=s[0], pad=p[0], out_pad=op[0])


# ----------------------------------------------------------------------------- build


def train_backbone(module, x, y, seed):
    xb = torch.from_numpy(x[BACKBONE_SPLIT[0]:BACKBONE_SPLIT[1]])
    yb = torch.from_numpy(y[BACKBONE_SPLIT[0]:BACKBONE_SPLIT[1]])
    opt = torch.optim.Adam(module.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(seed + 1)
    for ep in range(3):
        perm = torch.randperm(xb.shape[0], generator=gen)
        tot = 0.0
        for i in range(0, xb.shape[0], 128):
            idx = perm[i:i + 128]
            loss = F.cross_entropy(module(xb[idx]), yb[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot += loss.item() * idx.shape[0]
        print(f"  backbone epoch {ep + 1}: loss {tot / xb.shape[0]:.4f}", flush=True)


def build(name, ctor, op, seed, x, y, xt, yt):
    torch.manual_seed(seed)
    module = ctor()
    print(f"{name}: training the backbone on mnist:train[{BACKBONE_SPLIT[0]}:{BACKBONE_SPLIT[1]}]", flush=True)
    train_backbone(module, x, y, seed)
    module.eval()
    xs = x[FIXTURE_SPLIT[0]:FIXTURE_SPLIT[1]]
    ys = y[FIXTURE_SPLIT[0]:FIXTURE_SPLIT[1]]
    with torch.no_grad():
        feats = module.features(torch.from_numpy(xs)).numpy()
        temp_acc = float((module(torch.from_numpy(xt)).argmax(1).numpy() == yt).mean())
    phi = sn.with_bias(feats)
    d = feats.shape[1]
    th, info = sn.solve(phi, ys, MU, TOL)
    keep = np.ones(len(ys), bool)
    keep[FORGET] = False
    th_r, info_r = sn.solve(phi[keep], ys[keep], MU, TOL, theta0=th)
    for lab, inf in (("fit", info), ("retrain", info_r)):
        if not inf["grad_norm"] < TOL:
            fail(f"{name}: {lab} ||grad|| {inf['grad_norm']:.3e}")
    with torch.no_grad():
        module.head.weight.copy_(torch.from_numpy(th[:, :d]).float())
        module.head.bias.copy_(torch.from_numpy(th[:, d]).float())
        logits = module(torch.from_numpy(xs)).double().numpy()
        test_acc = float((module(torch.from_numpy(xt)).argmax(1).numpy() == yt).mean())
    th32 = np.hstack([module.head.weight.double().detach().numpy(), module.head.bias.double().detach().numpy()[:, None]])
    grad32 = sn.grad_norm(phi, ys, th32, MU)
    wnorm = ref.flat_params(module).double().norm().item()

    data, model = gf.export(module, torch.zeros(2, 784), 13)
    nodes = [n.op_type for n in model.graph.node]
    if op not in nodes:
        fail(f"{name}: no {op} node in {nodes}")
    last = model.graph.node[-1]
    if last.op_type != "Gemm" or list(last.input)[1:] != ["head.weight", "head.bias"] or list(last.output) != ["logits"]:
        fail(f"{name}: last node {last.op_type}{list(last.input)} is not the head Gemm")
    for io in list(model.graph.input) + list(model.graph.output):
        if io.type.tensor_type.shape.dim[0].dim_param != "N":
            fail(f"{name}: {io.name} has no dynamic batch axis")
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    if not (np.array_equal(inits["head.weight"], th[:, :d].astype(np.float32))
            and np.array_equal(inits["head.bias"], th[:, d].astype(np.float32))):
        fail(f"{name}: the file's head is not the float32 rounding of the fit")
    if op == "LSTM":
        np_feats, np_logits = np_lstm_head(inits, xs)
    else:
        np_feats, np_logits = np_convt_head(inits, xs, convt_attributes(model))
    # float32 PyTorch vs float64 NumPy of the same weights: relative to the largest value,
    # float32 rounding (6e-8 per operation) accumulated over a few hundred terms
    dfeat = float(np.abs(np_feats - feats).max() / max(1.0, np.abs(feats).max()))
    dlog = float(np.abs(np_logits - logits).max() / max(1.0, np.abs(logits).max()))
    if dfeat > 1e-5 or dlog > 1e-5:
        fail(f"{name}: NumPy forward of the ONNX semantics differs from PyTorch: features {dfeat}, logits {dlog}")

    meta = {
        "train.architecture": {"mnist_lstm_head": "Reshape [N,28,28] -> LSTM(28->32) -> last hidden state -> Linear(32->10)",
                               "mnist_convt_head": "Reshape [N,1,28,28] -> Conv(1->8,4x4,s4) -> ReLU -> ConvTranspose(8->4,"
                                             "3x3,s2,p1,op1) -> ReLU -> MaxPool2 -> Flatten -> Linear(196->10)"}[name],
        "train.backbone": (f"trained with a temporary head on mnist:train[{BACKBONE_SPLIT[0]}:{BACKBONE_SPLIT[1]}] "
                           f"(Adam lr 3e-3, batch 128, 3 epochs, seed {seed})"),
        "train.head_data": (f"fixtures/{name}.npz x,y = mnist:train[{FIXTURE_SPLIT[0]}:{FIXTURE_SPLIT[1]}] "
                            f"(pixels x/255, flattened)"),
        "train.head_parameters": "head.weight, head.bias",
        "train.loss": "head: softmax cross-entropy (mean) + l2_mu/2 ||(head.weight, head.bias)||^2",
        "train.l2_mu": f"{MU:g}",
        "train.head_grad_norm": f"{info['grad_norm']:.3e}",
        "train.head_grad_norm_float32": f"{grad32:.3e}",
        "train.command": "/usr/bin/python3 testdata/gen_mnist_heads.py",
        "lethe.l2": f"{MU:g}",
        "lethe.loss": "xent",
        "lethe.radius": f"{math.ceil(1.1 * wnorm)}",
    }
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(model)
    onnx_path = os.path.join(gf.MODELS_DIR, f"{name}.onnx")
    onnx.save(model, onnx_path)
    params = gf.trainable_params(model)
    total = sum(p["size"] for p in params)
    with open(os.path.join(gf.MODELS_DIR, f"{name}.params.json"), "w") as f:
        f.write(gf.params_json(f"{name}.onnx", 13, total, params))
    npz_path = os.path.join(gf.FIXTURES_DIR, f"{name}.npz")
    np.savez_compressed(npz_path, x=xs.astype(np.float32), y=ys.astype(np.int64), logits=logits,
                        features=feats.astype(np.float64), forget=FORGET.astype(np.int64),
                        fit_weight=th[:, :d], fit_bias=th[:, d], retrain_weight=th_r[:, :d],
                        retrain_bias=th_r[:, d], mu=np.float64(MU))
    for p in (onnx_path, npz_path):
        if os.path.getsize(p) > MAX_BYTES:
            fail(f"{p} is {os.path.getsize(p)} bytes")
    train_acc = float((logits.argmax(1) == ys).mean())
    rep = dict(model=name, ops=sorted(set(nodes)), params=total, head=[[p["name"], p["shape"]] for p in params
                                                                      if p["name"].startswith("head.")],
               temp_head_test_accuracy=temp_acc, head_train_accuracy=train_acc, head_test_accuracy=test_acc,
               grad_norm=info["grad_norm"], grad_norm_float32=grad32, retrain_grad_norm=info_r["grad_norm"],
               retrain_distance=float(np.linalg.norm(th_r - th)), rel_diff_features=dfeat, rel_diff_logits=dlog,
               onnx_bytes=os.path.getsize(onnx_path), npz_bytes=os.path.getsize(npz_path),
               trainable=[p["name"] for p in params])
    print("  " + json.dumps(rep), flush=True)
    return rep


def main():
    x, y = ref.load_dataset("mnist", "train")
    xt, yt = ref.load_dataset("mnist", "test")
    x, xt = x.reshape(-1, 784), xt.reshape(-1, 784)
    os.makedirs(gf.MODELS_DIR, exist_ok=True)
    os.makedirs(gf.FIXTURES_DIR, exist_ok=True)
    reps = [build(name, ctor, op, 0, x, y, xt, yt)
            for name, ctor, op in (("mnist_lstm_head", LSTMHead, "LSTM"), ("mnist_convt_head", ConvTHead, "ConvTranspose"))]
    write_readme(reps)


def write_readme(reps):
    rows = "\n".join(
        f"| {r['model']} | {', '.join(r['ops'])} | {r['params']:,} | "
        + ", ".join(f"`{n}` {s}" for n, s in r["head"])
        + f" | {', '.join('`' + t + '`' for t in r['trainable'])} | {r['onnx_bytes']:,} | {r['npz_bytes']:,} |"
        for r in reps)
    nums = "\n".join(
        f"| {r['model']} | {100 * r['temp_head_test_accuracy']:.2f}% | {100 * r['head_train_accuracy']:.2f}% | "
        f"{100 * r['head_test_accuracy']:.2f}% | {r['grad_norm']:.1e} | {r['grad_norm_float32']:.1e} | "
        f"{r['retrain_grad_norm']:.1e} | {r['retrain_distance']:.4f} | {r['rel_diff_features']:.1e} / "
        f"{r['rel_diff_logits']:.1e} |" for r in reps)
    text = f"""# MNIST head-scope fixtures with backbones the native engine cannot run

Written by `testdata/gen_mnist_heads.py` (every number below measured by its last run; the
script's docstring has the details). Regenerate with

    /usr/bin/python3 testdata/gen_mnist_heads.py

Deterministic: a rerun writes byte-identical files. For issue 10's head scope: lethe certifies
the head (the last Gemm) on features that onnxruntime computes from the backbone subgraph,
because the native engine has no LSTM / ConvTranspose. (`gen_backbones.py` makes the tiny,
untrained `lstm_head` / `convt_head` graph fixtures; these are trained MNIST-sized models
with exactly fitted heads, for end-to-end tests.)

- Input `x` float32 `[N,784]` (MNIST pixels x/255, reshaped inside the graph), output
  `logits` `[N,10]`, dynamic batch axis `N`, opset 13.
- Backbone trained with a temporary head on mnist:train[{BACKBONE_SPLIT[0]}:{BACKBONE_SPLIT[1]}]; the head fitted
  exactly (float64 Newton-CG, ‖∇‖ < {TOL:g}) on the fixture set S = mnist:train[{FIXTURE_SPLIT[0]}:{FIXTURE_SPLIT[1]}]
  with mean softmax cross-entropy + (μ/2)‖(head.weight, head.bias)‖², μ = {MU:g}, then rounded to
  float32. Metadata: `lethe.l2` = {MU:g}, `lethe.loss` = xent, `lethe.radius` (⌈1.1‖w‖⌉), `train.*`.
- `fixtures/NAME.npz` (np.savez_compressed): `x` float32 [300,784], `y` int64 [300], `logits`
  (PyTorch float32 forward of the file, as float64), `features` (the head's input), `forget`
  (indices {', '.join(str(i) for i in FORGET)} of S), `fit_weight`/`fit_bias` (float64 minimiser on S),
  `retrain_weight`/`retrain_bias` (float64 minimiser on S minus `forget`), `mu`.

| model | ops | params | head initializers | trainable parameters, file order (DESIGN.md §2) | onnx bytes | npz bytes |
| --- | --- | --- | --- | --- | --- | --- |
{rows}

| model | backbone's temporary head, test acc | head train acc (S) | head test acc (t10k) | ‖∇‖ fit (float64) | ‖∇‖ at the file's float32 head | ‖∇‖ retrain | ‖retrain − fit‖ | NumPy ONNX-semantics forward vs PyTorch, rel. max diff (features / logits) |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
{nums}

The head is not the first parameter in every file: in mnist_lstm_head the exporter puts
`head.weight`, `head.bias` before the LSTM's `onnx::LSTM_*` initializers. Find the head by the
last Gemm, not by position.
"""
    with open(os.path.join(HERE, "mnist_heads.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
