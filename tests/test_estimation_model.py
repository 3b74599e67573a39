"""SoftmaxMoE: kernels derived from the symbolic families equal the fully symbolic mixture (values, Jacobian,
exact Hessian of the loss), and the facts read off the symbolic score (translation invariance, pinning,
identified projection sym(A))."""

import numpy as np
import pytest
import sympy as sp

from hmoe_theory.compile import compile_exprs
from hmoe_theory.errors import ModelError
from hmoe_theory.estimation.model import SoftmaxMoE
from hmoe_theory.families import Expert, Gate, Mixture, get_expert, get_gate

TYPED_GATE = Gate.from_expression("b1*x1 + b2*x2**2", ["x1", "x2"])
TYPED_EXPERT = Expert.from_expression("a*tanh(w*x1 - x2) + alpha", ["x1", "x2"])
PAIRS = [
    ("softmax-linear", "linear", 3),
    ("quadratic-polynomial", "ridge-tanh", 2),
    ("quadratic-monomial", "gated-linear", 2),
    ("laplace", "ridge-sigmoid", 2),
    (TYPED_GATE, TYPED_EXPERT, 2),
]
IDS = ["softmax-linear/linear", "quadratic-polynomial/ridge-tanh", "quadratic-monomial/gated-linear",
       "laplace/ridge-sigmoid", "typed"]


def _model(gate, expert, k, d=2) -> SoftmaxMoE:
    return SoftmaxMoE(get_gate(gate), get_expert(expert), k, d)


def _point(model: SoftmaxMoE, seed: int = 0, n: int = 40):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, model.d))
    theta = rng.normal(0, 0.8, model.n_params)
    return X, theta


@pytest.mark.parametrize("gate, expert, k", PAIRS, ids=IDS)
def test_derived_kernels_equal_the_symbolic_mixture(gate, expert, k):
    model = _model(gate, expert, k)
    mixture = Mixture(model.gate, model.expert, k, model.d)
    assert len(mixture.params) == model.n_params  # same flat order: per component [gate, bias, expert]
    X, theta = _point(model)
    function = mixture.function
    symbolic = np.broadcast_to(function.kernel(*X.T, *theta), (len(X),))
    np.testing.assert_allclose(model.predict(X, theta), symbolic, rtol=1e-12, atol=1e-12)
    derivatives = [function.derivative(p) for p in function.params]
    jacobian = compile_exprs(derivatives, [*function.inputs, *function.params])(*X.T, *theta).T
    J = model.jacobian(X, theta)
    assert J.shape == (len(X), model.n_params)
    np.testing.assert_allclose(J, jacobian, rtol=1e-11, atol=1e-12 * np.abs(jacobian).max())
    f, Jt = model.predict_and_jacobian_t(X, theta)
    np.testing.assert_array_equal(Jt.T, J)
    np.testing.assert_allclose(f, model.predict(X, theta), rtol=1e-15, atol=1e-15)  # two kernels, same values
    np.testing.assert_allclose(model.gate_probabilities(X, theta).sum(axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("gate, expert, k", PAIRS, ids=IDS)
def test_newton_system_and_exact_hessian(gate, expert, k):
    model = _model(gate, expert, k)
    X, theta = _point(model, seed=1)
    y = model.predict(X, _point(model, seed=2)[1]) + 0.1 * np.random.default_rng(3).normal(size=len(X))
    r, norms, g, H = model.system(X, y, theta)
    J = model.jacobian(X, theta)
    np.testing.assert_allclose(r, model.predict(X, theta) - y, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(norms, (J**2).sum(axis=0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g, J.T @ r, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-15 * np.abs(H).max())
    # H = d g / d theta by central differences of the exact gradient (truncation ~ h^2, rounding ~ eps/h)
    h = 1e-5
    fd = np.empty_like(H)
    for a in range(model.n_params):
        step = np.zeros(model.n_params)
        step[a] = h
        fd[:, a] = (model.system(X, y, theta + step)[2] - model.system(X, y, theta - step)[2]) / (2 * h)
    scale = np.abs(H).max()
    np.testing.assert_allclose(H, fd, atol=1e-6 * scale)
    # the residual-curvature term is really there: H differs from Gauss-Newton J^T J
    assert np.abs(H - J.T @ J).max() > 1e-3 * scale
    loss, grad = model.squared_loss(theta, X, y)
    assert loss == pytest.approx(0.5 * float(r @ r) / len(X), rel=1e-14)
    np.testing.assert_allclose(grad, g / len(X), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "gate, invariant",
    [("softmax-linear", True), ("quadratic-polynomial", True), ("quadratic-monomial", True), ("laplace", False),
     (TYPED_GATE, True), (Gate.from_expression("b*x1 + 1", ["x1", "x2"]), False),
     (Gate.from_expression("exp(b*x1)", ["x1", "x2"]), False)],
)
def test_translation_invariance_decides_what_is_pinned(gate, invariant):
    model = _model(gate, "linear", 3)
    assert model.gate.translation_invariant(2) is invariant
    pg, pe = model.sizes
    mask = model.free_mask.reshape(3, pg + 1 + pe)
    assert mask[:2].all() and mask[2, pg + 1:].all() and not mask[2, pg]  # last bias always pinned
    assert mask[2, :pg].all() != invariant or pg == 0
    assert model.free_mask.sum() == model.n_params - 1 - (pg if invariant else 0)
    X, theta = _point(model, seed=4)
    pinned = model.pin(theta)
    parts = model.split(pinned)
    assert parts.bias[-1] == 0.0 and (not invariant or np.all(parts.gate[-1] == 0.0))
    np.testing.assert_allclose(model.predict(X, pinned), model.predict(X, theta), rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(parts.expert, model.split(theta).expert)
    with pytest.raises(ValueError, match="read-only"):
        model.free_mask[0] = False  # shared, read-only


def test_canonical_projects_a_quadratic_form_on_its_symmetric_part():
    model = _model("quadratic-monomial", "linear", 2)
    assert [p.name for p in model.gate_kernel.params] == ["A_1_1", "A_1_2", "A_2_1", "A_2_2"]
    gate = np.array([[1.0, 2.0, 0.0, -1.0], [0.5, 0.0, 1.0, 0.0]])
    theta = model.join(gate, [0.3, 0.0], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    canonical = model.canonical(theta)
    np.testing.assert_allclose(canonical.gate, [[1.0, 1.0, 1.0, -1.0], [0.5, 0.5, 0.5, 0.0]], atol=1e-14)
    np.testing.assert_allclose(canonical.expert, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], atol=1e-14)  # (x, 1): full rank
    np.testing.assert_array_equal(canonical.bias, [0.3, 0.0])
    X = _point(model, seed=5)[0]
    symmetric = model.join(canonical.gate, canonical.bias, canonical.expert)
    np.testing.assert_allclose(model.predict(X, symmetric), model.predict(X, theta), rtol=1e-13)  # same function
    P = model.gate.identified_projection(2)
    np.testing.assert_allclose(P, P.T, atol=1e-15)
    np.testing.assert_allclose(P @ P, P, atol=1e-12)
    assert round(np.trace(P)) == 3  # d(d+1)/2 identified entries


def test_canonical_of_a_typed_gate_with_redundant_parameters():
    gate = Gate.from_expression("b1*x1 + b2*x1", ["x1"])
    assert gate.translation_invariant(1)
    np.testing.assert_allclose(gate.identified_projection(1), [[0.5, 0.5], [0.5, 0.5]], atol=1e-12)
    nonlinear = Expert.from_expression("a*tanh(w*x1)", ["x1"])
    np.testing.assert_array_equal(nonlinear.identified_projection(1), np.eye(2))  # not linear: nothing removed


def test_model_input_errors():
    with pytest.raises(ModelError, match="k and d must be positive integers"):
        SoftmaxMoE.from_names("softmax-linear", "linear", 0, 2)
    with pytest.raises(ModelError, match="needs a softmax gate"):
        SoftmaxMoE.from_names("sigmoid", "linear", 2, 2)
    model = SoftmaxMoE.from_names("softmax-linear", "linear", 2, 2)
    with pytest.raises(ModelError, match="expected 12 parameters"):
        model.predict(np.zeros((3, 2)), np.zeros(5))
    with pytest.raises(ModelError, match=r"X must have shape \(n, 2\)"):
        model.predict(np.zeros((3, 3)), np.zeros(12))
    assert model.param_names()[:6] == ["beta_1_1", "beta_1_2", "beta0_1", "a_1_1", "a_1_2", "alpha_1"]  # the Mixture's names


def test_kernels_are_compiled_from_the_symbolic_terms():
    model = SoftmaxMoE.from_names("quadratic-polynomial", "ridge-tanh", 2, 2)
    score, _ = model.gate.builder(model.gate_kernel.inputs, None)
    assert sp.simplify(model.gate_kernel.expr - score) == 0
    # linear score: every derivative is a feature of x alone (computed once per data set), no second derivative
    assert model.gate_kernel.varying == () and model.gate_kernel.hessian_pairs == ()
    assert model.expert_kernel.varying != () and model.expert_kernel.hessian_pairs != ()


@pytest.mark.parametrize("gate", ["softmax-linear", "quadratic-monomial"])
def test_linear_design_reproduces_the_mixture_for_linear_experts(gate):
    model = SoftmaxMoE.from_names(gate, "linear", 3, 2)
    rng = np.random.default_rng(4)
    X, theta = rng.uniform(-1, 1, (50, 2)), rng.normal(size=model.n_params)
    design = model.linear_design(X, theta)
    assert design.shape == (len(model.linear_indices), 50)
    np.testing.assert_allclose(design.T @ theta[model.linear_indices], model.predict(X, theta), rtol=0, atol=1e-13)
