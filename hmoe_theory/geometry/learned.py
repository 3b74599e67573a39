"""Curvature of learned attention classifiers on 2-d toy tasks.

Model (width ``D``, ``m`` value tokens), input ``x in R^2``:

* embedding ``z(x) = E x + e``;
* representation ``h(x) = V^T softmax(A z + a)`` (ungated) or ``sigmoid(G z + c) * V^T softmax(A z + a)``
  (gated, entrywise) -- the layers of :mod:`hmoe_theory.geometry.depth`;
* output ``P(y = 1 | x) = sigmoid(w . h(x) + w_0)``, trained by minimising the mean logistic loss plus
  ``1e-4 |params|^2`` with L-BFGS (scipy; gradients by finite differences, adequate for < 100 parameters).

Geometry: the representation surface ``x -> h(x)`` with ``Sigma = I``; at each test point we compute its
Gaussian curvature ``K`` and the scale-free ``K tr(g) / 2`` from exact forward-mode derivatives.

Tasks (balanced labels, seeded): ``blobs`` (two Gaussian clouds: a linear boundary), ``xor`` (quadrant
signs), ``moons``, ``circles`` (two noisy concentric rings), ``spirals`` (two interleaved spirals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError, UnknownNameError
from ..numeric import sigmoid, softmax
from .depth import Jet, Layer

TASKS = ("blobs", "xor", "moons", "circles", "spirals")


def make_task(name: str, count: int, seed: int, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """``count`` points ``X (count, 2)`` with labels ``y in {0, 1}`` (half each)."""
    if name not in TASKS:
        raise UnknownNameError(f"unknown task {name!r} (choose from {', '.join(TASKS)})")
    rng = np.random.default_rng(seed)
    half = count // 2
    y = np.repeat([0, 1], [half, count - half])
    if name == "blobs":
        X = rng.normal(0, 0.5, (count, 2)) + np.where(y[:, None] == 1, 1.0, -1.0)
    elif name == "xor":
        X = rng.uniform(-1, 1, (count, 2))
        X = np.where(np.abs(X) < 0.1, np.sign(X) * 0.1 + X, X)
        sign = np.sign(X[:, 0] * X[:, 1])
        flip = (sign > 0) != (y == 1)
        X[flip, 0] *= -1
    elif name == "moons":
        t = rng.uniform(0, np.pi, count)
        upper = np.stack([np.cos(t), np.sin(t)], 1)
        lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
        X = np.where(y[:, None] == 0, upper, lower) + rng.normal(0, noise, (count, 2))
    elif name == "circles":
        t = rng.uniform(0, 2 * np.pi, count)
        radius = np.where(y == 0, 1.0, 0.5)
        X = radius[:, None] * np.stack([np.cos(t), np.sin(t)], 1) + rng.normal(0, noise, (count, 2))
    else:  # spirals
        t = np.sqrt(rng.uniform(0, 1, count)) * 3 * np.pi
        arm = np.where(y == 0, 1.0, -1.0)[:, None]
        X = arm * np.stack([t * np.cos(t), t * np.sin(t)], 1) / (3 * np.pi) + rng.normal(0, noise / 2, (count, 2))
    return X, y


@dataclass(frozen=True)
class AttentionClassifier:
    """Parameters of the model in the module docstring (``G, c`` are None when ungated)."""

    E: np.ndarray
    e: np.ndarray
    layer: Layer
    w: np.ndarray
    w0: float

    def representation(self, X: np.ndarray) -> Jet:
        """``h`` at the points ``X (N, 2)`` with first and second derivatives in ``x``."""
        return self.layer(Jet.plane(X @ self.E.T + self.e, np.broadcast_to(self.E.T, (len(X), 2, len(self.e)))))

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The logit ``w . h(x) + w_0`` (values only: no derivatives are propagated)."""
        layer = self.layer
        z = X @ self.E.T + self.e
        s = z @ layer.A.T + layer.a
        h = softmax(s) @ layer.V
        if layer.kind == "gated":
            h = h * sigmoid(z @ layer.G.T + layer.c)
        return h @ self.w + self.w0

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """``P(y = 1 | x)``."""
        return sigmoid(self.decision_function(X))

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Accuracy."""
        return float(np.mean((self.predict_proba(X) > 0.5) == (y == 1)))

    def curvature(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gaussian curvature ``K`` of ``x -> h(x)`` and ``K tr(g)/2`` at the points (NaN where not immersed)."""
        from .curvature import IMMERSION_TOLERANCE, NumericCurvature, immersion_defect

        jet = self.representation(X)
        J = np.swapaxes(jet.d1, -1, -2)
        H = np.moveaxis(jet.d2, -1, -3)
        keep = immersion_defect(J) > IMMERSION_TOLERANCE
        K = np.full(len(X), np.nan)
        scaled = np.full(len(X), np.nan)
        if keep.any():
            c = NumericCurvature.from_derivatives(J[keep], H[keep], "learned representation")
            K[keep] = c.gaussian
            scaled[keep] = K[keep] * np.trace(c.metric, axis1=-2, axis2=-1) / 2
        return K, scaled


def _shapes(width: int, tokens: int, gated: bool) -> list[tuple[str, tuple[int, ...]]]:
    shapes = [("E", (width, 2)), ("e", (width,)), ("A", (tokens, width)), ("a", (tokens,)), ("V", (tokens, width))]
    if gated:
        shapes += [("G", (width, width)), ("c", (width,))]
    return shapes + [("w", (width,)), ("w0", ())]


def _unpack(theta: np.ndarray, width: int, tokens: int, gated: bool) -> AttentionClassifier:
    parts, offset = {}, 0
    for name, shape in _shapes(width, tokens, gated):
        size = int(np.prod(shape)) if shape else 1
        parts[name] = theta[offset : offset + size].reshape(shape) if shape else float(theta[offset])
        offset += size
    layer = Layer("gated" if gated else "ungated", parts["A"], parts["a"], parts["V"], parts.get("G"), parts.get("c"))
    return AttentionClassifier(parts["E"], parts["e"], layer, parts["w"], parts["w0"])


def fit_classifier(
    X: np.ndarray, y: np.ndarray, gated: bool, seed: int, width: int = 4, tokens: int = 4, steps: int = 300
) -> AttentionClassifier:
    """Train the model (module docstring) from a seeded Gaussian initialisation."""
    from scipy.optimize import minimize

    if X.ndim != 2 or X.shape[1] != 2 or len(X) != len(y):
        raise ModelError("fit_classifier: X must be (N, 2) with one label per row")
    size = sum(int(np.prod(s)) if s else 1 for _, s in _shapes(width, tokens, gated))
    theta0 = np.random.default_rng(seed).normal(0, 1 / np.sqrt(width), size)
    target = 2.0 * (np.asarray(y) == 1) - 1.0

    def loss(theta: np.ndarray) -> float:
        z = _unpack(theta, width, tokens, gated).decision_function(X)
        return float(np.mean(np.logaddexp(0, -target * z)) + 1e-4 * theta @ theta)

    result = minimize(loss, theta0, method="L-BFGS-B", options={"maxiter": steps})
    return _unpack(result.x, width, tokens, gated)


@dataclass(frozen=True)
class LearnedRun:
    """One trained model: its task, gating, seed, test accuracy and curvature at the test points."""

    task: str
    gated: bool
    seed: int
    accuracy: float
    median_abs_K: float
    median_abs_scaled_K: float


def learned_study(
    tasks: Sequence[str] = TASKS, seeds: Sequence[int] = (0, 1, 2), count: int = 200, steps: int = 300
) -> list[LearnedRun]:
    """Train gated and ungated models on every task and seed; measure accuracy and curvature on test data."""
    runs = []
    for task in tasks:
        for seed in seeds:
            X, y = make_task(task, count, seed)
            X_test, y_test = make_task(task, count, 10_000 + seed)
            for gated in (False, True):
                model = fit_classifier(X, y, gated, seed, steps=steps)
                K, scaled = model.curvature(X_test)
                runs.append(
                    LearnedRun(
                        task, gated, seed, model.score(X_test, y_test),
                        float(np.nanmedian(np.abs(K))), float(np.nanmedian(np.abs(scaled))),
                    )
                )
    return runs


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman rank correlation (ties get average ranks)."""
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)
