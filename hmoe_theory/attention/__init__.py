"""Attention layers (numpy reference, plain and gated) and their mixture-of-experts decompositions.

* :mod:`.layers` -- single-head / multi-head attention, sigmoid gates at positions G1..G5;
* :mod:`.decompose` -- row i of single-head attention as a quadratic-monomial-gated MoE, entry (i, c)
  of multi-head attention as a three-level HMoE, and the computed classification of gate positions;
* :mod:`.active` -- active-attention (an activation on the value map) and its decompositions with
  non-linear experts phi(W_V^T x_j).
"""

from .active import (
    ActiveEntryHMoE,
    ActiveQuadraticMonomialMoE,
    activate,
    activation_after_mixing,
    active_entry_hmoe,
    active_multi_head_attention,
    active_row_moe,
    active_single_head_attention,
)

from .decompose import (
    CHANGE_KINDS,
    LEVEL_AXES,
    THEORY_CLASSIFICATION,
    AttentionEntryHMoE,
    EntryComparison,
    GateClassification,
    QuadraticMonomialMoE,
    attention_entry_hmoe,
    classify_all_gate_positions,
    classify_gate_position,
    compare_entry,
    float_is_zero,
    single_head_row_moe,
    token_selector,
    tokens_from_vector,
    vectorize_tokens,
)
from .layers import (
    GATE_POSITIONS,
    AttentionWeights,
    attention_scores,
    gate_shape,
    multi_head_attention,
    scaled_dot_product_attention,
    sigmoid,
    single_head_attention,
    softmax,
    symbolic_tokens,
)

__all__ = [
    "ActiveEntryHMoE",
    "ActiveQuadraticMonomialMoE",
    "AttentionEntryHMoE",
    "AttentionWeights",
    "CHANGE_KINDS",
    "EntryComparison",
    "GATE_POSITIONS",
    "GateClassification",
    "LEVEL_AXES",
    "QuadraticMonomialMoE",
    "THEORY_CLASSIFICATION",
    "activate",
    "activation_after_mixing",
    "active_entry_hmoe",
    "active_multi_head_attention",
    "active_row_moe",
    "active_single_head_attention",
    "attention_entry_hmoe",
    "attention_scores",
    "classify_all_gate_positions",
    "classify_gate_position",
    "compare_entry",
    "float_is_zero",
    "gate_shape",
    "multi_head_attention",
    "scaled_dot_product_attention",
    "sigmoid",
    "single_head_attention",
    "single_head_row_moe",
    "softmax",
    "symbolic_tokens",
    "token_selector",
    "tokens_from_vector",
    "vectorize_tokens",
]
