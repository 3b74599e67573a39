"""Least squares for a regression function given symbolically, e.g. an entry of (gated) attention.

For a :class:`~hmoe_theory.families.ParametricFunction` f(x; theta) (inputs x, parameters theta in R^p) and
data (x_i, y_i), i = 1..n,

    theta_hat = argmin_{|theta_a| <= bound} L(theta),   L(theta) = (1/2n) sum_i (f(x_i; theta) - y_i)^2.

Kernels: f, its gradient d f / d theta_a and its Hessian d^2 f / d theta_a d theta_b (upper triangle) are
derived from ``function.expr`` by sympy and compiled once by :func:`hmoe_theory.compile.compile_exprs` (one
fused numpy kernel with common subexpressions shared), so the attention code fitted is the one symbolic
source of :mod:`hmoe_theory.attention.families`, never a hand-written copy.

Newton system of ||r||^2 / 2 with r_i = f(x_i; theta) - y_i: gradient g = J^T r and Hessian
``exact``: H = J^T J + sum_i r_i d^2 f(x_i) (default), or ``gauss-newton``: H = J^T J. The solver is
:func:`hmoe_theory.estimation.least_squares.damped_newton` (saddle-free damped Newton in the box with an
active set, and a verified KKT status: converged / iteration-cap / diverged / failed).

Hypotheses: f is twice continuously differentiable in theta on the box (true for attention entries: exp,
rational functions of exp, sigmoid); p <= n.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..compile import compile_exprs
from ..errors import ModelError
from ..families import ParametricFunction
from .least_squares import LeastSquaresFit, System, damped_newton

Array = np.ndarray
HESSIANS = ("exact", "gauss-newton")


@dataclass(frozen=True, eq=False)
class SymbolicRegression:
    """f(x; theta) of ``function`` with compiled value / gradient / Hessian kernels (built on first use)."""

    function: ParametricFunction
    hessian: str = "exact"

    def __post_init__(self) -> None:
        if self.hessian not in HESSIANS:
            raise ModelError(f"hessian must be one of {', '.join(HESSIANS)}, got {self.hessian!r}")

    @property
    def n_params(self) -> int:
        return len(self.function.params)

    @property
    def n_inputs(self) -> int:
        return len(self.function.inputs)

    @cached_property
    def _args(self) -> list:
        return [*self.function.inputs, *self.function.params]

    @cached_property
    def _value_kernel(self):
        return compile_exprs([self.function.expr], self._args)

    @cached_property
    def _upper(self) -> tuple[Array, Array]:
        return np.triu_indices(self.n_params)

    @cached_property
    def _system_kernel(self):
        f, params = self.function.expr, self.function.params
        grad = [f.diff(p) for p in params]
        exprs = [f, *grad]
        if self.hessian == "exact":
            rows, cols = self._upper
            exprs += [grad[a].diff(params[b]) for a, b in zip(rows, cols)]
        return compile_exprs(exprs, self._args)

    def _call(self, kernel, X: Array, theta: Array) -> Array:
        X = np.asarray(X, dtype=float)
        theta = np.asarray(theta, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ModelError(f"need X of shape (n, {self.n_inputs}), got {X.shape}")
        if theta.shape != (self.n_params,):
            raise ModelError(f"need {self.n_params} parameters, got shape {theta.shape}")
        out = kernel(*X.T, *theta)
        return np.broadcast_to(out, (out.shape[0], len(X)))

    def predict(self, X: Array, theta: Array) -> Array:
        """f(x_i; theta) for the rows x_i of X (n, n_inputs)."""
        return self._call(self._value_kernel, X, theta)[0]

    def system(self, X: Array, y: Array, theta: Array) -> System:
        """(r, ||J_a||^2, g = J^T r, H) of ||r||^2 / 2 at theta (module docstring)."""
        values = self._call(self._system_kernel, X, theta)
        p = self.n_params
        r = values[0] - y
        J = values[1 : 1 + p]
        H = J @ J.T
        if self.hessian == "exact":
            rows, cols = self._upper
            curvature = np.zeros((p, p))
            curvature[rows, cols] = values[1 + p :] @ r
            H = H + curvature + np.triu(curvature, 1).T
        return r, np.einsum("an,an->a", J, J), J @ r, H


def fit_regression(
    model: SymbolicRegression,
    X: Array,
    y: Array,
    start: Array,
    bound: float | None = 5.0,
    max_iter: int = 100,
    start_index: int = 0,
) -> LeastSquaresFit:
    """Least-squares fit of ``model`` to (X, y) from ``start`` in the box |theta_a| <= ``bound``.

    Returns the solver's verified record (:class:`~hmoe_theory.estimation.least_squares.LeastSquaresFit`:
    theta, status, reason, iterations, loss L(theta_hat), gradient norm ||dL/dtheta||).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if y.shape != (len(X),):
        raise ModelError(f"need y of shape ({len(X)},), got {y.shape}")
    n = len(y)
    if n < model.n_params:
        raise ModelError(f"need at least {model.n_params} samples for {model.n_params} parameters, got {n}")
    with np.errstate(all="ignore"):
        result = damped_newton(
            lambda theta: model.predict(X, theta) - y,
            lambda theta: model.system(X, y, theta),
            np.asarray(start, dtype=float),
            bound=bound,
            max_iter=max_iter,
        )
        r, _, g, _ = model.system(X, y, result.x)
        loss = 0.5 * float(r @ r) / n
        grad_norm = float(np.linalg.norm(g) / n)
    status = result.status if np.isfinite(loss) else "diverged"
    return LeastSquaresFit(result.x, status, result.reason, result.iterations, loss, grad_norm, start_index)


__all__ = ["HESSIANS", "SymbolicRegression", "fit_regression"]
