"""Interactive explorer: type a family, see its parameter relations and identifiability; type a mean
map, see its curvature field.

Plain functions first (usable anywhere, returned objects print as text tables):

* :func:`explore_family` -- linear relations among the partial derivatives of ``F(z; theta)`` and
  identifiability. ``F`` is a catalogue gate x expert (:func:`~hmoe_theory.families.gate_expert`) or a
  formula typed by the user. With ``D_0 = F`` and ``D_k = d^|k| F / d theta^k`` (``1 <= |k| <= order``),
  a *relation* is ``sum_k c_k D_k(z; theta) = 0`` for all inputs ``z``. Relations at a generic rational
  point are found and certified by :func:`hmoe_theory.interactions.discover_relations`; the explorer
  runs it at two independent generic points ``theta_0, theta_1`` and splits them into

  - *PDEs* (constant coefficients): ``span N(theta_0) ∩ span N(theta_1)`` (exact rational linear
    algebra), each certified with every parameter symbolic (:func:`~hmoe_theory.certify.decide_zero`).
    A one-term PDE is *trivial* (a derivative that vanishes identically, e.g. ``d2F/da^2 = 0`` for a
    linear expert); the others are *interactions*, e.g. ``dF/da - d2F/dbeta dalpha = 0`` for
    ``exp(beta x) (a x + alpha)``;
  - *theta-dependent* relations: the canonical basis of ``N(theta_0)`` modulo the PDEs, e.g. the
    homogeneity ``F = a dF/da + alpha dF/dalpha``, with their coefficients reconstructed as expressions
    in theta and proved with theta symbolic (:mod:`hmoe_theory.explorer_parts.coefficients`).

  Hypothesis: ``theta_0, theta_1`` are generic (a relation holding only on a measure-zero parameter set
  is missed; a theta-dependent relation whose coefficients coincide at both points would be taken for
  a PDE -- and then fail the symbolic certification, which reports ``refuted``).

  Identifiability: the Fisher information ``E[grad F grad F^T]`` of one component at ``theta_0`` is
  non-singular iff the first-order derivatives are linearly independent functions of ``z`` (rank ``n``:
  *locally identifiable*); *strong identifiability* (order ``r``, two components) is decided by
  :func:`hmoe_theory.interactions.identifiability.check_family` with the ``strong`` preset: ``F`` and
  its derivatives up to order ``r`` at two distinct generic points are linearly independent.

* :func:`explore_curvature` -- the Fisher-Rao (pullback) metric ``g = J^T Sigma^-1 J`` of
  ``N(Y(theta), Sigma)`` for a typed mean map ``Y`` and its curvature on a grid over two coordinates
  (Gaussian curvature ``K`` for two coordinates, scalar curvature otherwise), computed by
  :class:`hmoe_theory.geometry.metric.PullbackMetric` (Gauss equation); :meth:`CurvatureField.figure`
  draws the heat map.

* :func:`explorer_widget` -- the app for Jupyter and Voila (:mod:`hmoe_theory.explorer_parts.widget`):
  sliders, a live plotly heat map, copy as code, exports and a gallery of the papers' examples (raises a
  one-line :class:`~hmoe_theory.errors.HmoeError` when ipywidgets or plotly is not installed).

User text goes only through the safe parsers of :mod:`hmoe_theory.expr`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .errors import ExpressionError, ModelError
from .expr import parse_assignments, parse_expression, parse_name, parse_names, parse_vector
from .families import ParametricFunction, gate_expert
from .interactions import Column, Discovery, Relation, Term, discover_relations, function_from_text
from .interactions.derivatives import check_order, derivative_table
from .interactions.discovery import certify_relation, common_exponential_factor
from .explorer_parts.coefficients import ParametricRelation, exact_row, parametric_relations, quotient_basis
from .interactions.identifiability import IdentifiabilityResult, check_family, preset
from .symbols import positive_symbol

MAX_DERIVATIVES = 90  # F and its derivatives; keeps one exploration within seconds


# ---------------------------------------------------------------------------- families


@dataclass(frozen=True)
class FamilyReport:
    """Result of :func:`explore_family` (``print`` it for a readable summary).

    ``discovery``: every relation at ``theta_0`` (:func:`hmoe_theory.interactions.discover_relations`);
    ``pdes``: the relations with constant coefficients (they also hold at ``theta_1`` and are certified
    with all parameters symbolic) -- the one-term ones are *trivial* (a derivative that vanishes
    identically, :attr:`vanishing`), the others are *interactions* (:attr:`interactions`);
    ``pointwise``: the canonical basis of the remaining relations at ``theta_0`` (modulo the PDEs), whose
    coefficients depend on theta (values at ``theta_0``); ``parametric``: the same relations with their
    coefficients as expressions in theta (:mod:`hmoe_theory.explorer_parts.coefficients`; ``None`` where
    they could not be reconstructed); ``first_order_rank``: rank of the first-order derivatives at
    ``theta_0`` (the rank of the Fisher information of one component).
    """

    function: ParametricFunction
    discovery: Discovery
    pdes: tuple[Relation, ...]
    pointwise: tuple[Relation, ...]
    parametric: tuple[ParametricRelation | None, ...]
    first_order_rank: int
    strong: IdentifiabilityResult

    @property
    def point(self) -> dict[str, str]:
        """``theta_0`` as ``{name: "p/q"}``."""
        return self.discovery.point

    @property
    def vanishing(self) -> tuple[str, ...]:
        """Derivatives that are identically zero (trivial relations)."""
        return tuple(r.terms[0].column.label for r in self.pdes if len(r.terms) == 1)

    @property
    def interactions(self) -> tuple[Relation, ...]:
        """PDEs with two or more terms: genuine parameter interactions."""
        return tuple(r for r in self.pdes if len(r.terms) > 1)

    @property
    def locally_identifiable(self) -> bool:
        """First-order derivatives independent at theta_0 (non-singular Fisher information)."""
        return self.first_order_rank == len(self.function.params)

    @property
    def strongly_identifiable(self) -> bool:
        """F and its derivatives up to the order, at two distinct generic points, are linearly independent."""
        return self.strong.identifiable

    def relation_rows(self) -> list[tuple[str, str, str]]:
        """``(kind, status, relation)`` rows: interactions, trivial (vanishing), theta-dependent."""
        rows = [("interaction (PDE)", r.status.value, r.text) for r in self.interactions]
        rows += [("trivial: vanishes", r.status.value, r.text) for r in self.pdes if len(r.terms) == 1]
        for numeric, symbolic in zip(self.pointwise, self.parametric):
            if symbolic is None:
                rows.append(("theta-dependent (values at theta_0)", numeric.status.value, numeric.text))
            else:
                rows.append(("theta-dependent", symbolic.status.value, symbolic.text))
        return rows

    def __str__(self) -> str:
        f, found = self.function, self.discovery
        n = len(f.params)
        weights = f"   (mixing weights factored out: {', '.join(map(str, f.weight_params))})" if f.weight_params else ""
        rows = self.relation_rows()
        width = max((len(k) for k, _, _ in rows), default=0)
        return "\n".join(
            [
                f"family   {f.name}",
                f"F        = {f.expr}",
                f"params   {', '.join(map(str, f.params))}{weights}",
                f"theta_0  {', '.join(f'{k}={v}' for k, v in self.point.items())}",
                f"{found.size} derivatives of order <= {found.order}, rank {found.rank}, {found.nullity} relation(s) at theta_0:",
                f"  {len(self.interactions)} interaction(s) (PDEs, constant coefficients), {len(self.vanishing)} trivial "
                f"(identically zero derivatives), {len(self.pointwise)} with theta-dependent coefficients",
                *(f"  {kind:<{width}}  [{status}] {text}" for kind, status, text in rows),
                f"Fisher information rank at theta_0: {self.first_order_rank} of {n} -> "
                + ("locally identifiable" if self.locally_identifiable else "NOT locally identifiable"),
                f"strongly identifiable (order {found.order}, 2 components): "
                + ("yes" if self.strongly_identifiable else f"no, {self.strong.discovery.nullity} relation(s)"),
                *(f"warning: {w}" for w in found.warnings),
            ]
        )


def _user_function(
    function: str, inputs: str | Sequence[str], params: str | Sequence[str], positive: str | Sequence[str] | None
) -> ParametricFunction:
    """:func:`hmoe_theory.interactions.function_from_text`, with the ``positive`` parameters made positive."""
    f = function_from_text(function, inputs, params)
    if not positive:
        return f
    names = set(parse_names(positive) if isinstance(positive, str) else [parse_name(n) for n in positive])
    unknown = sorted(names - {p.name for p in f.params})
    if unknown:
        raise ModelError(f"positive name(s) {', '.join(unknown)} are not parameters")
    swap = {p: positive_symbol(p.name) for p in f.params if p.name in names}
    return ParametricFunction(f.name, f.expr.xreplace(swap), f.inputs, tuple(swap.get(p, p) for p in f.params))


def _exact_rows(relations: Sequence[Relation], columns: Sequence[Column]) -> list[list[sp.Rational]]:
    return [row for row in (exact_row(r, columns) for r in relations) if row is not None]


def _common_relations(first: list[list[sp.Rational]], second: list[list[sp.Rational]]) -> list[list[sp.Rational]]:
    """Reduced row echelon basis of span(first) ∩ span(second) (exact rational linear algebra)."""
    if not first or not second:
        return []
    A, B = sp.Matrix(first), sp.Matrix(second)
    kernel = sp.Matrix.hstack(A.T, -B.T).nullspace()
    if not kernel:
        return []
    vectors = sp.Matrix([list(sp.Matrix([v[: A.rows]]) * A) for v in kernel])
    reduced, pivots = vectors.rref()
    return [list(reduced.row(i)) for i in range(len(pivots))]


def _as_relation(row: Sequence[sp.Rational], columns: Sequence[Column], table: Sequence[sp.Expr], f: ParametricFunction) -> Relation:
    """A constant-coefficient relation, certified with every parameter symbolic (or, for a
    theta-dependent relation, with ``table`` the derivatives at ``theta_0``)."""
    used = [i for i, c in enumerate(row) if c != 0]
    coefficients = [Fraction(int(row[i].p), int(row[i].q)) for i in used]
    status, method = certify_relation(
        [table[i] for i in used], coefficients, [*f.inputs, *f.params], common_exponential_factor(f.expr), 3.0
    )
    return Relation(tuple(Term(columns[i], c) for i, c in zip(used, coefficients)), status, method)


def explore_family(
    gate: str | None = None,
    expert: str | None = None,
    *,
    function: str | None = None,
    inputs: str | Sequence[str] | None = None,
    params: str | Sequence[str] | None = None,
    positive: str | Sequence[str] | None = None,
    d: int = 1,
    order: int = 2,
    mode: str = "regression",
    seed: int = 0,
    point: str | Mapping[str, object] | None = None,
) -> FamilyReport:
    """Relations among the derivatives of a family and its identifiability (see module docstring).

    Either ``gate`` and ``expert`` (catalogue names; ``d`` and ``mode`` as in
    :func:`hmoe_theory.families.gate_expert`), or ``function`` (text, e.g. ``"exp(b*x)*(a*x + c)"``)
    with ``inputs`` and ``params`` (``"x"``, ``"a, b, c"``); ``positive`` names parameters that are
    positive (variances). ``point`` fixes ``theta_0`` (``"a=1/2, b=-3"``; rationals; parameters not
    given are random); ``seed`` picks the random generic points (``theta_1`` and those used to
    reconstruct theta-dependent coefficients).
    """
    if function is not None:
        if gate is not None or expert is not None:
            raise ModelError("give either gate and expert, or function with inputs and params, not both")
        if not inputs or not params:
            raise ModelError("a typed function needs inputs (e.g. 'x') and params (e.g. 'a, b, c')")
        if mode != "regression":
            raise ModelError("mode applies to catalogue families; write a density into the function, e.g. normal_pdf(y, m, v)")
        f = _user_function(function, inputs, params, positive)
    elif gate is not None and expert is not None:
        f = gate_expert(gate, expert, d, mode)
    else:
        raise ModelError("give a gate and an expert (catalogue names), or a function with inputs and params")
    check_order(order)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ModelError(f"seed must be a non-negative integer, got {seed!r}")
    size = math.comb(len(f.params) + order, order)
    if size > MAX_DERIVATIVES:
        raise ModelError(f"{f.name}: {size} derivatives of order <= {order} (limit {MAX_DERIVATIVES}); lower d or order")

    at_theta0 = discover_relations(f, order, point=point or None, seed=seed)
    at_theta1 = discover_relations(f, order, seed=seed + 1, certify=False)
    first_order = discover_relations(f, 1, point=point or None, min_order=1, seed=seed, certify=False)
    strong = check_family(f, preset("strong", order, k=2), seed=seed)

    columns = at_theta0.columns
    table = list(derivative_table(f, order).values())  # same graded order as the columns
    common = _common_relations(_exact_rows(at_theta0.relations, columns), _exact_rows(at_theta1.relations, columns))
    pdes = tuple(_as_relation(row, columns, table, f) for row in common)
    base = quotient_basis(at_theta0.relations, columns, common)
    if base is None:  # irrational coefficients at theta_0: keep the discovered relations as they are
        pointwise, parametric = tuple(at_theta0.relations[len(common):]), ()
    else:
        theta0 = {p: sp.Rational(at_theta0.point[p.name]) for p in f.params}
        at_point = [e.xreplace(theta0) for e in table]
        pointwise = tuple(_as_relation(row, columns, at_point, f) for row in base)
        parametric = parametric_relations(f, order, table, [at_theta0, at_theta1], common, seed)
    return FamilyReport(f, at_theta0, pdes, pointwise, parametric, first_order.rank, strong)


# ---------------------------------------------------------------------------- curvature


@dataclass(frozen=True)
class CurvatureField:
    """Curvature of the Fisher-Rao metric of ``N(Y(theta), Sigma)`` on a grid over two coordinates.

    ``values[i, j]`` is the curvature at ``(axes[0], axes[1]) = (U[i, j], V[i, j])`` (other coordinates
    at ``fixed``); ``quantity`` says which curvature (Gaussian ``K`` for two coordinates, scalar ``S``
    otherwise).
    """

    map_text: str
    coords: tuple[str, ...]
    axes: tuple[str, str]
    fixed: dict[str, float]
    constants: dict[str, sp.Expr]
    U: np.ndarray
    V: np.ndarray
    values: np.ndarray
    quantity: str

    def __str__(self) -> str:
        (a, b), v = self.axes, self.values
        fixed = "".join(f", {k}={x:g}" for k, x in self.fixed.items())
        constants = f" with {', '.join(f'{k}={x}' for k, x in self.constants.items())}" if self.constants else ""
        return (
            f"{self.quantity} of Y = {self.map_text}{constants}\n"
            f"grid {v.shape[0]}x{v.shape[1]} over {a} in [{self.U.min():g}, {self.U.max():g}], "
            f"{b} in [{self.V.min():g}, {self.V.max():g}]{fixed}\n"
            f"min {v.min():.6g}   max {v.max():.6g}   mean {v.mean():.6g}"
        )

    def figure(self, ax: Any = None) -> Any:
        """A heat map of the field (matplotlib ``Figure``; drawn into ``ax`` if given). A field that changes
        sign uses a diverging map centred at 0 (``TwoSlopeNorm`` on ``[-m, m]``, ``m = max |K|``: white is
        flat, red positive, blue negative, equal colours equal magnitudes); a one-signed field a
        sequential map."""
        from matplotlib.colors import TwoSlopeNorm
        from matplotlib.figure import Figure

        if ax is None:
            fig = Figure(figsize=(5.2, 4.2), layout="constrained")
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        low, high = float(self.values.min()), float(self.values.max())
        span = max(abs(low), abs(high))
        constant = high - low <= 1e-9 * max(span, 1.0)
        if constant:  # a constant field shows its sign on a symmetric scale (rounding noise is not drawn)
            limit = max(span, 1.0)
            style = {"cmap": "RdBu_r", "vmin": -limit, "vmax": limit}
        elif low < 0 < high:  # diverging, 0 is white; symmetric, so one colour is one |K| on both sides
            style = {"cmap": "RdBu_r", "norm": TwoSlopeNorm(vmin=-span, vcenter=0.0, vmax=span)}
        else:
            style = {"cmap": "viridis", "vmin": low, "vmax": high}
        mesh = ax.pcolormesh(self.U, self.V, self.values, shading="auto", rasterized=True, **style)  # small SVGs
        fig.colorbar(mesh, ax=ax, label=self.quantity)
        ax.set_xlabel(self.axes[0])
        ax.set_ylabel(self.axes[1])
        title = self.map_text if len(self.map_text) <= 48 else self.map_text[:45] + "..."
        symbol = self.quantity.split()[-1]
        value = f"\n{symbol} = {low:.6g} everywhere" if constant else f"\n{symbol} in [{low:.4g}, {high:.4g}]"
        ax.set_title(f"{symbol} of Y = {title}{value}", fontsize=9)
        return fig


def parse_ranges(text: str) -> dict[str, tuple[float, float]]:
    """``"u=-1.2:1.2, v=0:2*pi"`` -> ``{"u": (-1.2, 1.2), "v": (0.0, 6.283...)}`` (constant bounds, lo < hi)."""
    ranges: dict[str, tuple[float, float]] = {}
    for part in (p for p in text.split(",") if p.strip()):
        if "=" not in part or ":" not in part:
            raise ExpressionError(f"expected name=low:high, got {part.strip()!r}")
        name, bounds = part.split("=", 1)
        name = parse_name(name)
        if name in ranges:
            raise ExpressionError(f"range of {name!r} given twice")
        low, high = (_constant(t, name) for t in bounds.split(":", 1))
        ranges[name] = (low, high)
    if not ranges:
        raise ExpressionError("expected at least one range name=low:high")
    return ranges


def _as_range(name: str, value: object) -> tuple[float, float]:
    """A (low, high) pair of finite real numbers, else a one-line ModelError."""
    try:
        low, high = (float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ModelError(f"range of {name!r} must be a pair of numbers (low, high), got {value!r}") from None
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ModelError(f"range of {name!r} must be finite, got {value!r}")
    return low, high


def _constant(text: str, name: str) -> float:
    value = parse_expression(text, names=[])
    if not value.is_real:
        raise ExpressionError(f"bound of {name!r} is not a real number: {text.strip()!r}")
    return float(value)


def parse_sigma(text: str, size: int) -> list | None:
    """Covariance text for ``N(Y, Sigma)`` with ``Y`` in R^size: empty or ``"identity"`` -> None; ``size``
    variances (``"1, 2, 1/2"``, brackets optional) -> a diagonal; ``size**2`` entries -> the matrix, row-major.
    Constant entries only (safe parser); positivity is checked by the metric."""
    from .geometry.metric import parse_covariance

    if not text.strip() or text.strip().lower() in ("identity", "i"):
        return None
    return parse_covariance(text, size)


def explore_curvature(
    map_text: str,
    coords: str | Sequence[str],
    ranges: str | Mapping[str, tuple[float, float]],
    sets: str | Mapping[str, object] | None = None,
    sigma: object = None,
    resolution: int = 61,
) -> CurvatureField:
    """Curvature field of the Fisher-Rao metric of ``N(Y(theta), Sigma)`` for a typed mean map.

    ``map_text``: ``"[Y_1, ..., Y_D]"`` in the coordinates ``coords`` (``"u, v"``) and constants;
    ``ranges``: the two plotted coordinates, ``{"u": (lo, hi), ...}`` or ``"u=lo:hi, v=lo:hi"``;
    ``sets``: values of the constants and of the other coordinates (``"R=2"``); ``sigma``: fixed
    covariance (``None`` = identity; ``D`` variances or a ``D x D`` matrix; as text, ``"1, 2, 3"`` or the
    ``D*D`` entries row-major, see :func:`parse_sigma`). Raises :class:`ModelError` where the map is not
    an immersion.
    """
    from .geometry.metric import PullbackMetric, as_exact_number

    coord_names = parse_names(coords) if isinstance(coords, str) else [parse_name(c) for c in coords]
    values = parse_assignments(sets) if isinstance(sets, str) else {parse_name(k): as_exact_number(v) for k, v in (sets or {}).items()}
    bounds = parse_ranges(ranges) if isinstance(ranges, str) else {parse_name(k): _as_range(k, v) for k, v in ranges.items()}
    axes = [c for c in coord_names if c in bounds]
    if len(axes) != 2 or len(bounds) != 2:
        raise ModelError(f"give ranges for exactly two of the coordinates {', '.join(coord_names)} (e.g. 'u=-1:1, v=0:3')")
    unplaced = [c for c in coord_names if c not in bounds and c not in values]
    if unplaced:
        raise ModelError(f"coordinate(s) {', '.join(unplaced)} need a value in sets (only two are plotted)")
    if not isinstance(resolution, int) or not 3 <= resolution <= 400:
        raise ModelError(f"resolution must be an integer in [3, 400], got {resolution!r}")
    for name, (low, high) in bounds.items():
        if not low < high:
            raise ModelError(f"range of {name!r} must have low < high, got {low:g}:{high:g}")
    constants = {k: v for k, v in values.items() if k not in coord_names}
    exprs = parse_vector(map_text, names=[*coord_names, *constants])
    if isinstance(sigma, str):
        sigma = parse_sigma(sigma, len(exprs))
    metric = PullbackMetric(exprs, coord_names, sigma, name=f"Y = {map_text}")
    if constants:
        metric = metric.subs(constants)
    U, V = np.meshgrid(*(np.linspace(*bounds[a], resolution) for a in axes), indexing="ij")
    columns = [U if c == axes[0] else V if c == axes[1] else np.full_like(U, float(sp.N(values[c]))) for c in coord_names]
    curvature = metric.curvature(np.stack(columns, axis=-1))
    two = len(coord_names) == 2
    field = curvature.gaussian if two else curvature.scalar
    return CurvatureField(
        map_text=map_text,
        coords=tuple(coord_names),
        axes=(axes[0], axes[1]),
        fixed={c: float(sp.N(values[c])) for c in coord_names if c not in bounds},
        constants=constants,
        U=U,
        V=V,
        values=np.asarray(field),
        quantity="Gaussian curvature K" if two else "scalar curvature S",
    )


# ---------------------------------------------------------------------------- widget


def explorer_widget() -> Any:
    """The explorer app (ipywidgets; works in Jupyter and Voila): relations of a family, curvature field of
    a mean map with sliders and a live plotly heat map, and a gallery of the papers' examples; see
    :mod:`hmoe_theory.explorer_parts.widget`.

    Raises :class:`HmoeError` (one line) when ipywidgets or plotly is not installed. Errors in the typed
    input are shown as one line in the result area.
    """
    from .explorer_parts.widget import build

    return build()


# ---------------------------------------------------------------------------- attention entries


def explore_attention(
    position: str = "plain",
    tokens: int = 2,
    dim: int = 1,
    heads: int = 1,
    *,
    param: str = "hmoe",
    temperature: bool = False,
    order: int = 2,
    seed: int = 0,
    proof_budget_s: float | None = 10.0,
) -> Any:
    """Parameter relations of entry (1, 1) of attention with a gate at ``position`` (``plain``, ``G1``,
    ``G1-headwise``, ``G2`` .. ``G5``): :func:`hmoe_theory.attention.relations.attention_relations` on the
    family :func:`hmoe_theory.attention.families.attention_entry_function` (``param`` ``"hmoe"``: free HMoE
    atoms; ``"attention"``: W_Q, W_K, W_V, W_O and the gate weights; ``temperature``: free tau instead of
    sqrt(d_k)). ``print`` the result for the relation list, its constant-coefficient / theta-dependent
    split and the strong-identifiability verdict; ``.row()`` gives one line of the relation table.
    """
    from .attention.relations import attention_relations

    return attention_relations(
        position, tokens, dim, heads, param=param, temperature=temperature, order=order, seed=seed,
        proof_budget_s=proof_budget_s,
    )
