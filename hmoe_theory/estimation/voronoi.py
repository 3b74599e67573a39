"""Voronoi losses between a fitted and a true mixing measure (reconstructed from the MoE literature).

A mixing measure is a set of atoms eta_i (parameter blocks such as ``beta``, ``a``, ``alpha``) with
weights exp(c_i) (:class:`Atoms`). For fitted atoms eta_1..eta_k and true atoms eta*_1..eta*_k*:

    Voronoi cells   V_j = {i : j = argmin_l ||eta_i - eta*_l||}                (ties -> smallest l)
    D(G, G*) = sum_j | sum_{i in V_j} exp(c_i) - exp(c*_j) |                     (weight discrepancy)
             + sum_{j: |V_j| = 1} sum_{i in V_j} exp(c_i) sum_b ||Delta_b eta_ij||^{r_exact(b)}
             + sum_{j: |V_j| > 1} sum_{i in V_j} exp(c_i) sum_b ||Delta_b eta_ij||^{r_over(b, |V_j|)}

with Delta_b eta_ij = eta_i^(b) - eta*_j^(b) the difference in block b. The exponents per block are
configurable (:class:`VoronoiExponents`); presets (:data:`VORONOI_PRESETS`):

* ``strong``: r_exact = 1, r_over = 2 for every block -- strongly identifiable experts in softmax-gated
  MoE (least-squares theory: D = O(n^-1/2 log n), i.e. parameters of exact cells at n^-1/2 and of
  over-fitted cells at n^-1/4).
* ``gaussian-linear``: softmax-gated Gaussian MoE with linear experts; r_exact = 1; over-fitted cells:
  r_over = rbar(|V_j|) for ``beta`` and ``alpha`` and rbar(|V_j|)/2 for ``a`` and ``nu``, with
  rbar(2) = 4, rbar(3) = 6 (the solvability index of the polynomial system coming from the PDEs
  d^2 F/d beta d alpha = dF/da and d^2 F/d alpha^2 = 2 dF/d nu). Larger cells raise ModelError.

Hypotheses (reconstructed; the source papers' exact statements were not available): compact parameter
space, distinct true atoms, translation invariance of the softmax removed beforehand
(:func:`align_translation`) and, for quadratic gates, A replaced by sym(A).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..errors import ModelError, lookup

Array = np.ndarray
Exponent = float | Callable[[int], float]


@dataclass(frozen=True)
class Atoms:
    """A mixing measure: log-weights c (k,) and parameter blocks name -> array (k, size)."""

    log_weights: Array
    blocks: Mapping[str, Array]

    def __post_init__(self) -> None:
        k = np.shape(self.log_weights)[0]
        for name, value in self.blocks.items():
            if np.ndim(value) != 2 or np.shape(value)[0] != k:
                raise ModelError(f"block {name!r} must have shape ({k}, size), got {np.shape(value)}")

    @property
    def k(self) -> int:
        return int(np.shape(self.log_weights)[0])

    def stacked(self, names: Sequence[str] | None = None) -> Array:
        """The atoms as rows of one array (blocks concatenated in the given order)."""
        names = list(self.blocks) if names is None else list(names)
        return np.concatenate([np.asarray(self.blocks[b], dtype=float) for b in names], axis=1)


_RBAR = {0: 0.0, 1: 1.0, 2: 4.0, 3: 6.0, 4: 8.0}


def rbar(cell_size: int) -> float:
    """The solvability index rbar(m) of location-scale Gaussian mixtures: 0, 1, 4, 6, 8 for m = 0..4
    (rbar(2) = 4, rbar(3) = 6: Ho & Nguyen 2016, Ann. Statist. 44(6), Prop. 2.1; rbar(4) = 8 and rbar(m) <= 2m
    proved here, claims ``r-bar.*``, docs/r_bar.md). Larger cells are not tabulated."""
    if cell_size not in _RBAR:
        raise ModelError(f"rbar({cell_size}) is not tabulated (known for cells of size 0 to 4)")
    return _RBAR[cell_size]


@dataclass(frozen=True)
class VoronoiExponents:
    """Exponents per block for exact cells (|V_j| = 1) and over-fitted cells (|V_j| > 1).

    Values are numbers, or for over-fitted cells callables of the cell size; blocks not listed use
    the defaults.
    """

    exact: Mapping[str, float] = field(default_factory=dict)
    overfit: Mapping[str, Exponent] = field(default_factory=dict)
    default_exact: float = 1.0
    default_overfit: Exponent = 2.0

    def for_block(self, block: str, cell_size: int) -> float:
        if cell_size == 1:
            return float(self.exact.get(block, self.default_exact))
        value = self.overfit.get(block, self.default_overfit)
        return float(value(cell_size) if callable(value) else value)


VORONOI_PRESETS: dict[str, VoronoiExponents] = {
    "strong": VoronoiExponents(),
    "gaussian-linear": VoronoiExponents(
        overfit={"beta": rbar, "alpha": rbar, "a": lambda m: rbar(m) / 2, "nu": lambda m: rbar(m) / 2}
    ),
}


def get_exponents(exponents: VoronoiExponents | str) -> VoronoiExponents:
    if isinstance(exponents, VoronoiExponents):
        return exponents
    return lookup(VORONOI_PRESETS, exponents, "Voronoi preset")


@dataclass(frozen=True)
class VoronoiLoss:
    """D(G, G*) and its parts; ``cells[j]`` lists the fitted atoms in V_j."""

    value: float
    weight_term: float
    exact_term: float
    overfit_term: float
    cells: tuple[tuple[int, ...], ...]
    exact_cell_error: float  # max ||eta_i - eta*_j|| over exact cells (nan if none)
    overfit_cell_error: float  # max ||eta_i - eta*_j|| over over-fitted cells (nan if none)


def voronoi_cells(fitted: Atoms, true: Atoms, names: Sequence[str] | None = None) -> tuple[tuple[int, ...], ...]:
    """V_j = {i : j = argmin_l ||eta_i - eta*_l||} (Euclidean on the blocks ``names``, default all)."""
    names = list(true.blocks) if names is None else list(names)
    distances = np.linalg.norm(fitted.stacked(names)[:, None, :] - true.stacked(names)[None, :, :], axis=2)
    nearest = distances.argmin(axis=1)
    return tuple(tuple(int(i) for i in np.flatnonzero(nearest == j)) for j in range(true.k))


def voronoi_loss(fitted: Atoms, true: Atoms, exponents: VoronoiExponents | str = "strong") -> VoronoiLoss:
    """D(G, G*) of the module docstring (both measures must carry the same blocks)."""
    if set(fitted.blocks) != set(true.blocks):
        raise ModelError(f"blocks differ: {sorted(fitted.blocks)} vs {sorted(true.blocks)}")
    spec = get_exponents(exponents)
    names = list(true.blocks)
    cells = voronoi_cells(fitted, true, names)
    weights = np.exp(np.asarray(fitted.log_weights, dtype=float))
    true_weights = np.exp(np.asarray(true.log_weights, dtype=float))
    weight_term = sum(abs(weights[list(cell)].sum() - true_weights[j]) for j, cell in enumerate(cells))
    terms = {1: 0.0, 2: 0.0}
    errors: dict[int, list[float]] = {1: [], 2: []}
    full_fit, full_true = fitted.stacked(names), true.stacked(names)
    for j, cell in enumerate(cells):
        kind = 1 if len(cell) == 1 else 2
        for i in cell:
            for b in names:
                delta = np.linalg.norm(np.asarray(fitted.blocks[b][i], float) - np.asarray(true.blocks[b][j], float))
                terms[kind] += weights[i] * delta ** spec.for_block(b, len(cell))
            errors[kind].append(float(np.linalg.norm(full_fit[i] - full_true[j])))
    return VoronoiLoss(
        value=float(weight_term + terms[1] + terms[2]),
        weight_term=float(weight_term),
        exact_term=float(terms[1]),
        overfit_term=float(terms[2]),
        cells=cells,
        exact_cell_error=max(errors[1]) if errors[1] else float("nan"),
        overfit_cell_error=max(errors[2]) if errors[2] else float("nan"),
    )


def align_translation(
    fitted: Atoms,
    true: Atoms,
    shift_blocks: Sequence[str],
    match_blocks: Sequence[str],
    reference: int = -1,
) -> Atoms:
    """Representative of ``fitted`` modulo the softmax translation, aligned with ``true``'s convention.

    The softmax is unchanged by gamma_i -> gamma_i + t (blocks ``shift_blocks``, e.g. the score
    parameters of a linear-in-parameters gate; empty for the Laplace gate) and c_i -> c_i + t0. The
    true measure is pinned at atom ``reference`` (gamma* = 0 there, typically). Let R be the fitted
    atoms whose translation-free blocks ``match_blocks`` (the experts) are nearest to that true atom
    (or the single nearest fitted atom if none). We choose t, t0 so that the exp(c)-weighted mean of
    gamma over R equals gamma*_ref and sum_{i in R} exp(c_i) = exp(c*_ref). This is a function of the
    equivalence class of ``fitted`` (translating the input does not change the output).
    """
    cells = voronoi_cells(fitted, true, match_blocks)
    ref = reference % true.k
    members = list(cells[ref])
    if not members:
        distances = np.linalg.norm(fitted.stacked(match_blocks) - true.stacked(match_blocks)[ref], axis=1)
        members = [int(distances.argmin())]
    log_w = np.asarray(fitted.log_weights, dtype=float)
    w = np.exp(log_w[members] - log_w[members].max())
    blocks = {name: np.array(value, dtype=float) for name, value in fitted.blocks.items()}
    for name in shift_blocks:
        mean = (w[:, None] * blocks[name][members]).sum(axis=0) / w.sum()
        blocks[name] = blocks[name] + (np.asarray(true.blocks[name], dtype=float)[ref] - mean)
    log_mass = log_w[members].max() + np.log(w.sum())
    shift = float(np.asarray(true.log_weights, dtype=float)[ref]) - log_mass
    return Atoms(log_w + shift, blocks)


# ---- the exponent-one loss D1 and its two conventions (rate orders from inverse bounds) -------------

D1_CONVENTIONS: tuple[str, ...] = ("atomwise", "merged")


@dataclass(frozen=True)
class D1Loss:
    """D1(G, G*) and its parts under one convention; ``cells[j]`` lists the fitted atoms in V_j (floats, or
    exact rationals when the inputs are :class:`fractions.Fraction` object arrays)."""

    value: float | Fraction
    mass_term: float | Fraction
    atomwise_term: float | Fraction
    merged_term: float | Fraction
    convention: str
    cells: tuple[tuple[int, ...], ...]


def d1_loss(
    weights: Array,
    atoms: Array,
    true_weights: Array,
    true_atoms: Array,
    *,
    convention: str = "atomwise",
    merged: Sequence[int] = (),
    cells: Sequence[Sequence[int]] | None = None,
) -> D1Loss:
    """The exponent-one, weight-weighted Voronoi loss D1 (one scalar parameter per coordinate).

    Fitted atoms theta_i (rows of ``atoms``, k x P) with weights w_i, true atoms theta*_j with w*_j::

        D1 = sum_j | sum_{i in V_j} w_i - w*_j |                                            (mass)
           + sum_j sum_{i in V_j} w_i sum_{p atom-wise} |theta_ip - theta*_jp|               (atom-wise)
           + sum_j sum_{p merged} | sum_{i in V_j} w_i theta_ip - w*_j theta*_jp |           (merged)

    ``convention``: ``"atomwise"`` -- every coordinate atom-wise (``merged`` ignored); ``"merged"`` -- the
    coordinates listed in ``merged`` (those the model sees only through the cell average, e.g. the
    coefficients a, alpha of a linear expert in least squares) enter through the cell aggregate
    sum_i w_i theta_ip only, the others stay atom-wise. Cells V_j: ``cells`` if given (a configuration
    fixed by the caller), else nearest true atom (:func:`voronoi_cells`'s rule) in the atom-wise coordinates
    (every coordinate for ``"atomwise"``, or when all are merged): under ``"merged"`` an atom's own merged
    coordinates are not identified (two atoms of a cell may carry experts theta* +- t for any t at the same
    f_G), so they must not decide its cell.
    Hypotheses: weights > 0; the softmax translation removed beforehand (a pinned atom).
    Exact arithmetic: with object arrays of :class:`fractions.Fraction` every part is an exact rational.
    """
    if convention not in D1_CONVENTIONS:
        raise ModelError(f"unknown D1 convention {convention!r} (known: {', '.join(D1_CONVENTIONS)})")
    exact = any(np.asarray(a).dtype == object for a in (weights, atoms, true_weights, true_atoms))
    dtype = object if exact else float
    w, theta = np.asarray(weights, dtype=dtype), np.atleast_2d(np.asarray(atoms, dtype=dtype))
    w_true, theta_true = np.asarray(true_weights, dtype=dtype), np.atleast_2d(np.asarray(true_atoms, dtype=dtype))
    if theta.shape[1] != theta_true.shape[1] or len(w) != len(theta) or len(w_true) != len(theta_true):
        raise ModelError(f"shapes differ: atoms {theta.shape}, true atoms {theta_true.shape}")
    merged_set = sorted(set(merged)) if convention == "merged" else []
    atomwise = [p for p in range(theta.shape[1]) if p not in merged_set]
    if cells is None:
        located = atomwise or list(range(theta.shape[1]))
        gaps = (theta[:, None, located] - theta_true[None, :, located]).astype(float)
        nearest = np.linalg.norm(gaps, axis=2).argmin(axis=1)
        cells = [np.flatnonzero(nearest == j) for j in range(len(w_true))]
    cells = tuple(tuple(int(i) for i in cell) for cell in cells)
    mass = atom_term = merged_term = 0
    for j, cell in enumerate(cells):
        members = list(cell)
        mass += abs(w[members].sum() - w_true[j])
        atom_term += (w[members, None] * np.abs(theta[members][:, atomwise] - theta_true[j, atomwise])).sum()
        if merged_set:
            aggregate = (w[members, None] * theta[members][:, merged_set]).sum(axis=0)
            merged_term += np.abs(aggregate - w_true[j] * theta_true[j, merged_set]).sum()
    cast = (lambda v: v) if exact else float
    return D1Loss(cast(mass + atom_term + merged_term), cast(mass), cast(atom_term), cast(merged_term), convention, cells)
