"""Interaction discovery: every linear relation among the partial derivatives of F, found and certified.

For F(inputs; theta) at a parameter point theta*, a *relation* (a linear PDE at theta*) is a non-zero
vector c with

    sum_kappa c_kappa d^kappa F(x; theta*) = 0   for all inputs x,

kappa ranging over the derivative family of :mod:`.derivatives` (F itself included by default).
Relations form a vector space: the null space of the family. Method:

1. exact derivatives at the point (:func:`.derivatives.derivatives_at_point`: symengine for smooth
   families, else sympy; rationals substituted, differentiability checked);
2. float-first null space (:func:`family_null_space`): float64 values at N = m + max(24, m/2) random
   inputs give the rank and the RREF pivots when the scaled spectrum has a clean gap
   (:func:`.linalg.float_pass`); the coefficients are solved at ``digits`` (>= 50) digits in ball arithmetic,
   each relation on the few columns its float RREF row uses (:func:`.linalg.solve_on_supports`), else on the
   whole dependent subspace (:func:`.linalg.solve_relations`), and every relation is confirmed at 24
   fresh inputs (:func:`confirm_relations`). Otherwise the previous engine: the ``digits``-digit null space
   of the full N x m matrix (:func:`.linalg.null_space`; relations have singular values at the evaluation
   noise, anything above 10^-(0.4 digits) is independent; in between, or when coefficients do not
   rationalise, everything is redone once at twice the digits);
3. the canonical basis: reduced row echelon form over Q with the columns in graded order, so each relation
   expresses its lowest-order derivative (the pivot) through derivatives that are not pivots;
4. certification of each relation with :func:`hmoe_theory.certify.decide_zero` after dividing by the
   exponential factors common to F (e.g. exp(gate score), the Gaussian kernel), so that the identity is
   usually polynomial: ``proved`` when sympy reduces it to 0 within the time limit, else ``supported``
   (numeric evidence, 24 fresh random points at 50 digits); with a proof budget, relations after it keep the
   numeric evidence of step 2 (``supported``). Before the numeric probe, a relation without exact proof is evaluated in
   ball arithmetic at rational inputs (one per piece between kinks, and random ones): an enclosure excluding 0
   **refutes** it, scale-free, and the null space is recomputed at twice the digits (:func:`refute_by_balls`);
5. rank: the independent columns (non-pivots) are proved independent by a non-singular evaluation minor in
   ball arithmetic, and the exactly proved relations bound the rank from above
   (:func:`.independence.certify_rank`); the report says ``rank r (proved)`` when the bounds meet, else
   ``numerical rank r`` with the proved interval.

Working digits grow with the parameter scales (:func:`parameter_scale_digits`: 50 + 2 max |log10 |theta_i||), so a
coefficient 1e-30 or a parameter 1e300 is not lost below the relation test's noise floor.

Hypotheses: the relations hold at the chosen point; a random rational point is generic with
probability ~1 (a special point such as a = 0 can add relations); the sample inputs are generic for the
function family (analytic functions vanishing at N > m random points vanish identically with probability 1).
"""

from __future__ import annotations

import json
import math
import random
import time
import warnings as _warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

import flint
import mpmath
import numpy as np
from numpy.exceptions import ComplexWarning
import sympy as sp

from ..balls import ArbFunction, NotAnalytic, NotCovered, arb_function, distinct_subexpressions, working_precision
from ..certify import Status, decide_zero
from ..compile import compile_exprs, compile_mpmath, shared_subexpressions
from ..errors import ModelError, TimeLimitExceeded
from ..families import ParametricFunction
from ..timelimit import time_limit
from .derivatives import KINKS, Derivative, derivatives_at_point, parse_point, resolve_function
from .independence import RankCertificate, certify_rank, piece_points, rational_points
from .linalg import FloatPass, NullSpace, float_pass, null_space, solve_on_supports, solve_relations

MIN_DIGITS = 50
INPUT_RANGE = 1.5  # sample inputs are rationals in [-1.5, 1.5] with denominator 2^20
CONFIRM_POINTS = 24  # fresh inputs at which the float candidates are confirmed at high precision
FLOAT_CHECK_POINTS = 8  # inputs at which the float64 values are compared with 50-digit ones
FLOAT_EVALUATION_ERROR = 1e-12  # largest accepted float error (relative to the row): below the gap's 1e-12 zero
REFUTATION_POINTS = 8  # rational inputs at which a relation without exact proof is evaluated in ball arithmetic
RANK_CERTIFICATE_LIMIT = 600  # independent columns above which the rank is not proved (cost ~ m^3 at >= 128 bits; 2.6 CPU s at 477)
SUPPORT_EXTRA_ROWS = 8  # sample rows beyond the largest relation support, to choose well-conditioned minors from
RETRIES = 2  # null-space recomputations at doubled precision after a relation is refuted


@dataclass(frozen=True)
class Column:
    """One function of a family: a derivative, at parameter point ``point``, times ``multiplier``."""

    derivative: Derivative
    point: int = 0
    multiplier: str = "1"

    @property
    def label(self) -> str:
        base = self.derivative.label
        if self.point:
            base = f"{base}[eta_{self.point + 1}]" if self.derivative.params else f"F[eta_{self.point + 1}]"
        return base if self.multiplier == "1" else f"{self.multiplier}*{base}"

    def to_dict(self) -> dict:
        out: dict = {"derivative": self.derivative.key}
        if self.point:
            out["point"] = self.point + 1
        if self.multiplier != "1":
            out["multiplier"] = self.multiplier
        return out


@dataclass(frozen=True)
class Term:
    """coefficient x column in a relation; coefficients are exact fractions (or decimals if irrational)."""

    column: Column
    coefficient: Fraction | mpmath.mpf

    def to_dict(self) -> dict:
        coefficient = (
            str(self.coefficient) if isinstance(self.coefficient, Fraction) else mpmath.nstr(self.coefficient, 30)
        )
        return {**self.column.to_dict(), "coefficient": coefficient}


@dataclass(frozen=True)
class Relation:
    """sum_i coefficient_i column_i = 0, with its certification status."""

    terms: tuple[Term, ...]
    status: Status
    method: str

    @property
    def text(self) -> str:
        """``dF/dA_1_1 - d2F/db_1^2 = 0`` (the first term is the RREF pivot, coefficient 1)."""
        parts = []
        for t in self.terms:
            magnitude = abs(t.coefficient)
            if magnitude == 1:
                shown = ""
            else:
                shown = f"{magnitude} " if isinstance(magnitude, Fraction) else f"{mpmath.nstr(magnitude, 12)} "
            sign = "-" if t.coefficient < 0 else "+"
            parts.append(f"{sign} {shown}{t.column.label}")
        text = " ".join(parts)
        return (text[2:] if text.startswith("+ ") else "-" + text[2:]) + " = 0"

    def to_dict(self) -> dict:
        return {"terms": [t.to_dict() for t in self.terms], "status": self.status.value, "method": self.method}


@dataclass
class Discovery:
    """Result of :func:`discover_relations` (or of an identifiability family, see :mod:`.identifiability`)."""

    function: str
    expression: str
    inputs: tuple[str, ...]
    params: tuple[str, ...]
    order: int
    mode: str
    point: dict[str, str]
    columns: tuple[Column, ...]
    rank: int
    margin: float | None
    residual: float
    digits: int
    samples: int
    relations: tuple[Relation, ...]
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    rank_certificate: RankCertificate | None = None

    @property
    def rank_proved(self) -> bool:
        """The rank (hence "no relation beyond these") is proved: independent columns certified by a non-singular
        evaluation minor and every relation proved exactly."""
        return self.rank_certificate is not None and self.rank_certificate.proved

    @property
    def size(self) -> int:
        """Number of functions in the derivative family."""
        return len(self.columns)

    @property
    def nullity(self) -> int:
        return self.size - self.rank

    def implies(self, relation: Mapping[Sequence[str], object]) -> bool:
        """Does sum c_kappa d^kappa F = 0 lie in the span of the discovered relations? (exact over Q)

        ``relation`` maps a derivative (parameter names in any order, ``()`` for F) to a rational
        coefficient, e.g. ``{("A_1_1",): 1, ("b_1", "b_1"): -1}``. Uses the RREF: subtracting each basis
        row times the vector's entry at that row's pivot must leave 0.
        """
        index = {tuple(c.derivative.key): i for i, c in enumerate(self.columns) if not c.point and c.multiplier == "1"}
        vector = [Fraction(0)] * len(self.columns)
        for names, coefficient in relation.items():
            key = tuple(sorted(names))
            if key not in index:
                raise ModelError(f"derivative {list(names)} is not in the family (order <= {self.order})")
            vector[index[key]] += Fraction(str(coefficient))
        for r in self.relations:
            row = [Fraction(0)] * len(self.columns)
            for t in r.terms:
                if not isinstance(t.coefficient, Fraction):
                    raise ModelError("relations with irrational coefficients cannot be compared exactly")
                row[self.columns.index(t.column)] = t.coefficient
            pivot = self.columns.index(r.terms[0].column)
            factor = vector[pivot]
            if factor:
                vector = [v - factor * w for v, w in zip(vector, row)]
        return not any(vector)

    def to_dict(self) -> dict:
        return {
            "function": self.function,
            "expression": self.expression,
            "inputs": list(self.inputs),
            "params": list(self.params),
            "order": self.order,
            "mode": self.mode,
            "point": self.point,
            "size": self.size,
            "rank": self.rank,
            "nullity": self.nullity,
            "margin": self.margin,
            "null_residual": self.residual,
            "digits": self.digits,
            "samples": self.samples,
            "rank_proved": self.rank_proved,
            "rank_certificate": None if self.rank_certificate is None else self.rank_certificate.to_dict(),
            "relations": [r.to_dict() for r in self.relations],
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "warnings": list(self.warnings),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def __repr__(self) -> str:
        shown = "; ".join(f"[{r.status.value}] {r.text}" for r in self.relations[:3])
        more = f"; ... {len(self.relations) - 3} more" if len(self.relations) > 3 else ""
        return (
            f"Discovery(F = {self.expression} ({self.mode}) at {', '.join(f'{k}={v}' for k, v in self.point.items())}: "
            f"{self.size} derivatives of order <= {self.order}, {self._rank_text()}, {self.nullity} relation(s)"
            f"{': ' + shown + more if shown else ''}; .table() for the report)"
        )

    def _rank_text(self) -> str:
        if self.rank_proved:
            return f"rank {self.rank} (proved)"
        return f"numerical rank {self.rank}"

    def table(self) -> str:
        """Human-readable report."""
        margin = "n/a" if self.margin is None else f"{self.margin:.3e}"
        lines = [
            f"family      {self.function} ({self.mode}), order <= {self.order}",
            f"F           {self.expression}",
            f"point       {','.join(f'{k}={v}' for k, v in self.point.items())}",
            f"derivatives {self.size} functions, {self._rank_text()}, {self.nullity} relation(s)",
            f"margin      smallest non-zero singular value {margin}"
            + (f"; relations at {self.residual:.1e}" if self.relations else "")
            + f" ({self.digits} digits, {self.samples} inputs)",
        ]
        if self.rank_certificate is not None:
            lines.append(f"rank proof  {self.rank_certificate.describe()}")
            if self.rank_certificate.independence is not None and self.rank_certificate.independence.proved:
                lines.append(f"            {self.rank_certificate.independence.method}")
        if self.relations:
            width = max(len(r.status.value) for r in self.relations)
            lines.append("relations:" + ("" if self.rank_proved else " (no other relation: numerical evidence only)"))
            lines += [f"  [{r.status.value:<{width}}] {r.text}" for r in self.relations]
        else:
            independent = "proved" if self.rank_proved else "numerical evidence only"
            lines.append(f"relations:  none (the derivative family is linearly independent; {independent})")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _sample_inputs(count: int, dimension: int, rng: random.Random, box: float) -> list[list[mpmath.mpf]]:
    scale = 2**20
    bound = int(box * scale)
    return [[mpmath.mpf(rng.randint(-bound, bound)) / scale for _ in range(dimension)] for _ in range(count)]


def kink_arguments(exprs: Sequence[sp.Expr], inputs: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """Arguments of sign/Heaviside/Abs/Max/Min that depend on the inputs (where F is only piecewise smooth), in a
    fixed order (children before parents)."""
    found: dict[sp.Expr, None] = {}
    for kink in distinct_subexpressions(exprs):
        if isinstance(kink, KINKS):
            for arg in kink.args:
                if arg.free_symbols & set(inputs):
                    found[arg] = None
    return list(found)


def input_box(exprs: Sequence[sp.Expr], inputs: Sequence[sp.Symbol], seed: int = 0) -> tuple[float, list[str]]:
    """Half-width of the sample box: INPUT_RANGE, widened (x4, x16, x64) until every kink splits it.

    A relation among piecewise-smooth functions can hold on one piece only: it is only detected as
    spurious if enough samples fall on each side of every kink, so the box is widened until each kink
    argument takes each sign on at least a quarter of the box; if that fails, a warning says so.
    """
    kinks = kink_arguments(exprs, inputs)
    if not kinks:
        return INPUT_RANGE, []
    probes = compile_exprs(kinks, inputs)
    rng = random.Random(seed)
    for box in (INPUT_RANGE, 4 * INPUT_RANGE, 16 * INPUT_RANGE, 64 * INPUT_RANGE):
        values = probes(*(np.array([rng.uniform(-box, box) for _ in range(400)]) for _ in inputs))
        if all(min((row > 0).mean(), (row < 0).mean()) >= 0.25 for row in values):
            return box, []
    return box, [
        f"a kink of F ({', '.join(map(str, kinks))} = 0) does not split [-{box:g}, {box:g}]^d: "
        "relations may hold piecewise only"
    ]


def evaluation_rows(
    exprs: Sequence[sp.Expr],
    inputs: Sequence[sp.Symbol],
    count: int,
    digits: int,
    seed: int = 0,
    box: float = INPUT_RANGE,
) -> list[list[mpmath.mpf]]:
    """Values of ``exprs`` (functions of ``inputs`` only) at ``count`` random inputs in [-box, box]^d
    where all of them are real and finite."""
    kernel = compile_mpmath(exprs, inputs)
    rng = random.Random(seed)
    rows: list[list[mpmath.mpf]] = []
    attempts = 0
    with mpmath.workdps(digits):
        while len(rows) < count:
            attempts += 1
            if attempts > 20 * count:
                raise ModelError(f"the functions are undefined or complex at most sample inputs in [-{box:g}, {box:g}]")
            x = _sample_inputs(1, len(inputs), rng, box)[0]
            try:
                values = kernel(*x)
            except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                continue
            if not all(mpmath.isfinite(v) and mpmath.im(v) == 0 for v in values):
                continue
            rows.append([mpmath.re(v) for v in values])
    return rows


def sample_count(size: int) -> int:
    """Number of random inputs for a family of ``size`` functions."""
    return size + max(24, size // 2)


def float_rows(
    exprs: Sequence[sp.Expr],
    inputs: Sequence[sp.Symbol],
    count: int,
    seed: int = 0,
    box: float = INPUT_RANGE,
    kernel=None,
) -> np.ndarray | None:
    """Float64 values of ``exprs`` at ``count`` random inputs (rationals k / 2^20 in [-box, box]^d, exact in
    float), rows where every value is finite; None if the functions are complex or mostly undefined.
    ``kernel``: a precompiled :func:`hmoe_theory.compile.compile_exprs` kernel of ``exprs``."""
    if kernel is None:
        try:
            kernel = compile_exprs(exprs, inputs)
        except (TypeError, ValueError, NameError, KeyError):
            return None
    rng = random.Random(seed)
    scale, bound = 2**20, int(box * 2**20)
    rows: list[np.ndarray] = []
    for _ in range(4):
        X = np.array([[rng.randint(-bound, bound) / scale for _ in inputs] for _ in range(count)])
        try:
            with _warnings.catch_warnings():
                _warnings.simplefilter("error", ComplexWarning)
                values = kernel(*X.T).T
        except (TypeError, ValueError, ComplexWarning):
            return None
        rows += [r for r in values if np.all(np.isfinite(r))]
        if len(rows) >= count:
            return np.array(rows[:count])
    return None


def ball_rows(
    exprs: Sequence[sp.Expr],
    inputs: Sequence[sp.Symbol],
    count: int,
    digits: int,
    seed: int = 0,
    box: float = INPUT_RANGE,
    kernel=None,
) -> list[list] | None:
    """Like :func:`evaluation_rows` in python-flint ball arithmetic (C speed): values (arb balls at
    ``digits`` digits plus guard bits) at ``count`` random rational inputs where all are finite; None if
    a function has no arb version (the caller then uses mpmath). ``kernel``: a prebuilt
    :func:`hmoe_theory.balls.arb_function` of ``exprs`` (a list)."""
    if kernel is None:
        try:
            kernel = arb_function(list(exprs), list(inputs))
        except NotCovered:
            return None
    flint.ctx.prec = int(digits * 3.33) + 64
    rng = random.Random(seed)
    scale, bound = 2**20, int(box * 2**20)
    rows: list[list] = []
    for _ in range(20 * count):
        x = [flint.arb(rng.randint(-bound, bound)) / scale for _ in inputs]
        try:
            values = kernel(*x)
        except (TypeError, ValueError, ZeroDivisionError):
            return None
        if all(v.is_finite() for v in values):
            rows.append(values)
            if len(rows) == count:
                return rows
    return None


def float_evaluation_error(
    numeric, exprs: Sequence[sp.Expr], inputs: Sequence[sp.Symbol], digits: int, seed: int, box: float,
    ball: ArbFunction | None = None,
) -> float:
    """Largest error of the float64 kernel ``numeric`` against ``digits``-digit values (the ball evaluator
    ``ball`` of ``exprs``, else mpmath) at ``FLOAT_CHECK_POINTS`` random inputs, relative to the largest value at
    each input (the row scaling of :func:`.linalg.float_pass`); inf when too few inputs give finite values."""
    exact_kernel = ball if ball is not None else compile_mpmath(exprs, inputs)
    flint.ctx.prec = int(digits * 3.33) + 64
    rng = random.Random(seed + 15485863)
    scale, bound = 2**20, int(box * 2**20)
    worst, checked = 0.0, 0
    with mpmath.workdps(digits):
        for _ in range(20 * FLOAT_CHECK_POINTS):
            ints = [rng.randint(-bound, bound) for _ in inputs]
            approx = numeric(*(np.array([k / scale]) for k in ints))[:, 0]
            try:
                if ball is not None:
                    exact_values = exact_kernel(*(flint.arb(k) / scale for k in ints))
                else:
                    exact_values = exact_kernel(*(mpmath.mpf(k) / scale for k in ints))
            except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                continue
            try:
                exact = np.array([float(v.mid()) if isinstance(v, flint.arb) else float(v) for v in exact_values])
            except TypeError:  # complex mpmath value
                continue
            if not (np.all(np.isfinite(approx)) and np.all(np.isfinite(exact))):
                continue
            peak = np.max(np.abs(exact))
            if peak > 0:
                worst = max(worst, float(np.max(np.abs(approx - exact))) / peak)
            checked += 1
            if checked == FLOAT_CHECK_POINTS:
                return worst
    return float("inf")


def confirm_relations(
    basis: Sequence[Sequence[Fraction]],
    exprs: Sequence[sp.Expr],
    inputs: Sequence[sp.Symbol],
    digits: int,
    seed: int,
    points: int = CONFIRM_POINTS,
    box: float = INPUT_RANGE,
    kernel=None,
) -> float | None:
    """Largest relative residual |sum_i c_i exprs_i| / sum_i |c_i exprs_i| of the candidate relations at
    ``points`` fresh random inputs at ``digits`` digits, or None when one exceeds 10^-(0.6 digits) (the
    candidates are then wrong). In ball arithmetic (``kernel``: a prebuilt ball evaluator of all ``exprs``; one arb
    matrix product per relation, over its non-zero terms) when every function has an arb version, else in mpmath
    and exact fractions on the functions the relations use."""
    used = sorted({i for row in basis for i, c in enumerate(row) if c})
    if not used:
        return 0.0
    tolerance = Fraction(1, 10 ** int(0.6 * digits))
    rows = ball_rows(exprs, inputs, points, digits, seed + 7919, box, kernel) if kernel is not None else None
    if rows is not None:
        worst = 0.0
        for row in basis:
            used_here = [i for i, c in enumerate(row) if c]
            coefficients = flint.arb_mat([[flint.fmpq(row[i].numerator, row[i].denominator) for i in used_here]])
            values = flint.arb_mat([[r[i] for r in rows] for i in used_here])  # functions x points
            residual = (coefficients * values).tolist()[0]
            size = (flint.arb_mat([[abs(v) for v in coefficients.tolist()[0]]])
                    * flint.arb_mat([[abs(v) for v in r] for r in values.tolist()])).tolist()[0]
            for value, scale in zip(residual, size):
                ratio = abs(value) / scale if scale > 0 else abs(value)
                upper = float(ratio.mid()) + float(ratio.rad())
                if upper > float(tolerance):
                    return None
                worst = max(worst, upper)
        return worst
    chosen = [exprs[i] for i in used]
    rows = ball_rows(chosen, inputs, points, digits, seed + 7919, box) or evaluation_rows(
        chosen, inputs, points, digits, seed + 7919, box
    )
    where = {i: k for k, i in enumerate(used)}
    worst = Fraction(0)
    for values in rows:
        exact = [_as_fraction(v) for v in values]
        for row in basis:
            terms = [c * exact[where[i]] for i, c in enumerate(row) if c]
            size = sum(abs(t) for t in terms)
            if size:
                worst = max(worst, abs(sum(terms)) / size)
    return float(worst) if worst <= tolerance else None


def _as_fraction(value) -> Fraction:
    """The exact binary value of an mpmath number or of the midpoint of an arb ball."""
    if isinstance(value, flint.arb):
        man, exp = (int(v) for v in value.mid().man_exp())
    else:
        sign, man, exp, _ = mpmath.mpf(value)._mpf_
        man = -man if sign else man
    return Fraction(man * 2**exp) if exp >= 0 else Fraction(man, 2**-exp)


def _solve_on_supports(
    exprs: Sequence[sp.Expr], inputs: Sequence[sp.Symbol], first: FloatPass, digits: int, seed: int, box: float,
    kernel: ArbFunction | None,
) -> NullSpace | None:
    """:func:`.linalg.solve_on_supports` on max |support| + ``SUPPORT_EXTRA_ROWS`` ball sample rows (the first rows
    of the full square system); None without a ball evaluator or relations."""
    if kernel is None or not first.pivots:
        return None
    count = min(first.rank, max(map(len, first.supports)) + SUPPORT_EXTRA_ROWS)
    rows = ball_rows(exprs, inputs, count, digits, seed + 104729, box, kernel) if count else []
    return None if rows is None else solve_on_supports(rows, first, digits)


def family_null_space(
    exprs: Sequence[sp.Expr],
    inputs: Sequence[sp.Symbol],
    digits: int = MIN_DIGITS,
    seed: int = 0,
    first_pass: bool = True,
) -> tuple[NullSpace, int, list[str]]:
    """Null space of the functions ``exprs`` of ``inputs``.

    With ``first_pass`` (default): float64 values give the rank and the RREF pivots
    (:func:`.linalg.float_pass`), provided the float values agree with ``digits``-digit ones to
    ``FLOAT_EVALUATION_ERROR`` (relative to each row) at ``FLOAT_CHECK_POINTS`` inputs -- the premise of the
    gap argument; the coefficients are solved at ``digits`` digits on that subspace only -- each relation on its
    float support first (:func:`.linalg.solve_on_supports`, a few sample inputs), else all together
    (:func:`.linalg.solve_relations`, ``rank`` sample inputs; once more at 2x digits when a coefficient does
    not rationalise) -- and every relation is confirmed at fresh inputs (:func:`confirm_relations`). Otherwise (or when
    ``first_pass`` is False) the ``digits``-digit null space :func:`.linalg.null_space` of the full
    matrix, retried once at 2x digits if undecided.
    """
    if digits < MIN_DIGITS:
        raise ModelError(f"at least {MIN_DIGITS} digits are needed to separate relations from ill-conditioning")
    box, warnings = input_box(exprs, inputs, seed)
    if first_pass:
        try:
            numeric = compile_exprs(exprs, inputs, cse=shared_subexpressions)
        except (TypeError, ValueError, NameError, KeyError):
            numeric = None
        values = None if numeric is None else float_rows(exprs, inputs, sample_count(len(exprs)), seed, box, numeric)
        first = None if values is None else float_pass(values)
        kernel = None
        if first is not None:
            try:
                kernel = arb_function(list(exprs), list(inputs))
            except NotCovered:
                kernel = None
            if float_evaluation_error(numeric, exprs, inputs, digits, seed, box, kernel) > FLOAT_EVALUATION_ERROR:
                first = None  # the float values are not accurate enough for the gap argument
        for attempt in (digits, 2 * digits) if first is not None else ():
            candidate = _solve_on_supports(exprs, inputs, first, attempt, seed, box, kernel)
            if candidate is not None:
                residual = confirm_relations(candidate.basis, exprs, inputs, attempt, seed, box=box, kernel=kernel)
                if residual is not None:
                    return replace(candidate, residual=residual), attempt, warnings
            square = []  # coefficients with large denominators need the second attempt (10^(digits/4))
            if first.pivots:
                square = ball_rows(exprs, inputs, first.rank, attempt, seed + 104729, box, kernel) or evaluation_rows(
                    exprs, inputs, first.rank, attempt, seed + 104729, box
                )
            candidate = solve_relations(square, first, attempt)
            if candidate is not None:
                residual = confirm_relations(candidate.basis, exprs, inputs, attempt, seed, box=box, kernel=kernel)
                if residual is not None:
                    return replace(candidate, residual=residual), attempt, warnings
                break  # wrong relations: the float pass misled us, use the full engine
    for attempt in (digits, 2 * digits):
        rows = evaluation_rows(exprs, inputs, sample_count(len(exprs)), attempt, seed, box)
        result = null_space(rows, attempt)
        if result.decided and result.rational:
            return result, attempt, warnings
    if not result.decided:
        warnings.append(f"singular values between 1e-{int(0.6 * attempt)} and 1e-{int(0.4 * attempt)}: rank uncertain")
    if not result.rational:
        warnings.append("some relation coefficients are not rational at this point (shown as decimals)")
    return result, attempt, warnings


def common_exponential_factor(expr: sp.Expr) -> sp.Expr:
    """Product of the exp(.) factors of ``expr`` (1 if none): every derivative of F keeps them."""
    factors = [f for f in sp.Mul.make_args(expr) if isinstance(f, sp.exp)]
    return sp.Mul(*factors)


def parameter_scale_digits(point: Mapping[sp.Symbol, sp.Rational]) -> int:
    """Working digits for a parameter point: ``MIN_DIGITS`` plus twice the largest |log10 |value|| of its non-zero
    values (a coefficient 1e-30 moves a column by 1e-30 relative, and products of two such values by 1e-60: a
    relation test at 50 digits cannot see them)."""
    widest = 0.0
    for value in point.values():
        rational = sp.Rational(value)
        if rational:
            widest = max(widest, abs(math.log10(abs(int(rational.p))) - math.log10(int(rational.q))))
    return MIN_DIGITS + 2 * math.ceil(widest)


def relu_as_heaviside(expr: sp.Expr) -> sp.Expr:
    """``Max(0, z)`` rewritten as ``z Heaviside(z)`` (equal for every real z, whatever H(0) is), so that relations
    between a relu and its parameter derivatives (Heaviside factors) can expand to 0."""
    def rewrite(node: sp.Max) -> sp.Expr:
        other = [a for a in node.args if a != 0]
        return other[0] * sp.Heaviside(other[0]) if len(node.args) == 2 and len(other) == 1 else node
    return expr.replace(lambda n: isinstance(n, sp.Max), rewrite)


def refute_by_balls(combination: sp.Expr, inputs: Sequence[sp.Symbol], digits: int, seed: int = 0) -> str | None:
    """A proof that ``combination`` (a function of ``inputs`` only) is not identically zero: a rational input where
    its ball-arithmetic enclosure (``digits`` digits plus guard bits) excludes 0; None if none of
    ``REFUTATION_POINTS`` random points and of the points inside each piece between kinks
    (:func:`.independence.piece_points`) gives one (no conclusion). Scale-free: a value 1e-30 with radius 1e-80 refutes."""
    try:
        function = arb_function(combination, list(inputs))
    except NotCovered:
        return None
    with working_precision(int(digits * 3.33) + 64):
        for point in piece_points([combination], inputs) + rational_points(REFUTATION_POINTS, len(inputs), seed + 31):
            try:
                value = function(*point)
            except (NotAnalytic, ZeroDivisionError, ValueError):
                continue
            if value.is_finite() and not value.contains(0):
                shown = ", ".join(f"{s.name}={v}" for s, v in zip(inputs, point))
                return f"ball arithmetic: the combination is {value.str(5, radius=False)} (enclosure excludes 0) at {shown}"
    return None


def certify_relation(
    exprs: Sequence[sp.Expr],
    coefficients: Sequence,
    inputs: Sequence[sp.Symbol],
    factor: sp.Expr,
    time_limit_s: float,
    digits: int = MIN_DIGITS,
) -> tuple[Status, str]:
    """Decide sum c_i exprs_i == 0: exactly (expansion after dividing by ``factor``), refuted by a ball enclosure
    excluding 0 at a rational input (:func:`refute_by_balls`), else by :func:`hmoe_theory.certify.decide_zero`
    (a proof, or numeric evidence: ``supported``)."""
    if not all(isinstance(c, Fraction) for c in coefficients):
        return Status.SUPPORTED, "numeric null space (coefficients not rational)"
    combination = sp.Add(*(sp.Rational(c.numerator, c.denominator) * e for c, e in zip(coefficients, exprs) if c))
    reduced = relu_as_heaviside(combination) / factor
    try:
        with time_limit(time_limit_s, "dividing out the exponential factor"):
            reduced = sp.expand(reduced, power_exp=True)
    except TimeLimitExceeded:
        pass  # decide_zero still gets the quotient
    if reduced == 0:
        return Status.PROVED, "exact: expands to 0 after dividing by the common exponential factor"
    refutation = refute_by_balls(combination, inputs, digits)
    if refutation is not None:
        return Status.REFUTED, refutation
    decision = decide_zero(reduced, list(inputs), time_limit_s=time_limit_s, seed=1)
    if decision.status is Status.SUPPORTED:
        return Status.SUPPORTED, f"numeric evidence, not proved: {decision.method}; {decision.detail}"
    return decision.status, f"{decision.method}; {decision.detail}" if decision.detail else decision.method


def relations_from_null_space(
    result: NullSpace,
    columns: Sequence[Column],
    exprs: Sequence[sp.Expr],
    inputs: Sequence[sp.Symbol],
    factor: sp.Expr,
    certify: bool,
    time_limit_s: float,
    proof_budget_s: float | None = None,
    digits: int = MIN_DIGITS,
) -> tuple[Relation, ...]:
    """Relations (canonical RREF rows), each certified exactly when ``certify`` -- until ``proof_budget_s``
    seconds of proof attempts are spent (None: no budget); later relations keep their numeric evidence (supported)."""
    relations = []
    started = time.perf_counter()
    for row in result.basis:
        used = [i for i, c in enumerate(row) if c != 0]
        terms = tuple(Term(columns[i], row[i]) for i in used)
        left = None if proof_budget_s is None else proof_budget_s - (time.perf_counter() - started)
        if certify and left is not None and left <= 0:
            status = Status.SUPPORTED
            method = f"numeric at {MIN_DIGITS} digits, residual {result.residual:.1e} (proof budget spent)"
        elif certify:
            limit = time_limit_s if left is None else min(time_limit_s, left)
            status, method = certify_relation(
                [exprs[i] for i in used], [row[i] for i in used], inputs, factor, limit, digits)
        else:
            status, method = Status.SUPPORTED, f"numeric null space, residual {result.residual:.1e}"
        relations.append(Relation(terms, status, method))
    return tuple(relations)


def refutation_warnings(relations: Sequence[Relation]) -> list[str]:
    """A relation refuted by the exact check means the numeric null space was wrong: say so loudly."""
    refuted = [r.text for r in relations if r.status is Status.REFUTED]
    return [f"numeric relation refuted by the exact check (increase digits or change seed): {t}" for t in refuted]


def solve_family(
    F: ParametricFunction,
    columns: Sequence[Column],
    exprs: Sequence[sp.Expr],
    *,
    order: int,
    mode: str,
    point: dict[str, str],
    factor: sp.Expr,
    digits: int,
    seed: int,
    certify: bool,
    time_limit_s: float,
    started: float,
    proof_budget_s: float | None = None,
    first_pass: bool = True,
    prove_rank: bool = True,
) -> Discovery:
    """The relations among the functions ``exprs`` of ``F.inputs`` (one per column): 50-digit null space,
    canonical rational basis, each relation certified exactly (after dividing by ``factor``) when
    ``certify``; with ``prove_rank`` the rank bounds of :func:`.independence.certify_rank` (independent columns
    proved by a non-singular evaluation minor, upper bound from the exactly proved relations). ``started``: ``time.perf_counter()`` when building the functions began (for ``seconds``)."""
    symbolic = time.perf_counter()
    retry_warnings: list[str] = []
    for retry in range(RETRIES + 1):
        result, used_digits, warnings = family_null_space(exprs, F.inputs, digits, seed, first_pass)
        numeric = time.perf_counter()
        relations = relations_from_null_space(
            result, columns, exprs, F.inputs, factor, certify, time_limit_s, proof_budget_s, used_digits
        )
        refuted = [r.text for r in relations if r.status is Status.REFUTED]
        if not refuted or retry == RETRIES:
            break
        retry_warnings.append(f"{len(refuted)} numeric relation(s) refuted in ball arithmetic at {used_digits} digits "
                              f"(e.g. {refuted[0]}): null space recomputed at {2 * used_digits} digits")
        digits = 2 * used_digits
    rank_certificate = None
    if prove_rank:
        pivots = {columns.index(r.terms[0].column) for r in relations}
        proved = sum(r.status is Status.PROVED for r in relations)
        rank_certificate = certify_rank(exprs, F.inputs, [j for j in range(len(columns)) if j not in pivots], proved,
                                        seed=seed, max_size=RANK_CERTIFICATE_LIMIT)
    return Discovery(
        function=F.name,
        expression=str(F.expr),
        inputs=tuple(s.name for s in F.inputs),
        params=tuple(s.name for s in F.params),
        order=order,
        mode=mode,
        point=point,
        columns=tuple(columns),
        rank=result.rank,
        margin=result.margin,
        residual=result.residual,
        digits=used_digits,
        samples=sample_count(len(columns)),
        relations=relations,
        seconds={
            "derivatives": symbolic - started,
            "null_space": numeric - symbolic,
            "certify": time.perf_counter() - numeric,
        },
        warnings=tuple(retry_warnings + warnings + refutation_warnings(relations)),
        rank_certificate=rank_certificate,
    )


def discover_relations(
    function: ParametricFunction | tuple[str, str] | str,
    order: int = 2,
    point: str | Mapping[str, object] | None = None,
    mode: str = "regression",
    d: int = 1,
    *,
    min_order: int = 0,
    digits: int = MIN_DIGITS,
    seed: int = 0,
    certify: bool = True,
    time_limit_s: float = 3.0,
    proof_budget_s: float | None = None,
    first_pass: bool = True,
) -> Discovery:
    """All linear relations among d^kappa F, min_order <= |kappa| <= order, at ``point``.

    ``function``: a :class:`~hmoe_theory.families.ParametricFunction`, a (gate, expert) pair or
    ``"gate x expert"`` (built by :func:`~hmoe_theory.families.gate_expert` in dimension ``d`` and
    ``mode``). ``point``: ``"name=value,..."`` or a mapping of rationals; missing parameters (all, by
    default) get a generic random rational value (``seed``). See the module docstring for the method.
    ``proof_budget_s``: total seconds for exact proofs (None: unlimited); ``first_pass=False`` skips the
    float64 first pass (the previous engine: 50-digit QR of the full matrix).
    """
    started = time.perf_counter()
    F = resolve_function(function, d, mode)
    if min_order not in (0, 1) or min_order > order:
        raise ModelError(f"min_order must be 0 (include F) or 1, got {min_order!r}")
    theta = parse_point(F, point, seed)
    if digits >= MIN_DIGITS:  # (fewer is refused by family_null_space)
        digits = max(digits, parameter_scale_digits(theta))
    values = derivatives_at_point(F, order, theta, min_order)
    kappas = list(values)
    exprs = [values[k] for k in kappas]
    columns = tuple(Column(Derivative(tuple(p.name for p in k))) for k in kappas)
    return solve_family(
        F,
        columns,
        exprs,
        order=order,
        mode=mode,
        point={p.name: str(v) for p, v in theta.items()},
        factor=common_exponential_factor(F.expr.xreplace(theta)),
        digits=digits,
        seed=seed,
        certify=certify,
        time_limit_s=time_limit_s,
        started=started,
        proof_budget_s=proof_budget_s,
        first_pass=first_pass,
    )

__all__ = [
    "Column",
    "Discovery",
    "Relation",
    "Term",
    "certify_relation",
    "common_exponential_factor",
    "discover_relations",
    "evaluation_rows",
    "family_null_space",
    "input_box",
    "kink_arguments",
    "refutation_warnings",
    "relations_from_null_space",
    "sample_count",
    "solve_family",
]
