"""Identifiable twins of the non-identifiable least-squares settings: the merged D1 of over-specified linear experts
(its cells, the catalogue's twins, the spec field d1_convention, the quotient KKT test)."""

from __future__ import annotations

import numpy as np
import pytest

from hmoe_theory.estimation import attention_catalogue as ac
from hmoe_theory.estimation.catalogue import SETTINGS, convention, regression_mapping, same_functional
from hmoe_theory.estimation.least_squares import LeastSquaresFit
from hmoe_theory.estimation.quotient import gate_cells, quotient_projector, quotient_status
from hmoe_theory.estimation.replicate import losses
from hmoe_theory.estimation.setting import SpecError, setting_from_mapping
from hmoe_theory.estimation.voronoi import d1_loss

TWIN_GATES = ("softmax-linear", "quadratic-polynomial", "quadratic-monomial")


def _merge(setting, spread: float, split: float = 0.5):
    """Pinned parameters on the exact merge set: true atom 1 split in two with the true gate, weights split : 1 - split
    of its weight, experts eta* + spread / w-share and eta* - spread / (1 - share) (the cell aggregate is eta*)."""
    true = setting.true_theta.reshape(2, -1)
    pg = setting.fit_model.sizes[0]
    a, b = true[0].copy(), true[0].copy()
    a[pg] += np.log(split)
    b[pg] += np.log(1 - split)
    a[pg + 1:] += spread / split
    b[pg + 1:] -= spread / (1 - split)
    return np.concatenate([a, b, true[1]])


# -- the merged D1 ---------------------------------------------------------------------------------------
def test_merged_d1_cells_come_from_the_atomwise_coordinates():
    # two atoms with the true gate 0 of cell 1 and experts 1 +- 3 (aggregate = the true expert): by all coordinates
    # the second atom (0, -2) would sit in cell 2 (true atom (1, -2.5))
    weights, atoms = np.array([0.5, 0.5, 1.0]), np.array([[0.0, 4.0], [0.0, -2.0], [1.0, -2.5]])
    true_weights, true_atoms = np.array([1.0, 1.0]), np.array([[0.0, 1.0], [1.0, -2.5]])
    merged = d1_loss(weights, atoms, true_weights, true_atoms, convention="merged", merged=[1])
    atomwise = d1_loss(weights, atoms, true_weights, true_atoms)
    assert merged.cells == ((0, 1), (2,)) and merged.value == pytest.approx(0.0, abs=1e-15)
    assert atomwise.cells == ((0,), (1, 2)) and atomwise.value == pytest.approx(1.0 + 1.5 + 0.75)


@pytest.mark.parametrize("gate", TWIN_GATES)
def test_the_exact_merge_is_invisible_to_the_twin_and_visible_to_its_control(gate):
    control, twin = SETTINGS[f"{gate}/linear/over"], SETTINGS[f"{gate}/linear/over/merged"]
    assert twin.d1_convention == "merged" and control.d1_convention == "atomwise"
    assert np.array_equal(twin.true_theta, control.true_theta) and twin.k == control.k == 3
    theta = _merge(twin, 0.35, split=0.3)
    nodes = np.random.default_rng(1).uniform(-1, 1, (300, 2))
    gap = twin.fit_model.predict(nodes, theta) - twin.true_model.predict(nodes, twin.true_theta)
    assert np.abs(gap).max() < 1e-12  # f_G = f_G* ...
    metrics = losses(twin, theta)
    assert metrics["d1_merged"] == pytest.approx(0.0, abs=1e-12)  # ... and the merged D1 sees nothing
    assert metrics["d1"] > 1.0 and metrics["voronoi"] > 0.5  # the atom-wise losses do
    off = theta.copy()
    off[0] += 0.01  # a gate coordinate of the split atom: the merged D1 moves by w_0 |0.01|
    assert losses(twin, off)["d1_merged"] == pytest.approx(np.exp(twin.true_theta[twin.fit_model.sizes[0]]) * 0.3
                                                           * 0.01, rel=1e-9)


def test_the_catalogue_pairs_each_negative_control_with_its_twins():
    for gate in TWIN_GATES:
        control, twin = convention(f"{gate}/linear/over"), convention(f"{gate}/linear/over/merged")
        assert control.negative_control and control.twin == f"{gate}/linear/over/merged"
        assert control.mle_twin == f"gaussian-moe/{gate + '/' if gate != 'softmax-linear' else ''}over"
        assert not twin.negative_control and twin.metric == "d1_merged" and twin.loss.startswith("merged D1")
        assert "quotient" in twin.converged and "quotient" not in control.converged
        assert not same_functional(("x", f"{gate}/linear/over/merged", f"{gate}/linear/over", "voronoi", ""))
    assert convention("laplace/linear/over").twin == "" and convention("softmax-linear/linear/exact").metric == "voronoi"
    assert convention("gaussian-moe/over").converged.startswith("small log-likelihood gain")


def test_the_spec_field_d1_convention_is_checked_in_one_line():
    mapping = regression_mapping("softmax-linear", "linear", True)
    setting = setting_from_mapping({**mapping, "d1_convention": "merged"})
    assert setting.to_mapping()["d1_convention"] == "merged"
    bad = [
        ({**mapping, "d1_convention": "fused"}, "d1_convention: expected one of atomwise, merged, got 'fused'"),
        ({**regression_mapping("softmax-linear", "ridge-tanh", True), "d1_convention": "merged"},
         "d1_convention: 'merged' needs least squares and an expert linear in its parameters"),
        ({**ac.attention_mapping("G1", "over"), "d1_convention": "merged"}, "d1_convention: not used by an [attention]"),
    ]
    for raw, message in bad:
        with pytest.raises(SpecError, match="^" + message.replace("[", r"\[").replace("(", r"\(")):
            setting_from_mapping(raw)


# -- the quotient KKT test -------------------------------------------------------------------------------
def test_the_quotient_projector_removes_exactly_the_merge_directions():
    twin = SETTINGS["softmax-linear/linear/over/merged"]
    theta = _merge(twin, 0.2, split=0.4)
    assert gate_cells(twin, theta) == ((0, 1), (2,))
    P = quotient_projector(twin, theta)
    assert np.allclose(P, P.T, atol=1e-12) and np.allclose(P @ P, P, atol=1e-12)
    free = twin.fit_model.free_mask
    # tangents of the merge set: the expert spread, and the weight split with the experts keeping the aggregate
    for curve in (lambda t: _merge(twin, 0.2 + t, split=0.4), lambda t: _merge(twin, 0.2, split=0.4 + t)):
        tangent = (curve(1e-6) - curve(-1e-6))[free] / 2e-6
        assert np.linalg.norm(P @ tangent) < 1e-6 * np.linalg.norm(tangent)
    assert np.linalg.matrix_rank(np.eye(len(P)) - P, tol=1e-9) == 4  # (|V| - 1)(1 + p_expert) = 1 x 4
    gate_move = np.zeros(int(free.sum()))
    gate_move[0] = 1.0  # beta_1 of atom 1: moves an identified quantity
    assert np.allclose(P @ gate_move, gate_move)


def test_quotient_status_ignores_only_the_merge_directions():
    twin = SETTINGS["softmax-linear/linear/over/merged"]
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (400, 2))
    y = twin.true_model.predict(X, twin.true_theta) + 0.1 * rng.standard_normal(400)
    theta = _merge(twin, 0.3)
    at_merge = LeastSquaresFit(theta, "iteration-cap", "max_iter", 100, 0.0, 0.0, 0)
    assert quotient_status(twin, X, y, at_merge, 5.0) == "iteration-cap"  # noisy data: not a critical point
    assert quotient_status(twin, X, y, LeastSquaresFit(theta, "diverged", "non-finite", 1, 0.0, 0.0, 0), 5.0) \
        == "diverged"
    # noise-free data: the merge point is a zero of the residual; along M the loss is flat, elsewhere curved
    exact = twin.true_model.predict(X, twin.true_theta)
    r, norms, g, H = twin.fit_model.system(X, exact, theta)
    free = twin.fit_model.free_mask
    eigenvalues = np.linalg.eigvalsh(H[np.ix_(free, free)])
    assert np.sum(np.abs(eigenvalues) < 1e-8 * eigenvalues.max()) >= 4  # the flat merge directions (and more)
    P = quotient_projector(twin, theta)
    assert np.abs(P @ g[free]).max() < 1e-10


def test_the_replicate_judges_a_twin_on_the_quotient_and_its_control_by_plain_kkt(monkeypatch):
    from hmoe_theory.estimation import replicate

    calls, real = [], replicate.quotient_acceptance

    def spy(setting, bound):
        calls.append(setting.name)
        rule = real(setting, bound)

        def accept(theta, system):
            calls.append("tried")
            return rule(theta, system)

        return accept

    monkeypatch.setattr(replicate, "quotient_acceptance", spy)
    rng = np.random.default_rng(0)
    for name in ("softmax-linear/linear/over/merged", "softmax-linear/linear/over"):
        setting = replicate.get_setting(name)
        X = rng.uniform(-1, 1, size=(200, setting.d))
        y = rng.normal(size=200)
        fit = replicate._fit(setting, X, y, replicate.near_truth_start(setting, np.random.default_rng(1)))
        assert fit.status in ("converged", "iteration-cap", "stalled", "failed", "diverged")
    assert calls[0] == "softmax-linear/linear/over/merged" and "tried" in calls  # the solver asked the quotient rule
    assert calls.count("softmax-linear/linear/over/merged") == 1 and "softmax-linear/linear/over" not in calls


@pytest.mark.parametrize("gate", TWIN_GATES)
def test_an_exact_merge_whose_split_expert_sits_on_the_other_true_expert_has_merged_d1_zero(gate):
    """The translation alignment finds the fitted atoms of the pinned true atom by their gates, not their experts:
    here one split atom of cell 1 carries exactly the pinned true atom's experts (f_G = f_G* still), which an
    expert match took for the pinned atom (merged D1 7.4-9.0 instead of 0 before the fix)."""
    twin = SETTINGS[f"{gate}/linear/over/merged"]
    true, pg = twin.true_theta.reshape(2, -1), twin.fit_model.sizes[0]
    shift = true[0, pg + 1:] - true[1, pg + 1:]
    a, b = true[0].copy(), true[0].copy()
    a[pg] += np.log(0.5)
    b[pg] += np.log(0.5)
    a[pg + 1:] += shift
    b[pg + 1:] -= shift  # = the pinned true atom's experts
    theta = np.concatenate([a, b, true[1]])
    X = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    assert np.abs(twin.fit_model.predict(X, theta) - twin.true_model.predict(X, twin.true_theta)).max() < 1e-12
    assert losses(twin, theta)["d1_merged"] < 1e-12
    assert losses(twin, theta)["d1"] > 1.0  # atom-wise the split experts are far from eta*_1
