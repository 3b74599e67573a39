"""Decompositions of attention as (hierarchical) MoEs: vec convention, exactness, classification of gates."""

import math

import numpy as np
import pytest

from hmoe_theory.attention import (
    GATE_POSITIONS,
    THEORY_CLASSIFICATION,
    AttentionEntryHMoE,
    AttentionWeights,
    QuadraticMonomialMoE,
    attention_entry_hmoe,
    classify_all_gate_positions,
    classify_gate_position,
    compare_entry,
    float_is_zero,
    multi_head_attention,
    single_head_attention,
    single_head_row_moe,
    symbolic_tokens,
    token_selector,
    tokens_from_vector,
    vectorize_tokens,
)
from hmoe_theory.attention.decompose import embedded_block, embedded_rows
from hmoe_theory.errors import HmoeError, ModelError, UnknownNameError
from proofs_check.claims.attention import prove_equal_modulo_exponentials

GATES = GATE_POSITIONS[1:]


def test_vec_convention_stacks_rows_and_selectors_pick_tokens():
    X = np.arange(12.0).reshape(4, 3)
    x = vectorize_tokens(X)
    np.testing.assert_array_equal(x, np.arange(12.0))
    np.testing.assert_array_equal(tokens_from_vector(x, 4), X)
    for i in range(4):
        np.testing.assert_array_equal(token_selector(i, 4, 3) @ x, X[i])


def test_embedded_block_is_the_selector_product():
    rng = np.random.default_rng(0)
    M, B = rng.standard_normal((3, 3)), rng.standard_normal((2, 3))
    E = [token_selector(j, 4, 3) for j in range(4)]
    np.testing.assert_array_equal(embedded_block(M, 1, 3, 4), E[1].T @ M @ E[3])
    np.testing.assert_array_equal(embedded_rows(B, 2, 4), B @ E[2])


def test_row_scores_and_experts_are_the_stated_quadratic_and_linear_maps():
    rng = np.random.default_rng(1)
    N, d, dk = 5, 4, 3
    W_Q, W_K, W_V, X = (rng.standard_normal(s) for s in ((d, dk), (d, dk), (d, 2), (N, d)))
    x = vectorize_tokens(X)
    moe = single_head_row_moe(W_Q, W_K, W_V, 2, N)
    assert moe.gate_matrices.shape == (N, N * d, N * d) and moe.expert_matrices.shape == (N, 2, N * d)
    expected = [X[2] @ W_Q @ W_K.T @ X[j] / math.sqrt(dk) for j in range(N)]
    np.testing.assert_allclose(moe.scores(x), expected, rtol=1e-12)
    np.testing.assert_allclose(moe.expert_outputs(x), X @ W_V, rtol=1e-12)
    np.testing.assert_allclose(moe.routing_weights(x).sum(), 1.0, rtol=1e-15)
    A, B = moe.components[4]
    np.testing.assert_allclose(A, embedded_block(W_Q @ W_K.T / math.sqrt(dk), 2, 4, N), rtol=1e-15)
    np.testing.assert_array_equal(B, W_V.T @ token_selector(4, N, d))


@pytest.mark.parametrize("seed", range(4))
def test_every_row_is_the_moe_at_random_sizes_up_to_16_by_32(seed):
    rng = np.random.default_rng(seed)
    N, d = (16, 32) if seed == 0 else (int(rng.integers(1, 17)), int(rng.integers(1, 33)))
    dk, dv = int(rng.integers(1, 9)), int(rng.integers(1, 9))
    W_Q, W_K, W_V = (rng.standard_normal((d, k)) / math.sqrt(d) for k in (dk, dk, dv))
    X = rng.standard_normal((N, d))
    out, x = single_head_attention(X, W_Q, W_K, W_V), vectorize_tokens(X)
    error = max(np.max(np.abs(single_head_row_moe(W_Q, W_K, W_V, i, N)(x) - out[i])) for i in range(N))
    assert error < 1e-12


def test_transposed_gate_matrices_break_the_identity():
    """The test above can fail: with A_ij replaced by A_ji (M non-symmetric) the rows differ."""
    rng = np.random.default_rng(2)
    W_Q, W_K, W_V, X = (rng.standard_normal(s) for s in ((3, 2), (3, 2), (3, 2), (4, 3)))
    moe = single_head_row_moe(W_Q, W_K, W_V, 1, 4)
    wrong = QuadraticMonomialMoE(moe.gate_matrices.transpose(0, 2, 1).copy(), moe.expert_matrices)
    x = vectorize_tokens(X)
    assert np.max(np.abs(moe(x) - wrong(x))) == pytest.approx(0.0, abs=1e-13)  # x^T A x = x^T A^T x ...
    swapped = QuadraticMonomialMoE(
        np.array([embedded_block(W_Q @ W_K.T / math.sqrt(2), j, 1, 4) for j in range(4)]), moe.expert_matrices
    )
    assert (
        np.max(np.abs(swapped(x) - single_head_attention(X, W_Q, W_K, W_V)[1])) > 1e-3
    )  # ... but E_j^T M E_i is wrong


@pytest.mark.parametrize("position", GATE_POSITIONS)
def test_every_entry_is_the_three_level_hmoe(position):
    rng = np.random.default_rng(len(str(position)))
    for N, d, H in ((16, 32, 4), (int(rng.integers(1, 17)), int(rng.integers(1, 33)), int(rng.integers(1, 5)))):
        weights = AttentionWeights.random(H, d, 4, 3, 5, position=position, seed=rng)
        X = rng.standard_normal((N, d))
        Y, x = multi_head_attention(X, weights), vectorize_tokens(X)
        entries = [(N - 1, 4), (0, 0), (int(rng.integers(N)), int(rng.integers(5)))]
        error = max(abs(attention_entry_hmoe(weights, N, i, c)(x) - Y[i, c]) for i, c in entries)
        assert error < 1e-12


def test_levels_of_the_ungated_entry():
    rng = np.random.default_rng(4)
    w = AttentionWeights.random(2, 3, 2, 2, 4, seed=rng)
    X = rng.standard_normal((3, 3))
    x = vectorize_tokens(X)
    entry = AttentionEntryHMoE(w, 3, 2, 1)
    np.testing.assert_array_equal(entry.head_weights, [1, 1])
    np.testing.assert_array_equal(entry.coordinate_weights, w.output[:, 1].reshape(2, 2))
    S = np.array([X[2] @ w.query[h] @ w.key[h].T @ X.T / math.sqrt(2) for h in range(2)])
    np.testing.assert_allclose(entry.scores(x), S, rtol=1e-12)
    np.testing.assert_allclose(entry.experts(x), np.array([(X @ w.value[h]).T for h in range(2)]), rtol=1e-12)
    assert entry.shared_factor(x) == 1


@pytest.mark.parametrize("position", GATES)
@pytest.mark.parametrize("n_heads", [2, 3])
def test_computed_classification_matches_theory(position, n_heads):
    result = classify_gate_position(position, n_heads=n_heads, n_tokens=5, dim=4, seed=n_heads)
    assert result.changes == THEORY_CLASSIFICATION[position], str(result)
    assert result.max_reconstruction_error < 1e-12
    assert ("token" in result.expert_factor_varies_over) == (position == "G2")
    if position.startswith("G1"):  # query-dependent: common to the tokens of a subtree, not to the heads
        assert "head" in result.expert_factor_varies_over


def test_classify_all_positions_at_the_largest_size():
    results = classify_all_gate_positions(n_tokens=16, dim=32, n_heads=4, key_dim=8, value_dim=8, trials=1, seed=9)
    assert list(results) == list(GATES)
    assert {p: r.changes for p, r in results.items()} == THEORY_CLASSIFICATION
    assert str(results["G2"]) == "G2: changes experts (expert factor varies over head, coordinate, token)"


def test_single_head_headwise_gate_is_a_shared_factor():
    assert classify_gate_position("G1-headwise", n_heads=1).changes == {"shared factor"}
    assert classify_gate_position("G1-elementwise", n_heads=1, value_dim=1).changes == {"shared factor"}
    assert classify_gate_position("G1-elementwise", n_heads=1, value_dim=2).changes == {"experts"}


def test_compare_entry_reports_exactly_untouched_components():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((4, 3))
    x = vectorize_tokens(X)
    for position in ("G3", "G5"):
        w = AttentionWeights.random(2, 3, 2, position=position, seed=rng)
        gated, plain = AttentionEntryHMoE(w, 4, 1, 2), AttentionEntryHMoE(w.without_gate(), 4, 1, 2)
        np.testing.assert_array_equal(gated.experts(x), plain.experts(x))
        if position == "G5":
            np.testing.assert_array_equal(gated.routing_weights(x), plain.routing_weights(x))
            assert gated.shared_factor(x) == pytest.approx(1 / (1 + np.exp(-X[1] @ w.gate[:, 2])), rel=1e-14)
    comparison = compare_entry(AttentionEntryHMoE(w, 4, 1, 2), x, float_is_zero())
    assert (comparison.routing_changed, comparison.experts_changed, comparison.factor_changed) == (False, False, True)


def test_symbolic_row_and_gated_entry_identities_small_sizes():
    w = AttentionWeights.symbolic_generic(1, 2, 2)
    X = symbolic_tokens(2, 2)
    x = vectorize_tokens(X)
    layer = single_head_attention(X, w.query[0], w.key[0], w.value[0])
    row = single_head_row_moe(w.query[0], w.key[0], w.value[0], 1, 2)(x)
    assert prove_equal_modulo_exponentials(layer[1, 0], row[0]) is not None
    assert prove_equal_modulo_exponentials(layer[1, 0], row[1]) is None  # a different coordinate is not equal
    g = AttentionWeights.symbolic_generic(2, 2, 1, 1, 1, position="G2")
    assert (
        prove_equal_modulo_exponentials(multi_head_attention(X, g)[0, 0], AttentionEntryHMoE(g, 2, 0, 0)(x)) is not None
    )


@pytest.mark.parametrize(
    "build, error",
    [
        (lambda: single_head_row_moe(np.ones((2, 2)), np.ones((3, 2)), np.ones((2, 2)), 0, 3), ModelError),
        (lambda: single_head_row_moe(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)), 3, 3), ModelError),
        (lambda: single_head_row_moe(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)), 0, 3)(np.ones(5)), ModelError),
        (lambda: AttentionEntryHMoE(AttentionWeights.random(1, 2, 2), 3, 0, 9), ModelError),
        (lambda: AttentionEntryHMoE(AttentionWeights.random(1, 2, 2), 3, 0, 0)(np.ones(4)), ModelError),
        (lambda: tokens_from_vector(np.ones(7), 2), ModelError),
        (lambda: QuadraticMonomialMoE(np.ones((2, 3, 3)), np.ones((2, 1, 4))), ModelError),
        (lambda: classify_gate_position("G6"), UnknownNameError),
    ],
)
def test_bad_input_gives_one_line_errors(build, error):
    with pytest.raises(error) as info:
        build()
    assert isinstance(info.value, HmoeError) and "\n" not in str(info.value)
