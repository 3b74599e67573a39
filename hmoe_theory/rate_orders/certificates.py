"""Rigorous enclosures of ||f_Gt - f_G*||_{L2(mu)} and D1(G_t, G*) for an explicit family at rational t.

The family is a seed construction (:mod:`.seeds`) evaluated at t = 1/10, 1/100, 1/1000 with *exact rational*
parameters (binary64-rounded parameters would break the cancellation at small t). Enclosures:

* D1: exact rational arithmetic (weights, atoms and truth are rationals; |.| of rationals);
* ||f_Gt - f_G*||^2 (python-flint ball arithmetic, ``PRECISION`` bits):
  - Gaussian mixtures: the closed form  int N(y|a,u) N(y|b,v) dy = N(a | b, u + v)  summed over all pairs
    of the signed measure G_t - G* (a finite sum: exact up to ball rounding);
  - density models in d = 1: the same closed form in y, then :func:`hmoe_theory.balls.enclose_integral` over x
    (Arb's rigorous ``acb.integral``);
  - regression in d = 1: :func:`hmoe_theory.balls.enclose_l2_squared` of f_Gt - f_G* (uniform design);
  - regression in d = 2 (uniform design on a box [a1, b1] x [a2, b2]): the iterated integral
    I = int_{a1}^{b1} J(x1) dx1, J(x1) = int_{a2}^{b2} (f_Gt - f_G*)^2(x1, x2) dx2, both by Arb's rigorous
    ``acb.integral`` (:func:`_enclose_l2_squared_2d`), for an integrand analytic on a complex neighbourhood of the
    box (no kink; a pole or a branch cut met by an evaluation ball gives a non-finite ball, never a wrong one).
    The outer rule bounds |J| on complex ellipses around the box by calling J on wide complex balls (its
    ``analytic`` flag); there J is computed with a loose tolerance and a capped number of evaluations (a wider
    ball, still an enclosure: acb.integral returns a rigorous ball whatever its budget). Without the cap these
    bounds cost ~70x more (the 2-D nested run of :func:`hmoe_theory.balls.enclose_l2_squared`: 7-12 CPU s per t).
    Measured on the free-atom attention entry (N = 2 tokens): ~0.1-0.2 CPU s per t at ``PRECISION_2D`` bits,
    relative radius < 1e-8.
  Other designs, density models in d = 2 and d >= 3 are **not covered** here (the result says so).

What is certified: at each t, phi(D1(G_t)) <= ||f_Gt - f_G*|| <= the upper end of the enclosure. The family
exponent is bracketed rigorously between consecutive t by the enclosures' ends (``slope_bounds``). This bounds
phi from above at those eps only; the asymptotic order itself is the search's (supported) or comes from
the family's Taylor expansion (not done here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import flint
import numpy as np
import sympy as sp

from ..balls import (NotAnalytic, NotCovered, arb_function, enclose_integral, enclose_l2_squared, exact_rational,
                     working_precision)
from ..errors import ModelError
from ..estimation.voronoi import d1_loss
from .coordinates import Coordinates
from .seeds import Seed

PRECISION = 400
PRECISION_2D = 96  # bits: f is O(1), f_Gt - f_G* >= 1e-10 on the grid; 96 bits leave > 60 bits of the difference
TOLERANCE_2D = 2**-30  # relative tolerance of the 2-D quadrature (a target; the enclosure is rigorous regardless)
BOUND_TOLERANCE_2D = 2**-4  # the inner integral's tolerance where it only bounds J on a complex ellipse ...
BOUND_EVALUATIONS_2D = 200  # ... and its evaluation budget there (measured: 0.1 s per t with, 7-12 s without)
T_VALUES = (Fraction(1, 10), Fraction(1, 100), Fraction(1, 1000))


@dataclass(frozen=True)
class Enclosure:
    """At one rational t: D1 (exact) and the ball [lo, hi] of ||f_Gt - f_G*||."""

    t: Fraction
    d1: Fraction
    norm_lo: float
    norm_hi: float

    def to_dict(self) -> dict:
        return {"t": str(self.t), "d1": float(self.d1), "norm": [self.norm_lo, self.norm_hi]}


@dataclass(frozen=True)
class Certificate:
    """Enclosures along one explicit family; ``slope_bounds`` brackets the family exponent rigorously."""

    family: str
    enclosures: tuple[Enclosure, ...]
    method: str

    @property
    def slope_bounds(self) -> list[tuple[float, float]]:
        out = []
        for a, b in zip(self.enclosures, self.enclosures[1:]):
            step = math.log(float(b.d1) / float(a.d1))
            ends = [(math.log(hi) - math.log(lo)) / step for lo, hi in ((a.norm_hi, b.norm_lo), (a.norm_lo, b.norm_hi))]
            out.append((min(ends), max(ends)))
        return out

    def supports(self, exponent: float, tolerance: float = 0.25) -> bool:
        """Every rigorous slope bracket lies within ``tolerance`` of ``exponent`` (the smallest t pairs)."""
        return all(lo >= exponent - tolerance and hi <= exponent + tolerance for lo, hi in self.slope_bounds[-2:])

    def to_dict(self) -> dict:
        return {"family": self.family, "method": self.method,
                "enclosures": [e.to_dict() for e in self.enclosures],
                "slope_bounds": [list(b) for b in self.slope_bounds]}


def covered(coords: Coordinates) -> str | None:
    """None when the certificate method covers the model, else the reason it does not."""
    model = coords.model
    if model.model == "density" and model.d > 1:
        return f"density model with d = {model.d}: only d = 1 is covered (closed form in y, quadrature in x)"
    if _two_inputs(model):
        if any(axis[0] != "uniform" for axis in model.measure.axes):
            return "2 inputs: only the uniform design on a box is covered"
        return None
    if len(model.measure.axes) > 2 and model.model == "regression":
        return f"{len(model.measure.axes)} inputs: the rigorous quadrature covers 1 and 2 inputs only"
    if model.gate_names and model.measure.axes[0][0] != "uniform":
        return "only the uniform design is covered"
    return None


def _two_inputs(model) -> bool:
    """Regression on two inputs (x_1, x_2): the 2-D enclosure (a density model's axes also hold the response y)."""
    return model.model == "regression" and len(model.measure.axes) == 2


def certify_family(coords: Coordinates, seed: Seed, t_values=T_VALUES) -> Certificate:
    """Enclosures of the module docstring along ``seed``'s exact family."""
    reason = covered(coords)
    if reason is not None or not seed.exact:
        raise ModelError(reason or f"seed {seed.name} is not an exact rational family")
    model = coords.model
    true_w = list(model.true_weights)
    true_atoms = [list(r) for r in model.true_atoms]
    enclosures = []
    for t in t_values:
        weights, atoms = coords.exact_point(seed.family(t))
        d1 = _exact_d1(coords, weights, atoms)
        square = _norm_square(coords, weights, atoms, true_w, true_atoms)
        lo = max(float(square.lower()), 0.0)
        enclosures.append(Enclosure(t, d1, math.sqrt(lo), math.sqrt(float(square.upper()))))
    method = "closed form of Gaussian products" if not model.gate_names and model.model == "density" else (
        "closed form in y + acb.integral in x" if model.model == "density" else "acb.integral in x"
        if not _two_inputs(model) else "iterated acb.integral in (x_1, x_2)")
    bits = PRECISION_2D if _two_inputs(model) else PRECISION
    return Certificate(seed.name, tuple(enclosures), f"{method}, {bits}-bit balls, exact rational parameters")


def _exact_d1(coords: Coordinates, weights: list[Fraction], atoms: list[list[Fraction]]) -> Fraction:
    """D1 of the point in exact rational arithmetic."""
    model = coords.model
    loss = d1_loss(np.array(weights, dtype=object), np.array(atoms, dtype=object),
                   np.array(model.true_weights, dtype=object), np.array(model.true_atoms, dtype=object),
                   convention=coords.convention, merged=coords.merged, cells=coords.members)
    return Fraction(loss.value)


def _q(value: Fraction) -> sp.Rational:
    return sp.Rational(value.numerator, value.denominator)


def _signed_expressions(coords: Coordinates, weights, atoms, true_w, true_atoms):
    model = coords.model
    fitted, truth = model.build(coords.k), model.build(model.k_true)
    fit_values = {s: _q(v) for s, v in zip(fitted.weights, weights)}
    fit_values.update({s: _q(v) for row, vals in zip(fitted.atoms, atoms) for s, v in zip(row, vals)})
    true_values = {s: _q(v) for s, v in zip(truth.weights, true_w)}
    true_values.update({s: _q(v) for row, vals in zip(truth.atoms, true_atoms) for s, v in zip(row, vals)})
    return fitted, truth, fit_values, true_values


def _norm_square(coords: Coordinates, weights, atoms, true_w, true_atoms) -> flint.arb:
    model = coords.model
    fitted, truth, fit_values, true_values = _signed_expressions(coords, weights, atoms, true_w, true_atoms)
    if model.model == "density":  # closed form of the y-integral: sum over pairs of the signed measure
        signed = [(+1, c, fit_values) for c in fitted.components] + [(-1, c, true_values) for c in truth.components]
        terms = []
        for sa, (ga, ma, va), vals_a in signed:
            for sb, (gb, mb, vb), vals_b in signed:
                gap = ma.xreplace(vals_a) - mb.xreplace(vals_b)
                var = va.xreplace(vals_a) + vb.xreplace(vals_b)
                terms.append(sa * sb * ga.xreplace(vals_a) * gb.xreplace(vals_b) * sp.exp(-gap**2 / (2 * var))
                             / sp.sqrt(2 * sp.pi * var))
        square = sp.Add(*terms)
        if not model.gate_names:  # Gaussian mixtures: no input left, the closed form is a number
            with working_precision(PRECISION):
                return arb_function(square, [])()
        _, a, b = model.measure.axes[0]
        x = fitted.inputs[0]
        return enclose_integral(square, x, a, b, precision=PRECISION) / (exact_rational(b) - exact_rational(a))
    difference = fitted.expr.xreplace(fit_values) - truth.expr.xreplace(true_values)
    if _two_inputs(model):
        return _enclose_l2_squared_2d(difference, list(fitted.inputs), [axis[1:] for axis in model.measure.axes])
    return enclose_l2_squared(difference, list(fitted.inputs), [model.measure.axes[0][1:]], precision=PRECISION)


def _enclose_l2_squared_2d(difference: sp.Expr, inputs: list[sp.Symbol], box: list[tuple]) -> flint.arb:
    """A ball containing int difference^2 dmu, mu uniform on the box [a1, b1] x [a2, b2] (module docstring: the
    iterated integral by ``acb.integral``, loose inner tolerance where the outer rule only asks for a bound)."""
    (a1, b1), (a2, b2) = [(exact_rational(lo), exact_rational(hi)) for lo, hi in box]
    with working_precision(PRECISION_2D):
        square = arb_function(difference**2, inputs)
        if square.kinks:
            raise NotCovered(f"the 2-D enclosure needs an analytic integrand; {difference} has kinks at "
                             f"{', '.join(map(str, square.kinks))} = 0")
        tolerance, bound_tolerance = flint.arb(TOLERANCE_2D), flint.arb(BOUND_TOLERANCE_2D)
        floor = flint.arb(2) ** (-2 * PRECISION_2D)

        def inner(z: flint.acb, bound_only: bool) -> flint.acb:
            def integrand(w: flint.acb, _: bool) -> flint.acb:
                try:
                    return flint.acb(square(z, w))
                except NotAnalytic:  # a branch cut in the ball: no enclosure, the quadrature subdivides or fails
                    return flint.acb("nan")
            if bound_only:
                return flint.acb.integral(integrand, flint.acb(flint.arb(a2)), flint.acb(flint.arb(b2)),
                                          rel_tol=bound_tolerance, eval_limit=BOUND_EVALUATIONS_2D)
            return flint.acb.integral(integrand, flint.acb(flint.arb(a2)), flint.acb(flint.arb(b2)),
                                      rel_tol=tolerance, abs_tol=floor)

        value = flint.acb.integral(inner, flint.acb(flint.arb(a1)), flint.acb(flint.arb(b1)), rel_tol=tolerance,
                                   abs_tol=floor)
        if not value.real.is_finite():
            raise NotCovered(f"no finite rigorous enclosure of the integral of ({difference})^2 on the box")
        return value.real / flint.arb((b1 - a1) * (b2 - a2))
