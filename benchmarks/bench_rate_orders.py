"""Benchmark of the rate-order engine (run by hand: ``python benchmarks/bench_rate_orders.py [--quick]``).

Target (issue: rate orders from inverse bounds): <= 5 CPU s per d = 1 setting with certificates. Each question runs
``hmoe_theory.rate_orders.rate_order`` on the default grid (eps = 10^-1 .. 10^-4, half decades) with certificates,
in this process, one after the other; the figure is CPU seconds (``time.process_time``: the machine is shared, wall
time is not comparable). The Monte Carlo cost of the same question, side by side: the shipped rates reproduction
measured 94-140 CPU s per paired replicate of a setting (docs/benchmarks_rates.md), and a slope needs 40 replicates
over 20 sample sizes: 3,760-5,600 CPU s per setting -- and it could not separate n^-1/8 from n^-1/4. The ratio
column is (MC low end, 40 x 94 CPU s) / (engine CPU s).

``--quick``: the grid 10^-2.5 .. 10^-4 (the claims' grid).
"""

from __future__ import annotations

import argparse
import time

from hmoe_theory.rate_orders import DEFAULT_GRID, rate_order, resolve

QUESTIONS = (
    ("gaussian-location/m2", "atomwise"),
    ("gaussian-location-scale/m2", "atomwise"),
    ("gaussian-location-scale/m3", "atomwise"),
    ("d1/softmax-linear/linear/exact", "atomwise"),
    ("d1/softmax-linear/linear/over", "atomwise"),
    ("d1/quadratic-polynomial/linear/over", "atomwise"),
    ("d1/quadratic-monomial/linear/over", "atomwise"),
    ("d1/softmax-linear/linear/over", "merged"),
    ("d1/quadratic-polynomial/linear/over", "merged"),
    ("d1/quadratic-monomial/linear/over", "merged"),
    ("d1/softmax-linear/ridge-tanh/over", "atomwise"),
    ("d1/quadratic-monomial/ridge-tanh/over", "atomwise"),
)
MONTE_CARLO_CPU_S = 40 * 94.0  # low end per setting: 40 replicates x 94 CPU s (docs/benchmarks_rates.md)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the claims' grid 10^-2.5 .. 10^-4")
    args = parser.parse_args()
    grid = (10**-2.5, 1e-3, 10**-3.5, 1e-4) if args.quick else DEFAULT_GRID
    print(f"| question | loss | s | status | cells | CPU s | MC CPU s / engine CPU s |")
    print("|---|---|---|---|---|---|---|")
    total = 0.0
    for name, loss in QUESTIONS:
        model, k = resolve(name)
        start = time.process_time()
        result = rate_order(model, k, loss, grid)
        cpu = time.process_time() - start
        total += cpu
        s = "none (phi = 0)" if result.exponent is None and not result.identifiable else (
            "undetermined" if result.exponent is None else f"{result.exponent:.2f}")
        print(f"| {name} | {loss} | {s} | {result.status} | {result.cells['sizes']} | {cpu:.1f} | "
              f"{MONTE_CARLO_CPU_S / cpu:.0f} |", flush=True)
    print(f"\ntotal {total:.1f} CPU s for {len(QUESTIONS)} questions")


if __name__ == "__main__":
    main()
