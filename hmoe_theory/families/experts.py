"""Expert functions E(x; eta), x in R^d.

==================  ==========================================  =======================
name                formula                                     parameters
==================  ==========================================  =======================
linear              a.x + alpha                                 a, alpha
linear-nobias       a.x                                         a
ridge-<phi>         phi(a.x + alpha), phi in sigmoid, tanh,     a, alpha
                    relu, gelu, silu
polynomial          alpha + sum_{1<=|m|<=2} p_m x^m             alpha, p_m
constant            alpha                                       alpha
gated-linear        sigmoid(w.x + w0) (a.x + alpha)             w, w0, a, alpha
gated-linear-nobias sigmoid(w.x + w0) (a.x)                     w, w0, a
ffn-<phi>           b phi(a.x + alpha), phi in relu, gelu,      a, alpha, b
                    silu, tanh, sigmoid
ffn-nobias-<phi>    b phi(a.x)                                  a, b
value-<phi>         phi(a.x)                                    a
==================  ==========================================  =======================

``gated-linear*`` are the experts that gated attention produces (G1 after the attention output,
G2 after the value map): the value map of standard attention has no bias, hence ``-nobias``.

``ffn-*`` are two-layer feed-forward experts with one hidden unit (inner weights a, inner bias alpha,
outer weight b); ``value-<phi>`` is one coordinate phi(W_V[:, l] . x_j) of the value map of
active-attention (:mod:`hmoe_theory.attention.active`): no bias, no outer weight.
Non-smooth phi (relu): the expert is differentiable in its parameters only off the kink a.x + alpha = 0
(a set of inputs of measure zero at a non-zero a); its first derivatives there carry Heaviside(a.x + alpha)
and its second derivatives are DiracDelta terms, which the derivative engine refuses (order >= 2 raises a
ModelError); :mod:`hmoe_theory.attention.active` evaluates the almost-everywhere derivatives off the kink.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..expr import FUNCTIONS, sigmoid
from ..symbols import indexed_name, real_symbol, vector_symbols
from .base import builder_projection, dot, typed_builder, typed_term

Built = tuple[sp.Expr, tuple[sp.Symbol, ...]]


@dataclass(frozen=True)
class Expert:
    """An expert family; ``builder(x, component)`` returns the expression and its parameters."""

    name: str
    formula: str
    builder: Callable[[Sequence[sp.Symbol], int | None], Built]

    def term(self, x: Sequence[sp.Symbol], component: int | None = None) -> Built:
        return self.builder(tuple(x), component)

    def identified_projection(self, d: int) -> np.ndarray:
        """Projection onto the identified expert parameters (:func:`~.base.identified_projection`)."""
        return builder_projection(self.builder, d)

    @classmethod
    def from_expression(cls, expert: str, inputs: Sequence[str], name: str | None = None) -> "Expert":
        """An expert given by the user expression ``expert`` of ``inputs`` (safe parser; every other name is
        a parameter, sorted by name)."""
        expr, x, params = typed_term(expert, inputs, "expert")
        return cls(name or f"expert {expert.strip()}", expert.strip(), typed_builder(expr, x, params))


def _affine(x: Sequence[sp.Symbol], component: int | None, bias: bool = True) -> Built:
    a = vector_symbols("a", len(x), component)
    if not bias:
        return dot(a, x), a
    alpha = real_symbol(indexed_name("alpha", component))
    return dot(a, x) + alpha, (*a, alpha)


def _ridge(activation: str) -> Callable[[Sequence[sp.Symbol], int | None], Built]:
    phi = FUNCTIONS[activation][0]

    def build(x: Sequence[sp.Symbol], component: int | None) -> Built:
        z, params = _affine(x, component)
        return phi(z), params

    return build


def _polynomial(x: Sequence[sp.Symbol], component: int | None, degree: int = 2) -> Built:
    alpha = real_symbol(indexed_name("alpha", component))
    expr, params = alpha, [alpha]
    for r in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(len(x)), r):
            p = real_symbol(indexed_name("p", component, *(k + 1 for k in combo)))
            expr += p * sp.Mul(*(x[k] for k in combo))
            params.append(p)
    return expr, tuple(params)


def _constant(x: Sequence[sp.Symbol], component: int | None) -> Built:  # noqa: ARG001
    alpha = real_symbol(indexed_name("alpha", component))
    return alpha, (alpha,)


def _gated(bias: bool) -> Callable[[Sequence[sp.Symbol], int | None], Built]:
    def build(x: Sequence[sp.Symbol], component: int | None) -> Built:
        w = vector_symbols("w", len(x), component)
        w0 = real_symbol(indexed_name("w0", component))
        linear, params = _affine(x, component, bias)
        return sigmoid(dot(w, x) + w0) * linear, (*w, w0, *params)

    return build


ACTIVATIONS: tuple[str, ...] = ("relu", "gelu", "silu", "tanh", "sigmoid")


def _two_layer(activation: str, bias: bool) -> Callable[[Sequence[sp.Symbol], int | None], Built]:
    """b phi(a.x + alpha) (``bias``) or b phi(a.x)."""
    phi = FUNCTIONS[activation][0]

    def build(x: Sequence[sp.Symbol], component: int | None) -> Built:
        z, params = _affine(x, component, bias)
        b = real_symbol(indexed_name("b", component))
        return b * phi(z), (*params, b)

    return build


def _value_activated(activation: str) -> Callable[[Sequence[sp.Symbol], int | None], Built]:
    """phi(a.x): one coordinate of the activated value map phi(W_V^T x_j)."""
    phi = FUNCTIONS[activation][0]

    def build(x: Sequence[sp.Symbol], component: int | None) -> Built:
        z, params = _affine(x, component, bias=False)
        return phi(z), params

    return build


EXPERTS: dict[str, Expert] = {
    e.name: e
    for e in (
        Expert("linear", "a.x + alpha", _affine),
        Expert("linear-nobias", "a.x", lambda x, c: _affine(x, c, bias=False)),
        *(Expert(f"ridge-{phi}", f"{phi}(a.x + alpha)", _ridge(phi)) for phi in ("sigmoid", "tanh", "relu", "gelu", "silu")),
        Expert("polynomial", "alpha + sum_{1<=|m|<=2} p_m x^m", _polynomial),
        Expert("constant", "alpha", _constant),
        Expert("gated-linear", "sigmoid(w.x + w0) (a.x + alpha)", _gated(True)),
        Expert("gated-linear-nobias", "sigmoid(w.x + w0) (a.x)", _gated(False)),
        *(Expert(f"ffn-{phi}", f"b {phi}(a.x + alpha)", _two_layer(phi, True)) for phi in ACTIVATIONS),
        *(Expert(f"ffn-nobias-{phi}", f"b {phi}(a.x)", _two_layer(phi, False)) for phi in ACTIVATIONS),
        *(Expert(f"value-{phi}", f"{phi}(a.x)", _value_activated(phi)) for phi in ACTIVATIONS),
    )
}
