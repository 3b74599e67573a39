"""Voronoi-loss exponents per parameter block: the literature's and the ones this toolkit derives.

Blocks: a parameter's block is its name without trailing indices (``beta_1 -> beta``, ``A_1_2 -> A``,
``a1 -> a``, ``alpha -> alpha``), the weight term is separate. Over-fitted cells of size m use
rbar(m) = 0, 1, 4, 6 for m = 0..3 (Ho & Nguyen 2016, Prop. 2.1; the group's public code, see
shared/RATES_PROTOCOL.md) and rbar(4) = 8 (proved here: claim ``r-bar.four-equals-eight``, docs/r_bar.md);
exact cells (m = 1) use exponent 1.

* :func:`literature_exponents` -- ``strong`` (strongly identifiable experts, least squares): 2 on every
  block of an over-fitted cell; ``rbar`` (linear experts, the interaction case of CRPE-SGaME): rbar(m)
  on the gate's blocks and on the expert's intercept, rbar(m)/2 on the other expert blocks and the variance.
* :func:`derived_exponents` -- a DIAGNOSTIC, not a rate theory: no theorem backs these exponents outside the
  softmax-gated Gaussian MoE with linear experts (where they coincide with ``rbar``, arXiv 2505.10860 v1,
  Theorem 2). A relation such as dF/da = d2F/dbeta dalpha also holds for ridge experts with a bias (tanh),
  but there the second-order system is not degenerate, so nothing makes rbar(m) the right exponent; the
  loss they define (``voronoi_derived``) is stored as a diagnostic and no rate or claim rests on it.
  Construction, from the constant-coefficient relations (PDEs) that
  :func:`hmoe_theory.interactions.discover_relations` finds among the derivatives of order 1 and 2 of
  F = gate factor x expert (identified parametrisation: symmetric A for quadratic gates) -- relations found
  with the same coefficients at two generic points; the other relations' coefficients depend on the point
  (e.g. homogeneity of linear experts) and are not interactions of the theory. Rule
  (this toolkit's reconstruction, stated so that it can be checked): a block whose first derivative enters
  a relation with second derivatives (dF/da = d2F/dbeta dalpha; dF/dA = d2F/db db^T) gets rbar(m)/2; a block
  that enters such a relation only through second derivatives gets rbar(m); blocks in no such relation get
  2 (no interaction: strong identifiability at order 2). Derivatives that vanish identically (d2F/da^2 = 0
  for a linear expert) and relations among second derivatives only (the quadratic-form collisions) leave
  the exponents unchanged; every relation used is returned with the exponents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from ..errors import ModelError
from ..families import GATES, Expert, Gate, gate_expert
from .voronoi import VoronoiExponents, rbar

LITERATURE_PRESETS = ("strong", "rbar")
__all__ = ["LITERATURE_PRESETS", "block_of", "derived_exponents", "literature_exponents", "rbar"]


def block_of(name: str) -> str:
    """``beta_1 -> beta``, ``A_1_2 -> A``, ``a1 -> a``, ``w0 -> w``, ``alpha -> alpha``."""
    return re.sub(r"[_0-9]+$", "", name) or name


def _half_rbar(m: int) -> float:
    return rbar(m) / 2


def literature_exponents(
    preset: str, gate_blocks: Sequence[str], expert_blocks: Sequence[str], intercepts: Sequence[str]
) -> VoronoiExponents:
    """The literature's exponents (module docstring) for the blocks of a setting."""
    if preset == "strong":
        return VoronoiExponents()
    if preset == "rbar":
        overfit = {b: rbar for b in gate_blocks}
        overfit.update({b: (rbar if b in intercepts else _half_rbar) for b in expert_blocks})
        overfit["nu"] = _half_rbar
        return VoronoiExponents(overfit=overfit)
    raise ModelError(f"unknown Voronoi preset {preset!r} (known: strong, rbar)")


@cache
def derived_exponents(gate: Gate, expert: Expert, d: int) -> tuple[VoronoiExponents, tuple[str, ...]]:
    """Exponents from the discovered relations (module docstring) and the relations' text."""
    from ..interactions import discover_relations

    identified = GATES.get(f"{gate.name}-symmetric", gate)
    function = gate_expert(identified, expert, d)
    texts = [
        {r.text: r for r in discover_relations(function, order=2, min_order=1, seed=seed, certify=False).relations}
        for seed in (0, 1)
    ]
    pdes = [relation for text, relation in texts[0].items() if text in texts[1]]
    half, full = set(), set()
    for relation in pdes:
        orders = {len(t.column.derivative.params) for t in relation.terms}
        if len(relation.terms) == 1 or orders == {2}:
            continue  # a derivative that vanishes identically, or a collision among second derivatives
        first = {block_of(p) for t in relation.terms if len(t.column.derivative.params) == 1 for p in t.column.derivative.params}
        second = {block_of(p) for t in relation.terms if len(t.column.derivative.params) == 2 for p in t.column.derivative.params}
        half |= first
        full |= second - first
    overfit = {b: _half_rbar for b in half}
    overfit.update({b: rbar for b in full - half})
    return VoronoiExponents(overfit=overfit), tuple(r.text for r in pdes)
