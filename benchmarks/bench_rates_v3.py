"""Cost of the decisive rates-v3 design against an earlier engine and design, side by side in one run.

The earlier checkout (``--old DIR``, e.g. ``git worktree add /tmp/rates_old <commit>``) runs its own design:
``--old-design v2`` (default; the engine before the decisive design, d570883) is every setting x 40 replicates x
20 sizes 1e3..1e5; ``--old-design decisive`` is the checkout's own :mod:`hmoe_theory.experiments.decisive` plan (its
settings, sizes and replicates; e.g. fc40a20, the first shipped rerun). Now (:mod:`hmoe_theory.experiments.decisive`
of this checkout): its settings, sizes and replicates (fewer for the negative controls: their phi = 0 is proved by
the rate-order engine, they only show that they do not converge), the fits of this checkout.

For each setting and replicate of ``--reps`` (paired seeds ``task_seed(0, rep)`` as ``hmoe rates`` draws them;
replicates >= 2 carry no cold checks, like 10 of 12 replicates of the sweeps) one replicate path of each design runs
in its own fresh child process (``PYTHONPATH`` = the checkout; kernels compiled outside the clock); the child
reports ``time.process_time`` and the statuses. Reported per setting: CPU s per path, verified headline fits, and the
projection of each whole design on ``CORES`` cores: ``sum_s CPU per path_s x reps_s / CORES / 60`` minutes (paths
are independent; a sweep runs one per core). A setting missing from one design costs nothing there.

Run by hand:  nice -n 5 python benchmarks/bench_rates_v3.py --old /tmp/rates_old [--old-design decisive] [--reps 2]
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


DESIGN = """
import json
from hmoe_theory.experiments import decisive
identifiable, controls = decisive.plan()
print(json.dumps({"sizes": list(identifiable.sizes),
                  "reps": {**{s: identifiable.reps for s in identifiable.settings},
                           **{s: controls.reps for s in controls.settings}}}))
"""


def design_of(root: Path, which: str) -> tuple[tuple[int, ...], dict[str, int]]:
    """(sizes, replicates per setting) of a design: ``v2`` (every setting x 40 x 20 sizes) or the checkout's own
    decisive plan."""
    if which == "v2":
        return OLD_SIZES, {s: OLD_REPS for s in DEFAULT_SETTINGS}
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", DESIGN], env=env, cwd=root, capture_output=True, text=True, check=True)
    plan = json.loads(out.stdout.strip().splitlines()[-1])
    return tuple(plan["sizes"]), plan["reps"]


def _mean_cost(root: Path, setting: str, sizes: tuple[int, ...], reps: list[int]) -> tuple[float, str]:
    runs = [path_cost(root, setting, sizes, rep) for rep in reps]
    return float(np.mean([c for c, _, _ in runs])), f"{sum(v for _, v, _ in runs)}/{sum(n for _, _, n in runs)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="checkout of the earlier engine (e.g. a worktree of d570883)")
    parser.add_argument("--old-design", choices=("v2", "decisive"), default="v2")
    parser.add_argument("--reps", default="2")
    args = parser.parse_args()
    reps = [int(v) for v in args.reps.split(",")]
    old_sizes, old_reps = design_of(Path(args.old), args.old_design)
    new_sizes, new_reps = design_of(HERE, "decisive")
    settings = list(dict.fromkeys([*old_reps, *new_reps]))
    print(f"load {os.getloadavg()[0]:.1f}; earlier: {len(old_sizes)} sizes, {len(old_reps)} settings; now: "
          f"{len(new_sizes)} sizes, {len(new_reps)} settings; replicates timed {reps}")
    print("| setting | earlier CPU s / path | earlier verified | earlier reps | now CPU s / path | now verified "
          "| now reps | path ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    design = {"earlier": 0.0, "now": 0.0}
    for setting in settings:
        cpu_old, verified_old = _mean_cost(Path(args.old), setting, old_sizes, reps) if setting in old_reps \
            else (float("nan"), "-")
        cpu_new, verified_new = _mean_cost(HERE, setting, new_sizes, reps) if setting in new_reps \
            else (float("nan"), "-")
        design["earlier"] += 0.0 if np.isnan(cpu_old) else cpu_old * old_reps[setting]
        design["now"] += 0.0 if np.isnan(cpu_new) else cpu_new * new_reps[setting]
        print(f"| {setting} | {cpu_old:.1f} | {verified_old} | {old_reps.get(setting, 0)} | {cpu_new:.1f} "
              f"| {verified_new} | {new_reps.get(setting, 0)} | {cpu_new / cpu_old:.2f} |", flush=True)
    minutes = {k: v / decisive.CORES / 60 for k, v in design.items()}
    print(f"\nwhole design, CPU s: earlier {design['earlier']:.0f}, now {design['now']:.0f} "
          f"(ratio now/earlier {design['now'] / design['earlier']:.3f})")
    print(f"on {decisive.CORES} idle cores: earlier {minutes['earlier']:.1f} min, now {minutes['now']:.1f} min "
          f"(budget {decisive.BUDGET_CPU_S / decisive.CORES / 60:.0f} min)")
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
