"""Active-attention: a non-linear activation on the value map, and its mixture-of-experts decompositions.

Row convention of :mod:`.layers` (tokens are rows, ``X`` in R^{N x d}). With an activation phi among
``relu, gelu, silu, tanh, sigmoid`` applied elementwise,

* single head:  ``A_phi(X) = softmax(X W_Q W_K^T X^T / sqrt(d_k)) phi(X W_V)`` (softmax over each row);
* multi-head:   ``Y = [A_phi^1, ..., A_phi^H] W_O``.

This is the active-attention of arXiv 2410.11222 (v3): the activation acts on the value map *before* the
softmax mixing. Consequences (:func:`active_row_moe`, :class:`ActiveEntryHMoE`):

* row i is a quadratic-monomial-gated MoE on x~ = vec(X) in R^{Nd} with *non-linear* experts,

      out_i(x~) = sum_j softmax_j(x~^T A_ij x~) phi(B_j x~),   A_ij = E_i^T W_Q W_K^T E_j / sqrt(d_k),
      B_j = W_V^T E_j

  (same gate matrices as plain attention, :func:`.decompose.single_head_row_moe`; only the experts change);
* entry (i, c) of multi-head active-attention is the three-level HMoE of :class:`.decompose.AttentionEntryHMoE`
  with the level-3 experts e_hlj = phi(W_V^h[:, l] . x_j) instead of W_V^h[:, l] . x_j.

Applying phi *after* the mixing, phi(softmax(S) X W_V), is a different map (phi is not linear, so it does
not commute with the convex combination); the claims refute that reading with a counterexample.

Hypotheses: none on the weights; for relu the layer is defined everywhere but the decomposition is an
identity of functions, so its kink (W_V^T x_j = 0) plays no role. Every function also accepts numpy object
arrays of sympy expressions (exact symbolic layer, activations as in :mod:`hmoe_theory.expr`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import erf

from ..errors import ModelError, UnknownNameError
from ..expr import FUNCTIONS
from ..families.experts import ACTIVATIONS
from .decompose import AttentionEntryHMoE, QuadraticMonomialMoE, single_head_row_moe
from .layers import AttentionWeights, _matrix, scaled_dot_product_attention, sigmoid


def _gelu(z: np.ndarray) -> np.ndarray:
    return 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))


_NUMERIC: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda z: np.maximum(z, 0.0),
    "gelu": _gelu,
    "silu": lambda z: z * sigmoid(z),
    "tanh": np.tanh,
    "sigmoid": sigmoid,
}
_SYMBOLIC = {name: np.frompyfunc(FUNCTIONS[name][0], 1, 1) for name in ACTIVATIONS}


def check_activation(name: str) -> str:
    """``name`` if it is a known activation (:data:`hmoe_theory.families.experts.ACTIVATIONS`), else an error."""
    if name not in ACTIVATIONS:
        raise UnknownNameError(f"unknown activation {name!r} (known: {', '.join(ACTIVATIONS)})")
    return name


def activate(z: np.ndarray, activation: str) -> np.ndarray:
    """phi(z) elementwise: float arrays in numpy (exact GELU via erf), object arrays in sympy
    (relu = Max(0, z), gelu = z (1 + erf(z / sqrt 2)) / 2, silu = z sigmoid(z), tanh, sigmoid)."""
    check_activation(activation)
    z = np.asarray(z)
    if z.dtype == object:
        return _SYMBOLIC[activation](z)
    return _NUMERIC[activation](z)


def active_single_head_attention(
    X: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V: np.ndarray, activation: str
) -> np.ndarray:
    """softmax(X W_Q W_K^T X^T / sqrt(d_k)) phi(X W_V), shape (N, d_v)."""
    X = _matrix(X, "X")
    for name, W in (("W_Q", W_Q), ("W_K", W_K), ("W_V", W_V)):
        if _matrix(W, name).shape[0] != X.shape[1]:
            raise ModelError(f"{name} has {np.shape(W)[0]} rows but tokens have dimension {X.shape[1]}")
    return scaled_dot_product_attention(X @ W_Q, X @ W_K, activate(X @ W_V, activation))


def _plain(weights: AttentionWeights) -> AttentionWeights:
    if weights.position is not None:
        raise ModelError(f"active-attention takes ungated weights, got a gate at {weights.position}")
    return weights


def active_multi_head_attention(X: np.ndarray, weights: AttentionWeights, activation: str) -> np.ndarray:
    """[A_phi^1, ..., A_phi^H] W_O with A_phi^h the active single head of head h; shape (N, d_out)."""
    X, weights = _matrix(X, "X"), _plain(weights)
    if X.shape[1] != weights.dim:
        raise ModelError(f"tokens have dimension {X.shape[1]} but the weights expect {weights.dim}")
    heads = [
        active_single_head_attention(X, weights.query[h], weights.key[h], weights.value[h], activation)
        for h in range(weights.n_heads)
    ]
    return np.concatenate(heads, axis=1) @ weights.output


def activation_after_mixing(X: np.ndarray, W_Q: np.ndarray, W_K: np.ndarray, W_V: np.ndarray, activation: str) -> np.ndarray:
    """phi(softmax(X W_Q W_K^T X^T / sqrt(d_k)) X W_V): the activation applied *after* the mixing (a
    different map; the negative control of the decomposition)."""
    X = _matrix(X, "X")
    return activate(scaled_dot_product_attention(X @ W_Q, X @ W_K, X @ W_V), activation)


@dataclass(frozen=True, eq=False)  # array fields: compare explicitly
class ActiveQuadraticMonomialMoE(QuadraticMonomialMoE):
    """f(x~) = sum_j softmax_j(x~^T A_j x~) phi(B_j x~): the quadratic-monomial gate of
    :class:`.decompose.QuadraticMonomialMoE` with experts phi(B_j x~) (phi elementwise)."""

    activation: str = "relu"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_activation(self.activation)

    def expert_outputs(self, x_tilde: np.ndarray) -> np.ndarray:
        """phi(B_j x~) for every expert, shape (k, p)."""
        return activate(super().expert_outputs(x_tilde), self.activation)


def active_row_moe(
    W_Q: np.ndarray, W_K: np.ndarray, W_V: np.ndarray, i: int, n_tokens: int, activation: str
) -> ActiveQuadraticMonomialMoE:
    """Row i (0-based) of active single-head attention as a quadratic-monomial-gated MoE with experts
    phi(B_j x~): the gate matrices A_ij and value matrices B_j of :func:`.decompose.single_head_row_moe`."""
    plain = single_head_row_moe(W_Q, W_K, W_V, i, n_tokens)
    return ActiveQuadraticMonomialMoE(plain.gate_matrices, plain.expert_matrices, activation)


@dataclass(frozen=True, eq=False)  # array fields: compare explicitly
class ActiveEntryHMoE(AttentionEntryHMoE):
    """Entry (i, c) of multi-head active-attention as a three-level HMoE: level 1 heads (weights 1), level 2
    value coordinates (weights W_O[(h, l), c]), level 3 tokens with softmax routing on x~^T A_hj x~ and the
    non-linear experts e_hlj(x~) = phi(W_V^h[:, l] . x_j)."""

    activation: str = "relu"

    def __post_init__(self) -> None:
        super().__post_init__()
        _plain(self.weights)
        check_activation(self.activation)

    def experts(self, x_tilde: np.ndarray) -> np.ndarray:
        """Level-3 experts phi(b_hlj^T x~) = phi(W_V^h[:, l] . x_j), shape (H, d_v, N)."""
        return activate(super().experts(x_tilde), self.activation)


def active_entry_hmoe(weights: AttentionWeights, n_tokens: int, i: int, c: int, activation: str) -> ActiveEntryHMoE:
    """The three-level HMoE of entry (i, c) (0-based) of ``active_multi_head_attention(X, weights, activation)``."""
    return ActiveEntryHMoE(weights, n_tokens, i, c, activation)


__all__ = [
    "ActiveEntryHMoE",
    "ActiveQuadraticMonomialMoE",
    "activate",
    "activation_after_mixing",
    "active_entry_hmoe",
    "active_multi_head_attention",
    "active_row_moe",
    "active_single_head_attention",
    "check_activation",
]
