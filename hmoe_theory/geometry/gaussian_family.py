"""Fisher metric of a full Gaussian family ``N(mu(theta), Sigma(theta))`` and its curvature via Christoffel symbols.

Fisher information (``d`` = dimension of ``y``, ``theta`` in ``R^n``):

    ``g_ab = d_a mu^T Sigma^-1 d_b mu + 1/2 tr(Sigma^-1 d_a Sigma Sigma^-1 d_b Sigma)``.

Hypotheses: ``Sigma(theta)`` symmetric positive definite and ``g`` non-degenerate on the domain.

Curvature of any metric ``g(theta)`` given by exact expressions (the Levi-Civita connection):

* ``Gamma^k_ij = 1/2 g^{kl} (d_i g_jl + d_j g_il - d_l g_ij)``;
* ``R^a_bcd = d_c Gamma^a_db - d_d Gamma^a_cb + Gamma^a_ce Gamma^e_db - Gamma^a_de Gamma^e_cb``,
  ``R_abcd = g_ae R^e_bcd`` -- the convention of :mod:`hmoe_theory.geometry.curvature`, so that
  ``K = R_1212 / det g`` and the sphere has ``+1/r^2``.

Classic check: the univariate normal family ``N(mu, s^2)`` has ``g = diag(1, 2) / s^2`` and constant
curvature ``-1/2``; ``N(mu, s^2 I_d)`` is hyperbolic with sectional curvature ``-1 / (2d)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from ..errors import ModelError
from ..timelimit import time_limit
from .curvature import ricci_scalar_entries

Simplifier = Callable[[sp.Expr], sp.Expr]


def _cancel(e: sp.Expr) -> sp.Expr:
    return sp.cancel(sp.together(e))


def gaussian_fisher_metric(
    mean: Sequence[sp.Expr], covariance: sp.Matrix, params: Sequence[sp.Symbol], simplify: Simplifier = _cancel
) -> sp.Matrix:
    """Exact Fisher information of ``N(mean(theta), covariance(theta))`` (formula in the module docstring)."""
    mu = sp.Matrix(list(mean))
    S = sp.Matrix(covariance)
    if S.shape != (len(mu), len(mu)):
        raise ModelError(f"Gaussian family: covariance must be {len(mu)}x{len(mu)}, got {S.shape[0]}x{S.shape[1]}")
    if (S - S.T).applyfunc(simplify) != sp.zeros(*S.shape):
        raise ModelError("Gaussian family: the covariance is not symmetric")
    S_inv = S.inv()
    dmu = [mu.diff(p) for p in params]
    dS = [S.diff(p) for p in params]
    n = len(params)
    return sp.Matrix(
        n,
        n,
        lambda a, b: simplify(
            (dmu[a].T * S_inv * dmu[b])[0, 0] + sp.Rational(1, 2) * (S_inv * dS[a] * S_inv * dS[b]).trace()
        ),
    )


def christoffel_symbols(
    g: sp.Matrix, params: Sequence[sp.Symbol], simplify: Simplifier = _cancel
) -> list[list[list[sp.Expr]]]:
    """``Gamma[k][i][j] = Gamma^k_ij`` of the Levi-Civita connection of ``g``."""
    n = len(params)
    g_inv = g.inv().applyfunc(simplify)
    dg = [g.diff(p) for p in params]  # dg[l][i, j] = d_l g_ij
    return [
        [
            [
                simplify(
                    sum(g_inv[k, l] * (dg[i][j, l] + dg[j][i, l] - dg[l][i, j]) for l in range(n)) / 2
                )
                for j in range(n)
            ]
            for i in range(n)
        ]
        for k in range(n)
    ]


def riemann_from_metric(
    g: sp.Matrix, params: Sequence[sp.Symbol], simplify: Simplifier = _cancel
) -> dict[tuple[int, int, int, int], sp.Expr]:
    """``R_abcd`` (all lowered) of the metric ``g(params)`` through Christoffel symbols."""
    n = len(params)
    G = christoffel_symbols(g, params, simplify)

    def up(a: int, b: int, c: int, d: int) -> sp.Expr:  # R^a_bcd
        value = sp.diff(G[a][d][b], params[c]) - sp.diff(G[a][c][b], params[d])
        value += sum(G[a][c][e] * G[e][d][b] - G[a][d][e] * G[e][c][b] for e in range(n))
        return value

    mixed = {(a, b, c, d): up(a, b, c, d) for a in range(n) for b in range(n) for c in range(n) for d in range(n)}
    return {
        (a, b, c, d): simplify(sum(g[a, e] * mixed[e, b, c, d] for e in range(n)))
        for a in range(n)
        for b in range(n)
        for c in range(n)
        for d in range(n)
    }


class GaussianFamilyMetric:
    """Fisher-Rao geometry of ``{N(mu(theta), Sigma(theta))}`` (exact, via Christoffel symbols).

    ``mean``: ``d`` expressions; ``covariance``: ``d x d`` matrix of expressions (SPD on the domain);
    ``params``: the ``n`` coordinates. All computations run under ``time_limit_s``.
    """

    def __init__(
        self,
        mean: Sequence[sp.Expr],
        covariance: sp.Matrix | Sequence[Sequence[sp.Expr]],
        params: Sequence[sp.Symbol],
        time_limit_s: float = 20.0,
    ):
        self.mean = tuple(sp.sympify(m) for m in mean)
        self.covariance = sp.Matrix(covariance)
        self.params = tuple(params)
        self.time_limit_s = time_limit_s
        with time_limit(time_limit_s, "Fisher metric of a Gaussian family"):
            self.metric = gaussian_fisher_metric(self.mean, self.covariance, self.params)
            if _cancel(self.metric.det()) == 0:
                raise ModelError("Gaussian family: the Fisher metric is degenerate (parameters not identifiable)")

    def riemann(self) -> dict[tuple[int, int, int, int], sp.Expr]:
        """Exact ``R_abcd``."""
        with time_limit(self.time_limit_s, "Christoffel curvature of a Gaussian family"):
            return riemann_from_metric(self.metric, self.params)

    def gaussian_curvature(self) -> sp.Expr:
        """``R_1212 / det g`` (two parameters)."""
        if len(self.params) != 2:
            raise ModelError(f"Gaussian curvature needs 2 parameters, got {len(self.params)}")
        R = self.riemann()
        with time_limit(self.time_limit_s, "Gaussian curvature"):
            return sp.simplify(R[0, 1, 0, 1] / self.metric.det())

    def sectional_curvature(self, X: Sequence[sp.Expr], Y: Sequence[sp.Expr]) -> sp.Expr:
        """``R_abcd X^a Y^b X^c Y^d / (g(X,X) g(Y,Y) - g(X,Y)^2)`` (exact)."""
        R = self.riemann()
        n = len(self.params)
        idx = range(n)
        with time_limit(self.time_limit_s, "sectional curvature"):
            num = sum(R[a, b, c, d] * X[a] * Y[b] * X[c] * Y[d] for a in idx for b in idx for c in idx for d in idx)
            X_, Y_ = sp.Matrix(X), sp.Matrix(Y)
            den = (X_.T * self.metric * X_)[0] * (Y_.T * self.metric * Y_)[0] - (X_.T * self.metric * Y_)[0] ** 2
            return sp.simplify(num / den)

    def scalar_curvature(self) -> sp.Expr:
        """``g^{bd} g^{ac} R_abcd`` (exact)."""
        R = self.riemann()
        with time_limit(self.time_limit_s, "scalar curvature"):
            _, scalar = ricci_scalar_entries(self.metric.inv().tolist(), R)
            return sp.simplify(scalar)
