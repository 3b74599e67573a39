"""Convergence-rate fitting over replications.

* :func:`fit_rate`: ordinary least squares of log L on log n over all (n, L) pairs,
  log L = a + b log n, so L ~ C n^b; a percentile bootstrap CI for the slope b that resamples the
  replicates *within* each sample size (the design of sizes stays fixed).
* :func:`power_law_vs_log_test`: tells a power law L = C n^b from a logarithmic decay
  L = C (log n)^b (b = -1 is the 1/log n rate of non-strongly-identifiable settings). Both models are
  linear regressions of y = log L with two parameters, on x = log n resp. x = log log n, so with
  Gaussian errors their maximised log-likelihoods differ by (N/2) log(RSS_log / RSS_power). The
  decision uses Vuong's test for non-nested models: with d_i the pointwise log-likelihood difference,
  z = sum_i d_i / (sqrt(N) sd(d)) ~ N(0, 1) when both fit equally well; z > z_{1-level/2} prefers the
  power law, z < -z_{1-level/2} the log model, otherwise ``undecided``.

Hypotheses: losses are positive (non-finite values are dropped with the pair), at least 3 distinct
sample sizes; replicates are independent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from ..errors import ModelError

Array = np.ndarray


def _clean(ns: Array, losses: Array) -> tuple[Array, Array]:
    ns = np.asarray(ns, dtype=float).ravel()
    losses = np.asarray(losses, dtype=float).ravel()
    if ns.shape != losses.shape:
        raise ModelError(f"ns and losses must pair up, got {ns.size} sizes and {losses.size} losses")
    keep = np.isfinite(losses) & np.isfinite(ns)
    ns, losses = ns[keep], losses[keep]
    if np.any(losses <= 0) or np.any(ns <= 1):
        raise ModelError("rate fitting needs losses > 0 and sample sizes > 1")
    if np.unique(ns).size < 3:
        raise ModelError(f"rate fitting needs at least 3 distinct sample sizes, got {np.unique(ns).size}")
    return ns, losses


def _ols(x: Array, y: Array) -> tuple[Array, Array]:
    """Slopes and intercepts of y on x along the last axis (batched)."""
    xm, ym = x.mean(axis=-1, keepdims=True), y.mean(axis=-1, keepdims=True)
    slope = ((x - xm) * (y - ym)).sum(axis=-1) / ((x - xm) ** 2).sum(axis=-1)
    return slope, ym[..., 0] - slope * xm[..., 0]


@dataclass(frozen=True)
class RateFit:
    """L ~ exp(intercept) n^slope with a bootstrap CI [ci_low, ci_high] at level ``level``."""

    slope: float
    intercept: float
    ci_low: float
    ci_high: float
    level: float
    n_points: int

    def contains(self, value: float) -> bool:
        return self.ci_low <= value <= self.ci_high


def fit_rate(ns: Array, losses: Array, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> RateFit:
    """Log-log OLS slope of ``losses`` against ``ns`` (paired, one entry per replicate) with CI."""
    ns, losses = _clean(ns, losses)
    x, y = np.log(ns), np.log(losses)
    slope, intercept = _ols(x, y)
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(ns == value) for value in np.unique(ns)]
    picks = np.concatenate([g[rng.integers(0, g.size, size=(n_boot, g.size))] for g in groups], axis=1)
    boot, _ = _ols(x[picks], y[picks])
    boot = boot[np.isfinite(boot)]
    alpha = (1 - level) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha]) if boot.size else (np.nan, np.nan)
    return RateFit(float(slope), float(intercept), float(low), float(high), level, int(ns.size))


@dataclass(frozen=True)
class RateModelTest:
    """Outcome of :func:`power_law_vs_log_test`."""

    preferred: str  # "power", "log" or "undecided"
    z: float
    p_value: float
    power_slope: float  # b in L ~ n^b
    log_exponent: float  # b in L ~ (log n)^b
    rss_power: float
    rss_log: float


def power_law_vs_log_test(ns: Array, losses: Array, level: float = 0.05) -> RateModelTest:
    """Vuong test of L = C n^b against L = C (log n)^b (see module docstring)."""
    ns, losses = _clean(ns, losses)
    y = np.log(losses)
    fits = {}
    for name, x in (("power", np.log(ns)), ("log", np.log(np.log(ns)))):
        slope, intercept = _ols(x, y)
        residual = y - (intercept + slope * x)
        variance = max(float(residual @ residual) / y.size, 1e-300)
        loglik = -0.5 * (np.log(2 * np.pi * variance) + residual**2 / variance)
        fits[name] = (float(slope), float(residual @ residual), loglik)
    d = fits["power"][2] - fits["log"][2]
    spread = d.std(ddof=1)
    z = float(d.sum() / (np.sqrt(d.size) * spread)) if spread > 0 else 0.0
    p_value = float(2 * norm.sf(abs(z)))
    preferred = "undecided" if p_value >= level else ("power" if z > 0 else "log")
    return RateModelTest(preferred, z, p_value, fits["power"][0], fits["log"][0], fits["power"][1], fits["log"][1])
