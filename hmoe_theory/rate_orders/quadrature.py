"""The measure mu of ||f_G - f_G*||_{L2(mu)} and its quadrature rules.

A :class:`Measure` is a product of axes: the design of each input x_u (``uniform`` on [a, b], the
probability dx/(b - a); ``normal`` with mean a and variance b) and, for density models, the response y with
Lebesgue measure on [lo, hi] (``lebesgue``; the range covers the true means +- 10 sd, so the truncated
tails are below e^-50 relative). Rules: Gauss-Legendre per bounded axis, Gauss-Hermite for normal axes,
tensorised. Integrands here are analytic, so the rules converge geometrically; the certificates
(:mod:`.certificates`) never rely on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelError

Axis = tuple[str, float, float]


@dataclass(frozen=True)
class Measure:
    """Product measure over ``axes`` (inputs first, then the response for density models)."""

    axes: tuple[Axis, ...]

    @classmethod
    def from_design(cls, law: str, a: float, b: float, d: int) -> "Measure":
        if law not in ("uniform", "normal"):
            raise ModelError(f"unknown design law {law!r}")
        return cls(tuple((law, float(a), float(b)) for _ in range(d)))

    @classmethod
    def lebesgue(cls, lo: float, hi: float) -> "Measure":
        return cls((("lebesgue", float(lo), float(hi)),))

    def with_response(self, bounds: tuple[float, float]) -> "Measure":
        return Measure((*self.axes, ("lebesgue", float(bounds[0]), float(bounds[1]))))

    def rule(self, nodes: int | tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Points (n, len(axes)) and weights (n,) of the tensor rule, ``nodes`` per axis."""
        counts = (nodes,) * len(self.axes) if isinstance(nodes, int) else tuple(nodes)
        per_axis = [_axis_rule(axis, n) for axis, n in zip(self.axes, counts)]
        points = np.stack(np.meshgrid(*(p for p, _ in per_axis), indexing="ij"), axis=-1).reshape(-1, len(self.axes))
        weights = np.prod(np.stack(np.meshgrid(*(w for _, w in per_axis), indexing="ij"), axis=-1), axis=-1).ravel()
        return points, weights


def _axis_rule(axis: Axis, n: int) -> tuple[np.ndarray, np.ndarray]:
    law, a, b = axis
    if law == "normal":
        nodes, weights = np.polynomial.hermite_e.hermegauss(n)
        return a + np.sqrt(b) * nodes, weights / weights.sum()
    nodes, weights = np.polynomial.legendre.leggauss(n)
    points = (a + b) / 2 + (b - a) / 2 * nodes
    scale = 0.5 if law == "uniform" else (b - a) / 2
    return points, weights * scale
