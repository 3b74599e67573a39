"""The named settings of the rate studies, written in the same schema as a user's TOML file (:mod:`.setting`),
with the convention each one's numbers are about (:func:`convention`).

Every setting: d = 2, X ~ Uniform[-1, 1]^2, k* = 2 true components with mixing weights exp(0.5) and 1.

* regression ``<gate>/<expert>/<exact|over>`` for gate in {softmax-linear, quadratic-polynomial,
  quadratic-monomial, laplace} and expert in {linear, ridge-sigmoid, ridge-tanh, ridge-gelu, gated-linear}:
  Y = f_G*(X) + N(0, 0.01), least squares with k = 2 (``exact``) or k = 3 (``over``). Headline loss
  ``voronoi`` = D1 (exponent 1 in exact cells, 2 in over-fitted cells, every block; the ``strong`` preset)
  for EVERY regression setting, so that a contrast of two regression settings compares one functional;
* density ``gaussian-moe/<exact|over>``: softmax-gated Gaussian mixture of linear experts, fitted by EM
  (MLE); headline loss D2 (``rbar``: the Gaussian-MoE theorem's loss, arXiv 2505.10860 v1, Eq. 6);
* density ``gaussian-moe/<quadratic gate>/<exact|over>``: the same with a quadratic-polynomial or
  quadratic-monomial gate in the identified parametrisation A = A^T (``-symmetric`` families), fitted by EM;
  headline loss D1 on both gates so that the gate contrast compares one functional.

**Negative controls.** Over-specified least squares with linear experts is not identifiable, whatever the
gate: two fitted atoms in the cell of true atom j with the true gate parameters and weights summing to
the true weight, whose linear experts average (with those weights) to the true expert, give f_G = f_G*
exactly at a positive Voronoi loss. Such settings are kept as negative controls (expected NOT to converge
to a point; their slopes are reported, never used as evidence) with two identifiable twins:

* the **merged-loss twin** ``<gate>/linear/over/merged`` (``twin``; softmax-linear and the quadratic gates): the
  same model, data and least-squares warm path (warm fits that do not converge on the quotient are refitted: the
  default refit rule of :mod:`.replicate`; the control refits only off fits), with the merged D1 as headline
  loss (metric ``d1_merged``: per cell the aggregate sum_{V_j} w_i (a_i, alpha_i) - w*_j (a*_j, alpha*_j) of the
  linear-expert coefficients, gate coordinates atom-wise; :func:`hmoe_theory.estimation.voronoi.d1_loss`,
  convention ``merged``), which the exact merge does not move, and fits verified on the quotient by the merge
  directions (:mod:`hmoe_theory.estimation.quotient`: KKT in every direction that moves a gate, a weight or a
  cell aggregate; nothing required along the merges). The rate-order engine gives this loss s = 1.93
  (softmax-linear), 4.00 (quadratic-polynomial), 1.99 (quadratic-monomial), certified upper bounds in d = 1
  (docs/rate_orders.md): D1_merged no faster than n^-1/(2s);
* the **MLE twin** ``gaussian-moe/<gate>/over`` (``mle_twin``): the conditional-density model for the same gate
  (a two-Gaussian mixture is not one Gaussian, so the merge is not exact there).

The over-specified free-atom attention heads are negative controls for the same reason (two heads with the true
score and gate atoms and value atoms summing to the true head's).

:data:`CONTRASTS` are the literature's comparative claims as paired comparisons (same X and noise draws),
each on ONE functional (the same headline preset on both sides: :func:`same_functional`).
:func:`testable` says whether a contrast can test the theory (no negative-control side).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

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
QUADRATIC_GATES = ("quadratic-polynomial", "quadratic-monomial")
_AFFINE = ({"a_1": 2.0, "a_2": -1.0, "alpha": 0.5}, {"a_1": -1.0, "a_2": 2.0, "alpha": -0.5})
_EXPERTS: dict[str, tuple[dict[str, float], dict[str, float]]] = {
    **{e: _AFFINE for e in ("linear", "ridge-sigmoid", "ridge-tanh", "ridge-gelu")},
    "gated-linear": (
        {"w_1": 1.0, "w_2": 1.0, "w0": 0.5, **_AFFINE[0]},
        {"w_1": -1.0, "w_2": 1.0, "w0": 0.0, **_AFFINE[1]},
    ),
}
_VARIANCES = (0.05, 0.1)
_LOSSES = {
    "strong": "D1: sum_j |sum_{i in V_j} exp(c_i) - exp(c*_j)| + exponent 1 on every block in exact cells, 2 in "
              "over-fitted cells (arXiv 2505.10860 v1, Eq. 4)",
    "rbar": "D2: exponent 1 in exact cells; rbar(|V_j|) (4 for 2 atoms) on gate slopes and expert intercepts, "
            "rbar/2 on expert slopes and variances in over-fitted cells (arXiv 2505.10860 v1, Eq. 6)",
}
_MERGED_LOSS = ("merged D1 (metric d1_merged): sum_j |sum_{i in V_j} w_i - w*_j| + sum_i w_i sum_{gate coordinates p} "
                "|theta_ip - theta*_jp| + sum_j sum_{expert coordinates p} |sum_{i in V_j} w_i eta_ip - w*_j eta*_jp|, "
                "w = exp(c), cells by the gate coordinates (voronoi.d1_loss, convention merged)")
_VERIFIED = {
    "least-squares": "KKT: cosine <= 1e-6 and Hessian positive semi-definite in every free direction "
                     "(estimation/least_squares.py)",
    "em": "small log-likelihood gain and the score test <= 0.1/sqrt(n) (estimation/em.py)",
    "merged": "KKT on the quotient by the merge directions: cosine of the projected gradient <= 1e-6 and Hessian "
              "positive semi-definite on their orthogonal complement; nothing required along the merges "
              "(estimation/quotient.py)",
}


def _fit_words(over: bool) -> str:
    return "k = 3 (over-specified)" if over else "k = k* = 2 (exact)"


#: the refit rule of the negative controls (:mod:`.replicate`): only off fits are refitted -- their failing to
#: converge is the point, and rescuing every capped fit would double their cost; every other setting refits each
#: warm fit that did not converge (the protocol's default, ``if-not-converged``)
NEGATIVE_CONTROL_PROTOCOL = {"refit": "if-off"}
#: the catalogue's protocol: no second path from N(0, 1) parameters (``random_path``, a schema option): no report
#: or claim reads its ``best_loss``/``best_voronoi``, and it cost 20-80 % of a path's CPU (one replicate path of
#: the rates-v3 sizes, CPU s with / without it: softmax-linear/ridge-tanh/over 18.4 / 14.9, gaussian-moe/over
#: 3.1 / 0.67, quadratic-monomial/linear/exact 0.70 / 0.32); warm-vs-fresh near-truth checks (``cold_*``) stay
CATALOGUE_PROTOCOL = {"random_path": False}


def regression_mapping(gate: str, expert: str, over: bool) -> dict:
    """The schema mapping of a catalogue regression setting (headline loss D1); the negative controls
    (over-specified linear experts) carry :data:`NEGATIVE_CONTROL_PROTOCOL`."""
    control = NEGATIVE_CONTROL_PROTOCOL if over and expert == "linear" else {}
    return {
        "name": f"{gate}/{expert}/{'over' if over else 'exact'}",
        "description": f"regression, {gate} gate x {expert} experts, k* = 2, d = 2, noise variance "
        f"{NOISE_VARIANCE}, least squares with {_fit_words(over)}; headline loss D1",
        "inputs": ["x1", "x2"],
        "gate_family": gate,
        "expert_family": expert,
        "design": DESIGN,
        "noise_variance": NOISE_VARIANCE,
        "k": 3 if over else 2,
        "voronoi": "strong",
        "truth": [{"weight": w, **_GATES[gate][j], **_EXPERTS[expert][j]} for j, w in enumerate(WEIGHTS)],
        "protocol": {**CATALOGUE_PROTOCOL, **control},
    }


def _upper_entries(values: dict) -> dict:
    """``values`` without the entry A_2_1: a quadratic gate x^T A x sees only sym(A), so with A = A^T (the
    ``-symmetric`` families) only the entries u <= v are parameters."""
    return {name: value for name, value in values.items() if name != "A_2_1"}


def _identified_gate(gate: str, j: int) -> dict[str, float]:
    """True gate parameters of component j in the identified parametrisation (A = A^T: entries u <= v)."""
    return _upper_entries(_GATES[gate][j])


def identified_mapping(mapping: dict) -> dict:
    """A setting's schema mapping with a quadratic gate in its identified parametrisation A = A^T (the
    ``-symmetric`` family, truth entries u <= v); a mapping with any other gate is returned as it is."""
    if mapping["gate_family"] not in QUADRATIC_GATES:
        return mapping
    return {**mapping, "gate_family": f"{mapping['gate_family']}-symmetric",
            "truth": [_upper_entries(t) for t in mapping["truth"]]}


def gaussian_mapping(over: bool, gate: str = "softmax-linear") -> dict:
    """The schema mapping of a softmax-gated Gaussian mixture of linear experts (EM, the MLE): headline loss D2
    for the softmax-linear gate (its theorem's loss), D1 for the quadratic gates (one functional for the gate
    contrast), fitted with A = A^T."""
    quadratic = gate in QUADRATIC_GATES
    name = f"gaussian-moe/{gate + '/' if quadratic else ''}{'over' if over else 'exact'}"
    preset = "strong" if quadratic else "rbar"
    return {
        "name": name,
        "description": f"density, {gate}-gated Gaussian mixture of linear experts, k* = 2, d = 2, EM (MLE) with "
        f"{_fit_words(over)}; headline loss {'D1' if quadratic else 'D2'}",
        "inputs": ["x1", "x2"],
        "gate_family": f"{gate}-symmetric" if quadratic else gate,
        "expert_family": "linear",
        "design": DESIGN,
        "k": 3 if over else 2,
        "estimator": "em",
        "voronoi": preset,
        "truth": [
            {"weight": w, **_identified_gate(gate, j), **_AFFINE[j], "variance": _VARIANCES[j]}
            for j, w in enumerate(WEIGHTS)
        ],
        "protocol": dict(CATALOGUE_PROTOCOL),
    }


MERGED_TWIN_GATES = ("softmax-linear", *QUADRATIC_GATES)


def merged_twin_mapping(gate: str) -> dict:
    """The schema mapping of the merged-loss twin of ``<gate>/linear/over`` (module docstring): the same setting,
    headline loss the merged D1 (``d1_convention = "merged"``)."""
    mapping = regression_mapping(gate, "linear", True)
    mapping["protocol"] = dict(CATALOGUE_PROTOCOL)  # identifiable: the default refit rule
    mapping.update(name=f"{gate}/linear/over/merged", d1_convention="merged",
                   description=mapping["description"].replace("headline loss D1", "headline loss merged D1 "
                                                              "(identifiable twin of the negative control)"))
    return mapping


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        *(
            setting_from_mapping(regression_mapping(g, e, over))
            for g, e, over in itertools.product(_GATES, _EXPERTS, (False, True))
        ),
        *(setting_from_mapping(merged_twin_mapping(g)) for g in MERGED_TWIN_GATES),
        *(setting_from_mapping(gaussian_mapping(over, g)) for g in ("softmax-linear", *QUADRATIC_GATES)
          for over in (False, True)),
    )
}

# the rates-v3 design: the literature's contrasts, exact and over-specified, with the identifiable twins
DEFAULT_SETTINGS: tuple[str, ...] = tuple(
    f"{pair}/{fit}"
    for pair in (
        "softmax-linear/linear",
        "softmax-linear/ridge-tanh",
        "quadratic-polynomial/linear",
        "quadratic-monomial/linear",
        "quadratic-monomial/ridge-tanh",
        "gaussian-moe",
        "gaussian-moe/quadratic-polynomial",
        "gaussian-moe/quadratic-monomial",
    )
    for fit in ("exact", "over")
) + tuple(f"{gate}/linear/over/merged" for gate in MERGED_TWIN_GATES)

# (name, setting_a, setting_b, metric, statement): "a decays faster than b" as a paired slope difference
CONTRASTS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "nonlinear-vs-linear-experts",
        "softmax-linear/ridge-tanh/over",
        "softmax-linear/linear/over",
        "voronoi",
        "non-linear (tanh) experts are estimated faster than linear ones (softmax-linear gate, over-specified, "
        "least squares, D1 on both)",
    ),
    (
        "monomial-vs-polynomial-gate",
        "gaussian-moe/quadratic-monomial/over",
        "gaussian-moe/quadratic-polynomial/over",
        "voronoi",
        "the quadratic monomial gate gives faster expert estimation than the quadratic polynomial gate "
        "(linear experts, over-specified, MLE, D1 on both)",
    ),
    (
        "monomial-vs-polynomial-gate-merged",
        "quadratic-monomial/linear/over/merged",
        "quadratic-polynomial/linear/over/merged",
        "d1_merged",
        "the quadratic monomial gate gives faster estimation than the quadratic polynomial gate in the identifiable "
        "merged convention (linear experts, over-specified, least squares, merged D1 on both; rate orders s ≈ 2 vs 4)",
    ),
    (
        "monomial-tanh-vs-linear",
        "quadratic-monomial/ridge-tanh/over",
        "quadratic-monomial/linear/over",
        "voronoi",
        "tanh experts are estimated faster than linear ones under the quadratic monomial gate (over-specified, "
        "least squares, D1 on both)",
    ),
)


def get_setting(name: str | Setting) -> Setting:
    """Catalogue look-up with a one-line error."""
    return name if isinstance(name, Setting) else lookup(SETTINGS, name, "setting")


# --------------------------------------------------------------------------------------------------
# conventions
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Convention:
    """What the numbers of one setting are about: the ``model`` (with its estimator), the headline ``loss`` (stored
    as ``metric``), the ``parametrisation`` and what a ``converged`` fit means; a ``negative_control`` is expected
    not to converge to a point (``reason``) and names its identifiable ``twin`` (the merged-loss twin: same model
    and data, identified loss; empty when the catalogue has none) and ``mle_twin`` (the conditional-density model)."""

    model: str
    loss: str
    parametrisation: str
    negative_control: bool = False
    reason: str = ""
    twin: str = ""
    metric: str = "voronoi"
    converged: str = ""
    mle_twin: str = ""

    @property
    def d1_metric(self) -> str:
        """The stored exponent-one D1 whose slope the setting's rate order predicts as -1/(2s): the merged D1
        (``d1_merged``) where it is the headline (merged-loss twins, the tied attention layer), else the atom-wise
        ``d1``."""
        return "d1_merged" if self.metric == "d1_merged" else "d1"


_LINEAR_MERGE = ("not identifiable: over-specified least squares with linear experts has exact merges (two atoms with "
                 "the true gate parameters whose experts average to the true one give f_G = f_G* at positive loss); "
                 "expected not to converge")
_HEAD_MERGE = ("not identifiable: over-specified free-atom heads have exact merges (two heads with the true score and "
               "gate atoms whose value atoms sum to the true head's give f_G = f_G* at positive loss); expected not "
               "to converge")


def _setting_convention(setting: Setting) -> Convention:
    estimator = "EM (MLE), conditional density" if setting.estimator == "em" else \
        f"least squares, noise variance {setting.noise_variance}"
    model = (f"{setting.gate.name} gate x {setting.expert.name} experts, k = {setting.k} for k* = {setting.k_true}, "
             f"d = {setting.d}, {estimator}")
    parametrisation = "softmax translation removed (last component pinned)" + (
        ", A = A^T" if setting.gate.name.endswith("-symmetric") else
        ", losses on sym(A)" if setting.gate.name in QUADRATIC_GATES else "")
    merged = setting.d1_convention == "merged"
    control = (setting.estimator != "em" and setting.expert.name == "linear" and setting.over_specified
               and not merged)
    gate = setting.gate.name
    twinned = control and gate in MERGED_TWIN_GATES
    twin = f"{gate}/linear/over/merged" if twinned else ""
    mle_twin = f"gaussian-moe/{gate + '/' if gate in QUADRATIC_GATES else ''}over" if twinned else ""
    return Convention(model, _MERGED_LOSS if merged else _LOSSES[setting.voronoi], parametrisation, control,
                      _LINEAR_MERGE if control else "", twin, "d1_merged" if merged else "voronoi",
                      _VERIFIED["merged" if merged else setting.estimator], mle_twin)


def _attention_convention(setting: Setting) -> Convention:
    entry = setting.attention
    free_atoms = entry.parametrisation == "hmoe"
    control = free_atoms and setting.over_specified
    loss = ("D1 over the value experts: weight = head mass, exponent 1 in exact cells, 2 in over-fitted cells"
            if free_atoms else "tied D1 (metric d1_merged) on the identified products: sum_j ||sum_{V_j} W_V W_O - "
            "(W_V W_O)*_j||_1 + sum_{V_j} ||W_V W_O|| (||S - S*_j||_1 + ||g - g*_j||_1), S = W_Q W_K^T / sqrt(d), "
            "cells by (S, g) (attention_catalogue.tied_d1)")
    parametrisation = ("hmoe free atoms, gauge w_hl = 1" if free_atoms else "attention layer weights") + (
        ", fitted temperature" if entry.temperature else "")
    return Convention(f"{setting.description}; least squares", loss, parametrisation, control,
                      _HEAD_MERGE if control else "", "", "voronoi" if free_atoms else "d1_merged",
                      _VERIFIED["least-squares"])


def convention(name: str | Setting) -> Convention | None:
    """The convention of a catalogue or attention setting (``None`` for a name neither catalogue knows); a
    :class:`Setting` (e.g. from a user's TOML file, gate x expert or attention entry) gets its own."""
    if isinstance(name, Setting):
        return _attention_convention(name) if name.attention is not None else _setting_convention(name)
    if name in SETTINGS:
        return _setting_convention(SETTINGS[name])
    from .attention_catalogue import SETTINGS as ATTENTION

    return _attention_convention(ATTENTION[name]) if name in ATTENTION else None


def same_functional(contrast: tuple[str, str, str, str, str]) -> bool:
    """Both sides of the contrast measure the same loss: a metric other than ``voronoi`` is one definition
    everywhere; ``voronoi`` needs the same headline loss on both sides when both conventions are known
    (a setting outside the catalogue is taken at its user's word)."""
    _, a, b, metric, _ = contrast
    left, right = convention(a), convention(b)
    return metric != "voronoi" or left is None or right is None or left.loss == right.loss


def testable(contrast: tuple[str, str, str, str, str]) -> bool:
    """Neither side of the contrast is a negative control (unknown settings count as testable)."""
    return not any(getattr(convention(side), "negative_control", False) for side in contrast[1:3])
