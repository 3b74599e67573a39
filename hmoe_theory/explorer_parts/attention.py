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


def attention_rate_order(position: str = "plain", tokens: int = 2, heads: int = 1) -> Any:
    """Rate order of the over-specified fit of entry (1, 1) (d = 1, hmoe parametrisation): ``heads + 1`` heads
    fitted to ``heads`` true ones, D1 loss with atomwise exponents (:mod:`hmoe_theory.rate_orders`: an inverse
    bound ``phi(eps) ~ eps^s`` near the truth gives the D1 rate ``n^(-1/(2s))``; ``phi = 0`` on a curve with
    ``D1 > 0`` means no rate under that loss). ``.text()`` gives the verdict with its convention."""
    from ..rate_orders import question, rate_order

    model, k, label = question(attention=position, tokens=tokens, heads=heads + 1, true_heads=heads, param="hmoe")
    return rate_order(model, k, "atomwise", name=label)
