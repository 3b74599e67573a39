"""Attention layers (numpy reference, plain and gated) and their mixture-of-experts decompositions.

* :mod:`.layers` -- single-head / multi-head attention, sigmoid gates at positions G1..G5;
* :mod:`.decompose` -- row i of single-head attention as a quadratic-monomial-gated MoE, entry (i, c)
  of multi-head attention as a three-level HMoE, and the computed classification of gate positions.
"""

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
    "CHANGE_KINDS",
    "GATE_POSITIONS",
    "LEVEL_AXES",
    "THEORY_CLASSIFICATION",
    "AttentionEntryHMoE",
    "AttentionWeights",
    "EntryComparison",
    "GateClassification",
    "QuadraticMonomialMoE",
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
