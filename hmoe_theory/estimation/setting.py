"""A simulation setting as data: one schema for the catalogue and for a researcher's own TOML file.

Schema (``hmoe rates --spec FILE.toml``; every catalogue setting is written in the same schema)::

    name = "my-setting"
    description = "..."                         # optional
    inputs = ["x1", "x2"]
    gate = "beta1*x1 + beta2*x2"                # softmax score of one component (safe parser); the mixture
                                                # adds the mixing weight exp(c). Or gate_family = "<catalogue name>"
    expert = "a1*x1 + a2*x2 + alpha"            # an expression, or expert_family = "<catalogue name>"
    design = "uniform(-1, 1)"                   # X_i i.i.d. uniform on [lo, hi]^d, or "normal(0, 1)"
    noise_variance = 0.01                       # regression: Y = f(X) + N(0, noise_variance)
    k = 3                                       # fitted components
    estimator = "least-squares"                 # optional: "least-squares" (default) or "em"
    voronoi = "strong"                          # optional: the headline loss's exponents, "strong" or "rbar"
    [[truth]]                                   # one table per true component
    weight = 0.6                                # mixing weight exp(c*) > 0
    beta1 = 2.0                                 # a value for every parameter of gate and expert
    ...

For ``estimator = "em"`` (softmax-gated Gaussian mixture of experts, density mode) each ``[[truth]]``
also gives ``variance`` (its noise variance) and ``noise_variance`` is not used. Every error names the
field: one line, raised as :class:`~hmoe_theory.errors.ModelError`. No text is ever evaluated: expressions
go through :mod:`hmoe_theory.expr`, numbers must be TOML numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import sympy as sp

from ..errors import HmoeError, ModelError
from ..families import Expert, Gate, get_expert, get_gate
from ..symbols import input_symbols
from .model import SoftmaxMoE
from .exponents import LITERATURE_PRESETS

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

Array = np.ndarray
ESTIMATORS = ("least-squares", "em")
_DESIGN = re.compile(r"^\s*(uniform|normal)\s*\(\s*([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*,\s*([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*\)\s*$")
_KNOWN = {
    "name", "description", "inputs", "gate", "gate_family", "expert", "expert_family", "design",
    "noise_variance", "k", "estimator", "voronoi", "truth",
}
MAX_COMPONENTS = 12
MAX_INPUTS = 8


class SpecError(ModelError):
    """A setting spec is malformed (the message names the field)."""


@dataclass(frozen=True)
class Design:
    """X_i i.i.d.: ``uniform``: U[a, b]^d; ``normal``: N(a, b) per coordinate (b the variance)."""

    law: str
    a: float
    b: float

    @classmethod
    def parse(cls, text: object) -> "Design":
        match = _DESIGN.match(text) if isinstance(text, str) else None
        if not match:
            raise SpecError(f"design: expected 'uniform(lo, hi)' or 'normal(mean, variance)', got {text!r}")
        law, a, b = match.group(1), float(match.group(2)), float(match.group(3))
        if not (math.isfinite(a) and math.isfinite(b)):
            raise SpecError(f"design: the numbers must be finite doubles, got {text!r}")
        if law == "uniform" and not a < b:
            raise SpecError(f"design: uniform(lo, hi) needs lo < hi, got {text!r}")
        if law == "normal" and not b > 0:
            raise SpecError(f"design: normal(mean, variance) needs variance > 0, got {text!r}")
        return cls(law, a, b)

    def text(self) -> str:
        return f"{self.law}({self.a:g}, {self.b:g})"

    def transform(self, standard: Array) -> Array:
        """Map standard draws (U[0, 1) for uniform, N(0, 1) for normal) to this design."""
        if self.law == "uniform":
            return self.a + (self.b - self.a) * standard
        return self.a + math.sqrt(self.b) * standard

    def grid(self, d: int, points: int = 100) -> tuple[Array, Array]:
        """Quadrature nodes and weights for L2 norms under the design (midpoint rule; Gauss-Hermite for
        normal), tensorised over d <= 3 coordinates (a Monte Carlo sample of 20000 points beyond)."""
        if d > 3:
            rng = np.random.default_rng(12345)
            raw = rng.uniform(size=(20000, d)) if self.law == "uniform" else rng.normal(size=(20000, d))
            return self.transform(raw), np.full(20000, 1 / 20000)
        if self.law == "uniform":
            nodes = (np.arange(points) + 0.5) / points
            weights = np.full(points, 1 / points)
        else:
            nodes, weights = np.polynomial.hermite_e.hermegauss(min(points, 40))
            weights = weights / weights.sum()
        mesh = np.stack(np.meshgrid(*([self.transform(nodes)] * d), indexing="ij"), axis=-1).reshape(-1, d)
        w = np.prod(np.stack(np.meshgrid(*([weights] * d), indexing="ij"), axis=-1).reshape(-1, d), axis=1)
        return mesh, w


@dataclass(frozen=True)
class Setting:
    """A validated setting (module docstring). ``true_theta`` is in :class:`SoftmaxMoE` order."""

    name: str
    description: str
    inputs: tuple[str, ...]
    gate: Gate
    expert: Expert
    design: Design
    noise_variance: float
    k: int
    truth: tuple[Mapping[str, float], ...]
    estimator: str = "least-squares"
    voronoi: str = "strong"

    @property
    def d(self) -> int:
        return len(self.inputs)

    @property
    def k_true(self) -> int:
        return len(self.truth)

    @property
    def over_specified(self) -> bool:
        return self.k > self.k_true

    @cached_property
    def true_model(self) -> SoftmaxMoE:
        return SoftmaxMoE(self.gate, self.expert, self.k_true, self.d)

    @cached_property
    def fit_model(self) -> SoftmaxMoE:
        return SoftmaxMoE(self.gate, self.expert, self.k, self.d)

    @cached_property
    def true_theta(self) -> Array:
        """Flat true parameters [gamma_j, c_j = log weight_j, eta_j] per component."""
        model = self.true_model
        gate = [p.name for p in model.gate_kernel.params]
        expert = [p.name for p in model.expert_kernel.params]
        rows = [[t[g] for g in gate] + [math.log(t["weight"])] + [t[e] for e in expert] for t in self.truth]
        theta = np.array(rows, dtype=float).ravel()
        theta.setflags(write=False)
        return theta

    @cached_property
    def true_variances(self) -> Array:
        """Per-component noise variances (EM settings) -- else the common ``noise_variance``."""
        if self.estimator == "em":
            return np.array([t["variance"] for t in self.truth], dtype=float)
        return np.full(self.k_true, self.noise_variance)

    def to_mapping(self) -> dict:
        """The setting back in the schema (with the resolved parameter names)."""
        return {
            "name": self.name,
            "description": self.description,
            "inputs": list(self.inputs),
            "gate": self.gate.formula,
            "expert": self.expert.formula,
            "design": self.design.text(),
            "noise_variance": self.noise_variance,
            "k": self.k,
            "estimator": self.estimator,
            "voronoi": self.voronoi,
            "truth": [dict(t) for t in self.truth],
        }


def _number(value: object, field: str, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpecError(f"{field}: expected a finite number, got {value!r}")
    if positive and not value > 0:
        raise SpecError(f"{field}: must be > 0, got {value!r}")
    return float(value)


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{field}: expected a non-empty string, got {value!r}")
    return value


def _term(raw: Mapping, kind: str, inputs: tuple[str, ...]) -> Gate | Expert:
    family_key = f"{kind}_family"
    if (kind in raw) == (family_key in raw):
        raise SpecError(f"{kind}: give exactly one of '{kind}' (an expression) or '{family_key}' (a catalogue name)")
    try:
        if family_key in raw:
            return (get_gate if kind == "gate" else get_expert)(_text(raw[family_key], family_key))
        text = _text(raw[kind], kind)
        return (Gate if kind == "gate" else Expert).from_expression(text, inputs)
    except HmoeError as exc:
        raise SpecError(f"{kind}: {exc}") from None


def setting_from_mapping(raw: Mapping) -> Setting:
    """Validate one setting in the schema of the module docstring (one-line errors naming the field)."""
    if not isinstance(raw, Mapping):
        raise SpecError(f"a setting must be a table, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise SpecError(f"unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(_KNOWN))})")
    for field in ("name", "inputs", "design", "k", "truth"):
        if field not in raw:
            raise SpecError(f"{field}: missing")
    name = _text(raw["name"], "name")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_./+-]{0,99}", name):
        raise SpecError(f"name: use letters, digits and . _ / + - (at most 100), got {name!r}")
    inputs = raw["inputs"]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(v, str) for v in inputs):
        raise SpecError(f"inputs: expected a list of names such as [\"x1\", \"x2\"], got {inputs!r}")
    if len(inputs) > MAX_INPUTS:
        raise SpecError(f"inputs: at most {MAX_INPUTS} inputs (got {len(inputs)})")
    inputs = tuple(inputs)
    gate, expert = _term(raw, "gate", inputs), _term(raw, "expert", inputs)
    if gate.normalisation != "softmax":
        raise SpecError(f"gate_family: rate settings need a softmax gate, {gate.name!r} is {gate.normalisation}")
    estimator = raw.get("estimator", "least-squares")
    if estimator not in ESTIMATORS:
        raise SpecError(f"estimator: expected one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    voronoi = raw.get("voronoi", "strong")
    if voronoi not in LITERATURE_PRESETS:
        raise SpecError(f"voronoi: expected one of {', '.join(LITERATURE_PRESETS)}, got {voronoi!r}")
    k = raw["k"]
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_COMPONENTS:
        raise SpecError(f"k: expected an integer from 1 to {MAX_COMPONENTS}, got {k!r}")
    truth_raw = raw["truth"]
    if not isinstance(truth_raw, list) or not truth_raw or not all(isinstance(t, Mapping) for t in truth_raw):
        raise SpecError("truth: expected one or more [[truth]] tables")
    if len(truth_raw) > k:
        raise SpecError(f"truth: {len(truth_raw)} true components but only k = {k} fitted (k must be >= the truth's)")
    if k > 2 * len(truth_raw):
        raise SpecError(
            f"k: at most twice the {len(truth_raw)} [[truth]] table(s) (a near-truth start splits each true atom at "
            f"most once), got k = {k}"
        )
    x = input_symbols(len(inputs))  # parameter names from the symbolic terms (no kernel compiled here)
    gate_names = [p.name for p in gate.builder(x, None)[1]]
    expert_names = [p.name for p in expert.term(x)[1]]
    # truth keys and the mixture's own symbols (bias c_j of exp(s_j + c_j), variance nu_j) are not free names
    reserved = {"weight", "variance", gate.bias_base, *(["nu"] if estimator == "em" else [])}
    for field, own, taken in (("gate", gate_names, reserved), ("expert", expert_names, reserved | set(gate_names))):
        clash = sorted(set(own) & taken)
        if clash:
            raise SpecError(
                f"{field}: parameter name(s) {', '.join(clash)} already taken (by the gate, or reserved: "
                f"{', '.join(sorted(reserved))}); rename them"
            )
    names = gate_names + expert_names
    if estimator == "em":  # EM's M-step needs features free of the parameters (module em)
        for field, (expr, params) in (("gate", gate.builder(x, None)), ("expert", expert.term(x))):
            if any(sp.diff(expr, p).free_symbols & set(params) for p in params):
                raise SpecError(f"{field}: estimator 'em' needs a term linear in its parameters, got {expr}")
    needed = ["weight", *names, *(["variance"] if estimator == "em" else [])]
    truth = []
    for j, table in enumerate(truth_raw, start=1):
        missing = [key for key in needed if key not in table]
        extra = sorted(set(table) - set(needed))
        if missing:
            raise SpecError(f"truth[{j}]: missing {', '.join(missing)} (needs {', '.join(needed)})")
        if extra:
            raise SpecError(f"truth[{j}]: unknown parameter(s) {', '.join(extra)} (needs {', '.join(needed)})")
        truth.append(
            {
                key: _number(table[key], f"truth[{j}].{key}", positive=key in ("weight", "variance"))
                for key in needed
            }
        )
    noise = raw.get("noise_variance")
    if estimator == "least-squares":
        if noise is None:
            raise SpecError("noise_variance: missing (needed by least-squares settings)")
        noise = _number(noise, "noise_variance", positive=True)
    else:
        noise = float("nan")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise SpecError("description: expected a string")
    return Setting(
        name,
        description or f"{gate.formula} x {expert.formula}, k* = {len(truth)}, k = {k}",
        inputs,
        gate,
        expert,
        Design.parse(raw["design"]),
        noise,
        k,
        tuple(truth),
        estimator,
        voronoi,
    )


def load_setting_file(path: str | Path) -> Setting:
    """Read and validate a TOML setting (one-line errors naming the file and the field)."""
    return read_setting(path)[1]


def read_setting(path: str | Path) -> tuple[dict, Setting]:
    """The TOML mapping of a setting file and the validated :class:`Setting` (one-line errors)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"cannot read setting file {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not valid TOML: {str(exc).splitlines()[0]}") from None
    try:
        return raw, setting_from_mapping(raw)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None
