"""The hand-written Newton system of a softmax-gated regression mixture: a fast path registered on its family.

    f(x; theta) = sum_{j=1}^k pi_j(x) E_j(x),   pi_j(x) = exp(s_j(x) + c_j) / sum_l exp(s_l(x) + c_l),

with the gate score s(x; gamma) and the expert E(x; eta) taken from the symbolic families
(:class:`~hmoe_theory.families.Gate`, :class:`~hmoe_theory.families.Expert`, catalogue or typed) and
compiled by :mod:`.kernels`. theta lists, component by component, [gamma_j, c_j, eta_j] -- the order of
``hmoe_theory.families.Mixture.params``. Chain rule through the softmax (exact):

    df/dc_j = pi_j (E_j - f),  df/dgamma_j = pi_j (E_j - f) ds_j/dgamma_j,  df/deta_j = pi_j dE_j/deta_j.

This chain rule is registered as the fast path of softmax regression mixtures
(``Mixture.FAST_SYSTEMS``, so :meth:`hmoe_theory.families.Mixture.newton_system` returns a :class:`SoftmaxMoE`)
and tested against the system derived from the symbolic ``Mixture.function``
(:class:`hmoe_theory.newton_system.DerivedSystem`) to 1e-12 in tests/test_family_conformance.py. It shifts the
scores by their max before exponentiating (the derived system evaluates exp as written). Facts -- which
parameters are pinned (:attr:`SoftmaxMoE.free_mask`, :meth:`SoftmaxMoE.pin`), the identified projection
(:meth:`SoftmaxMoE.canonical`), the parameter names -- are read from the :class:`~hmoe_theory.families.Mixture`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import ModelError
from ..families import Expert, Gate, Mixture, get_expert, get_gate
from ..families.base import is_linear_homogeneous
from ..newton_system import DerivedSystem, System
from ..numeric import softmax
from ..symbols import input_symbols
from .kernels import PreparedData, TermKernel

Array = np.ndarray


@dataclass(frozen=True)
class ComponentParams:
    """theta split per component: gate (k, p_gate), bias (k,), expert (k, p_expert)."""

    gate: Array
    bias: Array
    expert: Array


@dataclass(frozen=True)
class SoftmaxMoE:
    """k-component softmax-gated regression MoE in dimension d (see module docstring)."""

    gate: Gate
    expert: Expert
    k: int
    d: int

    def __post_init__(self) -> None:
        if not (isinstance(self.k, int) and self.k >= 1 and isinstance(self.d, int) and self.d >= 1):
            raise ModelError(f"k and d must be positive integers, got k={self.k!r}, d={self.d!r}")
        if self.gate.normalisation != "softmax":
            raise ModelError(f"SoftmaxMoE needs a softmax gate, {self.gate.name!r} is {self.gate.normalisation}")

    @classmethod
    def from_names(cls, gate: str | Gate, expert: str | Expert, k: int, d: int) -> "SoftmaxMoE":
        return cls(get_gate(gate), get_expert(expert), k, d)

    @classmethod
    def from_mixture(cls, mixture: Mixture) -> "SoftmaxMoE":
        """The fast path of a softmax regression ``mixture`` (registered in ``Mixture.FAST_SYSTEMS``)."""
        return cls(mixture.gate, mixture.expert, mixture.k, mixture.d)

    @cached_property
    def mixture(self) -> Mixture:
        """The symbolic family (regression mode): the source of the facts and of :meth:`derived_system`."""
        return Mixture(self.gate, self.expert, self.k, self.d)

    def derived_system(self) -> DerivedSystem:
        """The Newton system derived from the symbolic mixture (:meth:`system` is tested equal to it)."""
        return self.mixture.derived_system()

    # -- symbolic source -> kernels -------------------------------------------------------------------
    @cached_property
    def gate_kernel(self) -> TermKernel:
        x = input_symbols(self.d)
        score, params = self.gate.builder(x, None)
        return TermKernel(score, x, params)

    @cached_property
    def expert_kernel(self) -> TermKernel:
        x = input_symbols(self.d)
        expr, params = self.expert.term(x)
        return TermKernel(expr, x, params)

    @cached_property
    def sizes(self) -> tuple[int, int]:
        """(p_gate, p_expert)."""
        return self.gate_kernel.size, self.expert_kernel.size

    @property
    def n_params(self) -> int:
        pg, pe = self.sizes
        return self.k * (pg + 1 + pe)

    def param_names(self) -> list[str]:
        """Names in theta order: the Mixture's (``beta_1_2`` is beta_2 of component 1, ``beta0_1`` its bias)."""
        return [p.name for p in self.mixture.params]

    # -- parameter bookkeeping --------------------------------------------------------------------------
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

    @property
    def free_mask(self) -> Array:
        """True for estimated entries (:attr:`Mixture.free_mask`: component k's bias, and its score parameters if
        the gate is translation invariant, are pinned)."""
        return self.mixture.free_mask

    def pin(self, theta: Array) -> Array:
        """Equivalent parameters with component k pinned (same regression function; :meth:`Mixture.pin`)."""
        return self.mixture.pin(theta)

    def canonical(self, theta: Array) -> ComponentParams:
        """Identified representative per component (:meth:`Mixture.canonical`; e.g. A -> sym(A))."""
        pg, _ = self.sizes
        rows = self.mixture.canonical(theta)
        return ComponentParams(rows[:, :pg], rows[:, pg], rows[:, pg + 1 :])

    @cached_property
    def linear_indices(self) -> Array:
        """Indices in theta of the parameters f is linear in given the others: every expert parameter when the
        expert is linear in them, E(x; eta) = eta . phi(x) (:func:`~hmoe_theory.families.base.is_linear_homogeneous`),
        so f = sum_j pi_j(x) eta_j . phi(x); empty otherwise. Used by variable projection
        (:func:`~.least_squares.fit_least_squares`)."""
        kernel = self.expert_kernel
        if not kernel.size or not is_linear_homogeneous(kernel.expr, kernel.params):
            return np.array([], dtype=int)
        pg, pe = self.sizes
        width = pg + 1 + pe
        return np.array([j * width + pg + 1 + m for j in range(self.k) for m in range(pe)])

    def linear_design(self, X: Array | PreparedData, theta: Array) -> Array:
        """Rows pi_j(x) phi_m(x) (order of :attr:`linear_indices`, shape (k p_expert, n)): f(x_i; theta) =
        (design^T theta[linear_indices])_i for an expert linear in its parameters."""
        data = self._data(X)
        p = self.split(theta)
        pi = softmax(self.gate_kernel.values(data, p.gate) + p.bias[:, None], axis=0)
        _, features = self.expert_kernel.values_and_gradients(data, np.zeros((1, self.sizes[1])))
        return (pi[:, None, :] * features[:, 0, :][None]).reshape(-1, len(data))

    # -- evaluation -------------------------------------------------------------------------------------
    def prepare(self, X: Array) -> PreparedData:
        """Validated inputs with their parameter-free features cached (reuse it across evaluations)."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.d:
            raise ModelError(f"X must have shape (n, {self.d}), got {X.shape}")
        return PreparedData.build(X)

    def _data(self, X: Array | PreparedData) -> PreparedData:
        return X if isinstance(X, PreparedData) else self.prepare(X)

    def gate_probabilities(self, X: Array | PreparedData, theta: Array) -> Array:
        """pi_j(x_i), array (n, k)."""
        p = self.split(theta)
        return softmax(self.gate_kernel.values(self._data(X), p.gate) + p.bias[:, None], axis=0).T

    def predict(self, X: Array | PreparedData, theta: Array) -> Array:
        """f(x_i; theta), array (n,)."""
        data = self._data(X)
        p = self.split(theta)
        pi = softmax(self.gate_kernel.values(data, p.gate) + p.bias[:, None], axis=0)
        return (pi * self.expert_kernel.values(data, p.expert)).sum(axis=0)

    def jacobian(self, X: Array | PreparedData, theta: Array) -> Array:
        """J_ia = d f(x_i; theta) / d theta_a, array (n, n_params) (formulas of the module docstring)."""
        return self.predict_and_jacobian_t(X, theta)[1].T

    def predict_and_jacobian_t(self, X: Array | PreparedData, theta: Array) -> tuple[Array, Array]:
        """(f (n,), J^T (n_params, n)) in one pass (the transposed layout the solvers use)."""
        data = self._data(X)
        p = self.split(theta)
        n, (pg, pe) = len(data), self.sizes
        scores, score_grads = self.gate_kernel.values_and_gradients(data, p.gate)
        values, expert_grads = self.expert_kernel.values_and_gradients(data, p.expert)
        pi = softmax(scores + p.bias[:, None], axis=0)
        f = (pi * values).sum(axis=0)
        dz = pi * (values - f)  # df/dz_j with z_j = s_j + c_j, (k, n)
        Jt = np.empty((self.k, pg + 1 + pe, n))
        np.multiply(score_grads.transpose(1, 0, 2), dz[:, None, :], out=Jt[:, :pg])
        Jt[:, pg] = dz
        np.multiply(expert_grads.transpose(1, 0, 2), pi[:, None, :], out=Jt[:, pg + 1 :])
        return f, Jt.reshape(self.n_params, n)

    def system(self, X: Array | PreparedData, y: Array, theta: Array) -> System:
        """Residual r = f - y, squared column norms ||J_a||^2, gradient g = J^T r and the exact Hessian

            H = J^T J + S,   S = sum_i r_i d2f(x_i)/dtheta dtheta^T   of ||r||^2 / 2.

        With z_j = s_j + c_j, dz_j = pi_j (E_j - f), q_j = dz_j/d(gamma_j, c_j) = (ds_j/dgamma_j, 1) and
        E'_j = dE_j/deta_j, the chain rule through the softmax gives, per pair of components (j, l),

            H[gate_j, gate_l]     = sum_i (dz_j dz_l + r (delta_jl dz_j - pi_l dz_j - pi_j dz_l)) q_j q_l^T
                                    + delta_jl sum_i r dz_j s''_j
            H[gate_j, expert_l]   = sum_i (dz_j pi_l + r pi_j (delta_jl - pi_l)) q_j E'_l^T
            H[expert_j, expert_l] = sum_i pi_j pi_l E'_j E'_l^T + delta_jl sum_i r pi_j E''_j,

        i.e. weighted Gram matrices of the per-component features, never the n x p Jacobian. Second
        derivatives of the terms come from the symbolic families (:meth:`TermKernel.hessian_entries`).
        """
        data = self._data(X)
        p = self.split(theta)
        n, (pg, pe) = len(data), self.sizes
        k, width = self.k, pg + 1 + pe
        scores, score_grads = self.gate_kernel.values_and_gradients(data, p.gate)
        values, expert_grads = self.expert_kernel.values_and_gradients(data, p.expert)
        pi = softmax(scores + p.bias[:, None], axis=0)
        f = (pi * values).sum(axis=0)
        dz = pi * (values - f)
        r = f - np.asarray(y, dtype=float)
        q = np.empty((k, pg + 1, n))
        q[:, :pg] = score_grads.transpose(1, 0, 2)
        q[:, pg] = 1.0
        e = expert_grads.transpose(1, 0, 2)  # (k, pe, n)
        rdz, rpi = r * dz, r * pi
        H = np.empty((k, width, k, width))
        g = np.empty((k, width))
        norms = np.empty((k, width))
        for j in range(k):
            g[j, : pg + 1] = q[j] @ rdz[j]
            g[j, pg + 1 :] = e[j] @ rpi[j]
            norms[j, : pg + 1] = (q[j] * q[j]) @ (dz[j] * dz[j])
            norms[j, pg + 1 :] = (e[j] * e[j]) @ (pi[j] * pi[j])
            for l in range(j, k):
                w_gg = dz[j] * dz[l] - rdz[j] * pi[l] - rdz[l] * pi[j] + (rdz[j] if j == l else 0.0)
                block = H[j, :, l, :]
                block[: pg + 1, : pg + 1] = (q[j] * w_gg) @ q[l].T
                block[: pg + 1, pg + 1 :] = (q[j] * (dz[j] * pi[l] + rpi[j] * ((j == l) - pi[l]))) @ e[l].T
                block[pg + 1 :, : pg + 1] = ((q[l] * (dz[l] * pi[j] + rpi[l] * ((j == l) - pi[j]))) @ e[j].T).T
                block[pg + 1 :, pg + 1 :] = (e[j] * (pi[j] * pi[l])) @ e[l].T
                H[l, :, j, :] = block.T
        diagonal = np.arange(k)
        for (a, b), second in zip(self.gate_kernel.hessian_pairs, self.gate_kernel.hessian_entries(data, p.gate)):
            extra = (rdz * second).sum(axis=1)
            H[diagonal, a, diagonal, b] += extra
            if a != b:
                H[diagonal, b, diagonal, a] += extra
        for (a, b), second in zip(self.expert_kernel.hessian_pairs, self.expert_kernel.hessian_entries(data, p.expert)):
            extra = (rpi * second).sum(axis=1)
            H[diagonal, pg + 1 + a, diagonal, pg + 1 + b] += extra
            if a != b:
                H[diagonal, pg + 1 + b, diagonal, pg + 1 + a] += extra
        return r, norms.ravel(), g.ravel(), H.reshape(self.n_params, self.n_params)

    def squared_loss(self, theta: Array, X: Array | PreparedData, y: Array) -> tuple[float, Array]:
        """L(theta) = (1/2n) sum_i (y_i - f(x_i))^2 and its exact gradient dL/dtheta (all entries)."""
        f, Jt = self.predict_and_jacobian_t(X, theta)
        residual = f - np.asarray(y, dtype=float)
        n = len(residual)
        return 0.5 * float(residual @ residual) / n, (Jt @ residual) / n


Mixture.FAST_SYSTEMS[("softmax", "regression")] = SoftmaxMoE.from_mixture
