"""Numeric kernels of one mixture component, derived from its symbolic term through :mod:`hmoe_theory.compile`.

For a term t(x; eta) (a gate score or an expert; sympy expression, the single source of truth) and k
components with parameters P (k, p), :class:`TermKernel` evaluates on data X (n, d)

    values     T_ji   = t(x_i; P_j)                       array (k, n)
    gradients  G_mji  = dt/deta_m (x_i; P_j)              array (p, k, n)

from the exact derivatives dt/deta_m (``sympy.diff``). Derivatives that do not depend on the parameters
(features phi_m(x), e.g. x_u x_v for a quadratic score, (x, 1) for a linear expert) are evaluated once per
data set (:meth:`TermKernel.prepare`) and broadcast; the others are compiled together with t itself into
one common-subexpression-eliminated kernel called with x as (1, n) rows and the parameters as (k, 1)
columns. The (k, n) layout keeps every reduction over the k components an elementwise operation on
contiguous rows (numpy reduces a short trailing axis ~5x slower). Hypothesis: the term is differentiable in eta at the points used (at a kink such as relu's the derivative is
Heaviside(0) = 1/2 and the second derivative 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..compile import compile_exprs

Array = np.ndarray


@dataclass(frozen=True)
class PreparedData:
    """Inputs X (n, d) as rows (1, n) and the parameter-free features of each kernel, computed once."""

    X: Array
    rows: tuple[Array, ...]
    features: dict[int, Array] = field(default_factory=dict, compare=False)

    @classmethod
    def build(cls, X: Array) -> "PreparedData":
        X = np.asarray(X, dtype=float)
        return cls(X, tuple(np.ascontiguousarray(X[:, u])[None, :] for u in range(X.shape[1])))

    def __len__(self) -> int:
        return self.X.shape[0]


class TermKernel:
    """Values and parameter gradients of one symbolic term for k components at once (module docstring)."""

    def __init__(self, expr: sp.Expr, inputs: Sequence[sp.Symbol], params: Sequence[sp.Symbol]) -> None:
        self.expr, self.inputs, self.params = expr, tuple(inputs), tuple(params)
        grads = [sp.diff(expr, p) for p in self.params]
        owned = set(self.params)
        self.constant = tuple(m for m, g in enumerate(grads) if not (g.free_symbols & owned))
        self.varying = tuple(m for m in range(len(grads)) if m not in self.constant)
        # non-zero second derivatives d2t/deta_a deta_b, a <= b (zero for terms linear in the parameters); a kink's
        # DiracDelta (relu'' ) is 0 off the kink, the value numpy can evaluate (no DiracDelta printer)
        second = {(a, b): sp.diff(grads[a], self.params[b]).replace(sp.DiracDelta, lambda *_: sp.Integer(0))
                  for a in self.varying for b in range(a, self.size)}
        self.hessian_pairs = tuple(key for key, value in second.items() if value != 0)
        args = [*self.inputs, *self.params]
        self._values = compile_exprs([expr], args)
        self._with_grads = compile_exprs([expr, *(grads[m] for m in self.varying)], args)
        self._hessian = (
            compile_exprs([second[pair] for pair in self.hessian_pairs], args)
            if self.hessian_pairs
            else None
        )
        self._features = compile_exprs([grads[m] for m in self.constant], list(self.inputs)) if self.constant else None

    @property
    def size(self) -> int:
        return len(self.params)

    def _features_of(self, data: PreparedData) -> Array:
        """Parameter-free derivatives phi_m(x_i), array (len(constant), 1, n), cached on ``data``."""
        key = id(self)
        if key not in data.features:
            raw = self._features(*data.rows)  # (m, 1, n), or (m, ...) broadcast constants
            data.features[key] = np.ascontiguousarray(np.broadcast_to(raw, (len(self.constant), 1, len(data))))
        return data.features[key]

    def _columns(self, P: Array) -> list[Array]:
        P = np.asarray(P, dtype=float)
        return [P[:, m, None] for m in range(P.shape[1])]

    def values(self, data: PreparedData, P: Array) -> Array:
        """T_ji, array (k, n)."""
        k = np.shape(P)[0]
        return np.broadcast_to(self._values(*data.rows, *self._columns(P))[0], (k, len(data)))

    def values_and_gradients(self, data: PreparedData, P: Array) -> tuple[Array, Array]:
        """(T (k, n), G (p, k, n)) of the module docstring."""
        k = np.shape(P)[0]
        n = len(data)
        out = self._with_grads(*data.rows, *self._columns(P))
        values = np.broadcast_to(out[0], (k, n))
        grads = np.empty((self.size, k, n))
        if self.varying:
            grads[list(self.varying)] = out[1:]
        if self.constant:
            grads[list(self.constant)] = self._features_of(data)
        return values, grads

    def hessian_entries(self, data: PreparedData, P: Array) -> Array:
        """d2t/deta_a deta_b (x_i; P_j) for the pairs ``hessian_pairs``: array (len(pairs), k, n)."""
        k, n = np.shape(P)[0], len(data)
        if self._hessian is None:
            return np.empty((0, k, n))
        return np.broadcast_to(self._hessian(*data.rows, *self._columns(P)), (len(self.hessian_pairs), k, n))
