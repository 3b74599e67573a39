"""Parameter relations of one attention entry with a gate at a given position (:func:`explore_attention`)."""

from __future__ import annotations

from typing import Any


def explore_attention(
    position: str = "plain",
    tokens: int = 2,
    dim: int = 1,
    heads: int = 1,
    *,
    param: str = "hmoe",
    temperature: bool = False,
    order: int = 2,
    seed: int = 0,
    proof_budget_s: float | None = 10.0,
) -> Any:
    """Parameter relations of entry (1, 1) of attention with a gate at ``position`` (``plain``, ``G1``,
    ``G1-headwise``, ``G2`` .. ``G5``): :func:`hmoe_theory.attention.relations.attention_relations` on the
    family :func:`hmoe_theory.attention.families.attention_entry_function` (``param`` ``"hmoe"``: free HMoE
    atoms; ``"attention"``: W_Q, W_K, W_V, W_O and the gate weights; ``temperature``: free tau instead of
    sqrt(d_k)). ``print`` the result for the relation list, its constant-coefficient / theta-dependent
    split and the strong-identifiability verdict; ``.row()`` gives one line of the relation table.
    """
    from ..attention.relations import attention_relations

    return attention_relations(
        position, tokens, dim, heads, param=param, temperature=temperature, order=order, seed=seed,
        proof_budget_s=proof_budget_s,
    )
