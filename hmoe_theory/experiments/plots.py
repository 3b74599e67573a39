"""Log-log rate plots from a result store (matplotlib, no pyplot state, any backend).

One figure per setting; for each metric: the median over replicates at each size (markers), the band
between the ``band`` quantiles over replicates, and the fitted power law ``exp(a) n^b`` of
:func:`~hmoe_theory.experiments.summary.rate_row` (dashed), labelled with ``b`` and its 95% CI.
Non-positive values cannot appear on a log axis: they are left out of the medians and bands shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .spec import SweepError
from .store import FitRecord, ResultStore, metric_values
from .summary import metric_names, rate_row

FORMATS = ("png", "svg")


def parse_formats(formats: str | Sequence[str]) -> tuple[str, ...]:
    """Plot formats from ``"png,svg"`` or a sequence; each must be in :data:`FORMATS`."""
    names = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats)]
    names = [f for f in dict.fromkeys(names) if f]
    if not names or any(f not in FORMATS for f in names):
        raise SweepError(f"plot formats must be among {', '.join(FORMATS)}, got {formats!r}")
    return tuple(names)


def rate_figure(records: Sequence[FitRecord], setting: str, band: tuple[float, float] = (0.1, 0.9),
                n_boot: int = 2000):
    """A ``matplotlib.figure.Figure`` of every metric of ``setting`` against n on log-log axes."""
    from matplotlib.figure import Figure

    metrics = metric_names(records, setting)
    if not metrics:
        raise SweepError(f"no fits stored for setting {setting!r}")
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for index, metric in enumerate(metrics):
        color = f"C{index % 10}"
        by_size = metric_values(list(records), setting, metric)
        sizes, medians, lows, highs = [], [], [], []
        for n, values in sorted(by_size.items()):
            positive = np.array([v for v in values if np.isfinite(v) and v > 0])
            if positive.size:
                sizes.append(n)
                medians.append(np.median(positive))
                low, high = np.quantile(positive, band)
                lows.append(low)
                highs.append(high)
        if not sizes:
            continue
        ns = [n for n, vs in by_size.items() for _ in vs]
        fit = rate_row(setting, metric, ns, [v for vs in by_size.values() for v in vs], n_boot=n_boot).fit
        label = metric if fit is None else f"{metric}: slope {fit.slope:+.2f} [{fit.ci_low:+.2f}, {fit.ci_high:+.2f}]"
        ax.fill_between(sizes, lows, highs, color=color, alpha=0.2, linewidth=0)
        ax.plot(sizes, medians, "o", color=color, label=label)
        if fit is not None:
            grid = np.geomspace(min(sizes), max(sizes), 50)
            ax.plot(grid, np.exp(fit.intercept) * grid**fit.slope, "--", color=color, linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sample size n")
    ax.set_ylabel(f"metric (median, {100 * band[0]:g}-{100 * band[1]:g}% band)")
    ax.set_title(setting)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def _file_stem(setting: str) -> str:
    return "rates-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", setting)


def plot_rates(store_path: str | Path, out_dir: str | Path, formats: Sequence[str] = FORMATS,
               n_boot: int = 2000) -> list[Path]:
    """Write ``rates-<setting>.<fmt>`` for every setting in the store; return the written paths."""
    formats = parse_formats(formats)
    with ResultStore(store_path, create=False) as store:
        records = list(store.fits())
    out_dir = Path(out_dir)
    written = []
    for setting in dict.fromkeys(r.setting for r in records):
        fig = rate_figure(records, setting, n_boot=n_boot)
        for fmt in formats:
            path = out_dir / f"{_file_stem(setting)}.{fmt}"
            try:
                fig.savefig(path, dpi=120)
            except OSError as exc:
                raise SweepError(f"cannot write {path}: {exc}") from None
            written.append(path)
    return written
