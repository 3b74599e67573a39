"""Fuzz suite for the explorer's plain functions (``explore_family``, ``explore_curvature``).

Hostile expressions, names, points, ranges and sizes must end in a report or a one-line
:class:`~hmoe_theory.errors.HmoeError` (ExpressionError, ModelError, BoundError or TimeLimitExceeded),
never another exception, and never create a file. Each call runs under
:func:`hmoe_theory.timelimit.run_with_deadline` (the explorer itself has no limit), so a runaway input
ends as TimeLimitExceeded instead of hanging the suite.
"""

from __future__ import annotations

import os
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hmoe_theory.errors import HmoeError, TimeLimitExceeded
from hmoe_theory.explorer import explore_curvature, explore_family
from hmoe_theory.timelimit import run_with_deadline

CANARY = "/tmp/hmoe-fuzz-canary"
SECONDS = 8


def outcome(explore, *args, **kwargs) -> str:
    """'ok', or the HmoeError class name; anything else fails the test (via the child's re-raised error)."""
    try:
        run_with_deadline(_summary, explore, args, kwargs, seconds=SECONDS, what="explorer call")
    except TimeLimitExceeded:
        return "TimeLimitExceeded"
    except HmoeError as exc:
        assert "\n" not in str(exc), str(exc)
        return type(exc).__name__
    return "ok"


def _summary(explore, args, kwargs) -> None:
    explore(*args, **kwargs)  # the report itself need not be picklable: only success travels back


@pytest.fixture(autouse=True)
def sandbox(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if os.path.exists(CANARY):
        os.remove(CANARY)
    yield
    assert list(tmp_path.iterdir()) == [] and not os.path.exists(CANARY)


FAMILY_CASES = [
    # (function, inputs, params, extra keyword arguments, expected outcome)
    ("__import__('os').system('touch /tmp/hmoe-fuzz-canary')", "x", "a", {}, "ExpressionError"),
    ("a.__class__*x", "x", "a", {}, "ExpressionError"),
    ("0**-1*x+a", "x", "a", {}, "ExpressionError"),
    ("a*x+log(0)", "x", "a", {}, "ExpressionError"),
    ("((a*x+b)**64)**64", "x", "a,b", {}, "ExpressionError"),
    ("exp(exp(exp(exp(exp(exp(a*x))))))+b", "x", "a,b", {}, "ExpressionError"),
    ("a*x*0x" + "f" * 5000, "x", "a", {}, "ExpressionError"),
    ("a*x*" + "9" * 5000, "x", "a", {}, "ExpressionError"),
    ("log(a*x)", "x", "a", {"point": "a=-1"}, "ModelError"),
    ("a*x+b", "x", "a,b", {"point": "a=nan"}, None),
    ("a*x+b", "x", "a,b", {"point": "a=1/0"}, "ExpressionError"),
    ("a*x+b", "x", "a,b", {"order": 99}, "ModelError"),
    ("a*x+b", "x", "a,b", {"order": 0}, "ModelError"),
    ("a*x+b", "x", "a,a", {}, "ExpressionError"),
    ("a*x+b", "x", "a,b", {"mode": "bogus"}, None),
    ("(", "x", "a", {}, "ExpressionError"),
    ("", "x", "a", {}, "ExpressionError"),
    ("a*x+b", "", "a,b", {}, None),
    ("a*x+b", "x", "__class__", {}, "ExpressionError"),
]


@pytest.mark.parametrize(("function", "inputs", "params", "extra", "expected"), FAMILY_CASES)
def test_explore_family_hostile(function, inputs, params, extra, expected):
    result = outcome(explore_family, function=function, inputs=inputs, params=params, **extra)
    if expected is not None:
        assert result == expected


@pytest.mark.parametrize(
    ("gate", "expert", "extra"),
    [("no-such-gate", "linear", {}), ("softmax-linear", "linear", {"d": 50}), ("softmax-linear", "linear", {"d": 0}),
     ("softmax-linear", "linear", {"point": "beta_1=1e400"}), ("softmax-linear", "linear", {"seed": -1})],
)
def test_explore_family_catalogue_abuse(gate, expert, extra):
    assert outcome(explore_family, gate, expert, **extra) != "ok" or extra.get("seed") == -1


CURVATURE_CASES = [
    ("[u, v, u*v]", "u,v", "u=-1:1, v=-1:1", None, "ok"),
    ("[u, v, open('x')]", "u,v", "u=-1:1, v=-1:1", None, "ExpressionError"),
    ("[u, v, 1/(u-u)]", "u,v", "u=-1:1, v=-1:1", None, "ExpressionError"),
    ("[u, v, (2**64)**64*u]", "u,v", "u=-1:1, v=-1:1", None, "ExpressionError"),
    ("[u, v, " + "9" * 4000 + "*u]", "u,v", "u=-1:1, v=-1:1", None, "ExpressionError"),
    ("[u, v, u*v]", "u,v", "u=nan:1, v=-1:1", None, None),
    ("[u, v, u*v]", "u,v", "u=1:1, v=-1:1", None, None),
    ("[u, v, u*v]", "u,v", "u=-1e400:1, v=-1:1", None, None),
    ("[u, v, u*v]", "u,v", "w=-1:1", None, None),
    ("[u, v, R*u]", "u,v", "u=-1:1, v=-1:1", "R=1/0", "ExpressionError"),
    ("[u, v, R*u]", "u,v", "u=-1:1, v=-1:1", "R=sqrt(-1)", "ExpressionError"),
    ("[u, v, relu(u)*v]", "u,v", "u=-1:1, v=-1:1", None, None),
    ("[u, v, abs(u)]", "u,v", "u=-1:1, v=-1:1", None, None),
    ("u*v", "u,v", "u=-1:1, v=-1:1", None, "ExpressionError"),
    ("[]", "u,v", "u=-1:1, v=-1:1", None, "ExpressionError"),
]


@pytest.mark.parametrize(("map_text", "coords", "ranges", "sets", "expected"), CURVATURE_CASES)
def test_explore_curvature_hostile(map_text, coords, ranges, sets, expected):
    result = outcome(explore_curvature, map_text, coords, ranges, sets, resolution=5)
    if expected is not None:
        assert result == expected


@pytest.mark.parametrize("resolution", [0, 1, -5, 10**6, 2.5])
def test_explore_curvature_resolution_abuse(resolution):
    outcome(explore_curvature, "[u, v, u*v]", "u,v", "u=-1:1, v=-1:1", resolution=resolution)


ATOMS = st.sampled_from(["a", "b", "x", "u", "v", "pi", "0", "1", "0.5", "1e300", "-1", "99999999999", "zz", "__x"])
FUNCS = st.sampled_from(["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "eval", "__import__"])
OPS = st.sampled_from(["+", "-", "*", "/", "**", "//", ","])
EXPRESSIONS = st.recursive(
    ATOMS,
    lambda c: st.one_of(
        st.tuples(c, OPS, c).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        st.tuples(FUNCS, c).map(lambda t: f"{t[0]}({t[1]})"),
    ),
    max_leaves=10,
)
TEXT = st.one_of(EXPRESSIONS, st.text(alphabet=string.printable + "αβ²", max_size=30))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_random_family_expressions(text):
    outcome(explore_family, function=f"a*x+b+({text})", inputs="x", params="a,b", order=1)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_random_curvature_maps(text):
    outcome(explore_curvature, f"[u, v, {text}]", "u,v", "u=-1:1, v=-1:1", resolution=5)
