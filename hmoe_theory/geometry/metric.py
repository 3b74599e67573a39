"""Fisher-Rao metric of a Gaussian location model with fixed covariance, and its curvature.

Model: ``y ~ N(Y(theta), Sigma)`` with a mean map ``Y: R^n -> R^D`` (sympy expressions in the
parameters ``theta``) and a fixed SPD covariance ``Sigma`` (default ``I``). Its Fisher information is
the pullback metric ``g(theta) = J^T Sigma^-1 J`` (``J = dY/dtheta``), i.e. the metric induced on the
image of ``Y`` by the flat inner product ``<u, w> = u^T Sigma^-1 w``. Curvature then follows from the
Gauss equation (see :mod:`hmoe_theory.geometry.curvature` for formulas and the sign convention).

Three paths, all from the same exact derivative expressions:

* numeric (numpy): ``J`` and ``H`` compiled once with :func:`hmoe_theory.compile.compile_exprs` and
  evaluated on whole arrays of points, whitened with the Cholesky factor ``Sigma = L L^T``;
* exact (sympy): at a rational point, or fully symbolic, with ``Sigma^-1`` exact; under a time limit.
  :meth:`PullbackMetric.exact_curvature` gives canonical forms (reduced fractions over ``Q`` in
  ``exp``/``tan``-half-angle generators, :mod:`.exact_curvature`), each checked against the mpmath
  reference at 50 digits; ``exact_riemann`` and ``simplify=False`` keep the raw Gauss-equation form;
* reference (mpmath): the entrywise formulas at ``digits`` decimal digits.

Non-smooth maps (``relu``, ``abs``): derivatives are taken away from the kinks (``DiracDelta`` terms are 0
there); a point on a kink (an argument of ``Heaviside``/``sign``/``Abs``/``Max`` equal to 0) is refused.

Hypotheses checked: ``Sigma`` symmetric positive definite with the right size; ``Y`` an immersion at
the points used (full-rank Jacobian) -- otherwise :class:`~hmoe_theory.errors.ModelError`.

The class takes sympy objects and numbers only; user text is read once, at the boundary, by
:mod:`.text` (:meth:`PullbackMetric.from_text`, ``hmoe curvature``, the explorer).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from fractions import Fraction
from functools import cached_property
from itertools import combinations

import mpmath
import numpy as np
import sympy as sp
from sympy.matrices.utilities import dotprodsimp

from ..certify import ZeroDecision, decide_zero
from ..compile import compile_exprs, compile_mpmath
from ..errors import HmoeError, ModelError
from ..timelimit import time_limit
from .curvature import NumericCurvature, metric_scalar, ricci_scalar_entries, riemann_scalar, shorten
from .exact_curvature import CHECK_DIGITS, CanonicalCurvature, ExactCurvature

PointLike = Sequence[float] | np.ndarray | Mapping[str | sp.Symbol, object]


def as_exact_number(value: object) -> sp.Expr:
    """An exact sympy number: ints and ``Fraction`` exactly, floats as the rational with the same decimal
    digits (0.1 -> 1/10), sympy numbers as they are. Text is refused: parse it at the boundary
    (:func:`hmoe_theory.expr.parse_expression`)."""
    if isinstance(value, sp.Expr):
        return value
    if isinstance(value, str):
        raise ModelError(f"expected a number, got the text {value!r} (parse text with hmoe_theory.expr.parse_expression)")
    if isinstance(value, (bool, np.bool_)):
        raise ModelError(f"expected a number, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return sp.Integer(int(value))
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            raise ModelError(f"expected a finite number, got {value!r}")
        return sp.Rational(repr(float(value)))
    raise ModelError(f"expected a number, got {type(value).__name__}")


def covariance_matrix(sigma: object, size: int) -> sp.Matrix:
    """Validate a covariance: ``None`` (identity), a length-``size`` vector (diagonal) or ``size x size``.

    Raises :class:`ModelError` unless the matrix is symmetric positive definite (checked exactly).
    """
    if sigma is None:
        return sp.eye(size)
    if isinstance(sigma, sp.MatrixBase):
        rows = sigma.tolist()
    else:
        rows = np.asarray(sigma, dtype=object).tolist()
    if rows and not isinstance(rows[0], list):  # a vector of variances
        if len(rows) != size:
            raise ModelError(f"Sigma: expected {size} variances or a {size}x{size} matrix, got {len(rows)} entries")
        matrix = sp.diag(*[as_exact_number(v) for v in rows])
    else:
        if len(rows) != size or any(len(r) != size for r in rows):
            raise ModelError(f"Sigma: expected a {size}x{size} matrix")
        matrix = sp.Matrix([[as_exact_number(v) for v in r] for r in rows])
    if matrix.free_symbols:
        raise ModelError("Sigma: entries must be numbers (assign symbols first)")
    if matrix != matrix.T:
        raise ModelError("Sigma: the covariance matrix is not symmetric")
    leading = [matrix[:k, :k].det() for k in range(1, size + 1)]
    if not all(sp.N(m, 30) > 0 for m in leading):
        raise ModelError("Sigma: the covariance matrix is not positive definite")
    return matrix


SIGMA_CONDITION_LIMIT = 1e12  # cond(Sigma) above this: double precision cannot whiten reliably


def covariance_condition(sigma: sp.Matrix) -> mpmath.mpf:
    """Condition number ``lambda_max / lambda_min`` of an SPD covariance (eigenvalues at 30 digits; an mpf,
    since it may exceed the double range)."""
    with mpmath.workdps(30):
        eigenvalues = mpmath.eigsy(mpmath.matrix(sigma.evalf(40).tolist()))[0]
        values = [abs(eigenvalues[i]) for i in range(sigma.rows)]
        return max(values) / min(values)


def _as_expression(value: object) -> sp.Expr:
    """A sympy expression (a number is made exact); text is refused, see :meth:`PullbackMetric.from_text`."""
    if isinstance(value, str):
        raise ModelError(f"mean map: got the text {value!r}; PullbackMetric takes sympy expressions (PullbackMetric.from_text reads text)")
    if isinstance(value, sp.Basic):
        return value
    return as_exact_number(value)


def _symbols(params: Sequence[sp.Symbol]) -> tuple[sp.Symbol, ...]:
    if isinstance(params, str) or any(not isinstance(p, sp.Symbol) for p in params):
        raise ModelError(f"parameters: expected sympy symbols, got {params!r} (PullbackMetric.from_text reads text)")
    symbols = tuple(params)
    if len(set(symbols)) != len(symbols):
        raise ModelError("parameters must be distinct")
    if not symbols:
        raise ModelError("at least one parameter is needed")
    return symbols


class PullbackMetric:
    """Fisher-Rao metric ``g = J^T Sigma^-1 J`` of ``N(Y(theta), Sigma)`` and its curvature.

    Parameters
    ----------
    mean_map : ``Y_1..Y_D`` as sympy expressions (numbers are made exact); free symbols other than
        ``params`` are constants: allowed on the exact symbolic path, to be assigned with :meth:`subs`
        before numerics. Text goes through :meth:`from_text`.
    params : the coordinates ``theta_1..theta_n`` as sympy symbols, ``n <= D``.
    sigma : fixed covariance (``None`` = identity; variances; or a ``D x D`` SPD matrix), numbers or sympy.
    name : used in error messages.

    Numeric methods take a point ``(n,)`` or a batch ``(..., n)`` (a mapping name -> value is
    accepted for one point) and return arrays with the batch shape.

    >>> u, v = sp.symbols("u v", real=True)
    >>> PullbackMetric([u, v, u * v], [u, v]).exact_curvature({"u": 0, "v": 0}).gaussian
    -1
    """

    def __init__(
        self,
        mean_map: Sequence[sp.Expr],
        params: Sequence[sp.Symbol],
        sigma: object = None,
        name: str = "mean map",
    ):
        self.name = name
        self.params = _symbols(params)
        if isinstance(mean_map, str):
            raise ModelError(f"{name}: got the text {mean_map!r}; PullbackMetric.from_text reads text")
        self.mean_map = tuple(_as_expression(e) for e in mean_map)
        if not self.mean_map:
            raise ModelError(f"{name}: the mean map has no components")
        if len(self.params) > len(self.mean_map):
            raise ModelError(
                f"{name}: {len(self.params)} parameters but {len(self.mean_map)} outputs; "
                "the map cannot be an immersion"
            )
        self.sigma = covariance_matrix(sigma, len(self.mean_map))
        self.constants = tuple(
            sorted(set().union(*(e.free_symbols for e in self.mean_map)) - set(self.params), key=str)
        )

    @classmethod
    def from_text(cls, mean_map: str, params: str, sigma: str | object = None, name: str = "mean map") -> "PullbackMetric":
        """The metric of a map typed as text, read once by the safe parser (never evaluated) as ``hmoe
        curvature`` reads ``--map``, ``--coords`` and ``--sigma``: ``PullbackMetric.from_text("[u, v, u*v]",
        "u, v")``. Other names in the map become real constants; ``sigma`` as text: ``D`` variances or the
        ``D*D`` entries row-major (:func:`.text.parse_covariance`)."""
        from .text import parse_coordinates, parse_covariance, parse_mean_map

        symbols = parse_coordinates(params)
        exprs = parse_mean_map(mean_map, symbols)
        if isinstance(sigma, str):
            sigma = parse_covariance(sigma, len(exprs))
        return cls(exprs, symbols, sigma, name)

    def __repr__(self) -> str:
        shown = shorten(f"[{', '.join(map(str, self.mean_map))}]")
        sigma = "I" if self.sigma == sp.eye(self.ambient_dimension) else shorten(str(self.sigma.tolist()))
        constants = f"; constants {', '.join(c.name for c in self.constants)}" if self.constants else ""
        return f"PullbackMetric(Y = {shown} in ({self._names()}), Sigma = {sigma}{constants}; g = J^T Sigma^-1 J)"

    @property
    def dimension(self) -> int:
        """Number of parameters ``n``."""
        return len(self.params)

    @property
    def ambient_dimension(self) -> int:
        """Number of outputs ``D``."""
        return len(self.mean_map)

    def subs(self, values: Mapping[str | sp.Symbol, object]) -> "PullbackMetric":
        """The same model with some constants (e.g. a radius ``R``) assigned numbers."""
        by_name = {c.name: c for c in self.constants}
        mapping = {}
        for key, value in values.items():
            name = key.name if isinstance(key, sp.Symbol) else key
            if name not in by_name:
                known = ", ".join(by_name) or "none"
                raise ModelError(f"{self.name}: {name!r} is not a constant of the map (constants: {known})")
            mapping[by_name[name]] = as_exact_number(value)
        return PullbackMetric([e.subs(mapping) for e in self.mean_map], self.params, self.sigma, self.name)

    # ------------------------------------------------------------ exact derivative expressions

    @cached_property
    def jacobian_exprs(self) -> list[list[sp.Expr]]:
        """``J[a][i] = dY_i / dtheta_a`` (column ``a`` as a list of D expressions)."""
        return [[_smooth(sp.diff(y, p)) for y in self.mean_map] for p in self.params]

    @cached_property
    def hessian_exprs(self) -> list[list[list[sp.Expr]]]:
        """``H[a][b][i] = d^2 Y_i / dtheta_a dtheta_b`` (symmetric in ``a, b``)."""
        n = self.dimension
        H = [[None] * n for _ in range(n)]
        for a in range(n):
            for b in range(a, n):
                H[a][b] = H[b][a] = [_smooth(sp.diff(y, self.params[b])) for y in self.jacobian_exprs[a]]
        return H

    @cached_property
    def kink_arguments(self) -> tuple[sp.Expr, ...]:
        """Arguments whose zero set is a kink of the map (``relu``, ``abs``: ``Max``, ``Abs``, ``Heaviside``,
        ``sign``); curvature is defined only where none of them vanishes."""
        exprs = [*self.mean_map, *(e for column in self.jacobian_exprs for e in column)]
        found = set()
        for e in exprs:
            for atom in e.atoms(sp.Heaviside, sp.sign, sp.Abs, sp.DiracDelta):
                found.add(atom.args[0])
            for atom in e.atoms(sp.Max, sp.Min):
                found.update(x - y for x, y in combinations(atom.args, 2))
        found = {-a if a.could_extract_minus_sign() else a for a in found}
        return tuple(sorted(found, key=sp.default_sort_key))

    def _check_smooth_exact(self, subs: Mapping[sp.Symbol, sp.Expr]) -> None:
        for argument in self.kink_arguments:
            if argument.subs(subs) == 0:
                raise ModelError(
                    f"{self.name}: not differentiable at {self._format(subs)} ({argument} = 0 is a kink of relu/abs); "
                    "curvature needs a point off the kinks"
                )

    @cached_property
    def _kink_kernel(self):
        return compile_exprs(list(self.kink_arguments), self.params)

    def _check_smooth_numeric(self, points: np.ndarray) -> None:
        if not self.kink_arguments:
            return
        values = self._kink_kernel(*np.moveaxis(points, -1, 0))
        for argument, value in zip(self.kink_arguments, values):
            on_kink = np.broadcast_to(np.asarray(value) == 0, points.shape[:-1])
            if np.any(on_kink):
                index = np.argwhere(np.atleast_1d(on_kink))[0] if on_kink.shape else None
                where = _describe_numeric(points, index)
                raise ModelError(
                    f"{self.name}: not differentiable at {where} ({argument} = 0 is a kink of relu/abs); "
                    "curvature needs a point off the kinks"
                )

    @cached_property
    def _sigma_inverse(self) -> sp.Matrix:
        return self.sigma.inv()

    def _inner_product(self) -> list[list[sp.Expr]] | None:
        return None if self.sigma == sp.eye(self.ambient_dimension) else self._sigma_inverse.tolist()

    # ------------------------------------------------------------ numeric path

    def _require_numeric(self) -> None:
        if self.constants:
            names = ", ".join(c.name for c in self.constants)
            raise ModelError(f"{self.name}: assign the constant(s) {names} first (PullbackMetric.subs or --set)")

    @cached_property
    def _kernel(self):
        self._require_numeric()
        n = self.dimension
        exprs = [e for column in self.jacobian_exprs for e in column]
        exprs += [e for a in range(n) for b in range(a, n) for e in self.hessian_exprs[a][b]]
        return compile_exprs(exprs, self.params)

    @cached_property
    def _whitening(self) -> np.ndarray:
        try:
            matrix = np.array(self.sigma.evalf(20).tolist(), dtype=float)
            if not np.all(np.isfinite(matrix)):
                raise OverflowError
            L = np.linalg.cholesky(matrix)
        except (OverflowError, np.linalg.LinAlgError):
            raise ModelError(
                f"Sigma: positive definite but not representable in double precision (condition number "
                f"{mpmath.nstr(covariance_condition(self.sigma), 2)}); rescale the outputs, or use the exact or --digits path"
            ) from None
        return np.linalg.inv(L)

    def _points(self, point: PointLike) -> np.ndarray:
        if isinstance(point, Mapping):
            by_name = {(k.name if isinstance(k, sp.Symbol) else k): v for k, v in point.items()}
            missing = [p.name for p in self.params if p.name not in by_name]
            if missing:
                raise ModelError(f"{self.name}: no value for parameter(s) {', '.join(missing)}")
            point = [sp.N(as_exact_number(by_name[p.name])) for p in self.params]
        try:
            points = np.asarray(point, dtype=float)
        except (OverflowError, TypeError, ValueError):
            raise ModelError(f"{self.name}: the point must be real numbers within double precision (|x| < 1.8e308)") from None
        if points.ndim == 0 or points.shape[-1] != self.dimension:
            raise ModelError(f"{self.name}: a point needs {self.dimension} coordinates ({self._names()})")
        if not np.all(np.isfinite(points)):
            raise ModelError(f"{self.name}: coordinates must be finite numbers within double precision (|x| < 1.8e308)")
        return points

    def _names(self) -> str:
        return ", ".join(p.name for p in self.params)

    def derivatives(self, point: PointLike) -> tuple[np.ndarray, np.ndarray]:
        """Whitened ``J`` (``(..., D, n)``) and ``H`` (``(..., D, n, n)``) at the point(s)."""
        points = self._points(point)
        self._check_smooth_numeric(points)
        n, D = self.dimension, self.ambient_dimension
        try:
            values = self._kernel(*np.moveaxis(points, -1, 0))
        except OverflowError:
            raise ModelError(
                f"{self.name}: a number in the map or its derivatives exceeds double precision (about 1.8e308); "
                "rescale the map, or use the exact (--exact) or mpmath (--digits) path"
            ) from None
        batch = points.shape[:-1]
        J = np.moveaxis(values[: n * D].reshape(n, D, *batch), (0, 1), (-1, -2))
        H = np.empty((*batch, D, n, n))
        offset = n * D
        for a in range(n):
            for b in range(a, n):
                block = np.moveaxis(values[offset : offset + D], 0, -1)
                H[..., a, b] = H[..., b, a] = block
                offset += D
        Linv = self._whitening
        return np.einsum("ij,...ja->...ia", Linv, J), np.einsum("ij,...jab->...iab", Linv, H)

    def curvature(self, point: PointLike) -> NumericCurvature:
        """All numeric curvature quantities at the point(s); checks the immersion hypothesis."""
        J, H = self.derivatives(point)
        try:
            return NumericCurvature.from_derivatives(J, H, self.name, self._points(point))
        except ModelError as error:
            condition = covariance_condition(self.sigma)
            if "rank-deficient" in str(error) and condition > SIGMA_CONDITION_LIMIT:
                raise ModelError(
                    f"Sigma: badly scaled (condition number {mpmath.nstr(condition, 2)} > {SIGMA_CONDITION_LIMIT:g}); the whitened "
                    "Jacobian loses all double-precision digits -- rescale the outputs so the variances are comparable, "
                    "or use the exact (--exact) or mpmath (--digits) path"
                ) from None
            raise

    def metric(self, point: PointLike) -> np.ndarray:
        """Fisher information ``g_ab`` at the point(s)."""
        return self.curvature(point).metric

    def riemann(self, point: PointLike) -> np.ndarray:
        """``R_abcd`` at the point(s)."""
        return self.curvature(point).riemann

    def ricci(self, point: PointLike) -> np.ndarray:
        """``Ric_bd = g^{ac} R_abcd`` at the point(s)."""
        return self.curvature(point).ricci

    def scalar_curvature(self, point: PointLike) -> np.ndarray:
        """Scalar curvature at the point(s) (``2K`` on a surface)."""
        return self.curvature(point).scalar

    def sectional_curvature(self, point: PointLike, X: Sequence[float], Y: Sequence[float]) -> np.ndarray:
        """Sectional curvature of the 2-plane span(X, Y) at the point(s)."""
        return self.curvature(point).sectional(X, Y)

    def gaussian_curvature(self, point: PointLike) -> np.ndarray:
        """Gaussian curvature at the point(s) (two parameters only)."""
        return self.curvature(point).gaussian

    def gaussian_curvature_field(self, U: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Gaussian curvature on a grid: ``U``, ``V`` broadcast together (e.g. from ``np.meshgrid``)."""
        U, V = np.broadcast_arrays(np.asarray(U, dtype=float), np.asarray(V, dtype=float))
        return self.gaussian_curvature(np.stack([U, V], axis=-1))

    # ------------------------------------------------------------ exact path (sympy)

    def _exact_point(self, point: PointLike) -> dict[sp.Symbol, sp.Expr]:
        if isinstance(point, Mapping):
            by_name = {(k.name if isinstance(k, sp.Symbol) else k): v for k, v in point.items()}
            missing = [p.name for p in self.params if p.name not in by_name]
            if missing:
                raise ModelError(f"{self.name}: no value for parameter(s) {', '.join(missing)}")
            return {p: as_exact_number(by_name[p.name]) for p in self.params}
        values = list(np.ravel(np.asarray(point, dtype=object)))
        if len(values) != self.dimension:
            raise ModelError(f"{self.name}: a point needs {self.dimension} coordinates ({self._names()})")
        return {p: as_exact_number(v) for p, v in zip(self.params, values)}

    def exact_riemann(
        self, point: PointLike | None = None, time_limit_s: float = 10.0
    ) -> tuple[sp.Matrix, dict[tuple[int, int, int, int], sp.Expr]]:
        """Exact metric and ``R_abcd`` (unsimplified): at a point, or symbolic in ``theta`` if ``point`` is None.

        Raises :class:`ModelError` if the metric is singular (exactly) at the point, and
        :class:`~hmoe_theory.errors.TimeLimitExceeded` if sympy runs past ``time_limit_s``.
        """
        with time_limit(time_limit_s, f"exact curvature of {self.name}"):
            subs = {} if point is None else self._exact_point(point)
            if subs:
                self._check_smooth_exact(subs)
            J = [[e.subs(subs) for e in column] for column in self.jacobian_exprs]
            H = [[[e.subs(subs) for e in entry] for entry in row] for row in self.hessian_exprs]
            g_matrix = sp.Matrix(metric_scalar(J, self._inner_product()))
            with dotprodsimp(False):  # no intermediate simplification: keep the raw exact expressions
                det = g_matrix.det(method="berkowitz")
                adjugate = g_matrix.adjugate(method="berkowitz")
            if _is_zero(det, symbolic=point is None):
                where = "identically" if point is None else f"at {self._format(subs)}"
                raise ModelError(f"{self.name}: the metric is singular {where}; the map is not an immersion")

            def inverse(_g):
                return (adjugate / det).tolist()

            g, R = riemann_scalar(J, H, inverse, self._inner_product())
        return sp.Matrix(g), R

    def exact_curvature(
        self, point: PointLike | None = None, time_limit_s: float = 10.0, verify: bool = True
    ) -> CanonicalCurvature:
        """Canonical exact curvature (metric, Riemann, Ricci, scalar, sectional curvatures of the coordinate
        planes): at a point (rational coordinates give exact numbers such as ``-22500/58081``) or symbolic in
        ``theta`` if ``point`` is None (the 3-sphere of radius ``R`` gives ``6/R**2``).

        Computed in a field of reduced fractions (:mod:`.exact_curvature`): no identity is lost to an
        unfinished ``simplify``. With ``verify`` every form, when first read, is compared with the mpmath
        reference at 50 digits (at the point, or at two random rational points if symbols remain).
        Raises :class:`ModelError` if the metric is singular and
        :class:`~hmoe_theory.errors.TimeLimitExceeded` past ``time_limit_s`` (the set-up, then each form read).
        """
        with time_limit(time_limit_s, f"exact curvature of {self.name}"):
            subs = {} if point is None else self._exact_point(point)
            if subs:
                self._check_smooth_exact(subs)
            J = [[e.xreplace(subs) if subs else e for e in column] for column in self.jacobian_exprs]
            H = [[[e.xreplace(subs) if subs else e for e in entry] for entry in row] for row in self.hessian_exprs]
            where = f" at {self._format(subs)}" if subs else ""
            core = ExactCurvature(J, H, self._inner_product(), f"{self.name}{where}")
        check = _ReferenceCheck(self, subs).check if verify else None
        return CanonicalCurvature(core, self.params, check, time_limit_s, self.name, subs)

    def exact_gaussian_curvature(
        self, point: PointLike | None = None, simplify: bool = True, time_limit_s: float = 10.0
    ) -> sp.Expr:
        """Exact Gaussian curvature ``R_1212 / det g`` (two parameters): at a point, or a function of the
        parameters. ``simplify=True``: the canonical, reference-checked form of :meth:`exact_curvature`;
        ``simplify=False``: the raw Gauss-equation expression (no simplification at all)."""
        if self.dimension != 2:
            raise ModelError(f"{self.name}: Gaussian curvature needs 2 parameters, got {self.dimension}")
        if simplify:
            with time_limit(time_limit_s, f"exact Gaussian curvature of {self.name}"):
                return self.exact_curvature(point, time_limit_s).gaussian
        g, R = self.exact_riemann(point, time_limit_s)
        return R[0, 1, 0, 1] / (g[0, 0] * g[1, 1] - g[0, 1] * g[1, 0])

    def exact_scalar_curvature(
        self, point: PointLike | None = None, simplify: bool = True, time_limit_s: float = 10.0
    ) -> sp.Expr:
        """Exact scalar curvature ``g^{bd} g^{ac} R_abcd``; ``simplify`` as in :meth:`exact_gaussian_curvature`."""
        if simplify:
            with time_limit(time_limit_s, f"exact scalar curvature of {self.name}"):
                return self.exact_curvature(point, time_limit_s).scalar
        g, R = self.exact_riemann(point, time_limit_s)
        with time_limit(time_limit_s, f"exact scalar curvature of {self.name}"):
            with dotprodsimp(False):
                inverse = g.adjugate(method="berkowitz") / g.det(method="berkowitz")
            _, scalar = ricci_scalar_entries(inverse.tolist(), R)
        return scalar

    def second_fundamental_form_minors(self) -> list[sp.Expr]:
        """Expressions that all vanish identically iff ``II = 0`` (the image is totally geodesic).

        ``II_ab = 0`` iff ``H_ab`` lies in the span of ``J_1..J_n``, i.e. iff every ``(n+1) x (n+1)`` minor
        of ``[J | H_ab]`` vanishes. The span does not depend on ``Sigma``, and ``II = 0`` gives ``R = 0``
        by the Gauss equation, for every fixed SPD ``Sigma``.
        """
        n, D = self.dimension, self.ambient_dimension
        minors = []
        for a in range(n):
            for b in range(a, n):
                columns = sp.Matrix([*self.jacobian_exprs, self.hessian_exprs[a][b]]).T  # D x (n+1)
                for rows in combinations(range(D), n + 1):
                    with dotprodsimp(False):
                        minors.append(columns.extract(list(rows), list(range(n + 1))).det(method="berkowitz"))
        return minors

    @staticmethod
    def _format(subs: Mapping[sp.Symbol, sp.Expr]) -> str:
        return ", ".join(f"{k}={v}" for k, v in subs.items())

    # ------------------------------------------------------------ reference path (mpmath)

    @cached_property
    def _mpmath_kernel(self):
        self._require_numeric()
        n = self.dimension
        exprs = [e for column in self.jacobian_exprs for e in column]
        exprs += [e for a in range(n) for b in range(n) for e in self.hessian_exprs[a][b]]
        return compile_mpmath(exprs, self.params)

    def reference_riemann(self, point: PointLike, digits: int = 50) -> tuple[mpmath.matrix, dict]:
        """Metric and ``R_abcd`` as mpmath numbers at ``digits`` digits (the accuracy reference)."""
        subs = self._exact_point(point)
        n, D = self.dimension, self.ambient_dimension
        with mpmath.workdps(digits + 10):
            args = [mpmath.mpf(sp.N(subs[p], digits + 20)) for p in self.params]
            flat = self._mpmath_kernel(*args)
            J = [flat[a * D : (a + 1) * D] for a in range(n)]
            offset = n * D
            H = [[None] * n for _ in range(n)]
            for a in range(n):
                for b in range(n):
                    H[a][b] = flat[offset : offset + D]
                    offset += D
            W = self._inner_product()
            W = None if W is None else [[mpmath.mpf(sp.N(w, digits + 20)) for w in row] for row in W]
            g_entries = metric_scalar(J, W)
            if abs(mpmath.det(mpmath.matrix(g_entries))) < mpmath.mpf(10) ** (-digits):
                raise ModelError(f"{self.name}: the metric is singular at {self._format(subs)}")

            def inverse(g):
                return mpmath.inverse(mpmath.matrix(g)).tolist()

            g, R = riemann_scalar(J, H, inverse, W)
        return mpmath.matrix(g), R

    def reference_curvature(self, point: PointLike, digits: int = 50) -> dict[str, object]:
        """All curvature quantities at ``digits`` digits (mpmath): ``metric`` (matrix), ``riemann`` (dict over
        all index quadruples), ``ricci`` (matrix), ``scalar``, ``sectional`` (coordinate planes ``(a, b)``)."""
        g, R = self.reference_riemann(point, digits)
        n = self.dimension
        with mpmath.workdps(digits + 10):
            ginv = mpmath.inverse(g)
            ricci = mpmath.matrix(n, n)
            for b in range(n):
                for d in range(n):
                    ricci[b, d] = mpmath.fsum(ginv[a, c] * R[a, b, c, d] for a in range(n) for c in range(n))
            scalar = mpmath.fsum(ginv[b, d] * ricci[b, d] for b in range(n) for d in range(n))
            sectional = {
                (a, b): R[a, b, a, b] / (g[a, a] * g[b, b] - g[a, b] ** 2) for a, b in combinations(range(n), 2)
            }
        return {"metric": g, "riemann": R, "ricci": ricci, "scalar": scalar, "sectional": sectional}

    def reference_gaussian_curvature(self, point: PointLike, digits: int = 50) -> mpmath.mpf:
        """Gaussian curvature at ``digits`` digits (mpmath)."""
        if self.dimension != 2:
            raise ModelError(f"{self.name}: Gaussian curvature needs 2 parameters, got {self.dimension}")
        g, R = self.reference_riemann(point, digits)
        with mpmath.workdps(digits + 10):
            return R[0, 1, 0, 1] / mpmath.det(g)

    def reference_sectional_curvature(
        self, point: PointLike, X: Sequence[float], Y: Sequence[float], digits: int = 50
    ) -> mpmath.mpf:
        """Sectional curvature of span(X, Y) at ``digits`` digits (mpmath)."""
        g, R = self.reference_riemann(point, digits)
        n = self.dimension
        with mpmath.workdps(digits + 10):
            X = [mpmath.mpf(sp.N(as_exact_number(x), digits + 20)) for x in X]
            Y = [mpmath.mpf(sp.N(as_exact_number(y), digits + 20)) for y in Y]
            idx = range(n)
            num = mpmath.fsum(R[a, b, c, d] * X[a] * Y[b] * X[c] * Y[d] for a in idx for b in idx for c in idx for d in idx)
            gxx = mpmath.fsum(g[a, b] * X[a] * X[b] for a in idx for b in idx)
            gyy = mpmath.fsum(g[a, b] * Y[a] * Y[b] for a in idx for b in idx)
            gxy = mpmath.fsum(g[a, b] * X[a] * Y[b] for a in idx for b in idx)
            return num / (gxx * gyy - gxy**2)


class _ReferenceCheck:
    """Compares canonical exact forms with the mpmath reference at :data:`CHECK_DIGITS` digits.

    At a point with nothing symbolic left: at that point. Otherwise at :data:`CHECK_POINTS` random rational
    points (fixed seed) for the remaining coordinates and constants (positive symbols get positive values),
    skipping points where the map is singular or on a kink.
    """

    def __init__(self, metric: PullbackMetric, fixed: Mapping[sp.Symbol, sp.Expr]):
        self.metric = metric
        self.fixed = dict(fixed)
        self._points: list[tuple[dict[sp.Symbol, sp.Expr], dict[str, object]]] | None = None

    def _references(self) -> list[tuple[dict[sp.Symbol, sp.Expr], dict[str, object]]]:
        if self._points is not None:
            return self._points
        metric, free = self.metric, [p for p in self.metric.params if p not in self.fixed] + list(self.metric.constants)
        rng = random.Random(0)
        points = []
        for _ in range(40 if free else 1):
            values = dict(self.fixed)
            for symbol in free:
                low = 10 if symbol.is_positive else -90
                values[symbol] = sp.Rational(rng.choice([k for k in range(low, 91) if k]), 37)
            reference = self._reference_at(values)
            if reference is None:
                continue
            points.append((values, reference))
            if len(points) == CHECK_POINTS:
                break
        if not points:
            raise ModelError(f"{metric.name}: no point found where the 50-digit reference is defined; cannot check")
        self._points = points
        return points

    def _reference_at(self, values: Mapping[sp.Symbol, sp.Expr]) -> dict[str, object] | None:
        """The reference at ``values``, or None where the map is singular or on a kink. A metric that looks
        singular at CHECK_DIGITS is retried at 5x and 25x the digits: huge coefficients (``10^400 u v``)
        cancel hundreds of digits in ``det g`` although it is far from 0."""
        metric = self.metric
        for digits in (CHECK_DIGITS, 5 * CHECK_DIGITS, 25 * CHECK_DIGITS):
            try:
                concrete = metric.subs({c.name: values[c] for c in metric.constants}) if metric.constants else metric
                concrete._check_smooth_exact({p: values[p] for p in metric.params})
                return concrete.reference_curvature({p.name: values[p] for p in metric.params}, digits)
            except ModelError as error:
                if "singular" not in str(error):
                    return None
            except (ZeroDivisionError, ValueError, TypeError):
                return None
        return None

    def check(self, quantity: str, index: tuple[int, ...], value: sp.Expr) -> None:
        """Raise :class:`HmoeError` (one line) unless ``value`` matches the reference to CHECK_DIGITS digits."""
        for values, reference in self._references():
            expected = reference[quantity]
            if quantity == "riemann":
                expected = expected[index]
            elif quantity in ("metric", "ricci"):
                expected = expected[index[0], index[1]]
            elif quantity == "sectional":
                expected = expected[index]
            with mpmath.workdps(CHECK_DIGITS + CHECK_GUARD_DIGITS):
                number = _mp_value(value, values, {})
                ok = isinstance(number, mpmath.mpf) and mpmath.isfinite(number) and abs(number - expected) <= (
                    mpmath.mpf(10) ** -CHECK_DIGITS * max(1, abs(expected))
                )
            if not ok:
                shown = ", ".join(f"{k}={v}" for k, v in values.items())
                raise HmoeError(
                    f"{self.metric.name}: the canonical {quantity} {index} disagrees with the {CHECK_DIGITS}-digit reference "
                    f"at {shown} ({mpmath.nstr(number, 15)} vs {mpmath.nstr(expected, 15)}); please report it; "
                    "simplify=False gives the raw form"
                )


CHECK_POINTS = 2
CHECK_GUARD_DIGITS = 40  # working precision above CHECK_DIGITS: room for cancellation in long canonical sums
_MPMATH_FUNCTIONS = {sp.exp: mpmath.exp, sp.sin: mpmath.sin, sp.cos: mpmath.cos, sp.tan: mpmath.tan, sp.log: mpmath.log,
                     sp.tanh: mpmath.tanh, sp.sinh: mpmath.sinh, sp.cosh: mpmath.cosh, sp.erf: mpmath.erf}


def _mp_value(expr: sp.Expr, values: Mapping[sp.Symbol, sp.Expr], memo: dict) -> object:
    """Value of ``expr`` with ``values`` (exact numbers) substituted, at the current mpmath precision, walking
    the tree once (no sympy re-evaluation, which dominates for canonical forms of 10^4 terms); other atoms
    fall back to ``sympy.N``."""
    if expr in memo:
        return memo[expr]
    if expr.is_Rational:
        result = mpmath.mpf(int(expr.p)) / int(expr.q)
    elif expr.is_Symbol:
        result = _mp_value(values[expr], {}, memo)
    elif expr.is_Add:
        result = mpmath.fsum(_mp_value(a, values, memo) for a in expr.args)
    elif expr.is_Mul:
        result = mpmath.fprod(_mp_value(a, values, memo) for a in expr.args)
    elif expr.is_Pow:
        exponent = expr.exp
        power = int(exponent) if exponent.is_Integer else _mp_value(exponent, values, memo)
        result = _mp_value(expr.base, values, memo) ** power
    elif type(expr) in _MPMATH_FUNCTIONS:
        result = _MPMATH_FUNCTIONS[type(expr)](_mp_value(expr.args[0], values, memo))
    else:
        number = sp.N(expr.xreplace(values) if values else expr, mpmath.mp.dps)
        result = mpmath.mpf(sp.Float(number, mpmath.mp.dps)._mpf_) if number.is_real else mpmath.nan
    memo[expr] = result
    return result


def _is_zero(value: sp.Expr, symbolic: bool) -> bool:
    """Is a metric determinant zero? Symbolic: exactly (``cancel``). At a point: ``|det| < 1e-30`` at 40 digits."""
    if symbolic:
        return sp.cancel(sp.together(value)) == 0
    return abs(sp.N(value, 40)) < sp.Float(10) ** -30


def decide_zero_exponential(
    value: sp.Expr, params: Sequence[sp.Symbol], time_limit_s: float = 10.0, samples: int = 8, digits: int = 40
) -> ZeroDecision:
    """Is ``value`` identically zero? A numeric probe first (a counterexample refutes), then an exact
    proof: with ``exp(p)`` replaced by positive symbols (a bijection onto ``(0, inf)``) the expression
    must ``cancel`` to 0 as a rational function. ``SUPPORTED`` (numerical evidence) when the proof does not
    finish in time."""
    return decide_zero(
        value,
        list(params),
        time_limit_s=time_limit_s,
        samples=samples,
        digits=digits,
        strategies=("cancel after exp(p) -> positive symbol",),
    )


def _smooth(expr: sp.Expr) -> sp.Expr:
    """``expr`` with ``DiracDelta`` terms (derivatives of ``relu``/``abs`` at their kinks) set to 0: valid at
    every point off the kinks, the only points where curvature is defined."""
    return expr.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero) if expr.has(sp.DiracDelta) else expr


def _describe_numeric(points: np.ndarray, index) -> str:
    p = points if index is None or points.ndim == 1 else points[tuple(index)]
    return "theta = (" + ", ".join(f"{x:.6g}" for x in np.ravel(p)) + ")"

