"""The numpy softmax, log-sum-exp and sigmoid of the library (one definition each; symbolic ones live in
:mod:`hmoe_theory.expr`).

* ``softmax(z, axis)_j = exp(z_j - m) / sum_l exp(z_l - m)``, m = max_l z_l (no overflow; the shift cancels);
* ``logsumexp(a, axis) = m + log sum_l exp(a_l - m)`` (no overflow; at least one term is exp(0) = 1);
* ``sigmoid(z) = 1 / (1 + exp(-z)) = exp(-log(1 + exp(-z)))``, computed as ``exp(-logaddexp(0, -z))``: no
  overflow, and full relative accuracy in both tails (0.5 (1 + tanh(z / 2)) rounds to 0 below z ~ -37).

Hypothesis: float input (an axis of length >= 1); the components of a (k, n) array along ``axis=0`` are
contiguous rows, the layout the estimation kernels use.

>>> softmax(np.array([0.0, np.log(3.0)])).round(12).tolist(), float(logsumexp(np.array([1000.0, 1000.0])))
([0.25, 0.75], 1000.6931471805599)
>>> float(sigmoid(np.array(0.0))), float(sigmoid(np.array(-800.0)))
(0.5, 0.0)
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def softmax(z: Array, axis: int = -1) -> Array:
    """exp(z_j) / sum_l exp(z_l) along ``axis``, shifted by the max (module docstring)."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def logsumexp(a: Array, axis: int = -1) -> Array:
    """log sum_l exp(a_l) along ``axis`` (the axis removed), shifted by the max (module docstring)."""
    top = a.max(axis=axis)
    return top + np.log(np.exp(a - np.expand_dims(top, axis)).sum(axis=axis))


def sigmoid(z: Array) -> Array:
    """Logistic function 1 / (1 + exp(-z)), overflow-free (module docstring)."""
    return np.exp(-np.logaddexp(0.0, -z))


__all__ = ["logsumexp", "sigmoid", "softmax"]
