"""``hmoe interactions`` and ``hmoe identifiability``: output, JSON, one-line errors (exit status 2)."""

import json

import pytest

from hmoe_theory.cli import main


def test_interactions_catalogue_family_json(capsys):
    assert (
        main(
            [
                "interactions",
                "--gate",
                "quadratic-polynomial",
                "--expert",
                "linear",
                "--d",
                "1",
                "--order",
                "2",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert (data["size"], data["rank"], data["nullity"]) == (15, 6, 9)
    relation = {
        "terms": [{"derivative": ["A_1_1"], "coefficient": "1"}, {"derivative": ["b_1", "b_1"], "coefficient": "-1"}]
    }
    assert any(r["terms"] == relation["terms"] and r["status"] == "proved" for r in data["relations"])
    assert data["margin"] > 0 and data["null_residual"] < 1e-40


def test_interactions_density_mode_table_prints_the_heat_equation_and_the_point(capsys):
    assert main(["interactions", "--gate", "softmax-linear", "--expert", "linear", "--mode", "density"]) == 0
    out = capsys.readouterr().out
    assert "reproduce with --at beta_1=" in out
    assert "[proved] dF/dnu - 1/2 d2F/dalpha^2 = 0" in out


def test_interactions_user_function(capsys):
    argv = [
        "interactions",
        "--function",
        "exp(beta*x)*(a*x+b)",
        "--inputs",
        "x",
        "--params",
        "beta,a,b",
        "--at",
        "beta=0.3,a=-0.5,b=0.7",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "point       beta=3/10,a=-1/2,b=7/10" in out
    assert "[proved] dF/da - d2F/dbeta db = 0" in out


def test_identifiability_preset_and_fisher(capsys):
    assert (
        main(
            [
                "identifiability",
                "--gate",
                "quadratic-monomial",
                "--expert",
                "ridge-tanh",
                "--preset",
                "strong",
                "--k",
                "2",
            ]
        )
        == 0
    )
    assert "IDENTIFIABLE" in capsys.readouterr().out
    argv = [
        "identifiability",
        "--gate",
        "softmax-linear",
        "--expert",
        "linear",
        "--fisher",
        "--k",
        "2",
        "--json",
        "--at",
        "beta_1_1=0,beta0_1=0,a_1_1=1/2,alpha_1=1/4,nu_1=1/2,beta_2_1=0,beta0_2=0,a_2_1=1/2,alpha_2=1/4,nu_2=1/2",
    ]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["singular"] is True and data["rank"] == 3


def test_identifiability_table_slice(capsys):
    assert main(["identifiability", "--table", "--gate", "softmax-linear", "--expert", "ridge-tanh", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["rows"][0]
    assert (row["relations_order_1"], row["relations_order_2"], row["strongly_identifiable"]) == (0, 1, False)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["interactions", "--gate", "nope", "--expert", "linear"], "unknown gate 'nope'"),
        (["interactions", "--gate", "softmax-linear", "--expert", "linear", "--order", "5"], "between 1 and 4"),
        (["interactions", "--function", "exp(beta*x)", "--inputs", "x", "--params", "beta,a"], "do not occur"),
        (["interactions", "--function", "exp(beta*x)", "--inputs", "x"], "--inputs and --params"),
        (["interactions", "--gate", "softmax-linear"], "--gate and --expert"),
        (
            ["interactions", "--function", "abs(b)*x", "--inputs", "x", "--params", "b", "--at", "b=0"],
            "not differentiable",
        ),
        (["interactions", "--gate", "softmax-linear", "--expert", "linear", "--at", "beta_1=1e"], "cannot"),
        (
            ["identifiability", "--gate", "softmax-linear", "--expert", "linear", "--preset", "weak"],
            "unknown identifiability preset",
        ),
        (["identifiability"], "--table"),
        (["interactions", "--attention", "G7"], "unknown gate position 'G7'"),
        (["interactions", "--attention", "plain", "--tokens", "0"], "tokens must be an integer"),
        (["interactions", "--attention", "plain", "--gate", "softmax-linear"], "give one family"),
        (["interactions", "--attention", "G2", "--mode", "density"], "not --attention"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hmoe: error:") and message in err and "\n" not in err


def test_interactions_attention_entry_json(capsys):
    argv = ["interactions", "--attention", "G2", "--tokens", "2", "--dim", "1", "--heads", "1", "--order", "1", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["params"] == ["S_1_1_1_1", "S_1_2_1_1", "V_1_1_1_1", "V_1_1_2_1", "w_1_1", "Wg_1_1_1"]
    assert (data["size"], data["rank"], data["nullity"]) == (7, 5, 2)
    # F is linear in the head weight: F - w dF/dw = 0 at the printed point
    w = data["point"]["w_1_1"]
    homogeneity = [{"derivative": [], "coefficient": "1"}, {"derivative": ["w_1_1"], "coefficient": f"-{w}"}]
    assert any(r["terms"] == homogeneity and r["status"] == "proved" for r in data["relations"])


def test_interactions_attention_parametrisation_with_temperature(capsys):
    argv = ["interactions", "--attention", "plain", "--param", "attention", "--temperature", "--order", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "free temperature" in out and "dF/dtau" in out and "4 relation(s)" in out
