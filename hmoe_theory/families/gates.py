"""Gating functions. A gate contributes a *score* s(x; eta) and a bias c; its weight is

* softmax gates: exp(s_j(x) + c_j) / sum_l exp(s_l(x) + c_l)  (normalisation ``"softmax"``);
* sigmoid gate:  sigmoid(s_j(x) + c_j), one independent weight per expert (normalisation ``"sigmoid"``).

Catalogue (x in R^d, A in R^{d x d} with d^2 free entries unless ``-symmetric``):

==============================  ==============================  ==========================
name                            weight (before normalisation)   parameters (bias)
==============================  ==============================  ==========================
softmax-linear                  exp(beta.x + beta0)             beta (beta0)
quadratic-polynomial            exp(x^T A x + b.x + c)          A, b (c)
quadratic-polynomial-symmetric  same, A = A^T, entries u <= v   A_uv (u <= v), b (c)
quadratic-monomial              exp(x^T A x + c)                A (c)
quadratic-monomial-symmetric    same, A = A^T                   A_uv (u <= v) (c)
sigmoid                         sigmoid(beta.x + beta0)         beta, beta0
laplace                         exp(-||x - beta|| + beta0)      beta (beta0)
==============================  ==============================  ==========================

For softmax gates the bias only rescales a component (it is the mixing weight), so gate x expert
functions take it out of the parameters (:meth:`Gate.factor`); the sigmoid gate's bias is not a pure
scale and stays a parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy as sp

from ..expr import sigmoid
from ..symbols import (
    indexed_name,
    input_symbols,
    matrix_symbols,
    real_symbol,
    symmetric_matrix_symbols,
    vector_symbols,
)
from .base import builder_projection, dot, is_linear_homogeneous, typed_builder, typed_term

Score = tuple[sp.Expr, tuple[sp.Symbol, ...]]


@dataclass(frozen=True)
class GateTerm:
    """One component's gate: score (without bias), its parameters, and the bias symbol."""

    score: sp.Expr
    params: tuple[sp.Symbol, ...]
    bias: sp.Symbol


@dataclass(frozen=True)
class Gate:
    """A gating family; ``builder(x, component)`` returns the score and its parameters."""

    name: str
    formula: str
    normalisation: str  # "softmax" or "sigmoid"
    builder: Callable[[Sequence[sp.Symbol], int | None], Score]
    bias_base: str = "beta0"

    def term(self, x: Sequence[sp.Symbol], component: int | None = None) -> GateTerm:
        """Score, parameters and bias of component ``component`` (``None``: unindexed names)."""
        score, params = self.builder(tuple(x), component)
        return GateTerm(score, params, real_symbol(indexed_name(self.bias_base, component)))

    def weight(self, term: GateTerm) -> sp.Expr:
        """Unnormalised weight exp(s + c) (softmax) or the weight sigmoid(s + c) (sigmoid)."""
        z = term.score + term.bias
        return sp.exp(z) if self.normalisation == "softmax" else sigmoid(z)

    def factor(
        self, x: Sequence[sp.Symbol], component: int | None = None
    ) -> tuple[sp.Expr, tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
        """The gate's factor in a gate x expert function: (expression, parameters, weight parameters).

        Softmax gates: exp(s(x)) with the bias removed (it is a mixing weight). Sigmoid gate:
        sigmoid(s(x) + c) with c a genuine parameter.
        """
        term = self.term(x, component)
        if self.normalisation == "softmax":
            return sp.exp(term.score), term.params, (term.bias,)
        return sigmoid(term.score + term.bias), (*term.params, term.bias), ()

    # -- facts derived once from the symbolic score (used by estimation, Fisher information, losses) --
    def translation_invariant(self, d: int) -> bool:
        """True when softmax(s_j + c_j) is unchanged by gamma_j -> gamma_j + t for all j: a softmax gate whose
        score is linear and homogeneous in its parameters (:func:`~.base.is_linear_homogeneous`). Then the
        last component's score parameters are pinned at 0, as is its bias (always, for softmax gates)."""
        return _translation_invariant(self, d)

    def identified_projection(self, d: int) -> np.ndarray:
        """Projection onto the identified score parameters (:func:`~.base.identified_projection`);
        replaces A by sym(A) for quadratic forms, the identity for scores that are not linear in them."""
        return builder_projection(self.builder, d)

    @classmethod
    def from_expression(cls, score: str, inputs: Sequence[str], name: str | None = None) -> "Gate":
        """A softmax gate whose score is the user expression ``score`` of ``inputs`` (safe parser; every
        other name is a parameter, in sorted order). The mixing weight exp(c) is added by the mixture."""
        expr, x, params = typed_term(score, inputs, "gate score")
        return cls(name or f"score {score.strip()}", f"exp({score.strip()} + c)", "softmax", typed_builder(expr, x, params), "c")


@cache
def _translation_invariant(gate: Gate, d: int) -> bool:
    score, params = gate.builder(input_symbols(d), None)
    return gate.normalisation == "softmax" and bool(params) and is_linear_homogeneous(score, params)




def _linear(x: Sequence[sp.Symbol], component: int | None) -> Score:
    beta = vector_symbols("beta", len(x), component)
    return dot(beta, x), beta


def _quadratic(symmetric: bool, with_linear: bool) -> Callable[[Sequence[sp.Symbol], int | None], Score]:
    def build(x: Sequence[sp.Symbol], component: int | None) -> Score:
        d = len(x)
        A = symmetric_matrix_symbols("A", d, component) if symmetric else matrix_symbols("A", d, d, component)
        xv = sp.Matrix(x)
        score = sp.expand((xv.T * A * xv)[0, 0])
        a_params = tuple(dict.fromkeys(A))  # distinct entries, row-major order
        if not with_linear:
            return score, a_params
        b = vector_symbols("b", d, component)
        return score + dot(b, x), (*a_params, *b)

    return build


def _laplace(x: Sequence[sp.Symbol], component: int | None) -> Score:
    beta = vector_symbols("beta", len(x), component)
    return -sp.sqrt(sp.Add(*((xk - bk) ** 2 for xk, bk in zip(x, beta)))), beta


GATES: dict[str, Gate] = {
    g.name: g
    for g in (
        Gate("softmax-linear", "exp(beta.x + beta0)", "softmax", _linear),
        Gate("quadratic-polynomial", "exp(x^T A x + b.x + c)", "softmax", _quadratic(False, True), "c"),
        Gate(
            "quadratic-polynomial-symmetric",
            "exp(x^T A x + b.x + c), A = A^T",
            "softmax",
            _quadratic(True, True),
            "c",
        ),
        Gate("quadratic-monomial", "exp(x^T A x + c)", "softmax", _quadratic(False, False), "c"),
        Gate("quadratic-monomial-symmetric", "exp(x^T A x + c), A = A^T", "softmax", _quadratic(True, False), "c"),
        Gate("sigmoid", "sigmoid(beta.x + beta0)", "sigmoid", _linear),
        Gate("laplace", "exp(-||x - beta|| + beta0)", "softmax", _laplace),
    )
}
