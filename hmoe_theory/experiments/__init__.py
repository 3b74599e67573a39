"""Convergence-rate sweeps: specs, a resumable SQLite store, serial/process/Dask runners, reports.

Typical use (what ``hmoe rates`` does)::

    spec = SweepSpec(settings=("softmax-linear/linear/over",), sizes="1e3:1e5:8", reps=20, seed=0)
    run_sweep(spec, "out/", workers=2, progress=True)   # or scheduler="tcp://host:8786"
    records = load_results("out/")                      # list of FitRecord(setting, n, rep, seed, metrics)
    rows = summarise("out/")                            # RateRow per (setting, metric): slope, CI, decay test
    plot_rates("out/", "out/"); write_summary("out/", "out/")

The replicate function defaults to :func:`hmoe_theory.estimation.settings.run_replicate`; any
module-level ``f(setting, n, seed) -> {metric: float}`` (or its ``"module:function"`` name) works.
"""

from .plots import parse_formats, plot_rates, rate_figure
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
from .store import STORE_NAME, FitRecord, ResultStore, load_results, metric_values, resolve_store_path
from .summary import RateRow, rate_row, rate_rows, summarise, summary_markdown, write_summary

__all__ = [
    "DEFAULT_REPLICATE",
    "STORE_NAME",
    "FitRecord",
    "Outcome",
    "RateRow",
    "ResultStore",
    "SweepError",
    "SweepReport",
    "SweepSpec",
    "Task",
    "execute_task",
    "list_settings",
    "load_replicate",
    "load_results",
    "metric_values",
    "parse_formats",
    "parse_sizes",
    "plot_rates",
    "rate_figure",
    "rate_row",
    "rate_rows",
    "replicate_reference",
    "resolve_settings",
    "resolve_store_path",
    "run_sweep",
    "summarise",
    "summary_markdown",
    "task_seed",
    "write_summary",
]
