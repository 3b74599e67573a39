"""The whole claims ledger: every claim's verdict must equal its expected outcome, and the committed
CLAIMS.md is exactly what ``hmoe check --no-plugins --markdown CLAIMS.md`` writes (byte-stable)."""

from pathlib import Path

import pytest

from hmoe_theory.certify import Status
from proofs_check.graph import check_dependencies
from proofs_check.registry import builtin_claims
from proofs_check.runner import run_claim, to_markdown, with_dependencies

CLAIMS = builtin_claims()
LEDGER = Path(__file__).resolve().parents[1] / "CLAIMS.md"
RESULTS = {}  # id -> ClaimResult, filled by the per-claim tests and reused for CLAIMS.md


def result_of(claim):
    if claim.id not in RESULTS:
        RESULTS[claim.id] = run_claim(claim)
    return RESULTS[claim.id]


def test_ledger_is_not_empty_and_has_negative_controls():
    assert len(CLAIMS) >= 5
    assert any(c.expected is Status.REFUTED for c in CLAIMS)
    check_dependencies(CLAIMS)  # every depends_on names a built-in claim, no cycle


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_claim_verdict_matches_expectation(claim):
    result = result_of(claim)
    assert result.verdict.status is claim.expected, result.verdict.summary
    if result.verdict.status is Status.REFUTED:
        assert result.verdict.counterexample, "a refutation must carry its counterexample"


def test_committed_ledger_is_regenerated_byte_for_byte():
    regenerated = to_markdown(with_dependencies([result_of(c) for c in CLAIMS]))
    committed = LEDGER.read_text(encoding="utf-8")
    if regenerated != committed:
        old, new = committed.splitlines(), regenerated.splitlines()
        first = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
        pytest.fail(
            f"CLAIMS.md is out of date (first difference at line {first + 1}: "
            f"{old[first] if first < len(old) else '<end>'!r} vs {new[first] if first < len(new) else '<end>'!r}); "
            "regenerate it with: hmoe check --no-plugins --markdown CLAIMS.md"
        )
