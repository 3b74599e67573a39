"""Fuzz suite for the claims runner (proofs_check/runner.py): whatever a check does -- return any value,
raise any exception, exit, print -- its result is a PASS only when it returned a Verdict with the expected
status and printed nothing; every other outcome is the outcome ``error`` with a one-line reason, and the
JSON ledger stays strict JSON (non-finite evidence becomes null)."""

from __future__ import annotations

import json
import math
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hmoe_theory.certify import Status
from proofs_check.claim import Claim, Verdict
from proofs_check.runner import format_line, run_claim, to_json

RETURNS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
                    st.sampled_from(list(Status)))
EXCEPTIONS = st.sampled_from([ValueError("v\nsecond line"), ZeroDivisionError(), KeyError("k"), RuntimeError("r" * 500),
                              SystemExit(0), SystemExit(None), SystemExit("bye"), AssertionError(), MemoryError()])


def _claim(check, expected: Status = Status.INCONCLUSIVE) -> Claim:
    return Claim("fuzz.claim", "t", "s", ("none",), "s", expected, check, time_limit_s=10)


def _strict(text: str) -> object:
    def refuse(constant: str) -> None:
        raise AssertionError(f"non-JSON constant {constant}")
    return json.loads(text, parse_constant=refuse)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=RETURNS, expected=st.sampled_from(list(Status)))
def test_any_non_verdict_return_is_an_error(value, expected):
    result = run_claim(_claim(lambda: value, expected))
    assert (result.outcome, result.passed) == ("error", False)
    assert result.error == f"check returned {type(value).__name__}, not a Verdict"
    assert format_line(result).startswith("FAIL") and "\n" not in format_line(result)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exc=EXCEPTIONS, expected=st.sampled_from(list(Status)))
def test_any_exception_or_exit_is_an_error_with_one_line(exc, expected):
    def check():
        raise exc

    result = run_claim(_claim(check, expected))
    assert (result.outcome, result.passed) == ("error", False)
    assert "\n" not in result.error and len(result.error) <= 300
    assert result.error.startswith("check called sys.exit" if isinstance(exc, SystemExit) else "check raised")
    payload = _strict(to_json([result]))
    assert payload["failed"] == 1 and payload["claims"][0]["status"] == "error"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(min_size=1, max_size=30), status=st.sampled_from(list(Status)))
def test_a_check_that_prints_fails_and_its_text_goes_to_stderr(text, status):
    def check():
        print(text, end="")
        return Verdict(status, "fine")

    captured_err = []
    original = sys.stderr.write
    sys.stderr.write = lambda s: captured_err.append(s) or len(s)
    try:
        result = run_claim(_claim(check, status))
    finally:
        sys.stderr.write = original
    assert (result.outcome, result.passed) == ("error", False)
    assert result.error.startswith(f"check wrote {len(text)} characters to stdout")
    assert "".join(captured_err) == text


@settings(max_examples=15, deadline=None)
@given(status=st.sampled_from(list(Status)), expected=st.sampled_from(list(Status)),
       evidence=st.dictionaries(st.sampled_from("abc"), st.floats(allow_nan=True, allow_infinity=True), max_size=3))
def test_a_verdict_passes_exactly_when_its_status_is_expected(status, expected, evidence):
    result = run_claim(_claim(lambda: Verdict(status, "ok", None, evidence), expected))
    assert result.error is None and result.outcome == status.value and result.passed == (status is expected)
    payload = _strict(to_json([result]))["claims"][0]
    assert all(payload["evidence"][k] is None for k, v in evidence.items() if not math.isfinite(v))
