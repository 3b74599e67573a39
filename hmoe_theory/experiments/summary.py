"""Convergence-rate slopes from a result store, and the Markdown summary of a sweep.

For one (setting, metric) with fits ``(n_i, v_i)`` (all replicates at all sizes), the rate is the
slope ``b`` of :func:`hmoe_theory.estimation.rates.fit_rate`: OLS of ``log v = a + b log n`` over the
fits, i.e. ``v ~ C n^b`` (``b = -1/2`` for a parametric root-n rate), with a percentile bootstrap CI
that resamples replicates within each size (fixed seed, so the summary is reproducible). Alongside,
:func:`~hmoe_theory.estimation.rates.power_law_vs_log_test` (Vuong) says whether ``C n^b`` or
``C (log n)^b`` describes the decay better. Fits with a non-positive or non-finite value (or n = 1)
cannot enter these fits; they are left out and counted. Hypotheses: fits at one size are i.i.d.; at least 3
distinct sizes with positive values (else the row shows n/a); the law holds over the swept range.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..estimation.rates import RateFit, RateModelTest, fit_rate, power_law_vs_log_test
from .spec import SweepError
from .store import FitRecord, ResultStore, metric_values, resolve_store_path

SUMMARY_NAME = "summary.md"
MIN_SIZES = 3


@dataclass(frozen=True)
class RateRow:
    """One (setting, metric): the rate fit and the power-vs-log test (``None`` when fewer than
    ``MIN_SIZES`` sizes have positive values), ``fits`` stored, ``dropped`` non-positive/non-finite
    values, ``sizes`` distinct sample sizes."""

    setting: str
    metric: str
    fit: RateFit | None
    decay: RateModelTest | None
    fits: int
    dropped: int
    sizes: int


def rate_row(setting: str, metric: str, ns: Sequence[float], values: Sequence[float], n_boot: int = 2000) -> RateRow:
    """Fit the rate of ``values`` (one per fit) against ``ns``, leaving out non-positive values."""
    ns, values = np.asarray(ns, dtype=float), np.asarray(values, dtype=float)
    keep = np.isfinite(values) & (values > 0) & (ns > 1)  # log n = 0 at n = 1 cannot anchor a rate
    fit = decay = None
    if np.unique(ns[keep]).size >= MIN_SIZES:
        fit = fit_rate(ns[keep], values[keep], n_boot=n_boot)
        decay = power_law_vs_log_test(ns[keep], values[keep])
    return RateRow(setting, metric, fit, decay, int(values.size), int((~keep).sum()), int(np.unique(ns).size))


def metric_names(records: Sequence[FitRecord], setting: str) -> list[str]:
    """Metric names reported by the fits of ``setting`` (sorted)."""
    return sorted({m for r in records if r.setting == setting for m in r.metrics})


def rate_rows(records: Sequence[FitRecord], n_boot: int = 2000) -> list[RateRow]:
    """A :class:`RateRow` per (setting, metric), settings and metrics sorted."""
    rows = []
    for setting in sorted({r.setting for r in records}):
        for metric in metric_names(records, setting):
            by_size = metric_values(list(records), setting, metric)
            ns = [n for n, vals in by_size.items() for _ in vals]
            rows.append(rate_row(setting, metric, ns, [v for vs in by_size.values() for v in vs], n_boot=n_boot))
    return rows


def summarise(store_path: str | Path, n_boot: int = 2000) -> list[RateRow]:
    """Rate rows for every (setting, metric) in the store at ``store_path``."""
    with ResultStore(store_path, create=False) as store:
        return rate_rows(list(store.fits()), n_boot=n_boot)


def _descriptions(replicate: str) -> dict[str, str]:
    """Setting descriptions from the replicate module's ``SETTINGS`` (empty if unavailable)."""
    try:
        settings = getattr(importlib.import_module(replicate.partition(":")[0]), "SETTINGS", {})
        return {name: str(getattr(s, "description", "")) for name, s in dict(settings).items()}
    except Exception:  # the report must not depend on the replicate module being importable
        return {}


def _table_line(row: RateRow) -> str:
    used = f"{row.fits - row.dropped}" + (f" (+{row.dropped} left out)" if row.dropped else "")
    if row.fit is None:
        return f"| {row.setting} | {row.metric} | n/a | n/a | n/a | {used} | {row.sizes} |"
    f, t = row.fit, row.decay
    decay = f"{t.preferred} (p = {t.p_value:.2g})"
    return (f"| {row.setting} | {row.metric} | {f.slope:+.3f} | [{f.ci_low:+.3f}, {f.ci_high:+.3f}] | {decay} "
            f"| {used} | {row.sizes} |")


def summary_markdown(store_path: str | Path, n_boot: int = 2000) -> str:
    """The Markdown summary of the store: sweep description and the table of fitted slopes."""
    with ResultStore(store_path, create=False) as store:
        records, meta, failures = list(store.fits()), store.meta(), store.failures()
    rows = rate_rows(records, n_boot=n_boot)
    sizes = sorted({r.n for r in records})
    replicate = meta.get("replicate", "?")
    lines = [
        "# Convergence rates",
        "",
        f"Store `{resolve_store_path(store_path).name}`: {len(records)} fits, "
        f"{len({r.setting for r in records})} settings, "
        + (f"{len(sizes)} sizes n = {sizes[0]}..{sizes[-1]}, " if sizes else "")
        + f"base seed {meta.get('base_seed', '?')}, replicate `{replicate}`."
        + (f" {len(failures)} fits failed and are missing (re-run the sweep to retry them)." if failures else ""),
        "",
        (
            "Slope b of log(metric) = a + b log(n): OLS over all fits with a positive value; 95% CI from "
            f"{n_boot} bootstrap resamples of the replicates within each size. Decay: Vuong test of "
            "C n^b against C (log n)^b (power / log / undecided at level 0.05)."
        ),
        "",
        "| setting | metric | slope | 95% CI | decay | fits | sizes |",
        "|---|---|---:|---|---|---:|---:|",
        *(_table_line(row) for row in rows),
    ]
    described = _descriptions(replicate)
    settings = [s for s in dict.fromkeys(r.setting for r in records) if described.get(s)]
    if settings:
        lines += ["", "Settings:", ""] + [f"- `{s}`: {described[s]}" for s in settings]
    return "\n".join(lines) + "\n"


def write_summary(store_path: str | Path, out_dir: str | Path, n_boot: int = 2000) -> Path:
    """Write ``summary.md`` into ``out_dir`` and return its path."""
    path = Path(out_dir) / SUMMARY_NAME
    try:
        path.write_text(summary_markdown(store_path, n_boot=n_boot))
    except OSError as exc:
        raise SweepError(f"cannot write {path}: {exc}") from None
    return path
