"""Merged-D1 twins: fits run to the cap and judged on the quotient afterwards (today) vs stopped by the quotient test
(early stop), side by side in one run.

For each twin ``<gate>/linear/over/merged`` (gates softmax-linear, quadratic-polynomial, quadratic-monomial) and
each replicate of ``--reps``, one replicate path of the decisive design (:data:`hmoe_theory.experiments.decisive.SIZES`,
seed ``task_seed(0, rep)`` as ``hmoe rates`` draws it) runs twice through
:func:`hmoe_theory.estimation.replicate.run_path` -- the same data, near-truth and random starts, warm starts,
refit rule, cold checks, box ``BOUND``, budget ``MAX_ITER`` and projection choice:

* ``today``: the fit before the early stop (:func:`capped_fit`: ``fit_least_squares`` to its own stopping rule, on
  the flat merge set usually the cap, then :func:`~hmoe_theory.estimation.quotient.quotient_status`);
* ``early``: the shipped ``replicate._fit``, with the acceptance rule
  :func:`~hmoe_theory.estimation.quotient.quotient_acceptance` passed to ``fit_least_squares`` (:func:`early_fit`).

CPU s by ``time.process_time`` (BLAS single-threaded, threadpoolctl; kernels compiled outside the clock; the two
variants alternate per path so the machine's load hits both alike). Reported per twin: CPU s per path, headline
fits verified on the quotient, headline Newton systems per path, evaluations of the rule and their CPU share, and the
largest relative gap of the headline merged D1 (metric ``d1_merged``) between the two variants over every size, and
over the sizes where both headline fits are converged (warm starts carry a gap at one size into the next ones).

Run by hand:  nice -n 5 python benchmarks/bench_twins.py [--reps 0,1,2,3]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from hmoe_theory.estimation import replicate
from hmoe_theory.estimation.least_squares import fit_least_squares
from hmoe_theory.estimation.quotient import quotient_status
from hmoe_theory.estimation.setting import Setting
from hmoe_theory.experiments import decisive
from hmoe_theory.experiments.spec import task_seed

TWINS = tuple(f"{gate}/linear/over/merged" for gate in ("softmax-linear", "quadratic-polynomial", "quadratic-monomial"))
SHIPPED_FIT = replicate._fit
RULE_CALLS = {"count": 0, "cpu": 0.0}


def _counted(rule: Callable) -> Callable:
    def accept(theta, system) -> bool:
        start = time.process_time()
        try:
            return rule(theta, system)
        finally:
            RULE_CALLS["count"] += 1
            RULE_CALLS["cpu"] += time.process_time() - start

    return accept


def capped_fit(setting: Setting, X: np.ndarray, y: np.ndarray, start: np.ndarray, budget: int = 1) -> replicate._Fit:
    """``replicate._fit`` before the early stop: least squares to its own stopping rule (on the flat merge set
    usually the cap), then judged by :func:`~hmoe_theory.estimation.quotient.quotient_status`."""
    if setting.estimator == "em" or setting.d1_convention != "merged":
        return SHIPPED_FIT(setting, X, y, start, budget)
    fit = fit_least_squares(setting.fit_model, X, y, start, bound=replicate.BOUND,
                            max_iter=replicate.MAX_ITER * budget,
                            projection=replicate.PROJECTION and setting.over_specified
                            and setting.name not in replicate.NO_PROJECTION)
    status = quotient_status(setting, X, y, fit, replicate.BOUND)
    return replicate._Fit(fit.theta, status, fit.iterations, fit.loss, fit.grad_norm)


def early_fit(setting: Setting, X: np.ndarray, y: np.ndarray, start: np.ndarray, budget: int = 1) -> replicate._Fit:
    """The shipped ``replicate._fit`` (the twin's quotient test as the solver's acceptance rule), its rule counted."""
    shipped = replicate.quotient_acceptance
    replicate.quotient_acceptance = lambda setting, bound: _counted(shipped(setting, bound))
    try:
        return SHIPPED_FIT(setting, X, y, start, budget)
    finally:
        replicate.quotient_acceptance = shipped


def run(setting: str, rep: int, fit: Callable) -> tuple[float, list[dict]]:
    """(CPU s, rows) of one replicate path with ``fit`` as ``replicate._fit``."""
    replicate._fit = fit
    try:
        start = time.process_time()
        rows = replicate.run_path(setting, decisive.SIZES, rep, task_seed(0, rep))
        return time.process_time() - start, rows
    finally:
        replicate._fit = SHIPPED_FIT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", default="0,1,2,3")
    parser.add_argument("--settings", default=",".join(TWINS))
    args = parser.parse_args()
    reps = [int(v) for v in args.reps.split(",")]
    print(f"load {os.getloadavg()[0]:.1f}; sizes {decisive.SIZES}; replicates {reps}")
    print("| twin | today CPU s / path | early CPU s / path | ratio | today verified | early verified "
          "| systems / path today | early | rule calls (CPU %) | max rel. gap d1_merged: all | both converged |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    total = {"today": 0.0, "early": 0.0}
    with threadpool_limits(limits=1):
        for setting in args.settings.split(","):
            replicate.run_path(setting, decisive.SIZES[:1], 0, 0)  # compile the kernels outside the clock
            cpu = {"today": [], "early": []}
            verified = {"today": 0, "early": 0}
            systems = {"today": 0.0, "early": 0.0}
            gaps, converged_gaps, fits = [], [0.0], 0
            RULE_CALLS.update(count=0, cpu=0.0)
            for rep in reps:
                out = {name: run(setting, rep, fit) for name, fit in (("today", capped_fit), ("early", early_fit))}
                for name, (seconds, rows) in out.items():
                    cpu[name].append(seconds)
                    verified[name] += sum(row["status"] == "converged" for row in rows)
                    systems[name] += sum(row["metrics"]["iterations"] for row in rows)
                today, early = (np.array([row["metrics"]["d1_merged"] for row in out[k][1]])
                                for k in ("today", "early"))
                gap = np.abs(early - today) / today
                both = [a["status"] == b["status"] == "converged" for a, b in zip(out["today"][1], out["early"][1])]
                gaps.append(float(np.max(gap)))
                converged_gaps.append(float(np.max(gap[both], initial=0.0)))
                fits += len(today)
            for name in total:
                total[name] += sum(cpu[name])
            today_cpu, early_cpu = float(np.mean(cpu["today"])), float(np.mean(cpu["early"]))
            print(f"| {setting} | {today_cpu:.1f} | {early_cpu:.1f} | {early_cpu / today_cpu:.2f} "
                  f"| {verified['today']}/{fits} | {verified['early']}/{fits} | {systems['today'] / len(reps):.0f} "
                  f"| {systems['early'] / len(reps):.0f} "
                  f"| {RULE_CALLS['count']} ({100 * RULE_CALLS['cpu'] / sum(cpu['early']):.1f} %) "
                  f"| {max(gaps):.2e} | {max(converged_gaps):.2e} |", flush=True)
    print(f"\nall paths, CPU s: today {total['today']:.1f}, early {total['early']:.1f} "
          f"(ratio {total['early'] / total['today']:.3f}); load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
