"""The residual r(u) = sqrt(W_q) (f_G(p_q) - f_G*(p_q)) on a quadrature rule, and its exact Jacobian.

phi at a point is ||r||_2 = ||f_G - f_G*||_{L2(mu)} up to the rule's error. Two evaluations of the same
sympy expression (float kernels from :mod:`hmoe_theory.compile`, balls from :func:`hmoe_theory.balls.arb_function`):

* float64: one call of a machine-code kernel (symengine LLVM) of f_G and its gradient in (w, theta) at every node
  (rows), the parameters from the compiled coordinate map (:meth:`~.coordinates.Coordinates.vector_and_jacobian`):
  fast, but f_G - f_G* loses ~1e-16 ||f*|| to cancellation;
* ball arithmetic (python-flint arb at ``PRECISION`` bits) with the parameters in deviation form
  w_i = (w*_j + dm_j) pi_i / sum_{V_j} pi, theta_i = theta*_j + Delta_i (the shares renormalised in balls, so a
  cell's mass is exact although the doubles pi_i sum to 1 only to rounding), the truth exact rationals: no cancellation is
  lost. Used whenever the float64 phi is below ``EXTENDED_BELOW`` ||f*|| (the note's switch to extended
  precision; residuals *and* parameters are then exact to 2^-PRECISION: an arb iterate u goes through the
  arb kernel of the coordinate map, :meth:`~.coordinates.Coordinates.arb_deviations`).

The Jacobian d r / d u = sqrt(W) (d f_G / d(w, theta)) (d(w, theta) / d u): exact symbolic gradient (float64
suffices: it multiplies a step, no cancellation) times the exact symbolic Jacobian of the coordinate map; the
kernel call of a residual also gives the gradient, kept for the Jacobian at the same point.
"""

from __future__ import annotations

import weakref
from fractions import Fraction

import flint
import sympy as sp
import numpy as np

from ..balls import arb_function, to_ball, weighted_normal
from ..compile import compile_llvm_rows, gradient
from .coordinates import Coordinates, Deviations

PRECISION = 320  # bits of the ball-arithmetic residuals (phi down to ~1e-60 ||f*|| keeps 30 digits)
EXTENDED_BELOW = 1e-10  # float64 phi keeps >= ~6 digits above this fraction of ||f*||
EXTENDED_STEP_DIGITS = 30  # forward-difference step 10^-30 of the ball-arithmetic Jacobian


def as_doubles(u: np.ndarray) -> np.ndarray:
    """The doubles of a float array or of an object array of arb iterates (midpoints)."""
    return np.asarray(u, dtype=float)


class Residuals:
    """Residuals and Jacobians of one configuration on one rule (module docstring)."""

    def __init__(self, coords: Coordinates, points: np.ndarray, weights: np.ndarray):
        self.coords = coords
        model = coords.model
        built = model.build(coords.k)
        truth = model.build(model.k_true)
        self.args = [*built.weights, *np.ravel(built.atoms)]
        values = {w: v for w, v in zip(truth.weights, model.true_weights)}
        values.update({s: v for row, true in zip(truth.atoms, model.true_atoms) for s, v in zip(row, true)})
        true_expr = truth.expr.xreplace({s: _sympy_rational(v) for s, v in values.items()})
        self.points, self.sqrt_w = points, np.sqrt(weights)
        self._built = built
        self._kernel = None  # the float kernel, compiled on first use (:meth:`_float`; a check rule never needs it)
        self._rows = np.empty((len(points), points.shape[1] + len(self.args)))
        self._rows[:, : points.shape[1]] = points
        self._out = np.empty((len(points), 1 + len(self.args)))
        self._last: tuple | None = None  # ((u bytes, eps), f_G values, gradients, d vector / d u)
        # ball arithmetic: Gaussian components when the model has them, else the expression at every node
        self._mixture = _GaussianComponents(built, self.args, points) if built.components else None
        self.arb_kernel = None if self._mixture else arb_function([built.expr], [*built.inputs, *self.args])
        old = flint.ctx.prec
        flint.ctx.prec = PRECISION
        try:
            true_kernel = arb_function([true_expr], list(truth.inputs))
            self.arb_points = [[flint.arb(float(c)) for c in p] for p in points]
            self.true_arb = [true_kernel(*p)[0] for p in self.arb_points]
        finally:
            flint.ctx.prec = old
        self.true_float = np.array([float(v.mid()) for v in self.true_arb])
        self.scale = float(np.sqrt(np.sum(weights * self.true_float**2)))

    def _float(self, u: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(f_G at the nodes, its gradients in (w, theta), d vector / d u) at the double point u; the last
        evaluation is kept (the Jacobian of an accepted step is taken where its residual was)."""
        key = (u.tobytes(), eps)
        if self._kernel is None:
            self._kernel = _float_kernel(self.coords.model, self.coords.k, self._built, self.args)
        if self._last is None or self._last[0] != key:
            vector, vector_jacobian = self.coords.vector_and_jacobian(u, eps)
            self._rows[:, self.points.shape[1]:] = vector
            with np.errstate(all="ignore"):
                self._kernel(self._rows, out=self._out)
            self._last = (key, self._out[:, 0].copy(), self._out[:, 1:].copy(), vector_jacobian)
        return self._last[1:]

    def extended(self, dev: Deviations) -> np.ndarray:
        """sqrt(W) (f_G - f*) at the point ``dev`` in ball arithmetic (midpoints returned)."""
        return self.sqrt_w * np.array([float(v.mid()) for v in self._balls(dev)])

    def _balls(self, dev: Deviations) -> list[flint.arb]:
        """f_G - f* at every node, as balls (``PRECISION`` bits); ``dev`` exact (rationals, doubles or arb)."""
        c = self.coords
        old = flint.ctx.prec
        flint.ctx.prec = PRECISION
        try:
            shares = [to_ball(p) for p in dev.pi]
            totals = [sum((shares[i] for i in rows), flint.arb(0)) for rows in c.members]
            weights = [(to_ball(c.model.true_weights[j]) + to_ball(dev.dm[j])) * shares[i] / totals[j]
                       for i, j in enumerate(c.cell_of)]
            atoms = [to_ball(c.model.true_atoms[j][p]) + to_ball(dev.delta[i, p])
                     for i, j in enumerate(c.cell_of) for p in range(c.P)]
            if self._mixture is not None:
                values = self._mixture.values([*weights, *atoms])
            else:
                values = [self.arb_kernel(*p, *weights, *atoms)[0] for p in self.arb_points]
            return [v - t for v, t in zip(values, self.true_arb)]
        finally:
            flint.ctx.prec = old

    def arb_deviations(self, u: np.ndarray, eps: float) -> Deviations:
        """The deviations of an iterate (doubles or arb) in ball arithmetic at ``PRECISION`` bits."""
        old = flint.ctx.prec
        flint.ctx.prec = PRECISION
        try:
            return self.coords.arb_deviations([to_ball(v) for v in u], flint.arb(eps))
        finally:
            flint.ctx.prec = old

    def residual(self, u: np.ndarray, eps: float) -> np.ndarray:
        """r at u (doubles, or an object array of arb: the extended-precision iterate)."""
        values = self._float(as_doubles(u), eps)[0]
        r = self.sqrt_w * (values - self.true_float)
        if np.linalg.norm(r) < EXTENDED_BELOW * self.scale or not np.all(np.isfinite(r)):
            r = self.extended(self.arb_deviations(u, eps))
        return r

    def jacobian(self, u: np.ndarray, eps: float, extended: bool = False) -> np.ndarray:
        """d r / d u: float64 (symbolic gradient x symbolic Jacobian of the map), or with ``extended`` (u an arb
        array) forward differences with step 10^-``EXTENDED_STEP_DIGITS`` in ball arithmetic: the step's truncation
        error (~1e-30) and the balls' rounding (~1e-96 / 1e-30) are far below the entries a cancellation inside a
        cell leaves (the float64 product loses every entry below ~1e-17)."""
        if extended:
            base = self._balls(self.arb_deviations(u, eps))
            old = flint.ctx.prec
            flint.ctx.prec = PRECISION
            try:
                step = flint.arb(10) ** -EXTENDED_STEP_DIGITS
                columns = []
                for a in range(len(u)):
                    moved = np.array([to_ball(v) for v in u], dtype=object)
                    moved[a] = moved[a] + step
                    shifted = self._balls(self.arb_deviations(moved, eps))
                    columns.append([float(((b - a0) / step).mid()) for b, a0 in zip(shifted, base)])
            finally:
                flint.ctx.prec = old
            return self.sqrt_w[:, None] * np.array(columns, dtype=float).T
        _, grads, vector_jacobian = self._float(as_doubles(u), eps)
        return self.sqrt_w[:, None] * (grads @ vector_jacobian)


class _GaussianComponents:
    """f_G = sum_i gate_i(x) N(y | mean_i(x), var_i) (density models and Gaussian mixtures: ``Built.components``)
    in ball arithmetic on a rule: gate, mean and variance once per distinct input x of the rule (one compiled arb
    kernel), then per node sum_i gate_i / sqrt(2 pi var_i) exp(-(y - mean_i)^2 / (2 var_i)) -- the same function as
    the expression, evaluated without repeating the x-only work at every response node."""

    def __init__(self, built, args: list, points: np.ndarray):
        gates, means, variances = zip(*built.components)
        inputs = list(built.inputs[:-1])  # the response y is the last input
        self.k, self.size = len(gates), len(points)
        self.kernel = arb_function([*gates, *means, *variances], [*inputs, *args])
        rows, x_of = np.unique(points[:, :-1], axis=0, return_inverse=True)
        self.groups = [(list(map(float, row)), np.flatnonzero(np.ravel(x_of) == r), points[np.ravel(x_of) == r, -1])
                       for r, row in enumerate(rows)]

    def values(self, parameters: list) -> np.ndarray:
        """f_G at every node (an object array of balls at the caller's precision)."""
        k = self.k
        out = np.empty(self.size, dtype=object)
        for x, nodes, ys in self.groups:
            v = self.kernel(*(flint.arb(c) for c in x), *parameters)
            y = np.array([flint.arb(c) for c in ys], dtype=object)
            total = np.zeros(len(ys), dtype=object)
            for i in range(k):
                total = total + weighted_normal(v[i], y - v[k + i], v[2 * k + i])
            out[nodes] = total
        return out

_FLOAT_KERNELS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _float_kernel(model, k: int, built, args: list):
    """The LLVM kernel of (f_G, its gradient in (w, theta)) with k atoms, one per (model, k): every configuration
    and rule of a question shares it."""
    kernels = _FLOAT_KERNELS.setdefault(model, {})
    if k not in kernels:
        kernels[k] = compile_llvm_rows([built.expr, *gradient(built.expr, args)], [*built.inputs, *args])
    return kernels[k]


def _sympy_rational(value: Fraction) -> sp.Rational:
    return sp.Rational(value.numerator, value.denominator)
