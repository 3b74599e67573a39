"""Benchmark of the rate-order engine (run by hand: ``python benchmarks/bench_rate_orders.py [--quick]``).

Target (issue: rate orders from inverse bounds): <= 5 CPU s per d = 1 setting with certificates. Each question runs
``hmoe_theory.rate_orders.rate_order`` with certificates, in this process, one after the other; the figure is CPU
seconds (``time.process_time``: the machine is shared, wall time is not comparable). Regression questions and the
Gaussian anchors use the default grid (eps = 10^-1 .. 10^-4, half decades); the two Gaussian-MoE density questions
(``resolve(name, model="density")``) use the claims' grid 10^-2.5 .. 10^-4, as in docs/rate_orders.md.

The Monte Carlo cost of the same question, side by side: the shipped rates reproduction measured 94-140 CPU s per
paired replicate of a setting (docs/benchmarks_rates.md), and a slope needs 40 replicates over 20 sample sizes:
3,760-5,600 CPU s per setting -- and it could not separate n^-1/8 from n^-1/4. The ratio column is
(MC low end, 40 x 94 CPU s) / (engine CPU s).

``--quick``: every question on the claims' grid. ``--only SUBSTRING``: the questions whose name contains it.
``--json FILE``: also write every question's result (exponent, status, cells, certificate, phi table) for a
side-by-side comparison of two trees (run the same script with PYTHONPATH pointing to each).
"""

from __future__ import annotations

import argparse
import json
import time

from hmoe_theory.rate_orders import DEFAULT_GRID, rate_order, resolve

SHORT_GRID = (10**-2.5, 1e-3, 10**-3.5, 1e-4)  # the claims' grid
QUESTIONS = (  # (name, model, loss, grid)
    ("gaussian-location/m2", "regression", "atomwise", DEFAULT_GRID),
    ("gaussian-location-scale/m2", "regression", "atomwise", DEFAULT_GRID),
    ("gaussian-location-scale/m3", "regression", "atomwise", DEFAULT_GRID),
    ("d1/softmax-linear/linear/exact", "regression", "atomwise", DEFAULT_GRID),
    ("d1/softmax-linear/linear/over", "regression", "atomwise", DEFAULT_GRID),
    ("d1/quadratic-polynomial/linear/over", "regression", "atomwise", DEFAULT_GRID),
    ("d1/quadratic-monomial/linear/over", "regression", "atomwise", DEFAULT_GRID),
    ("d1/softmax-linear/linear/over", "regression", "merged", DEFAULT_GRID),
    ("d1/quadratic-polynomial/linear/over", "regression", "merged", DEFAULT_GRID),
    ("d1/quadratic-monomial/linear/over", "regression", "merged", DEFAULT_GRID),
    ("d1/softmax-linear/ridge-tanh/over", "regression", "atomwise", DEFAULT_GRID),
    ("d1/quadratic-monomial/ridge-tanh/over", "regression", "atomwise", DEFAULT_GRID),
    ("d1/softmax-linear/ridge-tanh/over", "density", "atomwise", SHORT_GRID),
    ("d1/softmax-linear/linear/over", "density", "atomwise", SHORT_GRID),
)
MONTE_CARLO_CPU_S = 40 * 94.0  # low end per setting: 40 replicates x 94 CPU s (docs/benchmarks_rates.md)


def _record(result, cpu: float) -> dict:
    certificate = result.certificate or {}
    return {"exponent": result.exponent, "identifiable": result.identifiable, "status": result.status,
            "cells": result.cells.get("sizes"), "branch": result.cells.get("branch"), "cpu": cpu,
            "certificate_agrees": certificate.get("agrees_with_search"),
            "family_exponent": certificate.get("family_exponent"),
            "phi": [row["phi"] for row in result.table], "d1": [row["d1"] for row in result.table]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every question on the claims' grid 10^-2.5 .. 10^-4")
    parser.add_argument("--only", default="", help="run the questions whose name contains this text")
    parser.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args()
    print("| question | model | loss | s | status | cells | CPU s | MC CPU s / engine CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    total, records = 0.0, {}
    for name, model_kind, loss, grid in QUESTIONS:
        if args.only not in f"{name} {model_kind} {loss}":
            continue
        model, k = resolve(name) if name.startswith("gaussian") else resolve(name, model=model_kind)
        start = time.process_time()
        result = rate_order(model, k, loss, SHORT_GRID if args.quick else grid)
        cpu = time.process_time() - start
        total += cpu
        s = "none (phi = 0)" if result.exponent is None and not result.identifiable else (
            "undetermined" if result.exponent is None else f"{result.exponent:.2f}")
        kind = "density" if name.startswith("gaussian") else model_kind
        print(f"| {name} | {kind} | {loss} | {s} | {result.status} | {result.cells['sizes']} | {cpu:.1f} | "
              f"{MONTE_CARLO_CPU_S / cpu:.0f} |", flush=True)
        records[f"{name} {model_kind} {loss}"] = _record(result, cpu)
    print(f"\ntotal {total:.1f} CPU s for {len(records)} questions")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(records, handle, indent=1)


if __name__ == "__main__":
    main()
