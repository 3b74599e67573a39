"""Estimation experiment on (gated) attention: one replicate path per setting, for ``hmoe rates``.

Model. Entry (1, 1) of multi-head attention on N = 2 tokens of dimension d = 1, plain or with a sigmoid
gate at G1 (SDPA output, elementwise), G2 (value map), G3 (key map) or G5 (after the output projection),
in the ``hmoe`` free-atom parametrisation of :func:`hmoe_theory.attention.families.attention_entry_function`:

    F(X; theta) = [sigma(Wg . x_1)]_G5 sum_h w_h [sigma(Wg_h . x_1)]_G1
                  sum_j softmax_j(x_1^T S_hj x_j [sigma(Wg_h . x_j)]_G3) V_hj . x_j [sigma(Wg_h . x_j)]_G2

(d_k = d_v = d; with d = 1 each head has one output coordinate l). The head weight w_hl enters only through
the products w_hl V_hlj, so the gauge w_hl = 1 is fixed (an exact reparametrisation, like the pinned
component of a softmax); the fitted parameters are the score atoms S, the value atoms V (= w V) and the
gate weights Wg.

Truth: a small attention layer with H* = 1 head, W_Q = 2, W_K = 1, W_V = 1, W_O = 1 and, for gated positions,
gate weight Wg = 2; in free atoms S_1j = W_Q W_K^T / sqrt(d_k) = 2 and V_1j = W_V W_O = 1 for j = 1, 2.
Data (nested, paired): replicate ``rep`` draws X with i.i.d. entries Uniform[-1, 1] (n_max x N d) and
z ~ N(0, 1) from ``seed`` (:class:`~hmoe_theory.estimation.replicate.PairedSample`, shared by every setting,
so all positions see the same X and noise); Y = F*(X) + sigma z with sigma^2 = 0.01; size n uses the first
n rows. Fits: H = H* (``exact``) or H* + 1 (``over``) heads, least squares in the box |theta| <= 5
(:func:`~hmoe_theory.estimation.least_squares.fit_least_squares` on the derived system, exact Hessian, verified status), from a
near-truth start at the first size (truth + N(0, 0.1^2); over-specified: the true head split into two heads
carrying half its value atoms each, with opposite perturbations; one draw per replicate). At every size two
fits are made, from that near-truth start (the literature's protocol) and warm-started from the previous
size's fit; the one with the lower loss is the stored fit (its status, iterations of both summed). Measured:
from the near-truth start alone a G3 fit at n = 200 stopped at a boundary local minimum (Wg = -5, loss
0.00683 vs 0.00557 from the truth) and warm starts then kept that basin at every size; the two-start rule
removes such a basin as soon as the near-truth start escapes it. Diagnostics: ``cold_voronoi`` (the
near-truth fit's loss) and ``cold_loss_gap`` = (L_warm - L_cold) / L_cold.

Losses. Atoms are the value experts (h, l): u_hl = (V_hlj)_j (the value atoms of head h, coordinate l);
weight m_hl = ||u_hl|| (the head-level mixing mass, gauge-free: it is |w_hl| ||V_hl||); blocks
``V`` = u_hl / m_hl (direction; 0 when m_hl = 0), ``S`` = the score atoms of head h, ``g`` = the gate
weights of head h (G1, G2, G3) or the global gate (G5, the same in every atom). ``voronoi`` is the weighted
Voronoi loss of :func:`hmoe_theory.estimation.voronoi.voronoi_loss` with the ``strong`` exponents
(sum_j |sum_{i in V_j} m_i - m*_j| + exact cells: sum m_i ||Delta||, over-fitted cells: sum m_i ||Delta||^2,
per block), the same for every position so that positions compare; ``l2_error`` = ||F_hat - F*||_{L2}
under the design (midpoint rule, 100 x 100 nodes). No softmax translation to remove: the scores of the two
tokens are different functions of X (x_1^2 and x_1 x_2).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import sympy as sp
from threadpoolctl import threadpool_limits

from ..attention.families import attention_entry_function
from ..errors import ModelError, lookup
from ..families import ParametricFunction
from ..newton_system import DerivedSystem
from .least_squares import fit_least_squares
from .replicate import PairedSample, setting_seed
from .setting import Design
from .voronoi import Atoms, voronoi_loss

Array = np.ndarray
N_TOKENS = 2
DIM = 1
HEADS_TRUE = 1
NOISE_VARIANCE = 0.01
DESIGN = Design("uniform", -1.0, 1.0)
BOUND = 5.0
MAX_ITER = 100
PERTURBATION = 0.1
#: the true layer (d = 1, H* = 1): scores W_Q W_K^T / sqrt(d_k), values W_V, head weight W_O, gate weight
TRUE_LAYER = {"W_Q": 2.0, "W_K": 1.0, "W_V": 1.0, "W_O": 1.0, "Wg": 2.0}
POSITIONS = ("plain", "G1", "G2", "G3", "G5")


@dataclass(frozen=True)
class AttentionSetting:
    """One fitted model: gate ``position``, ``heads`` fitted heads, truth with :data:`HEADS_TRUE` heads."""

    name: str
    position: str
    heads: int
    description: str = field(default="", compare=False)

    @property
    def over(self) -> bool:
        return self.heads > HEADS_TRUE


def _setting(position: str, kind: str) -> AttentionSetting:
    heads = HEADS_TRUE + (kind == "over")
    label = "plain attention" if position == "plain" else f"{position}-gated attention"
    return AttentionSetting(
        f"attention/{position}/{kind}", position, heads,
        f"{label}, entry (1, 1), N = {N_TOKENS}, d = {DIM}, H* = {HEADS_TRUE}, fitted H = {heads} ({kind}), "
        f"hmoe free atoms, X ~ U[-1, 1], sigma^2 = {NOISE_VARIANCE}",
    )


SETTINGS: dict[str, AttentionSetting] = {
    s.name: s for s in (_setting(p, kind) for kind in ("exact", "over") for p in POSITIONS)
}
DEFAULT_SETTINGS: tuple[str, ...] = tuple(SETTINGS)


def _contrasts() -> tuple[tuple[str, str, str, str, str], ...]:
    out = []
    for kind in ("over", "exact"):
        for gated in ("G1", "G2"):
            out.append((f"{gated}-vs-plain/{kind}", f"attention/{gated}/{kind}", f"attention/plain/{kind}", "voronoi",
                        f"{gated}-gated expert loss decays faster than plain attention's ({kind})"))
        for gated in ("G1", "G2"):
            for control in ("G3", "G5"):
                out.append((f"{gated}-vs-{control}/{kind}", f"attention/{gated}/{kind}", f"attention/{control}/{kind}",
                            "voronoi", f"{gated} expert loss decays faster than {control}'s ({kind})"))
    return tuple(out)


#: paired slope differences (a - b < 0: a decays faster), metric ``voronoi``
CONTRASTS = _contrasts()


def get_setting(setting: str | AttentionSetting) -> AttentionSetting:
    return setting if isinstance(setting, AttentionSetting) else lookup(SETTINGS, setting, "attention setting")


# -- the model ------------------------------------------------------------------------------------------
@cache
def entry_function(position: str, heads: int) -> ParametricFunction:
    """The hmoe entry (1, 1) at ``position`` with ``heads`` heads, gauge w_hl = 1 substituted."""
    F = attention_entry_function(position, N_TOKENS, DIM, heads, param="hmoe")
    return F.with_params_fixed({p: sp.Integer(1) for p in F.params if p.name.startswith("w_")})


@cache
def regression(position: str, heads: int) -> DerivedSystem:
    """The derived Newton system of :func:`entry_function` (kernels compiled once per process and model)."""
    return entry_function(position, heads).newton_system()


def _indices(name: str) -> tuple[str, tuple[int, ...]]:
    block, *rest = name.split("_")
    return block, tuple(int(k) for k in rest)


def true_values(position: str, heads: int = HEADS_TRUE) -> dict[str, float]:
    """Free-atom values of the true layer (module docstring) for every parameter of the entry with ``heads``
    heads; heads beyond :data:`HEADS_TRUE` copy head 1 (used by the over-specified start)."""
    score = TRUE_LAYER["W_Q"] * TRUE_LAYER["W_K"] / math.sqrt(DIM)
    value = TRUE_LAYER["W_V"] * TRUE_LAYER["W_O"]
    out = {}
    for p in entry_function(position, heads).params:
        block = _indices(p.name)[0]
        out[p.name] = {"S": score, "V": value, "Wg": TRUE_LAYER["Wg"]}[block]
    return out


def true_theta(position: str) -> Array:
    values = true_values(position)
    return np.array([values[p.name] for p in entry_function(position, HEADS_TRUE).params])


def _head_of(name: str, position: str) -> int | None:
    """Head (1-based) a parameter belongs to; None for the global G5 gate."""
    block, index = _indices(name)
    if block == "Wg" and position == "G5":
        return None
    return index[0]


def near_truth_start(setting: AttentionSetting, rng: np.random.Generator) -> Array:
    """Truth + N(0, PERTURBATION^2); an extra head h > H* is a copy of head 1 and both carry half of head 1's
    value atoms, with opposite perturbations (delta for head 1, -delta for head h)."""
    names = [p.name for p in entry_function(setting.position, setting.heads).params]
    values = true_values(setting.position, setting.heads)
    heads = [_head_of(n, setting.position) for n in names]
    split = setting.heads > HEADS_TRUE
    theta = np.array([values[n] for n in names])
    delta = rng.normal(0.0, PERTURBATION, len(names))
    for a, (name, h) in enumerate(zip(names, heads)):
        if split and h is not None and (h == 1 or h > HEADS_TRUE):
            if name.startswith("V_"):
                theta[a] /= 2.0
            if h > HEADS_TRUE:  # opposite perturbation of the matching head-1 parameter
                twin = names.index(re.sub(r"^(\w+?)_\d+", lambda m: f"{m.group(1)}_1", name, count=1))
                delta[a] = -delta[twin]
    return theta + delta


# -- losses -----------------------------------------------------------------------------------------------
def read_atoms(position: str, heads: int, theta: Array) -> Atoms:
    """Value-expert atoms (h, l) of ``theta`` (module docstring): weight m_hl = ||u_hl||, blocks V (direction),
    S (score atoms of head h) and g (gate weights of head h, or the global gate)."""
    names = [p.name for p in entry_function(position, heads).params]
    theta = np.asarray(theta, dtype=float)
    if theta.shape != (len(names),):
        raise ModelError(f"need {len(names)} parameters, got shape {theta.shape}")
    masses, blocks = [], {"V": [], "S": []}
    gated = position != "plain"
    if gated:
        blocks["g"] = []
    for h in range(1, heads + 1):
        mine = [(n, v) for n, v in zip(names, theta) if _head_of(n, position) in (h, None)]
        scores = np.array([v for n, v in mine if n.startswith("S_")])
        gate = np.array([v for n, v in mine if n.startswith("Wg")])
        for l in range(1, DIM + 1):
            u = np.array([v for n, v in mine if n.startswith("V_") and _indices(n)[1][1] == l])
            m = float(np.linalg.norm(u))
            masses.append(m)
            blocks["V"].append(u / m if m > 0 else np.zeros_like(u))
            blocks["S"].append(scores)
            if gated:
                blocks["g"].append(gate)
    with np.errstate(divide="ignore"):
        log_weights = np.log(np.array(masses))  # -inf for a zero atom: weight exactly 0
    return Atoms(log_weights, {b: np.array(rows) for b, rows in blocks.items()})


@cache
def _grid() -> tuple[Array, Array]:
    return DESIGN.grid(N_TOKENS * DIM)


@cache
def _truth_on_grid(position: str) -> Array:
    return regression(position, HEADS_TRUE).predict(_grid()[0], true_theta(position))


def losses(setting: AttentionSetting, theta: Array) -> dict[str, float]:
    """``voronoi``, ``weight_discrepancy``, ``l2_error`` and the diagnostic ``max_atom_distance``."""
    truth = read_atoms(setting.position, HEADS_TRUE, true_theta(setting.position))
    fitted = read_atoms(setting.position, setting.heads, theta)
    loss = voronoi_loss(fitted, truth, "strong")
    nodes, weights = _grid()
    gap = regression(setting.position, setting.heads).predict(nodes, theta) - _truth_on_grid(setting.position)
    return {
        "voronoi": loss.value,
        "weight_discrepancy": loss.weight_term,
        "l2_error": float(np.sqrt(weights @ gap**2)),
        "max_atom_distance": float(np.nanmax([loss.exact_cell_error, loss.overfit_cell_error])),
    }


# -- one replicate path -------------------------------------------------------------------------------------
def simulate(sample: PairedSample, position: str) -> tuple[Array, Array]:
    """(X, Y) of size n_max: X = the design's transform of the standard draws, Y = F*(X) + sigma z."""
    X = DESIGN.transform(sample.raw_X)
    y = regression(position, HEADS_TRUE).predict(X, true_theta(position)) + math.sqrt(NOISE_VARIANCE) * sample.z
    return X, y


def run_path(setting: str | AttentionSetting | Mapping, sizes: Sequence[int], rep: int, seed: int) -> list[dict]:
    """Fit ``setting`` at every size of ``sizes`` on replicate ``rep``'s nested sample drawn from ``seed``.

    The replicate-path contract of :mod:`hmoe_theory.experiments.runner`: one row
    ``{"n", "status", "metrics"}`` per size; deterministic given the arguments (BLAS single-threaded).
    """
    if isinstance(setting, Mapping):
        raise ModelError("attention settings are named (see SETTINGS); user mappings are not supported")
    chosen = get_setting(setting)
    with threadpool_limits(limits=1):
        return _run_path(chosen, sizes, rep, seed)


def _run_path(setting: AttentionSetting, sizes: Sequence[int], rep: int, seed: int) -> list[dict]:
    model = regression(setting.position, setting.heads)
    sizes = sorted({int(n) for n in sizes})
    if not sizes or sizes[0] <= model.n_params:
        raise ModelError(f"{setting.name}: sample sizes must be > {model.n_params} (free parameters), got {sizes[:1]}")
    sample = PairedSample.draw(seed, sizes[-1], N_TOKENS * DIM, DESIGN.law)
    X, y = simulate(sample, setting.position)
    rng = np.random.default_rng(setting_seed(seed, setting.name))
    fresh = near_truth_start(setting, rng)
    start = fresh
    rows = []
    for n in sizes:
        warm = fit_least_squares(model, X[:n], y[:n], start, bound=BOUND, max_iter=MAX_ITER)
        cold = warm if start is fresh else fit_least_squares(model, X[:n], y[:n], fresh, bound=BOUND, max_iter=MAX_ITER)
        fit = min((warm, cold), key=lambda f: f.loss if np.isfinite(f.loss) else np.inf)
        start = fit.theta
        metrics = losses(setting, fit.theta)
        metrics.update(iterations=float(warm.iterations + (cold is not warm) * cold.iterations),
                       grad_norm=fit.grad_norm, loss=fit.loss,
                       cold_voronoi=metrics["voronoi"] if cold is fit else losses(setting, cold.theta)["voronoi"],
                       cold_loss_gap=(warm.loss - cold.loss) / abs(cold.loss))
        rows.append({"n": n, "status": fit.status, "metrics": metrics})
    return rows


__all__ = ["CONTRASTS", "DEFAULT_SETTINGS", "POSITIONS", "SETTINGS", "TRUE_LAYER", "AttentionSetting",
           "entry_function", "losses", "near_truth_start", "read_atoms", "regression", "run_path", "simulate",
           "true_theta", "true_values"]
