"""Exact degeneracy scan: a structured merge G_t with f_Gt = f_G* identically and D1(G_t, G*) > 0.

The merge of an over-fitted cell j with m atoms: every atom keeps the true gate parameters and the weight
w*_j / m; the coordinates the model sees only linearly (``linear_names``: e.g. a, alpha of a linear expert)
are split as theta*_jp + t xi_i with sum_i xi_i = 0 (xi = (1, -1, 0, ..)); everything else stays at the truth.
Then f_G - f_G* is decided identically zero in (inputs, t) by :func:`hmoe_theory.certify.decide_zero`
(sympy; ``proved`` only for an exact reduction to 0). If it is, every point of the family has
phi = 0 while its D1 is

* atom-wise: sum_i (w*_j/m) sum_p |t xi_i| > 0 -- the loss is **not identifiable**: phi = 0 on a curve with
  D1 = c t, so no inverse bound of any order holds and no rate is possible under that loss;
* merged: 0 (the cell aggregate is exact) -- no contradiction; the merged loss is not refuted by the scan.

The scalings (:func:`scale_scan`) of :meth:`RateModel.candidate_scalings`: coordinate p times (1 + t)^e_p on the
first cell (or on every atom), e.g. w_j = w*_j (1 + t) and every linearly entering coordinate divided by (1 + t).
When the model sees weight and those coordinates only through their product (summed heads of an attention entry,
w_h V_h), f_G = f_G* identically while D1 >= |w*_j t| > 0 under *both* conventions (the mass term). Other
candidates: W_Q (1 + t), W_K / (1 + t) (the tied layer sees W_Q W_K^T only), the scores and a shared temperature
both times (1 + t) (scores / tau). Each candidate is decided, never assumed.

Shared coordinates (``RateModel.shared_names``, e.g. tau) stay at the truth in the merge and move only with a
scaling that names them; D1 adds sum_q |tau_q - tau*_q|. relu = Max(0, z) is rewritten as (z + |z|) / 2 before
the decision (an identity; sympy then cancels |z / (1 + t)| = |z| / (1 + t) for t > 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from ..certify import STRATEGIES, Status, ZeroDecision, decide_zero
from ..estimation.voronoi import d1_loss
from .models import WEIGHT, RateModel, Scaling


@dataclass(frozen=True)
class Degeneracy:
    """Outcome of the scan for one configuration."""

    status: Status | None  # PROVED: f_Gt = f_G* identically; None: no merge to try
    method: str
    family: str
    d1_at_tenth: float  # D1 of the family at t = 1/10 under the convention
    symmetry: bool = False  # a scaling: it acts atom by atom, so it is a symmetry with k = k* atoms too

    @property
    def not_identifiable(self) -> bool:
        return self.status is Status.PROVED and self.d1_at_tenth > 0

    def to_dict(self) -> dict:
        return {"status": None if self.status is None else self.status.value, "method": self.method,
                "family": self.family, "d1_at_t_0.1": self.d1_at_tenth}


#: softmax identities: exp(p) -> positive symbol first (it expands, then cancels; "expand" alone repeats the
#: expansion and fails on the attention entries), then every other strategy of certify.STRATEGIES
PROOF_ORDER = ("cancel after exp(p) -> positive symbol",
               *(name for name in STRATEGIES if name != "cancel after exp(p) -> positive symbol"))


def merge_scan(model: RateModel, sizes: tuple[int, ...], convention: str, time_limit_s: float = 10.0) -> Degeneracy:
    """The scan of the module docstring for the configuration ``sizes``."""
    linear = model.index(model.linear_names)
    cells = [j for j, m in enumerate(sizes) if m > 1]
    if not linear or not cells:
        return Degeneracy(None, "no over-fitted cell or no linearly entering coordinate", "", 0.0)
    t = sp.Symbol("t", real=True)
    built = model.build(sum(sizes))
    truth = model.build(model.k_true)
    values: dict = {s: _q(v) for s, v in zip(built.shared, model.true_shared)}
    weights, atoms, members = [], [], []
    i = 0
    for j, m in enumerate(sizes):
        members.append(list(range(i, i + m)))
        for r in range(m):
            xi = (1 if r == 0 else -1 if r == 1 else 0) if m > 1 else 0
            w = _q(model.true_weights[j]) / m
            values[built.weights[i]] = w
            row = []
            for p, symbol in enumerate(built.atoms[i]):
                value = _q(model.true_atoms[j][p]) + (t * xi if p in linear and j in cells else 0)
                values[symbol] = value
                row.append(value.subs(t, sp.Rational(1, 10)))
            weights.append(w)
            atoms.append(row)
            i += 1
    status, decision, d1 = _decide(model, built, truth, values, t, (weights, atoms, members, model.true_shared),
                                   convention, linear, time_limit_s)
    split = ", ".join(model.linear_names)
    family = (f"cells {sizes}: atoms of an over-fitted cell share the true gate and weight w*/m; {split} split as "
              "theta* +- t")
    detail = f" ({decision.detail})" if decision.detail and status is not Status.PROVED else ""
    return Degeneracy(status, decision.method + detail, family, d1)


def scale_scan(model: RateModel, sizes: tuple[int, ...], convention: str, scaling: Scaling,
               time_limit_s: float = 10.0) -> Degeneracy:
    """The ``scaling`` of the module docstring on the first cell (split atoms: equal shares of the cell's weight),
    or on every atom (``scaling.every_atom``); shared coordinates scale by their own exponent."""
    linear = model.index(model.linear_names)
    t = sp.Symbol("t", positive=True)
    tenth = sp.Rational(1, 10)

    def scaled(value: sp.Expr, name: str, moves: bool) -> sp.Expr:
        return value * (1 + t) ** scaling.exponent(name) if moves else value

    built, truth = model.build(sum(sizes)), model.build(model.k_true)
    values = {s: scaled(_q(v), n, True) for s, n, v in zip(built.shared, model.shared_names, model.true_shared)}
    shared_at_tenth = [v.subs(t, tenth) for v in (values[s] for s in built.shared)]
    weights, atoms, members = [], [], []
    i = 0
    for j, m in enumerate(sizes):
        members.append(list(range(i, i + m)))
        moves = scaling.every_atom or j == 0
        for _ in range(m):
            w = scaled(_q(model.true_weights[j]), WEIGHT, moves) / m
            values[built.weights[i]] = w
            row = []
            for p, symbol in enumerate(built.atoms[i]):
                values[symbol] = scaled(_q(model.true_atoms[j][p]), model.atom_names[p], moves)
                row.append(sp.sympify(values[symbol]).subs(t, tenth))
            weights.append(sp.sympify(w).subs(t, tenth))
            atoms.append(row)
            i += 1
    status, decision, d1 = _decide(model, built, truth, values, t, (weights, atoms, members, shared_at_tenth),
                                   convention, linear, time_limit_s)
    family = (f"cells {sizes}: {scaling.name} scaling of {'every atom' if scaling.every_atom else 'the first cell'}: "
              f"{_moves(scaling)} (split atoms: equal shares)")
    detail = f" ({decision.detail})" if decision.detail and status is not Status.PROVED else ""
    return Degeneracy(status, decision.method + detail, family, d1, symmetry=True)


def _decide(model: RateModel, built, truth, values: dict, t: sp.Symbol, at_tenth: tuple[list, list, list],
            convention: str, linear: list[int], time_limit_s: float) -> tuple[Status, ZeroDecision, float]:
    """Is f_G(t) - f_G* identically zero (``decide_zero`` in (x, t); proved/refuted, else inconclusive), and D1 of
    the family at t = 1/10 (``at_tenth``: its weights, atoms, cells and shared coordinates there; D1 adds
    sum_q |tau_q - tau*_q|)."""
    true_values = {w: _q(v) for w, v in zip(truth.weights, model.true_weights)}
    true_values.update({s: _q(v) for row, true in zip(truth.atoms, model.true_atoms) for s, v in zip(row, true)})
    true_values.update({s: _q(v) for s, v in zip(truth.shared, model.true_shared)})
    difference = built.expr.xreplace(values) - truth.expr.xreplace(true_values)
    if difference.has(sp.Max):
        difference = difference.rewrite(sp.Abs)
    decision = decide_zero(difference, [*built.inputs, t], time_limit_s=time_limit_s, strategies=PROOF_ORDER)
    status = decision.status if decision.status in (Status.PROVED, Status.REFUTED) else Status.INCONCLUSIVE
    weights, atoms, members, shared = at_tenth
    loss = d1_loss(np.array(weights, dtype=float), np.array(atoms, dtype=float),
                   np.array([float(w) for w in model.true_weights]),
                   np.array([[float(v) for v in row] for row in model.true_atoms]),
                   convention=convention, merged=linear, cells=members)
    return status, decision, loss.value + sum(abs(float(v) - float(v0)) for v, v0 in zip(shared, model.true_shared))


def _moves(scaling: Scaling) -> str:
    """'weight times (1 + t); V_1 divided by (1 + t)' -- the coordinates grouped by exponent."""
    groups: dict[int, list[str]] = {}
    for name, e in scaling.exponents:
        groups.setdefault(e, []).append(name)
    said = {1: "times (1 + t)", -1: "divided by (1 + t)"}
    return "; ".join(f"{', '.join(names)} {said.get(e, f'times (1 + t)^{e}')}" for e, names in groups.items())


def _q(value: Fraction) -> sp.Rational:
    return sp.Rational(value.numerator, value.denominator)
