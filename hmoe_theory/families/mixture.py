"""Gate x expert functions and mixtures of experts, built symbolically.

* :func:`gate_expert` -- the function whose partial derivatives govern identifiability:
  regression mode  F(x; eta) = g(x; gate params) E(x; expert params);
  density mode     F(x, y; eta) = g(x; gate params) N(y | E(x; expert params), nu),
  where g is the gate factor of :meth:`Gate.factor` (softmax gates: exp(score), bias removed).
* :class:`Mixture` -- k components in dimension d:
  regression  f(x) = sum_j w_j(x) E_j(x);   density  p(y|x) = sum_j w_j(x) N(y | E_j(x), nu_j),
  with w_j the softmax of the scores + biases (or independent sigmoids for the sigmoid gate).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from ..errors import ModelError, lookup
from ..symbols import input_symbols
from .base import ParametricFunction
from .experts import EXPERTS, Expert
from .gates import GATES, Gate
from .noise import gaussian_density, response_symbol, variance_symbol

MODES = ("regression", "density")


def get_gate(name: str | Gate) -> Gate:
    """Catalogue look-up with a one-line error listing the valid names."""
    return name if isinstance(name, Gate) else lookup(GATES, name, "gate")


def get_expert(name: str | Expert) -> Expert:
    """Catalogue look-up with a one-line error listing the valid names."""
    return name if isinstance(name, Expert) else lookup(EXPERTS, name, "expert")


def _check(d: int, mode: str) -> None:
    if not isinstance(d, int) or d < 1:
        raise ModelError(f"input dimension d must be a positive integer, got {d!r}")
    if mode not in MODES:
        raise ModelError(f"mode must be one of {MODES}, got {mode!r}")


def gate_expert(gate: str | Gate, expert: str | Expert, d: int = 1, mode: str = "regression") -> ParametricFunction:
    """The single-component function F = gate factor x expert [x Gaussian density]; see module doc."""
    _check(d, mode)
    gate, expert = get_gate(gate), get_expert(expert)
    x = input_symbols(d)
    g, gate_params, weights = gate.factor(x)
    e, expert_params = expert.term(x)
    name = f"{gate.name} x {expert.name}"
    if mode == "regression":
        return ParametricFunction(name, g * e, x, (*gate_params, *expert_params), weights)
    y, nu = response_symbol(), variance_symbol()
    return ParametricFunction(
        f"{name} x gaussian", g * gaussian_density(y, e, nu), (*x, y), (*gate_params, *expert_params, nu), weights
    )


@dataclass(frozen=True)
class Mixture:
    """A k-component mixture of experts in dimension d (see module docstring)."""

    gate: Gate
    expert: Expert
    k: int
    d: int = 1
    mode: str = "regression"

    @classmethod
    def from_names(cls, gate: str, expert: str, k: int, d: int = 1, mode: str = "regression") -> "Mixture":
        return cls(get_gate(gate), get_expert(expert), k, d, mode)

    def __post_init__(self) -> None:
        _check(self.d, self.mode)
        if not isinstance(self.k, int) or self.k < 1:
            raise ModelError(f"number of experts k must be a positive integer, got {self.k!r}")

    @cached_property
    def x(self) -> tuple[sp.Symbol, ...]:
        return input_symbols(self.d)

    @cached_property
    def components(self) -> tuple[dict, ...]:
        """Per component: gate term, weight expression, expert expression, expert params, variance."""
        out = []
        for j in range(1, self.k + 1):
            term = self.gate.term(self.x, j)
            expert_expr, expert_params = self.expert.term(self.x, j)
            out.append(
                {
                    "gate": term,
                    "weight": self.gate.weight(term),
                    "expert": expert_expr,
                    "expert_params": expert_params,
                    "variance": variance_symbol(j) if self.mode == "density" else None,
                }
            )
        return tuple(out)

    @cached_property
    def weights(self) -> tuple[sp.Expr, ...]:
        """Normalised gate weights w_j(x)."""
        raw = [c["weight"] for c in self.components]
        if self.gate.normalisation == "softmax":
            total = sp.Add(*raw)
            return tuple(w / total for w in raw)
        return tuple(raw)

    @cached_property
    def params(self) -> tuple[sp.Symbol, ...]:
        """All parameters, component by component: gate params, bias, expert params[, variance]."""
        out: list[sp.Symbol] = []
        for c in self.components:
            out += [*c["gate"].params, c["gate"].bias, *c["expert_params"]]
            if c["variance"] is not None:
                out.append(c["variance"])
        return tuple(out)

    @cached_property
    def function(self) -> ParametricFunction:
        """Regression function f(x) or conditional density p(y | x) as a ParametricFunction."""
        name = f"{self.k}-component {self.gate.name} x {self.expert.name} ({self.mode})"
        if self.mode == "regression":
            expr = sp.Add(*(w * c["expert"] for w, c in zip(self.weights, self.components)))
            return ParametricFunction(name, expr, self.x, self.params)
        y = response_symbol()
        expr = sp.Add(
            *(w * gaussian_density(y, c["expert"], c["variance"]) for w, c in zip(self.weights, self.components))
        )
        return ParametricFunction(name, expr, (*self.x, y), self.params)
