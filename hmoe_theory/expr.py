"""Safe parsing of user expressions: Python ``ast`` whitelist -> sympy. Nothing is ever evaluated.

Grammar accepted (everything else is rejected with a one-line :class:`ExpressionError`):

* numbers (int or decimal; decimals become exact rationals, ``0.3 -> 3/10``), the constants
  ``pi`` and ``E``;
* names (a letter, then letters, digits and single underscores; optionally restricted to a declared set);
* ``+ - * / **`` and unary ``+ -``;
* calls of whitelisted functions by plain name with positional arguments: ``exp log sqrt abs sin
  cos tanh erf sigmoid relu gelu silu softplus normal_pdf``;
* at top level only, a list or tuple of such expressions (:func:`parse_vector`).

Attribute access, subscripts, lambdas, comprehensions, keywords, strings, comparisons, boolean
operators, starred arguments and dunder names are all refused before any sympy object is built.

Size bounds (:mod:`hmoe_theory.bounds`, each raisable with ``HMOE_MAX_<NAME>``) are checked while
building, on upper estimates computed bottom-up, so no huge object is ever created:

* ``length`` characters, ``depth`` nesting levels, ``calls`` nested function calls;
* ``exponent``: ``|e|`` of a numeric exponent;
* ``number_digits``: decimal digits (log10 of the magnitude) of any number, where a product adds the
  digits of its factors, a power multiplies them by ``|e|`` and a sum of n terms adds log10(n) (an upper
  bound on the coefficients after expansion; this covers integers built by products and hex literals,
  not only ``**``; the default 308 keeps every accepted number within float range);
* ``degree``: total degree, where a product adds degrees and ``p**e`` multiplies by ``|e|``.

Constants built by calls are bounded the same way: for a call with a constant argument whose value
involves ``exp(z)`` (``exp``, ``sigmoid``, ``silu``, ``softplus``, ``normal_pdf``), ``|z| * log10(e)``
digits count under ``number_digits`` (``z`` is evaluated to 15 digits first; it is itself a bounded
constant, so this is cheap). A constant tower such as ``sin(exp(exp(exp(10))))`` is refused at its inner
``exp(exp(10))`` (9566 digits) before anything huge is built or evaluated, whatever the function around
it, so the outcome never depends on sympy's evaluation order (or on ``PYTHONHASHSEED``).

An expression that is undefined or complex as written (``0**-1``, ``log(0)``, ``1/(x-x)``, ``sqrt(-1)``)
is refused.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import sympy as sp

from .bounds import BOUNDS, limit
from .errors import ExpressionError
from .symbols import positive_symbol, real_symbol

_LOG10_2 = math.log10(2)
_UNDEFINED = (sp.zoo, sp.nan, sp.oo, -sp.oo)


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
# the argument z of the exponential exp(z) inside each function that has one (for the constant-size bound)
_EXPONENT_OF: dict[str, Callable[..., sp.Expr]] = {
    "exp": lambda z: z,
    "sigmoid": lambda z: -z,
    "silu": lambda z: -z,
    "softplus": lambda z: z,
    "normal_pdf": lambda y, mean, variance: -((y - mean) ** 2) / (2 * variance),
}
_GROUP = {ast.Add: "sum", ast.Sub: "sum", ast.Mult: "product", ast.Div: "product"}
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


@dataclass(frozen=True)
class _Built:
    """A sympy expression and upper estimates of its size: total degree, digits of its numbers, call nesting."""

    expr: sp.Expr
    degree: float = 0
    digits: float = 0
    calls: int = 0


def _number_digits(value: sp.Rational) -> float:
    """Upper bound on log10 of numerator and denominator (from bit lengths: no string conversion)."""
    return max(int(value.p).bit_length(), int(value.q).bit_length()) * _LOG10_2


class _Builder:
    def __init__(self, names: dict[str, sp.Symbol] | None, text: str):
        self.names = names
        self.text = text
        self.created: dict[str, sp.Symbol] = {}
        self.limits = {name: limit(name) for name in ("depth", "calls", "exponent", "number_digits", "degree")}

    def fail(self, message: str) -> ExpressionError:
        shown = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return ExpressionError(f"cannot use expression {shown!r}: {message}")

    def exceeds(self, name: str, value: float) -> ExpressionError:
        bound = BOUNDS[name]
        return self.fail(
            f"{bound.what} would reach {value:.4g}, above the bound {self.limits[name]} "
            f"(raise it with the environment variable {bound.variable}=N)"
        )

    def checked(self, built: _Built) -> _Built:
        if built.degree > self.limits["degree"]:
            raise self.exceeds("degree", built.degree)
        if built.digits > self.limits["number_digits"]:
            raise self.exceeds("number_digits", built.digits)
        if built.calls > self.limits["calls"]:
            raise self.exceeds("calls", built.calls)
        return built

    def build(self, node: ast.AST, depth: int = 0) -> sp.Expr:
        """The sympy expression of ``node`` (bounds checked; undefined values refused)."""
        expr = self.node(node, depth).expr
        if expr.has(*_UNDEFINED):
            raise self.fail("undefined value (division by zero, 0**-1, log(0) or similar)")
        if expr.has(sp.I):
            raise self.fail("complex value (e.g. sqrt(-1) or log(-1)); expressions must be real")
        return expr

    def node(self, node: ast.AST, depth: int) -> _Built:
        if depth > self.limits["depth"]:
            raise self.exceeds("depth", depth)
        if isinstance(node, ast.Constant):
            value = self.number(node)
            return self.checked(_Built(value, 0, _number_digits(value)))
        if isinstance(node, ast.Name):
            value = self.name(node.id)
            return _Built(value, 1, 0) if value.is_Symbol else _Built(value, 0, 1)  # pi, E
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.node(node.operand, depth + 1)
            return operand if isinstance(node.op, ast.UAdd) else _Built(-operand.expr, *_sizes(operand))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            if isinstance(node.op, ast.Pow):
                left = self.node(node.left, depth + 1)
                return self.checked(self.power(left, self.node(node.right, depth + 1)))
            # a chain a + b - c + ... (or a * b / c ...) is one level, built left to right without recursion
            group, chain = _GROUP[type(node.op)], []
            while isinstance(node, ast.BinOp) and _GROUP.get(type(node.op)) == group:
                chain.append((node.op, node.right))
                node = node.left
            built = self.node(node, depth + 1)
            for op, operand in reversed(chain):
                built = self.combine(op, built, self.node(operand, depth + 1))
            if group == "sum":  # n terms: coefficients grow by at most a factor n
                built = self.checked(replace(built, digits=built.digits + math.log10(len(chain) + 1)))
            return built
        if isinstance(node, ast.BinOp):
            raise self.fail(f"operator {type(node.op).__name__} is not allowed (use + - * / **)")
        if isinstance(node, ast.Call):
            return self.checked(self.call(node, depth))
        raise self.fail(f"{_describe(node)} is not allowed")

    def combine(self, op: ast.operator, left: _Built, right: _Built) -> _Built:
        """``left op right`` for + - * /, with the size estimates checked before the sympy object is built."""
        if isinstance(op, ast.Div) and right.expr == 0:
            raise self.fail("division by zero")
        if isinstance(op, (ast.Add, ast.Sub)):
            sizes = (max(left.degree, right.degree), max(left.digits, right.digits))  # + log10(terms): see node()
        else:
            sizes = (left.degree + right.degree, left.digits + right.digits)
        checked = self.checked(_Built(left.expr, *sizes, max(left.calls, right.calls)))
        return _Built(_BINARY[type(op)](left.expr, right.expr), checked.degree, checked.digits, checked.calls)

    def power(self, base: _Built, exponent: _Built) -> _Built:
        calls = max(base.calls, exponent.calls)
        if not exponent.expr.is_number:
            # x**a: not a polynomial; count the exponent's own size
            return _Built(base.expr**exponent.expr, base.degree + exponent.degree, base.digits + exponent.digits, calls)
        if not exponent.expr.is_real:
            raise self.fail("exponents must be real")
        try:
            magnitude = abs(float(exponent.expr.evalf(15)))
        except (TypeError, ValueError):
            raise self.fail("exponent is not a real number") from None
        if magnitude > self.limits["exponent"]:
            raise self.exceeds("exponent", magnitude)
        scale = max(1.0, magnitude)
        self.checked(_Built(base.expr, base.degree * scale, base.digits * scale, calls))
        if base.expr == 0 and exponent.expr.is_negative:
            raise self.fail("0 to a negative power is undefined")
        return _Built(base.expr**exponent.expr, base.degree * scale, base.digits * scale, calls)

    def number(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"only real numbers are allowed, not {type(value).__name__}")
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise self.fail("numbers must be finite")
            return sp.Rational(repr(value))
        digits = value.bit_length() * _LOG10_2
        if digits > self.limits["number_digits"]:
            raise self.exceeds("number_digits", digits)
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

    def call(self, node: ast.Call, depth: int) -> _Built:
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
        args = [self.node(arg, depth + 1) for arg in node.args]
        calls = 1 + max(a.calls for a in args)
        if calls > self.limits["calls"]:
            raise self.exceeds("calls", calls)
        degree = max(a.degree for a in args) * (2 if arity > 1 else 1)  # normal_pdf squares (y - mean)
        digits = sum(a.digits for a in args)
        if name in _EXPONENT_OF:
            digits = max(digits, self.exponential_digits(name, _EXPONENT_OF[name](*(a.expr for a in args))))
        return _Built(builder(*(a.expr for a in args)), degree, digits, calls)

    def exponential_digits(self, name: str, exponent: sp.Expr) -> float:
        """Decimal digits of ``exp(exponent)`` when ``exponent`` is a constant (``|z| log10 e``), else 0;
        refused above the ``number_digits`` bound before ``exp`` of it is built."""
        if exponent.free_symbols:
            return 0.0
        try:
            value = complex(exponent.evalf(15))
        except (TypeError, ValueError, OverflowError, ZeroDivisionError):
            raise self.fail(f"the argument of {name} is not a finite number") from None
        if not math.isfinite(value.real):
            raise self.fail(f"the argument of {name} is not a finite number")
        digits = abs(value.real) * math.log10(math.e)
        if digits > self.limits["number_digits"]:
            raise self.exceeds("number_digits", digits)
        return digits


def _sizes(built: _Built) -> tuple[float, float, int]:
    return built.degree, built.digits, built.calls


def _parse_tree(text: str) -> ast.AST:
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression as text, got {type(text).__name__}")
    if not text.strip():
        raise ExpressionError("empty expression")
    length = limit("length")
    if len(text) > length:
        raise ExpressionError(
            f"expression of {len(text)} characters exceeds the bound {length} on {BOUNDS['length'].what} "
            f"(raise it with the environment variable {BOUNDS['length'].variable}=N)"
        )
    digits = limit("number_digits")
    if re.search(r"\d{%d}" % (digits + 1), text):
        raise ExpressionError(
            f"a number in the expression has more than {digits} digits, the bound on "
            f"{BOUNDS['number_digits'].what} (raise it with {BOUNDS['number_digits'].variable}=N)"
        )
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        shown = text if len(text) <= 60 else text[:57] + "..."
        reason = exc.msg if isinstance(exc, SyntaxError) else "too long or too deeply nested for the parser"
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
    try:
        return [sp.sympify(builder.build(element, 1)) for element in tree.elts]
    except RecursionError:
        raise builder.fail("too deeply nested") from None


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
