"""Run a sweep of replicate paths serially, on a local process pool or on a Dask cluster.

A *replicate function* ``f(setting, sizes, rep, seed) -> [{"n": n, "status": s, "metrics": {...}}, ...]``
fits one setting at every size of one replicate's nested sample; ``setting`` is a catalogue name or, for a
user's TOML setting, its validated mapping. It must be deterministic given its arguments and importable as
``"module:function"`` (workers import it by name, so it must live at module level). Every replicate of a
:class:`~hmoe_theory.experiments.spec.SweepSpec` gets its own derived seed, shared by the settings (paired
design), so the stored numbers do not depend on the backend, the number of workers or the completion order.

The parent process is the store's writer: it claims the paths it will compute, then commits each path as
it arrives. Paths already in the store are skipped, so re-running an interrupted (even ``SIGKILL``-ed)
sweep computes only the missing ones; paths claimed by another live sweep on the same store are left to
it, and this sweep waits for them (taking over any whose owner dies), so two sweeps on one store share the
work and both end complete. A path that raises is recorded in the store's ``failures`` table and retried
next run. Process-pool workers die with the sweep: on Linux they ask the kernel for ``SIGKILL`` when their
parent dies (``prctl(PR_SET_PDEATHSIG)``), elsewhere a watcher thread exits them when the parent is gone.
"""

from __future__ import annotations

import importlib
import math
import os
import re
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import HmoeError, UnknownNameError, lookup
from .progress import ProgressBar
from .spec import SweepError, SweepSpec, Task
from .identity import setting_identity
from .store import ResultStore, check_metrics, verify_paths

DEFAULT_REPLICATE = "hmoe_theory.estimation.replicate:run_path"
MAX_CONNECT_TIMEOUT_S = 3600.0
CLAIM_POLL_S = 0.5
Replicate = Callable[..., list]


# -- replicate functions and settings --------------------------------------------------------------
@cache
def load_replicate(reference: str) -> Replicate:
    """The function named by ``"module:function"`` (imported; a one-line error when impossible)."""
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise SweepError(f"replicate reference {reference!r} must look like 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SweepError(f"cannot import replicate module {module_name!r}: {exc}") from None
    target: Any = module
    for part in attr.split("."):
        target = getattr(target, part, None)
    if not callable(target):
        raise SweepError(f"{reference!r}: module {module_name!r} has no function {attr!r}")
    return target


def replicate_reference(replicate: str | Replicate) -> str:
    """The ``"module:function"`` name of ``replicate`` (checked to import back to the same function)."""
    if isinstance(replicate, str):
        load_replicate(replicate)
        return replicate
    reference = f"{getattr(replicate, '__module__', '')}:{getattr(replicate, '__qualname__', '')}"
    if "<" in reference or load_replicate(reference) is not replicate:
        raise SweepError(f"replicate {replicate!r} must be a module-level function (workers import it by name)")
    return reference


def resolve_settings(names: Sequence[str], replicate: str | Replicate = DEFAULT_REPLICATE) -> tuple[str, ...]:
    """Check setting names against the replicate module's ``SETTINGS`` (when it defines one).

    The name ``default`` expands to the module's ``DEFAULT_SETTINGS``. Unknown names raise
    :class:`~hmoe_theory.errors.UnknownNameError` naming the closest known ones.
    """
    reference = replicate_reference(replicate)
    module = importlib.import_module(reference.partition(":")[0])
    known = getattr(module, "SETTINGS", None)
    resolved: list[str] = []
    for name in names:
        if name == "default":
            if not hasattr(module, "DEFAULT_SETTINGS"):
                raise UnknownNameError(f"{reference} defines no DEFAULT_SETTINGS; name the settings")
            expanded = list(module.DEFAULT_SETTINGS)
        else:
            expanded = [name]
        for setting in expanded:
            if known is not None:
                lookup(known, setting, "setting")
            if setting not in resolved:
                resolved.append(setting)
    if not resolved:
        raise SweepError("no setting to run")
    return tuple(resolved)


def list_settings(replicate: str | Replicate = DEFAULT_REPLICATE) -> list[tuple[str, str, bool]]:
    """``(name, description, in DEFAULT_SETTINGS)`` for each setting of the replicate module."""
    module = importlib.import_module(replicate_reference(replicate).partition(":")[0])
    defaults = set(getattr(module, "DEFAULT_SETTINGS", ()))
    settings = getattr(module, "SETTINGS", {})
    return [(name, str(getattr(s, "description", "")), name in defaults) for name, s in settings.items()]


# -- one fit (runs in a worker) --------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """What a worker sends back for one path: its rows, or the error it raised."""

    task: Task
    rows: list[dict] | None
    error: str | None
    started: float
    finished: float
    seconds: float
    worker: str


def _check_rows(rows: object, task: Task) -> list[dict]:
    if not isinstance(rows, list) or len(rows) != len(task.sizes):
        raise TypeError(f"replicate must return a list of {len(task.sizes)} rows (one per size), got {type(rows).__name__}")
    for row, n in zip(rows, task.sizes):
        if not isinstance(row, dict) or row.get("n") != n:
            raise TypeError(f"replicate rows must be dicts with 'n' in the order of the sizes (expected n={n})")
        row["metrics"] = check_metrics(row.get("metrics"))
    return rows


def execute_task(reference: str, task: Task, definition: dict | None = None) -> Outcome:
    """Run one replicate path; never raises (an exception becomes ``Outcome.error``)."""
    started, clock = time.time(), time.perf_counter()
    rows, error = None, None
    try:
        function = load_replicate(reference)
        rows = _check_rows(function(definition or task.setting, task.sizes, task.rep, task.seed), task)
    except Exception as exc:  # reported and stored as a failure, never hidden
        where = traceback.extract_tb(exc.__traceback__)[-1]
        error = f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})"
    seconds = time.perf_counter() - clock
    return Outcome(task, rows, error, started, time.time(), seconds, f"{socket.gethostname()}:{os.getpid()}")


# -- backends --------------------------------------------------------------------------------------
def _serial(reference: str, tasks: list[Task], definitions: dict) -> Iterator[Outcome]:
    for task in tasks:
        yield execute_task(reference, task, definitions.get(task.setting))


def _die_with_parent(parent: int) -> None:
    """Pool worker initializer: end this worker when the sweep process ``parent`` dies (even by SIGKILL)."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # died before the request took effect
        os._exit(1)

    def watch() -> None:  # portable fallback (and a second guard): poll the parent
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="hmoe-parent-watch", daemon=True).start()


def _process_pool(reference: str, tasks: list[Task], definitions: dict, workers: int) -> Iterator[Outcome]:
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent, initargs=(os.getpid(),))
    try:
        pending = {pool.submit(execute_task, reference, task, definitions.get(task.setting)) for task in tasks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    yield future.result()
                except BrokenProcessPool:
                    raise SweepError(
                        "a worker process died (out of memory or killed); finished fits are stored, "
                        "re-run the same command to resume"
                    ) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_ADDRESS = re.compile(r"(?P<scheme>tcp|tls|ws|wss)://(?P<host>[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})")


def check_connect_timeout(timeout_s: object) -> float:
    """``timeout_s`` as a float in (0, :data:`MAX_CONNECT_TIMEOUT_S`]; a one-line error otherwise."""
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not math.isfinite(timeout_s) \
            or not 0 < timeout_s <= MAX_CONNECT_TIMEOUT_S:
        raise SweepError(f"--connect-timeout must be a number of seconds in (0, {MAX_CONNECT_TIMEOUT_S:g}], "
                         f"got {timeout_s!r}")
    return float(timeout_s)


def _handshake(address: str, timeout_s: float) -> None:
    """Open a Dask comm to ``address`` and complete its handshake within ``timeout_s`` (else SweepError).

    ``distributed.Client(timeout=...)`` bounds the TCP connect but not the handshake that follows: a
    server that accepts and never answers was waited on forever. Here one deadline covers both."""
    import asyncio

    from distributed.comm import connect

    async def probe() -> None:
        comm = await asyncio.wait_for(connect(address, timeout=timeout_s), timeout_s)
        comm.abort()

    try:
        asyncio.run(probe())
    except (asyncio.TimeoutError, TimeoutError):
        raise SweepError(f"cannot reach Dask scheduler at {address}: no handshake within --connect-timeout "
                         f"{timeout_s:g} s") from None
    except Exception as exc:  # noqa: BLE001 - any comm failure is "cannot reach", one line
        raise SweepError(f"cannot reach Dask scheduler at {address}: {exc}".splitlines()[0]) from None


def _connect(scheduler: Any, timeout_s: float) -> tuple[Any, bool]:
    """A ``distributed.Client`` for ``scheduler`` (an address or an existing client) and whether we own it."""
    try:
        from distributed import Client
    except ImportError:
        raise SweepError("--scheduler needs Dask: pip install 'hmoe-theory[dask]'") from None
    if isinstance(scheduler, Client):
        return scheduler, False
    match = _ADDRESS.fullmatch(scheduler) if isinstance(scheduler, str) else None
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise SweepError(f"bad scheduler address {scheduler!r}: expected SCHEME://HOST:PORT with scheme tcp, tls, "
                         "ws or wss and a port 1-65535, e.g. tcp://10.0.0.5:8786")
    timeout_s = check_connect_timeout(timeout_s)
    _handshake(scheduler, timeout_s)
    try:
        return Client(scheduler, timeout=f"{timeout_s}s", set_as_default=False), True
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"cannot reach Dask scheduler at {scheduler}: {exc}".splitlines()[0]) from None


def _dask(reference: str, tasks: list[Task], definitions: dict, scheduler: Any, timeout_s: float) -> Iterator[Outcome]:
    from distributed import as_completed

    client, owned = _connect(scheduler, timeout_s)
    futures = []
    try:
        batch = uuid.uuid4().hex[:8]
        keys = [f"hmoe-fit-{batch}-{i}" for i in range(len(tasks))]
        futures = client.map(execute_task, [reference] * len(tasks), tasks, [definitions.get(t.setting) for t in tasks],
                             key=keys, pure=False)
        task_of = dict(zip(keys, tasks, strict=True))
        for future, result in as_completed(futures, loop=client.loop, with_results=True, raise_errors=False):
            if future.status == "finished":
                yield result
            else:  # the cluster lost the task (e.g. KilledWorker): a failure, retried on resume
                exc = future.exception()
                now = time.time()
                yield Outcome(task_of[future.key], None, f"{type(exc).__name__}: {exc}".splitlines()[0],
                              now, now, 0.0, "dask")
    finally:
        if futures:
            client.cancel(futures)
        if owned:
            client.close()


# -- the sweep -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepReport:
    """Counts of replicate paths: ``total`` in the grid, ``skipped`` (already stored), ``computed`` (stored
    by this run), ``failed`` (raised; retried next run), ``elsewhere`` (claimed by another live sweep when
    this one started), ``shared`` (of those, stored by the other sweep while this one waited)."""

    store: Path
    total: int
    skipped: int
    computed: int
    failed: int
    elsewhere: int
    seconds: float
    shared: int = 0

    @property
    def complete(self) -> bool:
        return self.skipped + self.computed + self.shared == self.total


def _identities(reference: str, settings: Sequence[str], definitions: dict) -> dict[str, str]:
    try:
        return {name: setting_identity(reference, name, definitions.get(name)) for name in settings}
    except HmoeError:
        raise
    except Exception as exc:  # noqa: BLE001 - a definition the replicate module cannot validate
        raise SweepError(f"cannot compute the identity of the settings: {type(exc).__name__}: {exc}".splitlines()[0]) from None


def run_sweep(
    spec: SweepSpec,
    store_path: str | Path,
    workers: int = 1,
    scheduler: Any = None,
    replicate: str | Replicate = DEFAULT_REPLICATE,
    progress: bool = False,
    max_failures: int = 10,
    connect_timeout_s: float = 10.0,
    definitions: dict[str, dict] | None = None,
    wait_for_others: bool = True,
) -> SweepReport:
    """Run every replicate path of ``spec`` missing from the store at ``store_path``, storing each as it finishes.

    Backend: ``scheduler`` (a Dask address such as ``tcp://host:8786``, tried for ``connect_timeout_s``,
    or a ``distributed.Client``; the workers need ``hmoe_theory`` and the replicate's module) when
    given, else a process pool of ``workers`` processes when ``workers > 1``, else this process.
    ``definitions`` maps user setting names to their validated mappings (sent to the workers with each task
    and recorded in the store). ``progress`` draws a progress bar on stderr. The sweep stops with
    :class:`SweepError` once more than ``max_failures`` paths have raised; paths stored until then are kept.
    Paths claimed by another live sweep are waited for (polling every :data:`CLAIM_POLL_S` s; a path whose
    owner dies is claimed and computed here) unless ``wait_for_others`` is false. Before reporting, every
    path this sweep stored is checked on a fresh connection (:func:`.store.verify_paths`).
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SweepError(f"--workers must be an integer >= 1, got {workers!r}")
    connect_timeout_s = check_connect_timeout(connect_timeout_s)
    reference = replicate_reference(replicate)
    definitions = dict(definitions or {})
    identities = _identities(reference, spec.settings, definitions)
    started = time.perf_counter()
    stored: list[Task] = []
    with ResultStore(store_path) as store:
        store.bind(reference, spec.seed, definitions, spec.sizes, identities)
        done = store.completed_paths(spec.sizes)
        pending = [t for t in spec.tasks() if t.key not in done]
        skipped = len(spec) - len(pending)
        bar = ProgressBar(len(spec), skipped) if progress else None
        computed = failed = 0
        elsewhere: set[tuple[str, int]] | None = None
        first_error = ""
        try:
            while pending:
                tasks = store.claim(pending)
                if elsewhere is None:
                    elsewhere = {t.key for t in pending} - {t.key for t in tasks}
                try:
                    for outcome in _outcomes(reference, tasks, definitions, scheduler, workers, connect_timeout_s):
                        error = outcome.error
                        if error is None:
                            try:
                                store.add_path(outcome.task, outcome.rows, outcome.started, outcome.finished,
                                               outcome.seconds, outcome.worker)
                                computed += 1
                                stored.append(outcome.task)
                            except TypeError as exc:
                                error = f"TypeError: {exc}"
                        if error is not None:
                            store.add_failure(outcome.task, error)
                            failed += 1
                            first_error = first_error or f"{outcome.task.setting} rep {outcome.task.rep}: {error}"
                        if bar is not None:
                            bar.update(computed, failed)
                        if failed > max_failures:
                            raise SweepError(f"stopped after {failed} failed replicate paths; first: {first_error}")
                finally:
                    store.release(tasks)
                ours = {t.key for t in tasks}
                done = store.completed_paths(spec.sizes)
                pending = [t for t in pending if t.key not in done and t.key not in ours]
                if pending and not wait_for_others:
                    break
                if pending and not tasks:
                    time.sleep(CLAIM_POLL_S)  # another sweep holds them: poll until stored or its owner dies
        finally:
            if bar is not None:
                bar.close()
        elsewhere = elsewhere or set()
        shared = len(elsewhere & store.completed_paths(spec.sizes) - {t.key for t in stored})
    if stored:
        verify_paths(store_path, stored)  # a lost or replaced journal is an error, never "complete"
    elapsed = time.perf_counter() - started
    return SweepReport(store.path, len(spec), skipped, computed, failed, len(elsewhere), elapsed, shared)


def _outcomes(reference: str, tasks: list[Task], definitions: dict, scheduler: Any, workers: int,
              connect_timeout_s: float) -> Iterator[Outcome]:
    """The outcomes of ``tasks`` from the chosen backend (closed when the caller stops early)."""
    if not tasks:
        return
    if scheduler is not None:
        outcomes = _dask(reference, tasks, definitions, scheduler, connect_timeout_s)
    elif workers > 1:
        outcomes = _process_pool(reference, tasks, definitions, min(workers, len(tasks)))
    else:
        outcomes = _serial(reference, tasks, definitions)
    try:
        yield from outcomes
    finally:
        outcomes.close()
