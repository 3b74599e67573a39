"""``hmoe rates``: convergence-rate sweeps (resumable SQLite store, process pool or Dask) and reports."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "rates",
        help="sweep sample sizes x replicates (nested, paired), store every fit (resumable), report rates",
        description="Fit each setting along nested sample sizes for each replicate (one sample per replicate, "
        "prefixes for smaller sizes, the same draws for every setting), store each fit with its verified "
        "status in OUT/runs.sqlite (re-running resumes; two sweeps on one store share the work: the second "
        "computes what nobody claimed, then waits for the first), then write summary.json, summary.md and one "
        "figure per setting. On an existing store, 'hmoe rates --out DIR' with no sweep flag (--setting, --spec, "
        "--n, --reps, --seed) starts nothing: it prints the slope table, or with --export writes the CSV.",
    )
    p.add_argument("--setting", action="append", metavar="NAME",
                   help="catalogue setting to run (repeatable); 'default' = the decisive reproduction (the default "
                   "when no --spec is given); see --list")
    p.add_argument("--spec", action="append", metavar="FILE.toml", default=[],
                   help="a setting written by you (TOML schema in docs/rates.md; repeatable)")
    p.add_argument("--n", default=None, metavar="SPEC",
                   help="sample sizes: START:STOP:COUNT log-spaced, or N1,N2,... (default 1e3:1e5:20)")
    p.add_argument("--reps", type=int, default=None, help="replicates (default 40)")
    p.add_argument("--seed", type=int, default=None,
                   help="base seed; replicate r uses a seed derived from (seed, r) (default 0)")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="local worker processes (default 2; 1 = run in this process; ignored with --scheduler)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--connect-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="give up reaching --scheduler (connection and handshake) after this long, in (0, 3600] "
                   "(default 10)")
    p.add_argument("--out", metavar="DIR", help="output directory (store, figures, summary)")
    p.add_argument("--report", action="store_true",
                   help="only write the summary and figures from OUT's store (which may be read-only)")
    p.add_argument("--report-dir", metavar="DIR", help="where --report writes (default: OUT)")
    p.add_argument("--no-report", action="store_true", help="run the sweep without writing figures and summary")
    p.add_argument("--export", metavar="FILE.csv", help="write one CSV row per stored fit (no wall-clock columns)")
    p.add_argument("--formats", default="png,svg", help="figure formats, comma-separated (default png,svg)")
    p.add_argument("--replicate", default=None, metavar="MODULE:FUNCTION",
                   help="replicate function f(setting, sizes, rep, seed) -> rows "
                   "(default hmoe_theory.estimation.replicate:run_path)")
    p.add_argument("--list", action="store_true", help="list the catalogue settings and exit")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _writable_dir(out: str, flag: str = "--out") -> Path:
    from hmoe_theory.experiments import SweepError

    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".hmoe-write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise SweepError(f"{flag} {out} is not a writable directory: {exc.strerror or exc}") from None
    return path


def _contrasts(replicate: str) -> tuple:
    import importlib

    from hmoe_theory.experiments import replicate_reference

    replicate_reference(replicate)  # a one-line error when the module or function cannot be imported
    return tuple(getattr(importlib.import_module(replicate.partition(":")[0]), "CONTRASTS", ()))


def _report(store: Path, out: Path, formats: tuple[str, ...], contrasts: tuple) -> list[Path]:
    from hmoe_theory.experiments import plot_rates, write_summary

    return [*plot_rates(store, out, formats=formats, contrasts=contrasts), *write_summary(store, out, contrasts)]


def _definitions(files: list[str]) -> dict[str, dict]:
    """Validated user settings by name (the mapping is what the workers receive)."""
    from hmoe_theory.estimation.setting import SpecError, read_setting
    from hmoe_theory.experiments.spec import check_spec_numbers

    definitions: dict[str, dict] = {}
    for file in files:
        check_spec_numbers(file)
        raw, setting = read_setting(file)
        if setting.name in definitions:
            raise SpecError(f"{file}: setting name {setting.name!r} is used by two --spec files")
        definitions[setting.name] = raw
    return definitions


def run(args: argparse.Namespace) -> int:
    from hmoe_theory.experiments import (
        DEFAULT_REPLICATE,
        STORE_NAME,
        ResultStore,
        SweepError,
        SweepSpec,
        list_settings,
        load_results,
        parse_formats,
        parse_sizes,
        resolve_settings,
        run_sweep,
        summarise,
        summary_markdown,
        write_csv,
    )

    replicate = args.replicate or DEFAULT_REPLICATE
    if args.list:
        listed = list_settings(replicate)
        width = max((len(name) for name, _, _ in listed), default=0)
        for name, description, is_default in listed:
            print(f"{'*' if is_default else ' '} {name:<{width}}  {description}")
        return 0
    if not args.out:
        raise SweepError("--out DIR is required (the store, figures and summary go there)")
    formats = parse_formats(args.formats)
    contrasts = _contrasts(replicate)
    sweep_flags = (args.setting, args.spec, args.n, args.reps, args.seed)
    if not args.report and all(flag in (None, []) for flag in sweep_flags) and (Path(args.out) / STORE_NAME).is_file():
        records = load_results(Path(args.out) / STORE_NAME)  # verified, read-only: nothing is started
        if args.export:
            print(write_csv(records, args.export))
        else:
            print(summary_markdown(summarise(records, contrasts)), end="")
        return 0
    if args.report:
        store = Path(args.out) / STORE_NAME
        records = load_results(store)  # checks the store (read-only) before anything is written
        out = _writable_dir(args.report_dir or args.out, "--report-dir" if args.report_dir else "--out (use --report-dir)")
        if args.export:
            print(write_csv(records, args.export))
        for path in _report(store, out, formats, contrasts):
            print(path)
        return 0
    sizes = parse_sizes(args.n if args.n is not None else "1e3:1e5:20")
    definitions = _definitions(args.spec)
    names = args.setting or ([] if definitions else ["default"])
    settings = resolve_settings(names, replicate) if names else ()
    clash = sorted(set(settings) & set(definitions))
    if clash:
        raise SweepError(f"--spec setting name(s) {', '.join(clash)} clash with the catalogue; rename them")
    spec = SweepSpec(settings=(*settings, *definitions), sizes=sizes, reps=40 if args.reps is None else args.reps,
                     seed=0 if args.seed is None else args.seed)
    out = _writable_dir(args.out)
    store = out / STORE_NAME
    report = run_sweep(spec, store, workers=args.workers, scheduler=args.scheduler, replicate=replicate,
                       progress=not args.quiet, connect_timeout_s=args.connect_timeout, definitions=definitions)
    elsewhere = f", {report.shared} of {report.elsewhere} computed by another sweep" if report.elsewhere else ""
    print(
        f"{report.skipped + report.computed}/{report.total} replicate paths ({len(sizes)} sizes each) in {store} "
        f"({report.skipped} resumed, {report.computed} new, {report.failed} failed{elsewhere}) in {report.seconds:.1f} s",
        file=sys.stderr,
    )
    if report.failed:  # say why, not only how many (all failures stay in the store's failures table)
        with ResultStore(store, readonly=True) as stored:
            setting, rep, error = stored.failures()[0]
        print(f"first failure: {setting} rep {rep}: {error} (re-running retries failed paths)", file=sys.stderr)
    if args.export:
        print(write_csv(load_results(store), args.export))
    if not args.no_report:
        for path in _report(store, out, formats, contrasts):
            print(path)
    return 0 if report.complete else 1
