"""Starting points of the search: constructions from the model's PDE relations, splits, random starts.

A seed is a named family t -> deviations (:class:`~.coordinates.Deviations`) of one configuration. In every
over-fitted cell (m atoms, split weights pi and nodes xi: the m-point Gauss-Hermite rule of a centred law,
sum pi xi = 0, sum pi xi^2 = sigma^2):

* ``pde:<relation>`` -- for a relation dF/d theta_u = c d^2F/d theta_v d theta_w found by
  :func:`hmoe_theory.interactions.discover_relations` at the true atom: theta_v = t xi_i (and theta_w = t xi_i),
  theta_u = -t^2 sigma^2 / (2c) (v = w) or -t^2 sigma^2 / c (v != w); this cancels the second-order Taylor term
  of sum_i pi_i F(theta* + Delta_i) (the heat pair of Gaussian location-scale mixtures, Ho & Nguyen 2016);
* ``split:<p>`` -- theta_p = t xi_i (the +- split of one coordinate);
* ``random:<r>`` -- Gaussian deviations of every coordinate and mass (seeded, reproducible).

For m = 2 (xi = +-1, pi = 1/2) and m = 3 (xi = -1, 0, 1; pi = 1/6, 2/3, 1/6; sigma^2 = 1/3) the rule is
rational, so at a rational t the constructions are exact rational points (the certificates use them).
Singleton cells: ``shift:<p>`` moves one coordinate of one non-pinned atom by t (exact fits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..errors import HmoeError
from ..interactions.discovery import discover_relations
from .coordinates import Coordinates, Deviations

RANDOM_STARTS = 3


@dataclass(frozen=True)
class Seed:
    """A named family of points; ``exact``: rational at rational t (certifiable)."""

    name: str
    family: Callable[[object], Deviations]
    exact: bool


def node_rule(m: int) -> tuple[list, list, object]:
    """Nodes xi, weights pi and sigma^2 of an m-point rule of a centred law (rational for m <= 3)."""
    if m == 1:
        return [Fraction(0)], [Fraction(1)], Fraction(0)
    if m == 2:
        return [Fraction(1), Fraction(-1)], [Fraction(1, 2)] * 2, Fraction(1)
    if m == 3:
        return [Fraction(-1), Fraction(0), Fraction(1)], [Fraction(1, 6), Fraction(2, 3), Fraction(1, 6)], Fraction(1, 3)
    nodes, weights = np.polynomial.hermite_e.hermegauss(m)
    return list(nodes), list(weights / weights.sum()), 1.0


def heat_relations(coords: Coordinates) -> list[tuple[int, int, int, Fraction]]:
    """(u, v, w, c) for the relations dF/du = c d^2F/dv dw of the single-atom function at the true atom."""
    model = coords.model
    function = model.single_atom()
    names = set(model.atom_names)
    point = {n: str(v) for n, v in zip(model.atom_names, model.true_atoms[0]) if n in {p.name for p in function.params}}
    try:
        found = discover_relations(function, order=2, point=point, min_order=1, certify=False)
    except HmoeError:
        return []
    out = []
    for relation in found.relations:
        if len(relation.terms) != 2:
            continue
        first, second = sorted(relation.terms, key=lambda t: len(t.column.derivative.params))
        p1, p2 = first.column.derivative.params, second.column.derivative.params
        if len(p1) != 1 or len(p2) != 2 or p1[0] in p2 or not {*p1, *p2} <= names:
            continue
        c = -Fraction(second.coefficient) / Fraction(first.coefficient)
        out.append((model.atom_names.index(p1[0]), model.atom_names.index(p2[0]), model.atom_names.index(p2[1]), c))
    return out


def seeds(coords: Coordinates, seed: int = 0) -> list[Seed]:
    """Every seed of the configuration (module docstring)."""
    split = [j for j, m in enumerate(coords.sizes) if m > 1]
    out: list[Seed] = []
    if split:
        for u, v, w, c in heat_relations(coords):
            name = f"pde:d/d{coords.model.atom_names[u]}=c d2/d{coords.model.atom_names[v]}d{coords.model.atom_names[w]}"
            out.append(Seed(name, _pattern(coords, split, {v: 1, w: 1}, (u, v == w, c)), True))
        for p, name in enumerate(coords.model.atom_names):
            out.append(Seed(f"split:{name}", _pattern(coords, split, {p: 1}, None), True))
    else:
        for i in range(coords.k):
            for p, name in enumerate(coords.model.atom_names):
                if ("atom", i, p) in coords.penalised or any(s[0] == "aggregate" and s[2] == p for s in coords.penalised):
                    out.append(Seed(f"shift:{name}[{i + 1}]", _shift(coords, i, p), True))
    rng = np.random.default_rng(seed)
    for r in range(RANDOM_STARTS):
        draws = (rng.normal(size=len(coords.sizes)), rng.normal(size=(coords.k, coords.P)), rng.uniform(0.2, 1.0, coords.k))
        out.append(Seed(f"random:{r + 1}", _random(coords, *draws), False))
    return out


def _zero(coords: Coordinates) -> tuple[list, list, list]:
    pi = [Fraction(1)] * coords.k
    return pi, [Fraction(0)] * len(coords.sizes), [[Fraction(0)] * coords.P for _ in range(coords.k)]


def _pattern(coords: Coordinates, cells: list[int], moved: dict[int, int], heat) -> Callable[[object], Deviations]:
    def family(t) -> Deviations:
        pi, dm, delta = _zero(coords)
        for j in cells:
            nodes, weights, variance = node_rule(coords.sizes[j])
            for i, xi, weight in zip(coords.members[j], nodes, weights):
                pi[i] = weight
                for p in moved:
                    delta[i][p] = t * xi
                if heat is not None:
                    u, same, c = heat
                    delta[i][u] = -t * t * variance / (2 * c if same else c)
        return Deviations(np.array(pi, dtype=object), np.array(dm, dtype=object), np.array(delta, dtype=object))

    return family


def _shift(coords: Coordinates, atom: int, p: int) -> Callable[[object], Deviations]:
    def family(t) -> Deviations:
        pi, dm, delta = _zero(coords)
        delta[atom][p] = t
        return Deviations(np.array(pi, dtype=object), np.array(dm, dtype=object), np.array(delta, dtype=object))

    return family


def _random(coords: Coordinates, mass: np.ndarray, moves: np.ndarray, shares: np.ndarray) -> Callable[[object], Deviations]:
    def family(t) -> Deviations:
        pi = np.ones(coords.k)
        for j in range(len(coords.sizes)):
            rows = coords.members[j]
            pi[rows] = shares[rows] / shares[rows].sum()
        dm = float(t) * mass
        if coords.model.simplex:
            dm[-1] = -dm[:-1].sum()
        if coords.pinned_cell is not None:
            dm[coords.pinned_cell] = 0.0
        delta = float(t) * moves
        if coords.pinned_cell is not None:
            for p in coords.model.index(coords.model.gate_names):
                delta[coords.members[coords.pinned_cell][0], p] = 0.0
        return Deviations(pi, dm, delta)

    return family


def as_float(dev: Deviations) -> Deviations:
    return Deviations(*(np.asarray(a, dtype=float) for a in (dev.pi, dev.dm, dev.delta)))


def level(coords: Coordinates, dev: Deviations) -> float:
    """||z|| of a point: its level eps."""
    z = coords.coordinates(as_float(dev))[: len(coords.penalised)]
    return float(np.linalg.norm(z))


def at_level(coords: Coordinates, seed: Seed, eps: float) -> tuple[float, Deviations]:
    """(t, point) of the seed's family with level eps (bisection in log t)."""
    lo, hi = -14.0, 2.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if level(coords, seed.family(10.0**mid)) < eps:
            lo = mid
        else:
            hi = mid
    t = 10.0 ** ((lo + hi) / 2)
    return t, as_float(seed.family(t))
