"""Simulation from a true mixture of experts.

* X: n i.i.d. points uniform on [low, high]^d (default [-1, 1]^d).
* Regression: Y = f_G*(X) + eps, eps ~ N(0, nu) independent of X.
* Gaussian MoE (density): draw J ~ Categorical(pi(X)), then Y | X, J ~ N(a_J.X + alpha_J, nu_J).

All randomness comes from the numpy ``Generator`` passed in, so a seed fixes the sample.
"""

from __future__ import annotations

import numpy as np
from scipy.special import softmax

from ..errors import ModelError
from .em import GaussianMoEParams
from .model import SoftmaxMoE

Array = np.ndarray


def uniform_inputs(rng: np.random.Generator, n: int, d: int, low: float = -1.0, high: float = 1.0) -> Array:
    """n points uniform on [low, high]^d, array (n, d)."""
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ModelError(f"sample size n must be a positive integer, got {n!r}")
    if not low < high:
        raise ModelError(f"need low < high, got [{low}, {high}]")
    return rng.uniform(low, high, size=(int(n), d))


def sample_regression(
    rng: np.random.Generator, model: SoftmaxMoE, theta: Array, n: int, noise_variance: float
) -> tuple[Array, Array]:
    """(X, Y) with Y = f(X; theta) + N(0, noise_variance)."""
    if noise_variance < 0:
        raise ModelError(f"noise variance must be >= 0, got {noise_variance}")
    X = uniform_inputs(rng, n, model.d)
    return X, model.predict(X, theta) + rng.normal(0.0, np.sqrt(noise_variance), size=len(X))


def sample_gaussian_moe(rng: np.random.Generator, params: GaussianMoEParams, n: int) -> tuple[Array, Array]:
    """(X, Y) from the softmax-gated Gaussian mixture of linear experts ``params``."""
    d = params.gate.shape[1] - 1
    X = uniform_inputs(rng, n, d)
    Z = np.concatenate([X, np.ones((len(X), 1))], axis=1)
    pi = softmax(Z @ params.gate.T, axis=1)
    u = rng.uniform(size=(len(X), 1))
    labels = np.minimum((np.cumsum(pi, axis=1) < u).sum(axis=1), pi.shape[1] - 1)
    means = np.einsum("np,np->n", Z, params.experts[labels])
    return X, means + rng.normal(size=len(X)) * np.sqrt(params.variances[labels])
