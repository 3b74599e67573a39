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
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np
from mpmath.libmp import to_fixed

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
