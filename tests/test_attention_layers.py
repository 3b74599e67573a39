"""Reference attention layers: values against independent loop implementations, gates, symbolic mode, errors."""

import math

import numpy as np
import pytest
import sympy as sp

from hmoe_theory.attention import (
    GATE_POSITIONS,
    AttentionWeights,
    attention_scores,
    gate_shape,
    multi_head_attention,
    scaled_dot_product_attention,
    sigmoid,
    single_head_attention,
    softmax,
    symbolic_tokens,
)
from hmoe_theory.errors import HmoeError, ModelError, UnknownNameError


def loop_attention(X, W_Q, W_K, W_V):
    """Textbook single-head attention with Python loops and math.exp (no shared code)."""
    N, dk = X.shape[0], W_Q.shape[1]
    Q, K, V = X @ W_Q, X @ W_K, X @ W_V
    out = np.zeros((N, W_V.shape[1]))
    for i in range(N):
        s = [sum(Q[i, m] * K[j, m] for m in range(dk)) / math.sqrt(dk) for j in range(N)]
        z = [math.exp(v - max(s)) for v in s]
        for j in range(N):
            out[i] += z[j] / sum(z) * V[j]
    return out


def test_softmax_is_stable_and_normalised():
    z = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1000.0]])
    w = softmax(z, axis=1)
    assert np.all(np.isfinite(w))
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-15)
    np.testing.assert_allclose(w[0], np.exp([-1.0, 0.0, -2.0]) / np.exp([-1.0, 0.0, -2.0]).sum(), rtol=1e-14)
    np.testing.assert_allclose(w[1], 1 / 3, rtol=1e-15)


def test_sigmoid_values_and_extremes():
    np.testing.assert_allclose(
        sigmoid(np.array([0.0, 2.0, -2.0])), [0.5, 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(2))], rtol=1e-15
    )
    with np.errstate(over="raise", invalid="raise"):
        assert sigmoid(np.array([-800.0]))[0] == 0.0 and sigmoid(np.array([800.0]))[0] == 1.0


@pytest.mark.parametrize("N, d, dk, dv", [(1, 1, 1, 1), (3, 2, 2, 4), (7, 5, 3, 2)])
def test_single_head_matches_loop_implementation(N, d, dk, dv):
    rng = np.random.default_rng(N * 100 + d)
    X, W_Q, W_K, W_V = (rng.standard_normal(s) for s in ((N, d), (d, dk), (d, dk), (d, dv)))
    out = single_head_attention(X, W_Q, W_K, W_V)
    assert out.shape == (N, dv)
    np.testing.assert_allclose(out, loop_attention(X, W_Q, W_K, W_V), rtol=1e-12, atol=1e-13)
    S = attention_scores(X, W_Q, W_K)
    np.testing.assert_allclose(S[1 % N, 0], X[1 % N] @ W_Q @ W_K.T @ X[0] / math.sqrt(dk), rtol=1e-12)


def test_huge_scores_do_not_overflow():
    X = np.array([[30.0, 0.0], [0.0, 30.0], [30.0, 30.0]])
    W = np.eye(2) * 10
    out = single_head_attention(X, W, W, np.eye(2))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[2], X[2], atol=1e-12)  # token 2 has by far the largest score with itself


def test_multi_head_is_concatenation_then_projection():
    rng = np.random.default_rng(3)
    w = AttentionWeights.random(3, 4, 2, 3, 5, seed=rng)
    X = rng.standard_normal((6, 4))
    heads = [loop_attention(X, w.query[h], w.key[h], w.value[h]) for h in range(3)]
    expected = sum(heads[h] @ w.output[3 * h : 3 * h + 3] for h in range(3))
    np.testing.assert_allclose(multi_head_attention(X, w), expected, rtol=1e-12, atol=1e-13)


def _with_gate(w: AttentionWeights, position, gate) -> AttentionWeights:
    return AttentionWeights(w.query, w.key, w.value, w.output, position, gate)


@pytest.mark.parametrize("position", GATE_POSITIONS[1:])
def test_gates_match_hand_written_placement(position):
    rng = np.random.default_rng(7)
    w = AttentionWeights.random(2, 3, 2, 2, 3, position=position, seed=rng)
    X = rng.standard_normal((5, 3))
    g = w.gate
    heads = []
    for h in range(2):
        Q, K, V = X @ w.query[h], X @ w.key[h], X @ w.value[h]
        if position == "G2":
            V = V / (1 + np.exp(-(X @ g[h])))
        if position == "G3":
            K = K / (1 + np.exp(-(X @ g[h])))
        if position == "G4":
            Q = Q / (1 + np.exp(-(X @ g[h])))
        out = softmax(Q @ K.T / math.sqrt(2), axis=1) @ V
        if position == "G1-elementwise":
            out = out / (1 + np.exp(-(X @ g[h])))
        if position == "G1-headwise":
            out = out / (1 + np.exp(-(X @ g[h])))[:, None]
        heads.append(out)
    Y = np.hstack(heads) @ w.output
    if position == "G5":
        Y = Y / (1 + np.exp(-(X @ g)))
    np.testing.assert_allclose(multi_head_attention(X, w), Y, rtol=1e-12, atol=1e-13)
    assert np.max(np.abs(Y - multi_head_attention(X, w.without_gate()))) > 1e-3  # the gate does something


def test_zero_gate_weights_halve_the_gated_tensor():
    rng = np.random.default_rng(5)
    w = AttentionWeights.random(2, 3, 2, 2, 3, seed=rng)
    X = rng.standard_normal((4, 3))
    Y = multi_head_attention(X, w)
    for position in ("G1-elementwise", "G1-headwise", "G2", "G5"):  # the output is linear in these tensors
        zero = np.zeros(gate_shape(position, 2, 3, 2, 2, 3))
        np.testing.assert_allclose(multi_head_attention(X, _with_gate(w, position, zero)), Y / 2, rtol=1e-12)
    half_query = AttentionWeights(w.query / 2, w.key, w.value, w.output)
    for position in ("G3", "G4"):  # scores are halved: softmax(S / 2)
        zero = np.zeros(gate_shape(position, 2, 3, 2, 2, 3))
        np.testing.assert_allclose(
            multi_head_attention(X, _with_gate(w, position, zero)), multi_head_attention(X, half_query), rtol=1e-12
        )


def test_symbolic_layer_matches_numeric_layer():
    w = AttentionWeights.symbolic_generic(2, 2, 2, 1, 2, position="G3")
    X = symbolic_tokens(2, 2)
    Y = multi_head_attention(X, w)
    assert Y.dtype == object and isinstance(Y[0, 0], sp.Expr)
    arrays = (w.query, w.key, w.value, w.output, w.gate, X)
    symbols = sorted(set().union(*(e.free_symbols for a in arrays for e in a.reshape(-1))), key=lambda s: s.name)
    rng = np.random.default_rng(0)
    values = dict(zip(symbols, rng.uniform(-1, 1, len(symbols))))
    numeric = AttentionWeights(
        *(np.vectorize(lambda e: float(e.xreplace(values)))(a) for a in (w.query, w.key, w.value, w.output)),
        "G3",
        np.vectorize(lambda e: float(e.xreplace(values)))(w.gate),
    )
    Xn = np.vectorize(lambda e: float(e.xreplace(values)))(X)
    assert float(Y[1, 1].xreplace(values)) == pytest.approx(multi_head_attention(Xn, numeric)[1, 1], rel=1e-12)
    assert sp.simplify(softmax(np.array([sp.Symbol("a"), sp.Symbol("b")])).sum()) == 1


def test_symbol_names_follow_the_project_convention():
    w = AttentionWeights.symbolic_generic(2, 2, 1, position="G1-headwise")
    assert str(w.query[1, 0, 0]) == "WQ_2_1_1" and w.query[1, 0, 0].is_real
    assert w.gate.shape == (2, 2) and str(w.gate[1, 1]) == "Wg_2_2"
    assert [str(s) for s in symbolic_tokens(2, 2).reshape(-1)] == ["x_1", "x_2", "x_3", "x_4"]


@pytest.mark.parametrize(
    "build, error",
    [
        (lambda: single_head_attention(np.ones((3, 2)), np.ones((3, 2)), np.ones((2, 2)), np.ones((2, 2))), ModelError),
        (lambda: scaled_dot_product_attention(np.ones((3, 2)), np.ones((2, 2)), np.ones((3, 2))), ModelError),
        (
            lambda: AttentionWeights(np.ones((2, 3, 2)), np.ones((2, 3, 2)), np.ones((2, 3, 2)), np.ones((3, 3))),
            ModelError,
        ),
        (lambda: AttentionWeights.random(1, 3, 2, position="G7"), UnknownNameError),
        (lambda: AttentionWeights.random(1, 3, 2, position="G5").__class__(*_parts("G5", np.ones((2, 2)))), ModelError),
        (lambda: AttentionWeights.random(0, 3, 2), ModelError),
        (lambda: multi_head_attention(np.ones((4, 2)), AttentionWeights.random(1, 3, 2)), ModelError),
    ],
)
def test_bad_input_gives_one_line_errors(build, error):
    with pytest.raises(error) as info:
        build()
    assert isinstance(info.value, HmoeError) and "\n" not in str(info.value)


def _parts(position, gate):
    w = AttentionWeights.random(1, 3, 2)
    return w.query, w.key, w.value, w.output, position, gate
