"""The decisive rates-v3 design as data: which settings, how many replicates, which sizes -- and the run that ships it.

Budget: 10 minutes on 2 cores (1200 CPU s). The design spends it where a slope can decide something:

* **identifiable settings** (every setting of :data:`~hmoe_theory.estimation.catalogue.DEFAULT_SETTINGS` that is
  not a negative control, the three merged-loss twins included): :data:`REPS` replicates each. 20 replicates make
  ">= 95 % verified per size" mean at most one fit left out per size (with 12 a single one breaks it) and narrow
  the CIs (expected all-fits CI widths from the shipped rates-v2 variance cut to this design: 0.18-0.27 over-specified,
  0.07-0.21 exact, against 0.23-0.35 and 0.09-0.30 with 12). Measured: the shipped run used 722 CPU s (user +
  system, /usr/bin/time, imports and report included), 6 min 22 s wall on 2 cores, against 1,260 CPU s for the first shipped rerun
  (16 settings, 12 replicates); benchmarks/bench_rates_v3.py --old-design decisive projects 782 against 999 CPU s
  (paths of both engines side by side, one run);
* **negative controls** (over-specified least squares with linear experts: phi = 0 proved by the rate-order
  engine, no rate exists under the atom-wise D1): :data:`CONTROL_REPS` replicates, enough to show the share of
  fits that do not converge per size; their slopes are reported and never used as evidence;
* **sizes** :data:`SIZES`: 8 log-spaced sizes 1e3..1e5 (nested samples, so the slope's precision comes from
  the replicates: the shipped fits give the same CI widths at 8 and at 20 sizes, within 0.03).

Every fit is the library's (:func:`hmoe_theory.estimation.replicate.run_path`: variable projection where it
helps, the stall rule, verified statuses, the refit rule). :func:`run` runs the two sweeps into one store and
writes the report with the stored rate orders (:mod:`.predicted`). Shipping it::

    python -m hmoe_theory.experiments.predicted hmoe_theory/data/rates_v3/predicted_orders.csv --time-limit 1800
    python -m hmoe_theory.experiments.decisive OUT --predicted hmoe_theory/data/rates_v3/predicted_orders.csv \
        --report-dir docs/rates_v3
    hmoe rates --out OUT --export hmoe_theory/data/rates_v3/fits.csv
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ..estimation.catalogue import CONTRASTS, DEFAULT_SETTINGS, convention
from .plots import plot_rates
from .predicted import predicted_for, read_table
from .runner import run_sweep
from .spec import SweepSpec, parse_sizes
from .summary import write_summary

SIZES_SPEC = "1e3:1e5:8"
SIZES: tuple[int, ...] = parse_sizes(SIZES_SPEC)
REPS = 20
CONTROL_REPS = 4
SEED = 0
CORES = 2
BUDGET_CPU_S = 10 * 60 * CORES


def controls(settings: Sequence[str] = DEFAULT_SETTINGS) -> tuple[str, ...]:
    """The negative controls among ``settings`` (catalogue conventions)."""
    return tuple(s for s in settings if convention(s).negative_control)


def plan(settings: Sequence[str] = DEFAULT_SETTINGS) -> tuple[SweepSpec, SweepSpec]:
    """The two sweeps of the design: identifiable settings x :data:`REPS`, negative controls x :data:`CONTROL_REPS`
    (same sizes and base seed: the first replicates are paired across every setting)."""
    negative = controls(settings)
    identifiable = tuple(s for s in settings if s not in negative)
    return (SweepSpec(settings=identifiable, sizes=SIZES, reps=REPS, seed=SEED),
            SweepSpec(settings=negative, sizes=SIZES, reps=CONTROL_REPS, seed=SEED))


def run(out: str | Path, predicted: str | Path | None = None, workers: int = CORES,
        report_dir: str | Path | None = None) -> list[Path]:
    """Run :func:`plan` into ``out/runs.sqlite`` (resumable; other sweeps may share the store) and write the
    report into ``report_dir`` (default ``out``; :func:`report`)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    store = out / "runs.sqlite"
    for spec in plan():
        run_sweep(spec, store, workers=workers, progress=True)
    return report(store, report_dir or out, predicted)


def report(store: str | Path, out: str | Path, predicted: str | Path | None = None) -> list[Path]:
    """summary.json, summary.md and one PNG per setting (and the contrasts) of the store into ``out``, with the
    rate orders of the table ``predicted`` (:mod:`.predicted`) next to the measured D1 slopes."""
    orders = predicted_for(read_table(predicted)) if predicted else None
    Path(out).mkdir(parents=True, exist_ok=True)
    return [*write_summary(store, out, CONTRASTS, predicted=orders),
            *plot_rates(store, out, formats=("png",), contrasts=CONTRASTS)]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="directory of the store (runs.sqlite)")
    parser.add_argument("--predicted", default=None, help="table of rate orders (python -m ...experiments.predicted)")
    parser.add_argument("--workers", type=int, default=CORES)
    parser.add_argument("--report-dir", default=None, help="where the summary and figures go (default OUT)")
    parser.add_argument("--report-only", action="store_true", help="no sweep: report the store as it is")
    args = parser.parse_args(argv)
    paths = (report(Path(args.out) / "runs.sqlite", args.report_dir or args.out, args.predicted) if args.report_only
             else run(args.out, args.predicted, args.workers, args.report_dir))
    for path in paths:
        print(path)


if __name__ == "__main__":
    main()
