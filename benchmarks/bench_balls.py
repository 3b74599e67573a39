"""Benchmark that chose the ball library of :mod:`hmoe_theory.balls` (run by hand: ``python benchmarks/bench_balls.py``).

Side by side in one run, on the same inputs, python-flint's Arb balls against mpmath's interval arithmetic
(``mpmath.iv``), both at 128 bits:

* evaluation of a gated-expert expression (sigmoid gate x gelu expert, the parser's spelling with exp and erf) at
  200 rational points: Arb through :func:`hmoe_theory.balls.arb_function`, mpmath.iv through ``sympy.lambdify``;
* the determinant of a 12 x 12 evaluation matrix (the functions exp(k x / 4) at 12 rational points): ``arb_mat.det``
  against the interval LU of ``mpmath.iv.matrix``.

Printed: seconds per library, the ratio, and the widest enclosure width (a library whose enclosures are wider
certifies less).
"""

from __future__ import annotations

import time
from fractions import Fraction

import mpmath
import sympy as sp
from flint import arb, arb_mat

from hmoe_theory.balls import arb_function, working_precision
from hmoe_theory.expr import parse_expression

BITS = 128
TEXT = "sigmoid(w*x+b)*gelu(a*x)+exp(-x**2/2)"
POINTS = [Fraction(k, 37) - 3 for k in range(200)]


def _timed(run) -> tuple[float, object]:
    started = time.perf_counter()
    value = run()
    return time.perf_counter() - started, value


def _width_iv(value) -> float:
    return float(value.b - value.a)


def bench_evaluation() -> None:
    expr = parse_expression(TEXT)
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)  # a, b, w, x
    params = [Fraction(3, 2), Fraction(-1, 3), Fraction(7, 5)]
    with working_precision(BITS):
        function = arb_function(expr, symbols)
        arb_seconds, arb_values = _timed(lambda: [function(*params, x) for x in POINTS])
        arb_width = max(float(2 * v.rad()) for v in arb_values)
    mpmath.iv.prec = BITS
    iv_kernel = sp.lambdify(symbols, expr, modules=[{"erf": _iv_erf}, mpmath.iv])
    iv_params = [mpmath.iv.mpf([str(p.numerator), str(p.numerator)]) / p.denominator for p in params]

    def iv_run():
        return [iv_kernel(*iv_params, mpmath.iv.mpf(x.numerator) / x.denominator) for x in POINTS]

    iv_seconds, iv_values = _timed(iv_run)
    iv_width = max(_width_iv(v) for v in iv_values)
    print(f"evaluate {TEXT!r} at {len(POINTS)} points, {BITS} bits")
    print(f"  arb (balls.arb_function) {arb_seconds:8.4f} s   widest enclosure {arb_width:.2e}")
    print(f"  mpmath.iv (lambdify)     {iv_seconds:8.4f} s   widest enclosure {iv_width:.2e}")
    print(f"  ratio iv / arb           {iv_seconds / arb_seconds:8.1f}x")


def _iv_erf(z):
    """mpmath.iv has no erf: enclose it from the monotone real erf at the endpoints (rounded outwards)."""
    with mpmath.workprec(mpmath.iv.prec + 20):
        low, high = mpmath.erf(z.a), mpmath.erf(z.b)
    eps = mpmath.mpf(2) ** (-mpmath.iv.prec + 2)
    return mpmath.iv.mpf([low - eps, high + eps])


def bench_determinant(size: int = 12) -> None:
    points = [Fraction(k, 7) for k in range(1, size + 1)]
    with working_precision(BITS):
        rows = [[(arb(k) / 4 * arb(x.numerator) / x.denominator).exp() for k in range(size)] for x in points]
        arb_seconds, det = _timed(lambda: arb_mat(rows).det())
        arb_width = float(2 * det.rad())
        arb_value = float(det.mid())
    mpmath.iv.prec = BITS
    iv_rows = [[mpmath.iv.exp(mpmath.iv.mpf(k) / 4 * mpmath.iv.mpf(x.numerator) / x.denominator) for k in range(size)]
               for x in points]
    iv_seconds, iv_det = _timed(lambda: mpmath.iv.det(mpmath.iv.matrix(iv_rows)))
    print(f"determinant of a {size}x{size} exponential evaluation matrix (value {arb_value:.3e}), {BITS} bits")
    print(f"  arb_mat.det   {arb_seconds:8.5f} s   enclosure width {arb_width:.2e}")
    print(f"  mpmath.iv.det {iv_seconds:8.5f} s   enclosure width {_width_iv(iv_det):.2e}")
    print(f"  ratio iv / arb {iv_seconds / arb_seconds:8.1f}x")


if __name__ == "__main__":
    bench_evaluation()
    bench_determinant()
