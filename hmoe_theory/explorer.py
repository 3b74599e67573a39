"""Interactive explorer: type a family, see its parameter relations and identifiability; type a mean
map, see its curvature field.

Plain functions first (usable anywhere, returned objects print as text tables):

* :func:`explore_family` -- linear relations among the partial derivatives of ``F(z; theta)`` and
  identifiability. ``F`` is a catalogue gate x expert (:func:`~hmoe_theory.families.gate_expert`) or a
  formula typed by the user. With ``D_0 = F`` and ``D_k = d^|k| F / d theta^k`` (``1 <= |k| <= order``),
  a *relation* is ``sum_k c_k D_k(z; theta) = 0`` for all inputs ``z``. Relations at a generic rational
  point are found and certified by :func:`hmoe_theory.interactions.discover_relations`; the explorer
  runs it at two independent generic points ``theta_0, theta_1`` and splits them into

  - *PDEs* (constant coefficients): ``span N(theta_0) ∩ span N(theta_1)`` (exact rational linear
    algebra), each certified with every parameter symbolic (:func:`~hmoe_theory.certify.decide_zero`).
    A one-term PDE is *trivial* (a derivative that vanishes identically, e.g. ``d2F/da^2 = 0`` for a
    linear expert); the others are *interactions*, e.g. ``dF/da - d2F/dbeta dalpha = 0`` for
    ``exp(beta x) (a x + alpha)``;
  - *theta-dependent* relations: the canonical basis of ``N(theta_0)`` modulo the PDEs, e.g. the
    homogeneity ``F = a dF/da + alpha dF/dalpha``, with their coefficients reconstructed as expressions
    in theta and proved with theta symbolic (:mod:`hmoe_theory.explorer_parts.coefficients`).

  Hypothesis: ``theta_0, theta_1`` are generic (a relation holding only on a measure-zero parameter set
  is missed; at a special ``theta_0`` a theta-dependent relation whose coefficients coincide at both points
  is taken for a PDE -- and then fails the symbolic certification, which reports ``refuted``: true at
  ``theta_0``, false for generic theta; the report says so).

  Identifiability: the Fisher information ``E[grad F grad F^T]`` of one component at ``theta_0`` is
  non-singular iff the first-order derivatives are linearly independent functions of ``z`` (rank ``n``:
  *locally identifiable*); *strong identifiability* (order ``r``, two components) is decided by
  :func:`hmoe_theory.interactions.identifiability.check_family` with the ``strong`` preset: ``F`` and
  its derivatives up to order ``r`` at two distinct generic points are linearly independent.

* :func:`explore_curvature` -- the Fisher-Rao (pullback) metric ``g = J^T Sigma^-1 J`` of
  ``N(Y(theta), Sigma)`` for a typed mean map ``Y`` and its curvature on a grid over two coordinates
  (Gaussian curvature ``K`` for two coordinates, scalar curvature otherwise), computed by
  :class:`hmoe_theory.geometry.metric.PullbackMetric` (Gauss equation); :meth:`CurvatureField.figure`
  draws the heat map (:mod:`.explorer_parts.curvature`).

* :func:`explore_attention` -- the relations of one attention entry with a gate at a given position
  (:mod:`.explorer_parts.attention`).

* :func:`explorer_widget` -- the app for Jupyter and Voila (:mod:`hmoe_theory.explorer_parts.widget`):
  sliders, a live plotly heat map, copy as code, exports and a gallery of the papers' examples (raises a
  one-line :class:`~hmoe_theory.errors.HmoeError` when ipywidgets or plotly is not installed).

User text goes only through the safe parsers of :mod:`hmoe_theory.expr`.

This module is the public entry point and only gathers the parts: data flows one way, from
:mod:`hmoe_theory.explorer_parts` to here, never back (no part imports this module).
"""

from __future__ import annotations

from typing import Any

from .explorer_parts.attention import explore_attention
from .explorer_parts.curvature import CurvatureField, explore_curvature, parse_ranges, parse_sigma
from .explorer_parts.family import MAX_DERIVATIVES, FamilyReport, explore_family

__all__ = [
    "MAX_DERIVATIVES", "CurvatureField", "FamilyReport", "explore_attention", "explore_curvature", "explore_family",
    "explorer_widget", "parse_ranges", "parse_sigma",
]


def explorer_widget() -> Any:
    """The explorer app (ipywidgets; works in Jupyter and Voila): relations of a family, curvature field of
    a mean map with sliders and a live plotly heat map, relations of an attention entry, and a gallery of the
    papers' examples; see :mod:`hmoe_theory.explorer_parts.widget`.

    Raises :class:`HmoeError` (one line) when ipywidgets or plotly is not installed. Errors in the typed
    input are shown as one line in the result area.
    """
    from .explorer_parts.widget import build

    return build()
