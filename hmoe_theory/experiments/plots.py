"""Log-log rate figures from a result store (matplotlib ``Figure`` objects, no pyplot state, Agg-safe).

* :func:`rate_figure` -- one figure per setting, one panel per rate metric (never a wall-clock value):
  the mean loss over converged replicates at each n (markers) with its percentile bootstrap band over
  replicates, the OLS fit ``exp(a) n^b`` of :func:`hmoe_theory.estimation.rates.analyse_rate` (dashed,
  labelled with ``b`` and its CI) and reference slopes ``-1/2`` and ``-1/4`` drawn through the centroid
  of the points (dotted).
* :func:`contrast_figure` -- one row per paired contrast: both mean-loss curves, and the ratio of the
  mean losses ``m_a / m_b`` whose log-log OLS slope is the slope difference ``b_a - b_b`` (with the
  paired bootstrap band and CI).
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..estimation.rates import MIN_CONVERGED_SHARE, N_BOOT, ContrastResult, RateResult, reference_line
from .spec import SweepError
from .store import FitRecord, ResultStore
from .summary import Contrast, rate_metric_names, summarise

FORMATS = ("png", "svg")
REFERENCE_SLOPES = (-0.5, -0.25)
METRIC_MEANINGS = {
    "voronoi": "weighted Voronoi loss (the setting's headline exponents)",
    "weight_discrepancy": "mixing-weight discrepancy",
    "l2_error": "L2 error of the fitted regression function",
}


def parse_formats(formats: str | Sequence[str]) -> tuple[str, ...]:
    """Plot formats from ``"png,svg"`` or a sequence; each must be in :data:`FORMATS`."""
    names = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats)]
    names = [f for f in dict.fromkeys(names) if f]
    if not names or any(f not in FORMATS for f in names):
        raise SweepError(f"plot formats must be among {', '.join(FORMATS)}, got {formats!r}")
    return tuple(names)


def metric_label(metric: str) -> str:
    """Y-axis label: the metric's name and meaning."""
    return f"{metric}: " + METRIC_MEANINGS.get(metric, "mean over replicates")


def _new_figure(panels: int, ncols: int, width: float = 5.2, height: float = 3.9):
    from matplotlib.figure import Figure

    nrows = math.ceil(panels / ncols)
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[panels:]:
        ax.set_visible(False)
    return fig, axes[:panels]


def _log_axes(ax, ylabel: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sample size n")
    ax.set_ylabel("\n".join(textwrap.wrap(ylabel, 38)))
    ax.grid(True, which="both", alpha=0.3)


def _rate_panel(ax, r: RateResult) -> None:
    sizes, mean = np.array(r.sizes, dtype=float), np.array(r.mean_loss)
    band = np.array(r.band, dtype=float)
    shown = np.isfinite(mean) & (mean > 0)
    flag = "" if r.counts else f" (does not count: {100 * r.used_share:.1f} % usable < {100 * MIN_CONVERGED_SHARE:g} %)"
    ax.set_title(r.metric + flag, fontsize="medium")
    if not shown.any():  # nothing to draw on a log scale: say so instead of failing
        ax.text(0.5, 0.5, "no usable value", ha="center", va="center", transform=ax.transAxes)
        return
    ax.fill_between(sizes[shown], band[shown, 0], band[shown, 1], color="C0", alpha=0.25, linewidth=0,
                    label=f"{100 * r.level:g} % bootstrap band")
    ax.plot(sizes[shown], mean[shown], "o", color="C0", markersize=4, label="mean over converged replicates")
    if r.fit is not None:
        grid = np.geomspace(sizes[shown].min(), sizes[shown].max(), 50)
        ax.plot(grid, np.exp(r.fit.intercept) * grid**r.fit.slope, "--", color="C3",
                label=f"OLS slope {r.fit.slope:+.3f} [{r.fit.ci_low:+.3f}, {r.fit.ci_high:+.3f}]")
        for slope, colour in zip(REFERENCE_SLOPES, ("0.35", "0.6")):
            ax.plot(sizes[shown], reference_line(sizes[shown], mean[shown], slope), ":", color=colour,
                    label=f"reference slope {slope:g}")
    _log_axes(ax, metric_label(r.metric))
    ax.legend(fontsize="x-small")


def rate_figure(records: Sequence[FitRecord], setting: str, n_boot: int = N_BOOT, seed: int = 0,
                results: Sequence[RateResult] | None = None):
    """A figure with one log-log panel per rate metric of ``setting`` (``results`` reuses analyses)."""
    own = [r for r in records if r.setting == setting]
    if not own:
        raise SweepError(f"no fits stored for setting {setting!r}")
    if results is None:
        results = summarise(own, n_boot=n_boot, seed=seed).settings[0].results
    if not results:
        raise SweepError(f"setting {setting!r} has no rate metric (only {sorted({m for r in own for m in r.metrics})})")
    fig, axes = _new_figure(len(results), min(len(results), 2))
    for ax, r in zip(axes, results):
        _rate_panel(ax, r)
    fig.suptitle(setting)
    return fig


def contrast_figure(contrasts: Sequence[ContrastResult], results: dict[tuple[str, str], RateResult]):
    """One row per contrast: both settings' mean curves, and the paired ratio ``m_a / m_b``."""
    fig, axes = _new_figure(2 * len(contrasts), 2)
    for c, (left, right) in zip(contrasts, axes.reshape(-1, 2)):
        for colour, setting in (("C0", c.setting_a), ("C1", c.setting_b)):
            r = results[setting, c.metric]
            mean = np.array(r.mean_loss)
            shown = np.isfinite(mean)
            left.plot(np.array(r.sizes)[shown], mean[shown], "o-", color=colour, markersize=3,
                      label=f"{setting}: slope {r.fit.slope:+.3f}" if r.fit else setting)
        left.set_title(c.name, fontsize="medium")
        _log_axes(left, metric_label(c.metric))
        left.legend(fontsize="x-small")
        if c.log_ratio:
            sizes, ratio = np.array(c.sizes, dtype=float), np.exp(c.log_ratio)
            band = np.exp(np.array(c.log_ratio_band))
            right.fill_between(sizes, band[:, 0], band[:, 1], color="C2", alpha=0.25, linewidth=0,
                               label="paired bootstrap band")
            right.plot(sizes, ratio, "o", color="C2", markersize=4, label="m_a / m_b")
            right.plot(sizes, reference_line(sizes, ratio, c.difference), "--", color="C3",
                       label=f"slope a - b {c.difference:+.3f} [{c.ci_low:+.3f}, {c.ci_high:+.3f}]")
            right.legend(fontsize="x-small")
        right.set_title(f"{c.verdict}" + ("" if c.counts else " (does not count)"), fontsize="medium")
        _log_axes(right, f"ratio of mean {c.metric}, a / b")
    return fig


def _file_stem(setting: str) -> str:
    return "rates-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", setting)


def _save(fig, stem: Path, formats: Sequence[str]) -> list[Path]:
    """Write ``stem.<fmt>`` for each format; no date, version or random SVG ids, so the same figure
    gives the same bytes."""
    from matplotlib import rc_context

    written = []
    for fmt in formats:
        path = stem.with_name(f"{stem.name}.{fmt}")
        try:
            with rc_context({"svg.hashsalt": "hmoe"}):
                fig.savefig(path, dpi=110, metadata={"Date": None} if fmt == "svg" else {"Software": None})
        except OSError as exc:
            raise SweepError(f"cannot write {path}: {exc.strerror or exc}") from None
        written.append(path)
    return written


def plot_rates(store_path: str | Path, out_dir: str | Path, formats: Sequence[str] = FORMATS,
               n_boot: int = N_BOOT, contrasts: Sequence[Contrast] = (), seed: int = 0) -> list[Path]:
    """Write ``rates-<setting>.<fmt>`` per setting with a rate metric, and ``contrasts.<fmt>`` when a
    contrast could be computed; return the written paths."""
    formats = parse_formats(formats)
    with ResultStore(store_path, readonly=True) as store:
        records = list(store.fits())
    summary = summarise(records, contrasts, n_boot=n_boot, seed=seed)
    out_dir = Path(out_dir)
    written = []
    for s in summary.settings:
        if rate_metric_names(records, s.name):
            written += _save(rate_figure(records, s.name, results=s.results), out_dir / _file_stem(s.name), formats)
    if summary.contrasts:
        results = {(s.name, r.metric): r for s in summary.settings for r in s.results}
        written += _save(contrast_figure(summary.contrasts, results), out_dir / "contrasts", formats)
    return written
