"""Vectorised numpy gates and experts for the estimators (hand-written, exact gradients).

Each class evaluates, for data X (n x d) and the parameters of k components (k x p), the values
(n x k) and the exact parameter derivatives of one catalogue family of :mod:`hmoe_theory.families`
(gates: d s / d gamma; experts: gradient coefficients times the design (x, 1), see
:class:`ExpertModel`), with the SAME parameter order as the symbolic family (checked against
``Mixture.from_names(...).function.kernel`` and finite differences in the tests):

==========================  ======================================  ==============================
name                        score s(x) / expert E(x)                parameter blocks (in order)
==========================  ======================================  ==============================
softmax-linear              beta.x                                  beta (d)
quadratic-polynomial        x^T A x + b.x                           A (d^2, row-major), b (d)
quadratic-monomial          x^T A x                                 A (d^2, row-major)
laplace                     -||x - beta||                           beta (d)
linear                      a.x + alpha                             a (d), alpha (1)
ridge-<phi>                 phi(a.x + alpha), phi in sigmoid,       a (d), alpha (1)
                            tanh, gelu (exact), silu
gated-linear                sigmoid(w.x + w0) (a.x + alpha)         w (d), w0 (1), a (d), alpha (1)
==========================  ======================================  ==============================

Gate biases (mixing weights exp(c_j)) are handled by the mixture, not here. The first three gates
are linear in their parameters, s_j(x) = phi(x).gamma_j with a feature map phi, so the softmax is
invariant under gamma_j -> gamma_j + t, c_j -> c_j + t0 (all j); the Laplace gate is invariant
only under the bias shift. Only x^T sym(A) x is identified for quadratic gates (:meth:`canonical`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np
from scipy.special import expit, ndtr

from ..errors import lookup

Array = np.ndarray


class GateModel(ABC):
    """Score s(x; gamma) of a softmax gate (bias excluded)."""

    name: str
    translation_invariant: bool  # softmax invariant under a common shift of the score parameters

    @abstractmethod
    def blocks(self, d: int) -> tuple[tuple[str, int], ...]:
        """Parameter blocks (name, size) in order."""

    def n_params(self, d: int) -> int:
        return sum(size for _, size in self.blocks(d))

    @abstractmethod
    def scores(self, X: Array, P: Array) -> Array:
        """s_j(x_i) for X (n, d), P (k, p): array (n, k)."""

    @abstractmethod
    def score_grads(self, X: Array, P: Array) -> Array:
        """d s_j(x_i) / d P_j: array (n, k, p) (possibly a broadcast view)."""

    def features(self, X: Array) -> Array | None:
        """Feature map phi(X) (n, p) when s_j = phi(x).gamma_j, else None."""
        return None

    def canonical(self, P: Array, d: int) -> Array:
        """Identified version of the parameters (identity unless overridden)."""
        return np.array(P, dtype=float)


class FeatureGate(GateModel):
    """s_j(x) = phi(x) . gamma_j for a fixed feature map phi (softmax-linear and quadratic gates)."""

    translation_invariant = True

    def __init__(self, name: str, quadratic: bool, linear: bool) -> None:
        self.name, self.quadratic, self.linear = name, quadratic, linear

    def blocks(self, d: int) -> tuple[tuple[str, int], ...]:
        if not self.quadratic:
            return (("beta", d),)
        return (("A", d * d), ("b", d)) if self.linear else (("A", d * d),)

    def features(self, X: Array) -> Array:
        X = np.asarray(X, dtype=float)
        parts = []
        if self.quadratic:
            parts.append((X[:, :, None] * X[:, None, :]).reshape(len(X), -1))  # x_u x_v row-major
        if self.linear:
            parts.append(X)
        return np.concatenate(parts, axis=1)

    def scores(self, X: Array, P: Array) -> Array:
        return self.features(X) @ np.asarray(P, dtype=float).T

    def score_grads(self, X: Array, P: Array) -> Array:
        phi = self.features(X)
        return np.broadcast_to(phi[:, None, :], (phi.shape[0], len(P), phi.shape[1]))

    def canonical(self, P: Array, d: int) -> Array:
        """Replace A by sym(A) = (A + A^T)/2 (the only identified part of x^T A x)."""
        P = np.array(P, dtype=float)
        if self.quadratic:
            A = P[:, : d * d].reshape(-1, d, d)
            P[:, : d * d] = ((A + A.transpose(0, 2, 1)) / 2).reshape(-1, d * d)
        return P


class LaplaceGate(GateModel):
    """s_j(x) = -||x - beta_j||; gradient (x - beta_j) / ||x - beta_j|| (0 at the kink x = beta_j)."""

    name = "laplace"
    translation_invariant = False

    def blocks(self, d: int) -> tuple[tuple[str, int], ...]:
        return (("beta", d),)

    def scores(self, X: Array, P: Array) -> Array:
        diff = np.asarray(X, dtype=float)[:, None, :] - np.asarray(P, dtype=float)[None, :, :]
        return -np.sqrt(np.einsum("nkd,nkd->nk", diff, diff))

    def score_grads(self, X: Array, P: Array) -> Array:
        diff = np.asarray(X, dtype=float)[:, None, :] - np.asarray(P, dtype=float)[None, :, :]
        norm = np.sqrt(np.einsum("nkd,nkd->nk", diff, diff))
        return diff / np.where(norm > 0, norm, np.inf)[:, :, None]


class ExpertModel(ABC):
    """Expert E(x; eta) whose gradient has the form d E_j(x)/d eta_j = [c_1j(x) z(x), c_2j(x) z(x), ...].

    Every catalogue expert here is built from affine maps of z(x) = (x, 1), so its gradient is a list of
    blocks ``coefficient (n, k) x design (n, d+1)``; weighted gradient sums then reduce to small matrix
    products (:meth:`weighted_grad_sum`) instead of (n, k, p) arrays.
    """

    name: str

    @abstractmethod
    def blocks(self, d: int) -> tuple[tuple[str, int], ...]:
        """Parameter blocks (name, size) in order."""

    def n_params(self, d: int) -> int:
        return sum(size for _, size in self.blocks(d))

    @abstractmethod
    def values_and_coefficients(self, X: Array, P: Array) -> tuple[Array, list[Array], Array]:
        """E_j(x_i) (n, k), the gradient coefficients [(n, k), ...] and the design z = (x, 1) (n, d+1)."""

    def values(self, X: Array, P: Array) -> Array:
        return self.values_and_coefficients(X, P)[0]

    @staticmethod
    def weighted_grad_sum(weights: Array, coefficients: list[Array], design: Array) -> Array:
        """sum_i weights_ij d E_j(x_i) / d P_j, array (k, p)."""
        return np.concatenate([(weights * c).T @ design for c in coefficients], axis=1)


def _gelu(z: Array) -> tuple[Array, Array]:
    cdf = ndtr(z)
    return z * cdf, cdf + z * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)


def _sigmoid(z: Array) -> tuple[Array, Array]:
    s = expit(z)
    return s, s * (1 - s)


def _tanh(z: Array) -> tuple[Array, Array]:
    t = np.tanh(z)
    return t, 1 - t * t


def _silu(z: Array) -> tuple[Array, Array]:
    s = expit(z)
    return z * s, s + z * s * (1 - s)


ACTIVATIONS: dict[str, Callable[[Array], tuple[Array, Array]]] = {
    "identity": lambda z: (z, np.ones_like(z)),
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "gelu": _gelu,
    "silu": _silu,
}


def _design(X: Array) -> Array:
    X = np.asarray(X, dtype=float)
    return np.concatenate([X, np.ones((len(X), 1))], axis=1)


class RidgeExpert(ExpertModel):
    """E_j(x) = phi(a_j.x + alpha_j); ``identity`` gives the linear expert. Gradient phi'(z) (x, 1)."""

    def __init__(self, name: str, activation: str) -> None:
        self.name, self.activation = name, ACTIVATIONS[activation]

    def blocks(self, d: int) -> tuple[tuple[str, int], ...]:
        return (("a", d), ("alpha", 1))

    def values_and_coefficients(self, X: Array, P: Array) -> tuple[Array, list[Array], Array]:
        design = _design(X)
        value, slope = self.activation(design @ np.asarray(P, dtype=float).T)
        return value, [slope], design


class GatedLinearExpert(ExpertModel):
    """E_j(x) = sigmoid(u) z with u = w_j.x + w0_j, z = a_j.x + alpha_j (the G1-style gated expert).

    Gradient: (sigmoid'(u) z (x, 1), sigmoid(u) (x, 1)).
    """

    name = "gated-linear"

    def blocks(self, d: int) -> tuple[tuple[str, int], ...]:
        return (("w", d), ("w0", 1), ("a", d), ("alpha", 1))

    def values_and_coefficients(self, X: Array, P: Array) -> tuple[Array, list[Array], Array]:
        P = np.asarray(P, dtype=float)
        design = _design(X)
        p = design.shape[1]
        u, z = design @ P[:, :p].T, design @ P[:, p:].T
        s = expit(u)
        return s * z, [s * (1 - s) * z, s], design


GATE_MODELS: dict[str, GateModel] = {
    g.name: g
    for g in (
        FeatureGate("softmax-linear", quadratic=False, linear=True),
        FeatureGate("quadratic-polynomial", quadratic=True, linear=True),
        FeatureGate("quadratic-monomial", quadratic=True, linear=False),
        LaplaceGate(),
    )
}

EXPERT_MODELS: dict[str, ExpertModel] = {
    e.name: e
    for e in (
        RidgeExpert("linear", "identity"),
        *(RidgeExpert(f"ridge-{phi}", phi) for phi in ("sigmoid", "tanh", "gelu", "silu")),
        GatedLinearExpert(),
    )
}


def get_gate_model(name: str) -> GateModel:
    """Vectorised gate by catalogue name (one-line error listing the supported ones)."""
    return lookup(GATE_MODELS, name, "vectorised gate")


def get_expert_model(name: str) -> ExpertModel:
    """Vectorised expert by catalogue name (one-line error listing the supported ones)."""
    return lookup(EXPERT_MODELS, name, "vectorised expert")
