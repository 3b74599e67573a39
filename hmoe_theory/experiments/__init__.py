"""Convergence-rate sweeps: specs, a resumable SQLite store, serial/process/Dask runners, reports.

Typical use (what ``hmoe rates`` does)::

    spec = SweepSpec(settings=("softmax-linear/linear/over",), sizes="1e3:1e5:8", reps=20, seed=0)
    run_sweep(spec, "out/", workers=2, progress=True)   # or scheduler="tcp://host:8786"
    records = load_results("out/")                      # FitRecord(setting, n, rep, seed, metrics, status)
    summary = summarise("out/", contrasts)              # RateResult per (setting, metric), paired contrasts
    plot_rates("out/", "out/"); write_summary("out/", "out/"); write_csv(records, "out/fits.csv")

The replicate function defaults to :func:`hmoe_theory.estimation.replicate.run_path`; any module-level
``f(setting, sizes, rep, seed) -> [{"n", "status", "metrics"}, ...]`` (or its ``"module:function"`` name) works.
"""

from .export import read_csv, write_csv
from .identity import setting_identity
from .plots import contrast_figure, parse_formats, plot_rates, rate_figure
from .runner import (
    DEFAULT_REPLICATE,
    Outcome,
    SweepReport,
    execute_task,
    list_settings,
    load_replicate,
    replicate_reference,
    resolve_settings,
    run_sweep,
)
from .spec import SweepError, SweepSpec, Task, parse_sizes, task_seed
from .store import (
    STORE_NAME,
    FitRecord,
    ResultStore,
    fit_digest,
    load_results,
    metric_values,
    resolve_store_path,
    verify_paths,
)
from .summary import Summary, rate_metric_names, rate_rows, summarise, summary_json, summary_markdown, write_summary

__all__ = [
    "DEFAULT_REPLICATE",
    "STORE_NAME",
    "FitRecord",
    "Outcome",
    "ResultStore",
    "Summary",
    "SweepError",
    "SweepReport",
    "SweepSpec",
    "Task",
    "contrast_figure",
    "execute_task",
    "fit_digest",
    "list_settings",
    "load_replicate",
    "load_results",
    "metric_values",
    "parse_formats",
    "parse_sizes",
    "plot_rates",
    "rate_figure",
    "rate_metric_names",
    "rate_rows",
    "replicate_reference",
    "resolve_settings",
    "resolve_store_path",
    "run_sweep",
    "setting_identity",
    "summarise",
    "summary_json",
    "summary_markdown",
    "task_seed",
    "verify_paths",
    "read_csv",
    "write_csv",
    "write_summary",
]
