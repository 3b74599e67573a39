"""One CSV row per stored fit (``hmoe rates --export FILE.csv``).

Columns: ``setting, n, rep, seed, status, iterations``, then every metric any fit reports (union,
sorted by name; the weighted Voronoi loss is the column ``voronoi``). Wall-clock values (metric names
ending in ``seconds`` or ``_time``, and the store's timing fields) are not exported: they are not
functions of the seed. Rows are sorted by ``(setting, n, rep)``; floats are written with ``repr`` (exact
round trip, ``nan``/``inf`` spelled so), a metric a fit lacks is an empty cell, and lines end in
``\\n`` -- the same records give the same bytes.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from pathlib import Path

from .spec import SweepError
from .store import FitRecord

FIXED_COLUMNS = ("setting", "n", "rep", "seed", "status", "iterations")


def is_wall_clock(metric: str) -> bool:
    """Whether a metric name denotes a wall-clock duration (never a loss, never exported or plotted)."""
    return metric.endswith(("seconds", "_time")) or metric == "time"


def metric_columns(records: Iterable[FitRecord]) -> list[str]:
    """Metric columns of the CSV: the union of metric names, sorted, without wall-clock names and
    without ``iterations`` (a fixed column)."""
    names = {m for r in records for m in r.metrics}
    return sorted(m for m in names if m not in FIXED_COLUMNS and not is_wall_clock(m))


def _cell(value: float | None, integral: bool = False) -> str:
    if value is None:
        return ""
    value = float(value)
    if integral and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return repr(value)


def write_csv(records: Iterable[FitRecord], path: str | Path) -> Path:
    """Write one row per fit to ``path`` (see module docstring) and return the path."""
    records = sorted(records, key=lambda r: r.key)
    columns = metric_columns(records)
    path = Path(path)
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([*FIXED_COLUMNS, *columns])
            for r in records:
                writer.writerow([r.setting, r.n, r.rep, r.seed, r.status,
                                 _cell(r.metrics.get("iterations"), integral=True),
                                 *(_cell(r.metrics.get(m)) for m in columns)])
    except OSError as exc:
        raise SweepError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def read_csv(path: str | Path) -> list[FitRecord]:
    """The fit records of a CSV written by :func:`write_csv` (exact floats; empty cells are left out)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise SweepError(f"cannot read {path}: {exc.strerror or exc}") from None
    records = []
    try:
        for row in rows:
            metrics = {name: float(value) for name, value in row.items() if name not in FIXED_COLUMNS[:5] and value != ""}
            records.append(FitRecord(row["setting"], int(row["n"]), int(row["rep"]), int(row["seed"]), metrics, row["status"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise SweepError(f"{path} is not a fits export of hmoe rates ({type(exc).__name__}: {exc})") from None
    return records
