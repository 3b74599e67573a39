"""Gaussian noise: the density N(y | mean, nu) = exp(-(y - mean)^2 / (2 nu)) / sqrt(2 pi nu), nu > 0.

It satisfies the heat equation d^2 N / d mean^2 = 2 dN / d nu, the source of the slow rates of
Gaussian mixtures of experts with a linear expert's bias.
"""

from __future__ import annotations

import sympy as sp

from ..expr import normal_pdf
from ..symbols import indexed_name, positive_symbol, real_symbol


def response_symbol() -> sp.Symbol:
    """The response variable y."""
    return real_symbol("y")


def variance_symbol(component: int | None = None) -> sp.Symbol:
    """The (positive) variance nu[_component]."""
    return positive_symbol(indexed_name("nu", component))


def gaussian_density(y: sp.Expr, mean: sp.Expr, variance: sp.Expr) -> sp.Expr:
    """N(y | mean, variance)."""
    return normal_pdf(y, mean, variance)
