"""Attention entry families (hmoe free atoms / attention weights): same function as the layer code,
parameter sets, temperature, errors."""

import numpy as np
import pytest
import sympy as sp

from hmoe_theory.attention import AttentionWeights, multi_head_attention
from hmoe_theory.attention.families import POSITIONS, attention_entry_function, gate_position
from hmoe_theory.errors import ModelError, UnknownNameError


def _values(weights: AttentionWeights) -> dict[str, float]:
    """Parameter values by symbol name (WQ_h_u_v, WK_h_u_v, WV_h_u_v, WO_u_v, Wg_...), 1-based."""
    out = {}
    for base, array in (("WQ", weights.query), ("WK", weights.key), ("WV", weights.value)):
        for (h, u, v), value in np.ndenumerate(array):
            out[f"{base}_{h + 1}_{u + 1}_{v + 1}"] = value
    for (u, v), value in np.ndenumerate(weights.output):
        out[f"WO_{u + 1}_{v + 1}"] = value
    if weights.gate is not None:
        for index, value in np.ndenumerate(weights.gate):
            out["Wg_" + "_".join(str(k + 1) for k in index)] = value
    return out


def _tied_atoms(weights: AttentionWeights, n_tokens: int) -> dict[str, float]:
    """Free atoms equal to the layer's weights: S_hj = W_Q W_K^T / sqrt(d_k) (or q_k k_k^T / sqrt(d_k)
    per key coordinate under G3/G4), V_hlj = W_V^h[:, l], w_hl = W_O[h d_v + l, 0]."""
    H, d, dk = weights.query.shape
    out = {}
    for h in range(H):
        for j in range(n_tokens):
            if weights.position in ("G3", "G4"):
                for k in range(dk):
                    block = np.outer(weights.query[h][:, k], weights.key[h][:, k]) / np.sqrt(dk)
                    for (u, v), value in np.ndenumerate(block):
                        out[f"S_{h + 1}_{j + 1}_{k + 1}_{u + 1}_{v + 1}"] = value
            else:
                block = weights.query[h] @ weights.key[h].T / np.sqrt(dk)
                for (u, v), value in np.ndenumerate(block):
                    out[f"S_{h + 1}_{j + 1}_{u + 1}_{v + 1}"] = value
            for l in range(weights.value_dim):
                for u in range(d):
                    out[f"V_{h + 1}_{l + 1}_{j + 1}_{u + 1}"] = weights.value[h][u, l]
        for l in range(weights.value_dim):
            out[f"w_{h + 1}_{l + 1}"] = weights.output[h * weights.value_dim + l, 0]
    if weights.gate is not None:
        for index, value in np.ndenumerate(weights.gate):
            out["Wg_" + "_".join(str(k + 1) for k in index)] = value
    return out


def _evaluate(F, X: np.ndarray, values: dict[str, float]) -> float:
    return float(F.kernel(*X.reshape(-1), *(values[p.name] for p in F.params)))


@pytest.mark.parametrize("position", list(POSITIONS))
@pytest.mark.parametrize("n_heads", [1, 2])
def test_both_parametrisations_equal_the_layer_entry(position, n_heads):
    rng = np.random.default_rng(3)
    n_tokens, dim = 3, 2
    weights = AttentionWeights.random(n_heads, dim, dim, position=gate_position(position), seed=rng)
    X = rng.standard_normal((n_tokens, dim))
    layer = multi_head_attention(X, weights)[0, 0]
    attention = attention_entry_function(position, n_tokens, dim, n_heads, param="attention")
    hmoe = attention_entry_function(position, n_tokens, dim, n_heads, param="hmoe")
    assert _evaluate(attention, X, _values(weights)) == pytest.approx(layer, abs=1e-12)
    assert _evaluate(hmoe, X, _tied_atoms(weights, n_tokens)) == pytest.approx(layer, abs=1e-12)


def test_parameter_sets_are_the_atoms_that_occur():
    plain = attention_entry_function("plain", 2, 2, 2, param="attention")
    # W_Q, W_K, W_V: 2 heads x 2 x 2 each; only column 1 of W_O (4 rows) occurs
    assert len(plain.params) == 3 * 8 + 4
    assert [p.name for p in plain.params if p.name.startswith("WO")] == ["WO_1_1", "WO_2_1", "WO_3_1", "WO_4_1"]
    hmoe = attention_entry_function("plain", 2, 2, 2, param="hmoe")
    assert len(hmoe.params) == 2 * (2 * 4 + 2 * 2 * 2 + 2)  # scores, values, head weights
    g5 = attention_entry_function("G5", 2, 2, 1, param="hmoe")
    assert [p.name for p in g5.params if p.name.startswith("Wg")] == ["Wg_1_1", "Wg_2_1"]
    g3 = attention_entry_function("G3", 2, 1, 1, param="hmoe")
    assert {p.name for p in g3.params} == {"S_1_1_1_1_1", "S_1_2_1_1_1", "V_1_1_1_1", "V_1_1_2_1", "w_1_1", "Wg_1_1_1"}


def test_free_temperature_replaces_the_sqrt_dk_scale():
    rng = np.random.default_rng(5)
    weights = AttentionWeights.random(1, 2, 2, seed=rng)
    X = rng.standard_normal((2, 2))
    F = attention_entry_function("plain", 2, 2, 1, param="attention", temperature=True)
    assert F.params[-1].name == "tau" and F.params[-1].is_positive
    values = {**_values(weights), "tau": np.sqrt(2.0)}
    assert _evaluate(F, X, values) == pytest.approx(multi_head_attention(X, weights)[0, 0], abs=1e-12)
    values["tau"] = 0.5
    assert _evaluate(F, X, values) != pytest.approx(multi_head_attention(X, weights)[0, 0], abs=1e-6)
    hmoe = attention_entry_function("plain", 2, 1, 1, param="hmoe", temperature=True)
    tau = hmoe.param("tau")
    assert sp.simplify(hmoe.expr.subs(tau, 1) - attention_entry_function("plain", 2, 1, 1).expr) == 0


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"position": "G7"}, UnknownNameError),
        ({"param": "transformer"}, UnknownNameError),
        ({"n_tokens": 0}, ModelError),
        ({"dim": 7}, ModelError),
        ({"n_heads": True}, ModelError),
        ({"query_token": 2}, ModelError),
        ({"coordinate": 1}, ModelError),
    ],
)
def test_bad_arguments_raise_one_line_errors(kwargs, error):
    with pytest.raises(error):
        attention_entry_function(**kwargs)
