"""Curvature benchmark: hmoe_theory.geometry side by side with geomstats (numeric) and EinsteinPy (symbolic).

Run by hand (never by the tests), in a separate environment because geomstats needs numpy < 2.4:

    python3 -m venv /tmp/geo-venv
    /tmp/geo-venv/bin/pip install geomstats autograd einsteinpy "numpy<2.4" sympy scipy mpmath
    /tmp/geo-venv/bin/python benchmarks/bench_curvature.py [--points 20] [--batch 100000] [--einsteinpy-timeout 120]

(the script puts the repository on ``sys.path`` and selects geomstats' autograd backend itself).

What is measured, in one run, on the same maps and points:

* numeric: Gaussian curvature of the gated sigmoid witness (``sigmoid(W theta + b) * c``) and of the
  scalar-gate sphere (``R = 2``) at ``--points`` random points in ``[-1, 1]^2``. geomstats:
  ``PullbackMetric.sectional_curvature(e1, e2, p)`` (autograd), one call per point. Ours: one
  ``PullbackMetric.gaussian_curvature(p)`` call per point, and one vectorised call on ``--batch`` points.
  Accuracy: max |error| against our mpmath reference at 50 digits.
* symbolic: EinsteinPy ``RicciScalar.from_metric`` + ``simplify`` on the pullback metric ``J^T J``
  (each map in a subprocess with a timeout) against ``PullbackMetric.exact_gaussian_curvature`` (Gauss
  equation + cancel after ``exp -> positive symbol``). The scalar curvature of a surface is ``2K``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("GEOMSTATS_BACKEND", "autograd")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

from hmoe_theory.geometry.maps import round_sphere_map, sigmoid_gate_witness, sphere_witness  # noqa: E402


def geomstats_spaces():
    """The two benchmark maps written with geomstats' backend (so autograd can differentiate them)."""
    import geomstats.backend as gs
    from geomstats.geometry.base import ImmersedSet
    from geomstats.geometry.euclidean import Euclidean

    def sig(z):
        return 1 / (1 + gs.exp(-z))

    class GatedSigmoid(ImmersedSet):
        def __init__(self):
            super().__init__(dim=2)

        def _define_embedding_space(self):
            return Euclidean(3)

        def immersion(self, point):
            u, v = point[..., 0], point[..., 1]
            return gs.stack([sig(-u - v + 2), sig(-u), sig(-v - 2)], axis=-1)

    class ScalarGateSphere(ImmersedSet):
        def __init__(self, radius=2.0):
            self.radius = radius
            super().__init__(dim=2)

        def _define_embedding_space(self):
            return Euclidean(3)

        def immersion(self, point):
            u, v = point[..., 0], point[..., 1]
            g = 1 / (1 + u**2 + v**2)
            R = self.radius
            return gs.stack([g * 2 * R * u, g * 2 * R * v, g * R - (1 - g) * R], axis=-1)

    return {"gated sigmoid": GatedSigmoid(), "scalar-gate sphere R=2": ScalarGateSphere(2.0)}


def numeric_benchmark(n_points: int, batch: int) -> list[dict]:
    import geomstats.backend as gs

    ours = {"gated sigmoid": sigmoid_gate_witness().metric(), "scalar-gate sphere R=2": sphere_witness(2).metric()}
    spaces = geomstats_spaces()
    rng = np.random.default_rng(0)
    points = np.round(rng.uniform(-1, 1, size=(n_points, 2)), 3)
    rows = []
    for name, metric in ours.items():
        reference = np.array([float(metric.reference_gaussian_curvature(p, digits=50)) for p in points])
        started = time.perf_counter()
        metric.gaussian_curvature(points[0])  # compile the kernels once
        compile_s = time.perf_counter() - started

        started = time.perf_counter()
        single = np.array([metric.gaussian_curvature(p) for p in points])
        ours_single = (time.perf_counter() - started) / n_points

        many = rng.uniform(-1, 1, size=(batch, 2))
        started = time.perf_counter()
        metric.gaussian_curvature(many)
        ours_batch = (time.perf_counter() - started) / batch
        batched_at_points = metric.gaussian_curvature(points)

        space = spaces[name]
        e1, e2 = gs.array([1.0, 0.0]), gs.array([0.0, 1.0])
        space.metric.sectional_curvature(e1, e2, gs.array(points[0]))  # warm-up
        started = time.perf_counter()
        theirs = np.array([float(space.metric.sectional_curvature(e1, e2, gs.array(p))) for p in points])
        geomstats_s = (time.perf_counter() - started) / n_points
        rows.append(
            {
                "map": name,
                "geomstats_ms_per_point": 1e3 * geomstats_s,
                "ours_single_call_ms": 1e3 * ours_single,
                "ours_batched_us_per_point": 1e6 * ours_batch,
                "ours_compile_s": compile_s,
                "ratio_single_call": geomstats_s / ours_single,
                "ratio_batched": geomstats_s / ours_batch,
                "err_geomstats": float(np.max(np.abs(theirs - reference))),
                "err_ours_single": float(np.max(np.abs(single - reference))),
                "err_ours_batched": float(np.max(np.abs(batched_at_points - reference))),
            }
        )
    return rows


def _einsteinpy_worker(map_name: str, queue) -> None:
    from einsteinpy.symbolic import MetricTensor, RicciScalar

    mm = {"round sphere": round_sphere_map, "scalar-gate sphere": sphere_witness, "gated sigmoid": sigmoid_gate_witness}[
        map_name
    ]()
    J = sp.Matrix(mm.exprs).jacobian(mm.params)
    started = time.perf_counter()
    metric = MetricTensor((J.T * J).tolist(), list(mm.params))
    scalar = sp.simplify(RicciScalar.from_metric(metric).expr)
    queue.put((time.perf_counter() - started, str(scalar)[:80]))


def symbolic_benchmark(timeout_s: float) -> list[dict]:
    rows = []
    maps = {"round sphere": round_sphere_map(), "scalar-gate sphere": sphere_witness(), "gated sigmoid": sigmoid_gate_witness()}
    for name, mm in maps.items():
        started = time.perf_counter()
        K = mm.metric().exact_gaussian_curvature(None, time_limit_s=60)
        ours_s = time.perf_counter() - started
        queue = mp.get_context("fork").Queue()
        worker = mp.get_context("fork").Process(target=_einsteinpy_worker, args=(name, queue))
        worker.start()
        worker.join(timeout_s)
        if worker.is_alive():
            worker.terminate()
            worker.join()
            theirs, their_result = None, f"not finished after {timeout_s:g} s"
        else:
            theirs, their_result = queue.get()
        rows.append(
            {
                "map": name,
                "ours_s": ours_s,
                "ours_K": str(K)[:80],
                "einsteinpy_s": theirs,
                "einsteinpy_scalar": their_result,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--einsteinpy-timeout", type=float, default=120.0)
    args = parser.parse_args()
    import geomstats
    import einsteinpy

    print(f"numpy {np.__version__}, sympy {sp.__version__}, geomstats {geomstats.__version__} (autograd), "
          f"einsteinpy {einsteinpy.__version__}; {os.cpu_count()} cores\n")
    print("## Numeric Gaussian curvature (max |error| vs mpmath 50 digits)\n")
    print("| map | geomstats ms/pt | ours ms/call | ours us/pt batched | ratio (call) | ratio (batched) "
          "| err geomstats | err ours |")
    print("|---|---|---|---|---|---|---|---|")
    for r in numeric_benchmark(args.points, args.batch):
        print(f"| {r['map']} | {r['geomstats_ms_per_point']:.1f} | {r['ours_single_call_ms']:.3f} | "
              f"{r['ours_batched_us_per_point']:.2f} | {r['ratio_single_call']:.0f}x | {r['ratio_batched']:.0f}x | "
              f"{r['err_geomstats']:.1e} | {max(r['err_ours_single'], r['err_ours_batched']):.1e} |")
        print(f"<!-- one-off kernel compilation for {r['map']}: {r['ours_compile_s']:.2f} s -->")
    print("\n## Exact symbolic curvature\n")
    print("| map | ours (exact K) s | EinsteinPy (Ricci scalar + simplify) s | ours K | EinsteinPy scalar |")
    print("|---|---|---|---|---|")
    for r in symbolic_benchmark(args.einsteinpy_timeout):
        theirs = f"{r['einsteinpy_s']:.1f}" if r["einsteinpy_s"] is not None else f"> {args.einsteinpy_timeout:g}"
        print(f"| {r['map']} | {r['ours_s']:.2f} | {theirs} | `{r['ours_K']}` | `{r['einsteinpy_scalar']}` |")


if __name__ == "__main__":
    main()
