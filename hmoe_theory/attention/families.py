"""Entry (i, c) of (gated) multi-head attention as a symbolic :class:`ParametricFunction` of the tokens.

The inputs are x~ = vec(X) = (x_1; ...; x_N) in R^{Nd} (symbols ``x_1 .. x_{Nd}``, see
:func:`.layers.symbolic_tokens`); the query token is i and the output coordinate c (0-based, default 0).
Head widths d_k = d_v = d_out = d. Two parametrisations of the same entry:

* ``attention`` -- the layer's own weights (:meth:`.layers.AttentionWeights.symbolic_generic`):
  ``WQ_h_u_v``, ``WK_h_u_v``, ``WV_h_u_v``, column c of ``WO`` and the gate weights ``Wg_...``; the
  expression is :func:`.layers.multi_head_attention` evaluated on symbolic tokens, entry (i, c). Scores
  x_i^T W_Q^h W_K^{hT} x_j / sqrt(d_k), or / tau with a free temperature ``tau`` (``temperature=True``).
* ``hmoe`` -- the three-level HMoE of :class:`.decompose.AttentionEntryHMoE` with *free atoms*: each
  token-expert (h, j) has its own score matrix ``S_h_j_u_v`` (score x_i^T S_hj x_j [/ tau]), each expert
  (h, l, j) its own value vector ``V_h_l_j_u`` (expert V_hlj . x_j), each coordinate of each head its
  weight ``w_h_l`` (omega_hl). With a query/key gate (G4/G3) the score matrix of (h, j) is
  sum_k sigma(theta_hk . x_g) S_hjk (free ``S_h_j_k_u_v``, k = 1..d_k; x_g = x_i for G4, x_j for G3),
  the free-atom version of W_Q^h diag(sigma) W_K^{hT} = sum_k sigma_k q_k k_k^T.
  Gates G1/G2/G5 enter exactly as in the layer (same gate weights ``Wg_...``).

Head widths: d_k = d, d_v = ``value_dim`` (default d; d_v = 1 gives one output weight per head, the head's
mixture weight in the rate-order engine). ``activation`` (relu, gelu, silu, tanh, sigmoid; plain position only):
the active-attention entry of :mod:`.active`, experts phi(V_hlj . x_j) (hmoe) or phi(W_V^h[:, l] . x_j) (attention).

* ``tied-scores`` -- the hmoe entry with one score matrix ``S_h_u_v`` and one value vector ``V_h_l_u`` per
  head, shared by the tokens (S_hj = S_h, V_hlj = V_hl): the layer seen through its scores W_Q^h W_K^{hT} / sqrt(d_k)
  (or / tau) and values, without the W_Q, W_K factorisation (which only the product enters).

Attention is the special case S_hj = W_Q^h W_K^{hT}/sqrt(d_k) for every j, V_hlj = W_V^h[:, l] for every j,
omega_hl = W_O[h d_v + l, c]; the hmoe parametrisation frees those ties. Only parameters that occur in the
entry are parameters of the function (columns of W_O other than c do not).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import ModelError, UnknownNameError
from ..families import ParametricFunction
from ..symbols import indexed_name, real_symbol
from .active import activate, active_multi_head_attention, check_activation
from .decompose import AttentionEntryHMoE, vectorize_tokens
from .layers import AttentionWeights, multi_head_attention, symbolic_tokens

#: CLI / claim names of the positions, mapped to :data:`.layers.GATE_POSITIONS`.
POSITIONS: dict[str, str | None] = {
    "plain": None,
    "G1": "G1-elementwise",
    "G1-headwise": "G1-headwise",
    "G2": "G2",
    "G3": "G3",
    "G4": "G4",
    "G5": "G5",
}
PARAMETRISATIONS: tuple[str, ...] = ("hmoe", "attention")
#: ``attention_entry_function`` also builds ``tied-scores`` (the rate-order engine's third parametrisation)
ENTRY_PARAMETRISATIONS: tuple[str, ...] = (*PARAMETRISATIONS, "tied-scores")
MAX_SIZE = 6  # N, d, H each at most this (the family has O(H N d^2) parameters)


def gate_position(name: str) -> str | None:
    """Layer position for a CLI name (``plain``, ``G1``, ``G1-headwise``, ``G2`` .. ``G5``)."""
    if name in POSITIONS:
        return POSITIONS[name]
    if name in POSITIONS.values() and name is not None:
        return name
    raise UnknownNameError(f"unknown gate position {name!r} (known: {', '.join(POSITIONS)})")


def temperature_symbol() -> sp.Symbol:
    """The free temperature ``tau`` (positive)."""
    return sp.Symbol("tau", positive=True)


@dataclass(frozen=True, eq=False)  # array fields: compare explicitly
class FreeAtomEntryHMoE(AttentionEntryHMoE):
    """:class:`AttentionEntryHMoE` whose score blocks, value vectors and head weights are free atoms.

    ``weights`` supplies the shapes, the gate position and the gate weights (its W_Q, W_K, W_V, W_O are
    not used). ``scores`` (H, N, d, d) or, with a G3/G4 gate, (H, N, d_k, d, d); ``values`` (H, d_v, N, d);
    ``head`` (H, d_v); ``temperature`` divides every score (1 for none).
    """

    scores_atoms: np.ndarray = None
    values_atoms: np.ndarray = None
    head_atoms: np.ndarray = None
    temperature: object = 1
    activation: str | None = None  # active-attention: experts phi(V_hlj . x_j)

    @property
    def coordinate_weights(self) -> np.ndarray:
        """omega_hl: the free head weights."""
        return self.head_atoms

    def score_block(self, x_tilde: np.ndarray, h: int, j: int) -> np.ndarray:
        """S_hj / tau, or sum_k sigma_k S_hjk / tau with a query/key gate."""
        gate = self.score_gate(x_tilde, h, j)
        block = self.scores_atoms[h, j]
        if gate is not None:
            block = sum(g * S for g, S in zip(gate, block))
        return block / self.temperature

    def value_rows(self, h: int, j: int) -> np.ndarray:
        """V_hlj as rows, l = 1..d_v."""
        return self.values_atoms[h, :, j, :]

    def experts(self, x_tilde: np.ndarray) -> np.ndarray:
        """V_hlj . x_j, or phi(V_hlj . x_j) with an activation, shape (H, d_v, N)."""
        linear = super().experts(x_tilde)
        return linear if self.activation is None else activate(linear, self.activation)


def _symbols(base: str, shape: tuple[int, ...]) -> np.ndarray:
    """Object array of real symbols ``base_<1-based indices>``."""
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        out[index] = real_symbol(indexed_name(base, *(k + 1 for k in index)))
    return out


def _check(n_tokens: int, dim: int, n_heads: int, query_token: int, coordinate: int) -> None:
    for name, value in (("tokens", n_tokens), ("dim", dim), ("heads", n_heads)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 1 <= value <= MAX_SIZE:
            raise ModelError(f"{name} must be an integer in 1..{MAX_SIZE}, got {value!r}")
    if not 0 <= query_token < n_tokens:
        raise ModelError(f"query token {query_token} out of range 0..{n_tokens - 1}")
    if not 0 <= coordinate < dim:
        raise ModelError(f"output coordinate {coordinate} out of range 0..{dim - 1}")


def attention_entry_function(
    position: str = "plain",
    n_tokens: int = 2,
    dim: int = 1,
    n_heads: int = 1,
    *,
    param: str = "hmoe",
    temperature: bool = False,
    query_token: int = 0,
    coordinate: int = 0,
    value_dim: int | None = None,
    activation: str | None = None,
) -> ParametricFunction:
    """Entry (query_token, coordinate) of attention with a gate at ``position`` as F(x~; theta).

    See the module docstring for both parametrisations. Parameter order: scores (W_Q, W_K or S), values
    (W_V or V), head weights (W_O column or w), gate weights, tau.
    """
    layer_position = gate_position(position)
    if param not in ENTRY_PARAMETRISATIONS:
        raise UnknownNameError(f"unknown parametrisation {param!r} (known: {', '.join(ENTRY_PARAMETRISATIONS)})")
    _check(n_tokens, dim, n_heads, query_token, coordinate)
    value_dim = dim if value_dim is None else value_dim
    if activation is not None:
        check_activation(activation)
        if layer_position is not None:
            raise ModelError(f"active-attention entries take no gate (position plain), got {position}")
    weights = AttentionWeights.symbolic_generic(n_heads, dim, dim, value_dim, position=layer_position)
    X = symbolic_tokens(n_tokens, dim)
    tau = temperature_symbol() if temperature else None
    gate = () if weights.gate is None else tuple(np.ravel(weights.gate))
    if param == "attention":
        layer = weights
        if tau is not None:  # scores / tau instead of / sqrt(d_k)
            query = weights.query * (sp.sqrt(dim) / tau)
            layer = AttentionWeights(query, weights.key, weights.value, weights.output, layer_position, weights.gate)
        out = multi_head_attention(X, layer) if activation is None else active_multi_head_attention(X, layer, activation)
        expr = out[query_token, coordinate]
        ordered = (*(np.ravel(getattr(weights, k)) for k in ("query", "key", "value", "output")),)
        ordered = (*(s for block in ordered for s in block), *gate)
        name = "attention"
    else:
        gated_scores = layer_position in ("G3", "G4")
        tied = param == "tied-scores"
        per_token = () if tied else (n_tokens,)
        scores = _symbols("S", (n_heads, *per_token, *((dim,) if gated_scores else ()), dim, dim))
        values = _symbols("V", (n_heads, value_dim, *per_token, dim))
        head = _symbols("w", (n_heads, value_dim))
        token_scores = np.repeat(scores[:, None], n_tokens, axis=1) if tied else scores
        token_values = np.repeat(values[:, :, None], n_tokens, axis=2) if tied else values
        entry = FreeAtomEntryHMoE(weights, n_tokens, query_token, coordinate, token_scores, token_values, head,
                                  1 if tau is None else tau, activation)
        expr = entry(vectorize_tokens(X))
        ordered = (*np.ravel(scores), *np.ravel(values), *np.ravel(head), *gate)
        name = "3-level HMoE (scores and values tied across tokens)" if tied else "3-level HMoE (free atoms)"
    if tau is not None:
        ordered = (*ordered, tau)
    expr = sp.sympify(expr)
    present = expr.free_symbols
    params = tuple(dict.fromkeys(p for p in ordered if p in present))
    inputs = tuple(np.ravel(X))
    label = "plain" if layer_position is None else position
    return ParametricFunction(
        f"{name} entry ({query_token + 1},{coordinate + 1}), {label}, N={n_tokens}, d={dim}, H={n_heads}"
        + (f", d_v={value_dim}" if value_dim != dim else "") + (f", values {activation}" if activation else "")
        + (", free temperature" if tau is not None else ""),
        expr,
        inputs,
        params,
    )


__all__ = [
    "ENTRY_PARAMETRISATIONS",
    "PARAMETRISATIONS",
    "POSITIONS",
    "FreeAtomEntryHMoE",
    "attention_entry_function",
    "gate_position",
    "temperature_symbol",
]
