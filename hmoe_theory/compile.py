"""The one place that turns sympy expressions into numeric kernels.

* :func:`compile_exprs` -- numpy kernel (``sympy.lambdify(..., cse=True)``) evaluating a list of
  expressions on broadcast arrays; returns an array of shape ``(len(exprs), *broadcast_shape)``.
* :func:`compile_expr` -- the same for one expression (shape ``broadcast_shape``).
* :func:`compile_mpmath` -- arbitrary-precision scalar kernel (mpmath) for certification.
* ball arithmetic is not here: the one sympy -> arb evaluator is :func:`hmoe_theory.balls.arb_function`.
* :func:`compile_llvm_rows` -- machine-code kernel (symengine's LLVM backend) mapping each row of a
  (m, len(args)) array to the expressions' values, for hot loops over blocks of points (step functions through
  :func:`without_step_functions`).
* :func:`shared_subexpressions` -- a structural common-subexpression pass in ``sympy.cse``'s output format, linear
  in the size of the expression DAG (for ``cse=`` of :func:`compile_exprs` on large derivative families).
* :func:`gradient`, :func:`hessian`, :func:`jacobian` -- exact derivative expressions.

Hypothesis: the expressions only use functions that sympy's numpy / mpmath printers know
(every function of :mod:`hmoe_theory.expr` does).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import mpmath
import numpy as np
import scipy.special
import symengine as se
import sympy as sp

from .balls import distinct_subexpressions
from .errors import ModelError

Kernel = Callable[..., np.ndarray]
# sympy's numpy printer falls back to math.erf (scalar only); use the vectorised scipy ufunc.
NUMPY_MODULES = [{"erf": scipy.special.erf}, "numpy"]


def _lambdify(args: Sequence[sp.Symbol], exprs: Sequence[sp.Expr], modules, cse=True) -> Callable:
    # use_imps=False: no expression of the project carries an implemented_function, and looking for them walks every
    # tree node (1.5 CPU s on the 1225 derivatives of the 48-parameter attention family)
    return sp.lambdify(list(args), list(exprs), modules=modules, cse=cse, use_imps=False)


def compile_exprs(exprs: Sequence[sp.Expr], args: Sequence[sp.Symbol], cse=True) -> Kernel:
    """Compile ``exprs`` in the variables ``args`` to a vectorised numpy kernel.

    The kernel takes one array-like per argument (broadcast together) and returns a float array of
    shape ``(len(exprs), *shape)``; constant expressions are broadcast to ``shape``. ``cse``: as in
    ``sympy.lambdify`` (a callable returning a precomputed ``sympy.cse`` result saves recomputing it).
    """
    exprs = [sp.sympify(e) for e in exprs]
    raw = _lambdify(args, exprs, NUMPY_MODULES, cse)
    count = len(exprs)

    def kernel(*values) -> np.ndarray:
        if len(values) != len(args):
            raise TypeError(f"kernel takes {len(args)} arrays, got {len(values)}")
        arrays = [np.asarray(v, dtype=float) for v in values]
        shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        out = np.empty((count, *shape))
        with np.errstate(all="ignore"):
            for i, value in enumerate(raw(*arrays)):
                out[i] = value
        return out

    kernel.__doc__ = f"numpy kernel of {count} expression(s) in ({', '.join(map(str, args))})"
    return kernel


def compile_expr(expr: sp.Expr, args: Sequence[sp.Symbol]) -> Kernel:
    """Compile one expression; the kernel returns an array of the broadcast shape."""
    many = compile_exprs([expr], args)
    return lambda *values: many(*values)[0]


def compile_llvm_rows(exprs: Sequence[sp.Expr], args: Sequence[sp.Symbol]) -> "se.Lambdify":
    """Compile ``exprs`` in ``args`` with symengine's LLVM backend (common subexpressions shared).

    The kernel maps rows to rows: ``kernel(rows, out=values)`` with ``rows`` of shape (m, len(args)) and
    ``values`` of shape (m, len(exprs)). Hypothesis: symengine built with LLVM (its PyPI wheels are); without it
    the interpreted backend is ~75x slower (measured on the attention system), so it is refused with a one-line
    :class:`~hmoe_theory.errors.ModelError`.

    Kinks in sympy expressions (the backend has Max, Min, Abs, sign and Piecewise but no Heaviside or DiracDelta; see
    :func:`without_step_functions`): the derivative of relu(z) = Max(z, 0) is Heaviside(z, 1/2), which does not exist at
    z = 0; the kernel returns sympy's convention H(0) = 1/2 there (the mean of the one-sided derivatives, a generalised
    gradient, not a derivative), and NaN for a DiracDelta at its support.
    """
    if not getattr(se, "have_llvm", False):
        raise ModelError("symengine was built without LLVM; install symengine's PyPI wheel (pip install symengine)")
    exprs = [without_step_functions(e) if isinstance(e, sp.Basic) else e for e in exprs]  # symengine ones as given
    return se.Lambdify([se.sympify(a) for a in args], [se.sympify(e) for e in exprs], backend="llvm", cse=True)


def without_step_functions(expr: sp.Expr) -> sp.Expr:
    """``expr`` with Heaviside(z, h0) -> Piecewise((1, z > 0), (h0, z = 0), (0, z < 0)) (the same function, h0 the
    value sympy's Heaviside takes at 0) and DiracDelta(z, ...) -> Piecewise((0, z != 0), (nan, z = 0)) (the
    distribution vanishes off its support and has no value on it), for numeric backends without step functions."""
    if not expr.has(sp.Heaviside, sp.DiracDelta):
        return expr

    def step(argument, at_zero=sp.S.Half):
        return sp.Piecewise((sp.S.One, argument > 0), (at_zero, sp.Eq(argument, 0)), (sp.S.Zero, True))

    def dirac(argument, *order):
        return sp.Piecewise((sp.S.Zero, sp.Ne(argument, 0)), (sp.nan, True))

    return expr.replace(sp.Heaviside, step).replace(sp.DiracDelta, dirac)


def compile_mpmath(exprs: Sequence[sp.Expr], args: Sequence[sp.Symbol]) -> Callable[..., list]:
    """Scalar mpmath kernel: call inside ``mpmath.workdps(digits)`` with mpf/rational arguments."""
    raw = _lambdify(args, [sp.sympify(e) for e in exprs], "mpmath")
    return lambda *values: list(raw(*(mpmath.mpf(v) if not isinstance(v, mpmath.mpf) else v for v in values)))


def shared_subexpressions(exprs: Sequence[sp.Expr]) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    """(replacements, reduced expressions) as ``sympy.cse`` returns them: every distinct non-atomic subexpression
    with two or more distinct parents (a root counts as a parent) becomes a fresh Dummy symbol, defined before its
    first use. Purely structural (``sympy.cse`` also factors common parts of sums and products), so the cost is
    linear in the DAG: 0.16 CPU s for the 1225 derivatives of a 48-parameter attention family, where ``sympy.cse``
    takes 1.3 s. The reduced expressions equal the inputs after substitution (rebuilt with the same classes)."""
    nodes = distinct_subexpressions(exprs)
    parents: Counter = Counter(exprs)
    for node in nodes:
        parents.update(set(node.args))
    rebuilt: dict[sp.Expr, sp.Expr] = {}
    replacements: list[tuple[sp.Symbol, sp.Expr]] = []
    for node in nodes:
        if not node.args:
            rebuilt[node] = node
            continue
        value = node.func(*(rebuilt[child] for child in node.args))
        if parents[node] > 1:
            symbol = sp.Dummy(f"cse{len(replacements)}")
            replacements.append((symbol, value))
            value = symbol
        rebuilt[node] = value
    return replacements, [rebuilt[e] for e in exprs]


def gradient(expr: sp.Expr, params: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """[d expr / d p for p in params]."""
    return [sp.diff(expr, p) for p in params]


def hessian(expr: sp.Expr, params: Sequence[sp.Symbol]) -> sp.Matrix:
    """Matrix of d^2 expr / dp_a dp_b."""
    return sp.hessian(expr, list(params))


def jacobian(exprs: Sequence[sp.Expr], params: Sequence[sp.Symbol]) -> sp.Matrix:
    """Matrix J_ia = d exprs_i / d params_a."""
    return sp.Matrix(list(exprs)).jacobian(list(params))
