"""Long computations of the explorer: a worker thread under a wall-clock limit, with elapsed time and cancel.

The kernel must stay responsive while a field or a relation search runs, or a click on *cancel* would wait
for the computation it is meant to stop. :class:`Job` runs ``compute()`` (after :meth:`Job.start`) in a daemon thread inside
``time_limit(seconds)`` (:mod:`hmoe_theory.timelimit`: its watchdog raises ``TimeLimitExceeded`` in the worker
at the deadline); :meth:`Job.cancel` ends the same block at once (:meth:`~hmoe_theory.timelimit.time_limit.expire`).
Both act between Python bytecodes, so one long C call (a huge integer product) delays them.

``tick(elapsed_s)`` is called every :data:`TICK_S` while the job runs; ``done(result, error)`` exactly once, in a
thread of the job, with the result or with the one-line :class:`~hmoe_theory.errors.HmoeError` that stopped it
(:class:`Cancelled` after :meth:`Job.cancel`; a cancelled job never delivers a result, even one that finished
in the same instant).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import HmoeError, TimeLimitExceeded
from ..timelimit import time_limit

TICK_S = 0.5  # elapsed time shown this often
DEFAULT_LIMIT_S = 60


class Cancelled(HmoeError):
    """The user cancelled the computation."""


class Job:
    """``compute()`` in a worker thread under a time limit of ``seconds``; see the module docstring."""

    def __init__(
        self,
        compute: Callable[[], Any],
        done: Callable[[Any, HmoeError | None], None],
        *,
        seconds: float = DEFAULT_LIMIT_S,
        what: str = "computation",
        tick: Callable[[float], None] | None = None,
    ) -> None:
        self.compute, self.done, self.seconds, self.what, self.tick = compute, done, seconds, what, tick
        self.started = time.monotonic()
        self.cancelled = False
        self._limit: time_limit | None = None
        self._lock = threading.Lock()
        self._report = threading.Lock()  # a tick never runs during or after ``done``
        self._reported = False
        self._finished = threading.Event()

    def start(self) -> Job:
        """Start the worker (and the ticks); returns the job."""
        self.started = time.monotonic()
        threading.Thread(target=self._work, name=f"hmoe-explorer-{self.what}", daemon=True).start()
        if self.tick is not None:
            threading.Thread(target=self._ticks, name="hmoe-explorer-ticks", daemon=True).start()
        return self

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def running(self) -> bool:
        return not self._finished.is_set()

    def cancel(self) -> None:
        """Stop the computation now (no effect once it has finished)."""
        with self._lock:
            self.cancelled = True
            if self._limit is not None:
                self._limit.expire()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ``done`` has been called; False if ``timeout`` passed first."""
        return self._finished.wait(timeout)

    def _attempt(self) -> tuple[Any, HmoeError | None]:
        limit = time_limit(self.seconds, self.what)
        with self._lock:
            self._limit = limit
        try:
            with limit:
                if self.cancelled:
                    raise Cancelled(f"{self.what} cancelled")
                return self.compute(), None
        except TimeLimitExceeded as exc:
            return None, exc
        except HmoeError as exc:
            return None, exc
        except Exception as exc:  # noqa: BLE001 - a defect: shown as one red line instead of a frozen "computing"
            return None, HmoeError(f"{self.what} failed unexpectedly: {type(exc).__name__}: {exc}")

    def _work(self) -> None:
        try:
            result, error = self._attempt()
        except TimeLimitExceeded as exc:  # the limit fired between the block's end and the return
            result, error = None, exc
        with self._lock:
            self._limit = None
            if self.cancelled:
                result, error = None, Cancelled(f"{self.what} cancelled after {self.elapsed:.1f} s")
        with self._report:
            self._reported = True
        try:
            self.done(result, error)
        finally:
            self._finished.set()

    def _ticks(self) -> None:
        while not self._finished.wait(TICK_S):
            with self._report:
                if self._reported:
                    return
                self.tick(self.elapsed)  # type: ignore[misc]
