"""High-precision null spaces of evaluation matrices, in fixed-point integer arithmetic.

Given the values ``M[i][j] = f_j(x_i)`` of m functions at N >= m sample points (mpmath numbers at
``digits`` significant digits), :func:`null_space` finds every coefficient vector c with M c = 0:

1. *scaling*: each row is scaled by a power of two bringing its largest entry into [1/2, 1] (this does
   not change the null space and removes common factors such as exp(gate score)); each column is then
   scaled to unit 2-norm;
2. *rank-revealing QR*: Householder QR with column pivoting, M_s P = Q [[R11, R12], [0, R22]], carried
   out on Python integers holding the numbers times 2^bits (all entries are bounded by 1 after scaling,
   so fixed point loses nothing and is ~15x faster than mpmath floats);
3. *rank*: the pivoted diagonal |R_kk| is compared with two thresholds, ``10^-(0.4 digits)`` (non-zero)
   and ``10^-(0.6 digits)`` (zero). A true relation leaves R22 at the evaluation noise (~10^-digits);
   ill-conditioning of a non-degenerate family gives moderately small but stable values. A value
   between the thresholds is *undecided* (the caller re-evaluates at higher precision);
4. *null basis*: for every non-pivot column j, z = (-R11^-1 R12 e_j, e_j), mapped back through the column
   scaling; the basis is brought to reduced row echelon form (columns in the caller's order), which is
   unique for the null space, and its entries are rationalised (continued fractions, bounded denominators).

The *margin* is the smallest non-zero singular value of the scaled matrix, sigma_min([R11 R12]) (computed
from an LQ factorisation and a fixed-point triangular inverse): a numeric identifiability margin.

:func:`float_pass` is the cheap first pass (float64, LAPACK SVD of the same scaled matrix, single-threaded BLAS,
gesvd when gesdd does not converge: :func:`singular_value_decomposition`). It answers
only when the spectrum has a clean gap: every singular value is either > ``FLOAT_NONZERO`` or
< ``FLOAT_ZERO`` (relative to the largest). Why a clean gap decides the rank: the float matrix differs from
the exact values by evaluation and rounding errors of order 1e-14..1e-13 (relative; the caller checks
this against 50-digit values); by Weyl's inequality a true relation has a float singular value of at most
the norm of that error matrix (typically ~1e-13), so a singular value > 1e-9 is a genuinely independent
direction (no relation can be missed) and one below 1e-12 a *candidate* relation. The float
null basis also gives the RREF pivots (the dependent columns) and, for each relation, the free columns it
may use (its *support*: float coefficient above ``FLOAT_SUPPORT``). The exact coefficients are then solved at high
precision in python-flint ball arithmetic: first each relation on its own support (:func:`solve_on_supports`:
|S| x |S| systems on well-chosen sample rows, a few milliseconds), else one square system in all the independent
columns (:func:`solve_relations`: O(rank^3) ball operations, seconds at rank ~500); the caller confirms every
relation at fresh inputs (see :func:`hmoe_theory.interactions.discovery.family_null_space`), which also rejects a
support that missed a column. When any step is undecided the caller falls back to :func:`null_space` on the full
matrix.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from fractions import Fraction

import flint
import mpmath
import numpy as np
import scipy.linalg
from mpmath.libmp import to_fixed
from threadpoolctl import threadpool_limits

from ..balls import scaled_midpoints, well_conditioned_rows

FLOAT_NONZERO = 1e-9  # float singular value (relative): certainly an independent direction
FLOAT_ZERO = 1e-12  # float singular value (relative): candidate relation, confirmed at high precision
FLOAT_PIVOT = 1e-6  # entries of the normalised float null basis below this are zero when choosing pivots
FLOAT_SUPPORT = 1e-8  # float RREF coefficients above this may be non-zero (float noise there is ~1e-10)
ZERO_EXPONENT = 0.6  # |R_kk| < 10^-(0.6 digits): evaluation noise, a true relation
NONZERO_EXPONENT = 0.4  # |R_kk| > 10^-(0.4 digits): a genuinely independent direction


@dataclass(frozen=True)
class NullSpace:
    """Null space of an evaluation matrix (see module docstring).

    ``basis``: rows in reduced row echelon form, entries as :class:`fractions.Fraction` when
    rationalisation succeeded (``rational`` is then True), else mpmath numbers.
    """

    rank: int
    size: int
    basis: tuple[tuple, ...]
    pivots: tuple[int, ...]
    margin: float | None
    residual: float
    decided: bool
    rational: bool
    diagonal: tuple[float, ...]


def _scaled_columns(rows: list[list[mpmath.mpf]], bits: int) -> tuple[list[list[int]], list[int]]:
    """Fixed-point columns of the matrix with each row scaled by a power of two (max |entry| in [1/2, 1])
    and each column then scaled to unit norm; also the column norms (fixed point, 0 -> 1 for zero columns)."""
    columns: list[list[int]] = []
    for row in rows:
        peak = max(abs(v) for v in row)
        if peak == 0:
            continue
        _, man, exp, bc = peak._mpf_
        shift = bits - (exp + bc)
        columns.append([to_fixed(v._mpf_, shift) for v in row])
    columns = [list(col) for col in zip(*columns)]
    one = 1 << bits
    norms = [math.isqrt(sum(v * v for v in col)) or one for col in columns]
    scaled = [[(v << bits) // n for v in col] for col, n in zip(columns, norms)]
    return scaled, norms


def _pivoted_qr(columns: list[list[int]], bits: int, stop: int) -> tuple[list[int], list[list[int]], list[int]]:
    """Householder QR with column pivoting on fixed-point integer columns (modified in place).

    Returns (permutation, R as columns of length <= rank, |R_kk| sequence). Stops when the largest
    remaining column norm is below ``stop`` (a fixed-point integer).
    """
    n_rows, n_cols = len(columns[0]), len(columns)
    perm = list(range(n_cols))
    diagonal: list[int] = []
    for k in range(min(n_rows, n_cols)):
        norms2 = [sum(map(operator.mul, columns[j][k:], columns[j][k:])) for j in range(k, n_cols)]
        best = max(range(len(norms2)), key=norms2.__getitem__)
        norm = math.isqrt(norms2[best])  # fixed point: sqrt(v^2 * 2^2bits) = |v| 2^bits
        if norm < stop:
            diagonal.append(norm)
            break
        j = k + best
        columns[k], columns[j] = columns[j], columns[k]
        perm[k], perm[j] = perm[j], perm[k]
        x = columns[k][k:]
        alpha = -norm if x[0] >= 0 else norm
        v = list(x)
        v[0] -= alpha
        vv = sum(map(operator.mul, v, v))
        columns[k][k:] = [alpha] + [0] * (len(x) - 1)
        diagonal.append(norm)
        if vv == 0:
            continue
        for jj in range(k + 1, n_cols):
            col = columns[jj]
            dot = sum(map(operator.mul, v, col[k:]))
            factor = (2 * dot << bits) // vv
            col[k:] = [c - ((vi * factor) >> bits) for vi, c in zip(v, col[k:])]
    return perm, columns, diagonal


def _lq_margin(top: list[list[int]], bits: int) -> float | None:
    """sigma_min of the full-row-rank block [R11 R12] (rows of ``top`` as fixed-point integers)."""
    rank = len(top)
    if rank == 0:
        return None
    # QR of [R11 R12]^T: its R factor has the same singular values as [R11 R12].
    _, cols, _ = _pivoted_qr([list(row) for row in top], bits, stop=-1)
    upper = [[cols[j][i] for j in range(rank)] for i in range(rank)]
    inverse = _triangular_inverse(upper, bits)
    as_float = np.array([[v / 2**bits for v in row] for row in inverse])
    largest = np.linalg.norm(as_float, 2)
    return float(1.0 / largest) if largest > 0 else None


def _triangular_inverse(upper: list[list[int]], bits: int) -> list[list[int]]:
    """Inverse of a fixed-point upper-triangular matrix by back substitution (entries may grow large)."""
    n = len(upper)
    square = 1 << (2 * bits)
    inv = [[0] * n for _ in range(n)]
    for i in range(n - 1, -1, -1):
        inv[i][i] = square // upper[i][i]
        for j in range(i + 1, n):
            acc = sum(upper[i][m] * inv[m][j] for m in range(i + 1, j + 1))
            inv[i][j] = -(acc // upper[i][i])
    return inv


def _back_substitute(upper: list[list[int]], rhs: list[int], bits: int) -> list[int]:
    """Solve upper z = rhs in fixed point."""
    n = len(rhs)
    z = [0] * n
    for i in range(n - 1, -1, -1):
        acc = (rhs[i] << bits) - sum(map(operator.mul, upper[i][i + 1 :], z[i + 1 :]))
        z[i] = acc // upper[i][i]
    return z


def _rationalise(exact: Fraction, digits: int) -> Fraction | None:
    """The simplest p/q with q <= 10^(digits/4) within 10^-(0.6 digits) (relative) of ``exact``."""
    guess = exact.limit_denominator(10 ** (digits // 4))
    tolerance = Fraction(1, 10 ** int(ZERO_EXPONENT * digits)) * max(1, abs(exact))
    return guess if abs(guess - exact) <= tolerance else None


def _rref(rows: list[list[int]], bits: int, tolerance: int) -> tuple[list[list[int]], list[int]]:
    """Reduced row echelon form of fixed-point integer rows (partial pivoting; |entry| <= tolerance is 0)."""
    rows = [list(r) for r in rows]
    pivots: list[int] = []
    top = 0
    for col in range(len(rows[0]) if rows else 0):
        if top == len(rows):
            break
        best = max(range(top, len(rows)), key=lambda i: abs(rows[i][col]))
        if abs(rows[best][col]) <= tolerance:
            continue
        rows[top], rows[best] = rows[best], rows[top]
        lead = rows[top][col]
        rows[top] = [(v << bits) // lead for v in rows[top]]
        pivot_row = rows[top]
        for i in range(len(rows)):
            f = rows[i][col]
            if i != top and f:
                rows[i] = [a - ((f * b) >> bits) for a, b in zip(rows[i], pivot_row)]
        pivots.append(col)
        top += 1
    return [[0 if abs(v) <= tolerance else v for v in r] for r in rows], pivots


def null_space(rows: list[list[mpmath.mpf]], digits: int) -> NullSpace:
    """Null space of the matrix with the given rows (see module docstring). Call at >= ``digits`` dps."""
    if not rows or not rows[0]:
        raise ValueError("null_space needs a non-empty matrix")
    size = len(rows[0])
    bits = int(digits * 3.33) + 64
    fixed, norms = _scaled_columns(rows, bits)
    zero = 2**bits // 10 ** int(ZERO_EXPONENT * digits)
    nonzero = 2**bits // 10 ** int(NONZERO_EXPONENT * digits)
    perm, r_cols, diagonal = _pivoted_qr(fixed, bits, stop=zero)
    rank = sum(1 for v in diagonal if v >= zero)
    undecided = any(zero <= v < nonzero for v in diagonal)
    residual = 0.0
    if rank < size:
        tail = max(math.isqrt(sum(c * c for c in r_cols[j][rank:])) for j in range(rank, size))
        residual = tail / 2**bits
    margin = _lq_margin([[r_cols[j][i] for j in range(size)] for i in range(rank)], bits)
    basis: list[list] = []
    pivots: list[int] = []
    rational = True
    if rank < size:
        r11 = [[r_cols[j][i] for j in range(rank)] for i in range(rank)]
        vectors = []
        for free in range(rank, size):
            z = _back_substitute(r11, [-r_cols[free][i] for i in range(rank)], bits)
            vector = [0] * size
            for position, value in zip(perm[:rank], z):
                vector[position] = (value << bits) // norms[position]
            vector[perm[free]] = (1 << (2 * bits)) // norms[perm[free]]
            vectors.append(vector)
        reduced, pivots = _rref(vectors, bits, 2**bits // 10 ** int(NONZERO_EXPONENT * digits))
        for row in reduced:
            converted = [_rationalise(Fraction(v, 2**bits), digits) if v else Fraction(0) for v in row]
            if any(c is None for c in converted):
                rational = False
                with mpmath.workdps(digits):
                    basis.append([mpmath.mpf(v) / 2**bits for v in row])
            else:
                basis.append(converted)
    return NullSpace(
        rank=rank,
        size=size,
        basis=tuple(tuple(r) for r in basis),
        pivots=tuple(pivots),
        margin=margin,
        residual=residual,
        decided=not undecided,
        rational=rational,
        diagonal=tuple(v / 2**bits for v in diagonal),
    )


def _float_rref(rows: np.ndarray, tolerance: float) -> tuple[np.ndarray, list[int]]:
    """Reduced row echelon form of float rows (partial pivoting; |entry| <= tolerance counts as 0)."""
    rows = rows.copy()
    pivots: list[int] = []
    top = 0
    for col in range(rows.shape[1]):
        if top == rows.shape[0]:
            break
        best = top + int(np.argmax(np.abs(rows[top:, col])))
        if abs(rows[best, col]) <= tolerance:
            continue
        rows[[top, best]] = rows[[best, top]]
        rows[top, col:] /= rows[top, col]
        factors = rows[:, col].copy()
        factors[top] = 0.0
        rows[:, col:] -= np.outer(factors, rows[top, col:])  # columns < col are already reduced
        pivots.append(col)
        top += 1
    return rows[:top], pivots


@dataclass(frozen=True)
class FloatPass:
    """Rank and RREF pivots of the null space from float64 (see :func:`float_pass`).

    ``pivots``: the dependent columns (pivots of the RREF null basis, caller's column order); the other
    ``rank`` columns are independent. ``margin``/``residual``: smallest singular value above the gap and
    largest below it (scaled matrix, 6 significant digits); ``singular``: all singular values; ``supports``: for
    each pivot, the independent columns whose float RREF coefficient exceeds ``FLOAT_SUPPORT`` (the columns its
    relation may use).
    """

    rank: int
    size: int
    pivots: tuple[int, ...]
    margin: float | None
    residual: float
    singular: tuple[float, ...]
    supports: tuple[tuple[int, ...], ...]

    @property
    def free(self) -> tuple[int, ...]:
        """The independent columns (not pivots)."""
        chosen = set(self.pivots)
        return tuple(j for j in range(self.size) if j not in chosen)


def singular_value_decomposition(M: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Singular values and right singular vectors (full V^T) of M, via the triangular factor of a QR when M is
    tall (same singular values and right vectors, cheaper). LAPACK's divide-and-conquer driver (numpy, gesdd)
    first; when it does not converge (it fails on some attention families), the QR-iteration driver gesvd
    (scipy), which converges there; None if both fail. Single-threaded BLAS: these matrices are small enough that
    threads cost more CPU than they save (measured in benchmarks/bench_interactions.py)."""
    with threadpool_limits(limits=1, user_api="blas"):
        try:
            square = np.linalg.qr(M, mode="r") if M.shape[0] > M.shape[1] else M
        except np.linalg.LinAlgError:
            return None
        try:
            _, singular, vt = np.linalg.svd(square, full_matrices=True)
        except np.linalg.LinAlgError:
            try:
                _, singular, vt = scipy.linalg.svd(square, full_matrices=True, lapack_driver="gesvd",
                                                   check_finite=False)
            except (np.linalg.LinAlgError, ValueError):
                return None
    return singular, vt


def float_pass(matrix: np.ndarray) -> FloatPass | None:
    """First pass in float64 (see module docstring): rank and RREF pivots of the null space when the
    spectrum of the scaled matrix (rows = sample inputs) has a clean gap, else None."""
    M = np.asarray(matrix, dtype=float)
    if M.ndim != 2 or not M.size or not np.all(np.isfinite(M)):
        return None
    peaks = np.abs(M).max(axis=1)
    M = M[peaks > 0] / peaks[peaks > 0, None]
    norms = np.linalg.norm(M, axis=0)
    norms[norms == 0] = 1.0
    M = M / norms
    size = M.shape[1]
    decomposed = singular_value_decomposition(M)
    if decomposed is None:
        return None
    singular, vt = decomposed
    top = singular[0] if singular.size and singular[0] > 0 else 1.0
    relative = np.zeros(size)
    relative[: singular.size] = singular / top
    if np.any((relative > FLOAT_ZERO) & (relative <= FLOAT_NONZERO)):
        return None
    rank = int(np.sum(relative > FLOAT_NONZERO))
    pivots: list[int] = []
    supports: list[tuple[int, ...]] = []
    if rank < size:
        vectors = vt[rank:] / norms  # null vectors of the unscaled matrix, one per row
        vectors /= np.abs(vectors).max(axis=1, keepdims=True)
        reduced, pivots = _float_rref(vectors, FLOAT_PIVOT)
        if len(pivots) != size - rank:
            return None
        dependent = np.zeros(size, dtype=bool)
        dependent[pivots] = True
        supports = [tuple(int(j) for j in np.flatnonzero((np.abs(row) > FLOAT_SUPPORT) & ~dependent)) for row in reduced]
    return FloatPass(
        rank=rank,
        size=size,
        pivots=tuple(pivots),
        margin=_significant(relative[rank - 1] * top) if rank else None,
        residual=_significant(relative[rank] * top) if rank < size else 0.0,
        singular=tuple(float(v) for v in singular),
        supports=tuple(supports),
    )


def _significant(value: float, digits: int = 6) -> float:
    """``value`` to ``digits`` significant digits: LAPACK's last bits may depend on the BLAS build and
    thread count, the reported margin must not."""
    return float(f"{value:.{digits - 1}e}")


def _to_arb(value):
    if isinstance(value, flint.arb):
        return value
    sign, man, exp, _ = value._mpf_
    return flint.arb((-man if sign else man, exp))


def solve_relations(rows: list[list], first: FloatPass, digits: int) -> NullSpace | None:
    """The RREF null basis with the pivots of ``first``, solved at high precision (python-flint ball
    arithmetic): with F the independent columns and P the pivots, ``rows`` (>= rank sample inputs, values
    at ``digits`` digits) give M_F X = M_P on the first ``rank`` rows; relation t is
    e_{P_t} - sum_i X_{i t} e_{F_i}. Coefficients are rationalised (denominator <= 10^(digits/4)); returns
    None when the square system is singular at this precision, a coefficient is not pinned down to
    10^-(0.6 digits) or does not rationalise, or the rows are not in reduced row echelon form."""
    free, pivots = first.free, first.pivots
    if not pivots:
        return _relations(first, ())
    flint.ctx.prec = int(digits * 3.33) + 64
    square = rows[: first.rank]
    if len(square) < first.rank:
        return None
    A = flint.arb_mat([[_to_arb(r[j]) for j in free] for r in square]) if free else None
    B = flint.arb_mat([[_to_arb(r[j]) for j in pivots] for r in square]) if free else None
    try:
        X = A.solve(B) if free else None
    except ZeroDivisionError:
        return None
    entries = X.tolist() if free else []
    basis = []
    for t, p in enumerate(pivots):
        row = _relation_row(p, {j: entries[i][t] for i, j in enumerate(free)}, first, digits)
        if row is None:
            return None
        basis.append(row)
    return _relations(first, basis)


def solve_on_supports(rows: list[list], first: FloatPass, digits: int) -> NullSpace | None:
    """The basis of :func:`solve_relations`, each relation solved on its own support: with S_t =
    ``first.supports[t]`` (the independent columns relation t may use), M_{S_t} x = M_{P_t} on |S_t| of the sample
    ``rows`` (ball values at ``digits`` digits) forming a well-conditioned minor
    (:func:`hmoe_theory.balls.well_conditioned_rows`), in ball arithmetic; relation t is e_{P_t} - sum_j x_j e_j.
    Same acceptance as :func:`solve_relations` (pinned down to 10^-(0.6 digits), rational, RREF). Because the
    relation through pivot P_t with zeros on the other pivots is unique, a support containing every column of the
    true relation gives exactly its row; a support missing one gives a wrong row, which the caller's confirmation at
    fresh inputs rejects. None when a minor is singular at this precision or a coefficient is not accepted."""
    if not first.pivots:
        return _relations(first, ())
    flint.ctx.prec = int(digits * 3.33) + 64
    balls = [[_to_arb(v) for v in r] for r in rows]
    used = sorted(set().union(*first.supports))
    table = scaled_midpoints([[r[j] for j in used] for r in balls]) if used and balls else None
    where = {j: k for k, j in enumerate(used)}
    basis = []
    for p, support in zip(first.pivots, first.supports):
        values = {}
        if support:
            if len(balls) < len(support):
                return None
            chosen = well_conditioned_rows(table[:, [where[j] for j in support]])
            A = flint.arb_mat([[balls[i][j] for j in support] for i in chosen])
            b = flint.arb_mat([[balls[i][p]] for i in chosen])
            try:
                x = A.solve(b)
            except ZeroDivisionError:
                return None
            values = {j: x[i, 0] for i, j in enumerate(support)}
        row = _relation_row(p, values, first, digits)
        if row is None:
            return None
        basis.append(row)
    return _relations(first, basis)


def _relation_row(pivot: int, solved: dict, first: FloatPass, digits: int) -> tuple[Fraction, ...] | None:
    """RREF row e_pivot - sum_j solved[j] e_j over Q: each ball pinned down to 10^-(0.6 digits) (relative),
    rationalised, zero left of the pivot and on the other pivots; None otherwise."""
    small = float(Fraction(1, 10 ** int(ZERO_EXPONENT * digits)))
    row = [Fraction(0)] * first.size
    row[pivot] = Fraction(1)
    for j, entry in solved.items():
        if float(entry.rad()) > small * max(1.0, abs(float(entry.mid()))):
            return None
        if abs(float(entry.mid())) <= small:
            continue
        value = _rationalise(-_arb_fraction(entry.mid()), digits)
        if value is None:
            return None
        row[j] = value
    if any(row[j] for j in range(pivot)) or any(row[q] for q in first.pivots if q != pivot):
        return None  # not the reduced row echelon form: the float pivots were not the RREF pivots
    return tuple(row)


def _relations(first: FloatPass, basis) -> NullSpace:
    return NullSpace(first.rank, first.size, tuple(basis), first.pivots, first.margin, first.residual, True, True,
                     first.singular)


def _arb_fraction(value) -> Fraction:
    man, exp = value.man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man * 2**exp) if exp >= 0 else Fraction(man, 2**-exp)
