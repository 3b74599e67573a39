"""The result objects the README shows print their value and the convention it depends on, not an address."""

from fractions import Fraction

import numpy as np

from hmoe_theory.explorer import explore_curvature, explore_family
from hmoe_theory.families import Mixture
from hmoe_theory.geometry import PullbackMetric
from hmoe_theory.interactions import discover_relations
from hmoe_theory.interactions.fisher import fisher_information
from hmoe_theory.interactions.identifiability import check_family, preset

SIGN = "sign: a sphere of radius R has K = +1/R^2"
HELICOID = "[u*cos(v), u*sin(v), 3*v/2]"


def test_exact_curvature_states_value_point_check_and_sign():
    metric = PullbackMetric.from_text("[u, v, u*v]", "u, v")
    assert repr(metric) == "PullbackMetric(Y = [u, v, u*v] in (u, v), Sigma = I; g = J^T Sigma^-1 J)"
    assert repr(metric.exact_curvature()) == (
        f"CanonicalCurvature(K = -1/(u**2 + v**2 + 1)**2 as a function of u, v; "
        f"checked against the 50-digit mpmath reference; {SIGN})"
    )
    at_point = PullbackMetric.from_text(HELICOID, "u, v").exact_curvature({"u": Fraction(2, 5), "v": Fraction(9, 10)}, verify=False)
    assert repr(at_point) == f"CanonicalCurvature(K = -22500/58081 at u=2/5, v=9/10; not checked; {SIGN})"
    sphere = PullbackMetric.from_text("[R*cos(a)*cos(b)*cos(c), R*cos(a)*cos(b)*sin(c), R*cos(a)*sin(b), R*sin(a)]", "a, b, c")
    assert "constants R" in repr(sphere)
    assert repr(sphere.exact_curvature()).startswith("CanonicalCurvature(scalar S = 6/R**2 as a function of a, b, c;")


def test_numeric_curvature_states_value_or_range_and_sign():
    metric = PullbackMetric.from_text("[u, v, u*v]", "u, v", sigma="1, 1, 4")
    assert "Sigma = [[1, 0, 0], [0, 1, 0], [0, 0, 4]]" in repr(metric)
    # N([u, v, u*v], diag(1, 1, 4)) has the geometry of [u, v, u*v/2]: K = -(1/4) / (1 + (u^2 + v^2)/4)^2
    assert repr(metric.curvature([0, 0])) == f"NumericCurvature(K = -0.25 at one point, 2 coordinates; {SIGN})"
    grid = metric.curvature(np.stack(np.meshgrid([0, 1], [0, 1, 2]), axis=-1))
    assert repr(grid) == f"NumericCurvature(K in [-0.25, -0.0493827] over 3x2 points, 2 coordinates; {SIGN})"


def test_long_maps_are_shortened_in_the_repr():
    text = "[" + ", ".join(f"u + {k}*v**2" for k in range(1, 61)) + "]"
    metric = PullbackMetric.from_text(text, "u, v")
    full = f"[{', '.join(map(str, metric.mean_map))}]"
    assert len(full) > 700 and len(repr(metric)) < 260
    assert repr(metric).startswith(f"PullbackMetric(Y = {full[:130]} ... ({len(full)} characters) in (u, v)")


def test_explorer_results():
    field = explore_curvature("[R*sin(u)*cos(v), R*sin(u)*sin(v), R*cos(u)]", "u, v", "u=0.3:2.8, v=0:3", sets="R=2", resolution=5)
    assert repr(field) == (
        "CurvatureField(Gaussian curvature K of Y = [R*sin(u)*cos(v), R*sin(u)*sin(v), R*cos(u)] with R=2 on a 5x5 grid "
        f"over u in [0.3, 2.8], v in [0, 3]: min 0.25, max 0.25; metric of N(Y, Sigma), Sigma fixed; {SIGN})"
    )
    report = explore_family(function="exp(b*x)*(a*x + c)", inputs="x", params="a, b, c")
    assert repr(report) == (
        "FamilyReport(user function: F = (a*x + c)*exp(b*x) (regression) at theta_0 a=-13/9, b=16/11, c=8/7; "
        "10 derivatives of order <= 2, rank 4: 1 interaction(s), 3 trivial, 2 theta-dependent; Fisher rank 3 of 3; "
        "strongly identifiable: no; print() it for the relations)"
    )


def test_interaction_results():
    found = discover_relations(("softmax-linear", "linear"), order=1)
    assert repr(found) == (
        "Discovery(F = (a_1*x_1 + alpha)*exp(beta_1*x_1) (regression) at beta_1=-13/9, a_1=16/11, alpha=8/7: "
        "4 derivatives of order <= 1, rank 3 (proved), 1 relation(s): [proved] F - 16/11 dF/da_1 - 8/7 dF/dalpha = 0; "
        ".table() for the report)"
    )
    strong = check_family(("softmax-linear", "linear"), preset("strong", 1, 2))
    assert repr(strong).startswith("IdentifiabilityResult(NOT identifiable, 2 relation(s) under strong identifiability")
    assert "0 <= |kappa| <= 1, j = 1..2" in repr(strong)
    fisher = fisher_information(Mixture.from_names("softmax-linear", "linear", 2, 1, "density"), nodes_x=8, nodes_y=60)
    assert repr(fisher).startswith("FisherInformation(rank 8 of 8 (regular, proved")
    assert "density mode, X ~ U[-1, 1]^d, quadrature; free parameters beta_1_1, beta0_1," in repr(fisher)


def test_no_readme_object_prints_an_address():
    metric = PullbackMetric.from_text("[u, v, u*v]", "u, v")
    for shown in (metric, metric.exact_curvature(), metric.curvature([0.1, 0.2])):
        assert " object at 0x" not in repr(shown)
