"""Cost and verified share of the decisive rates design: the solver with variable projection and the stall rule
against the engine before them, side by side in one run.

For every setting of the catalogue's decisive design (``DEFAULT_SETTINGS``, or ``--settings``) and each
replicate of ``--reps`` (paired seeds ``task_seed(0, rep)`` as ``hmoe rates`` draws them; replicates >= 2 carry
no cold checks, like 38 of the 40 replicates of a sweep) the full replicate path (20 sizes 1e3..1e5) is run
twice in this process:

* ``before``: ``fit_least_squares(..., projection=False)`` and no stall rule (``STALL_WINDOW = None``);
* ``now``: the library's defaults (variable projection for experts linear in their parameters, the stall rule).

EM settings do not use the least-squares solver: they run once and count for both. Reported per setting: the
verified (converged) share of the headline fits and the CPU seconds per replicate path, and the projection
of the whole design, ``settings x 40 replicates x 20 sizes`` on 2 cores:
``sum_s mean CPU per path_s x 40 / 2 / 60`` minutes (paths are independent; a sweep runs one per core).

Run by hand:  nice -n 5 python benchmarks/bench_rates_v3.py [--reps 2,3] [--settings A,B]
"""

from __future__ import annotations

import argparse
import collections
import os
import time

import numpy as np

from hmoe_theory.estimation import least_squares, replicate
from hmoe_theory.experiments import task_seed

SIZES = sorted({int(round(v)) for v in np.geomspace(1e3, 1e5, 20)})
REPS_IN_DESIGN = 40
CORES = 2


def run(setting: str, reps: list[int], engine: str) -> tuple[float, collections.Counter]:
    """CPU seconds per path and statuses of the headline fits over ``reps`` with ``engine``."""
    replicate.PROJECTION = engine == "now"
    least_squares.STALL_WINDOW = 10 if engine == "now" else None
    statuses: collections.Counter = collections.Counter()
    start = time.process_time()
    for rep in reps:
        statuses.update(row["status"] for row in replicate.run_path(setting, SIZES, rep, task_seed(0, rep)))
    return (time.process_time() - start) / len(reps), statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", default="2,3")
    parser.add_argument("--settings", default=",".join(replicate.DEFAULT_SETTINGS))
    args = parser.parse_args()
    reps = [int(v) for v in args.reps.split(",")]
    settings = args.settings.split(",")
    print(f"load {os.getloadavg()[0]:.1f}; sizes {SIZES[0]}..{SIZES[-1]} ({len(SIZES)}), reps {reps}")
    print("| setting | verified before | verified now | CPU s / path before | CPU s / path now | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    totals = {"before": 0.0, "now": 0.0}
    for setting in settings:
        replicate.run_path(setting, SIZES[:1], 0, 0)  # compile the kernels outside the clock
        em = replicate.get_setting(setting).estimator == "em"
        results = {}
        for engine in ("before", "now"):
            results[engine] = results["before"] if em and engine == "now" else run(setting, reps, engine)
            totals[engine] += results[engine][0]
        (cpu_b, st_b), (cpu_n, st_n) = results["before"], results["now"]
        fits = sum(st_b.values())
        print(f"| {setting}{' (EM, one run)' if em else ''} | {st_b['converged']}/{fits} | {st_n['converged']}/{fits} "
              f"| {cpu_b:.1f} | {cpu_n:.1f} | {cpu_n / cpu_b:.2f} |", flush=True)
    minutes = {k: v * REPS_IN_DESIGN / CORES / 60 for k, v in totals.items()}
    print(f"\nper paired replicate (all {len(settings)} settings): before {totals['before']:.0f} CPU s, "
          f"now {totals['now']:.0f} CPU s (ratio {totals['now'] / totals['before']:.2f})")
    print(f"projected design {len(settings)} settings x {REPS_IN_DESIGN} reps x {len(SIZES)} sizes on {CORES} cores: "
          f"before {minutes['before']:.1f} min, now {minutes['now']:.1f} min")
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
