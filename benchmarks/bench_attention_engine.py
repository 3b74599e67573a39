"""Speed of the attention least-squares engine, side by side with the previous one, and the projection of the
issue's full estimation design (issue 11, deliverable 6: <= 15 minutes on 2 cores).

The previous engine is ``hmoe_theory/estimation/attention_fit.py`` at commit ``BASELINE`` (loaded from git into a
private module): one numpy kernel (sympy lambdify, cse) of f, its gradient and all p(p+1)/2 second derivatives.
The current one: second-order forward differentiation over the expression graph with each exponential computed
once, two symengine-LLVM routines per point, BLAS reductions per block (:mod:`hmoe_theory.newton_system`, the
``DerivedSystem`` of ``setting.fit_model``), fitted by ``least_squares.fit_least_squares``.

Bridge to the old engine (after the estimation refactor): its ``SymbolicRegression`` reads only ``expr``,
``inputs`` and ``params``, so it is built on the current ``DerivedSystem`` of each setting (the same entry
function, gauge w = 1 fixed); its ``fit_regression`` imports ``damped_newton`` from the current
``least_squares``, so both engines run today's solver (with its stall rule): the comparison is of the
derivative kernels and the fit wrapper, not of solver versions. Replicate paths are the one
``replicate.run_path``; the engine is swapped by replacing ``replicate.fit_least_squares`` for the run.

Prints, BLAS single-threaded, in one run:

1. per setting at n = 1e5: seconds per Newton system and per value (predict), old / new / ratio;
2. single fits from the near-truth start at ``--fit-n`` (old and new: status, iterations, loss, seconds);
3. replicate paths (``replicate.run_path``, the 20 sizes 1e3..1e5 of ``hmoe rates --n 1000:100000:20``)
   for ``--reps`` replicates of every setting with the new engine (seeds of the runner's replicates 0, 1, ...),
   and ``--old-paths`` settings with the old engine on replicate 0 (same rows? then the path ratio);
4. the projection of the full design: CPU = sum over the 10 settings of 40 x mean path seconds; wall on 2 cores
   = CPU / 2 (the runner keeps both workers busy; one path is at most ~1 % of the total).

Also reports, from the paths, how the iterations split between the two fits per size (warm start from the
previous size, near-truth start).

Run: nice -n 5 .venv/bin/python benchmarks/bench_attention_engine.py [--reps 2] [--old-paths SETTING ...]
(``--sizes`` and ``--kernel-n`` shrink the design for a smoke test; the projection in 4 always uses the
paths' mean seconds, so it is the full design's only with the default ``--sizes``.)
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from hmoe_theory.estimation import attention_catalogue as ar
from hmoe_theory.estimation import replicate
from hmoe_theory.estimation.least_squares import fit_least_squares
from hmoe_theory.estimation.replicate import BOUND, MAX_ITER, PairedSample, setting_seed, simulate
from hmoe_theory.estimation.setting import Setting
from hmoe_theory.experiments import parse_sizes, task_seed

BASELINE = "a7be408"  # the engine this work started from
ROOT = Path(__file__).resolve().parents[1]
FULL_SIZES = parse_sizes("1000:100000:20")
FULL_REPS, CORES, TARGET_MINUTES = 40, 2, 15.0


def old_engine():
    """``attention_fit`` as of BASELINE, as a private module of the package (its relative imports resolve)."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{BASELINE}:hmoe_theory/estimation/attention_fit.py"],
                            check=True, capture_output=True, text=True).stdout
    name = "hmoe_theory.estimation._attention_fit_baseline"
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "hmoe_theory.estimation"
    sys.modules[name] = module
    exec(compile(source, f"{BASELINE}:attention_fit.py", "exec"), module.__dict__)
    return module


class Engine:
    """One engine: ``system`` turns a setting's ``DerivedSystem`` into the engine's model, ``fit_function``
    fits it (``fit(model, X, y, start, bound=, max_iter=)``). As a context manager it replaces the fit
    function ``replicate.run_path`` uses and records every fit."""

    def __init__(self, system: Callable, fit_function: Callable, accepts_projection: bool) -> None:
        self.system = cache(system)
        self.fit_function = fit_function
        self.accepts_projection = accepts_projection  # the old fit_regression has no variable projection
        self.calls: list[tuple[int, int]] = []  # (n, iterations) of every fit, in order

    def regression(self, setting: Setting):
        return self.system(setting.fit_model)

    def fit(self, model, X, y, start, **kwargs):
        if not self.accepts_projection:  # attention systems have no linear_indices: projection is off anyway
            kwargs.pop("projection", None)
        fit = self.fit_function(self.system(model), X, y, start, **kwargs)
        self.calls.append((len(y), fit.iterations))
        return fit

    def __enter__(self) -> "Engine":
        self.saved = replicate.fit_least_squares
        replicate.fit_least_squares = self.fit
        return self

    def __exit__(self, *exc) -> None:
        replicate.fit_least_squares = self.saved


def best_of(function, repeat: int = 5) -> float:
    function()
    times = []
    for _ in range(repeat):
        clock = time.perf_counter()
        function()
        times.append(time.perf_counter() - clock)
    return min(times)


def kernels(old, new, sample: PairedSample) -> None:
    print(f"\n1. per call at n = {len(sample.z)} (best of 5, ms)")
    print(f"{'setting':24s} {'p':>3s} {'system old':>10s} {'new':>7s} {'ratio':>6s} {'predict old':>11s} {'new':>6s}")
    for name, setting in ar.SETTINGS.items():
        X, y = simulate(setting, sample)
        theta = ar.near_truth_start(setting, np.random.default_rng(0))
        a, b = old.regression(setting), new.regression(setting)
        data = b.prepare(X)
        s_old, s_new = best_of(lambda: a.system(X, y, theta)), best_of(lambda: b.system(data, y, theta))
        p_old, p_new = best_of(lambda: a.predict(X, theta)), best_of(lambda: b.predict(data, theta))
        print(f"{name:24s} {b.n_params:3d} {1e3 * s_old:10.1f} {1e3 * s_new:7.1f} {s_old / s_new:6.1f} "
              f"{1e3 * p_old:11.1f} {1e3 * p_new:6.1f}")


def single_fits(old, new, sample: PairedSample, n: int) -> None:
    print(f"\n2. one fit from the near-truth start at n = {n}")
    for name in ("attention/plain/exact", "attention/G1/exact", "attention/G2/over", "attention/G3/over"):
        setting = ar.SETTINGS[name]
        X, y = simulate(setting, sample)
        start = ar.near_truth_start(setting, np.random.default_rng(setting_seed(1, name)))
        out = []
        for engine in (old, new):
            model = engine.regression(setting)
            clock = time.perf_counter()
            fit = engine.fit_function(model, X[:n], y[:n], start, bound=BOUND, max_iter=MAX_ITER)
            out.append((time.perf_counter() - clock, fit))
        (t_old, f_old), (t_new, f_new) = out
        print(f"{name:24s} old {f_old.status} {f_old.iterations} it {t_old:6.2f} s | new {f_new.status} "
              f"{f_new.iterations} it {t_new:6.2f} s | ratio {t_old / t_new:5.1f} | loss rel. diff "
              f"{abs(f_old.loss - f_new.loss) / f_old.loss:.1e}, max |theta diff| "
              f"{np.max(np.abs(f_old.theta - f_new.theta)):.1e}")


def paths(engine: Engine, names, reps, sizes) -> dict[str, list[tuple[float, list[dict], list]]]:
    out = {}
    with engine:
        for name in names:
            out[name] = []
            replicate.run_path(name, sizes[:1], 0, 0)  # compile outside the clock
            for rep in reps:
                engine.calls = []
                clock = time.perf_counter()
                rows = replicate.run_path(name, sizes, rep, task_seed(0, rep))
                out[name].append((time.perf_counter() - clock, rows, engine.calls))
    return out


def split(calls: list[tuple[int, int]]) -> tuple[int, int]:
    """Iterations of the (warm, near-truth) fits of one path: at the first size only the near-truth fit runs;
    at every later size the warm fit comes first, then the near-truth one (``replicate._warm_or_initial``)."""
    warm = sum(it for k, (n, it) in enumerate(calls) if k > 0 and n != calls[k - 1][0])
    return warm, sum(it for _, it in calls) - warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2, help="replicate paths per setting, new engine (default 2)")
    parser.add_argument("--old-paths", nargs="*", default=["attention/plain/exact", "attention/G1/over"],
                        help="settings whose replicate-0 path is also run with the old engine")
    parser.add_argument("--fit-n", type=int, default=30_000, help="size of the single fits (default 3e4)")
    parser.add_argument("--sizes", type=parse_sizes, default=FULL_SIZES,
                        help="sizes of the replicate paths (default 1000:100000:20, the full design)")
    parser.add_argument("--kernel-n", type=int, default=100_000, help="size of the per-call timings (default 1e5)")
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be >= 1")
    base = old_engine()
    old = Engine(lambda system: base.SymbolicRegression(system), base.fit_regression, accepts_projection=False)
    new = Engine(lambda system: system, fit_least_squares, accepts_projection=True)
    first = next(iter(ar.SETTINGS.values()))
    sample = PairedSample.draw(1, max(args.kernel_n, args.fit_n), first.d, first.design.law)
    with threadpool_limits(limits=1):
        kernels(old, new, PairedSample(sample.raw_X[: args.kernel_n], sample.z[: args.kernel_n],
                                       sample.u[: args.kernel_n]))
        single_fits(old, new, sample, args.fit_n)
        sizes = args.sizes
        print(f"\n3. replicate paths, {len(sizes)} sizes {sizes[0]}..{sizes[-1]}, seconds")
        timed = paths(new, list(ar.SETTINGS), range(args.reps), sizes)
        reference = paths(old, args.old_paths, [0], sizes)
    total_cpu = 0.0
    print(f"{'setting':24s} {'paths':>5s} {'mean s':>7s} {'max s':>6s} {'converged':>9s} {'warm it':>8s} "
          f"{'near-truth it':>13s}")
    for name, runs in timed.items():
        seconds = [s for s, _, _ in runs]
        converged = sum(r["status"] == "converged" for _, rows, _ in runs for r in rows)
        warm, cold = map(sum, zip(*(split(calls) for _, _, calls in runs)))
        total_cpu += FULL_REPS * statistics.fmean(seconds)
        print(f"{name:24s} {len(runs):5d} {statistics.fmean(seconds):7.2f} {max(seconds):6.2f} "
              f"{converged:4d}/{sum(len(rows) for _, rows, _ in runs):<4d} {warm:8d} {cold:13d}")
    for name, [(seconds, rows, _)] in reference.items():
        s_new, rows_new, _ = timed[name][0]
        same = sum(a["status"] == b["status"] and np.isclose(a["metrics"]["loss"], b["metrics"]["loss"], rtol=1e-9,
                                                             atol=0) for a, b in zip(rows, rows_new))
        print(f"old engine {name} rep 0: {seconds:.1f} s vs new {s_new:.1f} s, ratio {seconds / s_new:.1f}; "
              f"same status and loss (rtol 1e-9) at {same}/{len(rows)} sizes")
    wall = total_cpu / CORES / 60
    print(f"\n4. projected design ({len(ar.SETTINGS)} settings x {len(args.sizes)} sizes x {FULL_REPS} reps): "
          f"{total_cpu / 60:.1f} CPU-minutes, {wall:.1f} min on {CORES} cores (target {TARGET_MINUTES:.0f} min)")


if __name__ == "__main__":
    main()
