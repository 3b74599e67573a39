"""Benchmark: vectorised EM for the softmax-gated Gaussian mixture of linear experts (n = 1e5, k = 3, d = 2).

Run by hand (never by the tests): ``python benchmarks/bench_em.py [--n 100000] [--subsample 2000]``.
The setting is written in the rate studies' schema (:func:`hmoe_theory.estimation.setting.setting_from_mapping`:
softmax-linear gate x linear experts, ``estimator = "em"``, X ~ U[-1, 1]^2) and the data are drawn as a
replicate path draws them (:func:`hmoe_theory.estimation.replicate.simulate` on
:meth:`~hmoe_theory.estimation.replicate.PairedSample.draw`). Same data and the same starting point (the
truth perturbed by N(0, 0.3^2), variances x 1.5) for every method, one run, BLAS single-threaded (as
inside ``run_path``); CPU seconds (``time.process_time``) and wall seconds are both printed:

1. ours: :class:`hmoe_theory.estimation.GaussianMoEEM` (vectorised E-step, WLS experts, 1 Newton gate step)
   with the rate studies' stopping rule (``replicate.EM_MAX_ITER``, ``replicate.EM_TOL``);
2. plain per-sample Python EM, the same algorithm with explicit loops over samples: it is run for a
   few iterations on a subsample and its per-(sample x iteration) cost is SCALED to n and to the
   iteration count of (1) -- an estimate, printed as such; its parameters on the subsample are
   checked against ours on the same subsample (same algorithm => same numbers);
3. scipy.optimize.minimize (L-BFGS-B) on the negative log-likelihood with a 2-point finite-difference
   gradient (no analytic gradient), free parameters (gate of component k pinned, log-variances).
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from hmoe_theory.estimation.em import GaussianMoEEM, GaussianMoEParams, mean_log_likelihood
from hmoe_theory.estimation.replicate import EM_MAX_ITER, EM_TOL, PairedSample, simulate
from hmoe_theory.estimation.setting import setting_from_mapping

# rows: gate [beta_1, beta_2, c] (weight exp(c)), experts [a_1, a_2, alpha], variances
TRUE = GaussianMoEParams(
    gate=np.array([[2.0, -1.0, 0.5], [-1.0, 2.0, 0.0], [0.0, 0.0, 0.0]]),
    experts=np.array([[1.0, -0.5, 0.5], [-1.0, 1.0, -0.5], [0.5, 0.5, 1.5]]),
    variances=np.array([0.05, 0.1, 0.08]),
)
SETTING = setting_from_mapping(
    {
        "name": "bench-em/gaussian-moe-k3",
        "inputs": ["x1", "x2"],
        "gate_family": "softmax-linear",
        "expert_family": "linear",
        "design": "uniform(-1, 1)",
        "k": 3,
        "estimator": "em",
        "truth": [
            {"weight": math.exp(g[2]), "beta_1": g[0], "beta_2": g[1], "a_1": e[0], "a_2": e[1], "alpha": e[2],
             "variance": v}
            for g, e, v in zip(TRUE.gate, TRUE.experts, TRUE.variances)
        ],
    }
)


def python_em(X: list[list[float]], y: list[float], start: GaussianMoEParams, iterations: int) -> GaussianMoEParams:
    """Per-sample Python EM (loops over samples, math module; 3x3 / 6x6 solves by numpy)."""
    k, p = start.gate.shape
    gate = [list(row) for row in start.gate]
    experts = [list(row) for row in start.experts]
    nu = list(start.variances)
    Z = [[*x, 1.0] for x in X]

    def log_softmax(V, z):
        s = [sum(V[j][u] * z[u] for u in range(p)) for j in range(k)]
        top = max(s)
        lse = top + math.log(sum(math.exp(v - top) for v in s))
        return [v - lse for v in s]

    for _ in range(iterations):
        R = []
        for z, yi in zip(Z, y):  # E-step
            lp = log_softmax(gate, z)
            joint = []
            for j in range(k):
                m = sum(experts[j][u] * z[u] for u in range(p))
                joint.append(lp[j] - 0.5 * (math.log(2 * math.pi * nu[j]) + (yi - m) ** 2 / nu[j]))
            top = max(joint)
            norm = top + math.log(sum(math.exp(v - top) for v in joint))
            R.append([math.exp(v - norm) for v in joint])
        for j in range(k):  # experts: weighted least squares, variances
            G = [[0.0] * p for _ in range(p)]
            b = [0.0] * p
            for z, yi, r in zip(Z, y, R):
                for u in range(p):
                    b[u] += r[j] * z[u] * yi
                    for v in range(p):
                        G[u][v] += r[j] * z[u] * z[v]
            experts[j] = list(np.linalg.solve(np.array(G) + 1e-12 * np.eye(p), np.array(b)))
            num = den = 0.0
            for z, yi, r in zip(Z, y, R):
                m = sum(experts[j][u] * z[u] for u in range(p))
                num += r[j] * (yi - m) ** 2
                den += r[j]
            nu[j] = max(num / den, 1e-8)
        # gate: one damped Newton step on sum_ij r_ij log pi_j
        size = (k - 1) * p
        grad, hess, current = [0.0] * size, [[0.0] * size for _ in range(size)], 0.0
        for z, r in zip(Z, R):
            lp = log_softmax(gate, z)
            pi = [math.exp(v) for v in lp]
            current += sum(r[j] * lp[j] for j in range(k))
            for j in range(k - 1):
                for u in range(p):
                    grad[j * p + u] += (r[j] - pi[j]) * z[u]
                    for l in range(k - 1):
                        w = pi[j] * ((1.0 if j == l else 0.0) - pi[l])
                        for v in range(p):
                            hess[j * p + u][l * p + v] += w * z[u] * z[v]
        direction = np.linalg.solve(np.array(hess) + 1e-10 * np.eye(size), np.array(grad))
        step = 1.0
        for _ in range(30):
            cand = [[gate[j][u] + (step * direction[j * p + u] if j < k - 1 else 0.0) for u in range(p)] for j in range(k)]
            value = sum(sum(r[j] * lp for j, lp in enumerate(log_softmax(cand, z))) for z, r in zip(Z, R))
            if value >= current:
                gate = cand
                break
            step /= 2
    return GaussianMoEParams(np.array(gate), np.array(experts), np.array(nu))


def scipy_numeric(X: np.ndarray, y: np.ndarray, start: GaussianMoEParams) -> tuple[GaussianMoEParams, int]:
    """L-BFGS-B with finite-difference gradient on the mean negative log-likelihood."""
    k, p = start.gate.shape

    def unpack(free: np.ndarray) -> GaussianMoEParams:
        gate = np.zeros((k, p))
        gate[: k - 1] = free[: (k - 1) * p].reshape(k - 1, p)
        experts = free[(k - 1) * p : (k - 1) * p + k * p].reshape(k, p)
        return GaussianMoEParams(gate, experts, np.exp(free[-k:]))

    pinned = start.pinned()
    x0 = np.concatenate([pinned.gate[: k - 1].ravel(), pinned.experts.ravel(), np.log(pinned.variances)])
    result = minimize(lambda f: -mean_log_likelihood(X, y, unpack(f)), x0, method="L-BFGS-B", options={"maxiter": 2000})
    return unpack(result.x), int(result.nfev)


def _timed(fn):
    """(result, CPU seconds, wall seconds) of fn()."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--subsample", type=int, default=2000)
    parser.add_argument("--python-iterations", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-scipy", action="store_true", help="skip [3] (minutes at n = 1e5)")
    args = parser.parse_args()

    X, y = simulate(SETTING, PairedSample.draw(args.seed, args.n, SETTING.d, SETTING.design.law))
    rng = np.random.default_rng(args.seed)
    start = GaussianMoEParams(
        TRUE.gate + 0.3 * rng.normal(size=TRUE.gate.shape), TRUE.experts + 0.3 * rng.normal(size=(3, 3)), 1.5 * TRUE.variances
    )
    print(f"data: n = {args.n}, k = 3, d = 2 ({SETTING.name}); truth mean log-lik {mean_log_likelihood(X, y, TRUE):.6f}; "
          f"load {os.getloadavg()[0]:.1f}")

    def ours_fit(X_, y_, **options):
        return GaussianMoEEM(3, SETTING.gate, SETTING.expert, **options).fit(X_, y_, init=start)

    ours_fit(X[:1000], y[:1000])  # warm-up (kernel compilation)
    runs = [_timed(lambda: ours_fit(X, y, max_iter=EM_MAX_ITER, tol=EM_TOL)) for _ in range(3)]
    ours, t_ours, wall_ours = min(runs, key=lambda r: r[1])
    print(f"[1] vectorised EM: {t_ours:.3f} CPU s ({wall_ours:.3f} s wall, best of 3), {ours.n_iter_} iterations "
          f"({t_ours / ours.n_iter_ * 1e3:.2f} ms each), status {ours.status_}, mean log-lik {ours.log_likelihood_:.6f}")

    m = args.subsample
    slow, t_py, _ = _timed(lambda: python_em(X[:m].tolist(), y[:m].tolist(), start.pinned(), args.python_iterations))
    check = ours_fit(X[:m], y[:m], max_iter=args.python_iterations, tol=-np.inf)
    gap = float(np.max(np.abs(slow.flat() - check.params_.flat())))
    per_sample_iter = t_py / (m * args.python_iterations)
    t_py_scaled = per_sample_iter * args.n * ours.n_iter_
    print(f"[2] per-sample Python EM: {t_py:.2f} CPU s for {args.python_iterations} iterations on {m} samples "
          f"(max |difference| from ours on the same subsample: {gap:.1e}); SCALED to n = {args.n} x "
          f"{ours.n_iter_} iterations: {t_py_scaled:.1f} CPU s (estimate)")
    line = f"ratios (CPU): python/ours = {t_py_scaled / t_ours:.0f}x (scaled estimate)"
    if not args.no_scipy:
        (numeric, nfev), t_scipy, wall_scipy = _timed(lambda: scipy_numeric(X, y, start))
        print(f"[3] scipy L-BFGS-B, numeric gradient: {t_scipy:.2f} CPU s ({wall_scipy:.2f} s wall), {nfev} "
              f"log-lik evaluations, mean log-lik {mean_log_likelihood(X, y, numeric):.6f}")
        line += f", scipy-numeric/ours = {t_scipy / t_ours:.1f}x"
    print(line)


if __name__ == "__main__":
    with threadpool_limits(limits=1):
        main()
