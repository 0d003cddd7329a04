#!/usr/bin/python3
"""Writes the data sets and models that bench/run.sh times lethe on (into bench/out/data).

    /usr/bin/python3 bench/prepare.py                 # everything missing
    /usr/bin/python3 bench/prepare.py --sizes 15000,30000 --widths 32,64

Nothing here is timed. Files that exist are kept (--force rewrites them); manifest.json
records what each file is, its size and its SHA-256.

  mnist_private.npz    the private split D of models/mnist_head.onnx: mnist:train[30000:60000]
                       (x float32 [30000, 784] = pixels/255, y int64) with the model card's 100
                       canaries relabelled (train_convex.private_labels), i.e. the data the head
                       was fitted on. bench/mnist_head_forget_1000.txt (committed) names 1,000 of
                       its samples: the model card's "1,000 random non-canary private samples
                       (seed 1)", indices into this file.
  mnist_r<R>.npz       R + 1,000 samples: mnist:train cycled (sample i is mnist:train[i mod
                       60000]), for R = --sizes; mnist_r<R>_forget.txt names 1,000 of them
                       (numpy default_rng(R).choice, sorted), so that the retained set has
                       exactly R samples.
  mlp_w<W>.onnx        784-W-W-10 ReLU MLPs (models/reference.py's MLP, the bundled MNIST MLP's
                       architecture and parameter names) for W = --widths. The backbone keeps
                       PyTorch's default initialisation (torch.manual_seed(W)): it is NOT
                       trained, which does not change what a pass costs. The head (layers.4) is
                       fitted exactly on the backbone's float32 features of all of mnist:train
                       (models/softmax_newton.py, Newton-CG in float64 until ||grad|| < 1e-10,
                       mu = --mu), so that `lethe unlearn --scope head` starts, as on
                       models/mnist_head.onnx, from the minimiser on D. Metadata lethe.l2 = mu,
                       lethe.loss = xent, lethe.radius = ceil(1.1 ||w||).
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "models"))
import reference as ref  # noqa: E402
import softmax_newton as sn  # noqa: E402
import train_convex as tc  # noqa: E402

HEAD_FORGET = os.path.join(ROOT, "bench", "mnist_head_forget_1000.txt")


def log(*a):
    print("prepare:", *a, file=sys.stderr, flush=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_lines(path, ints):
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(map(str, sorted(int(i) for i in ints))) + "\n")
    os.replace(path + ".tmp", path)


def save_npz(path, x, y):
    # np.savez appends .npz to a name without it: write to a .tmp.npz and rename.
    tmp = path[:-4] + ".tmp.npz"
    np.savez(tmp, x=x, y=y)
    os.replace(tmp, path)


def private_split(x, y, out, force):
    """D of mnist_head (canaries relabelled) and the committed forget list."""
    path = os.path.join(out, "mnist_private.npz")
    yd, canary = tc.private_labels(y)
    if force or not os.path.exists(path):
        save_npz(path, x[tc.PRIVATE[0]:tc.PRIVATE[1]], yd)
        log(f"wrote {path}")
    rand = np.random.default_rng(tc.RANDOM_FORGET_SEED).choice(np.flatnonzero(~canary), tc.RANDOM_FORGET,
                                                                replace=False)
    want = "\n".join(map(str, sorted(rand.tolist()))) + "\n"
    if not os.path.exists(HEAD_FORGET) or open(HEAD_FORGET).read() != want:
        write_lines(HEAD_FORGET, rand)
        log(f"wrote {HEAD_FORGET}")
    return dict(path=path, samples=int(len(yd)), canaries=int(canary.sum()),
                forget=os.path.relpath(HEAD_FORGET, ROOT), forget_rule=(
                    f"numpy default_rng({tc.RANDOM_FORGET_SEED}).choice(non-canary indices of D, "
                    f"{tc.RANDOM_FORGET}, replace=False), sorted (models/mnist_head.md's random forget set)"))


def cycled(x, y, sizes, out, force):
    rows = {}
    for r in sizes:
        n = r + 1000
        path = os.path.join(out, f"mnist_r{r}.npz")
        fpath = os.path.join(out, f"mnist_r{r}_forget.txt")
        if force or not os.path.exists(path):
            idx = np.arange(n) % x.shape[0]
            save_npz(path, x[idx], y[idx])
            log(f"wrote {path} ({n} samples)")
        if force or not os.path.exists(fpath):
            write_lines(fpath, np.random.default_rng(r).choice(n, 1000, replace=False))
        rows[str(r)] = dict(path=path, forget=fpath, samples=n, retained=r,
                            x_bytes=n * 784 * 4, y_bytes=n * 8)
    return rows


def export_mlp(model, path, meta):
    import onnx

    model.eval()
    torch.onnx.export(model, torch.zeros((2, 784)), path + ".tmp", opset_version=13, export_params=True,
                      do_constant_folding=True, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}})
    m = onnx.load(path + ".tmp")
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, str(v)
    onnx.checker.check_model(m)
    onnx.save(m, path + ".tmp")
    os.replace(path + ".tmp", path)


def width_models(x, y, widths, mu, out, force):
    rows = {}
    for w in widths:
        path = os.path.join(out, f"mlp_w{w}.onnx")
        info_path = path[:-5] + ".json"
        if not force and os.path.exists(path) and os.path.exists(info_path):
            rows[str(w)] = json.load(open(info_path))
            continue
        torch.manual_seed(w)
        m = ref.MLP(hidden=w)
        m.eval()
        with torch.no_grad():
            feats = m.layers[:-1](torch.from_numpy(x)).numpy()
        phi = sn.with_bias(feats)
        t0 = time.perf_counter()
        theta, info = sn.solve(phi, y, mu, 1e-10)
        head = m.layers[-1]
        with torch.no_grad():
            head.weight.copy_(torch.from_numpy(theta[:, :-1]).float())
            head.bias.copy_(torch.from_numpy(theta[:, -1]).float())
        norm = float(ref.flat_params(m).double().norm())
        radius = math.ceil(1.1 * norm)
        export_mlp(m, path, {"lethe.l2": mu, "lethe.loss": "xent", "lethe.radius": radius,
                             "train.note": ("bench/prepare.py: 784-W-W-10 MLP, backbone at PyTorch's default "
                                            f"initialisation (torch.manual_seed({w}), not trained); head "
                                            f"fitted exactly on all of mnist:train (mu {mu})")})
        row = dict(path=path, width=w, params=ref.param_count(m), head_params=10 * (w + 1), weight_norm=norm,
                   radius=radius, l2=mu, head_fit_newton=info["newton_iterations"], head_fit_hvps=info["hvps"],
                   head_fit_grad_norm=info["grad_norm"], head_fit_seconds=time.perf_counter() - t0)
        with open(info_path, "w") as f:
            json.dump(row, f, indent=1)
        log(f"wrote {path}: {row['params']} parameters, head fitted in {info['newton_iterations']} Newton "
            f"iterations to ||grad|| {info['grad_norm']:.1e}")
        rows[str(w)] = row
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out", "data"))
    ap.add_argument("--sizes", default="15000,30000,60000,120000", help="retained-set sizes (comma-separated)")
    ap.add_argument("--widths", default="32,64,128,256,512,1024", help="MLP hidden widths (comma-separated)")
    ap.add_argument("--mu", type=float, default=1e-3, help="L2 weight of the width models' heads (default 1e-3)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads for the feature passes")
    ap.add_argument("--force", action="store_true", help="rewrite files that exist")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    x, y = ref.load_dataset("mnist", "train")
    x = np.ascontiguousarray(x.reshape(-1, 784))
    sizes = [int(s) for s in a.sizes.split(",") if s]
    widths = [int(s) for s in a.widths.split(",") if s]
    man = dict(private=private_split(x, y, a.out, a.force), sizes=cycled(x, y, sizes, a.out, a.force),
               widths=width_models(x, y, widths, a.mu, a.out, a.force))
    for group in ("sizes", "widths"):
        for row in man[group].values():
            row["sha256"] = sha256(row["path"])
    man["private"]["sha256"] = sha256(man["private"]["path"])
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1)


if __name__ == "__main__":
    main()
