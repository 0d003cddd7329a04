#!/usr/bin/python3
"""Models whose backbone the native Go engine cannot run, with an affine head.

Run (from anywhere; Debian's interpreter has torch 1.13 + onnx 1.12 + numpy):

    /usr/bin/python3 testdata/gen_backbones.py

Deterministic (fixed seeds, one torch thread) and rerunnable: it overwrites the files below.
They are for the head scope of issue 10: the head (the last affine layer) is certified by the
native engine, while the backbone's features come from onnxruntime on an extracted subgraph
(onnxio.Model.Extract). For each model NAME it writes

  testdata/models/NAME.onnx     torch.onnx.export, opset 13, input "x" (dynamic batch axis
                                "N"), output "logits", constant folding on, eval mode
  testdata/fixtures/NAME.npz    x (float32 [N, ...], standard normal) and logits (float32,
                                the PyTorch module's own float32 output on x)

The models (untrained, seeded default initialisation):

  lstm_head    x [N,5,4] -> LSTM(4 -> 8, batch_first) -> last time step [N,8]
               -> Linear(8 -> 3), exported as Gemm.
  convt_head   x [N,2,3,3] -> ConvTranspose2d(2 -> 4, kernel 2, stride 2) [N,4,6,6] -> ReLU
               -> flatten(2) [N,4,36] -> Linear(36 -> 5) on the last axis [N,4,5], exported as
               MatMul (weight pre-transposed into an initializer) + Add -> flatten(1) [N,20].

Checks (SystemExit on failure): onnx.checker passes; the graph holds the op the backbone is
meant to test (LSTM, ConvTranspose) and the head's op (Gemm; MatMul and Add).
"""

import io
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

HERE = os.path.dirname(os.path.abspath(__file__))
N_BATCH = 8


def fail(msg):
    raise SystemExit("gen_backbones.py: CHECK FAILED: " + msg)


class LSTMHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        h, _ = self.lstm(x)
        return self.fc(h[:, -1, :])


class ConvTHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(2, 4, 2, stride=2)
        self.fc = nn.Linear(36, 5)

    def forward(self, x):
        h = F.relu(self.up(x)).flatten(2)
        return self.fc(h).flatten(1)


# name: (constructor, input shape without the batch axis, required ops)
MODELS = {
    "lstm_head": (LSTMHead, (5, 4), {"LSTM", "Gemm"}),
    "convt_head": (ConvTHead, (2, 3, 3), {"ConvTranspose", "MatMul", "Add"}),
}


def main():
    for seed, (name, (ctor, shape, ops)) in enumerate(MODELS.items()):
        torch.manual_seed(seed)
        module = ctor().eval()
        x = torch.randn(N_BATCH, *shape)
        with torch.no_grad():
            logits = module(x)
        buf = io.BytesIO()
        torch.onnx.export(module, x, buf, export_params=True, opset_version=13,
                          do_constant_folding=True, input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}},
                          training=torch.onnx.TrainingMode.EVAL)
        model = onnx.load_from_string(buf.getvalue())
        onnx.checker.check_model(model)
        have = {n.op_type for n in model.graph.node}
        if not ops <= have:
            fail(f"{name}: the export lacks {sorted(ops - have)} (ops: {sorted(have)})")
        with open(os.path.join(HERE, "models", name + ".onnx"), "wb") as f:
            f.write(buf.getvalue())
        np.savez(os.path.join(HERE, "fixtures", name + ".npz"),
                 x=x.numpy().astype(np.float32), logits=logits.numpy().astype(np.float32))
        print(f"{name}: {len(buf.getvalue())} bytes, ops {sorted(have)}")


if __name__ == "__main__":
    main()
