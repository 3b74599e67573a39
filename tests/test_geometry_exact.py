"""Exact curvature in canonical form: field arithmetic, canonical values, 50-digit checks, CLI, hardening."""

import json
from fractions import Fraction as F

import numpy as np
import pytest
import sympy as sp

from hmoe_theory.cli import main
from hmoe_theory.errors import HmoeError, ModelError, TimeLimitExceeded
from hmoe_theory.geometry.exact_field import ExactField
from hmoe_theory.geometry.maps import sigmoid_gated_map, ungated_attention_map
from hmoe_theory.geometry.metric import PullbackMetric
from hmoe_theory.geometry.text import parse_mean_map
from hmoe_theory.symbols import positive_symbol, real_symbol

u, v = real_symbol("u"), real_symbol("v")
R = real_symbol("R")  # parsed text makes real symbols
THREE_SPHERE = "[R*cos(a)*cos(b)*cos(c), R*cos(a)*cos(b)*sin(c), R*cos(a)*sin(b), R*sin(a)]"
HELICOID = "[u*cos(v), u*sin(v), 3*v/2]"
GATED_D6 = "[sigmoid(t1-t2), sigmoid(t2-t3+1), sigmoid(t3-t4-1), sigmoid(t4-t1+2), sigmoid(t1+t2+t3+t4), sigmoid(t1-t3)]"


def canonical(expr):
    field = ExactField([expr])
    return field.to_expr(field.to_field(expr))


@pytest.mark.parametrize(
    "expr, expected",
    [
        (sp.sin(u) ** 2 + sp.cos(u) ** 2, 1),
        (sp.cos(2 * u) - 2 * sp.cos(u) ** 2, -1),
        (sp.exp(2 * u) * sp.exp(-u) - sp.exp(u), 0),
        (sp.tanh(u) - (sp.exp(2 * u) - 1) / (sp.exp(2 * u) + 1), 0),
        (-58145 - 512 * sp.sin(sp.Rational(9, 10)) ** 4 + 64 * sp.cos(sp.Rational(18, 5)) + 512 * sp.sin(sp.Rational(9, 10)) ** 2, -58081),
        (sp.sin(u + v) - sp.sin(u) * sp.cos(v) - sp.cos(u) * sp.sin(v), 0),
        (sp.E * sp.exp(sp.Rational(1, 2)) / sp.exp(sp.Rational(3, 2)), 1),
    ],
)
def test_field_cancels_identities_to_their_canonical_value(expr, expected):
    assert canonical(expr) == expected


def test_field_keeps_different_values_different_and_round_trips_numerically():
    assert canonical(sp.sin(u) - sp.cos(u)) != 0
    assert canonical(sp.exp(u) - u - 1) != 0
    expr = sp.sin(u) / (1 + sp.cos(v)) + sp.cos(2 * u) * sp.tanh(v) + sp.erf(u) * sp.exp(sp.Rational(3, 2))
    point = {u: sp.Rational(1, 3), v: sp.Rational(2, 7)}
    assert abs(sp.N(canonical(expr).subs(point), 40) - sp.N(expr.subs(point), 40)) < 1e-35


def test_exponents_without_a_small_common_base_stay_exact():
    # gcd(1/997, 1/991) needs ~10^6 multiples: each exponential becomes a generator of its own
    expr = sp.exp(sp.Rational(1, 997)) * sp.exp(sp.Rational(1, 991)) + sp.exp(sp.Rational(2, 997))
    assert abs(sp.N(canonical(expr), 40) - sp.N(expr, 40)) < 1e-35
    assert canonical(expr - sp.exp(sp.Rational(2, 997))) == sp.exp(sp.Rational(1, 997)) * sp.exp(sp.Rational(1, 991))


def test_helicoid_at_a_rational_point_is_a_reduced_fraction():
    metric = PullbackMetric.from_text(HELICOID, "u, v")
    assert metric.exact_gaussian_curvature({"u": F(2, 5), "v": F(9, 10)}) == sp.Rational(-22500, 58081)
    assert metric.exact_gaussian_curvature() == -36 / (4 * u**2 + 9) ** 2
    raw = metric.exact_gaussian_curvature({"u": F(2, 5), "v": F(9, 10)}, simplify=False)
    assert raw.has(sp.sin) and abs(sp.N(raw, 40) + sp.Rational(22500, 58081)) < 1e-35  # raw form kept


def test_three_sphere_scalar_ricci_and_all_coordinate_planes():
    metric = PullbackMetric.from_text(THREE_SPHERE, "a, b, c")
    exact = metric.exact_curvature()
    a, b, _ = metric.params
    assert exact.scalar == 6 / R**2
    assert exact.sectional == {(0, 1): R**-2, (0, 2): R**-2, (1, 2): R**-2}
    assert exact.ricci == sp.diag(2, 2 * sp.cos(a) ** 2, 2 * sp.cos(a) ** 2 * sp.cos(b) ** 2)
    assert exact.riemann[0, 1, 0, 1] == R**2 * sp.cos(a) ** 2  # K (g_aa g_bb - g_ab^2)
    assert "scalar" in exact.checked and "ricci(1, 1)" in exact.checked  # each form was checked at 50 digits
    assert metric.subs({"R": 2}).exact_scalar_curvature({"a": F(1, 3), "b": F(1, 5), "c": F(1, 7)}) == sp.Rational(3, 2)


def test_four_coordinates_sphere_and_gated_map_agree_with_numerics():
    names = "a, b, c, d"
    four_sphere = "[R*cos(a)*cos(b)*cos(c)*cos(d), R*cos(a)*cos(b)*cos(c)*sin(d), R*cos(a)*cos(b)*sin(c), R*cos(a)*sin(b), R*sin(a)]"
    assert PullbackMetric.from_text(four_sphere, names).exact_scalar_curvature() == 12 / R**2
    gated = sigmoid_gated_map(
        [[1, -1, 0, 0], [0, 1, -1, 0], [0, 0, 1, -1], [-1, 0, 0, 1], [1, 1, 1, 1]], [0, 1, -1, 2, 0], [1, 1, 1, 1, 1]
    ).metric()
    exact = gated.exact_curvature(time_limit_s=120)
    point = [0.3, -0.2, 0.1, 0.5]
    values = dict(zip(gated.params, (sp.Rational(str(x)) for x in point)))
    assert abs(float(exact.scalar.subs(values)) - gated.scalar_curvature(point)) < 1e-9
    assert exact.checked == ["scalar"]  # and it matched the 50-digit reference at two random rational points


def test_flat_attention_is_exactly_zero_in_three_coordinates():
    flat = ungated_attention_map([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], np.eye(4, dtype=int).tolist()[:4])
    exact = flat.metric().exact_curvature()
    assert all(value == 0 for value in exact.riemann.values())
    assert exact.scalar == 0


def test_a_wrong_canonical_form_is_caught_by_the_reference_check():
    metric = PullbackMetric.from_text(HELICOID, "u, v")
    exact = metric.exact_curvature({"u": F(2, 5), "v": F(9, 10)})
    with pytest.raises(HmoeError, match="disagrees with the 50-digit reference"):
        exact._check("sectional", (0, 1), sp.Rational(-22500, 58082))


def test_huge_coefficients_are_exact_and_checked_at_higher_precision(monkeypatch):
    monkeypatch.setenv("HMOE_MAX_NUMBER_DIGITS", "1000")
    c = 10**400 - 1
    metric = PullbackMetric.from_text(f"[u, v, {c}*u*v]", "u, v")
    K = metric.exact_gaussian_curvature({"u": F(1, 2), "v": F(1, 5)})
    assert K == sp.Rational(-(c**2), (1 + c**2 * sp.Rational(29, 100)) ** 2)


def test_list_text_is_parsed_safely_like_the_cli():
    metric = PullbackMetric.from_text("[u, v, u*v]", "u, v")
    assert metric.ambient_dimension == 3 and metric.params == (u, v)
    assert metric.exact_gaussian_curvature({"u": 0, "v": 0}) == -1
    x, y = positive_symbol("x"), positive_symbol("y")
    positive = PullbackMetric(parse_mean_map("[x, y, x*y]", [x, y]), [x, y])
    assert positive.constants == ()  # parsed names are the given (positive) coordinate symbols
    with pytest.raises(HmoeError, match="not allowed"):
        PullbackMetric.from_text("[u, v, __import__('os')]", "u, v")


def test_relu_and_abs_work_off_the_kink_and_refuse_it():
    for text in ("[u, v, relu(u)*v]", "[u, v, abs(u)*v]"):
        metric = PullbackMetric.from_text(text, "u, v")
        assert metric.exact_gaussian_curvature({"u": F(1, 2), "v": F(1, 5)}) == sp.Rational(-10000, 16641)
        assert abs(metric.gaussian_curvature([0.5, 0.2]) + 10000 / 16641) < 1e-12
        for call in (lambda: metric.gaussian_curvature([0.0, 0.2]), lambda: metric.exact_gaussian_curvature({"u": 0, "v": F(1, 5)})):
            with pytest.raises(ModelError, match="kink") as info:
                call()
            assert "\n" not in str(info.value)


def test_time_limit_is_one_error_naming_the_limit():
    gated = sigmoid_gated_map(
        [[1, -1, 0, 0], [0, 1, -1, 0], [0, 0, 1, -1], [-1, 0, 0, 1], [1, 1, 1, 1]], [0, 1, -1, 2, 0], [1, 1, 1, 1, 1]
    ).metric()
    with pytest.raises(TimeLimitExceeded, match="time limit of 0.05 s"):
        gated.exact_scalar_curvature(time_limit_s=0.05)


def run(capsys, *argv):
    code = main(["curvature", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_ricci_all_planes_and_exact_json(capsys):
    code, out, _ = run(capsys, "--map", HELICOID, "--coords", "u,v", "--at", "u=2/5,v=9/10", "--exact", "--ricci", "--json")
    result = json.loads(out)
    assert code == 0
    assert result["exact"]["gaussian_curvature"] == "-22500/58081"
    assert result["exact"]["sectional_curvatures"] == {"u,v": "-22500/58081"}
    assert result["exact"]["ricci"] == [["-22500/58081", "0"], ["0", "-225/241"]]
    np.testing.assert_allclose(result["ricci"], [[-22500 / 58081, 0], [0, -225 / 241]], atol=1e-12)
    code, out, _ = run(capsys, "--map", THREE_SPHERE, "--coords", "a,b,c", "--symbolic", "--json")
    symbolic = json.loads(out)["symbolic"]
    assert code == 0 and symbolic["scalar_curvature"] == "6/R**2"
    assert symbolic["sectional_curvatures"] == {"a,b": "R**(-2)", "a,c": "R**(-2)", "b,c": "R**(-2)"}
    code, out, _ = run(
        capsys, "--map", THREE_SPHERE, "--coords", "a,b,c", "--at", "a=0.1,b=0.2,c=0.3", "--set", "R=2",
        "--digits", "30", "--ricci", "--json",
    )
    result = json.loads(out)
    assert set(result["sectional_curvatures"]) == {"a,b", "a,c", "b,c"}
    assert all(abs(x - 0.25) < 1e-12 for x in result["sectional_curvatures"].values())
    assert abs(float(result["reference"]["scalar_curvature"]) - 1.5) < 1e-25  # mpmath prints 1.5 exactly


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--map", "[u, v, relu(u)*v]", "--coords", "u,v", "--at", "u=0,v=1"], "kink"),
        (["--map", f"[u, v, {'9' * 400}*u*v]", "--coords", "u,v", "--at", "u=0.5,v=0.2"], "double precision"),
        (["--map", "[u, v, u*v]", "--coords", "u,v", "--at", f"u=0.5,v={'9' * 400}"], "double precision"),
        (["--map", "[u, v, u*v]", "--coords", "u,v", "--at", "u=0.5,v=0.2", "--sigma", "1e-30,1,1e30"], "Sigma: badly scaled"),
        (["--map", "[u, v, u*v]", "--coords", "u,v"], "--at is required"),
        (["--map", "[u, v, u*v]", "--coords", "u,v", "--at", "u=0,v=0", "--symbolic"], "drop --at"),
        (["--map", THREE_SPHERE, "--coords", "a,b,c", "--at", "a=0.1,b=0.2,c=0.3", "--exact"], "unknown name 'R'"),
        (["--map", GATED_D6, "--coords", "t1,t2,t3,t4", "--symbolic", "--time-limit", "0.5"], "time limit of 0.5 s"),
    ],
)
def test_cli_errors_are_one_line(capsys, monkeypatch, argv, message):
    monkeypatch.setenv("HMOE_MAX_NUMBER_DIGITS", "1000")  # 400-digit numbers pass the parser, exceed doubles
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_random_expressions_keep_their_value_in_canonical_form():
    # seeded random sums of products of exp/sin/cos/tanh/powers with rational arguments: the canonical
    # form must have the same value (40 digits) at a rational point, and cancel exactly against the input
    rng = np.random.default_rng(7)
    atoms = [
        lambda q: sp.exp(q * u), lambda q: sp.sin(q * v + 1), lambda q: sp.cos(q * u - v),
        lambda q: sp.tanh(q * v), lambda q: u**2 + q, lambda q: 1 / (1 + sp.exp(-q * u - v)),
    ]
    point = {u: sp.Rational(2, 7), v: sp.Rational(-3, 11)}
    for _ in range(12):
        terms = []
        for _ in range(int(rng.integers(2, 5))):
            factors = [atoms[int(k)](sp.Rational(int(rng.integers(-4, 5)) or 1, int(rng.integers(1, 4)))) for k in rng.integers(0, 6, 2)]
            terms.append(sp.Rational(int(rng.integers(-5, 6)), 1) * sp.Mul(*factors))
        expr = sp.Add(*terms)
        value = canonical(expr)
        assert abs(sp.N(value.subs(point), 40) - sp.N(expr.subs(point), 40)) < 1e-30
        assert canonical(expr - value) == 0  # the written form (sin/cos, exp) maps back to the same element
