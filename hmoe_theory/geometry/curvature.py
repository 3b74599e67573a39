"""Curvature from first and second derivatives of an immersion (Gauss equation) and tensor contractions.

Setting. A mean map ``Y: Theta subset R^n -> R^D`` and an inner product ``<u, w> = u^T W w`` on
``R^D`` (``W = Sigma^-1`` for a fixed SPD covariance ``Sigma``; for whitened coordinates ``W = I``).
With ``J_a = dY/dtheta_a`` and ``H_ab = d^2 Y/dtheta_a dtheta_b``:

* metric (Fisher information of ``N(Y(theta), Sigma)``): ``g_ab = <J_a, J_b>``;
* Christoffel symbols of the first kind: ``Gamma_{e,ab} = <J_e, H_ab>``;
* second fundamental form (normal part of ``H``): ``II_ab = H_ab - J_e g^{ef} Gamma_{f,ab}``, so
  ``<II_ac, II_bd> = <H_ac, H_bd> - Gamma_{e,ac} g^{ef} Gamma_{f,bd}``;
* Gauss equation (the ambient space is flat): ``R_abcd = <II_ac, II_bd> - <II_ad, II_bc>``.

Sign convention (documented once, used everywhere, also by the Christoffel path of
:mod:`hmoe_theory.geometry.gaussian_family`): ``R_abcd = g(R(e_c, e_d) e_b, e_a)`` with
``R(X, Y)Z = nabla_X nabla_Y Z - nabla_Y nabla_X Z - nabla_[X,Y] Z``; then

* sectional curvature ``K(X, Y) = R_abcd X^a Y^b X^c Y^d / (g(X,X) g(Y,Y) - g(X,Y)^2)``
  (the sphere of radius ``r`` gives ``+1/r^2``, a cylinder ``0``);
* Ricci ``Ric_bd = g^{ac} R_abcd``; scalar ``S = g^{bd} Ric_bd`` (``= 2K`` on a surface);
* Gaussian curvature of a surface (``n = 2``): ``K = R_1212 / det g``.

Hypothesis: ``Y`` is an immersion at the point (``J`` has full column rank ``n <= D``); otherwise the
metric is singular and :class:`~hmoe_theory.errors.ModelError` is raised by the callers.

Two implementations of the same formulas: :func:`riemann_numeric` (numpy, batched over any leading
shape) and :func:`riemann_scalar` (plain loops over entries: exact sympy or mpmath numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import ModelError

#: the sign convention every curvature result prints (see the module docstring)
SIGN_CONVENTION = "sign: a sphere of radius R has K = +1/R^2"


def shorten(text: str, limit: int = 160) -> str:
    """``text`` cut to about ``limit`` characters for a repr, saying how long it was."""
    return text if len(text) <= limit else f"{text[: limit - 30]} ... ({len(text)} characters)"

# ---------------------------------------------------------------- numeric (batched numpy) path


def riemann_numeric(J: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Metric, Riemann tensor and ``det g`` from whitened derivatives (``W = I``), batched.

    ``J``: shape ``(..., D, n)``; ``H``: shape ``(..., D, n, n)``. Returns ``g`` ``(..., n, n)``,
    ``R`` ``(..., n, n, n, n)`` (indices ``a, b, c, d``) and ``det g`` ``(...)``.

    Numerics: the normal part ``II_ab = H_ab - Q Q^T H_ab`` uses the thin QR factorisation ``J = Q T``
    (a backward-stable projection; the normal equations ``g^-1 J^T H`` would square the condition
    number of ``J``), and ``det g = prod(diag T)^2``. The caller checks the immersion hypothesis.
    """
    g = np.einsum("...ia,...ib->...ab", J, J)
    Q, T = np.linalg.qr(J)
    II = H - np.einsum("...ie,...je,...jab->...iab", Q, Q, H)
    M = np.einsum("...iac,...ibd->...acbd", II, II)  # M[a, c, b, d] = <II_ac, II_bd>
    R = np.einsum("...acbd->...abcd", M) - np.einsum("...adbc->...abcd", M)
    det = np.prod(np.diagonal(T, axis1=-2, axis2=-1), axis=-1) ** 2
    return g, R, det


def immersion_defect(J: np.ndarray) -> np.ndarray:
    """``sigma_min(J) / sigma_max(J)`` per point; shape ``J.shape[:-2]``.

    0 where ``J`` is rank-deficient, or where ``sigma_min < 1e-150`` (so tiny that ``g = J^T J`` underflows
    in double precision: numerically the map is not an immersion there)."""
    s = np.linalg.svd(J, compute_uv=False)
    top, bottom = s[..., 0], s[..., -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 1e-150, bottom / np.where(top > 0, top, 1.0), 0.0)


def sectional_numeric(g: np.ndarray, R: np.ndarray, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``K(X, Y)`` for tangent vectors ``X, Y`` (shape ``(n,)`` or batched ``(..., n)``)."""
    num = np.einsum("...abcd,...a,...b,...c,...d->...", R, X, Y, X, Y)
    gxx = np.einsum("...ab,...a,...b->...", g, X, X)
    gyy = np.einsum("...ab,...a,...b->...", g, Y, Y)
    gxy = np.einsum("...ab,...a,...b->...", g, X, Y)
    return num / (gxx * gyy - gxy**2)


def ricci_numeric(g: np.ndarray, R: np.ndarray) -> np.ndarray:
    """``Ric_bd = g^{ac} R_abcd``, batched."""
    return np.einsum("...ac,...abcd->...bd", np.linalg.inv(g), R)


def scalar_numeric(g: np.ndarray, R: np.ndarray) -> np.ndarray:
    """``S = g^{bd} g^{ac} R_abcd``, batched."""
    ginv = np.linalg.inv(g)
    return np.einsum("...bd,...ac,...abcd->...", ginv, ginv, R)


def gaussian_numeric(det_g: np.ndarray, R: np.ndarray) -> np.ndarray:
    """``K = R_1212 / det g`` for surfaces (``n = 2``), batched."""
    return R[..., 0, 1, 0, 1] / det_g


# ---------------------------------------------------------------- entrywise path (sympy / mpmath)

Number = Any  # a sympy expression or an mpmath mpf


def _inner(u: Sequence[Number], w: Sequence[Number], W: Sequence[Sequence[Number]] | None) -> Number:
    if W is None:
        return sum((a * b for a, b in zip(u, w)), 0)
    return sum((u[i] * W[i][j] * w[j] for i in range(len(u)) for j in range(len(w)) if W[i][j] != 0), 0)


def metric_scalar(J: Sequence[Sequence[Number]], W=None) -> list[list[Number]]:
    """``g_ab = <J_a, J_b>`` where ``J[a]`` is the column ``dY/dtheta_a`` (a list of D entries)."""
    n = len(J)
    return [[_inner(J[a], J[b], W) for b in range(n)] for a in range(n)]


def riemann_scalar(
    J: Sequence[Sequence[Number]],
    H: Sequence[Sequence[Sequence[Number]]],
    inverse: Callable[[list[list[Number]]], list[list[Number]]],
    W: Sequence[Sequence[Number]] | None = None,
) -> tuple[list[list[Number]], dict[tuple[int, int, int, int], Number]]:
    """Metric and Riemann tensor, entry by entry (exact sympy numbers/expressions or mpmath numbers).

    ``J[a]``: the D entries of ``dY/dtheta_a``; ``H[a][b]``: those of ``d^2Y/dtheta_a dtheta_b``;
    ``W``: the inner product on ``R^D`` (None = identity); ``inverse``: inverts an ``n x n`` list matrix.
    Returns ``g`` and ``R`` as a dict over all index quadruples.
    """
    n = len(J)
    g = metric_scalar(J, W)
    ginv = inverse(g)
    gamma = [[[_inner(J[e], H[a][b], W) for b in range(n)] for a in range(n)] for e in range(n)]

    def ii(a: int, c: int, b: int, d: int) -> Number:
        correction = sum(
            (gamma[e][a][c] * ginv[e][f] * gamma[f][b][d] for e in range(n) for f in range(n)), 0
        )
        return _inner(H[a][c], H[b][d], W) - correction

    R = {}
    for a in range(n):
        for b in range(n):
            for c in range(n):
                for d in range(n):
                    R[a, b, c, d] = ii(a, c, b, d) - ii(a, d, b, c)
    return g, R


def ricci_scalar_entries(
    g_inverse: Sequence[Sequence[Number]], R: dict[tuple[int, int, int, int], Number]
) -> tuple[list[list[Number]], Number]:
    """Ricci tensor ``g^{ac} R_abcd`` and scalar curvature from entrywise ``R``."""
    n = len(g_inverse)
    ric = [
        [sum((g_inverse[a][c] * R[a, b, c, d] for a in range(n) for c in range(n)), 0) for d in range(n)]
        for b in range(n)
    ]
    scalar = sum((g_inverse[b][d] * ric[b][d] for b in range(n) for d in range(n)), 0)
    return ric, scalar


# ---------------------------------------------------------------- numeric results with their checks

IMMERSION_TOLERANCE = 1e-7  # sigma_min(J) / sigma_max(J) below this: not an immersion (cond(g) > 1e14)


def check_immersion(J: np.ndarray, name: str, points: np.ndarray | None = None) -> None:
    """Raise :class:`ModelError` (one line) unless ``J`` (``(..., D, n)``) has full column rank everywhere.

    Full rank means ``sigma_min(J) > IMMERSION_TOLERANCE * sigma_max(J)``; the first failing point is named.
    """
    if J.shape[-1] > J.shape[-2]:
        raise ModelError(f"{name}: {J.shape[-1]} parameters but only {J.shape[-2]} outputs; not an immersion")
    if not np.all(np.isfinite(J)):
        bad = np.argwhere(~np.all(np.isfinite(J), axis=(-2, -1)))
        where = _describe_point(points, bad[0] if bad.size else None)
        raise ModelError(f"{name}: derivatives are not finite at {where}")
    defect = immersion_defect(J)
    bad = np.argwhere(np.atleast_1d(defect <= IMMERSION_TOLERANCE).reshape(defect.shape or (1,)))
    if bad.size:
        index = tuple(bad[0]) if defect.shape else None
        where = _describe_point(points, index)
        raise ModelError(
            f"{name}: the Jacobian is rank-deficient at {where} (sigma_min/sigma_max <= {IMMERSION_TOLERANCE:g}); "
            "the map is not an immersion there and the Fisher metric is singular"
        )


def _describe_point(points: np.ndarray | None, index) -> str:
    if points is None:
        return "the point"
    p = np.asarray(points, dtype=float)
    if index is not None and p.ndim > 1:
        p = p[tuple(index)]
    return "theta = (" + ", ".join(f"{x:.6g}" for x in np.ravel(p)) + ")"


class NumericCurvature:
    """Metric and curvature at one point or a batch of points, computed from whitened ``J`` and ``H``.

    Built by :meth:`from_derivatives` (which checks the immersion hypothesis); every quantity is an
    array with the batch shape of the points (scalars for a single point).
    """

    def __init__(self, metric: np.ndarray, riemann: np.ndarray, metric_determinant: np.ndarray):
        self.metric = metric
        self.riemann = riemann
        self.metric_determinant = metric_determinant

    @classmethod
    def from_derivatives(
        cls, J: np.ndarray, H: np.ndarray, name: str = "mean map", points: np.ndarray | None = None
    ) -> "NumericCurvature":
        """``J``: ``(..., D, n)``, ``H``: ``(..., D, n, n)`` in whitened coordinates (inner product ``I``)."""
        check_immersion(J, name, points)
        if not np.all(np.isfinite(H)):
            raise ModelError(f"{name}: second derivatives are not finite")
        return cls(*riemann_numeric(J, H))

    @property
    def dimension(self) -> int:
        return self.metric.shape[-1]

    def __repr__(self) -> str:
        label, values = ("K", self.gaussian) if self.dimension == 2 else ("scalar S", self.scalar)
        values = np.asarray(values)
        if values.ndim == 0:
            shown = f"{label} = {float(values):.12g} at one point"
        else:
            shown = f"{label} in [{values.min():.6g}, {values.max():.6g}] over {'x'.join(map(str, values.shape))} points"
        return f"NumericCurvature({shown}, {self.dimension} coordinates; {SIGN_CONVENTION})"

    @property
    def gaussian(self) -> np.ndarray:
        """Gaussian curvature ``R_1212 / det g`` (surfaces only)."""
        if self.dimension != 2:
            raise ModelError(f"curvature: Gaussian curvature needs 2 parameters, got {self.dimension}")
        return gaussian_numeric(self.metric_determinant, self.riemann)

    @property
    def ricci(self) -> np.ndarray:
        return ricci_numeric(self.metric, self.riemann)

    @property
    def scalar(self) -> np.ndarray:
        return scalar_numeric(self.metric, self.riemann)

    def sectional(self, X: Sequence[float], Y: Sequence[float]) -> np.ndarray:
        """Sectional curvature of the 2-plane spanned by ``X`` and ``Y`` (must be independent)."""
        X = np.asarray(X, dtype=float)
        Y = np.asarray(Y, dtype=float)
        n = self.dimension
        if X.shape[-1] != n or Y.shape[-1] != n:
            raise ModelError(f"curvature: tangent vectors need {n} components")
        if np.linalg.matrix_rank(np.stack([np.ravel(X)[:n], np.ravel(Y)[:n]])) < 2 and X.ndim == Y.ndim == 1:
            raise ModelError("curvature: X and Y are linearly dependent; they do not span a 2-plane")
        return sectional_numeric(self.metric, self.riemann, X, Y)

