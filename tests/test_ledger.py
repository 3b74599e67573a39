"""The whole claims ledger: every claim's verdict must equal its expected outcome."""

import pytest

from hmoe_theory.certify import Status
from proofs_check.registry import all_claims
from proofs_check.runner import run_claim

CLAIMS = all_claims()


def test_ledger_is_not_empty_and_has_negative_controls():
    assert len(CLAIMS) >= 5
    assert any(c.expected is Status.REFUTED for c in CLAIMS)


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_claim_verdict_matches_expectation(claim):
    result = run_claim(claim)
    assert result.verdict.status is claim.expected, result.verdict.summary
    if result.verdict.status is Status.REFUTED:
        assert result.verdict.counterexample, "a refutation must carry its counterexample"
