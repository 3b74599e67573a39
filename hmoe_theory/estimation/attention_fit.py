"""Least squares for a regression function given symbolically, e.g. an entry of (gated) attention.

For a :class:`~hmoe_theory.families.ParametricFunction` f(x; theta) (inputs x, parameters theta in R^p) and
data (x_i, y_i), i = 1..n,

    theta_hat = argmin_{|theta_a| <= bound} L(theta),   L(theta) = (1/2n) sum_i (f(x_i; theta) - y_i)^2.

Newton system of ||r||^2 / 2 with r_i = f(x_i; theta) - y_i: gradient g = J^T r and Hessian
``exact``: H = J^T J + S, S = sum_i r_i d^2 f(x_i) (default), or ``gauss-newton``: H = J^T J. The solver is
:func:`hmoe_theory.estimation.least_squares.damped_newton` (saddle-free damped Newton in the box with an
active set, and a verified KKT status: converged / iteration-cap / diverged / failed).

Kernels, all derived from ``function.expr`` by sympy (the attention code fitted is the one symbolic source of
:mod:`hmoe_theory.attention.families`, never a hand-written copy):

* value f: :func:`hmoe_theory.compile.compile_exprs` (vectorised numpy, common subexpressions shared);
* system: f, the p gradient entries d f / d theta_a and the upper-triangle second derivatives
  d^2 f / d theta_a d theta_b that are not identically 0 (e.g. two value atoms, which enter linearly, or two
  different heads) compiled by symengine's LLVM backend into one machine-code routine per point (common
  subexpressions shared). It is evaluated on blocks of :data:`BLOCK` points, so the p + 1 + q values of a
  block stay in cache, and each block is reduced at once by BLAS: H += J_B^T J_B, g += J_B^T r_B,
  S_ab += sum_{i in B} r_i d^2 f_i / d theta_a d theta_b. Measured against the numpy kernel of the same
  expressions (n = 1e5, one thread): 5-6x faster, the same values to ~1e-15 relative
  (``benchmarks/bench_attention_engine.py``). Blocks are fixed, so the sums' order (and bits) do not depend on
  the caller.

Hypotheses: f is twice continuously differentiable in theta on the box (true for attention entries: exp,
rational functions of exp, sigmoid); p <= n; f uses only functions symengine's LLVM backend knows (exp, log,
powers, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import symengine as se

from ..compile import compile_exprs
from ..errors import ModelError
from ..families import ParametricFunction
from .least_squares import LeastSquaresFit, System, damped_newton

Array = np.ndarray
HESSIANS = ("exact", "gauss-newton")
#: points per block of the system kernel (values of a block: (1 + p + q) x BLOCK doubles, ~1 MB for p = 10)
BLOCK = 2048


@dataclass(frozen=True)
class Prepared:
    """Data of one fit laid out for the kernels: ``columns`` (n_inputs, n) contiguous for the value kernel,
    ``points`` (n, n_inputs + p) rows x_i followed by the parameters (overwritten at each call)."""

    columns: Array
    points: Array

    @property
    def n(self) -> int:
        return self.columns.shape[1]


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
    def _curvature_entries(self) -> tuple[Array, Array, list]:
        """(rows, cols, expressions) of the upper-triangle second derivatives not identically 0."""
        f, params = self.function.expr, self.function.params
        if self.hessian != "exact":
            return np.zeros(0, dtype=int), np.zeros(0, dtype=int), []
        grad = [f.diff(p) for p in params]
        entries = [(a, b, grad[a].diff(params[b])) for a, b in zip(*np.triu_indices(self.n_params))]
        entries = [(a, b, e) for a, b, e in entries if e != 0]
        return (np.array([a for a, _, _ in entries], dtype=int), np.array([b for _, b, _ in entries], dtype=int),
                [e for _, _, e in entries])

    @cached_property
    def _system_kernel(self) -> se.Lambdify:
        f, params = self.function.expr, self.function.params
        exprs = [f, *(f.diff(p) for p in params), *self._curvature_entries[2]]
        return se.Lambdify([se.sympify(a) for a in self._args], [se.sympify(e) for e in exprs],
                           backend="llvm", cse=True)

    def prepare(self, X: Array) -> Prepared:
        """Lay out the rows of X (n, n_inputs) once for repeated :meth:`predict` / :meth:`system` calls."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ModelError(f"need X of shape (n, {self.n_inputs}), got {X.shape}")
        points = np.empty((len(X), self.n_inputs + self.n_params))
        points[:, : self.n_inputs] = X
        return Prepared(np.ascontiguousarray(X.T), points)

    def _theta(self, theta: Array) -> Array:
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (self.n_params,):
            raise ModelError(f"need {self.n_params} parameters, got shape {theta.shape}")
        return theta

    def _data(self, X: Array | Prepared) -> Prepared:
        return X if isinstance(X, Prepared) else self.prepare(X)

    def predict(self, X: Array | Prepared, theta: Array) -> Array:
        """f(x_i; theta) for the rows x_i of X (n, n_inputs) (or of a :meth:`prepare` d layout)."""
        data, theta = self._data(X), self._theta(theta)
        out = self._value_kernel(*data.columns, *theta)[0]
        return np.broadcast_to(out, (data.n,))

    def system(self, X: Array | Prepared, y: Array, theta: Array) -> System:
        """(r, ||J_a||^2, g = J^T r, H) of ||r||^2 / 2 at theta (module docstring)."""
        data, theta = self._data(X), self._theta(theta)
        p, n = self.n_params, data.n
        rows, cols, entries = self._curvature_entries
        data.points[:, self.n_inputs :] = theta
        values = np.empty((min(BLOCK, n), 1 + p + len(entries)))
        r = np.empty(n)
        gram, g, norms, curvature = np.zeros((p, p)), np.zeros(p), np.zeros(p), np.zeros(len(entries))
        kernel = self._system_kernel
        for start in range(0, n, BLOCK):
            stop = min(n, start + BLOCK)
            block = values[: stop - start]
            kernel(data.points[start:stop], out=block)
            r_block = np.subtract(block[:, 0], y[start:stop], out=r[start:stop])
            J = block[:, 1 : 1 + p]
            gram += J.T @ J
            g += r_block @ J
            norms += np.einsum("na,na->a", J, J)
            if len(entries):
                curvature += r_block @ block[:, 1 + p :]
        H = gram
        if self.hessian == "exact":
            S = np.zeros((p, p))
            S[rows, cols] = curvature
            H = gram + S + np.triu(S, 1).T
        return r, norms, g, H


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
    theta, status, reason, iterations, loss L(theta_hat), gradient norm ||dL/dtheta||). The data are laid out
    once (:meth:`SymbolicRegression.prepare`); the system at the returned point is the solver's last one
    when the solver stopped there (no recomputation).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if y.shape != (len(X),):
        raise ModelError(f"need y of shape ({len(X)},), got {y.shape}")
    n = len(y)
    if n < model.n_params:
        raise ModelError(f"need at least {model.n_params} samples for {model.n_params} parameters, got {n}")
    data = model.prepare(X)
    last: list = [None, None]  # theta and system of the last system call

    def system(theta: Array) -> System:
        last[0], last[1] = np.array(theta), model.system(data, y, theta)
        return last[1]

    with np.errstate(all="ignore"):
        result = damped_newton(
            lambda theta: model.predict(data, theta) - y,
            system,
            np.asarray(start, dtype=float),
            bound=bound,
            max_iter=max_iter,
        )
        same = last[0] is not None and np.array_equal(last[0], result.x)
        r, _, g, _ = last[1] if same else model.system(data, y, result.x)
        loss = 0.5 * float(r @ r) / n
        grad_norm = float(np.linalg.norm(g) / n)
    status = result.status if np.isfinite(loss) else "diverged"
    return LeastSquaresFit(result.x, status, result.reason, result.iterations, loss, grad_norm, start_index)


__all__ = ["BLOCK", "HESSIANS", "Prepared", "SymbolicRegression", "fit_regression"]
