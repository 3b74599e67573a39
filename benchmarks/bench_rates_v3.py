"""Cost of the decisive rates-v3 design against today's engine and design, side by side in one run.

Today (a checkout of the engine before this design, ``--old DIR``, e.g. ``git worktree add /tmp/rates_old
d570883``): every setting of ``DEFAULT_SETTINGS`` x 40 replicates x 20 sizes 1e3..1e5. Now
(:mod:`hmoe_theory.experiments.decisive`): 8 sizes 1e3..1e5, 20 replicates of the identifiable settings and 4 of
the negative controls (their phi = 0 is proved by the rate-order engine: they only show that they do not
converge), the fits of this checkout (variable projection chosen per setting, the stall rule, verified EM).

For each setting and replicate of ``--reps`` (paired seeds ``task_seed(0, rep)`` as ``hmoe rates`` draws them;
replicates >= 2 carry no cold checks, like 38 of 40 and 18 of 20 replicates of the sweeps) one replicate path of
each design runs in its own fresh child process (``PYTHONPATH`` = the checkout; kernels compiled outside the
clock); the child reports ``time.process_time`` and the statuses. Reported per setting: CPU s per path, verified
headline fits, and the projection of each whole design on ``CORES`` cores:
``sum_s CPU per path_s x reps_s / CORES / 60`` minutes (paths are independent; a sweep runs one per core).

Run by hand:  nice -n 5 python benchmarks/bench_rates_v3.py --old /tmp/rates_old [--reps 2] [--settings A,B]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from hmoe_theory.estimation.catalogue import DEFAULT_SETTINGS
from hmoe_theory.experiments import decisive

HERE = Path(__file__).resolve().parents[1]
OLD_SIZES = tuple(sorted({int(round(v)) for v in np.geomspace(1e3, 1e5, 20)}))
OLD_REPS = 40
CHILD = """
import json, sys, time
from hmoe_theory.estimation import replicate
from hmoe_theory.experiments import task_seed
setting, sizes, rep = sys.argv[1], [int(n) for n in sys.argv[2].split(",")], int(sys.argv[3])
replicate.run_path(setting, sizes[:1], 0, 0)  # compile the kernels outside the clock
start = time.process_time()
rows = replicate.run_path(setting, sizes, rep, task_seed(0, rep))
print(json.dumps({"cpu": time.process_time() - start, "statuses": [r["status"] for r in rows]}))
"""


def path_cost(root: Path, setting: str, sizes: tuple[int, ...], rep: int) -> tuple[float, int, int]:
    """(CPU s, verified fits, fits) of one replicate path with the checkout at ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, setting, ",".join(map(str, sizes)), str(rep)], env=env,
                         cwd=root, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["cpu"], result["statuses"].count("converged"), len(result["statuses"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="checkout of today's engine (e.g. a worktree of d570883)")
    parser.add_argument("--reps", default="2")
    parser.add_argument("--settings", default=",".join(DEFAULT_SETTINGS))
    args = parser.parse_args()
    reps = [int(v) for v in args.reps.split(",")]
    settings = args.settings.split(",")
    negative = set(decisive.controls(settings))
    print(f"load {os.getloadavg()[0]:.1f}; today: {len(OLD_SIZES)} sizes x {OLD_REPS} reps; now: "
          f"{len(decisive.SIZES)} sizes x {decisive.REPS} reps ({decisive.CONTROL_REPS} for negative controls); "
          f"replicates timed {reps}")
    print("| setting | today CPU s / path | today verified | now CPU s / path | now verified | path ratio "
          "| reps now |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    design = {"today": 0.0, "now": 0.0}
    for setting in settings:
        old = [path_cost(Path(args.old), setting, OLD_SIZES, rep) for rep in reps]
        new = [path_cost(HERE, setting, decisive.SIZES, rep) for rep in reps]
        cpu_old, cpu_new = (float(np.mean([c for c, _, _ in runs])) for runs in (old, new))
        reps_now = decisive.CONTROL_REPS if setting in negative else decisive.REPS
        design["today"] += cpu_old * OLD_REPS
        design["now"] += cpu_new * reps_now
        verified = [f"{sum(v for _, v, _ in runs)}/{sum(n for _, _, n in runs)}" for runs in (old, new)]
        print(f"| {setting}{' (negative control)' if setting in negative else ''} | {cpu_old:.1f} | {verified[0]} "
              f"| {cpu_new:.1f} | {verified[1]} | {cpu_new / cpu_old:.2f} | {reps_now} |", flush=True)
    minutes = {k: v / decisive.CORES / 60 for k, v in design.items()}
    print(f"\nwhole design, CPU s: today {design['today']:.0f}, now {design['now']:.0f} "
          f"(ratio now/today {design['now'] / design['today']:.3f})")
    print(f"on {decisive.CORES} idle cores: today {minutes['today']:.1f} min, now {minutes['now']:.1f} min "
          f"(budget {decisive.BUDGET_CPU_S / decisive.CORES / 60:.0f} min)")
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
