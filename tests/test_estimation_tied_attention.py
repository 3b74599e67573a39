"""The tied attention layer's Voronoi loss D1_tied (attention_catalogue.tied_d1): built on the identified products
only, zero at the truth, blind to both scaling symmetries and to the exact merge of heads, head-permutation
invariant."""

from __future__ import annotations

import numpy as np
import pytest

from hmoe_theory.estimation import attention_catalogue as ac
from hmoe_theory.estimation.setting import AttentionEntry, setting_from_mapping


@pytest.mark.parametrize("position, dim, temperature", [("G3", 2, True), ("G1", 1, False)])
def test_the_tied_layer_is_the_free_atom_entry_at_its_products(position, dim, temperature):
    entry = AttentionEntry(position, 2, dim, "attention", temperature)
    names = [p.name for p in entry.function(2).params]
    theta = np.random.default_rng(5).normal(size=len(names))
    if temperature:
        theta[names.index("tau")] = 1.7
    X = np.random.default_rng(6).uniform(-1, 1, (40, 2 * dim))
    free = ac.tied_to_free_atoms(entry, 2, theta)
    assert np.abs(entry.model(2).predict(X, theta) - ac.free_entry(entry).model(2).predict(X, free)).max() < 1e-12


def _tied(heads: int, truth: list[dict]):
    return setting_from_mapping({"name": "tied", "design": "uniform(-1, 1)", "noise_variance": 0.01, "truth": truth,
                                 "attention": {"position": "G1", "heads": heads, "parametrisation": "attention"}})


TWO_HEADS = [{"WQ": 2.0, "WK": 1.0, "WV": 1.0, "WO": 1.0, "Wg": 2.0},
             {"WQ": -1.0, "WK": 0.5, "WV": 2.0, "WO": -0.5, "Wg": -1.0}]


def test_tied_d1_is_zero_at_the_truth_and_a_function_of_the_products_only():
    setting = _tied(2, TWO_HEADS)
    names = [p.name for p in setting.attention.function(2).params]
    truth = setting.true_theta
    assert ac.losses(setting, truth) == {"d1_merged": 0.0, "l2_error": 0.0}
    rescaled = truth.copy()
    for name, factor in (("WQ_1_1_1", 3.0), ("WK_1_1_1", 1 / 3.0), ("WV_2_1_1", -0.25), ("WO_2_1", -4.0)):
        rescaled[names.index(name)] *= factor  # (W_Q c, W_K / c) and (W_V c, W_O / c)
    assert ac.losses(setting, rescaled)["d1_merged"] == pytest.approx(0.0, abs=1e-12)
    moved = truth + np.random.default_rng(7).normal(0.0, 0.05, len(truth))
    value = ac.losses(setting, moved)["d1_merged"]
    swapped = moved.reshape(-1, 2)[:, ::-1].ravel()  # every block lists head 1 then head 2: permute the heads
    assert value > 0.01 and ac.losses(setting, swapped)["d1_merged"] == pytest.approx(value, rel=1e-12)
    small = truth.copy()
    small[names.index("WQ_1_1_1")] += 1e-3  # S_1j moves by 1e-3 WK / sqrt(d) = 1e-3 for both tokens j
    # weight m_1 = ||(W_V W_O)_j|| = sqrt(N) = sqrt(2), ||Delta S_1||_1 = 2e-3, nothing else moves
    assert ac.losses(setting, small)["d1_merged"] == pytest.approx(np.sqrt(2) * 2e-3, rel=1e-9)


def test_tied_d1_does_not_see_the_exact_merge_of_two_heads():
    setting = _tied(2, TWO_HEADS[:1])
    names = [p.name for p in setting.attention.function(2).params]
    value = dict(WQ_1_1_1=2.0, WQ_2_1_1=2.0, WK_1_1_1=1.0, WK_2_1_1=1.0, Wg_1_1_1=2.0, Wg_2_1_1=2.0,
                 WV_1_1_1=1.0, WO_1_1=2.5, WV_2_1_1=-3.0, WO_2_1=0.5)  # value products 2.5 and -1.5: sum 1
    theta = np.array([value[n] for n in names])
    X = np.random.default_rng(8).uniform(-1, 1, (60, 2))
    assert np.abs(setting.fit_model.predict(X, theta) - setting.true_model.predict(X, setting.true_theta)).max() < 1e-12
    assert ac.losses(setting, theta)["d1_merged"] == pytest.approx(0.0, abs=1e-12)
    theta[names.index("WK_2_1_1")] = 1.5  # head 2 gets another score: F != F*, and D1 > 0
    assert ac.losses(setting, theta)["d1_merged"] > 0.5


def test_the_tied_convention_names_its_loss_and_metric():
    from hmoe_theory.estimation.catalogue import convention

    tied = convention(_tied(2, TWO_HEADS[:1]))
    assert tied.metric == "d1_merged" and tied.loss.startswith("tied D1") and not tied.negative_control
    assert convention("attention/G1/over").metric == "voronoi" and convention("attention/G1/over").negative_control
