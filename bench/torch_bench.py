#!/usr/bin/python3
"""PyTorch side of lethe's side-by-side benchmarks (DESIGN.md §4).

    /usr/bin/python3 bench/torch_bench.py --threads 2 --out bench/torch.json
    /usr/bin/python3 bench/torch_bench.py --quick          # retraining: 1 epoch, extrapolated x30

Prints one JSON object (and writes it to --out). Times are wall-clock seconds per
call (time.perf_counter), median and min over --repeats samples after warm-up;
each sample averages `inner` back-to-back calls (chosen so a sample lasts at
least --min-sample seconds). Everything is float32 on the CPU with
torch.set_num_threads(--threads) and one inter-op thread.

Sections (see bench/README.md for the exact definitions and the sources of the
settings):
  forward  no-grad forward at batch 1024: mnist_mlp (MNIST test[:1024]) and
           fashion_cnn (Fashion-MNIST test[:1024]);
  grad     gradient of the mean cross-entropy w.r.t. all parameters:
           mnist_mlp at batch 10 and 128, fashion_cnn at batch 128;
  hvp      exact Hessian-vector product of the same loss by double backward
           (torch.autograd.grad(g, params, v) with create_graph=True), same
           batches, plus the ratio hvp/grad;
  unlearn  the paper's certified unlearning of 1,000 MNIST training samples
           (Zhang et al., ICML 2024): full-retained-set gradient + LiSSA
           (10 repetitions x depth 1000, batch 10, scale 1000, damping 0.01,
           L2 5e-4), in a lean in-memory implementation of DESIGN.md's
           iteration and in a variant that mirrors the paper's code;
  retrain  retraining from scratch with the paper's recipe: projected Adam,
           lr 0.01, batch 128, L2 5e-4, C = 20, 30 epochs on the 59,000
           retained samples;
  head     the head of models/mnist_head.onnx fitted from zeros on its frozen
           backbone's features of the retained private samples by L-BFGS
           (float64, strong Wolfe line search) until the gradient norm is at
           most --head-grad-tol: what `lethe retrain --scope head` computes
           (not in the default --sections).
The models' weights are read from models/*.onnx (initializers), so PyTorch and
lethe run the same numbers.
"""

import argparse
import ctypes
import datetime
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

# libgomp's default wait policy spins, and on a shared machine (other processes on
# the cores) a spinning OpenMP team stalls for whole scheduler ticks: here a
# batch-10 MLP gradient at 2 threads took ~8 ms instead of ~0.13 ms. PASSIVE
# (waiting threads sleep) is the robust setting; it must be set before torch
# loads libgomp. An OMP_WAIT_POLICY already in the environment wins.
OMP_WAIT_POLICY_SET = "OMP_WAIT_POLICY" not in os.environ
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "models"))
import reference as ref  # noqa: E402
import train as recipe  # noqa: E402

# The paper's settings, from github.com/zhangbinchi/certified-deep-unlearning
# (commit 912a66c141e6a6b332c97a2b7c3c3133e2190a5f): train.py / unlearn.py defaults.
PAPER = dict(
    num_unlearn=1000,      # unlearn.py --num-unlearn
    split_seed=0,          # utils.load_unlearn_data: torch.manual_seed(0); random_split
    grad_batch=128,        # unlearn.py --batch-size (loader of the full retained-set gradient)
    lissa_batch=10,        # unlearn.py --unlearn-bs
    lissa_repetitions=10,  # unlearn.py --s1
    lissa_depth=1000,      # unlearn.py --s2
    lissa_scale=1000.0,    # unlearn.py --scale
    gamma=0.01,            # unlearn.py --gamma (convex-approximation damping, lethe's lambda)
    weight_decay=5e-4,     # train.py/unlearn.py --weight-decay (lethe's --l2 mu)
    noise_std=0.001,       # unlearn.py --std (fixed sigma, not calibrated)
    C=20.0,                # train.py --C
    lr=0.01,               # train.py --lr (Adam)
    train_batch=128,       # train.py --batch-size
    epochs=30,             # train.py --epochs
)
PAPER_SOURCE = ("https://github.com/zhangbinchi/certified-deep-unlearning "
                "@ 912a66c141e6a6b332c97a2b7c3c3133e2190a5f (train.py, unlearn.py, utils.py)")


# ----------------------------------------------------------------------------- timing


def timeit(fn, *, repeats, min_sample, warmup=3, inner=None):
    """Per-call seconds of fn(): median/min over `repeats` samples of `inner` calls."""
    for _ in range(warmup):
        fn()
    if inner is None:
        t0 = time.perf_counter()
        fn()
        one = max(time.perf_counter() - t0, 1e-7)
        inner = max(1, int(math.ceil(min_sample / one)))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return dict(median_s=statistics.median(samples), min_s=min(samples),
                repeats=repeats, inner=inner)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- kernels


def grad_fn(model, xb, yb):
    params = list(model.parameters())

    def f():
        loss = F.cross_entropy(model(xb), yb)
        return torch.autograd.grad(loss, params)
    return f


def hvp_fn(model, xb, yb, v):
    params = list(model.parameters())

    def f():
        loss = F.cross_entropy(model(xb), yb)
        g = torch.autograd.grad(loss, params, create_graph=True)
        return torch.autograd.grad(g, params, grad_outputs=v)
    return f


def full_gradient(model, x, y, batch, mu):
    """Mean cross-entropy gradient over (x, y) (+ mu*w), summed batch by batch
    like the paper's grad_batch (reduction='sum', divided by n)."""
    params = list(model.parameters())
    acc = [torch.zeros_like(p) for p in params]
    n = x.shape[0]
    for i in range(0, n, batch):
        loss = F.cross_entropy(model(x[i:i + batch]), y[i:i + batch], reduction="sum")
        for a, g in zip(acc, torch.autograd.grad(loss, params)):
            a.add_(g)
    return [a / n + mu * p.detach() for a, p in zip(acc, params)]


def full_hvp(model, x, y, v, batch, mu):
    params = list(model.parameters())
    acc = [torch.zeros_like(p) for p in params]
    n = x.shape[0]
    for i in range(0, n, batch):
        loss = F.cross_entropy(model(x[i:i + batch]), y[i:i + batch], reduction="sum")
        g = torch.autograd.grad(loss, params, create_graph=True)
        for a, h in zip(acc, torch.autograd.grad(g, params, grad_outputs=v)):
            a.add_(h)
    return [a / n + mu * vi for a, vi in zip(acc, v)]


def lissa_lean(model, x, y, g, *, batch, depth, reps, scale, lam, mu, gen):
    """DESIGN.md's LiSSA: v_0 = g, v_i = g + v_{i-1} - (H_Bi v_{i-1} + lam v_{i-1})/s,
    u = mean over reps of v_depth / s, where H_B is the Hessian of the batch's mean
    cross-entropy + mu/2 ||w||^2. Batches drawn uniformly with replacement; data
    indexed in memory; one double backward per step."""
    params = list(model.parameters())
    n = x.shape[0]
    damp = lam + mu
    out = [torch.zeros_like(p) for p in params]
    for _ in range(reps):
        idx = torch.randint(0, n, (depth, batch), generator=gen)
        v = [gi.clone() for gi in g]
        for j in range(depth):
            b = idx[j]
            loss = F.cross_entropy(model(x[b]), y[b])
            gr = torch.autograd.grad(loss, params, create_graph=True)
            hv = torch.autograd.grad(gr, params, grad_outputs=v)
            with torch.no_grad():
                v = [gi + vi - (hi + damp * vi) / scale for gi, vi, hi in zip(g, v, hv)]
        for o, vi in zip(out, v):
            o.add_(vi / scale)
    return [o / reps for o in out]


def lissa_paper_code(model, ds, g, *, batch, depth, reps, scale, lam, wd):
    """The same iteration organised as the paper's unlearn.py newton_update():
    a DataLoader with RandomSampler(replacement=True) per repetition, the
    regulariser (wd + gamma) * sum_k ||p_k||_2 (unsquared per-tensor norms)
    added to the batch loss inside the autograd graph, and the second backward
    also with create_graph=True. (Data come from an in-memory TensorDataset,
    not torchvision's per-sample ToTensor/Normalize, so this is still faster
    than running the paper's script.)"""
    from torch.utils.data import DataLoader, RandomSampler

    params = list(model.parameters())
    out = [torch.zeros_like(p) for p in g]
    for _ in range(reps):
        v = [p.clone() for p in g]
        sampler = RandomSampler(ds, replacement=True, num_samples=batch * depth)
        it = iter(DataLoader(ds, batch_size=batch, sampler=sampler))
        for _ in range(depth):
            xb, yb = next(it)
            loss = F.cross_entropy(model(xb), yb)
            reg = 0
            for p in params:
                reg = reg + torch.norm(p, p=2)
            loss = loss + (wd + lam) * reg
            gr = torch.autograd.grad(loss, params, retain_graph=True, create_graph=True)
            dot = 0
            for a, b in zip(gr, v):
                dot = dot + torch.sum(a * b)
            hv = torch.autograd.grad(dot, params, create_graph=True)
            with torch.no_grad():
                v = [vi + gi - hi / scale for vi, gi, hi in zip(v, g, hv)]
        for o, vi in zip(out, v):
            o.add_(vi / scale)
    return [o / reps for o in out]


def norm(ts):
    return math.sqrt(sum(float((t.double() ** 2).sum()) for t in ts))


def sub(a, b):
    return [x - y for x, y in zip(a, b)]


# ----------------------------------------------------------------------------- sections


def paper_split(n):
    """The paper's forget/retain split: torch.manual_seed(0); random_split(train,
    [n - 1000, 1000]) -> (retained indices, forgotten indices)."""
    from torch.utils.data import random_split

    torch.manual_seed(PAPER["split_seed"])
    res, unl = random_split(range(n), [n - PAPER["num_unlearn"], PAPER["num_unlearn"]])
    return np.array(res.indices, dtype=np.int64), np.array(unl.indices, dtype=np.int64)


def bench_forward(models, data, a):
    out = {}
    for name, m in models.items():
        xt = data[name]["test"][0][:1024]

        def f():
            with torch.no_grad():
                return m(xt)
        out[f"{name}_b1024"] = timeit(f, repeats=a.repeats, min_sample=a.min_sample)
        log(f"forward {name} b1024: {out[f'{name}_b1024']['median_s'] * 1e3:.3f} ms")
    return out


def bench_grad_hvp(models, data, a):
    grads, hvps = {}, {}
    cases = [("mnist_mlp", 10), ("mnist_mlp", 128), ("fashion_cnn", 128)]
    gen = torch.Generator().manual_seed(1)
    for name, b in cases:
        m = models[name]
        x, y = data[name]["train"]
        xb, yb = x[:b].contiguous(), y[:b].contiguous()
        v = [torch.randn(p.shape, generator=gen) for p in m.parameters()]
        key = f"{name}_b{b}"
        grads[key] = timeit(grad_fn(m, xb, yb), repeats=a.repeats, min_sample=a.min_sample)
        hvps[key] = timeit(hvp_fn(m, xb, yb, v), repeats=a.repeats, min_sample=a.min_sample)
        hvps[key]["ratio_to_grad_median"] = hvps[key]["median_s"] / grads[key]["median_s"]
        log(f"grad {key}: {grads[key]['median_s'] * 1e6:.1f} us   hvp: {hvps[key]['median_s'] * 1e6:.1f} us "
            f"(x{hvps[key]['ratio_to_grad_median']:.2f})")
    return grads, hvps


def bench_unlearn(model, data, a):
    x, y = data["mnist_mlp"]["train"]
    res, unl = paper_split(x.shape[0])
    xr, yr = x[res].contiguous(), y[res].contiguous()
    P = PAPER
    out = dict(settings=dict(
        forgotten=len(unl), retained=len(res),
        forget_indices_sha256=hashlib.sha256("\n".join(map(str, sorted(unl.tolist()))).encode() + b"\n").hexdigest(),
        forget_split="torch.manual_seed(0); torch.utils.data.random_split(range(60000), [59000, 1000]) "
                     "(utils.load_unlearn_data); indices in bench/mnist_forget_1000.txt",
        gradient_batch=P["grad_batch"], lissa_batch=P["lissa_batch"], lissa_depth=P["lissa_depth"],
        lissa_repetitions=P["lissa_repetitions"], lissa_scale=P["lissa_scale"],
        lambda_damping=P["gamma"], l2_mu=P["weight_decay"], noise_std=P["noise_std"],
        hvps_per_run=P["lissa_depth"] * P["lissa_repetitions"], source=PAPER_SOURCE))
    mu = P["weight_decay"]

    # full retained-set gradient
    for b in (P["grad_batch"], 1024):
        r = timeit(lambda: full_gradient(model, xr, yr, b, mu), repeats=max(3, a.repeats // 4),
                   min_sample=0, warmup=1, inner=1)
        out[f"full_gradient_b{b}"] = r
        log(f"unlearn: full retained-set gradient (batch {b}): {r['median_s']:.3f} s")
    best = min((k for k in out if k.startswith("full_gradient_b")), key=lambda k: out[k]["median_s"])
    out["full_gradient"] = dict(out[best], batch=int(best.rsplit("_b", 1)[1]),
                                note="the faster of full_gradient_b128 / _b1024")
    g = full_gradient(model, xr, yr, 1024, mu)

    # LiSSA, lean (DESIGN.md iteration, in-memory batches)
    gen = torch.Generator().manual_seed(2)
    us = []

    def run_lean():
        us.append(lissa_lean(model, xr, yr, g, batch=P["lissa_batch"], depth=P["lissa_depth"],
                             reps=P["lissa_repetitions"], scale=P["lissa_scale"], lam=P["gamma"], mu=mu, gen=gen))
    r = timeit(run_lean, repeats=a.unlearn_repeats, min_sample=0, warmup=0, inner=1)
    out["lissa"] = r
    log(f"unlearn: LiSSA lean: {r['median_s']:.2f} s")

    out["total_lean_s"] = out[f"full_gradient_b{P['grad_batch']}"]["median_s"] + out["lissa"]["median_s"]

    # LiSSA as organised in the paper's code
    if "paper" in a.lissa_variants.split(","):
        from torch.utils.data import TensorDataset
        ds = TensorDataset(xr, yr)
        torch.manual_seed(3)
        r = timeit(lambda: lissa_paper_code(model, ds, g, batch=P["lissa_batch"], depth=P["lissa_depth"],
                                            reps=P["lissa_repetitions"], scale=P["lissa_scale"], lam=P["gamma"],
                                            wd=P["weight_decay"]),
                   repeats=a.unlearn_repeats, min_sample=0, warmup=0, inner=1)
        out["lissa_paper_code"] = r
        log(f"unlearn: LiSSA paper-code variant: {r['median_s']:.2f} s")
        out["total_paper_code_s"] = (out[f"full_gradient_b{P['grad_batch']}"]["median_s"]
                                     + out["lissa_paper_code"]["median_s"])

    # what the lean LiSSA computed (quality, measured with full-D_r HVPs; not timed)
    u = us[-1]
    hu = full_hvp(model, xr, yr, u, 1024, mu)
    resid = [h + P["gamma"] * ui - gi for h, ui, gi in zip(hu, u, g)]
    out["lissa_result"] = dict(
        grad_norm=norm(g), update_norm=norm(u), residual_norm=norm(resid),
        relative_residual=norm(resid) / norm(g),
        note="g = grad of L(w*, D_r) + mu/2||w||^2 at the bundled model; u = LiSSA estimate of "
             "(H + lambda I)^-1 g; residual = ||(H + lambda I) u - g|| with full-D_r HVPs")
    log(f"unlearn: ||g|| {norm(g):.3e}  ||u|| {norm(u):.3e}  residual {norm(resid):.3e}")
    return out, unl


def bench_retrain(data, a):
    x, y = data["mnist_mlp"]["train"]
    xt, yt = data["mnist_mlp"]["test"]
    res, _ = paper_split(x.shape[0])
    xr, yr = x[res].contiguous(), y[res].contiguous()
    P = PAPER
    epochs = 1 if a.quick else P["epochs"]
    torch.manual_seed(4)
    m = ref.MLP()
    t0 = time.perf_counter()
    ep_times, projections = recipe.projected_adam(m, xr, yr, C=P["C"], mu=P["weight_decay"], lr=P["lr"],
                                                  epochs=epochs, batch_size=P["train_batch"], seed=4, log=None)
    total = time.perf_counter() - t0
    out = dict(settings=dict(model="mnist_mlp (fresh PyTorch default init, seed 4)", samples=len(res),
                             optimizer="Adam", lr=P["lr"], batch=P["train_batch"], l2_mu=P["weight_decay"],
                             C=P["C"], epochs=P["epochs"], projection="after every step", source=PAPER_SOURCE,
                             excluded="the paper's per-epoch validation pass and checkpoint saving"),
               epochs=epochs, epochs_timed=epochs, epoch_seconds=ep_times, projections=projections,
               test_accuracy=recipe.accuracy(m, xt, yt))
    if a.quick:
        out["total_s_extrapolated"] = statistics.median(ep_times) * P["epochs"]
        out["note"] = f"--quick: timed 1 epoch, total_s_extrapolated = that x {P['epochs']} (NOT a full run)"
        log(f"retrain: 1 epoch {ep_times[0]:.2f} s -> extrapolated {out['total_s_extrapolated']:.1f} s (quick)")
    else:
        out["total_s"] = total
        log(f"retrain: {epochs} epochs {total:.1f} s, test accuracy {out['test_accuracy']:.4f}")

    # the paper code's input pipeline: DataLoader(shuffle) over the samples (in-memory
    # TensorDataset here, so no per-sample torchvision transforms); 1 epoch, x30
    from torch.utils.data import DataLoader, TensorDataset
    torch.manual_seed(5)
    m2 = ref.MLP()
    opt = torch.optim.Adam(m2.parameters(), lr=P["lr"], weight_decay=P["weight_decay"])
    loader = DataLoader(TensorDataset(xr, yr), batch_size=P["train_batch"], shuffle=True)
    t0 = time.perf_counter()
    for xb, yb in loader:
        loss = F.cross_entropy(m2(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        recipe.project_(m2, P["C"])
    one = time.perf_counter() - t0
    out["dataloader_variant"] = dict(epoch_s=one, total_s_extrapolated=one * P["epochs"],
                                     note="torch DataLoader(TensorDataset, batch 128, shuffle) as in the paper's "
                                          "train.py; 1 epoch timed, x30 extrapolated")
    log(f"retrain (DataLoader variant): 1 epoch {one:.2f} s -> x30 {one * P['epochs']:.1f} s")
    return out


class _Converged(Exception):
    """Raised by the L-BFGS closure at the first point whose gradient is small enough."""


def bench_head(a):
    """Python's side of `lethe retrain --scope head`: the head of models/mnist_head.onnx
    fitted from zeros on the retained private samples to ||grad|| <= --head-grad-tol.

    Data: D = mnist:train[30000:60000] with the model card's canaries relabelled
    (train_convex.private_labels), minus bench/mnist_head_forget_1000.txt (indices into D).
    Objective: mean cross-entropy + (mu/2)(||W||^2 + ||b||^2) in float64, mu = the model's
    lethe.l2. Timed per run (--head-repeats runs per solver): the backbone's float32
    features of D_r (as the exported graph computes them, torch.no_grad), widened to
    float64, then the fit from zeros by
      lbfgs   torch.optim.LBFGS (history 100, strong Wolfe line search, tolerance_grad = 0,
              tolerance_change = 0); the closure stops the solve (by an exception, which
              leaves the parameters at the point it evaluated) at the first evaluated point
              whose gradient 2-norm is <= the tolerance, so no evaluation is spent on
              checking;
      newton  models/softmax_newton.py's Newton-CG (NumPy), the solver that fitted the
              bundled head, stopping when its gradient norm is below the tolerance.
    Not timed: interpreter start, reading the data and the model."""
    import onnx
    import train_convex as tc

    path = os.path.join(a.models_dir, "mnist_head.onnx")
    m = onnx.load(path)
    meta = {p.key: p.value for p in m.metadata_props}
    mu = float(meta["lethe.l2"])
    inits = dict(ref.onnx_initializers(path))
    hidden = tuple(inits[k].shape[0] for k in sorted(k for k in inits if k.startswith("backbone.") and k.endswith(".weight")))
    net = tc.HeadNet(hidden)
    net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in inits.items()})
    net.eval()
    x, y = ref.load_dataset("mnist", "train")
    x = np.ascontiguousarray(x.reshape(-1, 784)[tc.PRIVATE[0]:tc.PRIVATE[1]])
    yd, _ = tc.private_labels(y)
    forget = np.loadtxt(a.head_forget, dtype=np.int64)
    keep = np.ones(len(yd), bool)
    keep[forget] = False
    xr = torch.from_numpy(x[keep])
    yr = torch.from_numpy(yd[keep])
    tol = a.head_grad_tol
    out = dict(grad_tol=tol, mu=mu, retained=int(keep.sum()))
    for solver in a.head_solvers.split(","):
        runs = []
        for _ in range(a.head_repeats):
            t0 = time.perf_counter()
            with torch.no_grad():
                phi = net.backbone(xr).double()
            t_feat = time.perf_counter() - t0
            fit = head_lbfgs if solver == "lbfgs" else head_newton
            info = fit(phi, yr, mu, tol)
            total = time.perf_counter() - t0
            runs.append(dict(seconds=total, features_s=t_feat, fit_s=total - t_feat, **info))
            log(f"head {solver}: features {t_feat:.3f} s + fit {total - t_feat:.3f} s ({info})")
        secs = [r["seconds"] for r in runs]
        out[solver] = dict(median_s=statistics.median(secs), min_s=min(secs), runs=runs)
    out["features"] = int(phi.shape[1])
    out["settings"] = dict(
        features="the backbone's float32 output on D_r (torch.no_grad), widened to float64",
        lbfgs="torch.optim.LBFGS(history_size=100, line_search_fn='strong_wolfe', tolerance_grad=0, "
              "tolerance_change=0) on (W, b) from zeros in float64; stops at the first evaluated point "
              "with ||grad||_2 <= grad_tol",
        newton="models/softmax_newton.py solve(): Newton-CG from zeros in float64 (NumPy, block-diagonal "
               "preconditioner, the solver that fitted the head), until ||grad||_2 < grad_tol")
    return out


def head_lbfgs(phi, yr, mu, tol):
    W = torch.zeros((10, phi.shape[1]), dtype=torch.float64, requires_grad=True)
    b = torch.zeros(10, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], lr=1, max_iter=1_000_000, max_eval=1_000_000, tolerance_grad=0,
                            tolerance_change=0, history_size=100, line_search_fn="strong_wolfe")
    evals = [0]
    last = [math.inf]

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(phi @ W.T + b, yr) + 0.5 * mu * ((W * W).sum() + (b * b).sum())
        loss.backward()
        evals[0] += 1
        last[0] = math.sqrt(float((W.grad * W.grad).sum() + (b.grad * b.grad).sum()))
        if last[0] <= tol:
            raise _Converged
        return loss

    converged = False
    try:
        opt.step(closure)
    except _Converged:
        converged = True
    n_iter = int(opt.state[opt._params[0]].get("n_iter", 0))
    return dict(iterations=n_iter, evaluations=evals[0], grad_norm=last[0], converged=converged)


def head_newton(phi, yr, mu, tol):
    import softmax_newton as sn

    p = torch.cat([phi, torch.ones((phi.shape[0], 1), dtype=phi.dtype)], 1).numpy()
    _, info = sn.solve(p, yr.numpy(), mu, tol)
    return dict(iterations=info["newton_iterations"], hvps=info["hvps"], grad_norm=info["grad_norm"],
                converged=True)


# ----------------------------------------------------------------------------- main


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def tune_malloc():
    """glibc: keep freed memory in the heap instead of unmapping it after every
    batch (M_MMAP_THRESHOLD 256 MiB, M_TRIM_THRESHOLD 1 GiB). On this machine
    the stock settings spend a large share of PyTorch's CPU time in page faults
    for batch-sized tensors; tuned is the stronger (fairer) baseline."""
    libc = ctypes.CDLL("libc.so.6")
    return bool(libc.mallopt(-3, 256 << 20)) and bool(libc.mallopt(-1, 1 << 30))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument("--quick", action="store_true",
                    help="retraining: time 1 epoch and extrapolate x30 (labelled as such); fewer LiSSA runs")
    ap.add_argument("--repeats", type=int, default=21, help="timing samples for forward/grad/hvp (default 21)")
    ap.add_argument("--min-sample", type=float, default=0.05, help="min seconds per timing sample (default 0.05)")
    ap.add_argument("--unlearn-repeats", type=int, default=3, help="full LiSSA runs per variant (default 3)")
    ap.add_argument("--sections", default="forward,grad,unlearn,retrain",
                    help="comma-separated subset of forward,grad,unlearn,retrain,head")
    ap.add_argument("--lissa-variants", default="lean,paper",
                    help="unlearn: LiSSA variants to time, lean and/or paper (default both)")
    ap.add_argument("--head-grad-tol", type=float, default=1e-9,
                    help="head: stop at this gradient norm (default 1e-9, lethe retrain's --grad-tol default)")
    ap.add_argument("--head-forget", default=os.path.join(ROOT, "bench", "mnist_head_forget_1000.txt"),
                    help="head: samples of the private split to leave out (indices into it)")
    ap.add_argument("--head-repeats", type=int, default=1, help="head: timed fits per solver (default 1)")
    ap.add_argument("--head-solvers", default="lbfgs,newton",
                    help="head: lbfgs (torch.optim.LBFGS) and/or newton (models/softmax_newton.py)")
    ap.add_argument("--models-dir", default=os.path.join(ROOT, "models"))
    ap.add_argument("--write-forget", metavar="PATH",
                    help="write the paper's 1,000 forgotten MNIST indices (one per line) to PATH")
    ap.add_argument("--malloc", choices=["tuned", "default"], default="tuned",
                    help="glibc malloc settings: tuned (default; see tune_malloc) or the stock ones")
    a = ap.parse_args()
    malloc = "default (glibc stock)"
    if a.malloc == "tuned":
        malloc = ("tuned: mallopt(M_MMAP_THRESHOLD=256MiB, M_TRIM_THRESHOLD=1GiB)" if tune_malloc()
                  else "tuned requested but mallopt failed: default")
    if a.quick:
        a.unlearn_repeats = min(a.unlearn_repeats, 1)
    sections = set(a.sections.split(","))

    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(0)

    models, data, files = {}, {}, {}
    need = []
    if sections & {"forward", "grad"}:
        need = ["mnist_mlp", "fashion_cnn"]
    elif sections & {"unlearn", "retrain"}:
        need = ["mnist_mlp"]
    for name in need:
        path = os.path.join(a.models_dir, f"{name}.onnx")
        m = ref.load_from_onnx(name, path)
        m.eval()
        for p in m.parameters():
            p.requires_grad_(True)
        models[name] = m
        data[name] = {s: ref.load_data_for(name, s) for s in ("train", "test")}
        files[name] = dict(path=os.path.relpath(path, ROOT), sha256=sha256(path), params=ref.param_count(m))

    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    res = dict(schema="lethe.torch_bench/v1",
               env=dict(torch=torch.__version__, numpy=np.__version__, python=platform.python_version(),
                        threads=torch.get_num_threads(), interop_threads=torch.get_num_interop_threads(),
                        cpu=cpu, nproc=os.cpu_count(), loadavg_start=os.getloadavg(),
                        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                        lethe_commit=commit, quick=a.quick, dtype="float32", malloc=malloc,
                        omp_wait_policy=os.environ["OMP_WAIT_POLICY"] + (" (set by torch_bench.py)" if OMP_WAIT_POLICY_SET
                                                                         else " (from the environment)"),
                        timing=f"median/min seconds per call over {a.repeats} samples after warm-up (unlearn: {a.unlearn_repeats} whole runs)"),
               models=files)

    loads = res["env"]["loadavg_by_section"] = {}
    if "forward" in sections:
        l0 = os.getloadavg()[0]
        res["forward"] = bench_forward(models, data, a)
        loads["forward"] = [l0, os.getloadavg()[0]]
    if "grad" in sections:
        l0 = os.getloadavg()[0]
        res["grad"], res["hvp"] = bench_grad_hvp(models, data, a)
        loads["grad_hvp"] = [l0, os.getloadavg()[0]]
    if "unlearn" in sections:
        l0 = os.getloadavg()[0]
        res["unlearn"], unl = bench_unlearn(models["mnist_mlp"], data, a)
        loads["unlearn"] = [l0, os.getloadavg()[0]]
        if a.write_forget:
            with open(a.write_forget, "w") as f:
                f.write("\n".join(map(str, sorted(unl.tolist()))) + "\n")
    if "retrain" in sections:
        l0 = os.getloadavg()[0]
        res["retrain"] = bench_retrain(data, a)
        loads["retrain"] = [l0, os.getloadavg()[0]]
        if "unlearn" in res:
            rt = res["retrain"].get("total_s", res["retrain"].get("total_s_extrapolated"))
            res["unlearn"]["retrain_over_unlearn_lean"] = rt / res["unlearn"]["total_lean_s"]
            if "total_paper_code_s" in res["unlearn"]:
                res["unlearn"]["retrain_over_unlearn_paper_code"] = rt / res["unlearn"]["total_paper_code_s"]
    if "head" in sections:
        l0 = os.getloadavg()[0]
        res["head"] = bench_head(a)
        loads["head"] = [l0, os.getloadavg()[0]]
    res["env"]["loadavg_end"] = os.getloadavg()

    text = json.dumps(res, indent=1)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
