"""Curvature of deep stacks of (gated) attention layers, restricted to random 2-planes of the input.

Stack. Width ``D``, ``m`` value tokens per layer. Layer ``l`` maps ``z in R^D`` to

* ungated: ``F_l(z) = V_l^T softmax(A_l z + a_l)``  (``A_l in R^{m x D}``, fixed values ``V_l in R^{m x D}``);
* gated:   ``F_l(z) = sigmoid(G_l z + c_l) * V_l^T softmax(A_l z + a_l)``  (entrywise output gate);
* linear:  ``F_l(z) = A_l z + a_l`` (``A_l in R^{D x D}``; a control: an affine stack maps planes to planes);

and the stack is ``z_l = F_l(z_{l-1})`` or, with residuals, ``z_l = z_{l-1} + F_l(z_{l-1})``, ``l = 1..L``.

Random 2-plane: ``z_0(u, v) = x_0 + u a + v b`` with ``x_0, a, b`` Gaussian in ``R^D``. The mean map of depth
``L`` is ``Y_L(u, v) = z_L``; its Fisher metric (``Sigma = I``) and Gaussian curvature at ``(u, v) = (0, 0)``
are computed from exact first and second derivatives propagated by second-order forward mode
(:class:`Jet`; no finite differences). Besides ``K`` we report the scale-free ``K * tr(g) / 2``
(invariant under ``Y -> c Y``, which maps ``K -> K / c^2``), so that shrinking images are not mistaken
for bending ones.

Weights: entries of ``A_l, V_l, G_l`` are ``N(0, scale^2 / D)``; biases ``N(0, 1)``; fixed by a seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from ..numeric import sigmoid
from .curvature import IMMERSION_TOLERANCE, NumericCurvature, immersion_defect


@dataclass(frozen=True)
class Jet:
    """Value and first/second derivatives along ``n`` parameters: ``value (..., D)``,
    ``d1 (..., n, D)`` with ``d1[a] = dz/dtheta_a``, ``d2 (..., n, n, D)`` with ``d2[a, b] = d^2 z/dtheta_a dtheta_b``."""

    value: np.ndarray
    d1: np.ndarray
    d2: np.ndarray

    @classmethod
    def plane(cls, origin: np.ndarray, directions: np.ndarray) -> "Jet":
        """``z(theta) = origin + sum_a theta_a directions[a]`` at ``theta = 0`` (batched over leading axes)."""
        origin = np.asarray(origin, dtype=float)
        directions = np.asarray(directions, dtype=float)
        n = directions.shape[-2]
        return cls(origin, directions, np.zeros((*directions.shape[:-2], n, n, origin.shape[-1])))

    def affine(self, matrix: np.ndarray, bias: np.ndarray | float = 0.0) -> "Jet":
        """``M z + bias``."""
        return Jet(self.value @ matrix.T + bias, self.d1 @ matrix.T, self.d2 @ matrix.T)

    def apply(self, f: Callable, df: Callable, d2f: Callable) -> "Jet":
        """Entrywise ``f`` with its first and second derivatives (chain rule to second order)."""
        x = self.value
        f1, f2 = df(x), d2f(x)
        d1 = f1[..., None, :] * self.d1
        d2 = f2[..., None, None, :] * self.d1[..., :, None, :] * self.d1[..., None, :, :]
        return Jet(f(x), d1, d2 + f1[..., None, None, :] * self.d2)

    def __add__(self, other: "Jet") -> "Jet":
        return Jet(self.value + other.value, self.d1 + other.d1, self.d2 + other.d2)

    def __mul__(self, other: "Jet") -> "Jet":
        """Entrywise product (Leibniz rule)."""
        x, y = self.value, other.value
        d1 = x[..., None, :] * other.d1 + y[..., None, :] * self.d1
        cross = self.d1[..., :, None, :] * other.d1[..., None, :, :]
        d2 = x[..., None, None, :] * other.d2 + y[..., None, None, :] * self.d2 + cross + np.swapaxes(cross, -3, -2)
        return Jet(x * y, d1, d2)

    def softmax(self) -> "Jet":
        """``softmax`` over the last axis: ``p = exp(s - max) / sum exp(s - max)`` (stable)."""
        shifted = Jet(self.value - self.value.max(axis=-1, keepdims=True), self.d1, self.d2)
        e = shifted.apply(np.exp, np.exp, np.exp)
        total = Jet(e.value.sum(-1, keepdims=True), e.d1.sum(-1, keepdims=True), e.d2.sum(-1, keepdims=True))
        inverse = total.apply(lambda t: 1 / t, lambda t: -1 / t**2, lambda t: 2 / t**3)
        return e * Jet(
            np.broadcast_to(inverse.value, e.value.shape),
            np.broadcast_to(inverse.d1, e.d1.shape),
            np.broadcast_to(inverse.d2, e.d2.shape),
        )


def _dsigmoid(x: np.ndarray) -> np.ndarray:
    s = sigmoid(x)
    return s * (1 - s)


def _d2sigmoid(x: np.ndarray) -> np.ndarray:
    s = sigmoid(x)
    return s * (1 - s) * (1 - 2 * s)


KINDS = ("ungated", "gated", "linear")


@dataclass(frozen=True)
class Layer:
    """One layer (formulas in the module docstring); ``G, c`` only for ``kind == "gated"``."""

    kind: str
    A: np.ndarray
    a: np.ndarray
    V: np.ndarray | None = None
    G: np.ndarray | None = None
    c: np.ndarray | None = None

    def __call__(self, z: Jet) -> Jet:
        if self.kind == "linear":
            return z.affine(self.A, self.a)
        attended = z.affine(self.A, self.a).softmax().affine(self.V.T)
        if self.kind == "ungated":
            return attended
        gate = z.affine(self.G, self.c).apply(sigmoid, _dsigmoid, _d2sigmoid)
        return gate * attended


@dataclass(frozen=True)
class Stack:
    """``L`` layers, with or without residual connections."""

    layers: tuple[Layer, ...]
    residual: bool

    def __call__(self, z: Jet, depth: int | None = None) -> Jet:
        """The first ``depth`` layers (all by default) applied to ``z``."""
        for layer in self.layers[: len(self.layers) if depth is None else depth]:
            z = z + layer(z) if self.residual else layer(z)
        return z

    def curvature_on_planes(
        self, origins: np.ndarray, directions: np.ndarray, depth: int | None = None, skip_degenerate: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gaussian curvature ``K`` and scale-free ``K tr(g)/2`` at the origin of each plane.

        ``origins``: ``(P, D)``; ``directions``: ``(P, 2, D)``. A plane on which the stack is not an
        immersion raises ModelError, or gives NaN with ``skip_degenerate=True``.
        """
        out = self(Jet.plane(origins, directions), depth)
        J = np.swapaxes(out.d1, -1, -2)  # (P, D, 2)
        H = np.moveaxis(out.d2, -1, -3)  # (P, D, 2, 2)
        keep = np.ones(J.shape[0], dtype=bool)
        if skip_degenerate:
            keep = np.all(np.isfinite(J), axis=(1, 2)) & np.all(np.isfinite(H), axis=(1, 2, 3))
            keep[keep] = immersion_defect(J[keep]) > IMMERSION_TOLERANCE
        K = np.full(J.shape[0], np.nan)
        scaled = np.full(J.shape[0], np.nan)
        if keep.any():
            curvature = NumericCurvature.from_derivatives(J[keep], H[keep], "layer stack")
            K[keep] = curvature.gaussian
            scaled[keep] = K[keep] * np.trace(curvature.metric, axis1=-2, axis2=-1) / 2
        return K, scaled


def random_stack(
    depth: int, width: int, tokens: int, kind: str, residual: bool, seed: int, scale: float = 2.0
) -> Stack:
    """A stack with Gaussian weights (see module docstring), reproducible from ``seed``."""
    if kind not in KINDS:
        raise ModelError(f"unknown layer kind {kind!r} (choose from {', '.join(KINDS)})")
    if depth < 1 or width < 3 or tokens < 2:
        raise ModelError("need depth >= 1, width >= 3 (a curved surface needs 3 outputs) and tokens >= 2")
    rng = np.random.default_rng(seed)
    sd = scale / np.sqrt(width)
    layers = []
    for _ in range(depth):
        if kind == "linear":
            layers.append(Layer(kind, rng.normal(0, sd, (width, width)), rng.normal(0, 1, width)))
            continue
        A, a, V = rng.normal(0, sd, (tokens, width)), rng.normal(0, 1, tokens), rng.normal(0, sd, (tokens, width))
        G, c = (rng.normal(0, sd, (width, width)), rng.normal(0, 1, width)) if kind == "gated" else (None, None)
        layers.append(Layer(kind, A, a, V, G, c))
    return Stack(tuple(layers), residual)


def random_planes(count: int, width: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random 2-planes: origins ``(count, D)`` and orthonormal direction pairs ``(count, 2, D)``."""
    rng = np.random.default_rng(seed)
    origins = rng.normal(0, 1, (count, width))
    q, _ = np.linalg.qr(rng.normal(0, 1, (count, width, 2)))
    return origins, np.swapaxes(q, -1, -2)


@dataclass(frozen=True)
class DepthRow:
    """Summary over seeds x planes for one configuration and depth."""

    kind: str
    residual: bool
    depth: int
    median_abs_K: float
    median_abs_scaled_K: float
    fraction_positive: float
    samples: int


def depth_study(
    depths: Sequence[int] = (1, 2, 3, 4, 5, 6),
    kinds: Sequence[str] = ("ungated", "gated"),
    residuals: Sequence[bool] = (False, True),
    seeds: Sequence[int] = (0, 1, 2),
    planes: int = 100,
    width: int = 4,
    tokens: int = 4,
    scale: float = 2.0,
) -> list[DepthRow]:
    """Curvature statistics of random stacks for every (kind, residual, depth); degenerate planes skipped."""
    rows = []
    max_depth = max(depths)
    for kind in kinds:
        for residual in residuals:
            per_depth: dict[int, tuple[list, list]] = {L: ([], []) for L in depths}
            for seed in seeds:
                stack = random_stack(max_depth, width, tokens, kind, residual, seed, scale)
                origins, directions = random_planes(planes, width, 1000 + seed)
                for L in depths:
                    K, scaled = stack.curvature_on_planes(origins, directions, L, skip_degenerate=True)
                    per_depth[L][0].extend(K[np.isfinite(K)])
                    per_depth[L][1].extend(scaled[np.isfinite(K)])
            for L in depths:
                K, scaled = (np.array(x) for x in per_depth[L])
                rows.append(
                    DepthRow(
                        kind,
                        residual,
                        L,
                        float(np.median(np.abs(K))) if K.size else float("nan"),
                        float(np.median(np.abs(scaled))) if K.size else float("nan"),
                        float(np.mean(K > 0)) if K.size else float("nan"),
                        int(K.size),
                    )
                )
    return rows


def growth_slope(rows: Sequence[DepthRow], kind: str, residual: bool, scaled: bool = True) -> float:
    """Least-squares slope of ``log10(median |K|)`` (or of the scale-free version) against depth."""
    chosen = [r for r in rows if r.kind == kind and r.residual == residual]
    depths = np.array([r.depth for r in chosen], dtype=float)
    values = np.array([r.median_abs_scaled_K if scaled else r.median_abs_K for r in chosen])
    return float(np.polyfit(depths, np.log10(values), 1)[0])
