"""Named rate-order questions: the published anchors, d = 1 gated settings, and the estimation catalogue.

* ``gaussian-location/m2`` -- N(0, 1) fitted by 2 location atoms (variance 1 known): s = 2 (Chen 1992);
* ``gaussian-location-scale/m2``, ``/m3`` -- N(0, 1) fitted by 2 or 3 location-scale atoms: phi ~ eps^rbar with
  rbar(2) = 4, rbar(3) = 6 under the atom-wise D1 in (mu, v) (Ho & Nguyen 2016);
* ``d1/<gate>/<expert>/<exact|over>`` -- d = 1, X ~ U[-1, 1], k* = 2 true atoms (weights 3/2 and 1), k = 2
  (exact) or 3 (over), gate in softmax-linear, quadratic-polynomial, quadratic-monomial and expert in linear,
  ridge-tanh (the truth of :mod:`hmoe_theory.estimation.catalogue` restricted to the first coordinate; the
  noise variance 1/4 is every atom's true variance in the density model);
* any name of :data:`hmoe_theory.estimation.catalogue.SETTINGS` (d = 2; k from the setting).

The model (regression or density) is the caller's choice for the setting-based questions; Gaussian mixtures
are densities.
"""

from __future__ import annotations

import itertools

from ..errors import ModelError, lookup
from ..estimation.catalogue import SETTINGS
from ..estimation.setting import Setting, load_setting_file, setting_from_mapping
from .models import RateModel, attention_entry, from_setting, gaussian_mixture

GAUSSIAN: dict[str, tuple[str, int]] = {
    "gaussian-location/m2": ("location", 2),
    "gaussian-location-scale/m2": ("location-scale", 2),
    "gaussian-location-scale/m3": ("location-scale", 3),
}
_GATES = {
    "softmax-linear": ({"beta_1": 2.0}, {"beta_1": 0.0}),
    "quadratic-polynomial": ({"A_1_1": 1.5, "b_1": 1.0}, {"A_1_1": 0.0, "b_1": 0.0}),
    "quadratic-monomial": ({"A_1_1": 2.0}, {"A_1_1": 0.0}),
}
_EXPERTS = {name: ({"a_1": 2.0, "alpha": 0.5}, {"a_1": -1.0, "alpha": -0.5}) for name in ("linear", "ridge-tanh")}
_WEIGHTS = (1.5, 1.0)


def d1_mapping(gate: str, expert: str, over: bool) -> dict:
    """Schema mapping of a d = 1 setting (density models use the noise variance 1/4 as every atom's truth)."""
    truth = [{"weight": w, **_GATES[gate][j], **_EXPERTS[expert][j]} for j, w in enumerate(_WEIGHTS)]
    return {
        "name": f"d1/{gate}/{expert}/{'over' if over else 'exact'}",
        "description": f"d = 1, {gate} gate x {expert} experts, k* = 2, k = {3 if over else 2}",
        "inputs": ["x1"], "gate_family": gate, "expert_family": expert, "design": "uniform(-1, 1)",
        "noise_variance": 0.25, "k": 3 if over else 2, "truth": truth,
    }


D1_SETTINGS: tuple[str, ...] = tuple(
    f"d1/{g}/{e}/{fit}" for g, e, fit in itertools.product(_GATES, _EXPERTS, ("exact", "over")))


def named_setting(name: str) -> Setting:
    """The Setting of a d1/ name or a catalogue name (one-line error otherwise)."""
    if name in D1_SETTINGS:
        _, gate, expert, fit = name.split("/")
        return setting_from_mapping(d1_mapping(gate, expert, fit == "over"))
    return lookup(SETTINGS, name, "rate-order setting")


def resolve(name: str, model: str = "regression") -> tuple[RateModel, int]:
    """(model, k) of a named question (module docstring)."""
    if name in GAUSSIAN:
        kind, k = GAUSSIAN[name]
        return gaussian_mixture(kind), k
    if name not in D1_SETTINGS and name not in SETTINGS:
        lookup({**GAUSSIAN, **dict.fromkeys(D1_SETTINGS), **SETTINGS}, name, "rate-order setting")
    setting = named_setting(name)
    return from_setting(setting, model), setting.k


def names() -> list[str]:
    return [*GAUSSIAN, *D1_SETTINGS, *SETTINGS]


def question(
    *,
    setting: str | None = None,
    spec: str | None = None,
    gaussian: str | None = None,
    atoms: int = 2,
    model: str = "regression",
    attention: str | None = None,
    tokens: int = 2,
    heads: int = 2,
    true_heads: int = 1,
    param: str = "hmoe",
    temperature: str | None = None,
    dim: int = 1,
    activation: str | None = None,
) -> tuple[RateModel, int, str]:
    """(model, k, label) of the question the CLI flags describe (exactly one source)."""
    given = [v for v in (setting, spec, gaussian, attention) if v is not None]
    if len(given) != 1:
        raise ModelError("give exactly one of --setting, --spec, --gaussian, --attention")
    if attention is not None:
        if model != "regression":
            raise ModelError("--attention: the entry is a regression function (--model regression)")
        entry = attention_entry(attention, tokens, heads, true_heads, param, temperature, dim, activation)
        return entry, heads, entry.name
    if gaussian is not None:
        if not isinstance(atoms, int) or not 2 <= atoms <= 4:
            raise ModelError(f"--atoms: 2 to 4 atoms for one true Gaussian, got {atoms!r}")
        return gaussian_mixture(gaussian), atoms, f"gaussian-{gaussian}/m{atoms}"
    if spec is not None:
        loaded = load_setting_file(spec)
        return from_setting(loaded, model), loaded.k, loaded.name
    rate_model, k = resolve(setting, model)
    return rate_model, k, setting
