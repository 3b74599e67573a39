"""Wall-clock limits for symbolic and high-precision computations: a soft limit on any thread, and a
hard deadline in a child process.

* ``with time_limit(seconds, what): ...`` (soft) raises :class:`~hmoe_theory.errors.TimeLimitExceeded`
  ("<what> exceeded its time limit of <seconds> s") inside the block once it has run for ``seconds``.
  In the main thread it uses ``SIGALRM`` (which also interrupts sleeps); in any other thread (a Dask
  worker, a thread pool) a watchdog thread raises the exception asynchronously in that thread
  (``PyThreadState_SetAsyncExc``). Both act between Python bytecodes, so a single long C call (one huge
  integer product) delays them. Limits nest: the earliest deadline wins, and an expired limit is raised
  again every 0.05 s until its own block has unwound, so code that catches ``TimeLimitExceeded`` for an
  inner limit (e.g. "try the next sympy strategy") cannot swallow an outer one; entering a new limit
  inside an expired one raises at once. An error of another type leaving a block whose limit was raised is
  reported as the limit ("... (interrupted: AttributeError)", the original as ``__cause__``): library code
  interrupted mid-call may turn the limit into its own error.
* :func:`run_with_deadline` (hard) runs a function in a forked child process under a soft limit of
  ``seconds`` and kills the child (``SIGKILL``) ``GRACE_S`` later if it is still running, whatever it is
  doing; the caller gets the result, the child's exception, or ``TimeLimitExceeded``. It works from any
  thread and from worker processes (it uses ``os.fork`` directly, so daemonic pool workers may call it).
  Hypotheses: a POSIX system (elsewhere it falls back to the soft limit) and a picklable result.

:data:`DEFAULT_TIME_LIMIT_S` is the one documented default for a command (``--time-limit SECONDS``);
:func:`check_seconds` validates a limit (finite, > 0, <= :data:`MAX_TIME_LIMIT_S`).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import io
import math
import os
import pickle
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .errors import BoundError, HmoeError, TimeLimitExceeded

T = TypeVar("T")

DEFAULT_TIME_LIMIT_S = 120.0  # one command's symbolic and high-precision work (``--time-limit``)
MAX_TIME_LIMIT_S = 7 * 24 * 3600.0
GRACE_S = 1.0  # a hard deadline kills the child this long after its soft limit
REPEAT_S = 0.05  # an expired limit is raised again this often until its block has unwound


def check_seconds(seconds: object, what: str = "time limit") -> float:
    """``seconds`` as a float if it is a finite number in (0, MAX_TIME_LIMIT_S], else a one-line BoundError."""
    try:
        value = float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BoundError(f"{what} must be a number of seconds, got {seconds!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise BoundError(f"{what} must be a finite positive number of seconds, got {seconds!r}")
    if value > MAX_TIME_LIMIT_S:
        raise BoundError(f"{what} {value:g} s exceeds the largest accepted limit, {MAX_TIME_LIMIT_S:g} s (one week)")
    return value


def parse_time_limit(text: str) -> float:
    """argparse ``type=`` for ``--time-limit`` (see :func:`check_seconds`)."""
    try:
        return check_seconds(text, "--time-limit")
    except BoundError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@dataclass(eq=False)
class _Limit:
    deadline: float
    message: str
    expired: bool = False
    raised: int = 0
    error: type[TimeLimitExceeded] = field(init=False)

    def __post_init__(self) -> None:
        message = self.message

        def __init__(self, *args: object) -> None:  # noqa: N807 - raised asynchronously without arguments
            TimeLimitExceeded.__init__(self, message)

        self.error = type("TimeLimitExceeded", (TimeLimitExceeded,), {"__init__": __init__})


# Per-thread stacks of active limits (outermost first). The lock guards them and the watchdog state.
_stacks: dict[int, list[_Limit]] = {}
_lock = threading.Condition(threading.RLock())
_watchdog: threading.Thread | None = None
_main_state: dict[str, Any] = {}


def _reset_after_fork() -> None:
    global _lock, _watchdog
    _lock = threading.Condition(threading.RLock())
    ident = threading.get_ident()
    mine = _stacks.get(ident)
    _stacks.clear()
    if mine:
        _stacks[ident] = mine
    _watchdog = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _uses_signal() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _first_expired(stack: list[_Limit], now: float) -> _Limit | None:
    return next((lim for lim in stack if lim.expired or lim.deadline <= now), None)


_BOOKKEEPING = frozenset({"__exit__", "_discard", "_enter_signal", "_leave_signal", "_arm_signal"})
MAX_REPEATS = 200  # an expired limit stops re-raising after 200 x 0.05 s (the hard deadline is the backstop)


def _in_bookkeeping(frame: Any) -> bool:
    """Never raise while a limit is being registered or removed (that bookkeeping must complete)."""
    return frame is not None and frame.f_code.co_filename == __file__ and frame.f_code.co_name in _BOOKKEEPING


def _due(lim: _Limit) -> bool:
    lim.expired = True
    lim.raised += 1
    return lim.raised <= MAX_REPEATS


# ---- main thread: SIGALRM -------------------------------------------------------------------------


def _on_alarm(signum: int, frame: Any) -> None:  # noqa: ARG001 - signal handler signature
    stack = _stacks.get(threading.get_ident(), [])
    expired = _first_expired(stack, time.monotonic() + 1e-4)
    if expired is None or _in_bookkeeping(frame):
        _arm_signal(stack)
        return
    if _due(expired):
        raise expired.error()
    signal.setitimer(signal.ITIMER_REAL, 0)


def _arm_signal(stack: list[_Limit]) -> None:
    if not stack:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return
    now = time.monotonic()
    if _first_expired(stack, now) is not None:
        signal.setitimer(signal.ITIMER_REAL, REPEAT_S, REPEAT_S)
    else:
        signal.setitimer(signal.ITIMER_REAL, max(min(lim.deadline for lim in stack) - now, 1e-4), REPEAT_S)


def _enter_signal(stack: list[_Limit]) -> None:
    if len(stack) == 1:  # outermost limit of the main thread: take over SIGALRM, remember what was there
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        _main_state.update(handler=signal.signal(signal.SIGALRM, _on_alarm), remaining=remaining, since=time.monotonic())
    _arm_signal(stack)


def _leave_signal(stack: list[_Limit]) -> None:
    if stack:
        _arm_signal(stack)
        return
    signal.setitimer(signal.ITIMER_REAL, 0)
    state = dict(_main_state)
    _main_state.clear()
    signal.signal(signal.SIGALRM, state.get("handler") or signal.SIG_DFL)
    if state.get("remaining"):  # an enclosing timer we do not own: give back what is left of it
        left = state["remaining"] - (time.monotonic() - state["since"])
        signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))


# ---- other threads: a watchdog raising asynchronously ----------------------------------------------

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = [ctypes.c_ulong, ctypes.c_void_p]
_set_async_exc.restype = ctypes.c_int


def _watch() -> None:
    while True:
        with _lock:
            now = time.monotonic()
            wake = now + 3600.0
            frames = sys._current_frames()
            for ident, stack in list(_stacks.items()):
                if ident in _signal_threads():
                    continue
                expired = _first_expired(stack, now)
                if expired is not None and expired.raised <= MAX_REPEATS:
                    if not _in_bookkeeping(frames.get(ident)) and _due(expired):
                        _set_async_exc(ident, id(expired.error))
                    wake = min(wake, now + REPEAT_S)
                elif stack:
                    wake = min(wake, min(lim.deadline for lim in stack))
            _lock.wait(max(wake - now, 1e-3))


def _signal_threads() -> set[int]:
    main = threading.main_thread().ident
    return {main} if hasattr(signal, "setitimer") and main is not None else set()


def _ensure_watchdog() -> None:
    global _watchdog
    if _watchdog is None or not _watchdog.is_alive():
        _watchdog = threading.Thread(target=_watch, name="hmoe-time-limit-watchdog", daemon=True)
        _watchdog.start()


class time_limit:  # noqa: N801 - used as a function: ``with time_limit(seconds, what):``
    """Run the block with a wall-clock limit of ``seconds`` (finite, > 0); see the module docstring.

    A class rather than a generator, so that leaving runs in this module, where the limit never raises
    (see :func:`_in_bookkeeping`).
    """

    def __init__(self, seconds: float, what: str = "symbolic computation"):
        self.seconds = check_seconds(seconds)
        self.what = what

    def __enter__(self) -> None:
        self.limit = _Limit(time.monotonic() + self.seconds, f"{self.what} exceeded its time limit of {self.seconds:g} s")
        self.ident = threading.get_ident()
        self.use_signal = _uses_signal()
        with _lock:
            stack = _stacks.setdefault(self.ident, [])
            already = _first_expired(stack, time.monotonic())
            if already is not None:
                already.expired = True
                raise already.error()
            stack.append(self.limit)
            try:
                if self.use_signal:
                    _enter_signal(stack)
                else:
                    _ensure_watchdog()
                    _lock.notify_all()
            except BaseException:
                self._discard()
                raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self._discard()
        if exc is not None and self.limit.expired and isinstance(exc, Exception) and not isinstance(exc, TimeLimitExceeded):
            # The limit was raised inside the block and library code turned it into another error (seen: symengine's
            # sympy conversion, interrupted, raising AttributeError): the cause is the deadline, report it as such.
            raise TimeLimitExceeded(f"{self.limit.message} (interrupted: {type(exc).__name__})") from exc

    def expire(self) -> None:
        """End the block now, from any thread (a *cancel* button): the block's thread gets
        :class:`TimeLimitExceeded` as if its deadline had passed. No effect before the block is entered or
        once it has left."""
        with _lock:
            stack = _stacks.get(getattr(self, "ident", None), [])
            if getattr(self, "limit", None) not in stack:
                return
            self.limit.deadline = time.monotonic()
            if self.use_signal:
                _arm_signal(stack)
            _lock.notify_all()

    def _discard(self) -> None:
        with _lock:
            stack = _stacks.get(self.ident, [])
            if self.limit in stack:
                stack.remove(self.limit)
            if self.use_signal:
                _leave_signal(stack)
            elif not any(lim.expired for lim in stack):
                _set_async_exc(self.ident, None)  # drop an exception set by the watchdog but not yet raised
            if not stack:
                _stacks.pop(self.ident, None)
            _lock.notify_all()


# ---- hard deadline: a child process ----------------------------------------------------------------


def _child(function: Callable[..., T], args: tuple, kwargs: dict, seconds: float, what: str, fd: int) -> None:
    try:
        with time_limit(seconds, what):
            payload = ("ok", function(*args, **kwargs))
    except TimeLimitExceeded as exc:  # the per-limit subclass is not picklable
        payload = ("raise", TimeLimitExceeded(str(exc)))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        payload = ("raise", exc)
    try:
        data = pickle.dumps(payload)
    except Exception as exc:  # noqa: BLE001 - an unpicklable result or exception
        kind = "result" if payload[0] == "ok" else type(payload[1]).__name__
        data = pickle.dumps(("raise", HmoeError(f"{what}: could not send its {kind} back ({exc})")))
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_until(fd: int, deadline: float) -> bytes | None:
    """Everything the child writes, or None if the deadline passes first."""
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def run_with_deadline(
    function: Callable[..., T], *args: Any, seconds: float, what: str = "computation", **kwargs: Any
) -> T:
    """``function(*args, **kwargs)`` in a child process, stopped within ``seconds + GRACE_S``.

    Returns the child's result or re-raises its exception; raises :class:`TimeLimitExceeded` naming
    ``what`` and the limit when the child is still running at the deadline (it is then killed).
    """
    seconds = check_seconds(seconds)
    if not hasattr(os, "fork"):
        with time_limit(seconds, what):
            return function(*args, **kwargs)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into the caller's code
        status = 1
        try:
            os.close(read_fd)
            _child(function, args, kwargs, seconds, what, write_fd)
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    try:
        data = _read_until(read_fd, time.monotonic() + seconds + GRACE_S)
    except BaseException:
        _kill(pid)
        raise
    finally:
        os.close(read_fd)
    if data is None:
        _kill(pid)
        raise TimeLimitExceeded(f"{what} exceeded its time limit of {seconds:g} s (stopped)")
    _, status = os.waitpid(pid, 0)
    if not data:
        reason = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"status {os.waitstatus_to_exitcode(status)}"
        raise HmoeError(f"{what} stopped unexpectedly ({reason}; out of memory?)")
    kind, value = pickle.loads(data)
    if kind == "raise":
        raise value
    return value


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def run_captured(
    function: Callable[..., T], *args: Any, seconds: float, what: str = "computation", **kwargs: Any
) -> tuple[T, str, str]:
    """:func:`run_with_deadline`, returning also what the function printed to stdout and stderr."""

    def captured() -> tuple[T, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            value = function(*args, **kwargs)
        return value, out.getvalue(), err.getvalue()

    return run_with_deadline(captured, seconds=seconds, what=what)


__all__ = [
    "DEFAULT_TIME_LIMIT_S",
    "GRACE_S",
    "MAX_TIME_LIMIT_S",
    "check_seconds",
    "parse_time_limit",
    "run_captured",
    "run_with_deadline",
    "time_limit",
]
