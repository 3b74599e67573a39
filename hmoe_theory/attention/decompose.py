"""Attention as a (hierarchical) mixture of experts, built as data, with evaluators.

**vec convention.** x~ = vec(X) in R^{Nd} stacks the token rows: x~ = (x_1; ...; x_N), i.e.
``X.reshape(-1)`` (C order). The selector E_i = e_i^T (x) I_d in {0,1}^{d x Nd} picks token i:
E_i x~ = x_i. (The issue's A_ij = E_i M E_j^T uses the transposed selectors E_i^T in R^{Nd x d};
both describe the same matrix.)

**Row i of single-head attention** (:func:`single_head_row_moe`). With M = W_Q W_K^T,

    out_i(x~) = sum_j softmax_j(x~^T A_ij x~) B_j x~,   A_ij = E_i^T M E_j / sqrt(d_k),   B_j = W_V^T E_j,

a quadratic-monomial-gated MoE (gate exp(x~^T A x~), no linear term, no bias) with N linear experts
without bias. Hypotheses: none beyond the shapes (identity of functions of x~ for every X).

**Entry (i, c) of multi-head attention** (:class:`AttentionEntryHMoE`) is a three-level HMoE in x~:

    Y_ic(x~) = phi(x~) sum_h 1 * sum_l omega_hl * sum_j softmax_j(s_hj(x~)) e_hlj(x~)

* level 1, heads h = 1..H, unit weights (concatenation of the heads);
* level 2, value coordinates l = 1..d_v of head h, constant weights omega_hl = W_O[(h-1) d_v + l, c]
  (real numbers, not a probability gate);
* level 3, tokens j, softmax routing on s_hj(x~) = x~^T A_hj(x~) x~ with
  A_hj = E_i^T W_Q^h D_hj W_K^{hT} E_j / sqrt(d_k), and linear experts e_hlj = b_hlj^T x~ with
  b_hlj = g_hlj E_j^T W_V^h[:, l];
* phi is an entry-level factor.

Without a gate D_hj = I, g = 1, phi = 1 (A_hj, b_hlj constant). A sigmoid gate sigma(X W_theta) enters
exactly where the layer applies it: G4 (query) D_hj = diag(sigma(W_theta^{hT} x_i)); G3 (key)
D_hj = diag(sigma(W_theta^{hT} x_j)); G2 (value) g_hlj = sigma(theta_hl . x_j); G1 (SDPA output)
g_hlj = sigma(theta_hl . x_i) elementwise, sigma(theta_h . x_i) headwise; G5 (after W_O)
phi = sigma(theta_c . x_i).

**Classification** (:func:`compare_entry`, :func:`classify_gate_position`) is computed: gated and
ungated decompositions are evaluated at the same x~ and compared component by component:
routing weights (softmax of the scores; a token-independent shift of the scores is no change),
experts, and the entry factor. Precise meaning used here: "changes the experts" = some e_hlj differs
and the ratio e^gated / e^ungated is *not* one constant for the whole entry; a ratio constant over all
(h, l, j) is folded into phi and reported as a "shared factor". Routing and experts are judged
independently (a position could change both; none of G1..G5 does).
Subtlety (G1): its gate reads the query token x_i only, so within one (h, l) subtree it is a factor
common to all tokens j -- equivalently an input-dependent level-2 weight omega_hl sigma(theta_hl . x_i).
It varies across heads (and, elementwise, across coordinates), so for H >= 2 it is not a shared factor;
with one head, headwise G1 *is* a shared factor (as is G1 elementwise with H = d_v = 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import ModelError, UnknownNameError
from .layers import (
    GATE_POSITIONS,
    AttentionWeights,
    inverse_sqrt,
    is_symbolic,
    multi_head_attention,
    sigmoid,
    softmax,
)

CHANGE_KINDS: tuple[str, ...] = ("routing scores", "experts", "shared factor")
LEVEL_AXES: tuple[str, ...] = ("head", "coordinate", "token")

#: What the gated-attention / attention-as-HMoE theory states each gate position changes (H >= 2 heads).
#: Used only to compare with the computed classification (:func:`classify_gate_position`).
THEORY_CLASSIFICATION: dict[str, frozenset[str]] = {
    "G1-elementwise": frozenset({"experts"}),
    "G1-headwise": frozenset({"experts"}),
    "G2": frozenset({"experts"}),
    "G3": frozenset({"routing scores"}),
    "G4": frozenset({"routing scores"}),
    "G5": frozenset({"shared factor"}),
}


# --- vec convention -------------------------------------------------------------------------------


def vectorize_tokens(X: np.ndarray) -> np.ndarray:
    """x~ = (x_1; ...; x_N) in R^{Nd}: the rows of X stacked (C order)."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ModelError(f"X must be an N x d array of tokens, got shape {X.shape}")
    return X.reshape(-1).copy()


def tokens_from_vector(x_tilde: np.ndarray, n_tokens: int) -> np.ndarray:
    """Inverse of :func:`vectorize_tokens`: the N x d matrix X."""
    x_tilde = np.asarray(x_tilde)
    if x_tilde.ndim != 1 or n_tokens < 1 or x_tilde.size % n_tokens:
        raise ModelError(f"x~ of shape {x_tilde.shape} cannot be split into {n_tokens} tokens")
    return x_tilde.reshape(n_tokens, -1)


def token_selector(i: int, n_tokens: int, dim: int) -> np.ndarray:
    """E_i = e_i^T (x) I_d (d x Nd, 0-based i): E_i x~ = x_i."""
    if not 0 <= i < n_tokens:
        raise ModelError(f"token index {i} out of range 0..{n_tokens - 1}")
    return np.kron(np.eye(n_tokens, dtype=int)[i], np.eye(dim, dtype=int))


def embedded_block(M: np.ndarray, i: int, j: int, n_tokens: int) -> np.ndarray:
    """E_i^T M E_j (Nd x Nd): M placed in block (i, j), zeros elsewhere (0-based token indices).

    Built by block assignment, which equals the selector product exactly (see
    :func:`token_selector`) and avoids an O((Nd)^2 d) product; object arrays stay exact.
    """
    d = M.shape[0]
    if M.shape != (d, d):
        raise ModelError(f"block must be square, got {M.shape}")
    out = np.zeros((n_tokens * d, n_tokens * d), dtype=M.dtype)
    out[i * d : (i + 1) * d, j * d : (j + 1) * d] = M
    return out


def embedded_rows(B: np.ndarray, j: int, n_tokens: int) -> np.ndarray:
    """B E_j (p x Nd): the columns of B (p x d) placed in token block j (0-based)."""
    p, d = B.shape
    out = np.zeros((p, n_tokens * d), dtype=B.dtype)
    out[:, j * d : (j + 1) * d] = B
    return out


# --- single head: row i ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # array fields: compare explicitly
class QuadraticMonomialMoE:
    """f(x~) = sum_j softmax_j(x~^T A_j x~) B_j x~ (quadratic-monomial gate, linear experts, no biases).

    ``gate_matrices`` (k, D, D) holds A_1..A_k, ``expert_matrices`` (k, p, D) holds B_1..B_k.
    """

    gate_matrices: np.ndarray
    expert_matrices: np.ndarray

    def __post_init__(self) -> None:
        k, D, D2 = np.shape(self.gate_matrices)
        if D != D2 or np.shape(self.expert_matrices)[::2] != (k, D):
            raise ModelError(
                f"gate matrices {np.shape(self.gate_matrices)} and expert matrices "
                f"{np.shape(self.expert_matrices)} do not describe k experts on R^D"
            )

    @property
    def components(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The pairs (A_j, B_j): gate matrix and expert matrix of expert j."""
        return list(zip(self.gate_matrices, self.expert_matrices))

    def _input(self, x_tilde: np.ndarray) -> np.ndarray:
        x_tilde = np.asarray(x_tilde)
        if x_tilde.shape != (np.shape(self.gate_matrices)[1],):
            raise ModelError(f"input must have shape ({np.shape(self.gate_matrices)[1]},), got {x_tilde.shape}")
        return x_tilde

    def scores(self, x_tilde: np.ndarray) -> np.ndarray:
        """Gate scores x~^T A_j x~, shape (k,)."""
        x = self._input(x_tilde)
        return np.array([x @ A @ x for A in self.gate_matrices])

    def routing_weights(self, x_tilde: np.ndarray) -> np.ndarray:
        """softmax of the scores, shape (k,)."""
        return softmax(self.scores(x_tilde))

    def expert_outputs(self, x_tilde: np.ndarray) -> np.ndarray:
        """B_j x~ for every expert, shape (k, p)."""
        x = self._input(x_tilde)
        return np.array([B @ x for B in self.expert_matrices])

    def __call__(self, x_tilde: np.ndarray) -> np.ndarray:
        """The mixture sum_j w_j(x~) B_j x~, shape (p,)."""
        return self.routing_weights(x_tilde) @ self.expert_outputs(x_tilde)


def single_head_row_moe(
    W_Q: np.ndarray, W_K: np.ndarray, W_V: np.ndarray, i: int, n_tokens: int
) -> QuadraticMonomialMoE:
    """Row i (0-based) of single-head attention as a :class:`QuadraticMonomialMoE` on x~ in R^{Nd}:
    A_ij = E_i^T W_Q W_K^T E_j / sqrt(d_k), B_j = W_V^T E_j (see the module docstring)."""
    W_Q, W_K, W_V = np.asarray(W_Q), np.asarray(W_K), np.asarray(W_V)
    if W_Q.ndim != 2 or W_K.shape != W_Q.shape or W_V.ndim != 2 or W_V.shape[0] != W_Q.shape[0]:
        raise ModelError(
            f"need W_Q, W_K of equal shape (d, d_k) and W_V (d, d_v); got {W_Q.shape}, {W_K.shape}, {W_V.shape}"
        )
    d, dk = W_Q.shape
    M = (W_Q @ W_K.T) * inverse_sqrt(dk, is_symbolic(W_Q, W_K))
    if not 0 <= i < n_tokens:
        raise ModelError(f"token index {i} out of range 0..{n_tokens - 1}")
    gates = np.array([embedded_block(M, i, j, n_tokens) for j in range(n_tokens)])
    experts = np.array([embedded_rows(W_V.T, j, n_tokens) for j in range(n_tokens)])
    return QuadraticMonomialMoE(gates, experts)


# --- multi-head entry (i, c): three-level HMoE -------------------------------------------------------


@dataclass(frozen=True, eq=False)  # array fields: compare explicitly
class AttentionEntryHMoE:
    """Entry (i, c) (0-based) of (gated) multi-head attention as a three-level HMoE in x~.

    Y_ic(x~) = phi(x~) sum_h sum_l omega_hl sum_j softmax_j(x~^T A_hj(x~) x~) b_hlj(x~)^T x~;
    see the module docstring for the levels and where each gate position enters.
    """

    weights: AttentionWeights
    n_tokens: int
    query_token: int
    coordinate: int

    def __post_init__(self) -> None:
        if not 0 <= self.query_token < self.n_tokens:
            raise ModelError(f"query token {self.query_token} out of range 0..{self.n_tokens - 1}")
        if not 0 <= self.coordinate < self.weights.out_dim:
            raise ModelError(f"output coordinate {self.coordinate} out of range 0..{self.weights.out_dim - 1}")

    @cached_property
    def _selectors(self) -> list[np.ndarray]:
        return [token_selector(j, self.n_tokens, self.weights.dim) for j in range(self.n_tokens)]

    @property
    def head_weights(self) -> np.ndarray:
        """Level-1 weights (all 1: the heads are concatenated, then projected)."""
        return np.ones(self.weights.n_heads, dtype=int)

    @property
    def coordinate_weights(self) -> np.ndarray:
        """Level-2 weights omega_hl = W_O[h d_v + l, c], shape (H, d_v)."""
        w = self.weights
        return np.asarray(w.output)[:, self.coordinate].reshape(w.n_heads, w.value_dim)

    def _input(self, x_tilde: np.ndarray) -> np.ndarray:
        x_tilde = np.asarray(x_tilde)
        if x_tilde.shape != (self.n_tokens * self.weights.dim,):
            raise ModelError(f"input must have shape ({self.n_tokens * self.weights.dim},), got {x_tilde.shape}")
        return x_tilde

    def _gate(self, h: int | None, token: np.ndarray) -> np.ndarray:
        theta = self.weights.gate if h is None else self.weights.gate[h]
        return sigmoid(token @ theta)

    def score_gate(self, x_tilde: np.ndarray, h: int, j: int) -> np.ndarray | None:
        """Diagonal of D_hj: sigma(W_theta^{hT} x_i) for G4, sigma(W_theta^{hT} x_j) for G3 (length d_k); else None."""
        x, w, E = self._input(x_tilde), self.weights, self._selectors
        if w.position == "G4":
            return self._gate(h, E[self.query_token] @ x)
        if w.position == "G3":
            return self._gate(h, E[j] @ x)
        return None

    def expert_gate(self, x_tilde: np.ndarray, h: int, j: int):
        """g_hlj: sigma(theta_hl . x_i) (G1 elementwise) or sigma(theta_hl . x_j) (G2), shape (d_v,);
        the scalar sigma(theta_h . x_i) (G1 headwise); None without G1/G2."""
        x, w, E = self._input(x_tilde), self.weights, self._selectors
        if w.position in ("G1-elementwise", "G2"):
            return self._gate(h, E[self.query_token if w.position == "G1-elementwise" else j] @ x)
        if w.position == "G1-headwise":
            return self._gate(h, E[self.query_token] @ x)
        return None

    def score_block(self, x_tilde: np.ndarray, h: int, j: int) -> np.ndarray:
        """M_hj(x~) = W_Q^h D_hj W_K^{hT} / sqrt(d_k) (d x d), the non-zero block of A_hj."""
        x, w = self._input(x_tilde), self.weights
        W_Q, gate = np.asarray(w.query[h]), self.score_gate(x, h, j)
        if gate is not None:
            W_Q = W_Q * gate
        return (W_Q @ np.asarray(w.key[h]).T) * inverse_sqrt(w.key_dim, w.symbolic or is_symbolic(x))

    def value_rows(self, h: int, j: int) -> np.ndarray:
        """The ungated value vectors of token-expert (h, ., j) as rows: W_V^h[:, l]^T, l = 1..d_v (d_v x d)."""
        return np.asarray(self.weights.value[h]).T

    def score_matrix(self, x_tilde: np.ndarray, h: int, j: int) -> np.ndarray:
        """A_hj(x~) = E_i^T W_Q^h D_hj W_K^{hT} E_j / sqrt(d_k) (Nd x Nd); D_hj = I without G3/G4."""
        return embedded_block(self.score_block(x_tilde, h, j), self.query_token, j, self.n_tokens)

    def expert_vectors(self, x_tilde: np.ndarray, h: int, j: int) -> np.ndarray:
        """Rows b_hlj(x~) = g_hlj E_j^T W_V^h[:, l], l = 1..d_v (shape d_v x Nd); g = 1 without G1/G2."""
        B = embedded_rows(self.value_rows(h, j), j, self.n_tokens)
        gate = self.expert_gate(x_tilde, h, j)
        if gate is None:
            return B
        return (gate[:, None] if np.ndim(gate) else gate) * B

    def shared_factor(self, x_tilde: np.ndarray):
        """phi(x~): sigma(theta_c . x_i) for G5, else 1."""
        x = self._input(x_tilde)
        if self.weights.position != "G5":
            return 1
        return sigmoid(self._selectors[self.query_token] @ x @ np.asarray(self.weights.gate)[:, self.coordinate])

    def scores(self, x_tilde: np.ndarray) -> np.ndarray:
        """Level-3 scores s_hj = x~^T A_hj(x~) x~, shape (H, N)."""
        x = self._input(x_tilde)
        return np.array(
            [[x @ self.score_matrix(x, h, j) @ x for j in range(self.n_tokens)] for h in range(self.weights.n_heads)]
        )

    def routing_weights(self, x_tilde: np.ndarray) -> np.ndarray:
        """softmax over tokens of the scores, shape (H, N)."""
        return softmax(self.scores(x_tilde), axis=1)

    def experts(self, x_tilde: np.ndarray) -> np.ndarray:
        """Level-3 experts e_hlj = b_hlj(x~)^T x~, shape (H, d_v, N)."""
        x = self._input(x_tilde)
        per_head = [
            [self.expert_vectors(x, h, j) @ x for j in range(self.n_tokens)] for h in range(self.weights.n_heads)
        ]
        return np.array(per_head).transpose(0, 2, 1)

    def __call__(self, x_tilde: np.ndarray):
        """Y_ic(x~) evaluated through the three levels."""
        routed = (self.experts(x_tilde) * self.routing_weights(x_tilde)[:, None, :]).sum(axis=2)  # level 3
        per_head = (self.coordinate_weights * routed).sum(axis=1)  # level 2
        return self.shared_factor(x_tilde) * (self.head_weights * per_head).sum()  # level 1


def attention_entry_hmoe(weights: AttentionWeights, n_tokens: int, i: int, c: int) -> AttentionEntryHMoE:
    """The three-level HMoE of entry (i, c) (0-based) of ``multi_head_attention(X, weights)``, X N x d."""
    return AttentionEntryHMoE(weights, n_tokens, i, c)


# --- classification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryComparison:
    """How a gated entry decomposition differs from the ungated one at one input.

    ``expert_factor_varies_over`` lists the levels (head, coordinate, token) along which the ratio
    e^gated / e^ungated is not constant (empty when the experts did not change or the ratio is one
    constant, which is then a shared factor).
    """

    routing_changed: bool
    experts_changed: bool
    factor_changed: bool
    expert_factor_varies_over: tuple[str, ...]

    @property
    def changes(self) -> frozenset[str]:
        """The canonical classification: a constant expert ratio is folded into the shared factor."""
        routing, experts, shared = CHANGE_KINDS
        expert_ratio_is_constant = self.experts_changed and not self.expert_factor_varies_over
        flags = (
            (routing, self.routing_changed),
            (experts, self.experts_changed and bool(self.expert_factor_varies_over)),
            (shared, self.factor_changed or expert_ratio_is_constant),
        )
        return frozenset(kind for kind, present in flags if present)


def _ratio_not_constant_along(
    gated: np.ndarray, plain: np.ndarray, axis: int, is_zero: Callable[[np.ndarray], bool]
) -> bool:
    """Is gated/plain non-constant along ``axis``? Tested division-free on neighbours:
    gated[k] plain[k+1] - gated[k+1] plain[k] (valid where ``plain`` has no zero entries)."""
    g, p = np.moveaxis(gated, axis, 0), np.moveaxis(plain, axis, 0)
    if g.shape[0] < 2:
        return False
    return not is_zero(g[:-1] * p[1:] - g[1:] * p[:-1])


def compare_entry(
    gated: AttentionEntryHMoE, x_tilde: np.ndarray, is_zero: Callable[[np.ndarray], bool]
) -> EntryComparison:
    """Compare ``gated`` with the same entry of the ungated layer at ``x_tilde``.

    ``is_zero(array)`` decides whether an array of differences vanishes: a float tolerance for numeric
    inputs, or an exact/certified test for symbolic ones (the claims use :func:`decide_zero`).
    """
    plain = AttentionEntryHMoE(gated.weights.without_gate(), gated.n_tokens, gated.query_token, gated.coordinate)
    routing_changed = not is_zero(gated.routing_weights(x_tilde) - plain.routing_weights(x_tilde))
    e_gated, e_plain = gated.experts(x_tilde), plain.experts(x_tilde)
    experts_changed = not is_zero(e_gated - e_plain)
    varies: tuple[str, ...] = ()
    if experts_changed:
        # constant along each axis separately <=> one constant for the whole entry
        varies = tuple(
            name for axis, name in enumerate(LEVEL_AXES) if _ratio_not_constant_along(e_gated, e_plain, axis, is_zero)
        )
    factor_changed = not is_zero(np.asarray(gated.shared_factor(x_tilde) - 1))
    return EntryComparison(routing_changed, experts_changed, factor_changed, varies)


def float_is_zero(tolerance: float = 1e-9) -> Callable[[np.ndarray], bool]:
    """Numeric zero test: max |a| <= tolerance."""
    return lambda a: bool(np.max(np.abs(np.asarray(a, dtype=float)), initial=0.0) <= tolerance)


@dataclass(frozen=True)
class GateClassification:
    """Computed classification of a gate position over random trials (see :func:`classify_gate_position`)."""

    position: str
    changes: frozenset[str]
    expert_factor_varies_over: tuple[str, ...]
    trials: int
    max_reconstruction_error: float

    def __str__(self) -> str:
        varies = (
            f" (expert factor varies over {', '.join(self.expert_factor_varies_over)})"
            if self.expert_factor_varies_over
            else ""
        )
        return f"{self.position}: changes {', '.join(sorted(self.changes)) or 'nothing'}{varies}"


def classify_gate_position(
    position: str,
    *,
    n_tokens: int = 4,
    dim: int = 3,
    n_heads: int = 2,
    key_dim: int = 2,
    value_dim: int = 2,
    out_dim: int | None = None,
    trials: int = 3,
    seed: int = 0,
    tolerance: float = 1e-9,
) -> GateClassification:
    """Which HMoE components a sigmoid gate at ``position`` changes, computed at random inputs.

    Each trial draws X (standard normal), weights (:meth:`AttentionWeights.random`) and an entry (i, c),
    checks that the gated decomposition reproduces :func:`multi_head_attention` at that entry, and
    compares it with the ungated decomposition (:func:`compare_entry`). The result is the union over
    trials. Hypotheses: generic random draws (ungated experts non-zero); the float tolerance is far
    below the O(1e-2) differences a gate produces and far above rounding (~1e-15).
    """
    if position not in GATE_POSITIONS or position is None:
        raise UnknownNameError(f"unknown gate position {position!r} (known: {', '.join(map(str, GATE_POSITIONS[1:]))})")
    rng = np.random.default_rng(seed)
    changes: set[str] = set()
    varies: set[str] = set()
    worst = 0.0
    for _ in range(trials):
        weights = AttentionWeights.random(n_heads, dim, key_dim, value_dim, out_dim, position, seed=rng)
        X = rng.standard_normal((n_tokens, dim))
        i, c = int(rng.integers(n_tokens)), int(rng.integers(weights.out_dim))
        entry = AttentionEntryHMoE(weights, n_tokens, i, c)
        x = vectorize_tokens(X)
        worst = max(worst, abs(float(entry(x)) - float(multi_head_attention(X, weights)[i, c])))
        comparison = compare_entry(entry, x, float_is_zero(tolerance))
        changes |= comparison.changes
        varies |= set(comparison.expert_factor_varies_over)
    return GateClassification(position, frozenset(changes), tuple(a for a in LEVEL_AXES if a in varies), trials, worst)


def classify_all_gate_positions(**options) -> dict[str, GateClassification]:
    """:func:`classify_gate_position` for every gate position (same keyword options), in catalogue order."""
    return {position: classify_gate_position(position, **options) for position in GATE_POSITIONS[1:]}
