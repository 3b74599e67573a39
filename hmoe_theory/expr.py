"""Safe parsing of user expressions: Python ``ast`` whitelist -> sympy. Nothing is ever evaluated.

Grammar accepted (everything else is rejected with a one-line :class:`ExpressionError`):

* numbers (int or decimal; decimals become exact rationals, ``0.3 -> 3/10``), the constants
  ``pi`` and ``E``;
* names (a letter, then letters, digits and single underscores; optionally restricted to a declared set);
* ``+ - * / **`` and unary ``+ -``; numeric exponents are bounded (``|e| <= 64``);
* calls of whitelisted functions by plain name with positional arguments: ``exp log sqrt abs sin
  cos tanh erf sigmoid relu gelu silu softplus normal_pdf``;
* at top level only, a list or tuple of such expressions (:func:`parse_vector`).

Attribute access, subscripts, lambdas, comprehensions, keywords, strings, comparisons, boolean
operators, starred arguments and dunder names are all refused before any sympy object is built.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable

import sympy as sp

from .errors import ExpressionError
from .symbols import positive_symbol, real_symbol

MAX_LENGTH = 20_000
MAX_DEPTH = 60
MAX_NUMERIC_EXPONENT = 64
MAX_NUMBER_DIGITS = 10_000


def sigmoid(z: sp.Expr) -> sp.Expr:
    """Logistic function 1 / (1 + exp(-z))."""
    return 1 / (1 + sp.exp(-z))


def gelu(z: sp.Expr) -> sp.Expr:
    """Exact GELU z * Phi(z) = z (1 + erf(z / sqrt 2)) / 2."""
    return z * (1 + sp.erf(z / sp.sqrt(2))) / 2


def silu(z: sp.Expr) -> sp.Expr:
    """SiLU / swish z * sigmoid(z)."""
    return z * sigmoid(z)


def relu(z: sp.Expr) -> sp.Expr:
    """max(0, z); its derivative is Heaviside(z) (undefined at 0)."""
    return sp.Max(0, z)


def softplus(z: sp.Expr) -> sp.Expr:
    """log(1 + exp(z))."""
    return sp.log(1 + sp.exp(z))


def normal_pdf(y: sp.Expr, mean: sp.Expr, variance: sp.Expr) -> sp.Expr:
    """Gaussian density N(y | mean, variance) = exp(-(y-mean)^2 / (2 variance)) / sqrt(2 pi variance)."""
    return sp.exp(-((y - mean) ** 2) / (2 * variance)) / sp.sqrt(2 * sp.pi * variance)


# name -> (sympy builder, number of positional arguments)
FUNCTIONS: dict[str, tuple[Callable[..., sp.Expr], int]] = {
    "exp": (sp.exp, 1),
    "log": (sp.log, 1),
    "sqrt": (sp.sqrt, 1),
    "abs": (sp.Abs, 1),
    "sin": (sp.sin, 1),
    "cos": (sp.cos, 1),
    "tanh": (sp.tanh, 1),
    "erf": (sp.erf, 1),
    "sigmoid": (sigmoid, 1),
    "relu": (relu, 1),
    "gelu": (gelu, 1),
    "silu": (silu, 1),
    "softplus": (softplus, 1),
    "normal_pdf": (normal_pdf, 3),
}
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}
_IDENTIFIER = re.compile(r"^(?!.*__)[A-Za-z][A-Za-z0-9_]*$")  # no double underscore anywhere
_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def _describe(node: ast.AST) -> str:
    return {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscript",
        ast.Lambda: "lambda",
        ast.Constant: "this constant",
        ast.Compare: "comparison",
        ast.BoolOp: "boolean operator",
        ast.IfExp: "conditional expression",
        ast.JoinedStr: "f-strings",
        ast.Starred: "starred argument",
        ast.NamedExpr: "assignment expression",
    }.get(type(node), type(node).__name__)


class _Builder:
    def __init__(self, names: dict[str, sp.Symbol] | None, text: str):
        self.names = names
        self.text = text
        self.created: dict[str, sp.Symbol] = {}

    def fail(self, message: str) -> ExpressionError:
        shown = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return ExpressionError(f"cannot use expression {shown!r}: {message}")

    def build(self, node: ast.AST, depth: int = 0) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left = self.build(node.left, depth + 1)
            right = self.build(node.right, depth + 1)
            if isinstance(node.op, ast.Pow):
                self.check_power(left, right)
            if isinstance(node.op, ast.Div) and right == 0:
                raise self.fail("division by zero")
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.BinOp):
            raise self.fail(f"operator {type(node.op).__name__} is not allowed (use + - * / **)")
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise self.fail(f"{_describe(node)} is not allowed")

    def check_power(self, base: sp.Expr, exponent: sp.Expr) -> None:
        if not exponent.is_number:
            return
        if abs(exponent) > MAX_NUMERIC_EXPONENT:
            raise self.fail(f"numeric exponents are limited to |e| <= {MAX_NUMERIC_EXPONENT}")
        if base.is_number and base != 0:
            digits = abs(float(sp.log(abs(base), 10).evalf(15))) * float(abs(exponent))
            if digits > MAX_NUMBER_DIGITS:
                raise self.fail(f"numbers are limited to {MAX_NUMBER_DIGITS} digits")

    def number(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"only real numbers are allowed, not {type(value).__name__}")
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise self.fail("numbers must be finite")
            return sp.Rational(repr(value))
        return sp.Integer(value)

    def name(self, identifier: str) -> sp.Expr:
        if not _IDENTIFIER.match(identifier):
            raise self.fail(f"name {identifier!r} is not allowed (a letter, then letters, digits, single _)")
        if identifier in FUNCTIONS:
            raise self.fail(f"{identifier!r} is a function; call it, e.g. {identifier}(x)")
        if self.names is not None:
            if identifier in self.names:
                return self.names[identifier]
            if identifier in CONSTANTS:
                return CONSTANTS[identifier]
            known = ", ".join(sorted(self.names)) or "none"
            raise self.fail(f"unknown name {identifier!r} (declared: {known})")
        if identifier in CONSTANTS:
            return CONSTANTS[identifier]
        return self.created.setdefault(identifier, real_symbol(identifier))

    def call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            raise self.fail("only plain function names may be called")
        name = node.func.id
        if name not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise self.fail(f"function {name!r} is not allowed (allowed: {allowed})")
        if node.keywords:
            raise self.fail("keyword arguments are not allowed")
        builder, arity = FUNCTIONS[name]
        if len(node.args) != arity:
            raise self.fail(f"{name} takes {arity} argument(s), got {len(node.args)}")
        return builder(*(self.build(arg, depth + 1) for arg in node.args))


def _parse_tree(text: str) -> ast.AST:
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression as text, got {type(text).__name__}")
    if not text.strip():
        raise ExpressionError("empty expression")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        shown = text if len(text) <= 60 else text[:57] + "..."
        reason = exc.msg if isinstance(exc, SyntaxError) else "unparseable input"
        raise ExpressionError(f"cannot parse expression {shown!r}: {reason}") from None


def _symbol_table(names: Iterable[str | sp.Symbol] | None) -> dict[str, sp.Symbol] | None:
    if names is None:
        return None
    table: dict[str, sp.Symbol] = {}
    for item in names:
        symbol = item if isinstance(item, sp.Symbol) else real_symbol(parse_name(item))
        table[symbol.name] = symbol
    return table


def parse_expression(text: str, names: Iterable[str | sp.Symbol] | None = None) -> sp.Expr:
    """Parse ``text`` into a sympy expression without evaluating it as Python.

    ``names``: if given, the only names allowed (strings become real symbols; pass sympy symbols to
    keep other assumptions); if ``None``, any identifier becomes a real symbol.
    """
    tree = _parse_tree(text)
    builder = _Builder(_symbol_table(names), text)
    try:
        return sp.sympify(builder.build(tree))  # input is already a sympy object, never a string
    except RecursionError:
        raise builder.fail("too deeply nested") from None


def parse_vector(text: str, names: Iterable[str | sp.Symbol] | None = None) -> list[sp.Expr]:
    """Parse ``"[e1, e2, ...]"`` (list or tuple, not nested) into sympy expressions."""
    tree = _parse_tree(text)
    builder = _Builder(_symbol_table(names), text)
    if not isinstance(tree, (ast.List, ast.Tuple)):
        raise builder.fail("expected a list such as [u, v, u*v]")
    if not tree.elts:
        raise builder.fail("the list is empty")
    return [sp.sympify(builder.build(element, 1)) for element in tree.elts]


def parse_name(text: str) -> str:
    """Validate one identifier (letters, digits, underscore; starting with a letter)."""
    name = text.strip()
    if not _IDENTIFIER.match(name):
        raise ExpressionError(f"invalid name {text!r} (use letters, digits and _, starting with a letter)")
    if name in FUNCTIONS or name in CONSTANTS:
        raise ExpressionError(f"name {name!r} is reserved (function or constant)")
    return name


def parse_names(text: str) -> list[str]:
    """``"x,y, z"`` -> ``["x", "y", "z"]``; duplicates are an error."""
    names = [parse_name(part) for part in text.split(",") if part.strip()]
    if not names:
        raise ExpressionError("expected at least one name")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ExpressionError(f"duplicate name(s): {', '.join(duplicates)}")
    return names


def parse_assignments(text: str) -> dict[str, sp.Expr]:
    """``"u=0.1, v=pi/4"`` -> ``{"u": 1/10, "v": pi/4}``; values must be constant expressions."""
    result: dict[str, sp.Expr] = {}
    for part in (p for p in text.split(",") if p.strip()):
        if "=" not in part:
            raise ExpressionError(f"expected name=value, got {part.strip()!r}")
        name, value_text = part.split("=", 1)
        name = parse_name(name)
        if name in result:
            raise ExpressionError(f"{name!r} is assigned twice")
        value = parse_expression(value_text, names=[])
        if not value.is_real:
            raise ExpressionError(f"value of {name!r} is not a real number: {value_text.strip()!r}")
        result[name] = value
    if not result:
        raise ExpressionError("expected at least one name=value")
    return result


def symbol_for(name: str, positive: bool = False) -> sp.Symbol:
    """The project symbol for a validated ``name`` (see :mod:`hmoe_theory.symbols`)."""
    return positive_symbol(parse_name(name)) if positive else real_symbol(parse_name(name))
