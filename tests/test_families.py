"""Gate, expert and mixture families: formulas, parameters, compiled kernels."""

import numpy as np
import pytest
import sympy as sp

from hmoe_theory.errors import ModelError, UnknownNameError
from hmoe_theory.families import EXPERTS, GATES, Mixture, gate_expert
from hmoe_theory.symbols import input_symbols, real_symbol


@pytest.mark.parametrize("gate", sorted(GATES))
@pytest.mark.parametrize("expert", sorted(EXPERTS))
@pytest.mark.parametrize("d", [1, 3])
def test_every_product_is_well_formed(gate, expert, d):
    f = gate_expert(gate, expert, d)
    assert f.inputs == input_symbols(d)
    assert f.expr.free_symbols <= set(f.inputs) | set(f.params)
    assert len(set(f.params)) == len(f.params)
    values = np.linspace(0.1, 0.9, len(f.inputs) + len(f.params))
    assert np.isfinite(f.kernel(*values))


def test_quadratic_polynomial_formula_and_symmetric_factor_two():
    f = gate_expert("quadratic-polynomial", "linear", 2)
    x1, x2 = input_symbols(2)
    A12, A21 = real_symbol("A_1_2"), real_symbol("A_2_1")
    assert sp.diff(sp.log(f.expr / (real_symbol("a_1") * x1 + real_symbol("a_2") * x2 + real_symbol("alpha"))), A12) == x1 * x2
    assert A21 in f.params
    g = gate_expert("quadratic-polynomial-symmetric", "linear", 2)
    assert A21 not in g.params
    assert sp.simplify(sp.diff(g.expr, A12) / g.expr) == 2 * x1 * x2


def test_softmax_bias_is_a_weight_and_sigmoid_bias_is_a_parameter():
    f = gate_expert("softmax-linear", "linear", 2)
    assert [p.name for p in f.weight_params] == ["beta0"]
    assert real_symbol("beta0") not in f.expr.free_symbols
    g = gate_expert("sigmoid", "linear", 2)
    assert real_symbol("beta0") in g.params


def test_density_mode_is_gate_times_gaussian():
    f = gate_expert("softmax-linear", "linear", 1, mode="density")
    x, y = f.inputs
    value = f.kernel(0.5, 0.2, 0.3, 1.5, -0.1, 0.7)  # x, y, beta, a, alpha, nu
    mean = 1.5 * 0.5 - 0.1
    expected = np.exp(0.3 * 0.5) * np.exp(-((0.2 - mean) ** 2) / (2 * 0.7)) / np.sqrt(2 * np.pi * 0.7)
    assert value == pytest.approx(expected, rel=1e-13)


def test_mixture_weights_sum_to_one_and_match_numpy_softmax():
    m = Mixture.from_names("softmax-linear", "linear", k=3, d=2)
    rng = np.random.default_rng(0)
    theta = rng.normal(size=len(m.params))
    x = rng.uniform(-1, 1, size=(2, 50))
    values = m.function.kernel(x[0], x[1], *theta)
    named = dict(zip((p.name for p in m.params), theta))
    scores = np.stack([named[f"beta_{j}_1"] * x[0] + named[f"beta_{j}_2"] * x[1] + named[f"beta0_{j}"] for j in (1, 2, 3)])
    weights = np.exp(scores - scores.max(0)) / np.exp(scores - scores.max(0)).sum(0)
    experts = np.stack([named[f"a_{j}_1"] * x[0] + named[f"a_{j}_2"] * x[1] + named[f"alpha_{j}"] for j in (1, 2, 3)])
    np.testing.assert_allclose(values, (weights * experts).sum(0), rtol=1e-12)
    assert sp.simplify(sum(m.weights) - 1) == 0


def test_bad_names_and_sizes_are_one_line_errors():
    with pytest.raises(UnknownNameError, match="unknown gate 'softmx'"):
        gate_expert("softmx", "linear")
    with pytest.raises(UnknownNameError, match="unknown expert"):
        gate_expert("softmax-linear", "linar")
    with pytest.raises(ModelError):
        gate_expert("softmax-linear", "linear", d=0)
    with pytest.raises(ModelError):
        Mixture.from_names("softmax-linear", "linear", k=0)


def test_gelu_expert_kernel_is_vectorised():
    from scipy.special import erf

    f = gate_expert("softmax-linear", "ridge-gelu", 1)
    x = np.linspace(-1, 1, 7)
    z = 0.5 * x + 0.1  # a = 0.5, alpha = 0.1, beta = 0.3
    expected = np.exp(0.3 * x) * z * (1 + erf(z / np.sqrt(2))) / 2
    np.testing.assert_allclose(f.kernel(x, 0.3, 0.5, 0.1), expected, rtol=1e-13)


def test_unknown_name_suggests_the_closest_entries():
    with pytest.raises(UnknownNameError, match="did you mean quadratic-monomial"):
        gate_expert("quadratic-monomal", "linear")


def test_the_public_api_is_lazy_and_names_the_library_objects():
    import subprocess
    import sys

    import hmoe_theory
    from hmoe_theory.families import Mixture as family_mixture

    assert hmoe_theory.Mixture is family_mixture and "Mixture" in dir(hmoe_theory)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        hmoe_theory.nothing  # noqa: B018
    code = "import sys, hmoe_theory; print(sorted(m for m in ('sympy', 'numpy', 'scipy') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"
