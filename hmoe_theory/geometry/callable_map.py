"""Curvature of a mean map given only as a numpy callable ``Y: R^n -> R^D`` (no symbolic form).

Derivatives by central finite differences with one Richardson step (both difference quotients have
error series in even powers of the step ``h``, so ``(4 D(h/2) - D(h)) / 3`` cancels the ``h^2`` term):

* ``J_a ~ (Y(t + h e_a) - Y(t - h e_a)) / 2h``;
* ``H_aa ~ (Y(t + h e_a) - 2 Y(t) + Y(t - h e_a)) / h^2``;
* ``H_ab ~ (Y(t + h e_a + h e_b) - Y(t + h e_a - h e_b) - Y(t - h e_a + h e_b) + Y(t - h e_a - h e_b)) / 4h^2``.

Hypotheses: ``Y`` is C^6 near the point (the truncation error is O(h^4)) and evaluated in float64
(round-off O(eps / h^2) in ``H``). With the default ``h = 1e-2`` the curvature of well-scaled maps is
accurate to about 1e-7 relative; use :class:`~hmoe_theory.geometry.metric.PullbackMetric` whenever a
symbolic form exists (exact derivatives, ~1e-15). Costs ``1 + 4n + 2n(n-1)`` evaluations per step size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ModelError
from .curvature import NumericCurvature


def _difference_quotients(f: Callable[[np.ndarray], np.ndarray], t: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    n = t.size
    e = np.eye(n) * h
    centre = f(t)
    plus = [f(t + e[a]) for a in range(n)]
    minus = [f(t - e[a]) for a in range(n)]
    J = np.stack([(plus[a] - minus[a]) / (2 * h) for a in range(n)], axis=-1)
    H = np.empty((centre.size, n, n))
    for a in range(n):
        H[:, a, a] = (plus[a] - 2 * centre + minus[a]) / h**2
        for b in range(a + 1, n):
            mixed = f(t + e[a] + e[b]) - f(t + e[a] - e[b]) - f(t - e[a] + e[b]) + f(t - e[a] - e[b])
            H[:, a, b] = H[:, b, a] = mixed / (4 * h**2)
    return J, H


class CallableMeanMap:
    """``y ~ N(Y(theta), Sigma)`` with ``Y`` a numpy callable; metric and curvature at points.

    ``mean_map(theta)`` takes a float array of shape ``(n,)`` and returns shape ``(D,)``;
    ``sigma``: ``None`` (identity), variances ``(D,)`` or an SPD ``(D, D)`` matrix.
    """

    def __init__(
        self,
        mean_map: Callable[[np.ndarray], np.ndarray],
        dimension: int,
        sigma: Sequence[float] | np.ndarray | None = None,
        step: float = 1e-2,
        name: str = "callable mean map",
    ):
        if not isinstance(dimension, int) or dimension < 1:
            raise ModelError(f"{name}: the parameter dimension must be a positive integer, got {dimension!r}")
        if not step > 0:
            raise ModelError(f"{name}: the finite-difference step must be positive, got {step!r}")
        self.mean_map, self.dimension, self.step, self.name = mean_map, dimension, float(step), name
        self._sigma = sigma

    def _evaluate(self, theta: np.ndarray) -> np.ndarray:
        try:
            value = np.asarray(self.mean_map(theta), dtype=float)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{self.name}: evaluating the map failed: {exc}") from None
        if value.ndim != 1 or not np.all(np.isfinite(value)):
            raise ModelError(f"{self.name}: the map must return a finite 1-D array, got shape {value.shape}")
        return value

    def _whitening(self, D: int) -> np.ndarray:
        if self._sigma is None:
            return np.eye(D)
        sigma = np.asarray(self._sigma, dtype=float)
        sigma = np.diag(sigma) if sigma.ndim == 1 else sigma
        if sigma.shape != (D, D) or not np.allclose(sigma, sigma.T):
            raise ModelError(f"{self.name}: Sigma must be a symmetric {D} x {D} matrix or {D} variances")
        try:
            return np.linalg.inv(np.linalg.cholesky(sigma))
        except np.linalg.LinAlgError:
            raise ModelError(f"{self.name}: Sigma is not positive definite") from None

    def derivatives(self, point: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """Whitened ``J`` ``(D, n)`` and ``H`` ``(D, n, n)`` at one point (Richardson-extrapolated)."""
        t = np.asarray(point, dtype=float)
        if t.shape != (self.dimension,):
            raise ModelError(f"{self.name}: a point needs {self.dimension} coordinates, got shape {t.shape}")
        coarse = _difference_quotients(self._evaluate, t, self.step)
        fine = _difference_quotients(self._evaluate, t, self.step / 2)
        J, H = ((4 * f - c) / 3 for f, c in zip(fine, coarse))
        Linv = self._whitening(J.shape[0])
        return Linv @ J, np.einsum("ij,jab->iab", Linv, H)

    def curvature(self, point: Sequence[float]) -> NumericCurvature:
        """Metric and curvature at ``point`` (checks that the map is an immersion there)."""
        J, H = self.derivatives(point)
        return NumericCurvature.from_derivatives(J, H, self.name, np.asarray(point, dtype=float))

    def metric(self, point: Sequence[float]) -> np.ndarray:
        return self.curvature(point).metric

    def gaussian_curvature(self, point: Sequence[float]) -> float:
        return float(self.curvature(point).gaussian)

    def sectional_curvature(self, point: Sequence[float], X: Sequence[float], Y: Sequence[float]) -> float:
        return float(self.curvature(point).sectional(X, Y))

    def scalar_curvature(self, point: Sequence[float]) -> float:
        return float(self.curvature(point).scalar)
