"""Rate orders of attention entries: d = 2 tokens, a free temperature, active-attention values, tied-scores."""

from __future__ import annotations

import dataclasses

import pytest

from hmoe_theory.cli import main
from hmoe_theory.certify import Status
from hmoe_theory.errors import ModelError
from hmoe_theory.rate_orders import rate_order
from hmoe_theory.rate_orders.degeneracy import scale_scan
from hmoe_theory.rate_orders.models import attention_entry

GRID = (1e-2, 10**-2.5, 1e-3, 10**-3.5)


@pytest.mark.parametrize("param", ["hmoe", "tied"])
def test_two_dimensional_tokens_split_into_heads_with_one_output_weight_each(param):
    model = attention_entry("G1", 2, 2, 1, param, dim=2)
    built = model.build(2)
    assert len(built.inputs) == 4 and len(built.weights) == 2  # x~ in R^(N d); one weight per head (d_v = 1)
    assert built.atoms.shape == (2, len(model.atom_names)) and "d_v = 1" in model.parametrisation
    head_two = {s.name.split("_")[1] for s in built.atoms[1]}
    assert head_two == {"2"}  # every coordinate of atom 2 belongs to head 2
    result = rate_order(model, 2, "merged", GRID)
    assert (result.status, result.identifiable) == ("proved", False) and result.degeneracy["d1_at_t_0.1"] > 0


@pytest.mark.parametrize(("param", "scores"), [("hmoe", "S_2_2_2"), ("tied", "WQ_2_2")])
def test_free_temperature_is_identifiable_only_up_to_the_score_scale_even_for_exact_heads(param, scores):
    model = attention_entry("plain", 2, 1, 1, param, "free", dim=2)
    assert model.shared_names == ("tau",) and model.build(1).shared[0].name == "tau"
    result = rate_order(model, 1, "atomwise", GRID)
    assert (result.status, result.identifiable) == ("proved", False)
    assert "score-temperature scaling of every atom" in result.degeneracy["family"]
    assert scores in result.degeneracy["family"] and "tau times (1 + t)" in result.degeneracy["family"]
    assert result.degeneracy["d1_at_t_0.1"] >= 0.2  # |tau - tau*| = tau* / 10 at t = 1/10, plus the scores
    assert result.convention["shared_coordinates"] == ["tau"] and result.convention["D1"].endswith("+ |tau - tau*|")
    assert "symmetry with k = k* atoms too" in result.verdict


def test_held_temperature_is_absorbed_and_a_shared_coordinate_without_a_proof_is_refused():
    held = attention_entry("plain", 2, 2, 1, "hmoe", "held")
    assert held.shared_names == () and "tau absorbed into the scores" in held.parametrisation
    free = attention_entry("plain", 2, 1, 1, "hmoe", "free", activation="tanh")
    without_scalings = dataclasses.replace(free, scalings=())  # nothing left to prove phi = 0; no shared search
    with pytest.raises(ModelError, match="no coordinate shared by the atoms"):
        rate_order(without_scalings, 1, "atomwise", GRID)


@pytest.mark.parametrize("param", ["hmoe", "tied-scores"])
def test_relu_values_scale_exactly_and_tanh_values_do_not(param):
    relu = attention_entry("plain", 2, 2, 1, param, activation="relu")
    tanh = attention_entry("plain", 2, 2, 1, param, activation="tanh")
    assert relu.linear_names == () == tanh.linear_names  # active values enter non-linearly
    scaling = relu.candidate_scalings()[0]
    assert scaling.name == "output-value"
    proved = scale_scan(relu, (2,), "atomwise", scaling)  # relu(z / (1 + t)) (1 + t) = relu(z): positive homogeneity
    assert proved.status is Status.PROVED and proved.not_identifiable
    assert scale_scan(tanh, (2,), "atomwise", tanh.candidate_scalings()[0]).status is Status.REFUTED


def test_tied_layer_weights_have_the_query_key_scaling_for_every_activation():
    model = attention_entry("plain", 2, 2, 1, "tied", activation="sigmoid")
    result = rate_order(model, 2, "atomwise", GRID)
    assert result.status == "proved" and "query-key scaling" in result.degeneracy["family"]
    assert "WQ_1_1 times (1 + t); WK_1_1 divided by (1 + t)" in result.degeneracy["family"]
    assert [s.name for s in attention_entry("plain", 2, 2, 1, "tied-scores").candidate_scalings()] == ["output-value"]


def test_tied_scores_tanh_entry_has_order_two_with_the_rate_achieved_proved():
    result = rate_order(attention_entry("plain", 2, 2, 1, "tied-scores", activation="tanh"), 2, "atomwise", GRID)
    assert result.identifiable and abs(result.exponent - 2) <= 0.1, result.text()
    assert result.lower_bound["proved"] and result.lower_bound["order"] == 2
    assert result.status == "proved"  # no faster: enclosures over the 2 inputs along an exact family
    assert result.certificate["method"].startswith("iterated acb.integral in (x_1, x_2)")
    assert all(abs(lo - 2) < 1e-3 and abs(hi - 2) < 1e-3 for lo, hi in result.certificate["slope_bounds"])


@pytest.mark.parametrize(("argv", "message"), [
    (["--activation", "softplus"], "unknown activation 'softplus'"),
    (["--attention", "G1", "--activation", "tanh"], "take no gate"),
    (["--temperature", "warm"], "invalid choice"),
])
def test_bad_attention_flags_get_one_line(capsys, argv, message):
    base = ["inverse-bound", "--attention", "plain"]
    code = None
    try:
        code = main([*base, *argv])
    except SystemExit as exc:  # argparse choices
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err


def test_free_temperature_json_validates_against_the_schema(capsys):
    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[1] / "docs" / "schemas" / "inverse-bound.schema.json")
                        .read_text(encoding="utf-8"))
    assert main(["inverse-bound", "--attention", "G2", "--dim", "2", "--temperature", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    jsonschema.validate(out, schema)
    assert out["convention"]["shared_coordinates"] == ["tau"] and out["status"] == "proved"
    assert out["degeneracy"]["family"].startswith("cells (2,): score-temperature scaling of every atom")


@pytest.mark.parametrize("param", ["hmoe", "tied"])
def test_an_output_gate_g5_is_shared_by_the_heads_and_over_specified_heads_still_merge(param):
    model = attention_entry("G5", 2, 2, 1, param)
    assert model.shared_names == ("Wg_1_1",) and [float(v) for v in model.true_shared] == [0.5]
    assert all(not n.startswith("Wg") for n in model.atom_names)  # the gate is no coordinate of a head
    r = rate_order(model, 2, "atomwise", (1e-2, 1e-3))
    assert r.status == Status.PROVED.value and not r.identifiable and r.exponent is None
    assert r.degeneracy["d1_at_t_0.1"] > 0


@pytest.mark.parametrize("position", ["G1", "G2", "G3"])
def test_a_per_head_gate_is_a_coordinate_of_its_head_not_shared(position):
    """The shared/per-head split is structural (which parameters enter every head's term df/dw_h), not by name:
    a gate inside each head (G1-G3) stays in the head's atom, only G5's gate on the sum of the heads is shared."""
    model = attention_entry(position, 2, 2, 1, "hmoe")
    assert model.shared_names == ()
    assert any(n.startswith("Wg") for n in model.atom_names)
