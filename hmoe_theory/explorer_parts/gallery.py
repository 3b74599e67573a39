"""The papers' examples, as explorer inputs (what the gallery tab loads).

Each :class:`Example` holds the keyword arguments of :func:`hmoe_theory.explorer.explore_family`
(``kind == "family"``) or :func:`hmoe_theory.explorer.explore_curvature` (``kind == "curvature"``) and a
one-line statement of what it shows; ``tests/test_explorer_widget.py`` checks every statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Example:
    """One gallery entry."""

    title: str
    kind: str  # "family" | "curvature"
    arguments: dict[str, Any] = field(default_factory=dict)
    shows: str = ""


SPHERE_BY_GATE = "[2*R*u/(1 + u**2 + v**2), 2*R*v/(1 + u**2 + v**2), R*(1 - u**2 - v**2)/(1 + u**2 + v**2)]"

GALLERY: tuple[Example, ...] = (
    Example(
        "softmax gate x linear expert: the beta-alpha-a PDE",
        "family",
        {"gate": "softmax-linear", "expert": "linear"},
        "dF/da = d2F/dbeta dalpha (interaction), three vanishing second derivatives, homogeneity in (a, alpha)",
    ),
    Example(
        "quadratic gate: dF/dA = d2F/db^2",
        "family",
        {"gate": "quadratic-polynomial", "expert": "linear"},
        "the gate's quadratic and linear coefficients interact; coefficient 1/a_1 appears in a theta-dependent relation",
    ),
    Example(
        "monomial gate (attention) x tanh expert: no relation",
        "family",
        {"gate": "quadratic-monomial", "expert": "ridge-tanh"},
        "without the linear term b.x no PDE survives: strongly identifiable at order 2 (d = 1)",
    ),
    Example(
        "sigmoid gate x gated-linear expert (G1/G2 gated attention)",
        "family",
        {"gate": "sigmoid", "expert": "gated-linear"},
        "three mixed-derivative interactions between gate, inner gate and expert",
    ),
    Example(
        "active-attention: tanh value expert under the attention gate",
        "family",
        {"gate": "quadratic-monomial", "expert": "value-tanh"},
        "the row of active-attention (arXiv 2410.11222) with phi = tanh: no relation, strongly identifiable at order 2",
    ),
    Example(
        "active-attention: gelu value expert under the attention gate",
        "family",
        {"gate": "quadratic-monomial", "expert": "value-gelu"},
        "one theta-dependent relation among F, dF/dA, dF/da and second derivatives: GELU's Gaussian factor meets exp(A x^2)",
    ),
    Example(
        "Gaussian density: heat equation in the variance",
        "family",
        {"function": "normal_pdf(y, m, v)", "inputs": "y", "params": "m, v", "positive": "v"},
        "dF/dv = 1/2 d2F/dm^2 (it fails for the standard deviation, see notebook 05)",
    ),
    Example(
        "sigmoid-gated witness: gates bend the Fisher-Rao metric",
        "curvature",
        {"map_text": "[sigmoid(2 - u - v), sigmoid(-u), sigmoid(-v - 2)]", "coords": "u, v", "ranges": {"u": (-3.0, 3.0), "v": (-3.0, 3.0)}},
        "Y = sigmoid(W theta + b) entrywise: curved, K(0, 0) = 1.95929...",
    ),
    Example(
        "ungated attention row: flat",
        "curvature",
        {"map_text": "[exp(u)/(exp(u) + exp(v) + 1), exp(v)/(exp(u) + exp(v) + 1), 1/(exp(u) + exp(v) + 1)]", "coords": "u, v", "ranges": {"u": (-3.0, 3.0), "v": (-3.0, 3.0)}},
        "softmax(theta) times fixed values with n = dim aff(values): K = 0 everywhere",
    ),
    Example(
        "scalar gate between two experts: a sphere",
        "curvature",
        {"map_text": SPHERE_BY_GATE, "coords": "u, v", "ranges": {"u": (-2.0, 2.0), "v": (-2.0, 2.0)}, "sets": {"R": 2.0}},
        "the image is a round sphere of radius R: K = 1/R^2 = 0.25",
    ),
    Example(
        "helicoid (u cos v, u sin v, c v)",
        "curvature",
        {"map_text": "[u*cos(v), u*sin(v), c*v]", "coords": "u, v", "ranges": {"u": (-2.0, 2.0), "v": (0.0, 6.283185307179586)}, "sets": {"c": 1.5}},
        "a minimal surface: K = -c^2/(c^2 + u^2)^2 < 0, independent of v",
    ),
    Example(
        "round 3-sphere: scalar curvature",
        "curvature",
        {
            "map_text": "[R*cos(a), R*sin(a)*cos(b), R*sin(a)*sin(b)*cos(c), R*sin(a)*sin(b)*sin(c)]",
            "coords": "a, b, c",
            "ranges": {"a": (0.3, 2.8), "b": (0.3, 2.8)},
            "sets": {"R": 2.0, "c": 0.7},
        },
        "three coordinates: scalar curvature S = 6/R^2 = 1.5",
    ),
)


def example(title: str) -> Example:
    """The gallery entry with this title (KeyError otherwise)."""
    for entry in GALLERY:
        if entry.title == title:
            return entry
    raise KeyError(title)
