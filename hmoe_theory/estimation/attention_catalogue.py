"""Attention entries as rate settings: the attention catalogue, near-truth starts and losses.

Every attention study is a :class:`~hmoe_theory.estimation.setting.Setting` with an ``[attention]`` table (its
TOML schema is in :mod:`.setting`) and runs through the one replicate function
:func:`hmoe_theory.estimation.replicate.run_path`; :mod:`.attention_replicate` pairs that function with this
catalogue for ``hmoe rates --replicate hmoe_theory.estimation.attention_replicate:run_path`` (the reference the
shipped gated-attention store was made with).

Model. Entry (1, 1) of multi-head attention on N tokens of dimension d, plain or with a sigmoid gate at G1
(SDPA output, elementwise), G2 (value map), G3 (key map) or G5 (after the output projection), in the ``hmoe``
free-atom parametrisation of :func:`hmoe_theory.attention.families.attention_entry_function`:

    F(X; theta) = [sigma(Wg . x_1)]_G5 sum_h w_h [sigma(Wg_h . x_1)]_G1
                  sum_j softmax_j(x_1^T S_hj x_j [sigma(Wg_h . x_j)]_G3) V_hj . x_j [sigma(Wg_h . x_j)]_G2

The head weight w_hl enters only through the products w_hl V_hlj, so the gauge w_hl = 1 is fixed (an exact
reparametrisation, like the pinned component of a softmax); the fitted parameters are the score atoms S, the
value atoms V (= w V) and the gate weights Wg.

Catalogue (:data:`SETTINGS`, ``attention/<position>/<exact|over>``): N = 2, d = 1, a true layer with H* = 1
head, W_Q = 2, W_K = 1, W_V = 1, W_O = 1 and, for gated positions, Wg = 2; in free atoms S_1j =
W_Q W_K^T / sqrt(d_k) = 2 and V_1j = W_V W_O = 1. X with i.i.d. entries Uniform[-1, 1], Y = F*(X) + sigma z,
sigma^2 = 0.01. Fits: H = H* (``exact``) or H* + 1 (``over``) heads, least squares in the box |theta| <= 5.
Protocol ``starts = "warm-or-initial"`` (attention's default): at every size two fits, from the first
near-truth start and warm-started from the previous size's fit; the lower loss is stored (its status,
iterations of both summed). Measured: from the near-truth start alone a G3 fit at n = 200 stopped at a
boundary local minimum (Wg = -5, loss 0.00683 vs 0.00557 from the truth) and warm starts kept that basin at
every size; the two-start rule removes such a basin as soon as the near-truth start escapes it.

Near-truth start (:func:`near_truth_start`): truth + N(0, s^2) (s the protocol's ``start_perturbation``); an
extra head h > H* copies head h - H*, both carry half its value atoms, with opposite perturbations.

Losses (:func:`losses`). Atoms are the value experts (h, l): u_hl = (V_hlj)_j (the value atoms of head h,
coordinate l); weight m_hl = ||u_hl|| (the head-level mixing mass, gauge-free: |w_hl| ||V_hl||); blocks
``V`` = u_hl / m_hl (direction; 0 when m_hl = 0), ``S`` = the score atoms of head h, ``g`` = the gate
weights of head h (G1, G2, G3) or the global gate (G5, the same in every atom). ``voronoi`` is the weighted
Voronoi loss (:func:`hmoe_theory.estimation.voronoi.voronoi_loss`) with the ``strong`` exponents, the same for
every position so that positions compare; ``l2_error`` = ||F_hat - F*||_{L2} under the design. No softmax
translation to remove: the scores of the tokens are different functions of X.

**The tied layer** (``attention`` parametrisation, :func:`tied_d1`). Its weights are not identified: the entry is
unchanged under W_Q c, W_K / c and under W_V c, W_O / c (and tau c with the scores times c), and an over-specified
layer has the exact merge of two heads with the true scores and gates whose value products sum to the true one
(also with opposite signs, so a head's own value product is not identified either). The loss is therefore built
on the identified products only: the free atoms of the same entry (:func:`tied_to_free_atoms`) -- scores
S_hj = W_Q^h W_K^hT / sqrt(d) (/ tau with a temperature; per k the rank-one pieces q_k k_k^T / sqrt(d) with a G3
gate), value atoms u_hl = (W_V^h[:, l] W_O[(h - 1) d + l])_j -- read as the value-expert atoms of
:func:`read_atoms` (weight m_hl = ||u_hl||, blocks S, g and the direction u_hl / m_hl), and then

    D1_tied = sum_j || sum_{(h, l) in V_j} u_hl - u*_j ||_1 + sum_j sum_{(h, l) in V_j} m_hl (||S_h - S*_j||_1
              + ||g_h - g*_j||_1),

cells V_j by the nearest true atom in (S, g) (:func:`~.voronoi.d1_loss`, convention ``merged`` on the value
coordinates, without its mass term: heads are summed, not normalised, so sum_{V_j} m_hl is not identified when
value atoms of a cell cancel). Metric ``d1_merged``. Hypotheses: the true atoms (S*_j, g*_j) are distinct and
their entries linearly independent functions (then D1_tied = 0 exactly when F = F*, and every merge is
invisible); one output coordinate (entry (1, 1)). It is a function of the products, so both scaling symmetries
leave it unchanged (tested).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..families import ParametricFunction
from ..newton_system import DerivedSystem
from .setting import AttentionEntry, Setting, setting_from_mapping
from .voronoi import Atoms, d1_loss, voronoi_loss

Array = np.ndarray
N_TOKENS = 2
DIM = 1
HEADS_TRUE = 1
NOISE_VARIANCE = 0.01
DESIGN = "uniform(-1, 1)"
#: the true layer (d = 1, H* = 1): scores W_Q W_K^T / sqrt(d_k), values W_V, head weight W_O, gate weight
TRUE_LAYER = {"W_Q": 2.0, "W_K": 1.0, "W_V": 1.0, "W_O": 1.0, "Wg": 2.0}
POSITIONS = ("plain", "G1", "G2", "G3", "G5")


def attention_mapping(position: str, kind: str) -> dict:
    """The schema mapping of catalogue setting ``attention/<position>/<kind>`` (module docstring)."""
    heads = HEADS_TRUE + (kind == "over")
    label = "plain attention" if position == "plain" else f"{position}-gated attention"
    truth = {"S": TRUE_LAYER["W_Q"] * TRUE_LAYER["W_K"] / DIM**0.5, "V": TRUE_LAYER["W_V"] * TRUE_LAYER["W_O"]}
    if position != "plain":
        truth["Wg"] = TRUE_LAYER["Wg"]
    return {
        "name": f"attention/{position}/{kind}",
        "description": f"{label}, entry (1, 1), N = {N_TOKENS}, d = {DIM}, H* = {HEADS_TRUE}, fitted H = {heads} "
        f"({kind}), hmoe free atoms, X ~ U[-1, 1], sigma^2 = {NOISE_VARIANCE}",
        "design": DESIGN,
        "noise_variance": NOISE_VARIANCE,
        "attention": {"position": position, "tokens": N_TOKENS, "dim": DIM, "heads": heads},
        "truth": [truth],
    }


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (setting_from_mapping(attention_mapping(p, kind)) for kind in ("exact", "over") for p in POSITIONS)
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


def entry_function(position: str, heads: int) -> ParametricFunction:
    """The catalogue's hmoe entry (1, 1) at ``position`` with ``heads`` heads (gauge w_hl = 1 substituted)."""
    return AttentionEntry(position, N_TOKENS, DIM).function(heads)


def regression(position: str, heads: int) -> DerivedSystem:
    """The derived Newton system of :func:`entry_function`."""
    return AttentionEntry(position, N_TOKENS, DIM).model(heads)


def true_theta(position: str) -> Array:
    """True free atoms of the catalogue's layer at ``position`` (H* heads)."""
    return SETTINGS[f"attention/{position}/exact"].true_theta


def near_truth_start(setting: Setting, rng: np.random.Generator, scale: float = 0.1) -> Array:
    """Truth + N(0, scale^2); an extra head h > H* copies head m = h - H* and both carry half of head m's value
    atoms, with opposite perturbations (delta for head m, -delta for head h)."""
    entry, heads, k_true = setting.attention, setting.k, setting.k_true
    names = [p.name for p in entry.function(heads).params]
    owners = [entry.head_of(n) for n in names]
    theta = entry.theta(setting.truth, heads)
    delta = rng.normal(0.0, scale, len(names))
    for a, (name, h) in enumerate(zip(names, owners)):
        if h is None or heads <= k_true:
            continue
        source = h - k_true if h > k_true else h
        if source > heads - k_true:  # a true head that is not split
            continue
        if name.startswith("V_"):
            theta[a] /= 2.0
        if h > k_true:  # opposite perturbation of the matching parameter of head `source`
            twin = names.index(re.sub(r"^(\w+?)_\d+", lambda m: f"{m.group(1)}_{source}", name, count=1))
            delta[a] = -delta[twin]
    return theta + delta


def read_atoms(entry: AttentionEntry, heads: int, theta: Array) -> Atoms:
    """Value-expert atoms (h, l) of ``theta`` (module docstring): weight m_hl = ||u_hl||, blocks V (direction),
    S (score atoms of head h) and g (gate weights of head h, or the global gate)."""
    names = [p.name for p in entry.function(heads).params]
    theta = np.asarray(theta, dtype=float)
    if theta.shape != (len(names),):
        raise ModelError(f"need {len(names)} parameters, got shape {theta.shape}")
    masses, blocks = [], {"V": [], "S": []}
    gated = entry.position != "plain"
    if gated:
        blocks["g"] = []
    for h in range(1, heads + 1):
        mine = [(n, v) for n, v in zip(names, theta) if entry.head_of(n) in (h, None)]
        scores = np.array([v for n, v in mine if n.startswith("S_")])
        gate = np.array([v for n, v in mine if n.startswith("Wg")])
        for l in range(1, entry.dim + 1):
            u = np.array([v for n, v in mine if n.startswith("V_") and int(n.split("_")[2]) == l])
            m = float(np.linalg.norm(u))
            masses.append(m)
            blocks["V"].append(u / m if m > 0 else np.zeros_like(u))
            blocks["S"].append(scores)
            if gated:
                blocks["g"].append(gate)
    with np.errstate(divide="ignore"):
        log_weights = np.log(np.array(masses))  # -inf for a zero atom: weight exactly 0
    return Atoms(log_weights, {b: np.array(rows) for b, rows in blocks.items()})


@dataclass(frozen=True)
class LossSpec:
    """What the losses need that does not depend on the fit: true atoms, quadrature grid, F* on the grid."""

    truth: Atoms  # true value-expert atoms (free atoms; of the tied truth in the attention parametrisation)
    grid: tuple[Array, Array]
    true_values: Array


def free_entry(entry: AttentionEntry) -> AttentionEntry:
    """The free-atom (hmoe, gauge w = 1) entry of the same position, tokens and dimension."""
    return AttentionEntry(entry.position, entry.tokens, entry.dim, "hmoe")


def tied_to_free_atoms(entry: AttentionEntry, heads: int, theta: Array) -> Array:
    """Free atoms (parameters of :func:`free_entry`, gauge w = 1) of the tied layer's ``theta`` (module docstring):
    S_h_j_u_v = sum_k WQ_h_u_k WK_h_v_k / s (G3: S_h_j_k_u_v = WQ_h_u_k WK_h_v_k / s), s = sqrt(d) or tau;
    V_h_l_j_u = WV_h_u_l WO_{(h-1)d+l}_1 for every token j; gate weights unchanged. Same entry function."""
    if entry.parametrisation != "attention":
        raise ModelError(f"tied_to_free_atoms needs the attention parametrisation, got {entry.parametrisation!r}")
    names = [p.name for p in entry.function(heads).params]
    theta = np.asarray(theta, dtype=float)
    if theta.shape != (len(names),):
        raise ModelError(f"need {len(names)} parameters, got shape {theta.shape}")
    value = dict(zip(names, theta))
    d = entry.dim
    scale = value["tau"] if entry.temperature else np.sqrt(d)
    out = []
    for name in (p.name for p in free_entry(entry).function(heads).params):
        block, *index = name.split("_")
        h, *rest = (int(i) for i in index)
        if block == "S" and len(rest) == 4:  # G3: S_h_j_k_u_v, one rank-one piece per k
            _, k, u, v = rest
            out.append(value[f"WQ_{h}_{u}_{k}"] * value[f"WK_{h}_{v}_{k}"] / scale)
        elif block == "S":
            _, u, v = rest
            out.append(sum(value[f"WQ_{h}_{u}_{k}"] * value[f"WK_{h}_{v}_{k}"] for k in range(1, d + 1)) / scale)
        elif block == "V":
            l, _, u = rest
            out.append(value[f"WV_{h}_{u}_{l}"] * value[f"WO_{(h - 1) * d + l}_1"])
        else:  # gate weights
            out.append(value[name])
    return np.array(out)


def tied_d1(entry: AttentionEntry, heads: int, theta: Array, truth: Atoms) -> float:
    """D1_tied of the module docstring for the tied layer's ``theta``; ``truth``: the true value-expert atoms
    (:func:`read_atoms` of the true free atoms)."""
    fitted = read_atoms(free_entry(entry), heads, tied_to_free_atoms(entry, heads, theta))
    names = [b for b in fitted.blocks if b != "V"] + ["V"]
    width = fitted.blocks["V"].shape[1]
    atoms, true_atoms = fitted.stacked(names), truth.stacked(names)
    merged = range(atoms.shape[1] - width, atoms.shape[1])
    loss = d1_loss(np.exp(fitted.log_weights), atoms, np.exp(truth.log_weights), true_atoms, convention="merged",
                   merged=merged)
    return float(loss.atomwise_term + loss.merged_term)


def loss_spec(setting: Setting) -> LossSpec:
    """The fit-independent part of :func:`losses` (``setting`` with a numeric truth: ``setting.at(n)``)."""
    entry = setting.attention
    nodes, weights = setting.design.grid(setting.d)
    if entry.parametrisation == "hmoe":
        truth = read_atoms(entry, setting.k_true, setting.true_theta)
    else:
        truth = read_atoms(free_entry(entry), setting.k_true,
                           tied_to_free_atoms(entry, setting.k_true, setting.true_theta))
    return LossSpec(truth, (nodes, weights), setting.true_model.predict(nodes, setting.true_theta))


def losses(setting: Setting, theta: Array, spec: LossSpec | None = None) -> dict[str, Any]:
    """``voronoi``, ``weight_discrepancy``, ``l2_error`` and the diagnostic ``max_atom_distance`` (hmoe);
    ``d1_merged`` (:func:`tied_d1`) and ``l2_error`` in the attention parametrisation (module docstring)."""
    spec = spec or loss_spec(setting)
    nodes, weights = spec.grid
    gap = setting.fit_model.predict(nodes, theta) - spec.true_values
    l2 = float(np.sqrt(weights @ gap**2))
    if setting.attention.parametrisation == "attention":
        return {"d1_merged": tied_d1(setting.attention, setting.k, theta, spec.truth), "l2_error": l2}
    loss = voronoi_loss(read_atoms(setting.attention, setting.k, theta), spec.truth, "strong")
    return {
        "voronoi": loss.value,
        "weight_discrepancy": loss.weight_term,
        "l2_error": l2,
        "max_atom_distance": float(np.nanmax([loss.exact_cell_error, loss.overfit_cell_error])),
    }


__all__ = ["CONTRASTS", "DEFAULT_SETTINGS", "POSITIONS", "SETTINGS", "TRUE_LAYER", "LossSpec", "attention_mapping",
           "entry_function", "free_entry", "loss_spec", "losses", "near_truth_start", "read_atoms", "regression",
           "tied_d1", "tied_to_free_atoms", "true_theta"]
