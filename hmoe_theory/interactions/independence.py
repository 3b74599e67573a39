"""Proofs of linear independence of finitely many functions, by ball arithmetic at rational points.

Principle: if functions f_1..f_m of x are linearly dependent, sum_j c_j f_j = 0 with c != 0, then every
evaluation matrix M_ij = f_j(x_i) has M c = 0, so every m x m minor is singular. Contrapositive: **one m x m
minor with a determinant enclosed away from 0 proves that f_1..f_m are linearly independent** (over R, as
functions on any set containing the points). :func:`certify_independence` evaluates the functions at rational
points x_i (exact inputs) in python-flint ball arithmetic (:func:`hmoe_theory.balls.arb_function`: every entry
is a ball that contains the true value) and certifies a non-singular minor with
:func:`hmoe_theory.balls.certify_nonsingular`, doubling the precision (and re-evaluating) while the enclosure
contains 0. Nothing here is sampled evidence: a ``proved`` certificate is a proof; a failure proves nothing
(the functions may be dependent, or the points / precision insufficient) and says which.

Uses in the toolkit:

* :func:`certify_rank` -- rank bounds for a derivative family: lower bound r from the independence of r columns
  (a proof), upper bound size - p from p exactly proved relations (RREF rows, linearly independent); equal bounds
  make the rank **proved**.
* :func:`certify_local_inverse_bound` -- the lower-bound half of a rate order (see its docstring; this is the API
  the rate-order engine calls).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import sympy as sp
from flint import fmpq

from ..balls import (DEFAULT_PRECISION, NonsingularCertificate, NotAnalytic, NotCovered, arb_function,
                     certify_nonsingular, distinct_subexpressions, exact_rational, working_precision)
from ..errors import ModelError

INPUT_BOX = 3 / 2  # rational points k / 2^10 in [-3/2, 3/2]^d, as the discovery engine's sample box
MAX_PRECISION = 4096  # bits: the last precision tried before giving up
EXTRA_POINTS = 8  # points beyond m (a tall matrix lets the minor avoid unlucky points)
PIECE_POINTS = 6  # points per piece of a piecewise function of one input
KINKED = (sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign)  # the non-analytic nodes whose zeros split the input line


@dataclass(frozen=True)
class IndependenceCertificate:
    """Outcome of :func:`certify_independence`.

    ``proved``: the ``size`` functions are linearly independent (a non-singular ``size`` x ``size`` evaluation
    minor, ``matrix``); ``points``: the rational inputs of the minor's rows (as text); ``reason``: why not proved."""

    proved: bool
    size: int
    points: tuple[tuple[str, ...], ...]
    matrix: NonsingularCertificate | None
    seconds: float
    reason: str = ""

    @property
    def method(self) -> str:
        if not self.proved:
            return f"not proved: {self.reason}"
        bits = self.matrix.precision
        arithmetic = "exact rationals" if bits == 0 else f"arb ball arithmetic at {bits} bits"
        sigma = self.matrix.sigma_min_lower
        shown = f"sigma_min >= {sigma:.3g}" if sigma > 0 else "sigma_min > 0, below float range"
        if self.matrix.contraction:
            proof = f"||I - R M D||_F <= {self.matrix.contraction} for D a power-of-two column scaling and R a float inverse"
        else:
            proof = f"det {self.matrix.determinant}"
        return (f"non-singular {self.size}x{self.size} evaluation minor at rational inputs ({arithmetic}; "
                f"{proof}, {shown})")

    def to_dict(self) -> dict:
        return {"proved": self.proved, "size": self.size, "method": self.method,
                "points": [list(p) for p in self.points], "seconds": round(self.seconds, 3)}


def rational_points(count: int, dimension: int, seed: int = 0, box: float = INPUT_BOX) -> list[tuple[fmpq, ...]]:
    """``count`` distinct random rational points k / 2^10 in [-box, box]^dimension (same seed, same points)."""
    rng = random.Random(seed)
    bound = int(box * 1024)
    seen: dict[tuple[int, ...], None] = {}
    while len(seen) < count:
        seen.setdefault(tuple(rng.randint(-bound, bound) for _ in range(dimension)), None)
        if dimension == 0:
            break
    return [tuple(fmpq(k, 1024) for k in key) for key in seen]


def piece_points(exprs: Sequence[sp.Expr], inputs: Sequence[sp.Symbol]) -> list[tuple[fmpq, ...]]:
    """Rational points inside each piece between the kinks of piecewise functions of one input (kink arguments
    affine in x, so their zeros are rational): up to ``PIECE_POINTS`` equispaced points between consecutive zeros
    and as many beyond each end (at distance 1, 2, ...). Empty for several inputs or non-affine kinks (then only random points are used)."""
    if len(inputs) != 1:
        return []
    x = inputs[0]
    zeros = set()
    for node in distinct_subexpressions(exprs):
        if isinstance(node, KINKED):
            arguments = node.args if isinstance(node, (sp.Max, sp.Min)) else node.args[:1]
            differences = [arguments[0] - a for a in arguments[1:]] if isinstance(node, (sp.Max, sp.Min)) else arguments
            for argument in differences:
                if argument.free_symbols != {x}:
                    continue
                polynomial = sp.Poly(argument, x) if argument.is_polynomial(x) else None
                if polynomial is None or polynomial.degree() != 1:
                    return []
                slope, intercept = polynomial.all_coeffs()
                if not (slope.is_Rational and intercept.is_Rational):
                    return []
                zeros.add(exact_rational(-intercept / slope))
    if not zeros:
        return []
    ordered = sorted(zeros)
    per_piece = min(len(exprs), PIECE_POINTS)
    points = [ordered[0] - j for j in range(1, per_piece + 1)] + [ordered[-1] + j for j in range(1, per_piece + 1)]
    for left, right in zip(ordered, ordered[1:]):
        points += [left + (right - left) * fmpq(j, per_piece + 1) for j in range(1, per_piece + 1)]
    return [(v,) for v in points]


def default_points(exprs: Sequence[sp.Expr], inputs: Sequence[sp.Symbol], count: int, seed: int = 0,
                   box: float = INPUT_BOX) -> list[list[tuple[fmpq, ...]]]:
    """Groups of candidate points: ``count`` points of :func:`rational_points`, and one more group of ``count``
    points shrunk by 2^-e for every large constant ~2^e (|c| >= 2^20) of the functions: with a = 1e300 in
    exp(a x), only inputs x ~ 1e-300 see more than one exponential scale (the points stay rational, so the
    proof is unchanged). The first group also holds one point per piece between kinks (:func:`piece_points`). Piecewise functions (kinks) also get groups in boxes 4x and 16x wider: a proof there is a
    proof of independence on any domain containing the reported points."""
    dimension = len(inputs)
    pieces = piece_points(exprs, inputs)
    points = [pieces] if pieces else []
    points.append(rational_points(count, dimension, seed, box) + pieces)
    nodes = distinct_subexpressions(exprs)
    if any(isinstance(node, KINKED) for node in nodes):  # kinks may leave the box
        points += [rational_points(count, dimension, seed + 7, wider * box) for wider in (4, 16)]
    scales = set()
    for number in nodes:
        if isinstance(number, sp.Rational):
            magnitude = int(abs(number.p)).bit_length() - int(number.q).bit_length()
            if magnitude >= 20:
                scales.add(magnitude)
    for k, magnitude in enumerate(sorted(scales)):
        shrink = fmpq(1, 2**magnitude)
        points.append([tuple(v * shrink for v in p) for p in rational_points(count, dimension, seed + k + 1, box)])
    return points


def _rows(function, points: Sequence[tuple[fmpq, ...]]) -> tuple[list[list], list[tuple[fmpq, ...]]]:
    """Ball values at the points where every function is finite (points on a distribution's support dropped)."""
    rows, kept = [], []
    for point in points:
        try:
            values = function(*point)
        except (NotAnalytic, ZeroDivisionError, ValueError):
            continue
        if all(v.is_finite() for v in values):
            rows.append(values)
            kept.append(point)
    return rows, kept


def certify_independence(
    exprs: Sequence[sp.Expr],
    inputs: Sequence[sp.Symbol],
    *,
    points: Sequence[Sequence] | None = None,
    seed: int = 0,
    box: float = INPUT_BOX,
    precision: int = DEFAULT_PRECISION,
    max_precision: int = MAX_PRECISION,
) -> IndependenceCertificate:
    """Prove that the functions ``exprs`` of ``inputs`` are linearly independent (see the module docstring).

    ``exprs`` may contain no symbol other than ``inputs`` (substitute parameters first, as exact rationals).
    ``points``: rational inputs to use (default: m + 8 random points k / 2^10 in [-box, box]^d, ``seed``).
    The precision starts at ``precision`` bits and doubles up to ``max_precision``."""
    started = time.perf_counter()
    exprs = [sp.sympify(e) for e in exprs]
    size = len(exprs)
    if size == 0:
        return IndependenceCertificate(True, 0, (), None, 0.0)
    if any(e == 0 for e in exprs):
        return IndependenceCertificate(False, size, (), None, time.perf_counter() - started,
                                       "a function of the family is identically 0")
    try:
        function = arb_function(list(exprs), list(inputs))
    except NotCovered as error:
        return IndependenceCertificate(False, size, (), None, time.perf_counter() - started, str(error))
    if points is None:
        groups = default_points(exprs, inputs, size + EXTRA_POINTS if inputs else 1, seed, box)
    else:
        groups = [[tuple(exact_rational(v) for v in p) for p in points]]
    reason = ""
    matrix = None
    for group in groups:
        certificate, matrix, reason = _certify_on(function, group, size, precision, max_precision)
        if certificate is not None:
            return replace(certificate, seconds=time.perf_counter() - started)
    return IndependenceCertificate(False, size, (), matrix, time.perf_counter() - started, reason)


def _certify_on(function, points, size: int, precision: int, max_precision: int):
    """(certificate, last matrix certificate, reason) for one group of points (certificate None if not proved)."""
    bits, reason, matrix = precision, "", None
    while bits <= max_precision:
        with working_precision(bits):
            rows, kept = _rows(function, points)
            if len(rows) < size:
                return None, matrix, f"only {len(rows)} of {len(points)} points give finite values, {size} needed"
            matrix = certify_nonsingular(rows, precision=bits, max_precision=bits)
        if matrix.proved:
            shown = tuple(tuple(str(v) for v in kept[i]) for i in matrix.rows)
            return IndependenceCertificate(True, size, shown, matrix, 0.0), matrix, ""
        reason = f"no non-singular {size}x{size} evaluation minor up to {bits} bits ({matrix.reason})"
        bits *= 2
    return None, matrix, reason


@dataclass(frozen=True)
class RankCertificate:
    """Rigorous bounds lower <= rank <= upper of a finite family of functions (see :func:`certify_rank`)."""

    size: int
    numerical: int
    lower: int
    upper: int
    independence: IndependenceCertificate | None

    @property
    def proved(self) -> bool:
        return self.lower == self.upper

    def describe(self) -> str:
        if self.proved:
            return f"rank {self.lower} proved ({self.lower} functions proved independent, {self.size - self.upper} relations proved)"
        return (f"numerical rank {self.numerical}; proved {self.lower} <= rank <= {self.upper}"
                + (f" ({self.independence.reason})" if self.independence and not self.independence.proved else ""))

    def to_dict(self) -> dict:
        return {"numerical": self.numerical, "lower": self.lower, "upper": self.upper, "proved": self.proved,
                "independence": None if self.independence is None else self.independence.to_dict()}


def certify_rank(
    exprs: Sequence[sp.Expr],
    inputs: Sequence[sp.Symbol],
    independent: Sequence[int],
    proved_relations: int,
    *,
    seed: int = 0,
    box: float = INPUT_BOX,
    max_size: int | None = None,
) -> RankCertificate:
    """Bounds on the rank of the functions ``exprs``: the columns ``independent`` (the numerically independent
    ones, e.g. the non-pivots of the RREF null basis) are proved independent -> rank >= len(independent);
    ``proved_relations`` exactly proved relations with distinct pivots -> rank <= size - proved_relations.
    ``max_size``: skip the independence proof above this many columns (its cost grows like m^3)."""
    size, numerical = len(exprs), len(independent)
    upper = size - proved_relations
    if max_size is not None and numerical > max_size:
        skipped = IndependenceCertificate(False, numerical, (), None, 0.0,
                                          f"independence proof skipped: {numerical} columns > limit {max_size}")
        return RankCertificate(size, numerical, 0, upper, skipped)
    certificate = certify_independence([exprs[i] for i in independent], inputs, seed=seed, box=box)
    lower = numerical if certificate.proved else 0
    return RankCertificate(size, numerical, lower, upper, certificate)


@dataclass(frozen=True)
class LocalInverseBoundCertificate:
    """Outcome of :func:`certify_local_inverse_bound`."""

    order: int
    atoms: int
    functions: tuple[str, ...]
    independence: IndependenceCertificate

    @property
    def proved(self) -> bool:
        return self.independence.proved

    @property
    def statement(self) -> str:
        verdict = "proved" if self.proved else "not proved"
        return (f"{verdict}: the {len(self.functions)} derivatives of order <= {self.order} at the {self.atoms} "
                f"true atom(s) are linearly independent ({self.independence.method}); by the Taylor/Fatou argument "
                "(arXiv 2505.10860 v1, Appendix D.1, Stage 3) the local inverse bound V(f_G, f_G*) >~ D_s(G, G*) "
                f"holds with s = {self.order}")


def derivative_family(
    expr: sp.Expr, params: Sequence[sp.Symbol], order: int, *, include_function: bool = True
) -> list[tuple[tuple[sp.Symbol, ...], sp.Expr]]:
    """(kappa, d^kappa expr) for every multiset kappa of ``params`` with (0 or 1) <= |kappa| <= order."""
    start = 0 if include_function else 1
    family = []
    for s in range(start, order + 1):
        for kappa in itertools.combinations_with_replacement(params, s):
            family.append((kappa, sp.diff(expr, *kappa) if kappa else expr))
    return family


def certify_local_inverse_bound(
    expr: sp.Expr,
    inputs: Sequence[sp.Symbol],
    params: Sequence[sp.Symbol],
    atoms: Sequence[Mapping[sp.Symbol, object]],
    order: int,
    *,
    include_function: bool = True,
    seed: int = 0,
    box: float = INPUT_BOX,
) -> LocalInverseBoundCertificate:
    """Prove the Stage-3 premise of the local inverse bound for a rate order s = ``order``.

    ``expr``: the density (or regression function) f(inputs; params) of one component, e.g. a Gaussian expert
    density in (x, y); ``atoms``: the true parameter atoms theta_1*..theta_k* (exact rationals per parameter);
    the family is {d^kappa f(.; theta_j*) : j <= k, |kappa| <= order} (with |kappa| = 0, the mass terms, when
    ``include_function``). If it is linearly independent in the inputs, every vanishing limit of the Taylor
    expansion of (f_Gn - f_G*) / D_n (Appendix D.1 of arXiv 2505.10860 v1: Stage 1 expands to order s,
    Stage 3 divides by the largest coefficient and applies Fatou) has all coefficients 0, contradicting Stage 2
    -- so the local inverse bound holds at order s. Call, e.g. for s = 1 at two Gaussian atoms::

        certify_local_inverse_bound(normal_pdf(y, a*x + b, v), [x, y], [a, b, v],
                                    [{a: 1, b: 0, v: 1}, {a: -1, b: 1/2, v: 2}], order=1)

    The certificate is ``proved`` only with a non-singular evaluation minor; at order 2 a location-scale Gaussian
    fails, as it must (d^2 f / d b^2 = 2 d f / d v), and the certificate says so."""
    if not atoms:
        raise ModelError("certify_local_inverse_bound needs at least one true atom")
    family = derivative_family(expr, params, order, include_function=include_function)
    exprs, labels = [], []
    for j, atom in enumerate(atoms):
        values = {p: sp.Rational(str(v)) if not isinstance(v, sp.Basic) else v for p, v in atom.items()}
        missing = [p for p in params if p not in values]
        if missing:
            raise ModelError(f"atom {j + 1} gives no value to {', '.join(map(str, missing))}")
        for kappa, derivative in family:
            exprs.append(derivative.xreplace(values))
            labels.append(("d/d" + " d/d".join(map(str, kappa)) if kappa else "f") + f" at atom {j + 1}")
    certificate = certify_independence(exprs, inputs, seed=seed, box=box)
    return LocalInverseBoundCertificate(order, len(atoms), tuple(labels), certificate)
