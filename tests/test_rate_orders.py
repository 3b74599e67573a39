"""Rate orders from inverse bounds: published anchors, the exact merge identity, D1 conventions, certificates, CLI."""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from hmoe_theory.cli import main
from hmoe_theory.estimation.voronoi import d1_loss
from hmoe_theory.rate_orders import rate_order, resolve
from hmoe_theory.rate_orders.certificates import certify_family
from hmoe_theory.rate_orders.coordinates import Coordinates
from hmoe_theory.rate_orders.degeneracy import merge_scan
from hmoe_theory.rate_orders.lower_bound import certify_lower_bound, scope_reason
from hmoe_theory.rate_orders.models import gaussian_mixture
from hmoe_theory.rate_orders.seeds import at_level, level, seeds

# four points at eps <= 1e-2 give the three local slopes the exponent rule needs
GRID = (1e-2, 10**-2.5, 1e-3, 10**-3.5)


@pytest.mark.parametrize(
    ("name", "expected", "tolerance"),
    [
        ("gaussian-location/m2", 2.0, 0.05),  # Chen 1992: n^-1/4
        ("gaussian-location-scale/m2", 4.0, 0.1),  # Ho & Nguyen 2016: rbar(2) = 4
        ("gaussian-location-scale/m3", 6.0, 0.15),  # Ho & Nguyen 2016: rbar(3) = 6
    ],
)
def test_published_orders_of_gaussian_mixtures(name, expected, tolerance):
    model, k = resolve(name)
    result = rate_order(model, k, "atomwise", GRID)
    assert result.identifiable
    assert result.exponent is not None and abs(result.exponent - expected) <= tolerance, result.text()
    # the explicit family's enclosures decay at the same order (certified); s = 2 is also achieved: {N, N', N''}
    # at the true atom are independent (proved), while s = 4, 6 are outside the independence route (Taylor order 2)
    assert result.status == ("proved" if expected == 2.0 else "certified")
    assert result.lower_bound["proved"] is (expected == 2.0)
    slopes = [lo for lo, hi in result.certificate["slope_bounds"]]
    assert all(abs(s - expected) <= 0.1 for s in slopes[-2:])
    assert result.convention["loss"] == "atomwise" and result.convention["model"] == "density"
    # the slow direction: mean deviations ~ D1, variance deviations ~ D1^2 (the heat pair)
    if "scale" in name:
        assert abs(result.minimiser["mu"] - 1) < 0.05 and abs(result.minimiser["v"] - 2) < 0.05


@pytest.mark.parametrize("gate", ["softmax-linear", "quadratic-polynomial", "quadratic-monomial"])
def test_linear_experts_merge_exactly_under_the_atomwise_loss(gate):
    model, k = resolve(f"d1/{gate}/linear/over")
    result = rate_order(model, k, "atomwise", GRID)
    assert result.status == "proved" and result.exponent is None and not result.identifiable
    assert result.degeneracy["status"] == "proved" and result.degeneracy["d1_at_t_0.1"] > 0
    assert all(row["phi"] == 0 for row in result.table)
    json.loads(result.to_json())  # strict JSON: null exponent, no NaN


def test_the_merge_is_no_counterexample_under_the_merged_loss():
    model, _ = resolve("d1/softmax-linear/linear/over")
    scan = merge_scan(model, (2, 1), "merged")
    assert scan.status.value == "proved" and scan.d1_at_tenth == 0 and not scan.not_identifiable


def test_tanh_experts_have_no_exact_merge():
    model, _ = resolve("d1/softmax-linear/ridge-tanh/over")
    assert model.linear_names == ()
    assert merge_scan(model, (2, 1), "atomwise").status is None


def test_d1_conventions_in_exact_arithmetic():
    half, tenth = Fraction(1, 2), Fraction(1, 10)
    weights = np.array([half, half], dtype=object)
    atoms = np.array([[tenth, Fraction(99, 100)], [-tenth, Fraction(99, 100)]], dtype=object)
    truth = (np.array([Fraction(1)], dtype=object), np.array([[Fraction(0), Fraction(1)]], dtype=object))
    atomwise = d1_loss(weights, atoms, *truth)
    merged = d1_loss(weights, atoms, *truth, convention="merged", merged=[0])
    assert atomwise.value == Fraction(1, 10) + Fraction(1, 100)  # sum_i w_i (|dmu| + |dv|)
    assert merged.value == Fraction(1, 100)  # the mean enters through |sum_i w_i mu_i - mu*| = 0
    assert d1_loss(weights.astype(float), atoms.astype(float), *(a.astype(float) for a in truth)).value == pytest.approx(0.11)


def test_coordinates_put_a_point_at_its_level_and_back():
    model = gaussian_mixture("location-scale")
    coords = Coordinates(model, (3,), "atomwise")
    seed = seeds(coords)[0]
    t, point = at_level(coords, seed, 1e-3)
    assert level(coords, point) == pytest.approx(1e-3, rel=1e-9)
    again = coords.deviations(coords.coordinates(point), 1e-3)
    assert np.allclose(again.delta, point.delta, rtol=1e-9, atol=1e-18)
    assert np.allclose(again.pi, point.pi, rtol=1e-12)


def test_certificate_encloses_the_exact_norm_of_the_split_family():
    """||1/2 N(t, 1) + 1/2 N(-t, 1) - N(0, 1)||_L2 by mpmath quadrature lies in the arb enclosure."""
    model = gaussian_mixture("location")
    coords = Coordinates(model, (2,), "atomwise")
    split = next(s for s in seeds(coords) if s.name == "split:mu")
    cert = certify_family(coords, split, (Fraction(1, 10), Fraction(1, 100), Fraction(1, 1000)))
    for enclosure in cert.enclosures:
        t = mpmath.mpf(enclosure.t.numerator) / enclosure.t.denominator
        with mpmath.workdps(60):
            pdf = lambda y, m: mpmath.npdf(y, m, 1)  # noqa: E731
            exact = mpmath.sqrt(mpmath.quad(lambda y: (pdf(y, t) / 2 + pdf(y, -t) / 2 - pdf(y, 0)) ** 2, [-mpmath.inf, 0, mpmath.inf]))
        assert enclosure.norm_lo <= float(exact) * (1 + 1e-12) and float(exact) * (1 - 1e-12) <= enclosure.norm_hi
        assert enclosure.d1 == enclosure.t  # D1 = sum_i w_i |mu_i| = t, exactly
    assert all(abs(lo - 2) < 0.01 and abs(hi - 2) < 0.01 for lo, hi in cert.slope_bounds)


def test_cli_json_and_errors(capsys):
    code = main(["inverse-bound", "--setting", "gaussian-location/m2", "--eps", "1e-2,3e-3,1e-3,3e-4", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    for key in ("exponent", "identifiable", "status", "verdict", "convention", "cells", "table", "minimiser"):
        assert key in out
    assert abs(out["exponent"] - 2) < 0.05 and [row["eps"] for row in out["table"]] == [1e-2, 3e-3, 1e-3, 3e-4]
    assert main(["inverse-bound", "--setting", "no-such-setting"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hmoe: error: unknown rate-order setting") and err.count("\n") == 1
    assert main(["inverse-bound", "--gaussian", "location", "--eps", "2,0.1"]) == 2
    assert "--eps" in capsys.readouterr().err


@pytest.mark.parametrize("param", ["hmoe", "tied"])
def test_over_specified_attention_heads_merge_exactly(param):
    from hmoe_theory.rate_orders.models import attention_entry

    model = attention_entry("G1", 2, 2, 1, param)
    atomwise = rate_order(model, 2, "atomwise", GRID)
    merged = rate_order(model, 2, "merged", GRID)
    assert atomwise.status == merged.status == "proved" and not atomwise.identifiable and not merged.identifiable
    assert "split as theta* +- t" in atomwise.degeneracy["family"]  # values V* +- t, equal scores and gates
    assert "times (1 + t)" in merged.degeneracy["family"]  # output weight x (1 + t), values / (1 + t)
    assert atomwise.convention["pin"].startswith("none") and merged.degeneracy["d1_at_t_0.1"] > 0


@pytest.mark.parametrize("param", ["hmoe", "tied"])
@pytest.mark.parametrize(("tokens", "temperature"), [(3, None), (3, "held")])
def test_over_specified_attention_heads_merge_exactly_at_three_tokens(param, tokens, temperature):
    from hmoe_theory.rate_orders import question

    model, k, _ = question(attention="G3", tokens=tokens, param=param, temperature=temperature)
    assert len(model.build(k).inputs) == tokens and k == 2
    assert ("tau* = 2" in model.parametrisation) is (temperature is not None)
    plain, _, _ = question(attention="G3", tokens=tokens, param=param)
    assert (model.build(1).expr != plain.build(1).expr) is (temperature is not None)  # the scores / tau* = 2
    for loss in ("atomwise", "merged"):
        result = rate_order(model, k, loss, GRID)
        assert result.status == "proved" and not result.identifiable and result.exponent is None
        assert result.degeneracy["d1_at_t_0.1"] > 0


def test_attention_with_a_gate_shared_by_heads_runs_with_the_gate_as_a_shared_coordinate(capsys):
    assert main(["inverse-bound", "--attention", "G5", "--heads", "2"]) == 0
    out = capsys.readouterr().out
    assert "verdict (proved): not identifiable" in out and "Wg_1_1" in out


def test_exact_fit_rate_is_proved_by_both_halves():
    model, k = resolve("d1/softmax-linear/linear/exact")
    result = rate_order(model, k, "atomwise", GRID)
    assert (result.status, result.exponent) == ("proved", 1.0), result.text()
    assert result.lower_bound["proved"] and result.lower_bound["order"] == 1
    # pinned atom: expert derivatives only (a, alpha); the other atom: mass + beta, a, alpha
    assert [c["size"] for c in result.lower_bound["certificates"]] == [6]
    assert "n^-1/2" in result.verdict and "independence certificate" in result.verdict


def test_independence_route_separates_the_gates_of_tanh_experts():
    monomial, _ = resolve("d1/quadratic-monomial/ridge-tanh/over")
    proved = certify_lower_bound(monomial, 3, "atomwise", 2, [0, 1])
    assert proved["proved"] and [c["size"] for c in proved["certificates"]] == [15, 15]
    # softmax-linear gate: d/da (e^{beta x} tanh(a x + alpha)) = d2/dbeta dalpha of it, a true order-2 relation
    linear_gate, _ = resolve("d1/softmax-linear/ridge-tanh/over")
    assert not certify_lower_bound(linear_gate, 3, "atomwise", 2, [1])["proved"]


def test_independence_route_states_its_scope():
    model, _ = resolve("d1/quadratic-monomial/ridge-tanh/over")
    assert "merged" in scope_reason(model, 3, "merged", 2)
    assert "exact fits" in scope_reason(model, 3, "atomwise", 1)
    assert "s = 4" in scope_reason(model, 3, "atomwise", 4)
    linear, _ = resolve("d1/softmax-linear/linear/over")
    assert scope_reason(linear, 3, "atomwise", 2) is None
