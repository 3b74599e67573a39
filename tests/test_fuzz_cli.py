"""Fuzz suite for the ``hmoe`` command: hostile inputs end in a result or one line, never a traceback or a hang.

Classes of input (:data:`CORPUS`): code injection, resource exhaustion, numeric edge cases, malformed
syntax and flag abuse, as parametrised cases; then hypothesis strategies for expressions and flag values.
Every case runs through :func:`hmoe_theory.cli.main` in-process (the symbolic commands fork a child with
a hard deadline, so a runaway input ends with a time-limit line); a few run as real subprocesses. Each
case checks: exit status 0 or 2 (1 only where a command reports a failed check), on status 2 exactly one
stderr line ``hmoe: error: ...``, no ``Traceback`` anywhere, and no file created in the working directory
(or at the injection canary path). Where a bound or limit is the expected answer, the line must name it.
"""

from __future__ import annotations

import os
import string
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hmoe_theory.geometry.metric  # noqa: F401 - imported once here, not again in every forked child
import hmoe_theory.interactions  # noqa: F401
from hmoe_theory.cli import main

ROOT = Path(__file__).resolve().parents[1]
CANARY = "/tmp/hmoe-fuzz-canary"
LIMIT = ["--time-limit", "4"]  # every symbolic case: a runaway input stops within 4 s + grace


def fn(expr: str, inputs: str = "x", params: str = "a,b", *extra: str) -> list[str]:
    """``hmoe interactions --function expr`` (order 1, numeric only: the cheapest real run)."""
    return ["interactions", "--function", expr, "--inputs", inputs, "--params", params, "--order", "1",
            "--no-certify", *LIMIT, *extra]


def curv(map_text: str, *extra: str) -> list[str]:
    return ["curvature", "--map", map_text, "--coords", "u,v", "--at", "u=0.1,v=0.2", *LIMIT, *extra]


def ident(*extra: str) -> list[str]:
    return ["identifiability", "--gate", "softmax-linear", "--expert", "linear", *LIMIT, *extra]


INJECTION = [
    "__import__('os').system('touch /tmp/hmoe-fuzz-canary')",
    "open('/tmp/hmoe-fuzz-canary', 'w')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__",
    "eval('1+1')*a*x+b",
    "exec('import os')",
    "globals()",
    "lambda: 1",
    "[c for c in 'abc']",
    "'a'*a*x",
    "f'{a}'",
    "a if x else b",
    "a*x == b",
    "a*x and b",
    "*a",
    "x[0]*a+b",
    "a*x; import os",
    "import os",
    "a*x\nimport os",
    "Symbol('x')*a+b",
    "sympify('x')*a+b",
    "__builtins__",
    "a.real*x+b",
    "exp(a*x, evaluate=False)+b",
    "(yield)",
    "await a",
    "a @ x + b",
    "a*x // b",
    "a*x % b",
    "a*x ^ b",
    "a*x | b",
    "~a*x+b",
    "not a",
    "a*x if 1 else 0",
    "{a: x}",
    "{a, x}",
    "...",
]

EXHAUSTION = [
    ("9**9**9*a*x+b", "exponent"),
    ("(2**64)**64*a*x+b", "HMOE_MAX_NUMBER_DIGITS"),
    ("((a*x+b)**64)**64", "HMOE_MAX_DEGREE"),
    ("exp(exp(exp(exp(exp(exp(a*x))))))+b", "HMOE_MAX_CALLS"),
    ("a*x*" + "*".join(["99999999999"] * 100) + "+b", "HMOE_MAX_NUMBER_DIGITS"),
    ("a*x*0x" + "f" * 5000 + "+b", "HMOE_MAX_NUMBER_DIGITS"),
    ("a*x+b+" + "1" * 5000, "HMOE_MAX_NUMBER_DIGITS"),
    ("b+" + "-(" * 100 + "a*x" + ")" * 100, "HMOE_MAX_DEPTH"),
    ("b+" + "-(" * 300 + "a*x" + ")" * 300, ""),
    ("+".join(f"a*x**{i % 5}" for i in range(3000)) + "+b", ""),
    ("a*x+b" + "+x" * 10000, "HMOE_MAX_LENGTH"),
    ("x**10**10*a+b", "exponent"),
    ("(a*x+b)**(2**70)", "exponent"),
    ("1e308*1e308*a*x+b", "HMOE_MAX_NUMBER_DIGITS"),
    ("sin(sin(sin(sin(sin(a*x)))))+b", "HMOE_MAX_CALLS"),
]

SLOW = [  # accepted by every bound, too slow for the limit: must stop with the time-limit line
    ["interactions", "--function", "exp(exp(exp(exp(a*x+b))))*exp(exp(exp(b*x)))", "--inputs", "x",
     "--params", "a,b", "--order", "4", "--time-limit", "1"],
]

NUMERIC = [
    fn("0**-1*x+a*b"),
    fn("a*x+log(0)+b"),
    fn("1/0*a*x+b"),
    fn("a*x/(x-x)+b"),
    fn("0/0+a*x+b"),
    fn("sqrt(-1)*a*x+b"),
    fn("log(-1)+a*x+b"),
    fn("1e309*a*x+b"),
    fn("1e-400*a*x+b"),
    fn("nan*a*x+b"),
    fn("inf*a*x+b"),
    fn("a*x+b", "x", "a,b", "--at", "a=nan,b=1"),
    fn("a*x+b", "x", "a,b", "--at", "a=1/0,b=1"),
    fn("a*x+b", "x", "a,b", "--at", "a=1e400,b=1"),
    fn("a*x+b", "x", "a,b", "--at", "a=sqrt(-1),b=1"),
    fn("log(a*x)+b", "x", "a,b", "--at", "a=-1,b=1"),
    fn("sqrt(a*x)+b", "x", "a,b"),
    fn("a/x+b"),
    fn("a*x+b", "x", "a,b", "--at", "a=0,b=0"),
    fn("a*x+b", "x", "a,b", "--time-limit", "nan"),
    fn("a*x+b", "x", "a,b", "--time-limit", "inf"),
    fn("a*x+b", "x", "a,b", "--time-limit", "0"),
    fn("a*x+b", "x", "a,b", "--time-limit", "-1"),
    fn("a*x+b", "x", "a,b", "--time-limit", "1e20"),
    fn("a*x+b", "x", "a,b", "--seed", "-1"),
    fn("a*x+b", "x", "a,b", "--seed", str(2**70)),
    fn("a*x+b", "x", "a,b", "--digits", "100000"),
    fn("a*x+b", "x", "a,b", "--digits", "-5"),
    fn("relu(a*x)+b", "x", "a,b", "--at", "a=0,b=1"),
    fn("abs(a)*x+b", "x", "a,b", "--at", "a=0,b=1"),
    curv("[u, v, u*v]", "--at", "u=nan,v=0"),
    curv("[u, v, 1/(u-u)]"),
    curv("[u, v, log(0)]"),
    curv("[u, v, u*v]", "--sigma", "[0, 0, 0]"),
    curv("[u, v, u*v]", "--sigma", "[-1, 1, 1]"),
    curv("[u, v, u*v]", "--digits", "100000"),
    curv("[u, v, (2**64)**64*u]"),
    ident("--fisher", "--k", "2", "--at", "nu_1=-1"),
    ident("--fisher", "--k", "2", "--at", "nu_1=nan"),
    ident("--fisher", "--k", "2", "--at", "beta_1_1=1e400"),
]

MALFORMED = [
    fn("("), fn(")"), fn("a**"), fn("a b x"), fn(","), fn("[a*x, b"), fn(""), fn("   "), fn("\t\n"),
    fn("α*x+b"), fn("a*x²+b"), fn("a*x\x00+b"), fn("a*x+b,"), fn("a**x**"), fn("exp()"), fn("exp(a, x)+b"),
    fn("normal_pdf(x)+a*b"), fn("foo(a*x)+b"), fn("exp*a*x+b"), fn("a*x+b", "", "a,b"),
    fn("a*x+b", "x", ""), fn("a*x+b", "x", "a,a"), fn("a*x+b", "x,x", "a,b"), fn("a*x+b", "x", "a,b,c"),
    fn("a*x+b", "x", "a;b"), fn("a*x+b", "x", "__class__,b"), fn("a*x+b", "x", "a,b", "--at", "a"),
    fn("a*x+b", "x", "a,b", "--at", "a=1=2"), fn("a*x+b", "x", "a,b", "--at", "c=1"), fn("a*x+b", "x", "a,b", "--at", "=1"),
    fn("a*x+b", "x", "a,b", "--at", "a=1,a=2"), fn("a*x+b", "x", "a,b", "--at", "a=x"), fn("a*x+b", "x", "pi,b"),
    fn("b", "x", "a,b"), fn("a*b", "x", "a,b"),
    curv("[]"), curv("[u, v, u*v]", "--plane", "1,0"), curv("[u, v, u*v]", "--plane", "1,0;0"),
    curv("[u, v, u*v]", "--sigma", "[1, 2]"), curv("[[u], [v]]"), curv("[u, v, w]"),
    ["curvature", "--map", "[u, v]", "--coords", "u,v", "--at", "u=1,v=2,w=3", *LIMIT],
    ["curvature", "--map", "[u, v]", "--coords", "u,u", "--at", "u=1", *LIMIT],
]

FLAGS = [
    [], ["--no-such-flag"], fn("a*x+b", "x", "a,,b"), curv("u, v"), ["interactions"], ["interactions", "--gate", "softmax-linear"],
    ["interactions", "--gate", "no-such-gate", "--expert", "linear", *LIMIT],
    ["interactions", "--gate", "softmax-linear", "--expert", "linear", "--function", "a*x", *LIMIT],
    ["interactions", "--gate", "softmax-linear", "--expert", "linear", "--mode", "bogus"],
    ["interactions", "--gate", "softmax-linear", "--expert", "linear", "--order", "0", *LIMIT],
    ["interactions", "--gate", "softmax-linear", "--expert", "linear", "--order", "99", *LIMIT],
    ["interactions", "--gate", "softmax-linear", "--expert", "linear", "--order", "1.5"],
    ["interactions", "--gate", "softmax-linear", "--expert", "linear", "--d", "0", *LIMIT],
    ["interactions", "--gate", "softmax-linear", "--expert", "linear", "--d", "50", *LIMIT],
    ["interactions", "--gate", "softmax-linear", "--expert", "linear", "--d", "-1", *LIMIT],
    ["interactions", "--gate", "softmax-linear", "--expert", "linear", "--digits", "10", *LIMIT],
    ["interactions", "--gate", "softmax-linear", "--expert", "linear", "--time-limit", "soon"],
    ["identifiability"], ["identifiability", "--gate", "softmax-linear", *LIMIT],
    ident("--preset", "bogus"), ident("--preset", "strong", "--k", "100"), ident("--preset", "strong", "--k", "0"),
    ident("--preset", "strong", "--k", "-3"), ident("--fisher", "--k", "50"), ident("--fisher", "--k", "1"),
    ident("--fisher", "--method", "bogus"), ident("--fisher", "--d", "3", "--k", "2"),
    ident("--preset", "strong", "--d", "50"), ident("--preset", "strong", "--order", "9"),
    ["identifiability", "--table", "--gate", "no-such-gate", *LIMIT],
    ident("--preset", "strong", "--at", "a_1=1"),
    ["curvature"], ["curvature", "--map", "[u]"], curv("[u, v, u*v]", "--digits", "-1"),
    ["rates", "--reps", "1e9", "--out", "x"], ["rates", "--reps", "abc"], ["rates"],
    ["check", "--only", "no-such-claim-xyz"], ["check", "--jobs", "x"],
]

CORPUS = (
    [pytest.param(fn(text), "", id=f"injection-{i}") for i, text in enumerate(INJECTION)]
    + [pytest.param(fn(text), bound, id=f"exhaustion-{i}") for i, (text, bound) in enumerate(EXHAUSTION)]
    + [
        pytest.param(ident("--preset", "strong", "--k", "100"), "HMOE_MAX_K", id="exhaustion-k100"),
        pytest.param(ident("--fisher", "--k", "50"), "HMOE_MAX_K", id="exhaustion-fisher-k50"),
        pytest.param(fn("a*x+b", "x", "a,b", "--digits", "100000"), "HMOE_MAX_DIGITS", id="exhaustion-digits"),
        pytest.param(["interactions", "--gate", "quadratic-polynomial", "--expert", "linear", "--d", "50", *LIMIT],
                     "HMOE_MAX_D", id="exhaustion-d50"),
    ]
    + [pytest.param(argv, "time limit of 1 s", id=f"slow-{i}") for i, argv in enumerate(SLOW)]
    + [pytest.param(argv, "", id=f"numeric-{i}") for i, argv in enumerate(NUMERIC)]
    + [pytest.param(argv, "", id=f"malformed-{i}") for i, argv in enumerate(MALFORMED)]
    + [pytest.param(argv, "", id=f"flags-{i}") for i, argv in enumerate(FLAGS)]
)
EXPECTED_ERRORS = {  # cases that must be refused (exit 2), by id prefix
    "injection", "exhaustion", "slow", "malformed",
}


def check_outcome(code: int, out: str, err: str, expect: str = "") -> None:
    """The contract: a result (0), a failed check (1) or one error line (2); never a traceback."""
    assert "Traceback" not in out + err
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("hmoe: error: "), err
    if expect:
        assert code == 2 and expect in err, err


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Run in an empty directory; afterwards it must still be empty and the canary absent."""
    monkeypatch.chdir(tmp_path)
    if os.path.exists(CANARY):
        os.remove(CANARY)
    yield tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "a hostile input created a file"
    assert not os.path.exists(CANARY), "an injected expression was executed"


@pytest.mark.parametrize(("argv", "expect"), CORPUS)
def test_hostile_input_ends_in_one_line_or_a_result(argv, expect, sandbox, capsys, request):
    code = main(argv)
    captured = capsys.readouterr()
    check_outcome(code, captured.out, captured.err, expect)
    if request.node.callspec.id.split("-")[0] in EXPECTED_ERRORS:
        assert code == 2, captured.out


@pytest.mark.parametrize(
    ("argv", "expect"),
    [
        (fn("a*x+b", "x", "a,b", "--time-limit", "nan"), "--time-limit must be a finite positive number"),
        (fn("((a*x+b)**64)**64", "x", "a,b", "--time-limit", "3"), "HMOE_MAX_DEGREE"),
        (SLOW[0], "exceeded its time limit of 1 s; raise it with --time-limit"),
    ],
)
def test_subprocess_runs_end_in_one_line(argv, expect, tmp_path):
    done = subprocess.run([sys.executable, "-m", "hmoe_theory", *argv], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    check_outcome(done.returncode, done.stdout, done.stderr, expect)
    assert list(tmp_path.iterdir()) == [] and not os.path.exists(CANARY)


def test_partial_point_says_which_values_were_drawn(capsys):
    code = main(fn("exp(b*x)*(a*x+c)", "x", "a,b,c", "--at", "a=1"))
    out = capsys.readouterr().out
    assert code == 0
    assert "generic random values for b, c; reproduce with --at a=1,b=" in out


def test_complex_valued_family_is_refused(capsys):
    code = main(fn("log(a*x)+b", "x", "a,b", "--at", "a=-1,b=1"))
    err = capsys.readouterr().err
    assert code == 2 and "complex-valued or undefined" in err and "a=-1,b=1" in err


# ---- hypothesis: random expressions and flag values ------------------------------------------------

ATOMS = st.sampled_from(["a", "b", "x", "pi", "E", "0", "1", "2", "0.5", "1e300", "1e-300", "64", "99999999999",
                         "0x" + "f" * 40, "-1", "zz", "__x", "nan"])
FUNCS = st.sampled_from(["exp", "log", "sqrt", "abs", "sin", "tanh", "erf", "sigmoid", "relu", "gelu", "softplus",
                         "eval", "open", "__import__"])
OPS = st.sampled_from(["+", "-", "*", "/", "**", "//", "%", "@", "==", " and ", ","])


def _combine(children):
    return st.one_of(
        st.tuples(children, OPS, children).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
        st.tuples(FUNCS, children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, st.integers(-80, 80)).map(lambda t: f"({t[0]})**{t[1]}"),
    )


EXPRESSIONS = st.recursive(ATOMS, _combine, max_leaves=12)
GARBAGE = st.text(alphabet=string.printable + "αβ²\x00", max_size=40)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=st.one_of(EXPRESSIONS, GARBAGE))
def test_random_expressions_through_the_cli(text, capsys):
    code = main(fn(f"a*x+b+({text})" if text.strip() else text))
    captured = capsys.readouterr()
    check_outcome(code, captured.out, captured.err)


FLAG_VALUES = st.one_of(
    st.integers(-5, 200).map(str), st.sampled_from(["nan", "inf", "-inf", "1e9", "1.5", "", "x", "0x10", "2**10"]),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    flag=st.sampled_from(["--k", "--d", "--order", "--digits", "--seed", "--time-limit"]),
    value=FLAG_VALUES,
    command=st.sampled_from(["interactions", "identifiability"]),
)
def test_random_flag_values(flag, value, command, capsys):
    base = (["interactions", "--gate", "softmax-linear", "--expert", "linear", "--order", "1", "--no-certify"]
            if command == "interactions" else ident("--preset", "independence", "--order", "1"))
    if flag == "--k" and command == "interactions":
        flag = "--seed"
    argv = [*base, "--time-limit", "4", flag, value] if flag != "--time-limit" else [*base, flag, value]
    code = main(argv)
    captured = capsys.readouterr()
    check_outcome(code, captured.out, captured.err)
