"""Fisher information of a Gaussian mixture of experts at a parameter point, and its rank.

Model (density mode of :class:`hmoe_theory.families.Mixture`): X ~ Uniform([-1, 1]^d) and

    p(y | x; theta) = sum_j w_j(x) N(y | E_j(x), nu_j),

    I(theta) = E_X E_{Y|X} [ s s^T ],   s = grad_theta log p(Y | X; theta) = grad_theta p / p.

* ``method="quadrature"`` (d <= 2): I = E_X int grad p grad p^T / p dy, Gauss-Legendre in each x
  coordinate and the trapezoidal rule in y on [min_j E_j - 12 sd_j, max_j E_j + 12 sd_j] (spectrally
  accurate for smooth integrands decaying like Gaussians; per-component Gauss-Hermite converges slowly
  here because grad p / p switches between components); the reported error is the largest entry
  change when the numbers of nodes are halved
  (a conservative bound: the converged rule is typically orders of magnitude more accurate).
* ``method="monte-carlo"``: n i.i.d. draws (x, j, y); I is the sample mean of s s^T and ``error`` the
  entrywise standard error (sample std / sqrt(n)). Its rank is that of the empirical matrix: exact
  degeneracies (identical scores) give singular values at rounding level, but a small genuine singular
  value should be compared with the error bars.

Numerical rank: number of singular values of I above ``rtol * sigma_max`` (default rtol = 1e-8, far above
quadrature error for smooth integrands, far below the spectrum of a regular model). The
eigenvectors of the remaining singular values are the numerically non-identifiable directions.

Proved rank (``certify=True``, :func:`certify_fisher_rank`): I = E_X int grad p grad p^T / p dy is the Gram
matrix of the functions d p / d theta_a in L^2(dx dy / p), so I c = 0 iff sum_a c_a dp/dtheta_a = 0 almost
everywhere on [-1, 1]^d x R. Hence rank I = dim span {dp/dtheta_a} (as functions of (x, y) on that domain), and
*lower bound*: a non-singular evaluation minor of those functions at rational points of [-1, 1]^{d+1} (ball
arithmetic, :func:`.independence.certify_independence`, at the exact rational parameter point) proves
rank >= r; *upper bound*: each exactly proved relation sum c_a dp/dtheta_a = 0 (interaction engine, RREF rows)
lowers the rank by one. The report says ``rank r (proved)`` when the bounds meet, else ``numerical rank`` with
the proved interval.

Parametrisation: by default the parameters :attr:`Mixture.pinned` (the last component's bias, and its gate
parameters when the gate is translation invariant) are fixed at their given values and excluded from theta;
pass ``free`` to choose the parameters explicitly.
Hypotheses: a softmax-normalised gate (so p(y | x) is a density), Gaussian noise with variances
nu_j > 0; p(y | x) > 0 (true for Gaussian mixtures).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

import scipy.linalg

from .. import bounds
from ..certify import Status
from ..compile import compile_exprs
from ..errors import ModelError
from ..expr import parse_assignments
from ..families import Mixture
from .derivatives import generic_point
from .discovery import certify_relation, family_null_space
from .independence import RankCertificate, certify_independence

METHODS = ("quadrature", "monte-carlo")
TAIL_WIDTH = 12.0  # y range: component means +- 12 standard deviations (Gaussian tail mass < 1e-32)


@dataclass
class FisherInformation:
    """I(theta) over the free parameters, its spectrum and rank (see module docstring)."""

    matrix: np.ndarray
    params: tuple[str, ...]
    fixed: dict[str, float]
    method: str
    error: np.ndarray  # quadrature: |I(n) - I(n/2)|; Monte Carlo: standard errors
    singular_values: np.ndarray
    tolerance: float
    rank: int
    null_directions: np.ndarray  # columns: orthonormal basis of the numerically singular directions
    evaluations: int
    point: dict[str, float] = field(default_factory=dict)  # every parameter's value
    drawn: tuple[str, ...] = ()  # parameters given no value, drawn at random (generic point, ``seed``)
    certificate: RankCertificate | None = None  # proved bounds on the rank (None: not attempted)

    @property
    def numerical_rank(self) -> int:
        """Eigenvalues above the tolerance (float64)."""
        return int((self.singular_values > self.tolerance).sum())

    @property
    def rank_proved(self) -> bool:
        return self.certificate is not None and self.certificate.proved

    @property
    def singular(self) -> bool:
        return self.rank < len(self.params)

    def to_dict(self) -> dict:
        return {
            "params": list(self.params),
            "fixed": self.fixed,
            "method": self.method,
            "matrix": self.matrix.tolist(),
            "error": self.error.tolist(),
            "singular_values": self.singular_values.tolist(),
            "tolerance": self.tolerance,
            "rank": self.rank,
            "numerical_rank": self.numerical_rank,
            "rank_proved": self.rank_proved,
            "rank_certificate": None if self.certificate is None else self.certificate.to_dict(),
            "singular": self.singular,
            "null_directions": self.null_directions.T.tolist(),
            "evaluations": self.evaluations,
            "point": self.point,
            "drawn": list(self.drawn),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def __repr__(self) -> str:
        return (
            f"FisherInformation({self._rank_line()}; density mode, X ~ U[-1, 1]^d, {self.method}; free parameters "
            f"{', '.join(self.params)}; .table() for the spectrum)"
        )

    def _rank_line(self) -> str:
        numerical = f"numerical rank {self.numerical_rank} (float64 eigenvalues above {self.tolerance:.2e})"
        m = len(self.params)
        if self.rank_proved:
            verdict = "SINGULAR" if self.singular else "regular"
            line = f"rank {self.rank} of {m} ({verdict}, proved: {self.certificate.describe()})"
            return line if self.numerical_rank == self.rank else f"{line}; {numerical}"
        verdict = "SINGULAR" if self.singular else "regular"
        gap = "" if self.certificate is None else f"; proved {self.certificate.lower} <= rank <= {self.certificate.upper}"
        return f"{numerical} of {m} ({verdict} numerically, not proved{gap})"

    def table(self) -> str:
        kind = "error (n vs n/2 nodes)" if self.method == "quadrature" else "standard error"
        lines = [
            f"Fisher information ({self.method}, {self.evaluations} density evaluations), "
            f"{len(self.params)} free parameters",
            self._rank_line(),
            "singular values: " + " ".join(f"{v:.3e}" for v in self.singular_values),
            f"max {kind}: {self.error.max():.2e}",
        ]
        if self.drawn:
            shown = ", ".join(f"{name}={self.point[name]:.6g}" for name in self.drawn)
            lines.append(f"drawn at random (not given in the point): {shown}")
        for direction in self.null_directions.T:
            shown = " ".join(f"{c:+.3f} {p}" for c, p in zip(direction, self.params) if abs(c) > 1e-6)
            lines.append(f"null direction: {shown}")
        return "\n".join(lines)


def _given_point(point: str | Mapping[str, object] | None) -> dict[str, object]:
    if point is None:
        return {}
    return parse_assignments(point) if isinstance(point, str) else dict(point)


def _point_values(mixture: Mixture, point: str | Mapping[str, object] | None, seed: int) -> dict[sp.Symbol, float]:
    values = {p: float(v) for p, v in generic_point(mixture.params, seed).items()}
    given = _given_point(point)
    by_name = {p.name: p for p in mixture.params}
    for name, value in given.items():
        if name not in by_name:
            raise ModelError(f"{mixture.function.name}: no parameter {name!r} (parameters: {', '.join(by_name)})")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ModelError(f"value of {name!r} must be a real number, got {value!r}") from None
        if not np.isfinite(number):
            raise ModelError(f"value of {name!r} must be finite, got {value!r}")
        if by_name[name].is_positive and number <= 0:
            raise ModelError(f"{name!r} is a variance and must be positive, got {number}")
        values[by_name[name]] = number
    return values


def _free_parameters(mixture: Mixture, free: Sequence[str] | None) -> list[sp.Symbol]:
    by_name = {p.name: p for p in mixture.params}
    if free is not None:
        unknown = [n for n in free if n not in by_name]
        if unknown:
            raise ModelError(f"unknown parameter(s) {', '.join(unknown)} (parameters: {', '.join(by_name)})")
        return [by_name[n] for n in free]
    return list(mixture.free_params)


class _Integrand:
    """Numeric kernels: gate weights and expert means, and (p, grad p) over the free parameters."""

    def __init__(self, mixture: Mixture, free: Sequence[sp.Symbol]):
        p = mixture.function.expr
        self.mixture = mixture
        self.args = [*mixture.function.inputs, *mixture.params]
        self.density = compile_exprs([p, *(sp.diff(p, t) for t in free)], self.args)
        self.parts = compile_exprs(
            [*mixture.weights, *(c["expert"] for c in mixture.components)], [*mixture.x, *mixture.params]
        )

    def weights_and_means(self, x: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x: (d, n) -> weights (k, n), means (k, n)."""
        values = self.parts(*x, *theta)
        k = self.mixture.k
        return values[:k], values[k:]

    def values(self, x: np.ndarray, y: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """p (n,) and grad p (m, n) at the points (x[:, i], y[i])."""
        values = self.density(*x, y, *theta)
        if np.any(values[0] <= 0) or not np.all(np.isfinite(values)):
            raise ModelError("the mixture density is zero or not finite at an integration point (check variances)")
        return values[0], values[1:]


def _quadrature(
    integrand: _Integrand, theta: np.ndarray, variances: np.ndarray, nodes_x: int, nodes_y: int
) -> tuple[np.ndarray, int]:
    d = integrand.mixture.d
    gx, gw = np.polynomial.legendre.leggauss(nodes_x)
    grids = np.meshgrid(*([gx] * d), indexing="ij")
    x = np.array([g.ravel() for g in grids])  # (d, n_x^d)
    wx = np.prod(np.meshgrid(*([gw / 2] * d), indexing="ij"), axis=0).ravel()
    _, means = integrand.weights_and_means(x, theta)
    spread = TAIL_WIDTH * np.sqrt(variances)[:, None]
    lo, hi = (means - spread).min(axis=0), (means + spread).max(axis=0)
    t = np.linspace(0.0, 1.0, nodes_y)
    y = lo[:, None] + (hi - lo)[:, None] * t[None, :]  # (n_x, n_y)
    h = np.full(nodes_y, 1.0 / (nodes_y - 1))
    h[[0, -1]] /= 2
    w = (wx * (hi - lo))[:, None] * h[None, :]
    density, gradient = integrand.values(np.repeat(x, nodes_y, axis=1), y.ravel(), theta)
    return (gradient * (w.ravel() / density)) @ gradient.T, y.size


def _monte_carlo(
    integrand: _Integrand, theta: np.ndarray, variances: np.ndarray, samples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    d, k = integrand.mixture.d, integrand.mixture.k
    x = rng.uniform(-1.0, 1.0, size=(d, samples))
    weights, means = integrand.weights_and_means(x, theta)
    cumulative = np.cumsum(weights, axis=0)
    component = np.minimum((rng.uniform(size=samples)[None, :] > cumulative).sum(axis=0), k - 1)
    columns = np.arange(samples)
    y = means[component, columns] + np.sqrt(variances[component]) * rng.standard_normal(samples)
    density, gradient = integrand.values(x, y, theta)
    s = gradient / density
    products = s[:, None, :] * s[None, :, :]
    return products.mean(axis=2), products.std(axis=2, ddof=1) / np.sqrt(samples)


def _exact_point(mixture: Mixture, point: str | Mapping[str, object] | None, seed: int) -> dict[sp.Symbol, sp.Rational]:
    """The parameter point as exact rationals: generic rationals, given rationals as given, other given numbers
    as the binary value of their float (the value the quadrature used)."""
    exact = dict(generic_point(mixture.params, seed))
    by_name = {p.name: p for p in mixture.params}
    for name, value in _given_point(point).items():
        value = sp.sympify(value) if not isinstance(value, sp.Basic) else value
        exact[by_name[name]] = value if value.is_Rational else sp.Rational(float(value))
    return exact


def certify_fisher_rank(
    mixture: Mixture, free: Sequence[sp.Symbol], point: Mapping[sp.Symbol, sp.Rational], matrix: np.ndarray,
    numerical_rank: int, seed: int = 0,
) -> RankCertificate:
    """Proved bounds on rank I(theta) from the functions dp/dtheta_a (see the module docstring): all of them proved
    independent, else the ``numerical_rank`` columns chosen by pivoted QR of I; upper bound from exactly proved
    relations (interaction engine null space at 50 digits, each relation decided by
    :func:`.discovery.certify_relation`) when the numerical rank is deficient."""
    inputs = [*mixture.function.inputs]
    gradients = [sp.diff(mixture.function.expr, t).xreplace(dict(point)) for t in free]
    m = len(gradients)
    full = certify_independence(gradients, inputs, seed=seed, box=1)
    if full.proved:
        return RankCertificate(m, numerical_rank, m, m, full)
    _, _, pivots = scipy.linalg.qr(matrix, pivoting=True)
    chosen = sorted(int(j) for j in pivots[:numerical_rank])
    partial = certify_independence([gradients[j] for j in chosen], inputs, seed=seed, box=1)
    lower = numerical_rank if partial.proved else 0
    proved_relations = 0
    if numerical_rank < m:
        null, digits, _ = family_null_space(gradients, inputs, seed=seed)
        for row in null.basis:
            used = [j for j, c in enumerate(row) if c]
            status, _ = certify_relation([gradients[j] for j in used], [row[j] for j in used], inputs,
                                         sp.Integer(1), 5.0, digits)
            proved_relations += status is Status.PROVED
    return RankCertificate(m, numerical_rank, lower, m - proved_relations, partial)


def fisher_information(
    mixture: Mixture,
    point: str | Mapping[str, object] | None = None,
    method: str = "quadrature",
    *,
    free: Sequence[str] | None = None,
    nodes_x: int | None = None,
    nodes_y: int = 400,
    samples: int = 20000,
    seed: int = 0,
    rtol: float = 1e-8,
    certify: bool = True,
) -> FisherInformation:
    """Fisher information matrix of a density-mode mixture at ``point`` (see module docstring).

    ``point``: ``"name=value,..."`` or a mapping; unspecified parameters get generic random values.
    ``nodes_x``: Gauss-Legendre nodes per x coordinate (default 48 for d = 1, 32 for d = 2).
    ``certify``: prove bounds on the rank (:func:`certify_fisher_rank`); ``rank`` is then the proved rank when the
    bounds meet, else the numerical rank.
    """
    if mixture.mode != "density":
        raise ModelError("the Fisher information needs a density-mode mixture (mode='density')")
    if mixture.gate.normalisation != "softmax":
        raise ModelError("p(y | x) is a probability density only for softmax-normalised gates")
    if method not in METHODS:
        raise ModelError(f"method must be one of {METHODS}, got {method!r}")
    bounds.check("k", mixture.k, f"{mixture.k} mixture components")
    bounds.check("d", mixture.d, f"input dimension {mixture.d}")
    if method == "quadrature" and mixture.d > 2:
        raise ModelError(
            f"tensor Gauss-Legendre quadrature is limited to d <= 2 (got d = {mixture.d}); use monte-carlo"
        )
    values = _point_values(mixture, point, seed)
    free_symbols = _free_parameters(mixture, free)
    if not free_symbols:
        raise ModelError("no free parameter")
    theta = np.array([values[p] for p in mixture.params])
    variances = np.array([values[c["variance"]] for c in mixture.components])
    integrand = _Integrand(mixture, free_symbols)
    if method == "quadrature":
        nodes_x = nodes_x or (48 if mixture.d == 1 else 32)
        matrix, evaluations = _quadrature(integrand, theta, variances, nodes_x, nodes_y)
        coarse, _ = _quadrature(integrand, theta, variances, max(2, nodes_x // 2), max(2, nodes_y // 2))
        error = np.abs(matrix - coarse)
    else:
        matrix, error = _monte_carlo(integrand, theta, variances, samples, seed)
        evaluations = samples
    matrix = (matrix + matrix.T) / 2
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    order = np.argsort(np.abs(eigenvalues))[::-1]
    spectrum = np.abs(eigenvalues[order])
    tolerance = rtol * spectrum[0] if spectrum[0] > 0 else rtol
    rank = int((spectrum > tolerance).sum())
    certificate = None
    if certify:
        certificate = certify_fisher_rank(mixture, free_symbols, _exact_point(mixture, point, seed), matrix, rank, seed)
        rank = certificate.lower if certificate.proved else rank
    return FisherInformation(
        matrix=matrix,
        params=tuple(p.name for p in free_symbols),
        fixed={p.name: values[p] for p in mixture.params if p not in free_symbols},
        method=method,
        error=error,
        singular_values=spectrum,
        tolerance=float(tolerance),
        rank=rank,
        null_directions=eigenvectors[:, order][:, rank:],
        evaluations=evaluations,
        point={p.name: values[p] for p in mixture.params},
        drawn=tuple(p.name for p in mixture.params if p.name not in _given_point(point)),
        certificate=certificate,
    )


__all__ = ["METHODS", "FisherInformation", "fisher_information"]
