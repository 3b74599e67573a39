"""Rate orders of active-attention rows (quadratic-monomial gate x phi(a x)) vs standard rows (a x)."""

from __future__ import annotations

from proofs_check.claims.active_attention_rates import row_order


def test_standard_row_merges_exactly_and_tanh_row_is_proved_at_order_two():
    standard = row_order("linear-nobias")
    assert (standard.status, standard.identifiable, standard.exponent) == ("proved", False, None)
    tanh = row_order("value-tanh")
    assert tanh.status == "proved" and abs(tanh.exponent - 2) <= 0.1, tanh.text()
    assert tanh.lower_bound["proved"] and tanh.lower_bound["order"] == 2
    assert tanh.cells["sizes"] in ([2, 1], [1, 2])  # both cells over-fit at order 2: a near tie
