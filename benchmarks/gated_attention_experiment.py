"""Cost of the gated-attention estimation experiment (issue 11, deliverable 4) and projection of the full design.

Reads a store written by

    hmoe rates --replicate hmoe_theory.estimation.attention_replicate:run_path --setting default \
        --n 200:10000:12 --reps 20 --workers 2 --out DIR

and prints, per setting: replicate paths, mean / median seconds per path (wall clock of the worker, as the
runner stores it), converged share, and the projection of the issue's full design (5 positions x exact/over,
20 log-spaced sizes 1e3..1e5, 40 replicates) on 2 cores. Projection: a path's time is dominated by its
largest sizes (cost ~ iterations x n), so seconds per path scale with the sum of the sizes of the path:
T_full = mean path seconds x sum(full sizes) / sum(pilot sizes); total CPU = sum over settings of 40 T_full.

``--measure`` also times single fits (fresh near-truth start, serial, BLAS single-threaded) at n = 1e3, 1e4,
1e5 for one exact and one over-specified setting, to check that cost per fit is ~ linear in n.

Run: nice -n 5 .venv/bin/python benchmarks/gated_attention_experiment.py --store DIR [--measure]

The engine against the previous one, and the projection from a few replicate paths without a store:
``benchmarks/bench_attention_engine.py``.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

FULL_SIZES = sorted({int(round(v)) for v in np.geomspace(1e3, 1e5, 20)})
FULL_REPS = 40
CORES = 2


def path_times(store: Path) -> dict[str, dict]:
    """Per setting: seconds per path, number of paths, sizes, fits and converged fits."""
    db = sqlite3.connect(f"file:{store / 'runs.sqlite'}?mode=ro", uri=True)
    rows = db.execute("SELECT setting, rep, n, status, seconds FROM fits").fetchall()
    out: dict[str, dict] = defaultdict(lambda: {"paths": {}, "sizes": set(), "fits": 0, "converged": 0})
    for setting, rep, n, status, seconds in rows:
        entry = out[setting]
        entry["paths"][rep] = seconds  # the path's seconds are stored on each of its rows
        entry["sizes"].add(n)
        entry["fits"] += 1
        entry["converged"] += status == "converged"
    return dict(out)


def report(store: Path) -> float:
    """Print the per-setting table and the projection; return the projected CPU seconds of the full design."""
    times = path_times(store)
    full_sum = sum(FULL_SIZES)
    total_cpu = 0.0
    print(f"store {store}: full design = {len(FULL_SIZES)} sizes {FULL_SIZES[0]}..{FULL_SIZES[-1]} "
          f"(sum {full_sum}), {FULL_REPS} reps, {CORES} cores")
    print(f"{'setting':28s} {'paths':>5s} {'mean s':>8s} {'median s':>8s} {'converged':>10s} {'full path s':>11s}")
    for setting, entry in sorted(times.items()):
        seconds = list(entry["paths"].values())
        pilot_sum = sum(entry["sizes"])
        projected = statistics.fmean(seconds) * full_sum / pilot_sum
        total_cpu += FULL_REPS * projected
        share = entry["converged"] / entry["fits"]
        print(f"{setting:28s} {len(seconds):5d} {statistics.fmean(seconds):8.2f} {statistics.median(seconds):8.2f} "
              f"{100 * share:9.1f}% {projected:11.1f}")
    print(f"projected full design: {total_cpu / 3600:.2f} CPU-hours, {total_cpu / CORES / 3600:.2f} h on {CORES} cores "
          f"(pilot wall times on a loaded machine: an upper bound)")
    return total_cpu


def measure() -> None:
    """Single-fit times at n = 1e3, 1e4, 1e5 (fresh near-truth start)."""
    from threadpoolctl import threadpool_limits

    from hmoe_theory.estimation import attention_catalogue as ar
    from hmoe_theory.estimation.least_squares import fit_least_squares
    from hmoe_theory.estimation.replicate import BOUND, MAX_ITER, PairedSample, setting_seed, simulate

    with threadpool_limits(limits=1):
        for name in ("attention/plain/exact", "attention/G2/over"):
            setting = ar.SETTINGS[name]
            sample = PairedSample.draw(1, 100_000, setting.d, setting.design.law)
            X, y = simulate(setting, sample)
            model = setting.fit_model
            model.predict(X[:10], ar.near_truth_start(setting, np.random.default_rng(0)))  # compile outside the clock
            model.system(X[:10], y[:10], ar.near_truth_start(setting, np.random.default_rng(0)))
            for n in (1_000, 10_000, 100_000):
                start = ar.near_truth_start(setting, np.random.default_rng(setting_seed(1, name)))
                clock = time.perf_counter()
                fit = fit_least_squares(model, X[:n], y[:n], start, bound=BOUND, max_iter=MAX_ITER)
                seconds = time.perf_counter() - clock
                print(f"{name:24s} n={n:6d} {fit.status:13s} {fit.iterations:3d} iterations {seconds:7.3f} s "
                      f"({1e6 * seconds / (n * fit.iterations):.2f} us per point-iteration)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="output directory of the pilot sweep")
    parser.add_argument("--measure", action="store_true", help="also time single fits at n = 1e3, 1e4, 1e5")
    args = parser.parse_args()
    report(args.store)
    if args.measure:
        measure()


if __name__ == "__main__":
    main()
