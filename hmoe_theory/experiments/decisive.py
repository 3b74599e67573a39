"""The decisive rates-v3 design as data: which settings, how many replicates, which sizes -- and the run that ships it.

Budget: 10 minutes on 2 cores (1200 CPU s). The design spends it where a slope can decide something:

* **identifiable settings** (every setting of :data:`~hmoe_theory.estimation.catalogue.DEFAULT_SETTINGS` that is
  not a negative control): :data:`REPS` replicates each, enough for a slope CI of about +-0.1 (over-specified
  fits) and +-0.05 (exact fits): the shipped rates-v2 fits, cut to 8 sizes and 20 replicates, give all-fits
  95 % CI widths of 0.19-0.30 (over) and 0.08-0.20 (exact), the same as at 20 sizes and 40 replicates to +-0.05
  (docs/rates_v3.md);
* **negative controls** (over-specified least squares with linear experts: phi = 0 proved by the rate-order
  engine, no rate exists under the atom-wise D1): :data:`CONTROL_REPS` replicates, enough to show the share of
  fits that do not converge per size; their slopes are reported and never used as evidence;
* **sizes** :data:`SIZES`: 8 log-spaced sizes 1e3..1e5 (nested samples, so the slope's precision comes from
  the replicates; 20 sizes cost 1.6x the CPU for no narrower CI).

Every fit is the library's (:func:`hmoe_theory.estimation.replicate.run_path`: variable projection where it
helps, the stall rule, verified statuses, the refit rule). :func:`run` runs the two sweeps into one store and
writes the report with the stored rate orders (:mod:`.predicted`). ``python -m
hmoe_theory.experiments.decisive OUT [--predicted TABLE.csv]``.
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


def run(out: str | Path, predicted: str | Path | None = None, workers: int = CORES) -> list[Path]:
    """Run :func:`plan` into ``out/runs.sqlite`` (resumable) and write summary.json, summary.md and the figures
    (``predicted``: a table of :mod:`.predicted`)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    store = out / "runs.sqlite"
    for spec in plan():
        run_sweep(spec, store, workers=workers, progress=True)
    orders = predicted_for(read_table(predicted)) if predicted else None
    return [*write_summary(store, out, CONTRASTS, predicted=orders),
            *plot_rates(store, out, formats=("png",), contrasts=CONTRASTS)]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--predicted", default=None)
    parser.add_argument("--workers", type=int, default=CORES)
    args = parser.parse_args(argv)
    for path in run(args.out, args.predicted, args.workers):
        print(path)


if __name__ == "__main__":
    main()
