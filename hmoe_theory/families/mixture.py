"""Gate x expert functions and mixtures of experts, built symbolically.

* :func:`gate_expert` -- the function whose partial derivatives govern identifiability:
  regression mode  F(x; eta) = g(x; gate params) E(x; expert params);
  density mode     F(x, y; eta) = g(x; gate params) N(y | E(x; expert params), nu),
  where g is the gate factor of :meth:`Gate.factor` (softmax gates: exp(score), bias removed).
* :class:`Mixture` -- k components in dimension d:
  regression  f(x) = sum_j w_j(x) E_j(x);   density  p(y|x) = sum_j w_j(x) N(y | E_j(x), nu_j),
  with w_j the softmax of the scores + biases (or independent sigmoids for the sigmoid gate).

Facts of a mixture, stated once here and read by estimation, Fisher information, EM and rate orders:

* :attr:`Mixture.pinned` -- the softmax is unchanged by z_j -> z_j + t(x) for a common t, so a softmax mixture
  fixes component k's bias c_k = 0 and, when the gate is translation invariant (its score is linear and
  homogeneous in its parameters, :meth:`Gate.translation_invariant`), its score parameters gamma_k = 0.
  A gate that is not translation invariant (Laplace exp(-||x - beta|| + c)) keeps beta_k free: shifting every
  beta_j changes the function, so beta_k is identified; a sigmoid gate pins nothing (independent weights);
* :meth:`Mixture.pin` -- the equivalent parameters with that pinning; :meth:`Mixture.canonical` -- the
  identified projection of every component's gate and expert parameters (sym(A) for quadratic scores);
* :attr:`Mixture.roles` -- each parameter's role (gate, bias, expert, variance) and block (``beta``, ``A``,
  ``a``, ``alpha``, ``nu``, ...), from the unindexed term of its family;
* :meth:`Mixture.check` -- the hypotheses on values: finite, and positive where the symbol is (variances).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np
import sympy as sp

from ..errors import ModelError, lookup
from ..newton_system import DerivedSystem
from ..symbols import input_symbols
from .base import ParametricFunction
from .experts import EXPERTS, Expert
from .gates import GATES, Gate
from .noise import gaussian_density, response_symbol, variance_symbol

MODES = ("regression", "density")
ROLES = ("gate", "bias", "expert", "variance")


def block_of(name: str) -> str:
    """Block of an unindexed parameter name: ``beta_1 -> beta``, ``A_1_2 -> A``, ``a1 -> a``, ``w0 -> w``."""
    return re.sub(r"[_0-9]+$", "", name) or name


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

    # -- facts (module docstring) ------------------------------------------------------------------------
    @property
    def width(self) -> int:
        """Parameters per component (gate, bias, expert[, variance])."""
        return len(self.params) // self.k

    @cached_property
    def roles(self) -> tuple[tuple[str, str], ...]:
        """(role, block) of each parameter of one component, in :attr:`params` order (module docstring)."""
        term = self.gate.term(self.x)
        _, expert_params = self.expert.term(self.x)
        out = [("gate", block_of(p.name)) for p in term.params]
        out += [("bias", "c")] + [("expert", block_of(p.name)) for p in expert_params]
        return tuple(out + ([("variance", "nu")] if self.mode == "density" else []))

    def _role_index(self, role: str) -> np.ndarray:
        return np.array([a for a, (r, _) in enumerate(self.roles) if r == role], dtype=int)

    @cached_property
    def pinned(self) -> tuple[sp.Symbol, ...]:
        """Parameters fixed at 0 (module docstring): component k's bias, and its score parameters when the gate
        is translation invariant; none for a sigmoid gate."""
        if self.gate.normalisation != "softmax":
            return ()
        last = self.components[-1]["gate"]
        invariant = self.gate.translation_invariant(self.d)
        return (*(last.params if invariant else ()), last.bias)

    @cached_property
    def free_params(self) -> tuple[sp.Symbol, ...]:
        """The parameters an estimator moves: :attr:`params` without :attr:`pinned`."""
        return tuple(p for p in self.params if p not in set(self.pinned))

    @cached_property
    def free_mask(self) -> np.ndarray:
        """True for the entries of :attr:`params` in :attr:`free_params` (read-only)."""
        pinned = set(self.pinned)
        mask = np.array([p not in pinned for p in self.params], dtype=bool)
        mask.setflags(write=False)
        return mask

    def _rows(self, values: Sequence[float]) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if values.shape != (len(self.params),):
            raise ModelError(f"expected {len(self.params)} parameter values, got shape {values.shape}")
        return values.reshape(self.k, self.width).copy()

    def pin(self, values: Sequence[float]) -> np.ndarray:
        """Equivalent values (same function) with :attr:`pinned` at 0: component k's bias (and its score
        parameters, if pinned) subtracted from every component's."""
        rows = self._rows(values)
        if self.pinned:
            shifted = self._role_index("bias")
            if len(self.pinned) > 1:
                shifted = np.concatenate([self._role_index("gate"), shifted])
            rows[:, shifted] -= rows[-1, shifted]
        return rows.ravel()

    def canonical(self, values: Sequence[float]) -> np.ndarray:
        """Each component's gate and expert parameters projected on their identified part
        (:meth:`Gate.identified_projection`, :meth:`Expert.identified_projection`; sym(A) for quadratic scores),
        as rows (k, width); compose with :meth:`pin` to also remove the softmax translation."""
        rows = self._rows(values)
        gate, expert = self._role_index("gate"), self._role_index("expert")
        rows[:, gate] = rows[:, gate] @ self.gate.identified_projection(self.d)
        rows[:, expert] = rows[:, expert] @ self.expert.identified_projection(self.d)
        return rows

    def check(self, values: Sequence[float]) -> None:
        """Raise :class:`~hmoe_theory.errors.ModelError` unless ``values`` (in :attr:`params` order) are finite and
        positive where the symbol is declared positive (the variances nu_j)."""
        values = np.asarray(values, dtype=float)
        if values.shape != (len(self.params),):
            raise ModelError(f"expected {len(self.params)} parameter values, got shape {values.shape}")
        for p, v in zip(self.params, values):
            if not np.isfinite(v):
                raise ModelError(f"{p.name} must be finite, got {v}")
            if p.is_positive and v <= 0:
                raise ModelError(f"{p.name} must be positive (a variance), got {v}")

    # -- the Newton system of the regression function ---------------------------------------------------
    #: hand-written Newton systems registered by a higher layer, keyed by (normalisation, mode): a factory
    #: mixture -> model with the protocol of :class:`~hmoe_theory.newton_system.DerivedSystem` (tested equal to it)
    FAST_SYSTEMS: ClassVar[dict[tuple[str, str], Callable[["Mixture"], object]]] = {}

    def derived_system(self, hessian: str = "exact") -> DerivedSystem:
        """The Newton system derived from :attr:`function` (regression mode)."""
        if self.mode != "regression":
            raise ModelError("a least-squares Newton system needs a regression mixture")
        return DerivedSystem(self.function.expr, self.function.inputs, self.function.params, hessian, pinning=self)

    def newton_system(self) -> object:
        """The fast path registered for this kind of mixture (:attr:`FAST_SYSTEMS`), else :meth:`derived_system`."""
        fast = self.FAST_SYSTEMS.get((self.gate.normalisation, self.mode))
        return fast(self) if fast is not None else self.derived_system()
