"""Identifiability presets (index sets written out), custom families, and the catalogue table."""

import pytest

from hmoe_theory.errors import ModelError, UnknownNameError
from hmoe_theory.interactions.identifiability import DerivativeFamily, check_family, identifiability_table, preset


def test_presets_state_their_exact_index_sets():
    assert preset("strong", 2, 2).index_set == "{ d^|kappa| F/d eta^kappa (x; eta_j) : 0 <= |kappa| <= 2, j = 1..2 }"
    assert preset("strong-expert", 1, 3).index_set == (
        "{ x^nu d^|kappa| E/d eta^kappa (x; eta_j) : 0 <= |kappa|, |nu| + |kappa| <= 1, j = 1..3 }"
    )
    assert "reconstructed" in preset("strong").name


def test_monomial_gate_with_tanh_ridge_expert_is_strongly_identifiable():
    result = check_family(("quadratic-monomial", "ridge-tanh"), preset("strong", 2, 2))
    assert result.identifiable
    assert (result.discovery.size, result.discovery.rank) == (20, 20)
    assert result.to_dict()["identifiable"] is True


def test_linear_expert_is_not_strongly_identifiable_and_the_relation_is_named():
    result = check_family(("softmax-linear", "linear"), preset("strong", 2, 2))
    assert not result.identifiable
    texts = [r.text for r in result.discovery.relations]
    assert "dF/da_1 - d2F/dbeta_1 dalpha = 0" in texts
    assert "dF/da_1[eta_2] - d2F/dbeta_1 dalpha[eta_2] = 0" in texts


def test_strong_expert_preset_finds_the_ridge_relation_dE_da_equals_x_dE_dalpha():
    # reconstructed definition: with monomial multipliers every expert phi(a.x + alpha) has dE/da = x dE/dalpha
    result = check_family(("softmax-linear", "ridge-tanh"), preset("strong-expert", 2, 2))
    texts = [r.text for r in result.discovery.relations]
    assert "dF/da_1 - x_1*dF/dalpha = 0" in texts
    assert len(texts) == 2  # one per parameter point, nothing else


def test_custom_family_with_uncoupled_multipliers_and_certification():
    family = DerivativeFamily(order=1, k=1, multiplier_degree=1, coupled=False)
    result = check_family(("softmax-linear", "linear"), family, certify=True)
    assert "x_1*dF/dalpha" in [c.label for c in result.discovery.columns]
    assert any(r.text == "dF/da_1 - x_1*dF/dalpha = 0" for r in result.discovery.relations)
    assert all(r.status.value == "proved" for r in result.discovery.relations)


def test_table_over_a_slice_of_the_catalogue():
    table = identifiability_table(gates=["quadratic-monomial"], experts=["linear", "ridge-tanh", "ridge-relu"])
    rows = {r.expert: r for r in table.rows}
    assert rows["linear"].relations == {1: 1, 2: 5} and rows["linear"].strong is False
    assert rows["ridge-tanh"].relations == {1: 0, 2: 0} and rows["ridge-tanh"].strong is True
    assert rows["ridge-relu"].relations[2] is None and "Dirac" in rows["ridge-relu"].note
    text = table.table()
    assert "strong (r=2, k=2)" in text and "n/a" in text
    assert table.to_dict()["rows"][1]["strongly_identifiable"] is True


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: preset("weak"), UnknownNameError),
        (lambda: DerivativeFamily(order=5), ModelError),
        (lambda: DerivativeFamily(k=0), ModelError),
        (lambda: DerivativeFamily(target="gate"), ModelError),
        (lambda: DerivativeFamily(multiplier_degree=9), ModelError),
    ],
)
def test_bad_families_are_refused(make, error):
    with pytest.raises(error):
        make()


def test_sizes_are_bounded_before_any_work():
    from hmoe_theory.errors import BoundError

    with pytest.raises(BoundError, match="HMOE_MAX_K"):
        DerivativeFamily(k=100)
    with pytest.raises(BoundError, match="HMOE_MAX_COLUMNS"):
        check_family(("quadratic-polynomial", "linear"), preset("strong", 2, 12), d=3)


def test_definition_one_of_2505_10860_separates_shared_and_routed_experts_with_proofs():
    from hmoe_theory.interactions.definition_one import check_definition_one

    tanh = check_definition_one("ridge-tanh", density=False)
    verdicts = {s.name: (s.independent, s.status.value) for s in tanh.sets}
    assert verdicts == {"set 1": (True, "proved"), "set 2": (True, "proved"), "set 3": (False, "proved")}
    assert any("x_1*dh/dalpha" in r for r in tanh.sets[2].relations)  # dh/da = x dh/dalpha (inner bias)
    assert (tanh.shared, tanh.routed) == (True, False)
    linear = check_definition_one("linear", density=True)
    assert linear.shared is False and any("d2F/dalpha dalpha" in r for s in linear.sets for r in s.relations)
    value = check_definition_one("value-tanh", density=False)  # tanh(a x): no bias, no scale
    assert (value.shared, value.routed) == (True, True) and all(s.status.value == "proved" for s in value.sets)


def test_definition_one_leaves_out_zero_elements_and_reports_the_scale_relation_of_eta2_gelu():
    from hmoe_theory.interactions.definition_one import check_definition_one

    gelu = check_definition_one("ffn-nobias-gelu", density=False)  # b GELU(a x), the paper's example
    set3 = gelu.sets[2]
    assert "identically-zero element(s) left out" in set3.method and set3.independent is False
    assert any(r.startswith("[proved]") and "d2h/da_1 db" in r for r in set3.relations)  # dh/da = b d2h/da db
