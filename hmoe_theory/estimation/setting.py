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
    d1_convention = "atomwise"                  # optional: "merged" makes the merged D1 (metric d1_merged) the
                                                # headline loss and verifies fits on the quotient by the exact
                                                # merges (estimation/quotient.py); least squares with experts
                                                # linear in their parameters only
    [[truth]]                                   # one table per true component
    weight = 0.6                                # mixing weight exp(c*) > 0
    beta1 = 2.0                                 # a value for every parameter of gate and expert
    ...

For ``estimator = "em"`` (softmax-gated Gaussian mixture of experts, density mode) each ``[[truth]]``
also gives ``variance`` (its noise variance) and ``noise_variance`` is not used.

**Attention entries.** Instead of ``gate``/``expert``, an ``[attention]`` table names entry (1, 1) of
(gated) multi-head attention, :func:`hmoe_theory.attention.families.attention_entry_function`::

    [attention]
    position = "G2"              # plain | G1 | G2 | G3 | G5
    tokens = 2                   # N >= 2
    dim = 1                      # d = d_k = d_v
    heads = 2                    # fitted heads (k); the true heads are the [[truth]] tables
    parametrisation = "hmoe"     # hmoe (free atoms S, V, head weights w = 1) | attention (W_Q, W_K, W_V, W_O)
    temperature = false          # attention only: scores / tau, tau a fitted parameter
    [[truth]]                    # one table per true head: a value per parameter block, every entry of the
    S = 2.0                      # block gets it (hmoe: S, V, Wg; attention: WQ, WK, WV, WO, Wg, tau); the
    V = 1.0                      # G5 gate and tau are global (taken from the first table)
    Wg = 2.0

The inputs are then the N d token coordinates, and ``k``, ``gate``, ``expert``, ``estimator`` and ``voronoi``
are not given (least squares; Voronoi loss D1 over the value experts in the hmoe parametrisation; the attention
parametrisation enters through W_Q W_K^T and W_V W_O only, so its loss ``d1_merged`` is built on those products,
:func:`~.attention_catalogue.tied_d1`, beside ``l2_error``).

**Protocol** (optional ``[protocol]`` table, :class:`Protocol`)::

    [protocol]
    sample = "nested"            # nested: size n uses the first n points of one sample per replicate;
                                 # fresh: an independent sample for every size
    design_points = "random"     # random: X drawn per replicate; fixed: X drawn once (design_seed) and shared
                                 # by every replicate; given: the rows of ``points``, cycled; grid: X at size n
                                 # is linspace(lo, hi, n) of design = "uniform(lo, hi)" (d = 1, sample = "fresh":
                                 # a prefix of a grid is not a grid)
    design_seed = 0
    points = [[0.1, -0.2], ...]  # design_points = "given" only
    starts = "warm"              # warm: near-truth at the first size, then the previous size's fit;
                                 # fresh: a fresh near-truth start at every size; warm-or-initial: the better
                                 # of the warm fit and the first near-truth start (attention's default)
    refit = "if-not-converged"   # starts = "warm" only: which warm fits are refitted from a fresh near-truth
                                 # start at their size -- every fit that did not converge ("if-not-converged",
                                 # the kept fit is the converged one of lower loss, else the usable one of lower
                                 # loss) or only the off ones ("if-off": diverged or failed; the fresh fit
                                 # replaces it); estimation/replicate.py
    tries = 1                    # starts = "fresh" only: fits from 1..20 independent near-truth starts per size,
                                 # the one of lowest loss (highest likelihood) among the usable ones is kept
    start_perturbation = 0.1     # sd of the near-truth start's N(0, sd^2) kick: a number or "C*n^-p" ("n^-1/4")
    random_path = true           # a second path from N(0, 1) parameters (best_loss, best_voronoi)

A ``[[truth]]`` value may be an expression in ``n`` (e.g. ``beta_1 = "1 + n**(-1/4)"``, safe parser of
:mod:`hmoe_theory.expr`): the truth at sample size n (:meth:`Setting.at`). Every error names the field: one
line, raised as :class:`SpecError`. No text is ever evaluated: expressions go through :mod:`hmoe_theory.expr`,
numbers must be TOML numbers.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, cached_property
from pathlib import Path

import numpy as np
import sympy as sp

from ..attention.families import PARAMETRISATIONS, POSITIONS, attention_entry_function
from ..errors import HmoeError, ModelError
from ..expr import parse_expression
from ..families import Expert, Gate, ParametricFunction, get_expert, get_gate
from ..families.base import is_linear_homogeneous
from ..newton_system import DerivedSystem
from ..symbols import input_symbols
from .model import SoftmaxMoE
from .exponents import LITERATURE_PRESETS

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

Array = np.ndarray
ESTIMATORS = ("least-squares", "em")
D1_CONVENTIONS = ("atomwise", "merged")  # the conventions of voronoi.d1_loss
_NUM = r"[-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?"
_DESIGN = re.compile(rf"^\s*(uniform|normal)\s*\(\s*({_NUM})\s*,\s*({_NUM})\s*\)\s*$")
_PERTURBATION = re.compile(rf"^\s*(?:({_NUM})\s*\*\s*)?n\s*\^\s*\(?\s*(-?\s*[0-9.]+(?:[eE][-+]?[0-9]+)?(?:\s*/\s*[0-9]+)?)\s*\)?\s*$")
_KNOWN = {
    "name", "description", "inputs", "gate", "gate_family", "expert", "expert_family", "design",
    "noise_variance", "k", "estimator", "voronoi", "truth", "protocol", "attention", "d1_convention",
}
_ATTENTION_KNOWN = {"position", "tokens", "dim", "heads", "parametrisation", "temperature"}
_PROTOCOL_KNOWN = {"sample", "design_points", "design_seed", "points", "starts", "start_perturbation", "random_path",
                   "refit", "tries"}
SAMPLES = ("nested", "fresh")
DESIGN_POINTS = ("random", "fixed", "given", "grid")
STARTS = ("warm", "fresh", "warm-or-initial")
REFITS = ("if-not-converged", "if-off")  # which warm fits are refitted from a fresh near-truth start
MAX_TRIES = 20
MAX_COMPONENTS = 12
MAX_INPUTS = 8
MAX_POINTS = 100_000
N = sp.Symbol("n", positive=True)  # the sample size in n-dependent truths


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
class Perturbation:
    """Standard deviation ``scale * n^power`` (power <= 0) of the near-truth start's Gaussian kick at size n
    (Refined-Mixture-Rates: N(0, n^-1/4) on the true means)."""

    scale: float
    power: float = 0.0

    @classmethod
    def parse(cls, value: object, field: str = "protocol.start_perturbation") -> "Perturbation":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cls(_number(value, field, positive=True))
        match = _PERTURBATION.match(value) if isinstance(value, str) else None
        if not match:
            raise SpecError(f"{field}: expected a number > 0 or 'C*n^-p' such as \"n^-1/4\", got {value!r}")
        scale = float(match.group(1)) if match.group(1) else 1.0
        try:
            power = float(Fraction(match.group(2).replace(" ", "")))
        except (ValueError, ZeroDivisionError):
            raise SpecError(f"{field}: bad exponent in {value!r}") from None
        if not (math.isfinite(scale) and scale > 0 and math.isfinite(power) and -2.0 <= power <= 0.0):
            raise SpecError(f"{field}: needs C > 0 and -2 <= -p <= 0, got {value!r}")
        return cls(scale, power)

    def at(self, n: int) -> float:
        return self.scale * float(n) ** self.power

    def text(self) -> str | float:
        return self.scale if self.power == 0 else f"{self.scale:g}*n^{self.power:g}"


@dataclass(frozen=True)
class Protocol:
    """How samples and starts are laid out along the sizes (module docstring, ``[protocol]``)."""

    sample: str = "nested"
    design_points: str = "random"
    design_seed: int = 0
    points: tuple[tuple[float, ...], ...] = ()
    starts: str = "warm"
    start_perturbation: Perturbation = Perturbation(0.1)
    random_path: bool = True
    refit: str = "if-not-converged"
    tries: int = 1

    def to_mapping(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["points"] = [list(p) for p in self.points]
        out["start_perturbation"] = self.start_perturbation.text()
        if self.design_points != "given":
            del out["points"]
        if self.starts != "warm":
            del out["refit"]
        return out


@dataclass(frozen=True)
class AttentionEntry:
    """Entry (1, 1) of (gated) multi-head attention on ``tokens`` tokens of dimension ``dim`` with the gate at
    ``position``, in the ``hmoe`` (free atoms, head weights w = 1: an exact gauge, the products w V are the
    value atoms) or ``attention`` parametrisation (optionally with a fitted temperature tau)."""

    position: str
    tokens: int = 2
    dim: int = 1
    parametrisation: str = "hmoe"
    temperature: bool = False

    def function(self, heads: int) -> ParametricFunction:
        return _entry_function(self, heads)

    def model(self, heads: int) -> DerivedSystem:
        """The derived Newton system of :meth:`function` (compiled once per process and model)."""
        return _entry_system(self, heads)

    def head_of(self, name: str) -> int | None:
        """Head (1-based) of a parameter; ``None`` for the global G5 gate and tau."""
        block, *index = name.split("_")
        if name == "tau" or (block == "Wg" and self.position == "G5"):
            return None
        return int(index[0])

    def blocks(self, heads: int = 1) -> tuple[str, ...]:
        """Parameter blocks (the [[truth]] keys), in parameter order."""
        return tuple(dict.fromkeys(p.name.split("_")[0] for p in self.function(heads).params))

    def theta(self, truth: tuple[Mapping[str, float], ...], heads: int) -> Array:
        """Parameters of ``heads`` heads from the per-head truth tables; heads beyond the truth's copy head
        h - k* (the over-specified start splits them, :func:`~.attention_catalogue.near_truth_start`)."""
        values = []
        for p in self.function(heads).params:
            h = self.head_of(p.name)
            source = 0 if h is None else (h - 1) % len(truth)
            values.append(float(truth[source][p.name.split("_")[0]]))
        return np.array(values)


@cache
def _entry_function(entry: AttentionEntry, heads: int) -> ParametricFunction:
    F = attention_entry_function(entry.position, entry.tokens, entry.dim, heads, param=entry.parametrisation,
                                 temperature=entry.temperature)
    if entry.parametrisation == "hmoe":
        F = F.with_params_fixed({p: sp.Integer(1) for p in F.params if p.name.startswith("w_")})
    return F


@cache
def _entry_system(entry: AttentionEntry, heads: int) -> DerivedSystem:
    return _entry_function(entry, heads).newton_system()


@cache
def _mixture_model(gate: Gate, expert: Expert, k: int, d: int) -> SoftmaxMoE:
    """One model (compiled kernels) per process for every setting with these terms (e.g. along n-dependent
    truths)."""
    return SoftmaxMoE(gate, expert, k, d)


@dataclass(frozen=True)
class Setting:
    """A validated setting (module docstring). ``true_theta`` is in the fitted model's parameter order.

    A mixture setting has ``gate`` and ``expert``; an attention setting has ``attention`` (then ``gate`` and
    ``expert`` are ``None`` and ``k`` is the number of fitted heads). A truth value may be a sympy
    expression in ``n`` (:data:`N`): :meth:`at` gives the setting at one sample size.
    """

    name: str
    description: str
    inputs: tuple[str, ...]
    gate: Gate | None
    expert: Expert | None
    design: Design
    noise_variance: float
    k: int
    truth: tuple[Mapping[str, float | sp.Expr], ...]
    estimator: str = "least-squares"
    voronoi: str = "strong"
    protocol: Protocol = Protocol()
    attention: AttentionEntry | None = None
    d1_convention: str = "atomwise"

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
    def n_dependent(self) -> bool:
        """Some truth value is an expression in n."""
        return any(isinstance(v, sp.Expr) for t in self.truth for v in t.values())

    def at(self, n: int) -> "Setting":
        """The setting with its truth evaluated at sample size ``n`` (itself when the truth is fixed)."""
        if not self.n_dependent:
            return self
        truth = tuple({key: _truth_value(v, n) for key, v in t.items()} for t in self.truth)
        return dataclasses.replace(self, truth=truth)

    def _model(self, k: int) -> SoftmaxMoE | DerivedSystem:
        if self.attention is not None:
            return self.attention.model(k)
        return _mixture_model(self.gate, self.expert, k, self.d)

    @cached_property
    def true_model(self) -> SoftmaxMoE | DerivedSystem:
        return self._model(self.k_true)

    @cached_property
    def fit_model(self) -> SoftmaxMoE | DerivedSystem:
        return self._model(self.k)

    @cached_property
    def true_theta(self) -> Array:
        """Flat true parameters: [gamma_j, c_j = log weight_j, eta_j] per component (mixtures), the entry's
        parameters (attention)."""
        if self.n_dependent:
            raise ModelError(f"{self.name}: the truth depends on n; use setting.at(n)")
        if self.attention is not None:
            theta = self.attention.theta(self.truth, self.k_true)
        else:
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
        out = {
            "name": self.name,
            "description": self.description,
            "inputs": list(self.inputs),
            "design": self.design.text(),
            "noise_variance": self.noise_variance,
            "k": self.k,
            "truth": [{key: (str(v) if isinstance(v, sp.Expr) else v) for key, v in t.items()} for t in self.truth],
            "protocol": self.protocol.to_mapping(),
        }
        if self.attention is not None:
            out["attention"] = {**dataclasses.asdict(self.attention), "heads": out.pop("k")}
            del out["inputs"]
        else:
            out.update(gate=self.gate.formula, expert=self.expert.formula, estimator=self.estimator,
                       voronoi=self.voronoi, d1_convention=self.d1_convention)
        return out


def _truth_value(value: float | sp.Expr, n: int) -> float:
    return float(value.subs(N, int(n))) if isinstance(value, sp.Expr) else value


def _number(value: object, field: str, positive: bool = False) -> float:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max:
        digits = int(value.bit_length() * math.log10(2)) + 1  # no repr: Python refuses to print > 4300 digits
        raise SpecError(f"{field}: an integer of about {digits} digits is beyond the double range (|x| <= 1.8e308)")
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


def _integer(value: object, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise SpecError(f"{field}: expected an integer from {lo} to {hi}, got {value!r}")
    return value


def _choice(raw: Mapping, key: str, choices: tuple[str, ...], default: str, field: str) -> str:
    value = raw.get(key, default)
    if value not in choices:
        raise SpecError(f"{field}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def _truth_entry(value: object, field: str, positive: bool) -> float | sp.Expr:
    """A TOML number, or a text expression in n (safe parser) that is finite (and > 0 if ``positive``) for
    n = 1, 10, ..., 1e8; text without n is refused (constants are TOML numbers)."""
    if not isinstance(value, str):
        return _number(value, field, positive)
    try:
        expr = parse_expression(value, [N])
    except HmoeError as exc:
        raise SpecError(f"{field}: {exc}") from None
    if not expr.has(N):  # a constant is a TOML number, never text
        return _number(value, field, positive)
    for n in (10**e for e in range(9)):
        probe = complex(sp.N(expr.subs(N, n)))
        if probe.imag != 0 or not math.isfinite(probe.real) or (positive and not probe.real > 0):
            raise SpecError(f"{field}: {value!r} is not a finite{' positive' if positive else ''} real at n = {n}")
    return expr


def _protocol(raw: object, attention: bool, d: int, design: Design) -> Protocol:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise SpecError("protocol: expected a [protocol] table")
    unknown = sorted(set(raw) - _PROTOCOL_KNOWN)
    if unknown:
        raise SpecError(f"protocol: unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(_PROTOCOL_KNOWN))})")
    design_points = _choice(raw, "design_points", DESIGN_POINTS, "random", "protocol.design_points")
    points: tuple[tuple[float, ...], ...] = ()
    if design_points == "given":
        rows = raw.get("points")
        if not isinstance(rows, list) or not rows or len(rows) > MAX_POINTS:
            raise SpecError(f"protocol.points: design_points = 'given' needs 1 to {MAX_POINTS} rows of {d} numbers")
        for i, row in enumerate(rows, start=1):
            if not isinstance(row, list) or len(row) != d:
                raise SpecError(f"protocol.points[{i}]: expected {d} numbers, got {row!r}")
        points = tuple(tuple(_number(v, f"protocol.points[{i}]") for v in row) for i, row in enumerate(rows, start=1))
    elif "points" in raw:
        raise SpecError("protocol.points: only with design_points = 'given'")
    random_path = raw.get("random_path", not attention)
    if not isinstance(random_path, bool):
        raise SpecError(f"protocol.random_path: expected true or false, got {random_path!r}")
    if attention and random_path:
        raise SpecError("protocol.random_path: not available for attention settings")
    sample = _choice(raw, "sample", SAMPLES, "nested", "protocol.sample")
    if design_points == "grid":
        if design.law != "uniform" or d != 1:
            raise SpecError(f"protocol.design_points: 'grid' (X = linspace(lo, hi, n)) needs d = 1 and design = "
                            f"'uniform(lo, hi)', got d = {d} and {design.text()!r}")
        if sample != "fresh":
            raise SpecError("protocol.design_points: 'grid' needs sample = 'fresh' (a prefix of a grid is not a grid)")
    starts = _choice(raw, "starts", STARTS, "warm-or-initial" if attention else "warm", "protocol.starts")
    if "refit" in raw and starts != "warm":
        raise SpecError(f"protocol.refit: only with starts = 'warm' (it says which warm fits are refitted), got "
                        f"starts = {starts!r}")
    tries = _integer(raw.get("tries", 1), "protocol.tries", 1, MAX_TRIES)
    if tries > 1 and starts != "fresh":
        raise SpecError(f"protocol.tries: {tries} tries need starts = 'fresh' (independent near-truth starts per "
                        f"size), got starts = {starts!r}")
    return Protocol(
        sample=sample,
        design_points=design_points,
        design_seed=_integer(raw.get("design_seed", 0), "protocol.design_seed", 0, 2**63 - 1),
        points=points,
        starts=starts,
        start_perturbation=Perturbation.parse(raw.get("start_perturbation", 0.1)),
        random_path=random_path,
        refit=_choice(raw, "refit", REFITS, REFITS[0], "protocol.refit"),
        tries=tries,
    )


def _attention(raw: object) -> tuple[AttentionEntry, int]:
    if not isinstance(raw, Mapping):
        raise SpecError("attention: expected an [attention] table")
    unknown = sorted(set(raw) - _ATTENTION_KNOWN)
    if unknown:
        raise SpecError(f"attention: unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(_ATTENTION_KNOWN))})")
    for key in ("position", "heads"):
        if key not in raw:
            raise SpecError(f"attention.{key}: missing")
    position = raw["position"]
    if position not in POSITIONS:
        raise SpecError(f"attention.position: expected one of {', '.join(POSITIONS)}, got {position!r}")
    temperature = raw.get("temperature", False)
    if not isinstance(temperature, bool):
        raise SpecError(f"attention.temperature: expected true or false, got {temperature!r}")
    parametrisation = _choice(raw, "parametrisation", PARAMETRISATIONS, "hmoe", "attention.parametrisation")
    if temperature and parametrisation != "attention":
        raise SpecError("attention.temperature: only with parametrisation = 'attention' (hmoe free atoms absorb tau)")
    entry = AttentionEntry(position, _integer(raw.get("tokens", 2), "attention.tokens", 2, 4),
                           _integer(raw.get("dim", 1), "attention.dim", 1, 2), parametrisation, temperature)
    return entry, _integer(raw["heads"], "attention.heads", 1, 4)


def _truth_tables(truth_raw: object, k: int) -> list[Mapping]:
    if not isinstance(truth_raw, list) or not truth_raw or not all(isinstance(t, Mapping) for t in truth_raw):
        raise SpecError("truth: expected one or more [[truth]] tables")
    if len(truth_raw) > k:
        raise SpecError(f"truth: {len(truth_raw)} true components but only k = {k} fitted (k must be >= the truth's)")
    if k > 2 * len(truth_raw):
        raise SpecError(
            f"k: at most twice the {len(truth_raw)} [[truth]] table(s) (a near-truth start splits each true atom at "
            f"most once), got k = {k}"
        )
    return truth_raw


def _read_truth(truth_raw: list[Mapping], needed: list[str], positive: tuple[str, ...]) -> tuple[dict, ...]:
    truth = []
    for j, table in enumerate(truth_raw, start=1):
        missing = [key for key in needed if key not in table]
        extra = sorted(set(table) - set(needed))
        if missing:
            raise SpecError(f"truth[{j}]: missing {', '.join(missing)} (needs {', '.join(needed)})")
        if extra:
            raise SpecError(f"truth[{j}]: unknown parameter(s) {', '.join(extra)} (needs {', '.join(needed)})")
        truth.append({key: _truth_entry(table[key], f"truth[{j}].{key}", key in positive) for key in needed})
    return tuple(truth)


def _noise(raw: Mapping, required: bool) -> float:
    noise = raw.get("noise_variance")
    if not required:
        return float("nan")
    if noise is None:
        raise SpecError("noise_variance: missing (needed by least-squares settings)")
    return _number(noise, "noise_variance", positive=True)


def _description(raw: Mapping, default: str) -> str:
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise SpecError("description: expected a string")
    return description or default


def _attention_setting(raw: Mapping, name: str) -> Setting:
    for field in ("gate", "gate_family", "expert", "expert_family", "k", "estimator", "voronoi", "inputs",
                  "d1_convention"):
        if field in raw:
            raise SpecError(f"{field}: not used by an [attention] setting (heads and the token inputs come from it)")
    entry, heads = _attention(raw["attention"])
    truth_raw = _truth_tables(raw["truth"], heads)
    truth = _read_truth(truth_raw, [b for b in entry.blocks() if b != "w"], ())
    d = entry.tokens * entry.dim
    label = "plain attention" if entry.position == "plain" else f"{entry.position}-gated attention"
    default = (f"{label}, entry (1, 1), N = {entry.tokens}, d = {entry.dim}, H* = {len(truth)}, fitted H = {heads}, "
               f"{entry.parametrisation} parametrisation")
    design = Design.parse(raw["design"])
    return Setting(
        name, _description(raw, default), tuple(f"x{i}" for i in range(1, d + 1)), None, None,
        design, _noise(raw, True), heads, truth,
        protocol=_protocol(raw.get("protocol"), True, d, design), attention=entry,
    )


def setting_from_mapping(raw: Mapping) -> Setting:
    """Validate one setting in the schema of the module docstring (one-line errors naming the field)."""
    if not isinstance(raw, Mapping):
        raise SpecError(f"a setting must be a table, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise SpecError(f"unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(_KNOWN))})")
    attention = "attention" in raw
    for field in ("name", "design", "truth", *(() if attention else ("inputs", "k"))):
        if field not in raw:
            raise SpecError(f"{field}: missing")
    name = _text(raw["name"], "name")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_./+-]{0,99}", name):
        raise SpecError(f"name: use letters, digits and . _ / + - (at most 100), got {name!r}")
    if attention:
        return _attention_setting(raw, name)
    inputs = raw["inputs"]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(v, str) for v in inputs):
        raise SpecError(f"inputs: expected a list of names such as [\"x1\", \"x2\"], got {inputs!r}")
    if len(inputs) > MAX_INPUTS:
        raise SpecError(f"inputs: at most {MAX_INPUTS} inputs (got {len(inputs)})")
    inputs = tuple(inputs)
    gate, expert = _term(raw, "gate", inputs), _term(raw, "expert", inputs)
    if gate.normalisation != "softmax":
        raise SpecError(f"gate_family: rate settings need a softmax gate, {gate.name!r} is {gate.normalisation}")
    estimator = _choice(raw, "estimator", ESTIMATORS, "least-squares", "estimator")
    voronoi = _choice(raw, "voronoi", tuple(LITERATURE_PRESETS), "strong", "voronoi")
    k = _integer(raw["k"], "k", 1, MAX_COMPONENTS)
    truth_raw = _truth_tables(raw["truth"], k)
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
    d1_convention = _choice(raw, "d1_convention", D1_CONVENTIONS, "atomwise", "d1_convention")
    if d1_convention == "merged":
        expr, params = expert.term(x)
        if estimator != "least-squares" or not is_linear_homogeneous(expr, params):
            raise SpecError(f"d1_convention: 'merged' needs least squares and an expert linear in its parameters "
                            f"(the exact merges), got estimator {estimator!r} and expert {expr}")
    needed = ["weight", *names, *(["variance"] if estimator == "em" else [])]
    truth = _read_truth(truth_raw, needed, ("weight", "variance"))
    design = Design.parse(raw["design"])
    return Setting(
        name,
        _description(raw, f"{gate.formula} x {expert.formula}, k* = {len(truth)}, k = {k}"),
        inputs,
        gate,
        expert,
        design,
        _noise(raw, estimator == "least-squares"),
        k,
        truth,
        estimator,
        voronoi,
        _protocol(raw.get("protocol"), False, len(inputs), design),
        d1_convention=d1_convention,
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
