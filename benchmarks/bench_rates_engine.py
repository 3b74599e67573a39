"""Rates engine benchmark: this engine side by side with the previous one (commit b2bd4a1) in one run.

Run by hand (never by the tests):

    python benchmarks/bench_rates_engine.py [--previous DIR] [--n 1e3:1e4:10] [--reps 2] [--settings A,B,...]

``--previous DIR`` is a checkout of the previous engine (default: a ``git worktree`` of b2bd4a1 created in
a temporary directory). For each setting both engines fit the same grid of sizes x replicates, each in its
own fresh Python process (same interpreter, BLAS single-threaded), and the script reports the CPU seconds
of each, their ratio previous / current, and what the current engine verified (share of converged fits).
The previous engine fits every size from scratch (near-truth + one random start, at most 150 evaluations,
no convergence record); the current one fits nested sizes with warm starts, a near-truth and a random path,
and verifies every fit (saddle-free Newton to a KKT point). The comparison is per unit of work asked for
(the same settings, sizes and replicates), not per iteration.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PREVIOUS = "b2bd4a1"
DEFAULT_SETTINGS = "softmax-linear/linear/exact,softmax-linear/ridge-tanh/exact,softmax-linear/ridge-tanh/over,gaussian-moe/exact"

_PREVIOUS_CHILD = """
import json, sys, time
from hmoe_theory.estimation.settings import run_replicate
from hmoe_theory.experiments.spec import task_seed
setting, sizes, reps = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
start = time.process_time()
for rep in range(reps):
    for n in sizes:
        run_replicate(setting, n, task_seed(0, setting, n, rep))
print(json.dumps({"cpu": time.process_time() - start}))
"""

_CURRENT_CHILD = """
import json, sys, time
from hmoe_theory.estimation.replicate import run_path
from hmoe_theory.experiments.spec import task_seed
setting, sizes, reps = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
start = time.process_time()
statuses = []
for rep in range(reps):
    statuses += [row["status"] for row in run_path(setting, sizes, rep, task_seed(0, rep))]
print(json.dumps({"cpu": time.process_time() - start, "converged": statuses.count("converged"), "fits": len(statuses)}))
"""


def _run(code: str, root: Path, setting: str, sizes: list[int], reps: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code, setting, json.dumps(sizes), str(reps)], env=env, cwd=root,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--previous", type=Path, help="checkout of the previous engine (default: git worktree of b2bd4a1)")
    parser.add_argument("--n", default="1e3:1e4:10")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--settings", default=DEFAULT_SETTINGS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from hmoe_theory.experiments.spec import parse_sizes

    sizes = list(parse_sizes(args.n))
    previous, created = args.previous, args.previous is None
    if created:
        previous = Path(tempfile.mkdtemp(prefix="hmoe-previous-")) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-f", "-q", str(previous), PREVIOUS], check=True)
    try:
        print(f"sizes {sizes[0]}..{sizes[-1]} ({len(sizes)}), {args.reps} replicates; previous engine at {previous}; "
              f"load {os.getloadavg()[0]:.1f}")
        print("| setting | previous CPU s | current CPU s | ratio previous/current | current converged |")
        print("|---|---:|---:|---:|---:|")
        for setting in args.settings.split(","):
            old = _run(_PREVIOUS_CHILD, previous, setting, sizes, args.reps)
            new = _run(_CURRENT_CHILD, ROOT, setting, sizes, args.reps)
            print(f"| {setting} | {old['cpu']:.1f} | {new['cpu']:.1f} | {old['cpu'] / new['cpu']:.2f} | "
                  f"{new['converged']}/{new['fits']} |", flush=True)
        print(f"load {os.getloadavg()[0]:.1f}")
    finally:
        if created:  # leave no worktree behind
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(previous)], check=False)
            shutil.rmtree(previous.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
