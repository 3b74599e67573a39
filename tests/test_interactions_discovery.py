"""Interaction discovery rediscovers the foundation PDEs with no hint, finds none where there is none,
spans the whole null space, and refuses bad input with one-line errors."""

import json
from fractions import Fraction

import pytest
import sympy as sp

from hmoe_theory.certify import Status
from hmoe_theory.errors import ExpressionError, ModelError, UnknownNameError
from hmoe_theory.interactions import discover_relations, function_from_text


def _assert_complete_and_decided(result, proved=True):
    """Every null direction is reported (nullity = size - rank); each relation proved (proved=False: or supported)."""
    assert len(result.relations) == result.size - result.rank
    allowed = {Status.PROVED} if proved else {Status.PROVED, Status.SUPPORTED}
    assert {r.status for r in result.relations} <= allowed, [r.method for r in result.relations]
    assert result.residual < 1e-40 and not result.warnings


@pytest.mark.parametrize("expert", ["linear", "ridge-tanh"])
def test_quadratic_gate_pde_dF_dA_equals_d2F_db_db(expert):
    result = discover_relations(("quadratic-polynomial", expert), d=2)
    _assert_complete_and_decided(result, proved=expert == "linear")
    for u in (1, 2):
        for v in (1, 2):
            assert result.implies({(f"A_{u}_{v}",): 1, (f"b_{u}", f"b_{v}"): -1})
    # A_12 and A_21 enter through their sum only: a genuine first-order relation
    assert result.implies({("A_1_2",): 1, ("A_2_1",): -1})
    assert not result.implies({("A_1_2",): 1, ("b_1", "b_2"): -2})


def test_symmetric_quadratic_gate_has_the_factor_two_off_the_diagonal():
    result = discover_relations(("quadratic-polynomial-symmetric", "linear"), d=2)
    _assert_complete_and_decided(result)
    assert result.implies({("A_1_2",): 1, ("b_1", "b_2"): -2})
    assert result.implies({("A_1_1",): 1, ("b_1", "b_1"): -1})
    assert not result.implies({("A_1_2",): 1, ("b_1", "b_2"): -1})
    first = next(r for r in result.relations if r.terms[0].column.derivative.params == ("A_1_2",))
    assert first.text == "dF/dA_1_2 - 2 d2F/db_1 db_2 = 0"


@pytest.mark.parametrize("expert", ["linear", "ridge-sigmoid"])
def test_softmax_linear_gate_beta_alpha_relation(expert):
    result = discover_relations(("softmax-linear", expert), d=2)
    _assert_complete_and_decided(result, proved=expert == "linear")
    for k in (1, 2):
        assert result.implies({(f"beta_{k}", "alpha"): 1, (f"a_{k}",): -1})


@pytest.mark.parametrize("gate", ["softmax-linear", "quadratic-monomial"])
def test_gaussian_density_heat_equation(gate):
    result = discover_relations((gate, "linear"), mode="density")
    _assert_complete_and_decided(result)
    assert result.implies({("alpha", "alpha"): 1, ("nu",): -2})
    assert "dF/dnu - 1/2 d2F/dalpha^2 = 0" in [r.text for r in result.relations]


@pytest.mark.parametrize("d", [1, 2])
def test_quadratic_monomial_linear_homogeneity_with_point_coefficients(d):
    result = discover_relations(("quadratic-monomial", "linear"), d=d)
    _assert_complete_and_decided(result)
    value = {name: Fraction(v) for name, v in result.point.items()}
    A = "A_1_1" if d == 1 else "A_1_2"
    relation = {(A,): 1, (A, "alpha"): -value["alpha"]}
    relation.update({(A, f"a_{k}"): -value[f"a_{k}"] for k in range(1, d + 1)})
    assert result.implies(relation)
    wrong = dict(relation)
    wrong[(A, "alpha")] = -value["alpha"] - 1
    assert not result.implies(wrong)


@pytest.mark.parametrize("expert", ["ridge-tanh", "ridge-sigmoid"])
def test_no_relation_where_there_is_none(expert):
    result = discover_relations(("quadratic-monomial", expert), d=1, order=2)
    assert (result.size, result.rank, result.relations) == (10, 10, ())
    assert result.margin > 1e-12


def test_homogeneity_is_absent_for_ridge_tanh_but_beta_alpha_relation_is_exactly_the_null_space():
    result = discover_relations(("softmax-linear", "ridge-tanh"), d=1)
    assert [r.text for r in result.relations] == ["dF/da_1 - d2F/dbeta_1 dalpha = 0"]
    assert result.relations[0].status in (Status.PROVED, Status.SUPPORTED)


def test_special_point_creates_extra_relations():
    generic = discover_relations(("softmax-linear", "linear"), point="beta_1=1/3,a_1=2/5,alpha=-3/7")
    special = discover_relations(("softmax-linear", "linear"), point="beta_1=1/3,a_1=0,alpha=-3/7")
    assert special.nullity > generic.nullity
    # at a = 0, F = alpha exp(beta x): dF/dbeta = alpha dF/da
    assert special.implies({("beta_1",): 1, ("a_1",): Fraction(3, 7)})
    assert not generic.implies({("beta_1",): 1, ("a_1",): Fraction(3, 7)})


def test_output_is_canonical_whatever_the_sample_inputs():
    point = "A_1_1=-2/3,b_1=5/7,a_1=3/4,alpha=-1/5"
    a = discover_relations(("quadratic-polynomial", "linear"), point=point, seed=1, certify=False)
    b = discover_relations(("quadratic-polynomial", "linear"), point=point, seed=7, certify=False)
    assert [r.to_dict()["terms"] for r in a.relations] == [r.to_dict()["terms"] for r in b.relations]


def test_user_function_from_the_issue_and_json_schema():
    F = function_from_text("exp(beta*x)*(a*x+b)", "x", "beta,a,b")
    result = discover_relations(F, point="beta=0.3,a=-0.5,b=0.7")
    _assert_complete_and_decided(result)
    data = json.loads(result.to_json())
    assert data["point"] == {"beta": "3/10", "a": "-1/2", "b": "7/10"}
    assert (data["size"], data["rank"]) == (10, 4)
    terms = {
        tuple(t["derivative"]): t["coefficient"] for r in data["relations"] for t in r["terms"] if len(r["terms"]) == 2
    }
    assert terms[("a",)] == "1" and terms[("b", "beta")] == "-1"  # dF/da - d2F/dbeta db = 0, names sorted
    assert all(r["status"] == "proved" for r in data["relations"])


def test_order_three_and_without_f():
    result = discover_relations(("softmax-linear", "linear"), order=3, min_order=1)
    _assert_complete_and_decided(result)
    assert result.size == 3 + 6 + 10
    assert result.implies({("beta_1", "beta_1", "alpha"): 1, ("beta_1", "a_1"): -1})


def test_twelve_parameter_family_is_fast_enough_for_a_smoke_test():
    result = discover_relations(("quadratic-polynomial", "gated-linear"), d=2, certify=False)
    assert (len(result.params), result.size) == (12, 91)
    assert result.implies({("A_1_2",): 1, ("b_1", "b_2"): -1})
    assert result.implies({("b_1", "alpha"): 1, ("a_1",): -1})


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: discover_relations(("no-such-gate", "linear")), UnknownNameError, "unknown gate"),
        (lambda: discover_relations(("softmax-linear", "linear"), order=5), ModelError, "between 1 and 4"),
        (lambda: function_from_text("exp(beta*x)", "x", "beta,a"), ModelError, "do not occur"),
        (lambda: function_from_text("exp(beta*x) + __import__", "x", "beta"), ExpressionError, "not allowed"),
        (
            lambda: discover_relations(function_from_text("abs(beta)*x", "x", "beta"), point="beta=0"),
            ModelError,
            "not differentiable",
        ),
        (
            lambda: discover_relations(function_from_text("sqrt(beta)*x", "x", "beta"), point="beta=0"),
            ModelError,
            "not differentiable",
        ),
        (lambda: discover_relations(("softmax-linear", "ridge-relu")), ModelError, "not 2 times differentiable"),
        (lambda: discover_relations(("softmax-linear", "linear"), point="beta_1=pi"), ModelError, "rational"),
        (lambda: discover_relations(("softmax-linear", "linear"), point="gamma=1"), ModelError, "no parameter 'gamma'"),
        (
            lambda: discover_relations(("softmax-linear", "linear"), mode="density", point="nu=-1"),
            ModelError,
            "positive",
        ),
        (lambda: discover_relations(("softmax-linear", "linear"), digits=20), ModelError, "50 digits"),
    ],
)
def test_bad_input_gives_one_line_errors(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert "\n" not in str(info.value)


def test_relu_expert_at_order_one_keeps_positive_homogeneity():
    result = discover_relations(("softmax-linear", "ridge-relu"), order=1)
    value = {name: Fraction(v) for name, v in result.point.items()}
    assert result.implies({(): 1, ("a_1",): -value["a_1"], ("alpha",): -value["alpha"]})
    assert result.nullity == 1


def test_certification_divides_out_the_common_exponential():
    from hmoe_theory.interactions.discovery import common_exponential_factor

    x, b = sp.Symbol("x", real=True), sp.Rational(1, 3)
    assert common_exponential_factor(sp.exp(b * x) * (x + 1) * sp.exp(-(x**2))) == sp.exp(b * x) * sp.exp(-(x**2))
    assert common_exponential_factor(x + 1) == 1


@pytest.mark.parametrize(
    ("family", "d", "mode"),
    [
        (("quadratic-polynomial", "linear"), 2, "regression"),
        (("softmax-linear", "linear"), 1, "density"),
        (("quadratic-monomial", "polynomial"), 1, "regression"),
    ],
)
def test_numeric_rank_equals_the_exact_rank_so_no_relation_is_missed(family, d, mode):
    """Independent check: derivative / exp-factor is a polynomial in the inputs; its coefficient matrix
    over Q has exactly the rank found numerically."""
    from hmoe_theory.interactions.derivatives import at_point, derivative_table, parse_point, resolve_function
    from hmoe_theory.interactions.discovery import common_exponential_factor

    result = discover_relations(family, d=d, mode=mode, certify=False)
    F = resolve_function(family, d, mode)
    theta = parse_point(F, result.point)
    factor = common_exponential_factor(F.expr.xreplace(theta)) * F.expr.xreplace(theta).as_independent(*F.inputs)[0]
    polys = [
        sp.Poly(sp.expand(e / factor, power_exp=True), *F.inputs)
        for e in at_point(derivative_table(F, 2), theta).values()
    ]
    monomials = sorted({m for p in polys for m in p.as_dict()})
    matrix = sp.Matrix([[p.as_dict().get(m, 0) for p in polys] for m in monomials])
    assert matrix.rank() == result.rank
    assert len(result.relations) == result.size - matrix.rank()


def test_bias_free_gated_value_keeps_only_homogeneity_relations():
    """Agrees with the exact claim pde.gated-expert.bias-free-value-removes-relation: without F itself, no relation
    involves dF/da_1, and dF/dtheta = a_1 d2F/dtheta da_1 for every other parameter theta."""
    result = discover_relations(("softmax-linear", "gated-linear-nobias"), min_order=1)
    _assert_complete_and_decided(result)
    assert not any(t.column.derivative.params == ("a_1",) for r in result.relations for t in r.terms)
    a = Fraction(result.point["a_1"])
    for theta in ("beta_1", "w_1", "w0"):
        assert result.implies({(theta,): 1, (theta, "a_1"): -a})
    assert not discover_relations(("softmax-linear", "gated-linear"), min_order=1).implies(
        {("w_1",): 1, ("w_1", "a_1"): -a}
    )


# --- the float-first engine and the previous (full 50-digit QR) engine agree ------------------------


def _basis(result):
    return [[(t.column.label, t.coefficient) for t in r.terms] for r in result.relations]


@pytest.mark.parametrize(
    "family, d, order",
    [
        (("quadratic-polynomial", "gated-linear"), 2, 2),
        (("softmax-linear", "linear"), 1, 3),
        (("quadratic-monomial", "ridge-tanh"), 1, 2),
    ],
)
def test_float_first_engine_finds_exactly_the_relations_of_the_previous_engine(family, d, order):
    new = discover_relations(family, order=order, d=d, certify=False)
    old = discover_relations(family, order=order, d=d, certify=False, first_pass=False)
    assert (new.rank, new.size) == (old.rank, old.size)
    assert _basis(new) == _basis(old)
    assert new.residual < 1e-40 and old.residual < 1e-40


def test_attention_entry_family_relations_agree_between_engines_and_are_proved():
    from hmoe_theory.attention.families import attention_entry_function

    F = attention_entry_function("G2", 2, 1, 1, param="hmoe")
    new = discover_relations(F, order=2)
    old = discover_relations(F, order=2, certify=False, first_pass=False)
    assert _basis(new) == _basis(old)
    assert (new.size, new.rank, len(new.relations)) == (28, 14, 14)
    _assert_complete_and_decided(new)
    assert new.implies({("V_1_1_1_1", "V_1_1_1_1"): 1})  # the expert is linear in its value atom


def test_proof_budget_leaves_later_relations_numerically_supported():
    spent = discover_relations(("quadratic-polynomial", "linear"), d=2, proof_budget_s=0.0)
    assert len(spent.relations) == 36 and {r.status for r in spent.relations} == {Status.SUPPORTED}
    assert all("proof budget spent" in r.method for r in spent.relations)
    ample = discover_relations(("quadratic-polynomial", "linear"), d=2, proof_budget_s=60.0)
    assert {r.status for r in ample.relations} == {Status.PROVED}


@pytest.mark.parametrize(
    "family",
    [("quadratic-polynomial", "ridge-tanh"), ("softmax-linear", "ridge-sigmoid"), ("quadratic-monomial", "linear")],
)
def test_symengine_derivatives_equal_the_sympy_table_at_the_point(family):
    import random

    from hmoe_theory.attention.families import attention_entry_function
    from hmoe_theory.families import gate_expert
    from hmoe_theory.interactions.derivatives import at_point, derivative_table, derivatives_at_point, parse_point

    for F in (gate_expert(*family, 2), attention_entry_function("G3", 2, 1, 1, temperature=True)):
        point = parse_point(F, None)
        fast, slow = derivatives_at_point(F, 2, point), at_point(derivative_table(F, 2), point)
        assert list(fast) == list(slow)
        x = {s: sp.Rational(random.Random(i).randint(-9, 9), 7) for i, s in enumerate(F.inputs)}
        for kappa in fast:
            assert fast[kappa].free_symbols <= set(F.inputs)
            assert abs(sp.N((fast[kappa] - slow[kappa]).xreplace(x), 40)) < 1e-35


def test_inaccurate_float_values_send_the_family_to_the_full_engine():
    from hmoe_theory.balls import arb_function
    from hmoe_theory.compile import compile_exprs
    from hmoe_theory.interactions.discovery import float_evaluation_error

    x = sp.Symbol("x_1", real=True)
    cancelling = [(sp.exp(x / 10**6) - 1) * 10**6, x]  # exp(1e-6 x) - 1 loses ~6 of float's 16 digits
    error = float_evaluation_error(compile_exprs(cancelling, [x]), cancelling, [x], 50, 0, 1.5, arb_function(cancelling, [x]))
    assert 1e-12 < error < 1e-6
    smooth = [sp.exp(x), x**2]
    assert float_evaluation_error(compile_exprs(smooth, [x]), smooth, [x], 50, 0, 1.5) < 1e-14
    F = function_from_text("(exp(a*x/1000000) - 1)*1000000 + b*x", "x", "a, b")
    new, old = discover_relations(F, order=2, certify=False), discover_relations(F, order=2, certify=False, first_pass=False)
    assert _basis(new) == _basis(old) and new.residual < 1e-40
