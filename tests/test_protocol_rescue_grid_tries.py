"""Protocol fields of a rate study (estimation/replicate.py, estimation/setting.py): the refit rule that rescues
warm fits that did not converge, grid designs X = linspace(lo, hi, n), and the best of ``tries`` fresh starts."""

from __future__ import annotations

import numpy as np
import pytest

from hmoe_theory.cli import main
from hmoe_theory.estimation import replicate
from hmoe_theory.estimation.catalogue import SETTINGS, convention
from hmoe_theory.estimation.setting import SpecError, setting_from_mapping

_TYPED = {
    "name": "typed", "inputs": ["x1"], "gate": "b*x1", "expert": "a*x1 + alpha", "design": "uniform(-1, 1)",
    "noise_variance": 0.01, "k": 2,
    "truth": [{"weight": 2.0, "b": 3.0, "a": 2.0, "alpha": 1.0}, {"weight": 1.0, "b": 0.0, "a": -2.0, "alpha": -1.0}],
}


_REAL_FIT = replicate._fit


def _with(protocol: dict) -> dict:
    return {**_TYPED, "protocol": {"random_path": False, **protocol}}


def _budget_per_call(monkeypatch, budgets: dict[int, int], starts: list | None = None) -> list[replicate._Fit]:
    """Run the real fit with MAX_ITER = budgets.get(call number, 100); returns the list of fits made (and
    appends their starts to ``starts``)."""
    real, fits = _REAL_FIT, []

    def fit(setting, X, y, start, budget=1):
        monkeypatch.setattr(replicate, "MAX_ITER", budgets.get(len(fits) + 1, 100))
        if starts is not None:
            starts.append(np.array(start))
        fits.append(real(setting, X, y, start, budget))
        return fits[-1]

    monkeypatch.setattr(replicate, "_fit", fit)
    return fits


def test_a_capped_warm_fit_is_rescued_by_a_converged_fresh_fit_and_one_fit_per_size_is_stored(monkeypatch):
    starts: list = []
    fits = _budget_per_call(monkeypatch, {2: 1}, starts)  # the warm fit at the second size gets one iteration
    rows = replicate.run_path(_with({}), (60, 90, 120), 2, 5)  # rep >= COLD_CHECK_REPS: no cold checks
    assert [f.status for f in fits] == ["converged", "iteration-cap", "converged", "converged"]
    assert [row["n"] for row in rows] == [60, 90, 120]  # exactly one stored fit per size
    assert [row["status"] for row in rows] == ["converged"] * 3
    assert [row["metrics"]["refit"] for row in rows] == [0.0, 1.0, 0.0]
    assert [row["metrics"]["refit_tried"] for row in rows] == [0.0, 1.0, 0.0]
    assert rows[1]["metrics"]["loss"] == fits[2].loss != fits[1].loss
    # the rescue start is the fresh start of that size (seeded by seed, setting, n; kick 0.1), near the truth
    setting = setting_from_mapping(_with({}))
    np.testing.assert_array_equal(starts[2], replicate._fresh_start(setting, 5, "typed", 90, 0.1))
    assert 0 < np.abs(starts[2] - setting.true_theta).max() < 0.5
    np.testing.assert_array_equal(starts[3], fits[2].theta)  # the kept fit is the next warm start
    assert fits[2].loss == pytest.approx(0.0047985175299909665, rel=1e-9)
    assert fits[1].loss == pytest.approx(0.005050459169004547, rel=1e-9)  # the capped warm fit: higher loss


def test_the_first_size_near_truth_fit_is_rescued_too_but_not_under_the_old_rule(monkeypatch):
    starts: list = []
    fits = _budget_per_call(monkeypatch, {1: 1}, starts)  # the first size's near-truth fit gets one iteration
    rows = replicate.run_path(_with({}), (60, 90), 2, 5)
    assert [f.status for f in fits] == ["iteration-cap", "converged", "converged"]
    assert [row["status"] for row in rows] == ["converged", "converged"]
    assert [row["metrics"]["refit"] for row in rows] == [1.0, 0.0]
    setting = setting_from_mapping(_with({}))
    np.testing.assert_array_equal(starts[1], replicate._fresh_start(setting, 5, "typed", 60, 0.1))
    assert not np.array_equal(starts[0], starts[1])  # the path's own near-truth start was a different draw
    fits = _budget_per_call(monkeypatch, {1: 1})
    rows = replicate.run_path(_with({"refit": "if-off"}), (60, 90), 2, 5)
    assert len(fits) == 2 and rows[0]["status"] == "iteration-cap" and rows[0]["metrics"]["refit_tried"] == 0.0


def test_the_old_rule_keeps_a_capped_warm_fit_and_both_capped_keep_the_lower_loss(monkeypatch):
    fits = _budget_per_call(monkeypatch, {2: 1})
    rows = replicate.run_path(_with({"refit": "if-off"}), (60, 90, 120), 2, 5)
    assert len(fits) == 3 and rows[1]["status"] == "iteration-cap" and rows[1]["metrics"]["refit_tried"] == 0.0
    fits = _budget_per_call(monkeypatch, {2: 1, 3: 1})  # the fresh refit is capped too
    with monkeypatch.context() as patched:
        patched.setattr(replicate, "_polished", lambda setting, X, y, fit: fit)  # the rule alone, without the polish
        rows = replicate.run_path(_with({}), (60, 90, 120), 2, 5)
    assert [f.status for f in fits[1:3]] == ["iteration-cap", "iteration-cap"]
    lower = min(fits[1:3], key=lambda f: f.loss)
    assert rows[1]["status"] == "iteration-cap" and rows[1]["metrics"]["loss"] == lower.loss
    assert rows[1]["metrics"]["refit"] == float(lower is fits[2]) and rows[1]["metrics"]["refit_tried"] == 1.0
    assert rows[1]["metrics"]["polished"] == 0.0
    fits = _budget_per_call(monkeypatch, {2: 1, 3: 1})
    rows = replicate.run_path(_with({}), (60, 90, 120), 2, 5)  # with it: the kept capped fit is polished
    assert rows[1]["status"] == "converged" and rows[1]["metrics"]["polished"] == 1.0
    assert rows[1]["metrics"]["loss"] < min(f.loss for f in fits[1:3])


@pytest.mark.parametrize(
    "warm, fresh, kept",
    [
        (("iteration-cap", 1.0), ("converged", 2.0), "fresh"),  # converged beats a lower capped loss
        (("converged", 1.0), ("converged", 2.0), "warm"),
        (("converged", 3.0), ("converged", 2.0), "fresh"),
        (("iteration-cap", 1.0), ("stalled", 2.0), "warm"),  # none converged: the lower loss
        (("diverged", -50.0), ("iteration-cap", 2.0), "fresh"),  # an off fit is never kept over a usable one
        (("diverged", -50.0), ("failed", 2.0), "fresh"),
    ],
)
def test_the_kept_fit_of_the_refit_rule(warm, fresh, kept):
    make = lambda status, loss: replicate._Fit(np.zeros(1), status, 1, loss, 0.0)  # noqa: E731
    w, f = make(*warm), make(*fresh)
    assert replicate._kept(w, f, "if-not-converged") is (w if kept == "warm" else f)
    assert replicate._kept(w, f, "if-off") is f


def test_the_catalogue_negative_controls_keep_the_old_rule_and_the_others_rescue():
    rules = {name: s.protocol.refit for name, s in SETTINGS.items()}
    controls = {name for name in SETTINGS if convention(name).negative_control}
    assert controls == {f"{g}/linear/over" for g in ("softmax-linear", "quadratic-polynomial", "quadratic-monomial",
                                                     "laplace")}
    assert {name for name, rule in rules.items() if rule == "if-off"} == controls
    assert rules["softmax-linear/linear/over/merged"] == rules["gaussian-moe/over"] == "if-not-converged"


def test_a_grid_design_is_linspace_at_every_size_for_every_replicate():
    setting = setting_from_mapping(_with({"sample": "fresh", "design_points": "grid", "starts": "fresh"}))
    for n in (7, 50, 333):
        (X1, y1), (X2, y2) = (replicate._Data(setting, seed, 400).at(setting, n) for seed in (1, 2))
        assert X1.shape == (n, 1)
        np.testing.assert_array_equal(X1[:, 0], np.linspace(-1.0, 1.0, n))
        np.testing.assert_array_equal(X1, X2)
        assert not np.array_equal(y1, y2)  # fresh noise per replicate
    rows = replicate.run_path(setting, (60, 120), 0, 3)
    assert [row["status"] for row in rows] == ["converged", "converged"]


def test_tries_keep_the_best_of_m_fresh_starts_by_loss(monkeypatch):
    monkeypatch.setattr(replicate, "MAX_ITER", 2)  # capped fits from distinct starts end at distinct losses
    fits = _budget_per_call(monkeypatch, {1: 2, 2: 2, 3: 2, 4: 2})
    protocol = {"sample": "fresh", "starts": "fresh", "start_perturbation": 0.5}
    [row] = replicate.run_path(_with({**protocol, "tries": 3}), (60,), 0, 5)
    losses = [f.loss for f in fits]
    assert len(fits) == 3 and len(set(losses)) == 3
    assert int(np.argmin(losses)) == 1 and row["metrics"]["loss"] == min(losses)  # not the first try
    assert row["metrics"]["tries_converged"] == 0.0 and row["status"] == "iteration-cap"
    [one] = replicate.run_path(_with(protocol), (60,), 0, 5)  # one try: try 0's start, no tries metric
    assert one["metrics"]["loss"] == losses[0] and "tries_converged" not in one["metrics"]


@pytest.mark.parametrize(
    "protocol, message",
    [
        ({"design_points": "grid"}, "protocol.design_points: 'grid' needs sample = 'fresh' (a prefix of a grid"),
        ({"design_points": "grid", "sample": "fresh", "__design": "normal(0, 1)"}, "needs d = 1 and design = 'uniform"),
        ({"design_points": "grid", "sample": "fresh", "__inputs": 2}, "needs d = 1 and design"),
        ({"tries": 3}, "protocol.tries: 3 tries need starts = 'fresh'"),
        ({"tries": 0, "starts": "fresh"}, "protocol.tries: expected an integer from 1 to 20, got 0"),
        ({"tries": 21, "starts": "fresh"}, "protocol.tries: expected an integer from 1 to 20"),
        ({"refit": "if-off", "starts": "fresh"}, "protocol.refit: only with starts = 'warm'"),
        ({"refit": "always"}, "protocol.refit: expected one of if-not-converged, if-off"),
    ],
)
def test_invalid_protocol_combinations_are_one_line_spec_errors(protocol, message):
    mapping = _with({k: v for k, v in protocol.items() if not k.startswith("__")})
    if "__design" in protocol:
        mapping["design"] = protocol["__design"]
    if "__inputs" in protocol:
        mapping.update(inputs=["x1", "x2"], gate="b*x1 + b2*x2",
                       truth=[{**t, "b2": 0.0} for t in _TYPED["truth"]])
    with pytest.raises(SpecError) as info:
        setting_from_mapping(mapping)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_grid_with_nested_samples_through_the_cli_is_one_line_and_exit_2(tmp_path, capsys):
    spec = tmp_path / "grid.toml"
    spec.write_text('name = "g"\ninputs = ["x1"]\ngate = "b*x1"\nexpert = "a*x1 + alpha"\ndesign = "uniform(0, 1)"\n'
                    'noise_variance = 0.01\nk = 1\n[protocol]\ndesign_points = "grid"\n'
                    '[[truth]]\nweight = 1.0\nb = 0.0\na = 1.0\nalpha = 0.0\n')
    assert main(["rates", "--spec", str(spec), "--out", str(tmp_path / "o"), "--n", "40,80", "--reps", "1"]) == 2
    err = capsys.readouterr().err
    assert err == f"hmoe: error: {spec}: protocol.design_points: 'grid' needs sample = 'fresh' (a prefix of a grid " \
                  "is not a grid)\n"
