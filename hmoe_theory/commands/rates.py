"""``hmoe rates``: convergence-rate sweeps (resumable SQLite store, process pool or Dask) and reports."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "rates",
        help="sweep sample sizes x replicates, store every fit (resumable), plot and summarise rates",
        description="Run replicate fits over a grid of sample sizes, store each fit as it finishes in "
        "OUT/runs.sqlite (re-running resumes), then write log-log plots and summary.md.",
    )
    p.add_argument("--setting", action="append", metavar="NAME",
                   help="setting to run (repeatable); 'default' = the default reproduction (the default)")
    p.add_argument("--n", default="125:16000:8", metavar="SPEC",
                   help="sample sizes: START:STOP:COUNT log-spaced, or N1,N2,... (default 125:16000:8, the default reproduction)")
    p.add_argument("--reps", type=int, default=20, help="replicates per (setting, n) (default 20)")
    p.add_argument("--seed", type=int, default=0, help="base seed; each fit's seed derives from it (default 0)")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="local worker processes (default 2; 1 = run in this process; ignored with --scheduler)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--connect-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="give up reaching --scheduler after this long (default 10)")
    p.add_argument("--out", metavar="DIR", help="output directory (store, plots, summary)")
    p.add_argument("--report", action="store_true", help="only regenerate plots and summary from OUT's store")
    p.add_argument("--no-report", action="store_true", help="run the sweep without writing plots and summary")
    p.add_argument("--formats", default="png,svg", help="plot formats, comma-separated (default png,svg)")
    p.add_argument("--replicate", default=None, metavar="MODULE:FUNCTION",
                   help="replicate function f(setting, n, seed) -> {metric: value} "
                   "(default hmoe_theory.estimation.settings:run_replicate)")
    p.add_argument("--list", action="store_true", help="list the available settings and exit")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=run)


def _writable_dir(out: str) -> Path:
    from hmoe_theory.experiments import SweepError

    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".hmoe-write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise SweepError(f"--out {out} is not a writable directory: {exc.strerror or exc}") from None
    return path


def _report(store: Path, out: Path, formats: tuple[str, ...]) -> list[Path]:
    from hmoe_theory.experiments import plot_rates, write_summary

    return [*plot_rates(store, out, formats=formats), write_summary(store, out)]


def run(args: argparse.Namespace) -> int:
    from hmoe_theory.experiments import (
        DEFAULT_REPLICATE,
        STORE_NAME,
        SweepError,
        SweepSpec,
        list_settings,
        parse_formats,
        parse_sizes,
        resolve_settings,
        run_sweep,
    )

    replicate = args.replicate or DEFAULT_REPLICATE
    if args.list:
        listed = list_settings(replicate)
        width = max((len(name) for name, _, _ in listed), default=0)
        for name, description, is_default in listed:
            print(f"{'*' if is_default else ' '} {name:<{width}}  {description}")
        return 0
    if not args.out:
        raise SweepError("--out DIR is required (the store, plots and summary go there)")
    formats = parse_formats(args.formats)
    sizes = parse_sizes(args.n)
    out = _writable_dir(args.out)
    store = out / STORE_NAME
    if args.report:
        for path in _report(store, out, formats):
            print(path)
        return 0
    settings = resolve_settings(args.setting or ["default"], replicate)
    spec = SweepSpec(settings=settings, sizes=sizes, reps=args.reps, seed=args.seed)
    report = run_sweep(spec, store, workers=args.workers, scheduler=args.scheduler, replicate=replicate,
                       progress=not args.quiet, connect_timeout_s=args.connect_timeout)
    print(
        f"{report.skipped + report.computed}/{report.total} fits in {store} "
        f"({report.skipped} resumed, {report.computed} new, {report.failed} failed) in {report.seconds:.1f} s",
        file=sys.stderr,
    )
    if not args.no_report:
        for path in _report(store, out, formats):
            print(path)
    return 0 if report.complete else 1
