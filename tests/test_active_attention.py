"""Active-attention: layer, decompositions, FFN/value experts, identifiability helpers and the shipped check."""

import json
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from hmoe_theory.attention import (
    AttentionWeights,
    active_entry_hmoe,
    active_multi_head_attention,
    active_row_moe,
    active_single_head_attention,
    activate,
    activation_after_mixing,
    single_head_attention,
    symbolic_tokens,
    vectorize_tokens,
)
from hmoe_theory.errors import HmoeError, ModelError, UnknownNameError
from hmoe_theory.families import EXPERTS, gate_expert
from hmoe_theory.families.experts import ACTIVATIONS
from hmoe_theory.interactions.identifiability import check_family, preset
from proofs_check.claims import active_attention as claims

ROOT = Path(__file__).resolve().parents[1]


def test_activations_match_their_definitions():
    z = np.linspace(-3, 3, 7)
    assert np.array_equal(activate(z, "relu"), np.maximum(z, 0))
    assert activate(np.array([1.0]), "gelu")[0] == pytest.approx(0.8413447460685429, rel=1e-15)  # Phi(1)
    assert activate(np.array([2.0]), "silu")[0] == pytest.approx(2 / (1 + np.exp(-2)), rel=1e-15)
    assert activate(np.array([-40.0]), "sigmoid")[0] == pytest.approx(np.exp(-40), rel=1e-12)
    symbolic = activate(np.array([sp.Symbol("z")], dtype=object), "gelu")[0]
    assert float(symbolic.subs("z", 1)) == pytest.approx(0.8413447460685429, rel=1e-15)
    with pytest.raises(UnknownNameError, match="unknown activation 'elu'"):
        activate(z, "elu")


def test_active_layer_applies_phi_to_the_values_before_the_mixing():
    rng = np.random.default_rng(0)
    w = AttentionWeights.random(1, 3, 2, 2, seed=1)
    X = rng.standard_normal((4, 3))
    W_Q, W_K, W_V = w.query[0], w.key[0], w.value[0]
    relu_out = active_single_head_attention(X, W_Q, W_K, W_V, "relu")
    weights = np.exp(X @ W_Q @ (X @ W_K).T / np.sqrt(2))
    weights /= weights.sum(axis=1, keepdims=True)
    assert np.allclose(relu_out, weights @ np.maximum(X @ W_V, 0), atol=1e-15)
    assert not np.allclose(relu_out, single_head_attention(X, W_Q, W_K, W_V))
    # sigmoid of the values: every output lies strictly in (0, 1) (convex combination of values in (0, 1))
    sigmoid_out = active_single_head_attention(X, W_Q, W_K, W_V, "sigmoid")
    assert np.all((sigmoid_out > 0) & (sigmoid_out < 1))


def test_row_and_entry_decompositions_at_large_sizes_and_logits():
    rng = np.random.default_rng(3)
    rows, entries = claims.row_errors(rng, 16, 32), claims.entry_errors(rng, 16, 32, 4)
    assert set(rows) == set(entries) == set(ACTIVATIONS)
    assert max(rows.values()) < 1e-13 and max(entries.values()) < 1e-13


def test_scaled_query_reaches_the_requested_logit_scale():
    rng = np.random.default_rng(5)
    w = AttentionWeights.random(1, 8, 4, 4, seed=2)
    X = rng.standard_normal((6, 8))
    W_Q = claims.scaled_query(X, w.query[0], w.key[0], 40.0)
    scores = (X @ W_Q) @ (X @ w.key[0]).T / 2.0
    assert np.max(np.abs(scores)) == pytest.approx(40.0, rel=1e-12)


def test_symbolic_row_equals_layer_exactly_for_tanh():
    w = AttentionWeights.symbolic_generic(1, 2, 2, 2)
    X = symbolic_tokens(2, 2)
    layer = active_single_head_attention(X, w.query[0], w.key[0], w.value[0], "tanh")
    row = active_row_moe(w.query[0], w.key[0], w.value[0], 1, 2, "tanh")(vectorize_tokens(X))
    assert sp.simplify(layer[1, 0] - row[0]) == 0


def test_entry_hmoe_refuses_gated_weights_and_unknown_activations():
    gated = AttentionWeights.random(1, 2, 2, position="G2", seed=0)
    with pytest.raises(ModelError, match="ungated"):
        active_entry_hmoe(gated, 2, 0, 0, "relu")
    with pytest.raises(ModelError, match="ungated"):
        active_multi_head_attention(np.ones((2, 2)), gated, "relu")
    with pytest.raises(UnknownNameError):
        active_entry_hmoe(gated.without_gate(), 2, 0, 0, "swish")
    assert issubclass(UnknownNameError, HmoeError)


def test_new_experts_in_the_catalogue():
    for activation in ACTIVATIONS:
        for name in (f"ffn-{activation}", f"ffn-nobias-{activation}", f"value-{activation}"):
            assert name in EXPERTS
    F = gate_expert("softmax-linear", "ffn-tanh", 1)
    assert [p.name for p in F.params] == ["beta_1", "a_1", "alpha", "b"]
    x, beta, a, alpha, b = 0.3, 0.2, -1.5, 0.4, 2.0
    assert F.kernel(x, beta, a, alpha, b) == pytest.approx(np.exp(beta * x) * b * np.tanh(a * x + alpha), rel=1e-14)
    V = gate_expert("softmax-linear", "value-relu", 1)
    assert [p.name for p in V.params] == ["beta_1", "a_1"]
    assert V.kernel(-0.5, 0.1, 2.0) == 0.0


def test_relu_experts_are_refused_at_order_two_by_the_engine():
    with pytest.raises(ModelError, match="Dirac delta"):
        check_family(("softmax-linear", "ffn-relu"), preset("strong", 2, 2), 1)
    assert check_family(("softmax-linear", "value-gelu"), preset("strong", 2, 2), 1).identifiable


def test_almost_everywhere_derivatives_of_relu_drop_the_dirac_delta():
    F = claims.expert_function("value-relu")
    (a,) = F.params
    values = claims.ae_derivatives(F, 2, {a: sp.Rational(3, 4)})
    assert values[(a, a)] == 0
    assert values[(a,)] == F.inputs[0] * sp.Heaviside(sp.Rational(3, 4) * F.inputs[0])


def test_definition_1_linear_expert_relations_as_the_paper_states():
    sets = claims.definition_1("linear")
    texts = sets[3].relations(limit=10)
    assert "dF/da_1 - x_1*dF/dalpha[eta_2] = 0" in texts or "dF/da_1 - x_1*dF/dalpha = 0" in texts
    assert not sets[2].nonzero
    gelu = claims.definition_1("value-gelu")
    assert all(s.literal for s in gelu.values())


def test_definition_1_relu_fails_by_positive_homogeneity():
    shared = claims.definition_1("ffn-relu")  # sets 1-2 apply
    assert not shared[1].nonzero and len(shared[1].discovery.relations) == 2  # one Euler relation per point
    same_sign = claims.definition_1("value-relu", seed=1)  # points a = 3/4 and 1/3
    assert same_sign[3].zero_members and not same_sign[3].nonzero


@pytest.mark.parametrize(
    "claim_id",
    [
        "active-attention.negative.activation-after-mixing",
        "active-attention.identifiability.parametrisation-relations",
        "active-attention.entry-relations",
    ],
)
def test_claims_reach_their_expected_status(claim_id):
    from proofs_check.registry import all_claims

    claim = next(c for c in all_claims() if c.id == claim_id)
    assert claim.check().status is claim.expected


def test_negative_control_is_refuted_numerically_too():
    rng = np.random.default_rng(7)
    w = AttentionWeights.random(1, 4, 3, 3, seed=3)
    X = rng.standard_normal((5, 4))
    for activation in ACTIVATIONS:
        gap = np.max(np.abs(activation_after_mixing(X, w.query[0], w.key[0], w.value[0], activation)
                            - active_single_head_attention(X, w.query[0], w.key[0], w.value[0], activation)))
        assert gap > 1e-3, activation


def test_shipped_empirical_results_are_consistent():
    summary = json.loads((ROOT / "docs" / "active_attention" / "summary.json").read_text())
    assert summary["seed"] == 0 and summary["replicates"] >= 10
    for row in summary["comparisons"]:
        low, high = row["ci95"]
        assert low <= row["mean_difference"] <= high


def _benchmark_module():
    import importlib.util
    import sys

    if "active_attention_check" not in sys.modules:  # dataclasses need their module registered
        path = ROOT / "benchmarks" / "active_attention_check.py"
        spec = importlib.util.spec_from_file_location("active_attention_check", path)
        sys.modules[spec.name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules["active_attention_check"]


@pytest.mark.parametrize("activation", [None, *ACTIVATIONS])
def test_benchmark_gradient_matches_finite_differences(activation):
    from scipy.optimize import approx_fprime

    bench = _benchmark_module()
    shapes = bench.Shapes()
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, bench.N_TOKENS, shapes.d))
    y = rng.standard_normal((20, shapes.dout))
    theta = rng.standard_normal(shapes.size)
    _, gradient = bench.loss_and_gradient(theta, X, y, activation, shapes)
    numeric = approx_fprime(theta, lambda t: bench.loss_and_gradient(t, X, y, activation, shapes)[0], 1e-7)
    assert np.max(np.abs(gradient - numeric)) < 1e-5
    assert bench.reference_error(np.random.default_rng(0), shapes) < 1e-14
