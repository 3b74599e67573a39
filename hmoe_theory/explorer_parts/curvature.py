"""The Fisher-Rao curvature field of a typed mean map (:func:`explore_curvature`).

The metric ``g = J^T Sigma^-1 J`` of ``N(Y(theta), Sigma)`` for a typed mean map ``Y`` and its curvature on a
grid over two coordinates (Gaussian curvature ``K`` for two coordinates, scalar curvature otherwise), computed by
:class:`hmoe_theory.geometry.metric.PullbackMetric` (Gauss equation); :meth:`CurvatureField.figure` draws the
heat map.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ..errors import ExpressionError, ModelError
from ..expr import parse_assignments, parse_expression, parse_name, parse_vector


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

    def __repr__(self) -> str:
        from ..geometry.curvature import SIGN_CONVENTION

        (a, b), v = self.axes, self.values
        constants = f" with {', '.join(f'{k}={x}' for k, x in self.constants.items())}" if self.constants else ""
        return (
            f"CurvatureField({self.quantity} of Y = {self.map_text}{constants} on a {v.shape[0]}x{v.shape[1]} grid over "
            f"{a} in [{self.U.min():g}, {self.U.max():g}], {b} in [{self.V.min():g}, {self.V.max():g}]"
            f"{''.join(f', {k}={x:g}' for k, x in self.fixed.items())}: min {v.min():.6g}, max {v.max():.6g}; "
            f"metric of N(Y, Sigma), Sigma fixed; {SIGN_CONVENTION})"
        )

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
    """``"u=-1.2:1.2, v=0:2*pi"`` -> ``{"u": (-1.2, 1.2), "v": (0.0, 6.283...)}``: constant bounds with
    low < high (``u=2:-2`` is refused, not reordered: :class:`ModelError`); text that does not parse raises
    :class:`ExpressionError`."""
    ranges: dict[str, tuple[float, float]] = {}
    for part in (p for p in text.split(",") if p.strip()):
        if "=" not in part or ":" not in part:
            raise ExpressionError(f"expected name=low:high, got {part.strip()!r}")
        name, bounds = part.split("=", 1)
        name = parse_name(name)
        if name in ranges:
            raise ExpressionError(f"range of {name!r} given twice")
        low, high = (_constant(t, name) for t in bounds.split(":", 1))
        if not low < high:
            raise ModelError(f"range of {name!r} must have low < high, got {bounds.strip()} ({low:g} >= {high:g})")
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
    from ..geometry.text import parse_covariance

    if not text.strip() or text.strip().lower() in ("identity", "i"):
        return None
    return parse_covariance(text, size)


def _set_value(value: object) -> sp.Expr:
    """A value given in ``sets``: text through the safe parser (a constant), a number made exact."""
    from ..geometry.metric import as_exact_number

    return parse_expression(value, names=[]) if isinstance(value, str) else as_exact_number(value)


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
    from ..geometry.metric import PullbackMetric
    from ..geometry.text import parse_coordinates

    symbols = parse_coordinates(coords)
    coord_names = [s.name for s in symbols]
    values = parse_assignments(sets) if isinstance(sets, str) else {parse_name(k): _set_value(v) for k, v in (sets or {}).items()}
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
    exprs = parse_vector(map_text, names=[*symbols, *constants])
    if isinstance(sigma, str):
        sigma = parse_sigma(sigma, len(exprs))
    metric = PullbackMetric(exprs, symbols, sigma, name=f"Y = {map_text}")
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
