"""Every ``--json`` output (and the rate sweep's summary.json) validates against its documented schema in
docs/schemas/ (JSON Schema 2020-12; see docs/json_schemas.md), on real outputs of the commands."""

import json
import re
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from hmoe_theory.cli import main

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schemas"
DOCS = Path(__file__).resolve().parents[1] / "docs"
SPHERE = "[R*sin(u)*cos(v), R*sin(u)*sin(v), R*cos(u)]"


def _registry() -> Registry:
    resources = [Resource.from_contents(json.loads(p.read_text())) for p in sorted(SCHEMAS.glob("*.schema.json"))]
    return Registry().with_resources((r.contents["$id"], r) for r in resources)


REGISTRY = _registry()


def validate(name: str, payload) -> None:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema, registry=REGISTRY).validate(payload)


def run_json(capfd, *argv: str, code: int = 0):
    assert main(list(argv)) == code
    out = capfd.readouterr().out
    return json.loads(out)


CASES = {
    "interactions": [
        ("interactions", "--gate", "softmax-linear", "--expert", "linear", "--json"),
        ("interactions", "--function", "exp(b*x)*(a*x + c)", "--inputs", "x", "--params", "a, b, c", "--json"),
        ("interactions", "--attention", "G1", "--tokens", "2", "--dim", "1", "--heads", "1", "--json"),
    ],
    "identifiability": [
        ("identifiability", "--table", "--gate", "softmax-linear", "--json"),
        ("identifiability", "--gate", "softmax-linear", "--expert", "ridge-tanh", "--k", "2", "--json"),
        ("identifiability", "--gate", "softmax-linear", "--expert", "linear", "--fisher", "--json"),
    ],
    "curvature": [
        ("curvature", "--map", SPHERE, "--coords", "u,v", "--at", "u=0.3,v=0.2", "--set", "R=2", "--json"),
        ("curvature", "--map", SPHERE, "--coords", "u,v", "--at", "u=0.3,v=0.2", "--set", "R=2", "--exact", "--ricci",
         "--digits", "30", "--json"),
        ("curvature", "--map", SPHERE, "--coords", "u,v", "--symbolic", "--set", "R=2", "--json"),
        ("curvature", "--map", "[u, v, w, u*v*w]", "--coords", "u,v,w", "--at", "u=0.1,v=0.2,w=0.3", "--digits", "20",
         "--json"),
    ],    "inverse-bound": [
        ("inverse-bound", "--setting", "gaussian-location/m2", "--json"),  # certified: enclosures
        ("inverse-bound", "--gaussian", "location-scale", "--atoms", "2", "--no-certificates", "--json"),  # supported
        ("inverse-bound", "--setting", "d1/softmax-linear/linear/over", "--no-certificates", "--json"),  # proved phi=0
    ],
}


@pytest.mark.parametrize("name, argv", [(n, a) for n, cases in CASES.items() for a in cases])
def test_command_outputs_match_their_schema(name, argv, capfd):
    validate(name, run_json(capfd, *argv))


def test_check_outputs_match_their_schemas(tmp_path, capfd):
    payload = run_json(capfd, "check", "--only", "pde.gaussian*", "--json", "--jobs", "1")
    assert [c["status"] for c in payload["claims"]] == ["proved", "refuted"] and payload["claims"][1]["counterexample"]
    validate("check", payload)
    broken = tmp_path / "broken.py"
    broken.write_text(
        "from proofs_check import claim\n"
        '@claim(id="u.broken", title="t", statement="s", hypotheses="none", source="Chen 1995", expected="proved")\n'
        "def broken():\n    raise ValueError('no data')\n"
    )
    payload = run_json(capfd, "check", "--claims", str(broken), "--json", "--jobs", "1", code=1)
    assert payload["claims"][0]["status"] == "error" and payload["claims"][0]["error"] == "check raised ValueError: no data"
    validate("check", payload)
    listing = run_json(capfd, "check", "--list", "--json")
    assert len(listing["claims"]) >= 50
    validate("check-list", listing)


def test_rates_summary_matches_its_schema():
    from hmoe_theory.estimation.catalogue import CONTRASTS
    from hmoe_theory.experiments import read_csv, summarise, summary_json
    from hmoe_theory.shipped import RATES_V2_FITS, shipped_file

    fresh = json.loads(summary_json(summarise(read_csv(shipped_file(RATES_V2_FITS)), CONTRASTS)))
    validate("rates-summary", fresh)
    settings = fresh["settings"].values()  # fields optional only for older summaries are in today's output
    assert all("all_fits" in m for s in settings for m in s["metrics"].values())
    assert all("convention" in s and "predicted_order" in s for s in settings)
    assert fresh["contrasts"] and all("holm" in c for c in fresh["contrasts"]) and "multiplicity" in fresh["method"]
    for shipped in ("rates_v2", "gated_attention"):  # the summaries shipped with the reproductions
        validate("rates-summary", json.loads((DOCS / shipped / "summary.json").read_text()))


def test_schemas_reject_drift(capfd):
    payload = run_json(capfd, "check", "--only", "pde.gaussian.heat-equation", "--json", "--jobs", "1")
    payload["claims"][0]["verdict"] = "proved"  # an undocumented field
    with pytest.raises(jsonschema.ValidationError, match="verdict"):
        validate("check", payload)
    del payload["claims"][0]["verdict"], payload["claims"][0]["status"]  # a documented field missing
    with pytest.raises(jsonschema.ValidationError, match="status"):
        validate("check", payload)
    curvature = run_json(capfd, *CASES["curvature"][0])
    curvature["gaussian_curvature"] = "1/4"  # floats are numbers, exact values are text under "exact"
    with pytest.raises(jsonschema.ValidationError):
        validate("curvature", curvature)


def test_every_schema_is_documented():
    text = (DOCS / "json_schemas.md").read_text()
    names = sorted(p.name for p in SCHEMAS.glob("*.schema.json"))
    assert names and all(f"schemas/{n}" in text for n in names)
    assert set(re.findall(r"schemas/([\w.-]+\.schema\.json)", text)) == set(names)
