"""Plain EM against SQUAREM-accelerated EM (hmoe_theory.estimation.em) on the rate design's Gaussian MoE paths.

One run, side by side: for each setting of ``SETTINGS`` and each replicate of ``--reps`` one replicate path
(:func:`hmoe_theory.estimation.replicate.run_path` at :data:`hmoe_theory.experiments.decisive.SIZES`, seed
``task_seed(0, rep)`` as the shipped rerun draws it, so the plain paths are the shipped ones) is fitted with each
method, switched by replacing ``replicate.GaussianMoEEM`` with the estimator whose ``acceleration`` is fixed
(replicate.py is not edited). Plus the paths of every fit of the shipped rerun
(``hmoe_theory/data/rates_v3/fits.csv``) with status ``iteration-cap`` whose replicate is not already run: warm
starts make a fit depend on its path, so the whole path is refitted.

Each path runs in a worker of a 2-process pool with BLAS single-threaded (threadpoolctl, as the replicate);
CPU seconds are ``time.process_time`` of the worker around ``run_path`` (kernels compiled outside the clock; the
path includes the protocol's refits, random path and cold checks, all EM). Reported per setting: CPU s per
path of each method and their ratio, verified (``converged``) stored fits, median EM-map evaluations per stored
fit, and every EM fit the path ran (``replicate._fit`` is wrapped): how many, how many at ``iteration-cap``.

Agreement of the optimum, from the same start: after the plain path (outside its clock) every EM fit it ran is
refitted by SQUAREM from the same start on the same sample; per fit the relative gap of the mean negative
log-likelihood (l_sq - l_plain) / |l_plain| (negative: SQUAREM higher) and the relative D1 gap
|D1_sq - D1_plain| / D1_plain. The shipped rerun's fits at ``iteration-cap`` are among them when the plain path
reproduces the shipped one: the fit whose loss equals the shipped loss is that fit, and its SQUAREM refit
from the same warm start says whether it converges.

Run by hand:  nice -n 5 python benchmarks/bench_em_squarem.py [--reps 0-3] [--out results.json]
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from hmoe_theory.estimation import em, replicate
from hmoe_theory.experiments.decisive import SIZES
from hmoe_theory.experiments.spec import task_seed

HERE = Path(__file__).resolve().parents[1]
SHIPPED = HERE / "hmoe_theory" / "data" / "rates_v3" / "fits.csv"
SETTINGS = ("gaussian-moe/over", "gaussian-moe/quadratic-monomial/over", "gaussian-moe/quadratic-polynomial/over",
            "gaussian-moe/exact", "gaussian-moe/quadratic-monomial/exact", "gaussian-moe/quadratic-polynomial/exact")
METHODS = ("none", "squarem")
_warm: set[str] = set()


def path(task: tuple[str, int, str]) -> dict:
    """One replicate path of ``setting`` with EM ``method``: CPU s, per-size stored fits, every EM fit run (and,
    for the plain method, each one's SQUAREM refit from the same start)."""
    setting, rep, method = task
    original, calls = replicate._fit, []

    def recorded(at, X, y, start, budget=1):
        fit = original(at, X, y, start, budget)
        calls.append((at, X, y, start, fit))
        return fit

    with threadpool_limits(limits=1):
        replicate.GaussianMoEEM = functools.partial(em.GaussianMoEEM, acceleration=method)
        if setting not in _warm:  # compile the kernels outside the clock
            replicate.run_path(setting, SIZES[:1], 0, 0)
            _warm.add(setting)
        replicate._fit = recorded
        try:
            start = time.process_time()
            rows = replicate.run_path(setting, SIZES, rep, task_seed(0, rep))
            cpu = time.process_time() - start
        finally:
            replicate._fit = original
        same_start = []
        if method == "none":
            replicate.GaussianMoEEM = functools.partial(em.GaussianMoEEM, acceleration="squarem")
            for at, X, y, start_theta, plain in calls:
                fast = original(at, X, y, start_theta)
                same_start.append({"n": len(y), "plain": _record(at, plain), "squarem": _record(at, fast)})
    return {"setting": setting, "rep": rep, "method": method, "cpu": cpu,
            "fits": [{"n": r["n"], "status": r["status"], "maps": r["metrics"]["iterations"],
                      "loss": r["metrics"]["loss"], "d1": r["metrics"]["d1"]} for r in rows],
            "em_fits": [{"n": len(c[2]), "status": c[4].status, "maps": c[4].iterations} for c in calls],
            "same_start": same_start}


def _record(at, fit) -> dict:
    return {"status": fit.status, "maps": fit.iterations, "loss": fit.loss, "d1": replicate.losses(at, fit.theta)["d1"]}


def shipped_caps() -> list[tuple[str, int, int, float]]:
    """(setting, n, rep, loss) of the shipped Gaussian MoE fits at ``iteration-cap``."""
    with open(SHIPPED, newline="") as handle:
        return [(row["setting"], int(row["n"]), int(row["rep"]), float(row["loss"])) for row in csv.DictReader(handle)
                if row["setting"] in SETTINGS and row["status"] == "iteration-cap"]


def table(results: list[dict], reps: list[int]) -> list[str]:
    by = {(r["setting"], r["rep"], r["method"]): r for r in results}
    lines = ["| setting | plain CPU s/path | squarem CPU s/path | ratio | verified plain | verified squarem | "
             "median maps plain | median maps squarem | EM fits at cap plain | EM fits at cap squarem | "
             "same start: max loglik gap | max D1 gap | squarem lower loglik (> 1e-6) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for setting in SETTINGS:
        runs = [[by[(setting, rep, m)] for m in METHODS] for rep in reps]
        cpu = [np.mean([run[i]["cpu"] for run in runs]) for i in (0, 1)]
        fits = [[f for run in runs for f in run[i]["fits"]] for i in (0, 1)]
        calls = [[f for run in runs for f in run[i]["em_fits"]] for i in (0, 1)]
        verified = [sum(f["status"] == "converged" for f in side) for side in fits]
        capped = [f"{sum(f['status'] == 'iteration-cap' for f in side)}/{len(side)}" for side in calls]
        maps = [np.median([f["maps"] for f in side]) for side in fits]
        pairs = [pair for run in runs for pair in run[0]["same_start"]]
        loss_gaps = [(p["squarem"]["loss"] - p["plain"]["loss"]) / abs(p["plain"]["loss"]) for p in pairs]
        d1_gaps = [abs(p["squarem"]["d1"] - p["plain"]["d1"]) / p["plain"]["d1"] for p in pairs]
        lower = sum(g > 1e-6 for g in loss_gaps)
        lines.append(f"| {setting} | {cpu[0]:.2f} | {cpu[1]:.2f} | {cpu[1] / cpu[0]:.2f} | {verified[0]}/{len(fits[0])} "
                     f"| {verified[1]}/{len(fits[1])} | {maps[0]:.0f} | {maps[1]:.0f} | {capped[0]} | {capped[1]} | "
                     f"{max(np.abs(loss_gaps)):.1e} | {max(d1_gaps):.1e} | {lower}/{len(pairs)} |")
    return lines


def caps_table(results: list[dict], caps: list[tuple[str, int, int, float]]) -> list[str]:
    by = {(r["setting"], r["rep"], r["method"]): r for r in results}
    lines = ["| setting | n | rep | plain fit from the shipped warm start | SQUAREM from the same start | SQUAREM maps | "
             "loglik gap (l_sq - l_plain) / l_plain | stored fit: plain path | stored fit: squarem path |",
             "|---|---:|---:|---|---|---:|---:|---|---|"]
    for setting, n, rep, loss in caps:
        plain = by[(setting, rep, "none")]
        same = [p for p in plain["same_start"] if p["n"] == n and np.isclose(p["plain"]["loss"], loss, rtol=1e-12, atol=0)]
        stored = [next(f["status"] for f in by[(setting, rep, m)]["fits"] if f["n"] == n) for m in METHODS]
        if same:
            p = same[0]
            lines.append(f"| {setting} | {n} | {rep} | {p['plain']['status']} ({p['plain']['maps']}) | "
                         f"{p['squarem']['status']} | {p['squarem']['maps']} | "
                         f"{(p['squarem']['loss'] - p['plain']['loss']) / abs(p['plain']['loss']):+.1e} | "
                         f"{stored[0]} | {stored[1]} |")
        else:
            lines.append(f"| {setting} | {n} | {rep} | not reproduced | | | | {stored[0]} | {stored[1]} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", default="0-3", help="replicates of the side-by-side table, e.g. 0-3")
    parser.add_argument("--out", default=None, help="write every path's record to this JSON file")
    args = parser.parse_args()
    low, _, high = args.reps.partition("-")
    reps = list(range(int(low), int(high or low) + 1))
    caps = shipped_caps()
    tasks = [(s, rep, m) for s in SETTINGS for rep in reps for m in METHODS]
    tasks += [(s, rep, m) for s, rep in sorted({(s, rep) for s, _, rep, _ in caps if rep not in reps}) for m in METHODS]
    tasks.sort(key=lambda t: ("exact" in t[0], t))  # the long over-specified paths first
    start = time.time()
    with get_context("fork").Pool(2) as pool:
        results = pool.map(path, tasks, chunksize=1)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    print(f"{len(tasks)} paths, sizes {SIZES}, reps {reps}, wall {time.time() - start:.0f} s\n")
    print("\n".join(table(results, reps)))
    print("\nShipped fits at iteration-cap (plain path rerun; the fit with the shipped loss refitted by SQUAREM):\n")
    print("\n".join(caps_table(results, caps)))


if __name__ == "__main__":
    main()
