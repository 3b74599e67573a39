"""Do other solvers verify over-specified linear-expert fits faster? (issue 10, deliverable 7)

The over-specified settings with linear experts cost most of the decisive reproduction, and 17-57 % of their
fits stop at the Newton cap (docs/benchmarks_rates.md). This benchmark runs the same replicate paths
(``replicate.run_path``: 20 nested sizes 1e3..1e5, near-truth path + random path, warm starts) with the
shipped solver and with the candidates below, and reports per variant the verified share of headline fits,
the Newton systems (exact Hessians) and residual evaluations used, and CPU seconds:

* ``shipped``: ``least_squares.damped_newton`` (saddle-free damped Newton, Nielsen damping), cap 100;
* ``cap-500``: the same with 5x the budget (does more time buy convergence?);
* ``trust-region``: textbook trust-region Newton on the same exact Hessian (More-Sorensen step in the
  Marquardt-scaled eigenbasis: s = -(H + lambda I)^-1 g with ||s|| = Delta when H is indefinite or the Newton
  step is too long, hard case along the lowest eigenvector; Delta x2 when rho > 3/4 at the boundary, x1/4 of
  ||s|| when rho < 1/4), cap 100;
* ``varpro``: variable projection, now the library's default for experts linear in their parameters
  (``least_squares.variable_projection``: eta*(gamma) solved exactly, damped Newton on the gate parameters
  with the exact reduced Hessian, then the full problem polished and verified); cap 100 per stage. The other
  variants run with ``projection=False`` (the engine before it).

Every variant's status is verified the same way (KKT + positive semi-definite Hessian on the full problem).
Run by hand:  nice -n 5 python benchmarks/bench_rates_solvers.py [--reps 0,1] [--settings A,B]
"""

from __future__ import annotations

import argparse
import collections
import os
import time

import numpy as np

from hmoe_theory.estimation import least_squares, replicate
from hmoe_theory.estimation.least_squares import _cosine, held_at_bound, verified_result

SIZES = sorted({int(round(v)) for v in np.geomspace(1e3, 1e5, 20)})
COUNTS = collections.Counter()
SHIPPED_SOLVER = least_squares.damped_newton


def counted(residual, system):
    def r(x):
        COUNTS["residuals"] += 1
        return residual(x)

    def s(x):
        COUNTS["systems"] += 1
        return system(x)

    return r, s


def shipped(residual, system, x0, **options):
    return SHIPPED_SOLVER(*counted(residual, system), x0, **options)


def _boundary_step(w: np.ndarray, b: np.ndarray, radius: float) -> np.ndarray:
    """argmin b.c + c.diag(w).c / 2 over ||c|| <= radius (eigenbasis of the scaled Hessian)."""
    if w.min() > 0 and np.linalg.norm(b / w) <= radius:
        return -b / w
    lo = max(0.0, -w.min())
    lowest = int(np.argmin(w))
    with np.errstate(divide="ignore"):
        if np.linalg.norm(b / (w + lo + 1e-12 * max(1.0, lo))) < radius:  # hard case
            c = -b / (w + lo + 1e-12 * max(1.0, lo))
            c[lowest] -= np.copysign(np.sqrt(max(radius**2 - c @ c, 0.0)), b[lowest] or 1.0)
            return c
    hi = lo + np.linalg.norm(b) / radius + 1e-300
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.linalg.norm(b / (w + mid)) > radius else (lo, mid)
        if hi - lo <= 1e-13 * hi:
            break
    return -b / (w + hi)


def trust_region(residual, system, x0, bound=None, max_iter=100, gtol=1e-10, ftol=1e-15, accept_cos=1e-6, **_):
    """Trust-region Newton in the box (the active set and the verified status of ``damped_newton``)."""
    residual, system = counted(residual, system)
    x = np.clip(np.array(x0, dtype=float), -bound, bound)
    r, norms, g, H = system(x)
    iterations, rr, radius, reason = 1, float(r @ r), 1.0, "max_iter"
    rr_start = rr

    while iterations < max_iter and np.isfinite(rr):
        free = ~held_at_bound(x, g, bound)
        if _cosine(g[free], norms[free], rr) <= gtol:
            reason = "gtol"
            break
        scale = 1.0 / np.sqrt(np.maximum(norms[free], 1e-300))
        w, V = np.linalg.eigh(H[np.ix_(free, free)] * np.outer(scale, scale))
        c = _boundary_step(w, V.T @ (scale * g[free]), radius)
        h = np.zeros_like(x)
        h[free] = scale * (V @ c)
        step = np.clip(x + h, -bound, bound) - x
        r_new = residual(x + step)
        rr_new = float(r_new @ r_new) if np.all(np.isfinite(r_new)) else np.inf
        predicted = float(-(step @ g) - 0.5 * (step @ (H @ step)))
        rho = 0.5 * (rr - rr_new) / predicted if predicted > 0 else -1.0
        if rho < 0.25:
            radius = 0.25 * np.linalg.norm(c)
        elif rho > 0.75 and np.linalg.norm(c) >= 0.99 * radius:
            radius *= 2.0
        if rho > 1e-4:
            rr_old, x = rr, x + step
            r, norms, g, H = system(x)
            iterations, rr = iterations + 1, float(r @ r)
            if rr_old - rr <= ftol * rr_old:
                reason = "ftol"
                break
        if radius < 1e-14:
            reason = "xtol"
            break
    return verified_result(x, (r, norms, g, H), rr_start, reason, iterations, bound, accept_cos)


VARIANTS = {"shipped": 100, "cap-500": 500, "trust-region": 100, "varpro": 100}


def run(variant: str, setting: str, reps: list[int]) -> dict:
    least_squares.damped_newton = trust_region if variant == "trust-region" else shipped
    replicate.PROJECTION = variant == "varpro"
    replicate.MAX_ITER = VARIANTS[variant]
    COUNTS.clear()
    statuses = collections.Counter()
    start = time.process_time()
    for rep in reps:
        statuses.update(row["status"] for row in replicate.run_path(setting, SIZES, rep, 1000 + rep))
    return {"cpu": time.process_time() - start, "statuses": statuses, **COUNTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", default="0,1")
    parser.add_argument("--settings", default="softmax-linear/linear/over,quadratic-monomial/linear/over")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    reps = [int(v) for v in args.reps.split(",")]
    print(f"load {os.getloadavg()[0]:.1f}; sizes {SIZES[0]}..{SIZES[-1]} ({len(SIZES)}), reps {reps}")
    print("| setting | variant | headline converged | Newton systems | residuals | CPU s |")
    print("|---|---|---:|---:|---:|---:|")
    for setting in args.settings.split(","):
        for variant in args.variants.split(","):
            out = run(variant, setting, reps)
            total = sum(out["statuses"].values())
            print(f"| {setting} | {variant} | {out['statuses']['converged']}/{total} | {out.get('systems', 0)} | "
                  f"{out.get('residuals', 0)} | {out['cpu']:.1f} |", flush=True)
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
