"""Exact curvature in canonical form: Gauss equation over a field of rational functions.

Inputs: ``J[a]`` (``dY/dtheta_a``, D entries), ``H[a][b]`` (``d^2Y/dtheta_a dtheta_b``) and the inner
product ``W = Sigma^-1`` (rational), as sympy expressions -- at a rational point (numbers) or symbolic.
All entries are mapped into one field ``Q(x_1..x_k)`` (:class:`~.exact_field.ExactField`), where every
sum, product and quotient is a reduced fraction, so cancellation happens per component:

* ``g_ab = <J_a, J_b>``, ``g^-1 = adj(g) / det(g)`` (Laplace expansion, memoised minors);
* ``Gamma_{e,ab} = <J_e, H_ab>``, ``Gamma^e_ab = g^{ef} Gamma_{f,ab}``;
* ``B(ab, cd) = <H_ab, H_cd> - Gamma_{e,ab} Gamma^e_cd = <II_ab, II_cd>`` (the normal parts' inner product);
* ``R_abcd = B(ac, bd) - B(ad, bc)`` (Gauss equation, flat ambient space), computed for the
  ``n^2 (n^2 - 1) / 12`` independent components and completed by the symmetries
  ``R_abcd = -R_bacd = -R_abdc = R_cdab``;
* ``Ric_bd = g^{ac} R_abcd``, ``S = g^{bd} Ric_bd``, ``K(e_a, e_b) = R_abab / (g_aa g_bb - g_ab^2)``.

Sign convention and hypotheses as in :mod:`hmoe_theory.geometry.curvature` (the sphere of radius ``r``
has ``K = +1/r^2``; ``Y`` an immersion where used). Results are field elements; :class:`ExactCurvature`
turns them into sympy expressions on demand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from itertools import combinations

import sympy as sp

from ..errors import HmoeError, ModelError
from .curvature import SIGN_CONVENTION, shorten
from .exact_field import ExactField, RationalFunction


def _inverse(matrix: list[list[RationalFunction]], zero: RationalFunction) -> list[list[RationalFunction]] | None:
    """``adj(g) / det(g)`` by Laplace expansion with memoised minors (None if singular). For n <= 4 this
    is several times faster than Gauss-Jordan over the field: fewer and smaller intermediate fractions."""
    n = len(matrix)
    memo: dict[tuple[tuple[int, ...], tuple[int, ...]], RationalFunction] = {}

    def minor(rows: tuple[int, ...], cols: tuple[int, ...]) -> RationalFunction:
        if (rows, cols) not in memo:
            if len(rows) == 1:
                value = matrix[rows[0]][cols[0]]
            else:
                value = zero
                for k, c in enumerate(cols):
                    if not matrix[rows[0]][c].is_zero():
                        term = matrix[rows[0]][c] * minor(rows[1:], cols[:k] + cols[k + 1 :])
                        value = value - term if k % 2 else value + term
            memo[rows, cols] = value
        return memo[rows, cols]

    full = tuple(range(n))
    determinant = minor(full, full)
    if determinant.is_zero():
        return None
    if n == 1:
        return [[determinant.inverse()]]
    scale = determinant.inverse()
    inverse = [[zero] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            cofactor = minor(full[:j] + full[j + 1 :], full[:i] + full[i + 1 :]) * scale
            inverse[i][j] = -cofactor if (i + j) % 2 else cofactor
    return inverse


def riemann_sign(a: int, b: int, c: int, d: int) -> tuple[int, tuple[int, int, int, int]]:
    """``R_abcd = sign * R_key`` with ``key = (a', b', c', d')``, ``a' < b'``, ``c' < d'``, ``(a',b') <= (c',d')``;
    sign 0 when ``a = b`` or ``c = d``."""
    if a == b or c == d:
        return 0, (a, b, c, d)
    sign = 1
    if a > b:
        a, b, sign = b, a, -sign
    if c > d:
        c, d, sign = d, c, -sign
    if (a, b) > (c, d):
        a, b, c, d = c, d, a, b
    return sign, (a, b, c, d)


class ExactCurvature:
    """Metric, Riemann, Ricci, scalar and coordinate-plane sectional curvatures as exact field elements.

    ``params``: the coordinates (for naming); ``J``, ``H``, ``W`` as in the module docstring.
    Raises :class:`ModelError` if the metric is singular (identically, or at the point).
    """

    def __init__(
        self,
        J: Sequence[Sequence[sp.Expr]],
        H: Sequence[Sequence[Sequence[sp.Expr]]],
        W: Sequence[Sequence[sp.Expr]] | None,
        name: str = "mean map",
    ):
        n, D = len(J), len(J[0])
        entries = [e for column in J for e in column] + [e for row in H for entry in row for e in entry]
        self.field = ExactField(entries)
        F = self.field
        self.n = n
        self._J = [[F.to_field(e) for e in column] for column in J]
        self._H = [[[F.to_field(e) for e in entry] for entry in row] for row in H]
        self._W = None if W is None else [[F.constant(w) for w in row] for row in W]
        self._D = D
        g = [[self._inner(self._J[a], self._J[b]) for b in range(n)] for a in range(n)]
        inverse = _inverse(g, F.zero)
        if inverse is None:
            raise ModelError(f"{name}: the metric is singular; the map is not an immersion there")
        self.g, self.g_inverse = g, inverse
        gamma = {(a, b): [self._inner(self._J[e], self._H[a][b]) for e in range(n)] for a in range(n) for b in range(a, n)}
        self._gamma_low = gamma
        self._gamma_up = {
            key: [sum((inverse[e][f] * low[f] for f in range(n)), F.zero) for e in range(n)]
            for key, low in gamma.items()
        }
        self._B: dict[tuple[tuple[int, int], tuple[int, int]], RationalFunction] = {}

    def _inner(self, x: Sequence[RationalFunction], y: Sequence[RationalFunction]) -> RationalFunction:
        total = self.field.zero
        if self._W is None:
            for xi, yi in zip(x, y):
                total += xi * yi
            return total
        for i in range(self._D):
            for j in range(self._D):
                if not self._W[i][j].is_zero():
                    total += x[i] * self._W[i][j] * y[j]
        return total

    def _b(self, ab: tuple[int, int], cd: tuple[int, int]) -> RationalFunction:
        ab, cd = tuple(sorted(ab)), tuple(sorted(cd))
        key = (ab, cd) if ab <= cd else (cd, ab)
        if key not in self._B:
            (a, b), (c, d) = key
            value = self._inner(self._H[a][b], self._H[c][d])
            low, up = self._gamma_low[a, b], self._gamma_up[c, d]
            for e in range(self.n):
                value -= low[e] * up[e]
            self._B[key] = value
        return self._B[key]

    @cached_property
    def riemann(self) -> dict[tuple[int, int, int, int], RationalFunction]:
        """Independent components ``R_abcd`` (``a < b``, ``c < d``, ``(a, b) <= (c, d)``)."""
        pairs = list(combinations(range(self.n), 2))
        return {
            (a, b, c, d): self._b((a, c), (b, d)) - self._b((a, d), (b, c))
            for i, (a, b) in enumerate(pairs)
            for (c, d) in pairs[i:]
        }

    def riemann_component(self, a: int, b: int, c: int, d: int) -> RationalFunction:
        """``R_abcd`` for any indices (by the symmetries)."""
        sign, key = riemann_sign(a, b, c, d)
        if sign == 0:
            return self.field.zero
        return self.riemann[key] if sign > 0 else -self.riemann[key]

    @cached_property
    def ricci(self) -> list[list[RationalFunction]]:
        """``Ric_bd = g^{ac} R_abcd`` (symmetric)."""
        n, zero = self.n, self.field.zero
        ric = [[zero] * n for _ in range(n)]
        for b in range(n):
            for d in range(b, n):
                total = zero
                for a in range(n):
                    for c in range(n):
                        if not self.g_inverse[a][c].is_zero():
                            component = self.riemann_component(a, b, c, d)
                            if not component.is_zero():
                                total += self.g_inverse[a][c] * component
                ric[b][d] = ric[d][b] = total
        return ric

    @cached_property
    def scalar(self) -> RationalFunction:
        """``S = g^{bd} Ric_bd`` (``2K`` on a surface)."""
        total = self.field.zero
        for b in range(self.n):
            for d in range(self.n):
                total += self.g_inverse[b][d] * self.ricci[b][d]
        return total

    @cached_property
    def sectional(self) -> dict[tuple[int, int], RationalFunction]:
        """``K(e_a, e_b) = R_abab / (g_aa g_bb - g_ab^2)`` for ``a < b`` (the Gaussian curvature when n = 2)."""
        g = self.g
        return {
            (a, b): self.riemann[a, b, a, b] / (g[a][a] * g[b][b] - g[a][b] ** 2)
            for a, b in combinations(range(self.n), 2)
        }

    def expr(self, element: RationalFunction) -> sp.Expr:
        """Canonical sympy expression of a field element."""
        return self.field.to_expr(element)


Checker = Callable[[str, tuple[int, ...], sp.Expr], None]
CHECK_DIGITS = 50  # digits to which every canonical form must match the mpmath reference


class CanonicalCurvature:
    """Canonical sympy forms of an :class:`ExactCurvature`, converted on first use and each checked.

    ``check(quantity, index, expr)`` compares a form with the mpmath reference at 50 digits (supplied by
    :class:`~hmoe_theory.geometry.metric.PullbackMetric`) and raises if they disagree; ``time_limit_s``
    bounds each conversion (:func:`~hmoe_theory.timelimit.time_limit`). Quantities: ``metric``,
    ``riemann`` (independent components ``a < b``, ``c < d``, ``(a, b) <= (c, d)``), ``ricci``, ``scalar``,
    ``sectional`` (coordinate planes ``(a, b)``, ``a < b``) and ``gaussian`` (two coordinates).
    """

    def __init__(
        self,
        core: ExactCurvature,
        params: Sequence[sp.Symbol],
        check: Checker | None,
        time_limit_s: float,
        what: str,
        point: Mapping[sp.Symbol, sp.Expr] | None = None,
    ):
        self.core = core
        self.params = tuple(params)
        self.point = dict(point or {})  # the exact point; empty: symbolic in ``params``
        self._check = check
        self._time_limit_s = time_limit_s
        self._what = what
        self.checked: list[str] = []

    def _form(self, quantity: str, index: tuple[int, ...], element: RationalFunction) -> sp.Expr:
        from ..timelimit import time_limit

        with time_limit(self._time_limit_s, f"canonical form of the {quantity} of {self._what}"):
            value = self.core.expr(element)
            if self._check is not None:
                self._check(quantity, index, value)
                self.checked.append(quantity + ("" if not index else str(index)))
        return value

    @property
    def dimension(self) -> int:
        return self.core.n

    def __repr__(self) -> str:
        """The Gaussian curvature (two coordinates) or the scalar curvature, where, how checked, the sign."""
        label, quantity = ("K", "gaussian") if self.dimension == 2 else ("scalar S", "scalar")
        try:
            shown = f"{label} = {shorten(str(getattr(self, quantity)))}"
        except HmoeError as error:  # e.g. the time limit on the canonical form: a repr never raises
            shown = f"{label} not computed ({error})"
        if self.point:
            where = "at " + ", ".join(f"{k}={v}" for k, v in self.point.items())
        else:
            where = "as a function of " + ", ".join(map(str, self.params))
        checked = f"checked against the {CHECK_DIGITS}-digit mpmath reference" if self._check else "not checked"
        return f"CanonicalCurvature({shown} {where}; {checked}; {SIGN_CONVENTION})"

    @cached_property
    def metric(self) -> sp.Matrix:
        n = self.core.n
        entries = {(a, b): self._form("metric", (a, b), self.core.g[a][b]) for a in range(n) for b in range(a, n)}
        return sp.Matrix(n, n, lambda a, b: entries[min(a, b), max(a, b)])

    @cached_property
    def riemann(self) -> dict[tuple[int, int, int, int], sp.Expr]:
        return {key: self._form("riemann", key, value) for key, value in self.core.riemann.items()}

    @cached_property
    def ricci(self) -> sp.Matrix:
        n = self.core.n
        entries = {(a, b): self._form("ricci", (a, b), self.core.ricci[a][b]) for a in range(n) for b in range(a, n)}
        return sp.Matrix(n, n, lambda a, b: entries[min(a, b), max(a, b)])

    @cached_property
    def scalar(self) -> sp.Expr:
        return self._form("scalar", (), self.core.scalar)

    @cached_property
    def sectional(self) -> dict[tuple[int, int], sp.Expr]:
        return {key: self._form("sectional", key, value) for key, value in self.core.sectional.items()}

    @cached_property
    def gaussian(self) -> sp.Expr:
        if self.core.n != 2:
            raise ModelError(f"Gaussian curvature needs 2 parameters, got {self.core.n}")
        return self._form("sectional", (0, 1), self.core.sectional[0, 1])
