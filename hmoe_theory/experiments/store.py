"""Resumable result store: one SQLite file (WAL journal), one row per finished fit.

Schema (``runs.sqlite`` in the output directory)::

    meta(key TEXT PRIMARY KEY, value TEXT)         -- replicate reference, base seed, schema version
    fits(setting TEXT, n INTEGER, rep INTEGER,     -- PRIMARY KEY (setting, n, rep)
         seed INTEGER, metrics TEXT,               -- metrics: JSON object name -> float
         started REAL, finished REAL, seconds REAL,-- worker clock (Unix time) and fit duration
         worker TEXT, stored REAL)                 -- host:pid that ran it, parent clock at commit
    failures(setting, n, rep, seed, error, stored) -- last error of a fit that raised (retried on resume)

Guarantees: a single writer (the sweep's parent process) commits each fit as it arrives, so a killed
sweep loses at most the fits still running; WAL with ``synchronous=NORMAL`` keeps every committed
transaction across a crash of the writing process (not necessarily across a power cut). Floats
round-trip exactly (JSON uses ``repr``). Readers may open the store while a sweep writes to it.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .spec import SweepError, Task

SCHEMA_VERSION = "1"
STORE_NAME = "runs.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fits (
    setting TEXT NOT NULL, n INTEGER NOT NULL, rep INTEGER NOT NULL, seed INTEGER NOT NULL,
    metrics TEXT NOT NULL, started REAL NOT NULL, finished REAL NOT NULL, seconds REAL NOT NULL,
    worker TEXT NOT NULL, stored REAL NOT NULL, PRIMARY KEY (setting, n, rep));
CREATE TABLE IF NOT EXISTS failures (
    setting TEXT NOT NULL, n INTEGER NOT NULL, rep INTEGER NOT NULL, seed INTEGER NOT NULL,
    error TEXT NOT NULL, stored REAL NOT NULL, PRIMARY KEY (setting, n, rep));
"""


@dataclass(frozen=True)
class FitRecord:
    """One finished fit as stored: its task, its metrics and where/when it ran."""

    setting: str
    n: int
    rep: int
    seed: int
    metrics: dict[str, float]
    status: str = "converged"  # one of hmoe_theory.estimation.metrics.STATUSES
    started: float = field(default=0.0, compare=False)
    finished: float = field(default=0.0, compare=False)
    seconds: float = field(default=0.0, compare=False)
    worker: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.setting, self.n, self.rep)


def resolve_store_path(path: str | Path) -> Path:
    """``path`` itself if it names a file, else ``path / runs.sqlite`` (a directory, existing or not)."""
    path = Path(path)
    return path if path.suffix in (".sqlite", ".db", ".sqlite3") else path / STORE_NAME


def check_metrics(metrics: object) -> dict[str, float]:
    """``metrics`` as ``{str: float}``; raise ``TypeError`` when a replicate returned something else."""
    if not isinstance(metrics, Mapping) or not metrics:
        raise TypeError(f"replicate must return a non-empty dict of name -> float, got {type(metrics).__name__}")
    checked = {}
    for name, value in metrics.items():
        if not isinstance(name, str):
            raise TypeError(f"metric names must be strings, got {name!r}")
        try:
            checked[name] = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"metric {name!r} is not a number: {value!r}") from None
    return checked


class ResultStore:
    """Read/write access to a sweep's SQLite file (use as a context manager).

    ``ResultStore(path, create=True)`` creates the directory and the file when missing; with
    ``create=False`` a missing store is a :class:`SweepError`.
    """

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.path = resolve_store_path(path)
        if not create and not self.path.is_file():
            raise SweepError(f"no result store at {self.path} (run a sweep with --out first)")
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            if create:
                self._db.executescript(_SCHEMA)
            else:
                self._db.execute("SELECT count(*) FROM fits").fetchone()
        except (OSError, sqlite3.Error) as exc:
            raise SweepError(f"cannot open result store {self.path}: {exc}") from None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    # -- metadata -------------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM meta"))

    def bind(self, replicate: str, base_seed: int) -> None:
        """Record (or check) which replicate function and base seed this store holds fits of.

        Mixing two replicate functions or two base seeds in one store would silently mix incomparable
        fits, so a mismatch is a :class:`SweepError`.
        """
        wanted = {"schema": SCHEMA_VERSION, "replicate": replicate, "base_seed": str(int(base_seed))}
        have = self.meta()
        for key, value in wanted.items():
            if key in have and have[key] != value:
                raise SweepError(
                    f"{self.path} holds fits with {key}={have[key]!r}, not {value!r}; use another --out directory"
                )
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)", wanted.items())

    # -- fits -----------------------------------------------------------------------------------
    def completed(self) -> set[tuple[str, int, int]]:
        """Keys ``(setting, n, rep)`` of every stored fit."""
        return {tuple(row) for row in self._db.execute("SELECT setting, n, rep FROM fits")}

    def add_fit(self, task: Task, metrics: Mapping[str, float], started: float, finished: float,
                seconds: float, worker: str) -> None:
        """Store one finished fit and commit (clearing any earlier failure of the same task).

        If the fit is already stored (two sweeps sharing a store), the first row is kept; fits are
        deterministic functions of their task, so both rows would be equal.
        """
        payload = json.dumps(check_metrics(metrics), sort_keys=True)
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO fits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (task.setting, task.n, task.rep, task.seed, payload, started, finished, seconds, worker, time.time()),
            )
            self._db.execute("DELETE FROM failures WHERE setting=? AND n=? AND rep=?", task.key)

    def add_failure(self, task: Task, error: str) -> None:
        """Record that ``task`` raised ``error`` (it stays missing from ``fits`` and is retried on resume)."""
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?, ?, ?)",
                (task.setting, task.n, task.rep, task.seed, error, time.time()),
            )

    def failures(self) -> list[tuple[str, int, int, str]]:
        return [tuple(r) for r in self._db.execute("SELECT setting, n, rep, error FROM failures ORDER BY 1, 2, 3")]

    def fits(self) -> Iterator[FitRecord]:
        """Every stored fit, ordered by (setting, n, rep)."""
        query = "SELECT setting, n, rep, seed, metrics, started, finished, seconds, worker FROM fits ORDER BY 1, 2, 3"
        for setting, n, rep, seed, metrics, started, finished, seconds, worker in self._db.execute(query):
            yield FitRecord(setting, n, rep, seed, json.loads(metrics), "converged", started, finished, seconds, worker)


def load_results(store_path: str | Path) -> list[FitRecord]:
    """All fits stored at ``store_path`` (an output directory or the ``.sqlite`` file itself)."""
    with ResultStore(store_path, create=False) as store:
        return list(store.fits())


def metric_values(records: list[FitRecord], setting: str, metric: str) -> dict[int, list[float]]:
    """``{n: [value of metric over reps]}`` for one setting (reps in order; NaN when a fit lacks it)."""
    by_size: dict[int, list[float]] = {}
    for r in sorted(records, key=lambda r: r.key):
        if r.setting == setting:
            by_size.setdefault(r.n, []).append(r.metrics.get(metric, math.nan))
    return by_size
