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
* exact (``--exact-only`` runs just this, in the project's venv, no extra packages): canonical exact
  curvature (:meth:`PullbackMetric.exact_curvature`, checked at 50 digits) side by side with the previous
  engine (raw Gauss equation, then ``cancel`` after ``exp -> positive symbol`` and ``simplify`` under a
  time limit, as ``_tidy`` did before issue 13), each case in a child process with a timeout, on the
  issue's examples and on maps with 3 and 4 coordinates (sigmoid gates, softmax attention, spheres).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("GEOMSTATS_BACKEND", "autograd")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

from hmoe_theory.geometry.metric import PullbackMetric  # noqa: E402

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


# ---------------------------------------------------------------- exact: canonical engine vs previous engine

_GATED3 = ([[1, -1, 0], [0, 1, -1], [-1, 0, 1], [1, 1, 1]], [0, 1, -1, 2])
_GATED4 = ([[1, -1, 0, 0], [0, 1, -1, 0], [0, 0, 1, -1], [-1, 0, 0, 1], [1, 1, 1, 1]], [0, 1, -1, 2, 0])
_GATED4_D6 = ([[1, -1, 0, 0], [0, 1, -1, 0], [0, 0, 1, -1], [-1, 0, 0, 1], [1, 1, 1, 1], [1, 0, -1, 0]], [0, 1, -1, 2, 0, 0])


def _gated_text(W, b) -> str:
    rows = [" + ".join(f"({w})*t{j + 1}" for j, w in enumerate(row) if w) + f" + ({bias})" for row, bias in zip(W, b)]
    return "[" + ", ".join(f"sigmoid({r})" for r in rows) + "]"


def _attention_text(n: int) -> str:
    """softmax(theta_1..theta_n, theta_1 + theta_2, 0) . (e_1, ..., e_{n+1}, 0): n + 2 tokens in R^{n+1}."""
    logits = [f"t{j + 1}" for j in range(n)] + ["t1 + t2", "0"]
    total = " + ".join(f"exp({l})" for l in logits)
    return "[" + ", ".join(f"exp({logits[i]})/({total})" for i in range(n + 1)) + "]"


def _sphere_text(n: int) -> str:
    """Hyperspherical coordinates of the n-sphere of radius R: R (cos t1 ... cos t_{n-1} sin t_n, ..., sin t1)
    and R cos t1 ... cos t_n."""
    names = [f"t{j + 1}" for j in range(n)]
    rows = [["R", *(f"cos({x})" for x in names[: n - 1 - k]), f"sin({names[n - 1 - k]})"] for k in range(n)]
    rows.append(["R", *(f"cos({x})" for x in names)])
    return "[" + ", ".join("*".join(r) for r in rows) + "]"


EXACT_CASES = [
    # name, map, coords, point (None: symbolic), quantity
    ("helicoid K at (2/5, 9/10)", "[u*cos(v), u*sin(v), 3*v/2]", "u,v", {"u": "2/5", "v": "9/10"}, "gaussian"),
    ("helicoid K(u, v)", "[u*cos(v), u*sin(v), 3*v/2]", "u,v", None, "gaussian"),
    ("sigmoid witness K(u, v)", "[sigmoid(-u-v+2), sigmoid(-u), sigmoid(-v-2)]", "u,v", None, "gaussian"),
    ("3-sphere S (symbolic R)", _sphere_text(3), "t1,t2,t3", None, "scalar"),
    ("3-sphere S at R=2, (1/3,1/5,1/7)", _sphere_text(3).replace("R", "2"), "t1,t2,t3", {"t1": "1/3", "t2": "1/5", "t3": "1/7"}, "scalar"),
    ("n=3 sigmoid gate (D=4) S", _gated_text(*_GATED3), "t1,t2,t3", None, "scalar"),
    ("n=3 softmax attention (5 tokens) S", _attention_text(3), "t1,t2,t3", None, "scalar"),
    ("n=3 sigmoid gate (D=4) S at a point", _gated_text(*_GATED3), "t1,t2,t3", {"t1": "1/3", "t2": "-1/5", "t3": "1/7"}, "scalar"),
    ("4-sphere S (symbolic R)", _sphere_text(4), "t1,t2,t3,t4", None, "scalar"),
    ("n=4 sigmoid gate (D=5) S", _gated_text(*_GATED4), "t1,t2,t3,t4", None, "scalar"),
    ("n=4 sigmoid gate (D=5) all 6 K(e_a, e_b)", _gated_text(*_GATED4), "t1,t2,t3,t4", None, "sectional"),
    ("n=4 softmax attention (6 tokens) S", _attention_text(4), "t1,t2,t3,t4", None, "scalar"),
    ("n=4 sigmoid gate (D=6) S [limit]", _gated_text(*_GATED4_D6), "t1,t2,t3,t4", None, "scalar"),
    ("n=4 sigmoid gate (D=6) S at (0.3, 0.1, -0.2, 0.5)", _gated_text(*_GATED4_D6), "t1,t2,t3,t4", {"t1": "3/10", "t2": "1/10", "t3": "-1/5", "t4": "1/2"}, "scalar"),
    ("n=4 sigmoid gate (D=6) S at (1/3, -1/5, 1/7, 1/2)", _gated_text(*_GATED4_D6), "t1,t2,t3,t4", {"t1": "1/3", "t2": "-1/5", "t3": "1/7", "t4": "1/2"}, "scalar"),
]


def _previous_engine(metric: PullbackMetric, point, quantity: str, limit: float) -> sp.Expr:
    """The engine before issue 13: raw Gauss equation, then cancel after exp -> positive symbol, then
    simplify (kept when not longer), each step under the time limit (copied from the old ``_tidy``)."""
    from hmoe_theory.certify import rationalise_exponentials
    from hmoe_theory.errors import TimeLimitExceeded
    from hmoe_theory.timelimit import time_limit

    if quantity == "gaussian":
        value = metric.exact_gaussian_curvature(point, simplify=False, time_limit_s=limit)
    elif quantity == "scalar":
        value = metric.exact_scalar_curvature(point, simplify=False, time_limit_s=limit)
    else:
        g, R = metric.exact_riemann(point, limit)
        value = [R[a, b, a, b] / (g[a, a] * g[b, b] - g[a, b] ** 2) for a in range(metric.dimension) for b in range(a + 1, metric.dimension)]
        return [_previous_tidy(v, metric, limit, point is None, rationalise_exponentials, time_limit, TimeLimitExceeded) for v in value]
    return _previous_tidy(value, metric, limit, point is None, rationalise_exponentials, time_limit, TimeLimitExceeded)


def _previous_tidy(value, metric, limit, symbolic, rationalise_exponentials, time_limit, TimeLimitExceeded):
    best = value
    try:
        with time_limit(limit, "simplifying a curvature"):
            best = rationalise_exponentials(value, metric.params)
    except TimeLimitExceeded:
        return best
    if symbolic and not best.has(sp.sin, sp.cos, sp.tan, sp.tanh, sp.erf, sp.log):
        return best
    try:
        with time_limit(limit, "simplifying a curvature"):
            candidate = sp.simplify(best)
        if sp.count_ops(candidate) <= sp.count_ops(best):
            best = candidate
    except TimeLimitExceeded:
        pass
    return best


def _exact_worker(case: int, engine: str, limit: float, queue) -> None:
    from hmoe_theory.errors import TimeLimitExceeded

    name, text, coords, point, quantity = EXACT_CASES[case]
    metric = PullbackMetric.from_text(text, coords)
    point = None if point is None else {k: Fraction(v) for k, v in point.items()}
    started = time.perf_counter()
    try:
        if engine == "canonical":
            exact = metric.exact_curvature(point, time_limit_s=limit)
            value = exact.gaussian if quantity == "gaussian" else exact.scalar if quantity == "scalar" else list(exact.sectional.values())
        else:
            value = _previous_engine(metric, point, quantity, limit)
    except TimeLimitExceeded:
        return  # reported as "> limit"
    seconds = time.perf_counter() - started
    values = value if isinstance(value, list) else [value]
    size = sum(len(sp.sstr(v, order="none")) for v in values)
    shown = sp.sstr(values[0], order="none")
    queue.put((seconds, size, shown[:40] + ("..." if len(shown) > 40 else "")))


def exact_benchmark(timeout_s: float) -> list[dict]:
    rows = []
    context = mp.get_context("fork")
    for case, (name, *_rest) in enumerate(EXACT_CASES):
        row = {"case": name}
        for engine in ("previous", "canonical"):
            queue = context.Queue()
            worker = context.Process(target=_exact_worker, args=(case, engine, timeout_s, queue))
            worker.start()
            worker.join(timeout_s + 5)
            if worker.is_alive():
                worker.terminate()
                worker.join()
                row[engine] = None
            else:
                row[engine] = queue.get() if not queue.empty() else (None if worker.exitcode == 0 else ("error", 0, f"exit {worker.exitcode}"))
        rows.append(row)
        print(_exact_row(row, timeout_s), flush=True)
    return rows


def _exact_row(row: dict, timeout_s: float) -> str:
    def cell(result):
        if result is None:
            return f"> {timeout_s:g} s", "-", "-"
        seconds, size, shown = result
        if seconds == "error":
            return "error", "-", shown
        return f"{seconds:.2f} s", str(size), f"`{shown}`"

    before, after = cell(row["previous"]), cell(row["canonical"])
    return f"| {row['case']} | {before[0]} | {before[1]} | {after[0]} | {after[1]} | {after[2]} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--einsteinpy-timeout", type=float, default=120.0)
    parser.add_argument("--exact-only", action="store_true", help="only the canonical vs previous exact engine table")
    parser.add_argument("--exact-timeout", type=float, default=120.0, help="seconds per case and engine")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; sympy {sp.__version__}\n")
    print("## Exact curvature: previous engine (raw + cancel/simplify) vs canonical (checked at 50 digits)\n")
    print("| case | previous s | previous chars | canonical s | canonical chars | canonical value |")
    print("|---|---|---|---|---|---|")
    exact_benchmark(args.exact_timeout)
    if args.exact_only:
        return
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
