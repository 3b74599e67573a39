"""The explorer: relations and identifiability of typed families, curvature fields of typed mean maps."""

import sys
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from hmoe_theory.certify import Status
from hmoe_theory.errors import ExpressionError, HmoeError, ModelError, UnknownNameError
from hmoe_theory.explorer import explore_curvature, explore_family, explorer_widget, parse_ranges
from hmoe_theory.explorer_parts.coefficients import fit_entry


def _terms(relation):
    """{derivative label: coefficient} of a relation ``sum c_i D_i = 0`` (pivot coefficient 1)."""
    return {t.column.label: t.coefficient for t in relation.terms}


def _pdes(report):
    return {r.terms[0].column.label: _terms(r) for r in report.pdes}


# ------------------------------------------------------------------ relations and identifiability


def test_softmax_linear_times_linear_shows_the_beta_alpha_a_pde():
    report = explore_family("softmax-linear", "linear")
    assert _pdes(report) == {
        "dF/da_1": {"dF/da_1": 1, "d2F/dbeta_1 dalpha": -1},
        "d2F/da_1^2": {"d2F/da_1^2": 1},
        "d2F/da_1 dalpha": {"d2F/da_1 dalpha": 1},
        "d2F/dalpha^2": {"d2F/dalpha^2": 1},
    }
    assert all(r.status is Status.PROVED for r in report.pdes)
    assert set(report.vanishing) == {"d2F/da_1^2", "d2F/da_1 dalpha", "d2F/dalpha^2"}
    assert report.first_order_rank == 3 and report.locally_identifiable
    assert not report.strongly_identifiable and report.discovery.nullity == 6
    assert "[proved] dF/da_1 - d2F/dbeta_1 dalpha = 0" in str(report)


def test_theta_dependent_relation_has_the_homogeneity_coefficients():
    # F = exp(A x^2) (a x + alpha) is degree-1 homogeneous in (a, alpha): F = a dF/da + alpha dF/dalpha.
    report = explore_family("quadratic-monomial", "linear")
    assert set(_pdes(report)) == {"d2F/da_1^2", "d2F/da_1 dalpha", "d2F/dalpha^2"}
    a, alpha = (Fraction(report.point[name]) for name in ("a_1", "alpha"))
    homogeneity = [_terms(r) for r in report.pointwise if r.terms[0].column.label == "F"]
    assert homogeneity == [{"F": 1, "dF/da_1": -a, "dF/dalpha": -alpha}]
    assert len(report.pointwise) == 2 and report.discovery.nullity == 5


def _symbolic(report):
    """{pivot label: {label: coefficient expression}} of the theta-dependent relations."""
    return {r.terms[0][0].label: {c.label: e for c, e in r.terms} for r in report.parametric}


def test_theta_dependent_coefficients_are_reconstructed_as_expressions():
    report = explore_family("quadratic-polynomial", "linear")
    f = report.function
    a, alpha = f.param("a_1"), f.param("alpha")
    relations = _symbolic(report)
    assert relations["F"] == {"F": 1, "dF/dalpha": -alpha, "d2F/db_1 dalpha": -a}
    assert relations["d2F/dA_1_1 da_1"] == {"d2F/dA_1_1 da_1": 1, "d2F/db_1^2": -1 / a, "d2F/db_1 da_1": alpha / a}
    assert all(r.status is Status.PROVED for r in report.parametric)
    # the values at theta_0 are the expressions evaluated there
    theta0 = {p: sp.Rational(report.point[p.name]) for p in f.params}
    for numeric, symbolic in zip(report.pointwise, report.parametric):
        assert {t.column.label: t.coefficient for t in numeric.terms} == {c.label: e.xreplace(theta0) for c, e in symbolic.terms}
    text = str(report)
    assert "theta-dependent    [proved] d2F/dA_1_1 da_1 - (1/a_1) d2F/db_1^2 + (alpha/a_1) d2F/db_1 da_1 = 0" in text
    assert "trivial: vanishes  [proved] d2F/dalpha^2 = 0" in text
    assert "interaction (PDE)  [proved] dF/dA_1_1 - d2F/db_1^2 = 0" in text


def test_interactions_and_trivial_relations_are_separated():
    report = explore_family("softmax-linear", "linear")
    assert [r.text for r in report.interactions] == ["dF/da_1 - d2F/dbeta_1 dalpha = 0"]
    kinds = [k for k, _, _ in report.relation_rows()]
    assert kinds == ["interaction (PDE)"] + ["trivial: vanishes"] * 3 + ["theta-dependent"] * 2


def test_point_fixes_theta_0():
    report = explore_family("quadratic-monomial", "linear", point="a_1=3/2, alpha=-1/3")
    assert report.point["a_1"] == "3/2" and report.point["alpha"] == "-1/3"
    homogeneity = [_terms(r) for r in report.pointwise if r.terms[0].column.label == "F"]
    assert homogeneity == [{"F": 1, "dF/da_1": Fraction(-3, 2), "dF/dalpha": Fraction(1, 3)}]


def test_fit_entry_accepts_rational_affine_forms_and_rejects_others():
    a, b = sp.symbols("a b")
    draws = [(3, 7), (-5, 4), (11, 6), (2, -9), (-7, -3), (13, 5), (1, 8)]  # in general position
    points = [{a: sp.Rational(p, 5), b: sp.Rational(q, 7)} for p, q in draws]
    assert fit_entry([p[a] / p[b] for p in points], points, [a, b]) == a / b
    assert fit_entry([3 * p[a] - p[b] + 1 for p in points], points, [a, b]) == 3 * a - b + 1
    assert fit_entry([p[a] ** 2 for p in points], points, [a, b]) is None


def test_density_mode_finds_the_heat_equation_and_its_mixed_consequence():
    report = explore_family("softmax-linear", "linear", mode="density")
    assert _pdes(report) == {
        "dF/da_1": {"dF/da_1": 1, "d2F/dbeta_1 dalpha": -1},
        "dF/dnu": {"dF/dnu": 1, "d2F/dalpha^2": Fraction(-1, 2)},
        "d2F/dbeta_1 dnu": {"d2F/dbeta_1 dnu": 1, "d2F/da_1 dalpha": Fraction(-1, 2)},
    }
    assert report.pointwise == () and report.vanishing == ()


def test_quadratic_gate_in_two_dimensions_pdes_and_rank_deficiency():
    report = explore_family("quadratic-polynomial", "linear", d=2)
    pdes = _pdes(report)
    assert pdes["dF/dA_1_2"] == {"dF/dA_1_2": 1, "d2F/db_1 db_2": -1}
    assert pdes["dF/dA_2_2"] == {"dF/dA_2_2": 1, "d2F/db_2^2": -1}
    assert pdes["dF/da_2"] == {"dF/da_2": 1, "d2F/db_2 dalpha": -1}
    # A_1_2 and A_2_1 only enter through A_1_2 + A_2_1: the first-order rank is 8 of 9.
    assert report.first_order_rank == 8 and not report.locally_identifiable
    assert len(report.pdes) == 30 and all(r.status is Status.PROVED for r in report.pdes)


def test_ridge_expert_is_strongly_identifiable_at_order_one_but_not_two():
    first = explore_family("softmax-linear", "ridge-sigmoid", order=1)
    assert first.discovery.nullity == 0 and first.vanishing == ()
    assert first.strongly_identifiable and first.locally_identifiable
    second = explore_family("softmax-linear", "ridge-sigmoid", order=2)
    assert [r.text for r in second.pdes] == ["dF/da_1 - d2F/dbeta_1 dalpha = 0"] and second.pointwise == ()
    assert not second.strongly_identifiable


def test_monomial_gate_with_ridge_expert_is_strongly_identifiable():
    report = explore_family("quadratic-monomial", "ridge-sigmoid")
    assert report.discovery.nullity == 0 and report.strongly_identifiable
    assert report.strong.discovery.nullity == 0 and report.strong.family.k == 2
    assert "strongly identifiable (order 2, 2 components): yes" in str(report)


def test_typed_function_with_positive_parameter():
    report = explore_family(function="exp(b*x)*tanh(a*x + c)", inputs="x", params="a, b, c")
    assert [_terms(r) for r in report.pdes] == [{"dF/da": 1, "d2F/db dc": -1}]
    gaussian = explore_family(function="normal_pdf(y, m, v)", inputs="y", params="m, v", positive="v")
    assert gaussian.function.param("v").is_positive and Fraction(gaussian.point["v"]) > 0
    assert [_terms(r) for r in gaussian.pdes] == [{"dF/dv": 1, "d2F/dm^2": Fraction(-1, 2)}]


def test_theta_0_is_generic():
    report = explore_family("softmax-linear", "linear", d=2, seed=3)
    values = [Fraction(v) for v in report.point.values()]
    assert all(v not in (0, 1, -1) for v in values) and len({abs(v) for v in values}) == len(values)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"gate": "softmax", "expert": "linear"}, UnknownNameError),
        ({"gate": "softmax-linear", "expert": "linear", "order": 5}, ModelError),
        ({"gate": "softmax-linear"}, ModelError),
        ({"gate": "softmax-linear", "expert": "linear", "function": "a*x"}, ModelError),
        ({"function": "a*x"}, ModelError),
        ({"function": "__import__('os').system('true')", "inputs": "x", "params": "a"}, ExpressionError),
        ({"function": "a*x + q", "inputs": "x", "params": "a"}, ExpressionError),
        ({"function": "a*x", "inputs": "x", "params": "a, x"}, ModelError),
        ({"function": "a*x", "inputs": "x", "params": "a", "positive": "x"}, ModelError),
        ({"function": "x", "inputs": "x", "params": "a"}, ModelError),
        ({"function": "a*x", "inputs": "x", "params": "a", "mode": "density"}, ModelError),
        ({"gate": "softmax-linear", "expert": "linear", "mode": "mixture"}, ModelError),
        ({"gate": "quadratic-polynomial", "expert": "polynomial", "d": 3}, ModelError),
    ],
)
def test_bad_family_input_gives_one_line_errors(kwargs, error):
    with pytest.raises(error) as info:
        explore_family(**kwargs)
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------ curvature fields

SPHERE = "[R*cos(u)*cos(v), R*cos(u)*sin(v), R*sin(u)]"


@pytest.mark.parametrize(("sets", "radius"), [("R=2", 2), ({"R": 0.5}, 0.5), ({"R": "sqrt(2)"}, np.sqrt(2))])
def test_sphere_curvature_field_is_one_over_r_squared(sets, radius):
    field = explore_curvature(SPHERE, "u, v", "u=-1.2:1.2, v=0:2*pi", sets=sets, resolution=25)
    assert field.values.shape == (25, 25) and field.quantity == "Gaussian curvature K"
    np.testing.assert_allclose(field.values, 1 / radius**2, rtol=0, atol=1e-10)
    assert field.U[0, 0] == -1.2 and field.V[0, -1] == pytest.approx(2 * np.pi)


def test_saddle_curvature_matches_closed_form_and_plane_is_flat():
    saddle = explore_curvature("[u, v, u**2 - v**2]", ["u", "v"], {"u": (-1, 1), "v": (-0.5, 2)}, resolution=17)
    expected = -4 / (1 + 4 * saddle.U**2 + 4 * saddle.V**2) ** 2
    np.testing.assert_allclose(saddle.values, expected, rtol=1e-12, atol=1e-12)
    plane = explore_curvature("[u, v, 2*u - v]", "u, v", "u=-1:1, v=-1:1", resolution=5)
    np.testing.assert_allclose(plane.values, 0, atol=1e-12)


def test_three_sphere_scalar_curvature_is_six_over_r_squared():
    field = explore_curvature(
        "[R*cos(a), R*sin(a)*cos(b), R*sin(a)*sin(b)*cos(c), R*sin(a)*sin(b)*sin(c)]",
        "a, b, c",
        "a=0.3:2.8, b=0.3:2.8",
        sets="R=3, c=0.7",
        resolution=9,
    )
    assert field.quantity == "scalar curvature S" and field.fixed == {"c": 0.7}
    np.testing.assert_allclose(field.values, 6 / 9, atol=1e-10)


def test_curvature_figure_draws_the_field():
    field = explore_curvature(SPHERE, "u, v", "u=-1:1, v=0:3", sets="R=2", resolution=7)
    fig = field.figure()
    heat_map, colorbar = fig.axes
    np.testing.assert_allclose(heat_map.collections[0].get_array().reshape(7, 7), field.values)
    assert heat_map.get_xlabel() == "u" and "Gaussian curvature K" in colorbar.get_ylabel()
    assert heat_map.get_title().endswith("K = 0.25 everywhere")
    saddle = explore_curvature("[u, v, u*v]", "u, v", "u=-1:1, v=-1:1", resolution=5).figure().axes[0]
    assert saddle.get_title().endswith("K in [-1, -0.1111]")
    assert "min 0.25" in str(field) and "max 0.25" in str(field)


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((SPHERE, "u, v", "u=-1:1"), {"sets": "R=2"}, ModelError),
        ((SPHERE, "u, v", "u=-1:1, v=0:1"), {}, ExpressionError),  # R not assigned
        ((SPHERE, "u, v", "u=1:-1, v=0:1"), {"sets": "R=2"}, ModelError),
        ((SPHERE, "u, v", "u=-1:1, v=0:1"), {"sets": "R=2", "resolution": 1}, ModelError),
        (("[u + v, u + v, 1]", "u, v", "u=-1:1, v=0:1"), {}, ModelError),  # not an immersion
        (("[u, v, w]", "u, v, w", "u=-1:1, v=0:1"), {}, ModelError),  # w neither plotted nor set
        (("u*v", "u, v", "u=-1:1, v=0:1"), {}, ExpressionError),
        ((SPHERE, "u, v", "u=-1:1, v=0:exp"), {"sets": "R=2"}, ExpressionError),
        ((SPHERE, "u, v", {"u": (-1, 1), "v": ("zero", 1)}), {"sets": "R=2"}, ModelError),
        ((SPHERE, "u, v", {"u": (-1, 1), "v": (0, float("inf"))}), {"sets": "R=2"}, ModelError),
        ((SPHERE, "u, v", {"u": (-1, 1), "v": 3}), {"sets": "R=2"}, ModelError),
        ((SPHERE, "u, v", "u=-1:1, v=0:1"), {"sets": {"R": "2; import os"}}, ExpressionError),
        ((SPHERE, "u, v", "u=-1:1, v=0:1"), {"sets": {"R": True}}, ModelError),
    ],
)
def test_bad_curvature_input_gives_one_line_errors(args, kwargs, error):
    with pytest.raises(error) as info:
        explore_curvature(*args, **kwargs)
    assert "\n" not in str(info.value)


def test_parse_ranges():
    assert parse_ranges("u=-1.5:1/2, v=0:pi") == {"u": (-1.5, 0.5), "v": (0.0, pytest.approx(np.pi))}
    for bad in ("u=1", "u:1", "u=0:1, u=1:2", "", "u=0:x"):
        with pytest.raises(ExpressionError):
            parse_ranges(bad)


# ------------------------------------------------------------------ widget


def test_widget_without_ipywidgets_points_to_the_plain_functions(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(HmoeError, match="explore_family"):
        explorer_widget()


def test_no_part_of_the_explorer_imports_the_explorer_back():
    """Data flows one way: hmoe_theory.explorer gathers explorer_parts/*, no part imports it (no circle)."""
    import ast
    from pathlib import Path

    import hmoe_theory.explorer_parts as parts

    back = []
    for path in sorted(Path(parts.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                target = ("." * node.level) + (node.module or "")
                names = [a.name for a in node.names]
                if target in ("..explorer", "hmoe_theory.explorer") or (target == ".." and "explorer" in names):
                    back.append(f"{path.name}:{node.lineno}")
            elif isinstance(node, ast.Import):
                back += [f"{path.name}:{node.lineno}" for a in node.names if a.name == "hmoe_theory.explorer"]
    assert len(list(Path(parts.__file__).parent.glob("*.py"))) >= 9  # the parts are really scanned
    assert back == []


def test_a_special_point_explains_its_refuted_relations():
    special = explore_family("softmax-linear", "linear", point="a_1=0, alpha=0")
    refuted = [text for _, status, text in special.relation_rows() if status == "refuted"]
    assert "F = 0" in refuted  # F vanishes at a_1 = alpha = 0, not for generic theta
    assert str(special).splitlines()[-1].startswith("note: [refuted] = the relation holds at theta_0 but is false for generic theta")
    assert "note:" not in str(explore_family("softmax-linear", "linear"))
