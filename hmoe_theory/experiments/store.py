"""Resumable result store: one SQLite file (WAL journal), one row per fit, checked when opened.

Schema (``runs.sqlite`` in the output directory, version 3)::

    meta(key TEXT PRIMARY KEY, value TEXT)          -- schema version, replicate reference, base seed,
                                                    -- identity:<setting> (digest of its definition),
                                                    -- setting:<name> (user setting definitions, JSON)
    fits(setting, n, rep, seed, status, metrics,    -- PRIMARY KEY (setting, n, rep); status is one of
         started, finished, seconds, worker,        -- hmoe_theory.estimation.metrics.STATUSES,
         stored, digest)                            -- metrics a JSON object name -> float, digest below
    failures(setting, rep, seed, error, stored)     -- last error of a replicate path that raised
    claims(setting, rep, owner, claimed)            -- paths being computed by a live sweep

Guarantees:

* a single writer per sweep commits each replicate path (all its sizes) in one transaction, so a killed
  sweep loses at most the paths still running; WAL with ``synchronous=NORMAL`` keeps every committed
  transaction across a crash of the writing process;
* floats round-trip exactly (JSON uses ``repr``);
* integrity: opening runs ``PRAGMA quick_check``, compares every schema object with this version's (an
  extra trigger, view or index, or a table rebuilt without its primary key, is refused) and verifies every
  fit: ``digest`` is the SHA-256 of ``[identity of its setting, setting, n, rep, seed, status, metrics]``
  (:func:`fit_digest`), so a changed digit, a truncated or moved row, or a row written by something other
  than :meth:`ResultStore.add_path` is refused by name. A damaged or foreign file is a one-line
  :class:`SweepError`, never "resumed". The digest catches damage and careless edits, not a forger who
  recomputes it;
* setting identity: :meth:`ResultStore.bind` records each setting's identity (a digest of its full
  definition and of the replicate function, :mod:`.identity`); the same name with another definition is a
  one-line error, so fits of two definitions never mix;
* the WAL is checkpointed after every stored path (a lost journal loses at most the last one), and
  :func:`verify_paths` lets a sweep check, on a fresh connection, that what it stored is really there;
* concurrency: a sweep *claims* the paths it will compute before fitting (:meth:`ResultStore.claim`), so two
  sweeps on one store share the work; a claim whose owner process on this host is gone is taken over;
* ``ResultStore(path, readonly=True)`` opens a store on read-only media (``--report``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .spec import SweepError, Task

SCHEMA_VERSION = "3"
STORE_NAME = "runs.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fits (
    setting TEXT NOT NULL, n INTEGER NOT NULL, rep INTEGER NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL,
    metrics TEXT NOT NULL, started REAL NOT NULL, finished REAL NOT NULL, seconds REAL NOT NULL,
    worker TEXT NOT NULL, stored REAL NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (setting, n, rep));
CREATE TABLE IF NOT EXISTS failures (
    setting TEXT NOT NULL, rep INTEGER NOT NULL, seed INTEGER NOT NULL, error TEXT NOT NULL, stored REAL NOT NULL,
    PRIMARY KEY (setting, rep));
CREATE TABLE IF NOT EXISTS claims (
    setting TEXT NOT NULL, rep INTEGER NOT NULL, owner TEXT NOT NULL, claimed REAL NOT NULL,
    PRIMARY KEY (setting, rep));
"""
_COLUMNS = {
    "meta": ["key", "value"],
    "fits": ["setting", "n", "rep", "seed", "status", "metrics", "started", "finished", "seconds", "worker", "stored",
             "digest"],
    "failures": ["setting", "rep", "seed", "error", "stored"],
    "claims": ["setting", "rep", "owner", "claimed"],
}


def _expected_schema() -> dict[str, tuple[str, str, str | None]]:
    """``name -> (type, table, sql)`` of every schema object a fresh store has (tables and their key indexes)."""
    db = sqlite3.connect(":memory:")
    db.executescript(_SCHEMA)
    objects = {name: (kind, table, sql) for kind, name, table, sql in db.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master")}
    db.close()
    return objects


_EXPECTED_SCHEMA = _expected_schema()


def fit_digest(identity: str, setting: str, n: int, rep: int, seed: int, status: str, metrics: str) -> str:
    """SHA-256 (hex) of one fit's content: the identity of its setting's definition, its coordinates, its
    seed, its status and its metrics exactly as stored (the JSON text)."""
    text = json.dumps([identity, setting, int(n), int(rep), int(seed), status, metrics], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class FitRecord:
    """One finished fit as stored: its coordinates, status and metrics, and where/when it ran."""

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
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"metric {name!r} is not a number: {value!r}")
        checked[name] = float(value)
    return checked


def this_owner() -> str:
    """``host:pid`` of this process (the owner recorded on claims)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(owner: str) -> bool:
    """False only when the owner ran on this host and its process is gone (other hosts: assume alive)."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ResultStore:
    """Read/write access to a sweep's SQLite file (use as a context manager).

    ``create=True`` creates the directory and the file when missing; ``create=False`` requires an existing
    store; ``readonly=True`` opens it without writing anything (implies ``create=False``).
    """

    def __init__(self, path: str | Path, create: bool = True, readonly: bool = False) -> None:
        self.path = resolve_store_path(path)
        self.readonly = readonly
        if (readonly or not create) and not self.path.is_file():
            raise SweepError(f"no result store at {self.path} (run a sweep with --out first)")
        try:
            if readonly:
                self._db = self._connect_readonly()
                self._check_integrity()
            else:
                if create:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                fresh = not self.path.is_file() or self.path.stat().st_size == 0
                self._db = sqlite3.connect(self.path, timeout=30.0)
                if fresh:
                    self._db.execute("PRAGMA journal_mode=WAL")
                    with self._db:
                        self._db.executescript(_SCHEMA)
                        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                self._check_integrity()  # before anything is written to an existing (maybe foreign) file
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("PRAGMA wal_autocheckpoint=100")
        except sqlite3.Error as exc:
            raise SweepError(f"result store {self.path} is damaged or not a store ({exc}); move it aside and re-run") from None
        except OSError as exc:
            raise SweepError(f"cannot open result store {self.path}: {exc.strerror or exc}") from None

    def _connect_readonly(self) -> sqlite3.Connection:
        uri = self.path.resolve().as_uri()
        try:
            db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30.0)
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.OperationalError:  # read-only directory: the WAL index cannot be created
            wal = self.path.with_name(f"{self.path.name}-wal")
            if wal.is_file() and wal.stat().st_size > 0:  # immutable=1 would ignore the fits committed there
                raise SweepError(
                    f"result store {self.path} has fits in its journal {wal.name} that cannot be read in a read-only "
                    "directory; copy the directory somewhere writable and report from the copy"
                ) from None
            return sqlite3.connect(f"{uri}?immutable=1", uri=True)

    def _check_integrity(self) -> None:
        verdict = self._db.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            verdict = " ".join(str(verdict).split())  # sqlite's verdict spans lines; the error is one line
            raise SweepError(f"result store {self.path} is damaged (sqlite quick_check: {verdict}); move it aside and re-run")
        for table, columns in _COLUMNS.items():
            found = [row[1] for row in self._db.execute(f"PRAGMA table_info({table})")]
            if found != columns:
                raise SweepError(
                    f"{self.path} is not a version-{SCHEMA_VERSION} result store (table {table!r}: "
                    f"{found or 'missing'}); use another --out directory"
                )
        version = self.meta().get("schema")
        if version != SCHEMA_VERSION:
            raise SweepError(f"{self.path} has schema version {version!r}, not {SCHEMA_VERSION}; use another --out directory")
        self._check_schema_objects()
        self._verify_fits()

    def _damaged(self, what: str) -> SweepError:
        return SweepError(f"result store {self.path} is damaged: {what}; move it aside and re-run")

    def _check_schema_objects(self) -> None:
        """Refuse any schema object a fresh store does not have (trigger, view, index, rebuilt table)."""
        found = {name: (kind, table, sql) for kind, name, table, sql in self._db.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master")}
        for name, (kind, table, sql) in sorted(found.items()):
            if name.startswith("sqlite_stat"):  # statistics written by ANALYZE: harmless
                continue
            expected = _EXPECTED_SCHEMA.get(name)
            if expected is None:
                raise self._damaged(f"unexpected {kind} {name!r} on table {table!r}")
            if expected != (kind, table, sql):
                raise self._damaged(f"{kind} {name!r} differs from the version-{SCHEMA_VERSION} schema "
                                    "(rebuilt without its primary key?)")
        missing = sorted(set(_EXPECTED_SCHEMA) - set(found))
        if missing:
            raise self._damaged(f"schema object(s) {', '.join(missing)} missing (table rebuilt without its primary key?)")

    def _verify_fits(self) -> None:
        """Recompute every fit's digest (content + setting identity); refuse the first that does not match."""
        identities = self.identities()
        rows = self._db.execute("SELECT setting, n, rep, seed, status, metrics, digest FROM fits ORDER BY 1, 2, 3")
        previous = None
        for setting, n, rep, seed, status, metrics, digest in rows:
            where = f"fit ({setting!r}, n={n}, rep={rep})"
            if (setting, n, rep) == previous:
                raise self._damaged(f"{where} is stored twice")
            previous = (setting, n, rep)
            if not all(isinstance(v, int) for v in (n, rep, seed)) or not all(
                    isinstance(v, str) for v in (setting, status, metrics, digest)):
                raise self._damaged(f"{where} has a value of the wrong type")
            if digest != fit_digest(identities.get(setting, ""), setting, n, rep, seed, status, metrics):
                raise self._damaged(f"{where} does not match its digest (changed, truncated or not written by a sweep)")

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    # -- metadata -------------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM meta"))

    def bind(self, replicate: str, base_seed: int, definitions: Mapping[str, object] | None = None,
             sizes: Iterable[int] = (), identities: Mapping[str, str] | None = None) -> None:
        """Record (or check) the replicate function, base seed, user setting definitions and the identities
        of the settings (``name -> digest of the full definition``, :func:`.identity.setting_identity`).

        Mixing two replicate functions, two base seeds or two different definitions under one setting
        name would silently mix incomparable fits, so a mismatch is a :class:`SweepError`. So is a grid of
        ``sizes`` that differs from the stored one below the smaller of their largest sizes: a path is fitted
        along its sizes (warm starts), so the fit at n depends on the sizes below n; adding larger sizes is fine.
        """
        new = sorted({int(n) for n in sizes})
        old = [n for (n,) in self._db.execute("SELECT DISTINCT n FROM fits ORDER BY n")]
        if new and old:
            top = min(old[-1], new[-1])
            if [n for n in old if n <= top] != [n for n in new if n <= top]:
                raise SweepError(
                    f"{self.path} holds fits at sizes {old}; fits are warm-started along the sizes, so a new --n must "
                    f"list the same sizes up to {top} (add sizes above {old[-1]}) or use another --out directory"
                )
        wanted = {"replicate": replicate, "base_seed": str(int(base_seed))}
        wanted.update({f"setting:{name}": json.dumps(d, sort_keys=True) for name, d in (definitions or {}).items()})
        have = self.meta()
        for key, value in wanted.items():
            if key in have and have[key] != value:
                what = f"a different definition of {key[8:]!r}" if key.startswith("setting:") else f"{key}={have[key]!r}, not {value!r}"
                raise SweepError(f"{self.path} holds fits with {what}; use another --out directory")
        for name, identity in sorted((identities or {}).items()):
            key = f"identity:{name}"
            if have.get(key, identity) != identity or (key not in have and self._has_fits(name)):
                raise SweepError(
                    f"{self.path} holds fits of a setting named {name!r} with another definition (identity "
                    f"{have.get(key, 'unrecorded')[:12]}, this one {identity[:12]}); rename the setting or use "
                    "another --out directory"
                )
            wanted[key] = identity
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)", wanted.items())

    def _has_fits(self, setting: str) -> bool:
        return self._db.execute("SELECT 1 FROM fits WHERE setting=? LIMIT 1", (setting,)).fetchone() is not None

    def identities(self) -> dict[str, str]:
        """Setting identities recorded by :meth:`bind` (``name -> digest``)."""
        return {k[9:]: v for k, v in self.meta().items() if k.startswith("identity:")}

    def definitions(self) -> dict[str, dict]:
        """User setting definitions recorded by :meth:`bind`."""
        return {k[8:]: json.loads(v) for k, v in self.meta().items() if k.startswith("setting:")}

    # -- paths and fits -------------------------------------------------------------------------
    def completed_paths(self, sizes: Iterable[int]) -> set[tuple[str, int]]:
        """``(setting, rep)`` whose fits exist at every size of ``sizes``."""
        sizes = sorted(set(int(n) for n in sizes))
        if not sizes:
            return set()
        marks = ",".join("?" * len(sizes))
        rows = self._db.execute(
            f"SELECT setting, rep FROM fits WHERE n IN ({marks}) GROUP BY setting, rep HAVING count(*) = ?",
            (*sizes, len(sizes)),
        )
        return {(setting, rep) for setting, rep in rows}

    def claim(self, tasks: Iterable[Task], owner: str | None = None) -> list[Task]:
        """Claim the paths of ``tasks`` not claimed by a live sweep and not stored meanwhile; return the ones
        claimed now. One IMMEDIATE transaction: two sweeps starting together cannot both claim a path."""
        owner = owner or this_owner()
        claimed = []
        done: dict[tuple[int, ...], set[tuple[str, int]]] = {}
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            current = {(s, r): o for s, r, o in self._db.execute("SELECT setting, rep, owner FROM claims")}
            for task in tasks:
                if task.sizes not in done:
                    done[task.sizes] = self.completed_paths(task.sizes)
                holder = current.get((task.setting, task.rep))
                if task.key in done[task.sizes] or (holder is not None and holder != owner and _owner_alive(holder)):
                    continue
                self._db.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?)", (task.setting, task.rep, owner, time.time()))
                claimed.append(task)
        return claimed

    def release(self, tasks: Iterable[Task], owner: str | None = None) -> None:
        owner = owner or this_owner()
        with self._db:
            self._db.executemany(
                "DELETE FROM claims WHERE setting=? AND rep=? AND owner=?", [(t.setting, t.rep, owner) for t in tasks]
            )

    def claimed_by_others(self, owner: str | None = None) -> list[tuple[str, int, str]]:
        owner = owner or this_owner()
        rows = self._db.execute("SELECT setting, rep, owner FROM claims WHERE owner != ? ORDER BY 1, 2", (owner,))
        return [(s, r, o) for s, r, o in rows if _owner_alive(o)]

    def add_path(self, task: Task, rows: Iterable[Mapping], started: float, finished: float, seconds: float,
                 worker: str) -> None:
        """Store every size of one replicate path in one transaction (clearing an earlier failure and its claim,
        so a killed sweep leaves claims only on the paths it did not finish).

        ``rows``: ``{"n": int, "status": str, "metrics": {name: float}}``. A fit already stored (two sweeps
        sharing a store) keeps its first row; fits are deterministic functions of their task.
        """
        from ..estimation.metrics import STATUSES

        identity = self.identities().get(task.setting, "")
        prepared = []
        for row in rows:
            status = row.get("status")
            if status not in STATUSES:
                raise TypeError(f"fit status must be one of {', '.join(STATUSES)}, got {status!r}")
            n = row.get("n")
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise TypeError(f"fit size n must be a positive integer, got {n!r}")
            payload = json.dumps(check_metrics(row.get("metrics")), sort_keys=True)
            digest = fit_digest(identity, task.setting, n, task.rep, task.seed, status, payload)
            prepared.append((task.setting, n, task.rep, task.seed, status, payload, started, finished, seconds, worker,
                             time.time(), digest))
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO fits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", prepared)
            self._db.execute("DELETE FROM failures WHERE setting=? AND rep=?", (task.setting, task.rep))
            self._db.execute("DELETE FROM claims WHERE setting=? AND rep=?", (task.setting, task.rep))
        self.checkpoint()

    def checkpoint(self) -> None:
        """Copy the journal's committed transactions into the store file (PASSIVE: never waits on readers)."""
        self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def add_failure(self, task: Task, error: str) -> None:
        """Record that the path of ``task`` raised ``error`` (retried on resume)."""
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?, ?)", (task.setting, task.rep, task.seed, error, time.time())
            )

    def failures(self) -> list[tuple[str, int, str]]:
        return [tuple(r) for r in self._db.execute("SELECT setting, rep, error FROM failures ORDER BY 1, 2")]

    def fits(self) -> Iterator[FitRecord]:
        """Every stored fit, ordered by (setting, n, rep) (each was verified against its digest on opening)."""
        query = ("SELECT setting, n, rep, seed, metrics, status, started, finished, seconds, worker FROM fits "
                 "ORDER BY 1, 2, 3")
        try:
            for setting, n, rep, seed, metrics, status, started, finished, seconds, worker in self._db.execute(query):
                yield FitRecord(setting, n, rep, seed, json.loads(metrics), status, started, finished, seconds, worker)
        except (sqlite3.Error, ValueError) as exc:
            raise SweepError(f"result store {self.path} is damaged ({exc}); move it aside and re-run") from None


def verify_paths(store_path: str | Path, tasks: Iterable[Task]) -> None:
    """Check on a fresh connection that every path of ``tasks`` is stored at all its sizes and verifies (the
    store's full check included); a :class:`SweepError` names how many are missing and the likely cause."""
    tasks = list(tasks)
    with ResultStore(store_path, create=False) as store:
        by_sizes: dict[tuple[int, ...], set[tuple[str, int]]] = {}
        missing = [t for t in tasks if t.key not in by_sizes.setdefault(t.sizes, store.completed_paths(t.sizes))]
    if missing:
        first = missing[0]
        raise SweepError(
            f"{len(missing)} of the {len(tasks)} replicate paths this sweep stored are missing from {store.path} "
            f"(first: {first.setting} rep {first.rep}); its journal {store.path.name}-wal was probably deleted or "
            "replaced during the sweep; re-run to recompute them"
        )


def load_results(store_path: str | Path) -> list[FitRecord]:
    """All fits stored at ``store_path`` (an output directory or the ``.sqlite`` file), opened read-only."""
    with ResultStore(store_path, readonly=True) as store:
        return list(store.fits())


def metric_values(records: list[FitRecord], setting: str, metric: str) -> dict[int, list[float]]:
    """``{n: [value of metric over reps]}`` for one setting (reps in order; NaN when a fit lacks it)."""
    by_size: dict[int, list[float]] = {}
    for r in sorted(records, key=lambda r: r.key):
        if r.setting == setting:
            by_size.setdefault(r.n, []).append(r.metrics.get(metric, math.nan))
    return by_size
