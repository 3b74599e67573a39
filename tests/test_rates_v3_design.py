"""The rates-v3 rerun: D1 metrics stored by the replicate, the decisive design as data, the stored rate orders."""

from __future__ import annotations

import numpy as np
import pytest

from hmoe_theory.estimation import replicate
from hmoe_theory.estimation.catalogue import DEFAULT_SETTINGS, SETTINGS, convention
from hmoe_theory.experiments import decisive, predicted


def _merge(gate: str, spread: float) -> tuple[object, np.ndarray]:
    """The exact merge of ``<gate>/linear/over``: true atom 0 split in two halves whose experts are +- spread."""
    setting = SETTINGS[f"{gate}/linear/over"]
    true = setting.true_theta.reshape(2, -1)
    pg = setting.fit_model.sizes[0]
    halves = [true[0].copy(), true[0].copy()]
    for sign, atom in zip((1, -1), halves):
        atom[pg] -= np.log(2)
        atom[pg + 1:] += sign * spread
    return setting, np.concatenate([*halves, true[1]])


@pytest.mark.parametrize("gate", ["softmax-linear", "quadratic-monomial"])
def test_the_merged_d1_does_not_see_the_exact_merge_and_the_atomwise_d1_does(gate):
    setting, theta = _merge(gate, 0.7)
    metrics = replicate.losses(setting, theta)
    # atom-wise: sum over the two halves of w_i |delta| = 2 * (w*/2) * 3 coordinates * 0.7 = 2.1 w*_0 = 3.462
    assert metrics["d1"] == pytest.approx(2.1 * np.exp(0.5), rel=1e-9)
    assert metrics["d1_merged"] < 1e-12  # the cell aggregates are the truth's
    assert metrics["l2_error"] < 1e-12


def test_d1_metrics_vanish_at_the_truth_and_merged_only_for_linear_least_squares():
    for name in ("softmax-linear/linear/exact", "softmax-linear/ridge-tanh/over", "gaussian-moe/over"):
        setting = SETTINGS[name]
        theta = replicate.near_truth_start(setting, np.random.default_rng(0), 0.0)
        metrics = replicate.losses(setting, theta)
        assert metrics["d1"] == 0.0
        assert ("d1_merged" in metrics) == (name == "softmax-linear/linear/exact")
    assert predicted.metrics_of("quadratic-polynomial/linear/over") == ("d1", "d1_merged")
    assert predicted.metrics_of("gaussian-moe/quadratic-monomial/over") == ("d1",)


def test_the_decisive_design_spends_few_replicates_on_the_negative_controls():
    identifiable, controls = decisive.plan()
    assert controls.settings == ("softmax-linear/linear/over", "quadratic-polynomial/linear/over",
                                 "quadratic-monomial/linear/over")
    assert all(convention(s).negative_control for s in controls.settings)
    assert not any(convention(s).negative_control for s in identifiable.settings)
    assert set(identifiable.settings) | set(controls.settings) == set(DEFAULT_SETTINGS)
    assert {"softmax-linear/linear/over/merged", "quadratic-monomial/linear/over/merged"} <= set(identifiable.settings)
    assert (identifiable.reps, controls.reps) == (20, 4)
    assert decisive.SIZES == (1000, 1931, 3728, 7197, 13895, 26827, 51795, 100000)


def test_variable_projection_is_chosen_per_setting(monkeypatch):
    asked = {}

    def spy(model, X, y, start, **kwargs):
        asked[len(start)] = kwargs["projection"]
        raise RuntimeError("stop")

    monkeypatch.setattr(replicate, "fit_least_squares", spy)
    for name in ("softmax-linear/linear/over", "quadratic-monomial/linear/over"):
        asked.clear()
        with pytest.raises(RuntimeError):
            replicate.run_path(name, (100,), 2, 0)
        assert list(asked.values()) == [name not in replicate.NO_PROJECTION]
    assert replicate.NO_PROJECTION == {"quadratic-monomial/linear/over"}


def test_rate_orders_are_computed_under_a_time_limit_and_stored_with_the_engine_version(tmp_path):
    rows = predicted.compute(("softmax-linear/linear/over",), time_limit=120.0, metrics=("d1",))
    assert [(r.metric, r.loss, r.model, r.k, r.s) for r in rows] == [("d1", "atomwise", "regression", 3, None)]
    assert rows[0].status.startswith("proved") and "not identifiable" in rows[0].status  # the exact merge
    slow = predicted.compute(("softmax-linear/ridge-tanh/over",), time_limit=0.2, metrics=("d1",))
    assert slow[0].s is None and slow[0].status == "not computed: time limit 0.2 s"
    path = predicted.write_table([*rows, *slow], tmp_path / "orders.csv")
    back = predicted.read_table(path)
    assert back == [*rows, *slow] and len(back[0].engine) == 12
    orders = predicted.predicted_for(back)
    assert orders["softmax-linear/ridge-tanh/over"][0] is None
    assert orders["softmax-linear/linear/over"][1].endswith(f"D1 atomwise, regression model, engine {back[0].engine}")


def test_a_merged_loss_twin_is_predicted_by_its_merged_d1_order():
    assert predicted.metrics_of("softmax-linear/linear/over/merged") == ("d1_merged",)
    assert predicted.d1_metric("softmax-linear/linear/over/merged") == "d1_merged"
    assert predicted.d1_metric("softmax-linear/linear/over") == "d1"
    row = predicted.PredictedOrder("softmax-linear/linear/over/merged", "d1_merged", "merged", "regression", 3, 1.999,
                                   "certified", "", "abc", 4.6)
    atomwise = predicted.PredictedOrder("softmax-linear/linear/over/merged", "d1", "atomwise", "regression", 3, None,
                                        "proved", "", "abc", 0.1)
    orders = predicted.predicted_for([atomwise, row])
    assert orders["softmax-linear/linear/over/merged"][0] == 1.999  # the twin's own convention, not the atom-wise row


def test_rate_orders_take_quadratic_gates_in_the_identified_parametrisation():
    setting = SETTINGS["quadratic-monomial/linear/exact"]
    symmetric = predicted.identified(setting)
    assert symmetric.gate.name == "quadratic-monomial-symmetric"
    assert all("A_2_1" not in t for t in symmetric.truth) and symmetric.truth[0]["A_1_2"] == 0.5
    X = np.random.default_rng(0).uniform(-1, 1, (100, 2))
    gap = setting.true_model.predict(X, setting.true_theta) - symmetric.true_model.predict(X, symmetric.true_theta)
    assert np.abs(gap).max() < 1e-12  # x^T A x sees sym(A) only: the same truth
    assert predicted.identified(SETTINGS["softmax-linear/linear/exact"]) is SETTINGS["softmax-linear/linear/exact"]


def test_the_shipped_rerun_has_one_decodable_figure_per_setting_and_the_contrasts():
    import json
    from pathlib import Path

    from matplotlib.image import imread

    root = Path(__file__).resolve().parents[1] / "docs" / "rates_v3"
    names = json.loads((root / "summary.json").read_text())["settings"]
    expected = {f"rates-{name.replace('/', '_')}.png" for name in names} | {"contrasts.png"}
    assert {p.name for p in root.glob("*.png")} == expected
    for name in expected:
        image = imread(root / name)  # decodes the PNG: a figure that does not render fails here
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100, name
