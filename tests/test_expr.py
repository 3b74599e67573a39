"""Safe parser: hostile strings are rejected with one-line errors and are never evaluated."""

import sympy as sp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmoe_theory.errors import ExpressionError
from hmoe_theory.expr import gelu, parse_assignments, parse_expression, parse_names, parse_vector, sigmoid
from hmoe_theory.symbols import real_symbol

HOSTILE = [
    "__import__('os').system('touch /tmp/hmoe_pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "exp.__globals__",
    "x.real",
    "lambda: 1",
    "a[0]",
    "[x for x in y]",
    "{'a': 1}",
    "open('/etc/passwd')",
    "eval('1')",
    "exec('1')",
    "getattr(x, 'y')",
    "exp(x=1)",
    "exp(*x)",
    "'text'",
    "b'bytes'",
    "1j",
    "True",
    "None",
    "x if y else z",
    "x < y",
    "x and y",
    "not x",
    "x @ y",
    "x // y",
    "x % y",
    "x ^ y",
    "(x := 1)",
    "f'{x}'",
    "9**9**9",
    "((2**64)**64)**64",
    "__x",
    "_x",
    "exp",
    "1/0",
    "exp(x, y)",
    "import os",
    "x; y",
    "(" * 500 + "x" + ")" * 500,
    "-" * 10_000 + "x",
    "",
    "   ",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_are_rejected_with_one_line(text, tmp_path):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    message = str(info.value)
    assert message and "\n" not in message


def test_rejected_call_has_no_side_effect(tmp_path):
    target = tmp_path / "pwned"
    with pytest.raises(ExpressionError):
        parse_expression(f"__import__('os').system('touch {target}')")
    assert not target.exists()


def test_builds_exact_sympy_expressions():
    x, beta, a, alpha = (real_symbol(n) for n in ("x", "beta", "a", "alpha"))
    assert parse_expression("exp(beta*x)*(a*x + alpha)") == sp.exp(beta * x) * (a * x + alpha)
    assert parse_expression("0.3*x") == sp.Rational(3, 10) * x
    assert parse_expression("sigmoid(x)") == sigmoid(x)
    assert parse_expression("gelu(x)") == gelu(x)
    assert parse_expression("pi") == sp.pi
    assert parse_expression("x**-2") == x**-2


def test_declared_names_are_enforced():
    with pytest.raises(ExpressionError, match="unknown name 'z'"):
        parse_expression("x + z", names=["x", "y"])
    nu = sp.Symbol("nu", positive=True)
    assert parse_expression("2*nu", names=[nu]) == 2 * nu


def test_vectors_names_and_assignments():
    u, v = real_symbol("u"), real_symbol("v")
    assert parse_vector("[u, v, u + v, 0]") == [u, v, u + v, 0]
    with pytest.raises(ExpressionError, match="expected a list"):
        parse_vector("u + v")
    assert parse_names("x, y,z") == ["x", "y", "z"]
    with pytest.raises(ExpressionError, match="duplicate"):
        parse_names("x,x")
    assert parse_assignments("u=0.1, v=pi/4") == {"u": sp.Rational(1, 10), "v": sp.pi / 4}
    for bad in ("u", "u=v", "u=1,u=2", "1u=3", "u=__import__('os')"):
        with pytest.raises(ExpressionError):
            parse_assignments(bad)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=80))
def test_fuzz_arbitrary_ascii_never_escapes(text):
    """Any text either parses to a sympy object or raises ExpressionError -- nothing else."""
    try:
        result = parse_expression(text)
    except ExpressionError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, sp.Basic)


TOKENS = ["x", "y", "1", "2.5", "+", "-", "*", "/", "**", "(", ")", "exp(", "sigmoid(", ",", ".", "[", "]",
          "__class__", "lambda", ":", "'", "=", "import", " "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25))
def test_fuzz_token_soup_never_escapes(tokens):
    text = "".join(tokens)
    try:
        result = parse_expression(text)
    except ExpressionError:
        return
    assert isinstance(result, sp.Basic)
    for symbol in result.free_symbols:
        assert symbol.is_real and symbol.name[0].isalpha() and "__" not in symbol.name


# ---- size bounds (hmoe_theory.bounds): estimated before anything large is built ----


@pytest.mark.parametrize(
    ("text", "variable"),
    [
        ("((a*x+b)**64)**64", "HMOE_MAX_DEGREE"),  # degree 8192
        ("x**200*y**100", "HMOE_MAX_EXPONENT"),
        ("(x**64)**5", "HMOE_MAX_DEGREE"),  # 320 > 256
        ("(2**64)**64", "HMOE_MAX_NUMBER_DIGITS"),  # a power of a number
        ("*".join(["99999999999"] * 40), "HMOE_MAX_NUMBER_DIGITS"),  # a product: 440 digits
        ("0x" + "f" * 400, "HMOE_MAX_NUMBER_DIGITS"),  # a hex literal (482 digits)
        ("x + " + "7" * 400, "HMOE_MAX_NUMBER_DIGITS"),  # a decimal literal, refused before ast.parse
        ("(x + 99999999999**25)**4", "HMOE_MAX_NUMBER_DIGITS"),  # coefficients after expansion (1100 digits)
        ("exp(exp(exp(exp(exp(x)))))", "HMOE_MAX_CALLS"),
        ("x" + "+x" * 12000, "HMOE_MAX_LENGTH"),
        ("-(" * 70 + "x" + ")" * 70, "HMOE_MAX_DEPTH"),
    ],
)
def test_size_bounds_name_the_bound_and_how_to_raise_it(text, variable):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    message = str(info.value)
    assert variable in message and "\n" not in message


def test_bounds_can_be_raised_by_environment(monkeypatch):
    with pytest.raises(ExpressionError, match="HMOE_MAX_DEGREE"):
        parse_expression("((a*x+b)**64)**3")  # degree 384
    monkeypatch.setenv("HMOE_MAX_DEGREE", "400")
    assert parse_expression("((a*x+b)**64)**3") == (real_symbol("a") * real_symbol("x") + real_symbol("b")) ** 192


@pytest.mark.parametrize(
    "text",
    [
        "(a*x+b)**64",  # degree 128
        "exp(exp(exp(exp(x))))",  # 4 nested calls
        "+".join(f"x{i}" for i in range(2000)),  # a long flat sum is one level, not 2000
        "*".join(f"x{i}" for i in range(200)),
        "*".join(["99"] * 100) + "*x",  # 200 digits
        "normal_pdf(y, m, s**2)",
        "1e300*x",
        "1e307 + 1e307",
    ],
)
def test_inputs_within_the_bounds_parse(text):
    assert isinstance(parse_expression(text), sp.Basic)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0**-1", "0 to a negative power"),
        ("a*x+log(0)", "undefined value"),
        ("1/(x-x)", "division by zero"),
        ("0/0 + x", "division by zero"),
        ("sqrt(-1)*x", "complex value"),
        ("log(-1)+x", "complex value"),
        ("x**sqrt(-1)", "exponents must be real"),
    ],
)
def test_undefined_or_complex_constants_are_refused(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse_expression(text)
