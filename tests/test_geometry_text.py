"""The geometry layer reads user text at its boundary only (geometry/text.py), once; the metric takes sympy."""

import collections
from fractions import Fraction

import pytest
import sympy as sp

import hmoe_theory.expr as expr
import hmoe_theory.geometry.metric as metric_module
import hmoe_theory.geometry.text as text_module
from hmoe_theory.errors import ExpressionError, ModelError
from hmoe_theory.geometry.metric import PullbackMetric
from hmoe_theory.geometry.text import parse_coordinates, parse_covariance, parse_mean_map
from hmoe_theory.symbols import positive_symbol, real_symbol

u, v, R = real_symbol("u"), real_symbol("v"), real_symbol("R")
PARSER = ("parse_expression", "parse_vector", "parse_name", "parse_names", "parse_assignments", "symbol_for")


@pytest.fixture
def parser_calls(monkeypatch):
    """Counts every call of a public parser function of hmoe_theory.expr (nested calls included), wherever the
    geometry layer reaches it from."""
    calls = collections.Counter()
    for name in PARSER:
        original = getattr(expr, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        for module in (expr, text_module, metric_module):
            monkeypatch.setattr(module, name, counted, raising=False)
    return calls


def test_the_metric_module_does_not_import_the_parser():
    source = open(metric_module.__file__, encoding="utf-8").read()
    assert "..expr" not in source and "hmoe_theory.expr import" not in source


def test_from_text_parses_once_and_curvature_never_parses(parser_calls):
    metric = PullbackMetric.from_text("[u*cos(v), u*sin(v), 3*v/2]", "u, v")
    assert dict(parser_calls) == {"parse_names": 1, "parse_name": 2, "parse_vector": 1}  # was 8 calls, 4 of them per use
    parser_calls.clear()
    exact = metric.exact_curvature({"u": Fraction(2, 5), "v": Fraction(9, 10)})
    assert exact.gaussian == sp.Rational(-22500, 58081)
    assert metric.curvature([0.4, 0.9]).gaussian == pytest.approx(-22500 / 58081, rel=1e-12)
    assert metric.subs({}).exact_scalar_curvature(None) == 2 * -36 / (4 * u**2 + 9) ** 2
    assert sum(parser_calls.values()) == 0


def test_sympy_input_never_reaches_the_parser(parser_calls):
    metric = PullbackMetric([R * sp.cos(u), R * sp.sin(u), v], [u, v], [1, 2, Fraction(1, 2)])
    assert metric.subs({"R": 2}).exact_gaussian_curvature({"u": 0, "v": 0}) == 0  # a cylinder is flat
    assert sum(parser_calls.values()) == 0


def test_boundary_parsers():
    assert parse_coordinates("u, v") == (u, v) == parse_coordinates(["u", "v"])
    assert parse_mean_map("[u, R*v]", (u, v)) == [u, R * v]
    x = positive_symbol("x")
    assert parse_mean_map("[x, x**2]", [x]) == [x, x**2]  # the given symbols, not fresh real ones
    assert parse_covariance("1, 2, 1/2", 3) == [1, 2, sp.Rational(1, 2)]
    assert parse_covariance("[1, 0, 0, 4]", 2) == [[1, 0], [0, 4]]
    metric = PullbackMetric.from_text("[u, v, u*v]", "u, v", sigma="1, 1, 4")
    assert metric.sigma == sp.diag(1, 1, 4)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: parse_mean_map("[u, R*v]", (u, v), constants=[]), ExpressionError),  # R neither coordinate nor constant
        (lambda: parse_coordinates("u, u"), ExpressionError),
        (lambda: parse_coordinates("u, exp"), ExpressionError),
        (lambda: parse_covariance("1, 2", 3), ModelError),
        (lambda: parse_covariance("1, x, 2", 3), ExpressionError),
    ],
)
def test_bad_text_is_one_line(call, error):
    with pytest.raises(error) as info:
        call()
    assert "\n" not in str(info.value)
