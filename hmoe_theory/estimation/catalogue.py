"""The named settings of the rate studies, written in the same schema as a user's TOML file (:mod:`.setting`).

Every setting: d = 2, X ~ Uniform[-1, 1]^2, k* = 2 true components with mixing weights exp(0.5) and 1.

* regression ``<gate>/<expert>/<exact|over>`` for gate in {softmax-linear, quadratic-polynomial,
  quadratic-monomial, laplace} and expert in {linear, ridge-sigmoid, ridge-tanh, ridge-gelu, gated-linear}:
  Y = f_G*(X) + N(0, 0.01), least squares with k = 2 (``exact``) or k = 3 (``over``);
* density ``gaussian-moe/<exact|over>``: softmax-gated Gaussian mixture of linear experts, fitted by EM.

Headline loss (``voronoi``): the literature's exponents -- ``rbar`` (Ho-Nguyen rbar(|V|) on gate and
intercept, rbar/2 on expert slopes and variance) for linear experts, which interact with softmax-linear
and quadratic-polynomial gates, and ``strong`` (exponent 2 in over-fitted cells) otherwise, including
the quadratic-monomial gate whose point is to remove that interaction. ``voronoi_derived`` uses the
exponents the toolkit derives from the relations it finds (:mod:`.exponents`).

:data:`CONTRASTS` are the literature's comparative claims as paired comparisons (same X and noise draws).
"""

from __future__ import annotations

import itertools
import math

from ..errors import lookup
from .setting import Setting, setting_from_mapping

NOISE_VARIANCE = 0.01
DESIGN = "uniform(-1, 1)"
WEIGHTS = (math.exp(0.5), 1.0)

_GATES: dict[str, tuple[dict[str, float], dict[str, float]]] = {
    "softmax-linear": ({"beta_1": 2.0, "beta_2": -1.0}, {"beta_1": 0.0, "beta_2": 0.0}),
    "quadratic-polynomial": (
        {"A_1_1": 1.5, "A_1_2": 0.5, "A_2_1": 0.5, "A_2_2": -1.0, "b_1": 1.0, "b_2": -1.0},
        {"A_1_1": 0.0, "A_1_2": 0.0, "A_2_1": 0.0, "A_2_2": 0.0, "b_1": 0.0, "b_2": 0.0},
    ),
    "quadratic-monomial": (
        {"A_1_1": 2.0, "A_1_2": 0.5, "A_2_1": 0.5, "A_2_2": -1.5},
        {"A_1_1": 0.0, "A_1_2": 0.0, "A_2_1": 0.0, "A_2_2": 0.0},
    ),
    "laplace": ({"beta_1": 0.5, "beta_2": 0.5}, {"beta_1": -0.5, "beta_2": -0.5}),
}
_AFFINE = ({"a_1": 2.0, "a_2": -1.0, "alpha": 0.5}, {"a_1": -1.0, "a_2": 2.0, "alpha": -0.5})
_EXPERTS: dict[str, tuple[dict[str, float], dict[str, float]]] = {
    **{e: _AFFINE for e in ("linear", "ridge-sigmoid", "ridge-tanh", "ridge-gelu")},
    "gated-linear": (
        {"w_1": 1.0, "w_2": 1.0, "w0": 0.5, **_AFFINE[0]},
        {"w_1": -1.0, "w_2": 1.0, "w0": 0.0, **_AFFINE[1]},
    ),
}
_VARIANCES = (0.05, 0.1)
# gates whose interaction with linear experts the literature measures with rbar exponents
_INTERACTING = ("softmax-linear", "quadratic-polynomial", "laplace")


def regression_mapping(gate: str, expert: str, over: bool) -> dict:
    """The schema mapping of a catalogue regression setting."""
    preset = "rbar" if expert == "linear" and gate in _INTERACTING else "strong"
    fit = "k = 3 (over-specified)" if over else "k = k* = 2 (exact)"
    return {
        "name": f"{gate}/{expert}/{'over' if over else 'exact'}",
        "description": f"regression, {gate} gate x {expert} experts, k* = 2, d = 2, noise variance "
        f"{NOISE_VARIANCE}, least squares with {fit}; headline loss exponents: {preset}",
        "inputs": ["x1", "x2"],
        "gate_family": gate,
        "expert_family": expert,
        "design": DESIGN,
        "noise_variance": NOISE_VARIANCE,
        "k": 3 if over else 2,
        "voronoi": preset,
        "truth": [{"weight": w, **_GATES[gate][j], **_EXPERTS[expert][j]} for j, w in enumerate(WEIGHTS)],
    }


def gaussian_mapping(over: bool) -> dict:
    """The schema mapping of the softmax-gated Gaussian mixture of linear experts (EM)."""
    fit = "k = 3 (over-specified)" if over else "k = k* = 2 (exact)"
    return {
        "name": f"gaussian-moe/{'over' if over else 'exact'}",
        "description": "density, softmax-gated Gaussian mixture of linear experts, k* = 2, d = 2, EM with "
        f"{fit}; headline loss exponents: rbar",
        "inputs": ["x1", "x2"],
        "gate_family": "softmax-linear",
        "expert_family": "linear",
        "design": DESIGN,
        "k": 3 if over else 2,
        "estimator": "em",
        "voronoi": "rbar",
        "truth": [
            {"weight": w, **_GATES["softmax-linear"][j], **_AFFINE[j], "variance": _VARIANCES[j]}
            for j, w in enumerate(WEIGHTS)
        ],
    }


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        *(
            setting_from_mapping(regression_mapping(g, e, over))
            for g, e, over in itertools.product(_GATES, _EXPERTS, (False, True))
        ),
        setting_from_mapping(gaussian_mapping(False)),
        setting_from_mapping(gaussian_mapping(True)),
    )
}

# the decisive reproduction (issue: rates v2): the literature's contrasts, exact and over-specified
DEFAULT_SETTINGS: tuple[str, ...] = tuple(
    f"{pair}/{fit}"
    for pair in (
        "softmax-linear/linear",
        "softmax-linear/ridge-tanh",
        "quadratic-polynomial/linear",
        "quadratic-monomial/linear",
        "quadratic-monomial/ridge-tanh",
        "gaussian-moe",
    )
    for fit in ("exact", "over")
)

# (name, setting_a, setting_b, metric, statement): "a decays faster than b" as a paired slope difference
CONTRASTS: tuple[tuple[str, str, str, str, str], ...] = tuple(
    (f"{name}-{metric}", a, b, metric, statement)
    for name, a, b, statement in (
        (
            "nonlinear-vs-linear-experts",
            "softmax-linear/ridge-tanh/over",
            "softmax-linear/linear/over",
            "non-linear (tanh) experts are estimated faster than linear ones (softmax-linear gate, over-specified)",
        ),
        (
            "monomial-vs-polynomial-gate",
            "quadratic-monomial/linear/over",
            "quadratic-polynomial/linear/over",
            "the quadratic monomial gate gives faster expert estimation than the quadratic polynomial gate "
            "(linear experts, over-specified)",
        ),
        (
            "monomial-tanh-vs-linear",
            "quadratic-monomial/ridge-tanh/over",
            "quadratic-monomial/linear/over",
            "tanh experts are estimated faster than linear ones under the quadratic monomial gate",
        ),
    )
    for metric in ("voronoi", "voronoi_derived")
)


def get_setting(name: str | Setting) -> Setting:
    """Catalogue look-up with a one-line error."""
    return name if isinstance(name, Setting) else lookup(SETTINGS, name, "setting")
