"""Softmax-gated regression mixture of experts with a flat parameter vector and its exact gradient.

    f(x; theta) = sum_{j=1}^k pi_j(x) E_j(x),   pi_j(x) = exp(s_j(x) + c_j) / sum_l exp(s_l(x) + c_l),

with gate scores s_j (:class:`~hmoe_theory.estimation.components.GateModel`), biases c_j (log mixing
weights) and experts E_j. theta lists, component by component, [gate score params, c_j, expert
params] -- the order of ``hmoe_theory.families.Mixture.params``. Derivatives (exact):

    df/dc_j = pi_j (E_j - f),  df/dgamma_j = pi_j (E_j - f) ds_j/dgamma_j,  df/deta_j = pi_j dE_j/deta_j.

Translation invariance is removed by pinning component k: its bias c_k = 0 and, when the gate is
translation invariant (linear-in-parameters scores), its score parameters gamma_k = 0
(:meth:`SoftmaxMoE.free_mask`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import ModelError
from .components import ExpertModel, GateModel, get_expert_model, get_gate_model

Array = np.ndarray


def softmax_rows(z: Array) -> Array:
    """Row-wise softmax of an (n, k) array (max-shifted)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class ComponentParams:
    """theta split per component: gate (k, p_gate), bias (k,), expert (k, p_expert)."""

    gate: Array
    bias: Array
    expert: Array


@dataclass(frozen=True)
class SoftmaxMoE:
    """k-component softmax-gated regression MoE in dimension d (see module docstring)."""

    gate: GateModel
    expert: ExpertModel
    k: int
    d: int

    @classmethod
    def from_names(cls, gate: str, expert: str, k: int, d: int) -> "SoftmaxMoE":
        if not (isinstance(k, int) and k >= 1 and isinstance(d, int) and d >= 1):
            raise ModelError(f"k and d must be positive integers, got k={k!r}, d={d!r}")
        return cls(get_gate_model(gate), get_expert_model(expert), k, d)

    @cached_property
    def sizes(self) -> tuple[int, int]:
        """(p_gate, p_expert)."""
        return self.gate.n_params(self.d), self.expert.n_params(self.d)

    @property
    def n_params(self) -> int:
        pg, pe = self.sizes
        return self.k * (pg + 1 + pe)

    def split(self, theta: Array) -> ComponentParams:
        pg, pe = self.sizes
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (self.n_params,):
            raise ModelError(f"expected {self.n_params} parameters, got shape {theta.shape}")
        rows = theta.reshape(self.k, pg + 1 + pe)
        return ComponentParams(rows[:, :pg], rows[:, pg], rows[:, pg + 1 :])

    def join(self, gate: Array, bias: Array, expert: Array) -> Array:
        gate = np.asarray(gate, dtype=float).reshape(self.k, -1)
        expert = np.asarray(expert, dtype=float).reshape(self.k, -1)
        return np.concatenate([gate, np.asarray(bias, dtype=float).reshape(self.k, 1), expert], axis=1).ravel()

    @cached_property
    def free_mask(self) -> Array:
        """True for estimated entries; component k's bias (and gate, if translation invariant) is pinned."""
        pg, pe = self.sizes
        mask = np.ones((self.k, pg + 1 + pe), dtype=bool)
        mask[-1, pg] = False
        if self.gate.translation_invariant:
            mask[-1, :pg] = False
        return mask.ravel()

    def _check_data(self, X: Array) -> Array:
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.d:
            raise ModelError(f"X must have shape (n, {self.d}), got {X.shape}")
        return X

    def gate_probabilities(self, X: Array, theta: Array) -> Array:
        """pi_j(x_i), array (n, k)."""
        p = self.split(theta)
        return softmax_rows(self.gate.scores(self._check_data(X), p.gate) + p.bias)

    def predict(self, X: Array, theta: Array) -> Array:
        """f(x_i; theta), array (n,)."""
        p = self.split(theta)
        X = self._check_data(X)
        return (self.gate_probabilities(X, theta) * self.expert.values(X, p.expert)).sum(axis=1)

    def squared_loss(self, theta: Array, X: Array, y: Array) -> tuple[float, Array]:
        """L(theta) = (1/2n) sum_i (y_i - f(x_i))^2 and its exact gradient dL/dtheta (all entries)."""
        p = self.split(theta)
        X = self._check_data(X)
        n = len(X)
        pi = softmax_rows(self.gate.scores(X, p.gate) + p.bias)
        values, coefficients, design = self.expert.values_and_coefficients(X, p.expert)
        f = (pi * values).sum(axis=1)
        residual = np.asarray(y, dtype=float) - f
        loss = 0.5 * float(residual @ residual) / n
        # dL/dz_j with z_j = s_j + c_j: -(1/n) sum_i r_i pi_ij (E_ij - f_i)
        dz = -(residual[:, None] * pi * (values - f[:, None])) / n
        features = self.gate.features(X)
        if features is not None:
            g_gate = dz.T @ features
        else:
            g_gate = np.einsum("nk,nkp->kp", dz, self.gate.score_grads(X, p.gate))
        g_bias = dz.sum(axis=0)
        g_expert = self.expert.weighted_grad_sum(-(residual / n)[:, None] * pi, coefficients, design)
        return loss, self.join(g_gate, g_bias, g_expert)

    def jacobian(self, X: Array, theta: Array) -> Array:
        """J_ia = d f(x_i; theta) / d theta_a, array (n, n_params) (formulas of the module docstring)."""
        p = self.split(theta)
        X = self._check_data(X)
        pi = softmax_rows(self.gate.scores(X, p.gate) + p.bias)
        values, coefficients, design = self.expert.values_and_coefficients(X, p.expert)
        dz = pi * (values - (pi * values).sum(axis=1, keepdims=True))  # df/dz_j, (n, k)
        features = self.gate.features(X)
        gate_grads = self.gate.score_grads(X, p.gate) if features is None else features[:, None, :]
        parts = [
            dz[:, :, None] * gate_grads,
            dz[:, :, None],
            *((pi * c)[:, :, None] * design[:, None, :] for c in coefficients),
        ]
        parts = [np.broadcast_to(part, (len(X), self.k, part.shape[2])) for part in parts]
        return np.concatenate(parts, axis=2).reshape(len(X), self.n_params)

    def pin(self, theta: Array) -> Array:
        """Equivalent parameters with component k pinned (same regression function)."""
        p = self.split(theta)
        gate = p.gate - p.gate[-1] if self.gate.translation_invariant else p.gate
        return self.join(gate, p.bias - p.bias[-1], p.expert)
