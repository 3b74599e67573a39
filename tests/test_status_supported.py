"""The status ``supported`` (numerical evidence only) end to end: a numeric-only zero is supported and an exact
one proved; a claim expecting ``supported`` passes on it and one expecting ``proved`` fails; the JSON (valid
against docs/schemas/check.schema.json), JUnit, Markdown and HTML outputs carry the word and its colour."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import sympy as sp

from hmoe_theory.certify import Status, decide_zero
from hmoe_theory.cli import main
from proofs_check.claim import Verdict, as_status
from proofs_check.report_html import VERDICT_COLOUR, VERDICTS

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schemas"

CLAIMS = '''
import sympy as sp
from hmoe_theory.certify import Status, decide_zero
from proofs_check import Verdict, claim

x, a = sp.symbols("x a", real=True)
NESTED = sp.sin(sp.exp(x) * a) ** 2 + sp.cos(sp.exp(x) * a) ** 2 - 1   # zero; no proof within 1 ms


def _numeric_only():
    return Verdict.from_decision(decide_zero(NESTED, time_limit_s=1e-3, samples=6), "sin^2 + cos^2 - 1")


@claim(id="mine.pythagoras.supported", title="sin^2 + cos^2 = 1 by numerics", statement="sin^2 + cos^2 - 1 = 0",
       hypotheses=("none",), source="classical", expected=Status.SUPPORTED)
def supported():
    return _numeric_only()


@claim(id="mine.pythagoras.claimed-proved", title="the same evidence does not prove it",
       statement="sin^2 + cos^2 - 1 = 0", hypotheses=("none",), source="classical", expected="proved")
def claimed_proved():
    return _numeric_only()
'''


def test_numeric_only_zero_is_supported_and_an_exact_zero_proved():
    x, a = sp.symbols("x a", real=True)
    supported = decide_zero(sp.sin(sp.exp(x) * a) ** 2 + sp.cos(sp.exp(x) * a) ** 2 - 1, time_limit_s=1e-3, samples=6)
    assert supported.status is Status.SUPPORTED and supported.is_zero and supported.max_abs_value < 1e-25
    verdict = Verdict.from_decision(supported, "e")
    assert verdict.status is Status.SUPPORTED and verdict.summary.startswith("e ~ 0: max |value|")
    proved = decide_zero(sp.exp(x) * (a + 1) - sp.exp(x) * a - sp.exp(x))
    assert proved.status is Status.PROVED and proved.is_zero and proved.method == "expand"
    assert Verdict.from_decision(proved, "e").status is Status.PROVED


def test_combine_takes_the_weakest_status_and_supported_is_a_valid_expectation():
    proved, certified, supported = (Verdict(s, s.value) for s in (Status.PROVED, Status.CERTIFIED, Status.SUPPORTED))
    assert Verdict.combine([proved, certified], "s").status is Status.CERTIFIED
    assert Verdict.combine([certified, supported, proved], "s").status is Status.SUPPORTED
    assert Verdict.combine([proved, Verdict(Status.REFUTED, "no")], "s").status is Status.REFUTED
    assert as_status("c", " Supported ") is Status.SUPPORTED


def test_outputs_carry_supported(tmp_path, capfd):
    (tmp_path / "mine.py").write_text(CLAIMS)
    junit, ledger, html = tmp_path / "claims.xml", tmp_path / "CLAIMS.md", tmp_path / "report"
    argv = ["check", "--claims", str(tmp_path / "mine.py"), "--no-builtin", "--no-plugins", "--jobs", "1"]
    assert main([*argv, "--json", "--junit", str(junit), "--markdown", str(ledger), "--html", str(html)]) == 1
    payload = json.loads(capfd.readouterr().out)
    jsonschema.Draft202012Validator(json.loads((SCHEMAS / "check.schema.json").read_text())).validate(payload)
    by_id = {c["id"]: c for c in payload["claims"]}
    assert by_id["mine.pythagoras.supported"]["status"] == "supported" and by_id["mine.pythagoras.supported"]["passed"]
    assert by_id["mine.pythagoras.claimed-proved"]["status"] == "supported"
    assert by_id["mine.pythagoras.claimed-proved"]["expected"] == "proved" and not by_id["mine.pythagoras.claimed-proved"]["passed"]

    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert cases["mine.pythagoras.supported"].find("failure") is None
    failure = cases["mine.pythagoras.claimed-proved"].find("failure")
    assert failure.get("type") == "supported" and failure.get("message").startswith("expected proved, got supported")

    text = ledger.read_text()
    assert "**supported** (numerical" in text and "| supported | supported | yes |" in text
    assert "| supported | proved | **no** |" in text

    index = (html / "index.html").read_text()
    assert f'fill="{VERDICT_COLOUR["supported"]}"' in index and "passed: supported (1)" in index
    assert '<span class="badge status">supported</span>' in index
    assert [key for key, _, _ in VERDICTS][:3] == ["proved", "certified", "supported"]
