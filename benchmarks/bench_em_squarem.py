"""Plain EM against SQUAREM-accelerated EM (hmoe_theory.estimation.em) on the rate design's Gaussian MoE paths.

One run, side by side: for each setting of ``SETTINGS`` and each replicate of ``--reps`` one replicate path
(:func:`hmoe_theory.estimation.replicate.run_path` at :data:`hmoe_theory.experiments.decisive.SIZES`, seed
``task_seed(0, rep)`` as the shipped rerun draws it, so the plain paths are the shipped ones) is fitted with each
method, switched by replacing ``replicate.GaussianMoEEM`` with the estimator whose ``acceleration`` is fixed
(replicate.py is not edited). Plus the paths of every fit of the shipped rerun
(``hmoe_theory/data/rates_v3/fits.csv``) with status ``iteration-cap`` whose replicate is not already run: warm
starts make a fit depend on its path, so the whole path is refitted.

Each path runs in a worker of a 2-process pool with BLAS single-threaded (threadpoolctl, as the replicate);
CPU seconds are ``time.process_time`` of the worker around ``run_path`` (kernels compiled outside the clock).
Reported per setting: CPU s per path of each method and their ratio, verified (``converged``) fits, median EM-map
evaluations per fit, and the agreement of the two optima per fit: the relative gap of the mean negative
log-likelihood |l_plain - l_sq| / |l_plain| and the relative D1 gap |D1_plain - D1_sq| / D1_plain (max over fits).

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
    """One replicate path of ``setting`` with EM ``method``: CPU s and per-size status, maps, loss and D1."""
    setting, rep, method = task
    replicate.GaussianMoEEM = functools.partial(em.GaussianMoEEM, acceleration=method)
    with threadpool_limits(limits=1):
        if setting not in _warm:  # compile the kernels outside the clock
            replicate.run_path(setting, SIZES[:1], 0, 0)
            _warm.add(setting)
        start = time.process_time()
        rows = replicate.run_path(setting, SIZES, rep, task_seed(0, rep))
        cpu = time.process_time() - start
    return {"setting": setting, "rep": rep, "method": method, "cpu": cpu,
            "fits": [{"n": r["n"], "status": r["status"], "maps": r["metrics"]["iterations"],
                      "loss": r["metrics"]["loss"], "d1": r["metrics"]["d1"]} for r in rows]}


def shipped_caps() -> list[tuple[str, int, int]]:
    """(setting, n, rep) of the shipped Gaussian MoE fits at ``iteration-cap``."""
    with open(SHIPPED, newline="") as handle:
        return [(row["setting"], int(row["n"]), int(row["rep"])) for row in csv.DictReader(handle)
                if row["setting"] in SETTINGS and row["status"] == "iteration-cap"]


def _gap(a: float, b: float) -> float:
    return abs(a - b) / abs(a) if a else float("nan")


def table(results: list[dict], reps: list[int]) -> list[str]:
    by = {(r["setting"], r["rep"], r["method"]): r for r in results}
    lines = ["| setting | plain CPU s/path | squarem CPU s/path | ratio | verified plain | verified squarem | "
             "median maps plain | median maps squarem | max loglik gap | max D1 gap | squarem loglik higher |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for setting in SETTINGS:
        runs = [(by[(setting, rep, "none")], by[(setting, rep, "squarem")]) for rep in reps]
        cpu = [np.mean([run[i]["cpu"] for run in runs]) for i in (0, 1)]
        fits = [[f for run in runs for f in run[i]["fits"]] for i in (0, 1)]
        verified = [sum(f["status"] == "converged" for f in side) for side in fits]
        maps = [np.median([f["maps"] for f in side]) for side in fits]
        loss_gaps = [_gap(p["loss"], s["loss"]) for p, s in zip(*fits)]
        d1_gaps = [_gap(p["d1"], s["d1"]) for p, s in zip(*fits)]
        higher = sum(s["loss"] < p["loss"] for p, s in zip(*fits))
        lines.append(f"| {setting} | {cpu[0]:.2f} | {cpu[1]:.2f} | {cpu[1] / cpu[0]:.2f} | {verified[0]}/{len(fits[0])} "
                     f"| {verified[1]}/{len(fits[1])} | {maps[0]:.0f} | {maps[1]:.0f} | {max(loss_gaps):.1e} | "
                     f"{max(d1_gaps):.1e} | {higher}/{len(fits[0])} |")
    return lines


def caps_table(results: list[dict], caps: list[tuple[str, int, int]]) -> list[str]:
    by = {(r["setting"], r["rep"], r["method"]): {f["n"]: f for f in r["fits"]} for r in results}
    lines = ["| setting | n | rep | shipped | plain (rerun) | squarem | squarem maps | loglik gap (plain - squarem) / plain |",
             "|---|---:|---:|---|---|---|---:|---:|"]
    for setting, n, rep in caps:
        plain, fast = by[(setting, rep, "none")][n], by[(setting, rep, "squarem")][n]
        lines.append(f"| {setting} | {n} | {rep} | iteration-cap | {plain['status']} | {fast['status']} | "
                     f"{fast['maps']:.0f} | {(plain['loss'] - fast['loss']) / abs(plain['loss']):+.1e} |")
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
    tasks += [(s, rep, m) for s, rep in sorted({(s, rep) for s, _, rep in caps if rep not in reps}) for m in METHODS]
    tasks.sort(key=lambda t: ("exact" in t[0], t))  # the long over-specified paths first
    start = time.time()
    with get_context("fork").Pool(2) as pool:
        results = pool.map(path, tasks, chunksize=1)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
    print(f"{len(tasks)} paths, sizes {SIZES}, reps {reps}, wall {time.time() - start:.0f} s\n")
    print("\n".join(table(results, reps)))
    print("\nShipped fits at iteration-cap, their whole paths refitted:\n")
    print("\n".join(caps_table(results, caps)))


if __name__ == "__main__":
    main()
