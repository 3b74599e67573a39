"""Fuzz suite for every field that takes numbers or expressions (docs/hardening.md).

Constant towers (``sin(exp(exp(exp(10))))`` and new ones of our own) in ``--function``, ``--map``,
``--set``, ``--at``, ``--sigma``, ``--plane``, identifiability ``--at`` and both explorer functions end in a
result or one line, never a traceback, and the same under two ``PYTHONHASHSEED``s. Raised bounds
(``HMOE_MAX_NUMBER_DIGITS`` above Python's 4300-digit integer limit) stay one line. Integers beyond double
range in a TOML setting are refused naming the field. Every ``--json`` output is strict JSON (``null``,
never ``NaN``/``Infinity``).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hmoe_theory.cli import main
from hmoe_theory.errors import HmoeError, TimeLimitExceeded
from hmoe_theory.explorer import explore_curvature, explore_family
from hmoe_theory.expr import parse_expression
from hmoe_theory.jsonout import finite_or_none, strict_dumps
from hmoe_theory.timelimit import run_with_deadline

LIMIT = ["--time-limit", "6"]
TOWERS = [
    "sin(exp(exp(exp(10))))",  # the example
    "tanh(exp(exp(exp(5))))",
    "erf(exp(exp(exp(2))))",
    "log(exp(exp(exp(10))))",
    "sigmoid(-exp(exp(5)))",
    "softplus(exp(exp(7)))",
    "normal_pdf(1, 0, exp(-exp(6)))",
    "cos(E**E**E**E)",
    "sqrt(exp(exp(6)))*exp(exp(6))",
    "silu(-exp(exp(exp(1)))*pi)",
]


def fields(tower: str) -> dict[str, list[str]]:
    fn = ["interactions", "--function", "a*x+b", "--inputs", "x", "--params", "a,b", "--order", "1", "--no-certify"]
    curv = ["curvature", "--map", "[u, v, u*v]", "--coords", "u,v", "--at", "u=0.1,v=0.2"]
    return {
        "function": ["interactions", "--function", f"a*x+b+{tower}", "--inputs", "x", "--params", "a,b", "--order",
                     "1", "--no-certify", *LIMIT],
        "interactions-at": [*fn, "--at", f"a={tower},b=1", *LIMIT],
        "map": ["curvature", "--map", f"[u, v, u*v+{tower}]", "--coords", "u,v", "--at", "u=0.1,v=0.2", *LIMIT],
        "set": ["curvature", "--map", "[u, v, R*u*v]", "--coords", "u,v", "--at", "u=0.1,v=0.2", "--set",
                f"R={tower}", *LIMIT],
        "curvature-at": ["curvature", "--map", "[u, v, u*v]", "--coords", "u,v", "--at", f"u={tower},v=0.2", *LIMIT],
        "sigma": [*curv, "--sigma", f"[{tower}, 1, 1]", *LIMIT],
        "plane": [*curv, "--plane", f"{tower},0;0,1", *LIMIT],
        "identifiability-at": ["identifiability", "--gate", "softmax-linear", "--expert", "linear", "--fisher",
                               "--at", f"beta_1_1={tower}", *LIMIT],
    }


def check_outcome(code: int, out: str, err: str) -> None:
    assert "Traceback" not in out + err
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("hmoe: error: "), err


CASES = [pytest.param(argv, id=f"{field}-{i}") for i, tower in enumerate(TOWERS) for field, argv in fields(tower).items()]


@pytest.mark.parametrize("argv", CASES)
def test_constant_towers_in_every_field(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    check_outcome(code, captured.out, captured.err)


@pytest.mark.parametrize("tower", TOWERS[:7] + TOWERS[8:])  # E**E**E**E is refused by the exponent bound instead
def test_a_tower_is_refused_by_the_digit_bound(tower):
    with pytest.raises(HmoeError, match="HMOE_MAX_NUMBER_DIGITS"):
        parse_expression(f"a*x+{tower}")


def test_moderate_constants_stay_accepted():
    assert parse_expression("exp(exp(5))").free_symbols == set()  # 64 digits
    assert parse_expression("a*exp(-700)+sigmoid(30)").free_symbols != set()


def _explore(kind: str, text: str) -> str:
    def call() -> None:
        if kind == "family":
            explore_family(function=f"a*x+b+{text}", inputs="x", params="a,b", order=1)
        elif kind == "family-point":
            explore_family(function="a*x+b", inputs="x", params="a,b", order=1, point=f"a={text}")
        else:
            explore_curvature(f"[u, v, u*v+{text}]", "u,v", "u=-1:1, v=-1:1", resolution=5)
    try:
        run_with_deadline(call, seconds=8, what="explorer call")
    except TimeLimitExceeded:
        return "TimeLimitExceeded"
    except HmoeError as exc:
        assert "\n" not in str(exc)
        return type(exc).__name__
    return "ok"


@pytest.mark.parametrize("kind", ["family", "family-point", "curvature"])
@pytest.mark.parametrize("tower", TOWERS[:3] + TOWERS[6:7])
def test_constant_towers_in_the_explorer(kind, tower):
    assert _explore(kind, tower) == "ExpressionError"


NUMBERS = st.sampled_from(["2", "3", "5", "10", "0.5", "pi", "E", "-7", "1e2"])
WRAPPERS = st.sampled_from(["exp", "sin", "cos", "tanh", "erf", "log", "sqrt", "abs", "sigmoid", "softplus", "silu",
                            "gelu", "relu"])


@st.composite
def constant_towers(draw) -> str:
    text = draw(NUMBERS)
    for _ in range(draw(st.integers(1, 4))):
        text = f"{draw(WRAPPERS)}({text})" if draw(st.booleans()) else f"{draw(WRAPPERS)}({text}*{draw(NUMBERS)})"
    return text


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(tower=constant_towers(), field=st.sampled_from(["function", "set", "sigma", "interactions-at"]))
def test_random_towers_in_random_fields(tower, field, capsys):
    code = main(fields(tower)[field])
    captured = capsys.readouterr()
    check_outcome(code, captured.out, captured.err)


def test_towers_do_not_depend_on_the_hash_seed(tmp_path):
    argv = fields(TOWERS[0])["function"] + ["--time-limit", "30"]
    runs = {seed: subprocess.run([sys.executable, "-m", "hmoe_theory", *argv], capture_output=True, text=True,
                                 cwd=tmp_path, timeout=120, env={**os.environ, "PYTHONHASHSEED": seed})
            for seed in ("0", "4242")}
    for done in runs.values():
        check_outcome(done.returncode, done.stdout, done.stderr)
    assert runs["0"].returncode == runs["4242"].returncode == 2 and runs["0"].stderr == runs["4242"].stderr


# -- raised bounds --------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["interactions", "--function", "a*x+b*2**9000*2**9000", "--inputs", "x", "--params", "a,b", "--order", "1",
     "--no-certify", *LIMIT],
    ["interactions", "--function", "a*x+b+" + "9" * 5000, "--inputs", "x", "--params", "a,b", "--order", "1", *LIMIT],
    ["curvature", "--map", "[u, v, u*v]", "--coords", "u,v", "--at", "u=" + "7" * 4500 + ",v=1", *LIMIT],
    ["curvature", "--map", "[u, v, u*v*2**9000*2**9000]", "--coords", "u,v", "--at", "u=0.1,v=0.2", *LIMIT],
])
def test_number_digits_raised_above_python_int_limit_is_one_line(argv, monkeypatch, capsys):
    monkeypatch.setenv("HMOE_MAX_NUMBER_DIGITS", "20000")
    monkeypatch.setenv("HMOE_MAX_EXPONENT", "10000")
    default = sys.get_int_max_str_digits()
    try:
        code = main(argv)
    finally:
        sys.set_int_max_str_digits(default)
    captured = capsys.readouterr()
    check_outcome(code, captured.out, captured.err)
    assert "4300" not in captured.err


@pytest.mark.parametrize("raw", ["9" * 40, "-5", "abc", "1e5"])
def test_a_malformed_bound_variable_is_one_line(raw, monkeypatch, capsys):
    monkeypatch.setenv("HMOE_MAX_NUMBER_DIGITS", raw)
    code = main(["interactions", "--function", "a*x+b", "--inputs", "x", "--params", "a,b", "--order", "1", *LIMIT])
    captured = capsys.readouterr()
    assert code == 2 and "HMOE_MAX_NUMBER_DIGITS" in captured.err
    check_outcome(code, captured.out, captured.err)


# -- TOML settings ---------------------------------------------------------------------------------------
SPEC = """name = "big"
inputs = ["x1"]
gate_family = "softmax-linear"
expert_family = "linear"
design = "uniform(-1, 1)"
noise_variance = {noise}
k = 2
[[truth]]
weight = {weight}
beta_1 = 1.0
a_1 = 1.0
alpha = 0.0
"""


@pytest.mark.parametrize(("weight", "noise", "message"), [
    ("9" * 400, "0.01", "truth[1].weight: an integer of 400 digits is outside double range"),
    ("9" * 5000, "0.01", "a number has too many digits to be read"),
    ("1.0", "-" + "1" * 330, "noise_variance: an integer of 330 digits"),
    ("1.0", "nan", "noise_variance: expected a finite number"),
    ("1.0", "-inf", "noise_variance: expected a finite number"),
    ("0x" + "f" * 300, "0.01", "truth[1].weight: an integer of 362 digits"),
])
def test_toml_numbers_out_of_double_range_are_one_line(tmp_path, capsys, weight, noise, message):
    spec = tmp_path / "big.toml"
    spec.write_text(SPEC.format(weight=weight, noise=noise))
    code = main(["rates", "--spec", str(spec), "--out", str(tmp_path / "o"), "--n", "10,20", "--reps", "1", "--quiet"])
    captured = capsys.readouterr()
    check_outcome(code, captured.out, captured.err)
    assert code == 2 and message in captured.err, captured.err
    assert not (tmp_path / "o" / "runs.sqlite").exists()


# -- strict JSON ---------------------------------------------------------------------------------------
def _strict(text: str) -> object:
    def refuse(constant: str) -> None:
        raise AssertionError(f"non-JSON constant {constant} in --json output")
    return json.loads(text, parse_constant=refuse)


def test_strict_dumps_writes_null_for_every_non_finite_value():
    value = {"a": math.nan, "b": [math.inf, -math.inf, 1.5], "c": (np.float64("nan"), np.array([1.0, np.inf])),
             3: {"d": np.float32(2.5), "e": None, "f": True}}
    text = strict_dumps(value, indent=2)
    assert _strict(text) == {"a": None, "b": [None, None, 1.5], "c": [None, [1.0, None]],
                             "3": {"d": 2.5, "e": None, "f": True}}
    assert finite_or_none({1, 2}) == [1, 2]


@pytest.mark.parametrize("argv", [
    ["interactions", "--function", "exp(a*x)+b", "--inputs", "x", "--params", "a,b", "--at", "a=1e300,b=1e300",
     "--order", "1", "--json"],
    ["interactions", "--function", "a*x+b", "--inputs", "x", "--params", "a,b", "--order", "1", "--json"],
    ["identifiability", "--gate", "softmax-linear", "--expert", "linear", "--fisher", "--json"],
    ["curvature", "--map", "[u, v, 0]", "--coords", "u,v", "--at", "u=0.1,v=0.2", "--json"],
    ["curvature", "--map", "[u, v, u**2+v**2]", "--coords", "u,v", "--at", "u=0,v=0", "--json"],
])
def test_json_outputs_are_strict(argv, capsys):
    code = main([*argv, "--time-limit", "30"])
    captured = capsys.readouterr()
    check_outcome(code, captured.out, captured.err)
    if code in (0, 1):
        _strict(captured.out)
