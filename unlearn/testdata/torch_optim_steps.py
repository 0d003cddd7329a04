#!/usr/bin/python3
"""Reference numbers for train_test.go (TestTrainFirstSteps*).

Runs two full-batch steps of torch.optim.SGD / torch.optim.Adam on
L(w) = 0.5*(2*w0^2 + 0.5*w1^2) from w = (1, -2) in float64 and prints the
iterates. The Go test writes the same numbers from the update formulas; this
script is the independent check that those formulas are PyTorch's.

Usage: /usr/bin/python3 unlearn/testdata/torch_optim_steps.py  (PyTorch 1.13)
"""
import torch

torch.set_printoptions(precision=17)
A = torch.tensor([2.0, 0.5], dtype=torch.float64)


def run(make_opt):
    w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = make_opt([w])
    out = []
    for _ in range(2):
        opt.zero_grad()
        loss = 0.5 * (A * w * w).sum()
        loss.backward()
        opt.step()
        out.append(w.detach().clone().tolist())
    return out


cases = {
    "sgd momentum=0.9 wd=0.01 lr=0.1": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
    "sgd nesterov momentum=0.9 lr=0.1": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "sgd momentum=0.9 dampening=0.5 lr=0.1": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5),
    "adam lr=0.1": lambda p: torch.optim.Adam(p, lr=0.1),
    "adam lr=0.1 wd=0.01": lambda p: torch.optim.Adam(p, lr=0.1, weight_decay=0.01),
}
for name, make in cases.items():
    steps = run(make)
    print(name)
    for s in steps:
        print("  %r" % (s,))
