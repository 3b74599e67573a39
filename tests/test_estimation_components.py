"""Vectorised gates/experts/MoE against the symbolic families, and exact derivatives against finite differences."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from hmoe_theory.errors import ModelError, UnknownNameError
from hmoe_theory.estimation.components import EXPERT_MODELS, GATE_MODELS, get_expert_model, get_gate_model
from hmoe_theory.estimation.model import SoftmaxMoE
from hmoe_theory.families import Mixture

PAIRS = [(g, e) for g in GATE_MODELS for e in EXPERT_MODELS]


@pytest.mark.parametrize("gate,expert", PAIRS)
def test_prediction_matches_symbolic_mixture(gate, expert):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (6, 2))
    model = SoftmaxMoE.from_names(gate, expert, 2, 2)
    mixture = Mixture.from_names(gate, expert, 2, 2)
    # same parameter order: component by component [gate blocks, bias, expert blocks]
    blocks = [name for name, size in model.gate.blocks(2) for _ in range(size)] + ["bias"]
    blocks += [name for name, size in model.expert.blocks(2) for _ in range(size)]
    bias_names = {"beta0", "c"}
    symbolic_bases = [p.name.split("_")[0] for p in mixture.params]
    assert [("bias" if b in bias_names else b) for b in symbolic_bases] == blocks * 2
    theta = rng.normal(size=model.n_params)
    # point by point: the spine's numpy kernel does not vectorise erf (GELU)
    symbolic = np.array([mixture.function.kernel(x1, x2, *theta) for x1, x2 in X])
    np.testing.assert_allclose(model.predict(X, theta), symbolic, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("gate,expert", PAIRS)
def test_gradient_and_jacobian_match_finite_differences(gate, expert):
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, (40, 2))
    y = rng.normal(size=40)
    model = SoftmaxMoE.from_names(gate, expert, 3, 2)
    theta = rng.normal(size=model.n_params)
    loss, grad = model.squared_loss(theta, X, y)
    assert loss == pytest.approx(0.5 * np.mean((y - model.predict(X, theta)) ** 2), rel=1e-12)
    numeric = approx_fprime(theta, lambda t: model.squared_loss(t, X, y)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, atol=2e-6)
    jac = model.jacobian(X[:4], theta)
    numeric_jac = np.array([approx_fprime(theta, lambda t, i=i: model.predict(X[i : i + 1], t)[0], 1e-7) for i in range(4)])
    np.testing.assert_allclose(jac, numeric_jac, atol=2e-6)
    # gradient of the loss is J^T (f - y) / n
    np.testing.assert_allclose(grad, model.jacobian(X, theta).T @ (model.predict(X, theta) - y) / 40, atol=1e-12)


@pytest.mark.parametrize("gate", list(GATE_MODELS))
def test_pinning_keeps_the_function(gate):
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (30, 2))
    model = SoftmaxMoE.from_names(gate, "ridge-tanh", 3, 2)
    theta = rng.normal(size=model.n_params)
    pinned = model.pin(theta)
    np.testing.assert_allclose(model.predict(X, pinned), model.predict(X, theta), atol=1e-12)
    assert not pinned[~model.free_mask].any()
    assert (~model.free_mask).sum() == (1 + model.sizes[0] if GATE_MODELS[gate].translation_invariant else 1)


def test_quadratic_gate_depends_only_on_sym_A():
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, (25, 2))
    gate = get_gate_model("quadratic-polynomial")
    P = rng.normal(size=(3, 6))
    sym = gate.canonical(P, 2)
    np.testing.assert_allclose(gate.scores(X, sym), gate.scores(X, P), atol=1e-12)
    A = sym[:, :4].reshape(3, 2, 2)
    np.testing.assert_allclose(A, A.transpose(0, 2, 1))
    assert not np.allclose(sym, P)


def test_bad_names_and_shapes_are_one_line_errors():
    with pytest.raises(UnknownNameError, match="unknown vectorised gate 'softmax-cubic'"):
        get_gate_model("softmax-cubic")
    with pytest.raises(UnknownNameError, match="known"):
        get_expert_model("polynomial")
    model = SoftmaxMoE.from_names("softmax-linear", "linear", 2, 2)
    with pytest.raises(ModelError, match="expected 12 parameters"):
        model.predict(np.zeros((3, 2)), np.zeros(5))
    with pytest.raises(ModelError, match=r"shape \(n, 2\)"):
        model.predict(np.zeros((3, 3)), np.zeros(12))
    with pytest.raises(ModelError, match="positive integers"):
        SoftmaxMoE.from_names("softmax-linear", "linear", 0, 2)
