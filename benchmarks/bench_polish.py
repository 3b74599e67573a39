"""The L-BFGS-B polish of the refit rule (replicate._polished) on the merged-D1 twins: with it vs without it, side by
side in one run.

For each twin ``<gate>/linear/over/merged`` and each replicate of ``--reps``, one replicate path of the decisive design
(:data:`hmoe_theory.experiments.decisive.SIZES`, seed ``task_seed(0, rep)`` as ``hmoe rates`` draws it) runs through
:func:`hmoe_theory.estimation.replicate.run_path` twice: as shipped (``polish``), and with ``replicate._polished``
replaced by the identity (``without``: the refit rule keeps the warm or fresh fit as it is). Each path runs in a fresh
child process (a pool of ``--workers``, default 2), the two variants interleaved so the machine's load hits both alike;
CPU s by ``time.process_time`` inside the child. Reported per twin: converged headline fits per size and in all, fits
kept from the polish, CPU s of all paths and the ratio.

Run by hand:  nice -n 5 python benchmarks/bench_polish.py [--reps 0-19] [--workers 2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from hmoe_theory.estimation import replicate
from hmoe_theory.experiments import decisive
from hmoe_theory.experiments.spec import task_seed

TWINS = ("softmax-linear/linear/over/merged", "quadratic-polynomial/linear/over/merged",
         "quadratic-monomial/linear/over/merged")


def path(task: tuple[str, int, str]) -> tuple[str, int, str, list[bool], float, float]:
    """(name, rep, variant, converged per size, fits kept from the polish, CPU s) of one replicate path."""
    name, rep, variant = task
    if variant == "without":
        replicate._polished = lambda setting, X, y, fit: fit  # this child process only
    started = time.process_time()
    rows = replicate.run_path(name, decisive.SIZES, rep, task_seed(decisive.SEED, rep))
    cpu = time.process_time() - started
    polished = sum(row["metrics"].get("polished", 0.0) for row in rows)
    return name, rep, variant, [row["status"] == "converged" for row in rows], polished, cpu


def parse_reps(text: str) -> list[int]:
    if "-" in text:
        first, last = text.split("-")
        return list(range(int(first), int(last) + 1))
    return [int(part) for part in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=parse_reps, default=list(range(20)))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    tasks = [(name, rep, variant) for name in TWINS for rep in args.reps for variant in ("polish", "without")]
    results: dict[tuple[str, str], list] = {}
    with ProcessPoolExecutor(args.workers, max_tasks_per_child=1) as pool:
        for name, rep, variant, converged, polished, cpu in pool.map(path, tasks):
            results.setdefault((name, variant), []).append((converged, polished, cpu))
    print(f"{len(args.reps)} replicates x {len(decisive.SIZES)} sizes per twin (sizes {decisive.SIZES[0]}..{decisive.SIZES[-1]})")
    for name in TWINS:
        cpu = {}
        for variant in ("polish", "without"):
            rows = results[(name, variant)]
            per_size = np.sum([converged for converged, _, _ in rows], axis=0).astype(int).tolist()
            cpu[variant] = sum(c for _, _, c in rows)
            kept = int(sum(p for _, p, _ in rows))
            print(f"{name:42s} {variant:8s} converged {sum(per_size):3d}/{len(rows) * len(per_size)} per size "
                  f"{per_size} kept from the polish {kept:3d}  CPU {cpu[variant]:7.1f} s")
        print(f"{'':42s} ratio polish / without: {cpu['polish'] / cpu['without']:.2f}x")


if __name__ == "__main__":
    main()
