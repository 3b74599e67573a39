"""Wall-clock limits for symbolic computations.

``with time_limit(seconds): ...`` raises :class:`~hmoe_theory.errors.TimeLimitExceeded` when the
block runs longer than ``seconds``. It uses ``SIGALRM`` (interval timer), which interrupts pure-Python
sympy code; hypotheses: a POSIX system and the main thread. In any other thread (e.g. a Dask worker)
the block runs without a limit, because signals can only be delivered to the main thread.
Limits nest: when an outer limit is tighter, the outer one stays in charge.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import TimeLimitExceeded


def _limits_available() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float, what: str = "symbolic computation") -> Iterator[None]:
    """Run the block with a wall-clock limit of ``seconds`` (> 0)."""
    if seconds <= 0:
        raise ValueError("time limit must be positive")
    if not _limits_available():
        yield
        return
    outer_remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    if outer_remaining and outer_remaining <= seconds:
        yield  # the enclosing limit fires first and keeps its own handler
        return

    def on_alarm(signum, frame):  # noqa: ARG001 - signal handler signature
        raise TimeLimitExceeded(f"{what} exceeded its time limit of {seconds:g} s")

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_remaining:
            left = outer_remaining - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))
