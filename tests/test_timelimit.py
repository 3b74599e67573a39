"""Time limits: soft limits on the main thread and other threads, nesting, and the hard child-process deadline.

No test asserts a duration: each checks that a limit *fires* (a loop that would otherwise run for
minutes ends with TimeLimitExceeded) and that nothing is left armed afterwards.
"""

import math
import signal
import threading
import time

import pytest

from hmoe_theory.errors import BoundError, ModelError, TimeLimitExceeded
from hmoe_theory.timelimit import (
    DEFAULT_TIME_LIMIT_S,
    check_seconds,
    parse_time_limit,
    run_captured,
    run_with_deadline,
    time_limit,
)

SAFETY_S = 60.0  # loops give up (and the test fails) after this long instead of hanging


def spin(seconds: float, what: str = "spin") -> str:
    """Busy-loop under a limit; return the TimeLimitExceeded message."""
    started = time.monotonic()
    try:
        with time_limit(seconds, what):
            while time.monotonic() - started < SAFETY_S:
                pass
    except TimeLimitExceeded as exc:
        return str(exc)
    raise AssertionError("time limit did not fire")


def swallowing_loop(outer: float, inner: float) -> str:
    """An outer limit around strategies that each catch TimeLimitExceeded (as prove_zero does), then more work.

    The outer limit expires during the third strategy, whose handler swallows it; it must fire again in
    the work that follows.
    """
    started = time.monotonic()
    caught_inner = 0
    try:
        with time_limit(outer, "outer"):
            for _ in range(3):
                try:
                    with time_limit(inner, "inner"):
                        while time.monotonic() - started < SAFETY_S:
                            pass
                except TimeLimitExceeded:
                    caught_inner += 1
            while time.monotonic() - started < SAFETY_S:
                pass
    except TimeLimitExceeded as exc:
        assert caught_inner == 3
        return str(exc)
    raise AssertionError("outer limit was swallowed")


def test_main_thread_limit_names_the_limit_and_disarms():
    assert spin(0.1) == "spin exceeded its time limit of 0.1 s"
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None, signal.default_int_handler) or callable(
        signal.getsignal(signal.SIGALRM)
    )


def test_outer_limit_cannot_be_swallowed_by_inner_handlers():
    assert swallowing_loop(0.25, 0.1) == "outer exceeded its time limit of 0.25 s"
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_limits_hold_in_other_threads():
    results: dict[str, str] = {}

    def work() -> None:
        results["spin"] = spin(0.1, "worker")
        results["nested"] = swallowing_loop(0.25, 0.1)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(SAFETY_S * 3)
    assert results == {
        "spin": "worker exceeded its time limit of 0.1 s",
        "nested": "outer exceeded its time limit of 0.25 s",
    }


def test_block_that_finishes_is_not_interrupted_later():
    with time_limit(0.05, "short"):
        pass
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # a stray alarm would raise here
        pass
    with time_limit(5, "outer"):
        with time_limit(0.05, "inner"):
            pass
        time.sleep(0.2)


def test_enclosing_foreign_timer_is_restored():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        spin(0.05)
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < remaining <= 30.0
        assert not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), 0, -1, "soon", None, 1e12])
def test_invalid_limits_are_one_line_errors(bad):
    with pytest.raises(BoundError) as info:
        check_seconds(bad)
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError):  # BoundError is a ValueError for library callers
        with time_limit(bad):
            pass


def test_parse_time_limit_accepts_finite_positive_numbers():
    assert parse_time_limit("2.5") == 2.5
    assert parse_time_limit("1e-3") == 1e-3
    assert math.isfinite(DEFAULT_TIME_LIMIT_S) and DEFAULT_TIME_LIMIT_S > 0


def test_run_with_deadline_returns_result_and_reraises_child_errors():
    assert run_with_deadline(sum, [1, 2, 3], seconds=30) == 6

    def bad() -> None:
        raise ModelError("degenerate map")

    with pytest.raises(ModelError, match="degenerate map"):
        run_with_deadline(bad, seconds=30)


def _blocked_sleep() -> None:
    """Sleep with SIGALRM blocked: only killing the process ends it (like a long C call)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(SAFETY_S)


def test_hard_deadline_kills_code_the_soft_limit_cannot_reach():
    with pytest.raises(TimeLimitExceeded, match=r"blocked exceeded its time limit of 0\.2 s \(stopped\)"):
        run_with_deadline(_blocked_sleep, seconds=0.2, what="blocked")


def test_soft_limit_in_the_child_is_reported_by_the_parent():
    with pytest.raises(TimeLimitExceeded, match="busy exceeded its time limit of 0.2 s$"):
        run_with_deadline(spin_forever, seconds=0.2, what="busy")


def _swallow_the_limit() -> None:
    """What an interrupted library call may do: catch whatever was raised inside it and raise its own error."""
    try:
        spin_forever()
    except BaseException:  # noqa: BLE001 - the point of the test
        raise AttributeError("'NegativeOne' object has no attribute 'as_base_exp'") from None


def test_an_error_made_of_the_limit_by_library_code_is_reported_as_the_limit():
    expected = r"^busy exceeded its time limit of 0\.2 s \(interrupted: AttributeError\)$"
    with pytest.raises(TimeLimitExceeded, match=expected):
        run_with_deadline(_swallow_the_limit, seconds=0.2, what="busy")
    with pytest.raises(TimeLimitExceeded, match=expected) as caught, time_limit(0.2, "busy"):
        _swallow_the_limit()
    assert isinstance(caught.value.__cause__, AttributeError)

    def bad() -> None:  # an error before the deadline stays what it is
        raise AttributeError("no such thing")

    with pytest.raises(AttributeError, match="no such thing"):
        run_with_deadline(bad, seconds=30)


def spin_forever() -> None:
    started = time.monotonic()
    while time.monotonic() - started < SAFETY_S:
        pass


def test_hard_deadline_from_a_worker_thread():
    outcome: list[BaseException] = []

    def work() -> None:
        try:
            run_with_deadline(_blocked_sleep, seconds=0.2, what="threaded")
        except TimeLimitExceeded as exc:
            outcome.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(SAFETY_S)
    assert [str(e) for e in outcome] == ["threaded exceeded its time limit of 0.2 s (stopped)"]


def test_run_captured_returns_printed_output():
    def chatty(n: int) -> int:
        print("to stdout", n)
        import sys

        print("to stderr", file=sys.stderr)
        return n + 1

    assert run_captured(chatty, 41, seconds=30) == (42, "to stdout 41\n", "to stderr\n")


def _spin_in_worker(limit: float) -> str:
    return spin(limit, "pooled")


@pytest.mark.parametrize("pool", ["threads", "processes"])
def test_limits_hold_in_pool_workers(pool):
    """Dask workers run tasks in a thread pool; ``hmoe check --jobs`` and sweeps use process pools."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    executor = ThreadPoolExecutor(2) if pool == "threads" else ProcessPoolExecutor(2)
    with executor:
        messages = list(executor.map(_spin_in_worker, [0.1, 0.2]))
    assert messages == ["pooled exceeded its time limit of 0.1 s", "pooled exceeded its time limit of 0.2 s"]


def test_hard_deadline_from_a_process_pool_worker():
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1) as executor:
        assert executor.submit(_deadline_in_worker).result(timeout=SAFETY_S) == "w exceeded its time limit of 0.2 s (stopped)"


def _deadline_in_worker() -> str:
    try:
        run_with_deadline(_blocked_sleep, seconds=0.2, what="w")
    except TimeLimitExceeded as exc:
        return str(exc)
    return "not stopped"
