"""Exact minimiser of the L2-regularised multinomial logistic objective

    F(theta) = mean_i xent(theta @ phi_i, y_i) + mu/2 ||theta||^2,

theta = [W | b] of shape [K, d+1] (the bias is the last column; phi_i gets a trailing 1),
in float64 by Newton's method with preconditioned conjugate gradients. Shared by
models/train_convex.py and testdata/gen_lstm_head.py.

F is mu-strongly convex, so the minimiser is unique and ||theta - theta*|| <= ||grad F(theta)||/mu.

Newton-CG details
  * Hessian-vector products are exact: H V = S^T Phi / n + mu V with
    S = P*(Phi V^T) - P * rowsum(P*(Phi V^T)), P the softmax probabilities.
  * Preconditioner: per class a, the diagonal block B_a = Phi^T diag(p_a (1 - p_a)) Phi / n
    + mu I (built in float32 on an every-k-th-row subsample of <= pre_rows rows; refreshed
    at Newton iterations 1, 2, 4, 8, ...), inverted. The data term of F does not change
    when the same vector is added to every class row of theta, so H has the eigenvalue mu
    exactly on the subspace {V : all rows equal} and maps its orthogonal complement
    {V : rows sum to 0} to itself; the block preconditioner ignores that, so it is applied
    on the complement (class mean removed) and the equal-rows part is divided by mu, which
    solves it exactly. (Without this the CG iteration counts were 10-30x higher.)
  * CG forcing term: relative residual min(0.1, sqrt(||g||)) (superlinear convergence).
  * Step length: 1 if it lowers F (Armijo, c = 1e-4) or the gradient norm (near the
    minimiser F's decrease drops below float64 resolution), else halved.
Stops when ||grad F|| < tol (float64 arithmetic throughout, gradient sums by BLAS).
"""

import math
import time

import numpy as np


def with_bias(features):
    """[n, d] features -> float64 [n, d+1] with a trailing column of ones."""
    f = np.asarray(features, dtype=np.float64)
    return np.hstack([f, np.ones((f.shape[0], 1))])


def logits_lse(phi, theta):
    """Logits Z = phi @ theta^T, softmax P and log-sum-exp per row (float64)."""
    z = phi @ theta.T
    m = z.max(1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(1, keepdims=True)
    return z, e / s, (m + np.log(s))[:, 0]


def objective(phi, y, theta, mu):
    """Returns (F, mean cross-entropy, grad F [K, d+1], softmax P)."""
    n = phi.shape[0]
    z, p, lse = logits_lse(phi, theta)
    loss = float((lse - z[np.arange(n), y]).mean())
    r = p.copy()
    r[np.arange(n), y] -= 1.0
    g = r.T @ phi / n + mu * theta
    return loss + 0.5 * mu * float((theta ** 2).sum()), loss, g, p


def grad_norm(phi, y, theta, mu):
    return float(np.linalg.norm(objective(phi, y, theta, mu)[2]))


def hessian_max_eig(phi, y, theta, mu, iters=100, seed=0):
    """Largest eigenvalue of the Hessian of F at theta (power iteration, float64)."""
    n = phi.shape[0]
    _, p, _ = logits_lse(phi, theta)
    v = np.random.default_rng(seed).standard_normal(theta.shape)
    lam = 0.0
    for _ in range(iters):
        v /= np.linalg.norm(v)
        zv = phi @ v.T
        s = p * zv
        s -= p * s.sum(1, keepdims=True)
        hv = s.T @ phi / n + mu * v
        lam = float((v * hv).sum())
        v = hv
    return lam


def solve(phi, y, mu, tol, classes=10, theta0=None, pre_rows=8000, max_iter=100, log=None):
    """Newton-CG on F from theta0 (default 0) until ||grad F|| < tol.
    Returns (theta [classes, d+1] float64, info dict)."""
    n, d = phi.shape
    theta = np.zeros((classes, d)) if theta0 is None else np.array(theta0, dtype=np.float64)
    step = max(1, n // min(n, pre_rows))
    sub = slice(None, None, step)
    phis = phi[sub].astype(np.float32)
    ns = phis.shape[0]
    t0 = time.perf_counter()
    f, loss, g, p = objective(phi, y, theta, mu)
    hvps, it, inv, history = 0, 0, None, []
    while True:
        gn = float(np.linalg.norm(g))
        history.append(gn)
        if log:
            log(f"    newton {it:2d}  F {f:.15f}  ||grad|| {gn:.3e}  ({hvps} Hessian-vector products)")
        if gn < tol:
            break
        if it >= max_iter:
            raise SystemExit(f"softmax_newton: no convergence in {max_iter} Newton iterations (||grad|| {gn:.3e})")
        it += 1
        if it & (it - 1) == 0:
            w = (p[sub] * (1.0 - p[sub])).astype(np.float32)
            inv = np.stack([np.linalg.inv(((phis * w[:, a:a + 1]).T @ phis).astype(np.float64) / ns
                                          + mu * np.eye(d)) for a in range(classes)])

        def precond(r):
            mean = r.mean(0, keepdims=True)
            z = np.einsum("aij,aj->ai", inv, r - mean)
            return z - z.mean(0, keepdims=True) + mean / mu

        def hess(v):
            zv = phi @ v.T
            s = p * zv
            s -= p * s.sum(1, keepdims=True)
            return s.T @ phi / n + mu * v

        x = np.zeros_like(g)
        r = -g
        z = precond(r)
        dirn = z.copy()
        rz = float((r * z).sum())
        eta = min(0.1, math.sqrt(gn)) * gn
        for _ in range(10000):
            hd = hess(dirn)
            hvps += 1
            a = rz / float((dirn * hd).sum())
            x += a * dirn
            r = r - a * hd
            if np.linalg.norm(r) < eta:
                break
            z = precond(r)
            rz2 = float((r * z).sum())
            dirn = z + (rz2 / rz) * dirn
            rz = rz2
        t = 1.0
        while True:
            f2, loss2, g2, p2 = objective(phi, y, theta + t * x, mu)
            if f2 <= f + 1e-4 * t * float((g * x).sum()) or np.linalg.norm(g2) < gn:
                break
            t *= 0.5
            if t < 1e-10:
                raise SystemExit("softmax_newton: line search failed")
        theta = theta + t * x
        f, loss, g, p = f2, loss2, g2, p2
    return theta, dict(newton_iterations=it, hvps=hvps, grad_norm=gn, objective=f, data_loss=loss,
                       seconds=time.perf_counter() - t0, grad_history=history)


def rounding_margin(phi, theta, mu, n=None):
    """lethe's worst-case bound on the float64 rounding error of the gradient of F
    (autodiff.RoundingMargin, DESIGN.md §1), for the head on its features phi (with the bias
    column), as lethe's head scope evaluates it on the head cut out at its input:

        ((gamma_{N+1000} F + 2 gamma_{P+1000} Z) ||mean_i |J_i|^T 1|| + gamma_{N+1000} mu ||theta||) (1 + 1e-6)

    gamma_k = k u / (1 - k u), u = 2^-53, F = 2 (xent), Z = max_i ||(|W| |phi_i| + |b|)||_inf,
    J_i the Jacobian of sample i's logits in theta (|J_i|^T 1 = |phi_i| in every class row).
    The posterior bound lethe can certify is never below margin / mu."""
    n = phi.shape[0] if n is None else n
    k, p = theta.shape[0], theta.size

    def gamma(m):
        g = m * 2.0 ** -53
        return g / (1 - g)

    aphi = np.abs(phi)
    jnorm = math.sqrt(k * float((aphi.mean(0) ** 2).sum()))
    z = float((aphi @ np.abs(theta).T).max())
    return ((gamma(n + 1000) * 2.0 + 2 * gamma(p + 1000) * z) * jnorm
            + gamma(n + 1000) * mu * float(np.linalg.norm(theta))) * (1 + 1e-6)


def gaussian_sigma_ratio(eps, delta):
    """sigma / sensitivity of the analytic Gaussian mechanism (Balle & Wang, ICML 2018,
    Theorem 8): the smallest s with Phi(1/(2s) - eps s) - e^eps Phi(-1/(2s) - eps s) <= delta."""
    def phi_cdf(v):
        return 0.5 * math.erfc(-v / math.sqrt(2.0))

    def dlt(s):
        return phi_cdf(0.5 / s - eps * s) - math.exp(eps) * phi_cdf(-0.5 / s - eps * s)

    lo, hi = 1e-6, 1e6
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if dlt(mid) > delta:
            lo = mid
        else:
            hi = mid
    return hi
