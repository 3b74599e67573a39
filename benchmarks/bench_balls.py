"""Benchmark that chose the ball library of :mod:`hmoe_theory.balls` (run by hand: ``python benchmarks/bench_balls.py``).

Side by side in one run, on the same inputs, python-flint's Arb balls against mpmath's interval arithmetic
(``mpmath.iv``), both at 128 bits:

* evaluation of a gated-expert expression (sigmoid gate x gelu expert, the parser's spelling with exp and erf) at
  200 rational points: Arb through :func:`hmoe_theory.balls.arb_function`, mpmath.iv through ``sympy.lambdify``;
* the determinant of a 12 x 12 evaluation matrix (the functions exp(k x / 4) at 12 rational points): ``arb_mat.det``
  against the interval LU of ``mpmath.iv.matrix``.

Printed: seconds per library, the ratio, and the widest enclosure width (a library whose enclosures are wider
certifies less).

``--evaluators`` (one sympy -> arb evaluator): CPU seconds (``time.process_time``) to build and run every sympy -> arb
evaluator the checked-out tree has, on (a) the discovery hot path: the 1225 derivatives of the 48-parameter attention
family (G2, hmoe, N = 2, d = 3, H = 1) at a generic point, built once and evaluated at 24 rational inputs (the
confirmation step); (b) a certificate: the rank certificate of the 30-parameter attention family (G1, N = 3, d = 2;
its 195 independent columns at 203 points, ``certify_independence``), and a relation refutation (one combination of 3
derivatives of the catalogue family softmax-linear x ridge-gelu built and evaluated at 8 points, as ``refute_by_balls``
does); (c) the rate-order hot path: f_G of the d = 1 quadratic-polynomial x linear family with 3 atoms (46 DAG
nodes), one call at 320 bits, as ``rate_orders/residuals.py`` makes it at every node of every ball residual. Run it in
two trees (``PYTHONPATH=<tree>``) for the old/new comparison: before, ``compile.compile_arb`` (``sympy.lambdify``
with arb functions, fed the discovery's ``sympy.cse``) and ``balls.arb_function`` both existed.
"""

from __future__ import annotations

import argparse
import random
import time
from fractions import Fraction

import flint
import mpmath
import sympy as sp
from flint import arb, arb_mat
from sympy.core.cache import clear_cache

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


def _evaluators() -> dict:
    """The sympy -> arb evaluators of this tree: name -> build(exprs, symbols) returning a kernel (list in, list out)."""
    from hmoe_theory import compile as compiled

    found = {"balls.arb_function": lambda exprs, symbols: arb_function(list(exprs), list(symbols))}
    if hasattr(compiled, "ARB_FUNCTIONS"):  # the lambdify-based evaluator (removed once arb_function was the one)
        found["compile.compile_arb + sympy.cse"] = lambda exprs, symbols: compiled.compile_arb(
            exprs, symbols, cse=lambda _, shared=sp.cse(list(exprs)): shared)
    return found


def _cpu(run) -> tuple[float, object]:
    started = time.process_time()
    value = run()
    return time.process_time() - started, value


def bench_evaluators() -> None:
    from hmoe_theory.attention.families import attention_entry_function
    from hmoe_theory.interactions import discover_relations
    from hmoe_theory.interactions.derivatives import derivatives_at_point, parse_point, resolve_function
    from hmoe_theory.interactions.independence import certify_independence

    F = attention_entry_function("G2", 2, 3, 1)
    exprs = list(derivatives_at_point(F, 2, parse_point(F, None, 0)).values())
    rng = random.Random(1)
    points = [[arb(rng.randint(-1536, 1536)) / 1024 for _ in F.inputs] for _ in range(24)]
    print(f"(a) discovery hot path: {len(exprs)} derivatives of the 48-parameter family, build + 24 evaluations at 230 bits")
    for name, build in _evaluators().items():
        clear_cache()
        build_s, kernel = _cpu(lambda: build(exprs, F.inputs))
        with working_precision(230):
            eval_s, _ = _cpu(lambda: [kernel(*p) for p in points])
        print(f"  {name:<34} build {build_s:6.2f} s   evaluate {eval_s:6.3f} s   total {build_s + eval_s:6.2f} s")
    G = attention_entry_function("G1", 3, 2, 1)
    found = discover_relations(G, order=2, certify=False)
    values = derivatives_at_point(G, 2, parse_point(G, None, 0))
    pivots = {found.columns.index(r.terms[0].column) for r in found.relations}
    independent = [e for j, e in enumerate(values.values()) if j not in pivots]
    clear_cache()
    seconds, certificate = _cpu(lambda: certify_independence(independent, G.inputs))
    print(f"(b) rank certificate of the 30-parameter family ({len(independent)} columns, balls.arb_function): "
          f"{seconds:.2f} s, proved {certificate.proved}")
    H = resolve_function(("softmax-linear", "ridge-gelu"), 1)
    table = list(derivatives_at_point(H, 2, parse_point(H, None, 0)).values())
    combination = table[1] - sp.Rational(3, 7) * table[4] + table[7]
    inputs = [[Fraction(rng.randint(-1536, 1536), 1024) for _ in H.inputs] for _ in range(8)]
    print("    relation refutation: one combination of 3 derivatives, build + 8 evaluations at 230 bits")
    for name, build in _evaluators().items():
        def run():
            kernel = build([combination], H.inputs)
            with working_precision(230):
                return [kernel(*(arb(flint.fmpq(v.numerator, v.denominator)) for v in x)) for x in inputs]
        clear_cache()
        seconds, _ = _cpu(lambda: [run() for _ in range(20)])
        print(f"  {name:<34} {seconds / 20 * 1000:7.2f} ms")
    bench_residual_call()


def bench_residual_call(calls: int = 4000) -> None:
    from hmoe_theory.rate_orders import resolve

    model, k = resolve("d1/quadratic-polynomial/linear/over", model="regression")
    built = model.build(k)
    symbols = [*built.inputs, *built.weights, *(s for row in built.atoms for s in row)]
    values = [arb(3) / 10, *(arb(1) / (i + 3) for i in range(len(symbols) - 1))]
    print(f"(c) rate-order residual: f_G of quadratic-polynomial x linear, k = {k}, one call at 320 bits")
    for name, build in _evaluators().items():
        kernel = build([built.expr], symbols)
        with working_precision(320):
            seconds, _ = _cpu(lambda: [kernel(*values) for _ in range(calls)])
        print(f"  {name:<34} {seconds / calls * 1e6:7.2f} us per call")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluators", action="store_true", help="only the sympy -> arb evaluator comparison")
    if parser.parse_args().evaluators:
        bench_evaluators()
        raise SystemExit(0)
    bench_evaluation()
    bench_determinant()
