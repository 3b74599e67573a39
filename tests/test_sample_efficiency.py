"""Relations of attention entries per gate position and the sample-efficiency claims built on them."""

from fractions import Fraction

import pytest
import sympy as sp

from hmoe_theory.attention.relations import attention_relations, common_dimension
from hmoe_theory.certify import Status
from proofs_check.registry import get


def test_common_dimension_is_the_dimension_of_the_intersection():
    one, zero = sp.Integer(1), sp.Integer(0)
    first = [[one, zero, zero], [zero, one, zero]]
    assert common_dimension(first, [[zero, one, zero], [zero, zero, one]]) == 1
    assert common_dimension(first, [[one, one, zero]]) == 1
    assert common_dimension(first, [[zero, zero, one]]) == 0
    assert common_dimension([], first) == 0


def test_plain_two_token_entry_has_rank_8():
    # F = w (V1 x1 e^{s1} + V2 x2 e^{s2}) / (e^{s1} + e^{s2}), s1 = S1 x1^2, s2 = S2 x1 x2: with a = w V1,
    # b = w V2 it is b x2 + (a x1 - b x2) sigmoid(s1 - s2), whose 15 derivatives of order <= 2 in (a, b, S1, S2)
    # span 8 functions (x1 sigma, x2 (1 - sigma), x1^3 sigma', x1^2 x2 sigma', x1 x2^2 sigma', and three
    # second derivatives in S); the 21 derivatives in (S1, S2, V1, V2, w) span the same space.
    found = attention_relations("plain", 2, 1, 1, order=2)
    assert (found.discovery.size, found.discovery.rank, len(found.relations)) == (21, 8, 13)
    assert found.vanishing_count == 4 and found.constant_count >= found.vanishing_count
    assert {r.status for r in found.relations} == {Status.PROVED}
    assert not found.gate_relations and not found.strongly_identifiable
    assert found.row()["theta_dependent"] == 13 - found.constant_count


def test_temperature_relation_of_the_free_atom_entry():
    found = attention_relations("plain", 2, 1, 1, temperature=True, order=1)
    point = {k: Fraction(v) for k, v in found.discovery.point.items()}
    # scores S x_i x_j / tau: tau dF/dtau + sum_j S_j dF/dS_j = 0
    assert found.discovery.implies(
        {("tau",): point["tau"], ("S_1_1_1_1",): point["S_1_1_1_1"], ("S_1_2_1_1",): point["S_1_2_1_1"]}
    )
    assert len(found.temperature_relations) >= 1


def test_g2_gate_weight_enters_relations_only_with_the_head_weight():
    found = attention_relations("G2", 2, 1, 1, order=2)
    names = [{p for t in r.terms for p in t.column.derivative.params} for r in found.gate_relations]
    assert names and all("w_1_1" in n for n in names)


@pytest.mark.parametrize(
    "claim_id, status",
    [
        ("sample-efficiency.g2.relations", Status.PROVED),
        ("sample-efficiency.g2.paper-strong-identifiability", Status.REFUTED),
        ("sample-efficiency.plain.temperature-interaction", Status.PROVED),
    ],
)
def test_sample_efficiency_claims_reach_their_expected_verdict(claim_id, status):
    claim = get(claim_id)
    verdict = claim.check()
    assert claim.expected is status and verdict.status is status, verdict.summary
    if status is Status.REFUTED:
        assert "d2F/dV_1_1_1_1^2 = 0" in verdict.counterexample["relation"]


def test_estimation_claims_cannot_be_decided_by_non_identifiable_heads_and_holm_spans_the_ledger():
    from proofs_check.claims.rates import ledger_contrasts

    family = {name: a for name, a in ledger_contrasts().items() if a.family}
    # testable: one functional and no negative-control side -- the exact-head attention contrasts and the gate
    # contrasts of the MLE twins and of the merged-loss twins of the rates-v3 rerun
    assert sorted(family) == sorted([*(f"{g}/exact" for g in ("G1-vs-plain", "G2-vs-plain", "G1-vs-G3", "G1-vs-G5",
                                                              "G2-vs-G3", "G2-vs-G5")), "monomial-vs-polynomial-gate",
                                                         "monomial-vs-polynomial-gate-merged"])
    assert all(a.family == 8 and a.holm_level == pytest.approx(1 - 0.05 / 8) for a in family.values())
    assert all(a.holm_verdict == "not separated at this design" for a in family.values())
    nominal = ledger_contrasts()["G2-vs-plain/over"]  # separated at 95 % alone, but not identifiable
    assert nominal.result.ci[1] < 0 and nominal.holm_verdict.startswith("not tested")
    for claim_id in ("sample-efficiency.estimation.gated-faster-than-plain",
                     "sample-efficiency.estimation.g1-g2-faster-than-g3-g5"):
        claim = get(claim_id)
        verdict = claim.check()
        assert verdict.status is claim.expected is Status.INCONCLUSIVE
        assert "negative controls (not identifiable: exact merges)" in verdict.summary and "/exact" not in verdict.summary
