"""The claims that re-analyse shipped fits find them as package data, whatever the install mode, and fail (never
pass) with a one-line reason when the data is missing; ``hmoe check --list --json`` honours ``--json``."""

import json

import pytest

import hmoe_theory.shipped as shipped
from hmoe_theory.cli import main
from hmoe_theory.shipped import (GATED_ATTENTION_FITS, RATES_V2_FITS, RATES_V3_FITS, RATES_V3_PREDICTED,
                                 MissingShippedData, shipped_file)
from proofs_check.claims import rates
from proofs_check.registry import builtin_claims

DATA_CLAIMS = ("rates.*", "sample-efficiency.estimation.*")


@pytest.fixture
def no_shipped_data(tmp_path, monkeypatch):
    """The installed package seen as one without its data directory (the claims' cached summaries cleared)."""
    monkeypatch.setattr(shipped, "files", lambda package: tmp_path)
    rates._summary.cache_clear()
    rates.ledger_contrasts.cache_clear()
    yield tmp_path
    rates._summary.cache_clear()
    rates.ledger_contrasts.cache_clear()


def test_shipped_files_are_package_data():
    for name in (RATES_V2_FITS, RATES_V3_FITS, GATED_ATTENTION_FITS):
        path = shipped_file(name)
        assert path.parts[-4:-2] == ("hmoe_theory", "data") and path.stat().st_size > 100_000
        assert path.read_text(encoding="utf-8").splitlines()[0].count(",") >= 5  # a CSV header
    orders = shipped_file(RATES_V3_PREDICTED).read_text(encoding="utf-8").splitlines()
    assert orders[0].startswith("setting,metric,loss,model,k,s,status") and len(orders) == 1 + 25  # 16 d1 + 6 merged + 3 twins (d1_merged)


def test_missing_data_is_one_line_error(no_shipped_data):
    with pytest.raises(MissingShippedData) as info:
        shipped_file(RATES_V2_FITS)
    message = str(info.value)
    assert "\n" not in message and "hmoe_theory/data/rates_v2/fits.csv is missing" in message


@pytest.mark.parametrize("pattern", DATA_CLAIMS)
def test_claims_fail_with_the_reason_when_their_data_is_missing(no_shipped_data, pattern, capsys):
    ids = [c.id for c in builtin_claims() if c.id.startswith(pattern.rstrip("*"))]
    inconclusive = [c.id for c in builtin_claims() if c.id in ids and c.expected.value == "inconclusive"]
    assert len(ids) >= 2 and inconclusive  # claims expecting "inconclusive" are among them: none may pass
    assert main(["check", "--only", pattern, "--jobs", "1"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"0 passed, {len(ids)} failed"
    for claim_id in ids:  # the FAIL line itself says why: the check raised the one-line MissingShippedData
        fail = [line for line in out if line.startswith("FAIL") and f" {claim_id} " in line]
        assert len(fail) == 1 and " error " in fail[0] and "fits.csv is missing from this install" in fail[0], claim_id


def test_a_wrong_verdict_is_explained_on_the_next_line(tmp_path, capsys):
    (tmp_path / "c.py").write_text(
        "from hmoe_theory.certify import Status\nfrom proofs_check import Verdict, claim\n"
        '@claim(id="u.wrong", title="t", statement="s", hypotheses="none", source="Chen 1995", expected="proved")\n'
        "def wrong():\n    return Verdict(Status.REFUTED, 'F - G = x != 0 at x = 1/2', {'x': '1/2'})\n"
    )
    assert main(["check", "--claims", str(tmp_path / "c.py"), "--jobs", "1"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL  u.wrong") and out[1] == "      u.wrong: F - G = x != 0 at x = 1/2"


def test_list_json_honours_json(capsys):
    assert main(["check", "--list", "--json", "--only", "pde.gaussian"]) == 0
    listed = json.loads(capsys.readouterr().out)["claims"]
    assert [c["id"] for c in listed] == ["pde.gaussian.heat-equation", "pde.gaussian.heat-equation-std-parametrisation"]
    assert listed[1]["expected"] == "refuted" and listed[1]["depends_on"] == ["pde.gaussian.heat-equation"]
