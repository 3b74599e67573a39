"""Coordinates of the mixing measures near G* in one cell configuration, with the D1 constraint eliminated.

A configuration gives each true atom j a cell of m_j >= 1 fitted atoms (sum_j m_j = k). An atom i of cell j
is written in deviation form, so that f_G - f_G* can be evaluated without cancellation:

    w_i = (w*_j + dm_j) pi_i,        theta_i = theta*_j + Delta_i,

with cell masses w*_j + dm_j and within-cell split fractions pi_i (sum 1, each >= ``floor``).
The coordinates u = (z, f):

* z, the *penalised* coordinates (a quadratic surrogate of D1 is ||z||^2): the mass deviations dm_j;
  the weighted atom-wise deviations pi_i Delta_ip (as in D1, an atom's deviation counts with its share); for the ``merged`` convention, per cell the aggregate
  A_jp = sum_i w_i theta_ip - w*_j theta*_jp of each merged coordinate p;
* f, the *free* coordinates, which D1 does not see: the split logits (pi = floor + (1 - m floor) softmax)
  and, for merged coordinates, the within-cell spreads zeta (|zeta| <= ``box`` via box sin f: the box is
  reached at finite f with zero slope, so a minimiser on the box is a stationary point), centred so
  that sum_i pi_i zeta_i = 0, giving Delta_ip = (A_jp - dm_j theta*_jp)/(w*_j + dm_j) + zeta_i.

Radial elimination: the point of coordinates u at level eps uses z -> eps z / ||z||, so ||z|| = eps
exactly and D1 is within constant factors of eps (the table reports the exact D1 of every point).
Pin (softmax-gated models): the atom of one singleton cell keeps its gate parameters and weight at the
truth (the softmax translation). Simplex models (no gate): sum_j dm_j = 0.

One definition of the map (:meth:`Coordinates._map`) serves every arithmetic: numpy doubles, and sympy symbols
compiled once per configuration to a symengine-LLVM kernel of the flat (w, theta) and its exact Jacobian in u
(the float search) and to an arb kernel of the deviations (the extended-precision iterates, no double rounding).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import flint
import numpy as np
import symengine as se
import sympy as sp

from ..balls import arb_function
from ..compile import compile_llvm_rows
from ..errors import ModelError
from .models import RateModel

FLOOR = 0.02  # every split atom keeps >= 2 % of its cell's mass


@dataclass(frozen=True)
class _Ops:
    """The arithmetic of the coordinate map: elementwise sqrt, exp, sin, the floor; ``exact``: the truth as exact
    rationals (symbolic) or doubles."""

    sqrt: object
    exp: object
    sin: object
    floor: object
    exact: bool


_NUMPY = _Ops(np.sqrt, np.exp, np.sin, FLOOR, False)
_SYMBOLIC = _Ops(*(np.frompyfunc(f, 1, 1) for f in (sp.sqrt, sp.exp, sp.sin)), sp.Rational(1, 50), True)


def _rational(value: Fraction) -> sp.Rational:
    return sp.Rational(value.numerator, value.denominator)


def _index(slots: list[tuple], kind: str, width: int) -> tuple[np.ndarray, ...]:
    """Positions of the slots of one kind and their integer labels, as index arrays."""
    chosen = [(at, *slot[1:]) for at, slot in enumerate(slots) if slot[0] == kind]
    return tuple(np.array(column, dtype=int) for column in zip(*chosen)) if chosen else \
        tuple(np.zeros(0, dtype=int) for _ in range(width + 1))


@dataclass(frozen=True)
class Deviations:
    """A point near G*: split fractions pi (k,), mass deviations dm (k*,), Delta (k, P)."""

    pi: np.ndarray
    dm: np.ndarray
    delta: np.ndarray


class Coordinates:
    """The map u -> :class:`Deviations` of one configuration (module docstring) and its inverse."""

    def __init__(self, model: RateModel, sizes: tuple[int, ...], convention: str, box: float = 1.0):
        if len(sizes) != model.k_true or min(sizes) < 1:
            raise ModelError(f"a configuration gives each of the {model.k_true} true atoms >= 1 fitted atom: {sizes}")
        self.model, self.sizes, self.convention, self.box = model, tuple(sizes), convention, box
        self.k, self.P = sum(sizes), len(model.atom_names)
        self.cell_of = np.repeat(np.arange(len(sizes)), sizes)
        self.members = [list(np.flatnonzero(self.cell_of == j)) for j in range(len(sizes))]
        self.true_w = np.array([float(w) for w in model.true_weights])
        self.true_theta = np.array([[float(v) for v in row] for row in model.true_atoms])
        self._exact_w = np.array([_rational(w) for w in model.true_weights], dtype=object)
        self._exact_theta = np.array([[_rational(v) for v in row] for row in model.true_atoms], dtype=object)
        self.merged = list(model.index(model.linear_names)) if convention == "merged" else []
        gates = set(model.index(model.gate_names))
        self.pinned_cell = None
        if model.pinned:
            singles = [j for j, m in enumerate(sizes) if m == 1]
            if not singles:
                raise ModelError(f"configuration {sizes}: the softmax translation is pinned on a singleton cell; none")
            self.pinned_cell = singles[-1]
        self.penalised: list[tuple] = []
        for j in range(len(sizes)):
            if j != self.pinned_cell and not (model.simplex and j == len(sizes) - 1):
                self.penalised.append(("mass", j))
        for i in range(self.k):
            j = int(self.cell_of[i])
            for p in range(self.P):
                if p in self.merged or (j == self.pinned_cell and p in gates):
                    continue
                self.penalised.append(("atom", i, p))
        for j in range(len(sizes)):
            self.penalised += [("aggregate", j, p) for p in self.merged]
        self.free: list[tuple] = []
        for j, m in enumerate(sizes):
            if m > 1:
                self.free += [("logit", j, r) for r in range(m - 1)]
                self.free += [("zeta", j, r, p) for r in range(m - 1) for p in self.merged]
        self._penalised_index = tuple(_index(self.penalised, kind, width) for kind, width in
                                      (("mass", 1), ("atom", 2), ("aggregate", 2)))
        self._free_index = tuple(_index(self.free, kind, width) for kind, width in (("logit", 2), ("zeta", 3)))
        self._kernels = None  # compiled on first use (:meth:`_compile`)

    # -- u -> deviations ------------------------------------------------------------------------------
    def deviations(self, u: np.ndarray, eps: float) -> Deviations:
        """The point at level eps in float arithmetic (a leading batch axis of u is kept)."""
        u = np.asarray(u)
        return self._map(u, eps, _NUMPY, np.result_type(u.dtype, float), 0.0, self._shifts(u))

    def _shifts(self, u: np.ndarray) -> np.ndarray:
        """Per cell the largest of its logits (the last one is 0): subtracted inside the softmax, which it leaves
        unchanged, so that exp never overflows."""
        logits = np.zeros((*u.shape[:-1], len(self.sizes)))
        (logit_at, logit_j, _), _ = self._free_index
        for at, j in zip(logit_at, logit_j):
            logits[..., j] = np.maximum(logits[..., j], np.real(u[..., len(self.penalised) + at]))
        return logits

    def _map(self, u: np.ndarray, eps, ops: "_Ops", dtype, zero, shifts: np.ndarray) -> Deviations:
        """u -> deviations (module docstring) in the arithmetic ``ops``: numpy arrays, or object arrays of sympy
        symbols (the expressions the compiled kernels of :meth:`vector_and_jacobian` and :meth:`arb_deviations`
        evaluate). ``shifts``: per cell, a number subtracted from its logits (any value gives the same softmax).
        One definition of the map for every arithmetic."""
        npen = len(self.penalised)
        batch = u.shape[:-1]
        z = u[..., :npen]
        scaled = z * eps / ops.sqrt(np.sum(z * z, axis=-1, keepdims=True))  # array first: a sympy scalar
        # times an ndarray would try to convert the array
        cells, width = len(self.sizes), max(self.sizes)
        dm = np.full((*batch, cells), zero, dtype=dtype)
        delta = np.full((*batch, self.k, self.P), zero, dtype=dtype)
        aggregate = np.full((*batch, cells, self.P), zero, dtype=dtype)
        (mass_at, mass_cell), (atom_at, atom_i, atom_p), (agg_at, agg_j, agg_p) = self._penalised_index
        dm[..., mass_cell] = scaled[..., mass_at]
        aggregate[..., agg_j, agg_p] = scaled[..., agg_at]
        if self.model.simplex:
            dm[..., -1] = -dm[..., :-1].sum(axis=-1)
        (logit_at, logit_j, logit_r), (zeta_at, zeta_j, zeta_r, zeta_p) = self._free_index
        logits = np.full((*batch, cells, width), zero, dtype=dtype)
        logits[..., logit_j, logit_r] = u[..., npen + logit_at]
        zeta = np.full((*batch, cells, width, self.P), zero, dtype=dtype)
        if len(zeta_at):
            zeta[..., zeta_j, zeta_r, zeta_p] = self.box * ops.sin(u[..., npen + zeta_at])
        pi = np.full((*batch, self.k), zero + 1, dtype=dtype)
        merged = np.array(self.merged, dtype=int)
        true_w, true_theta = (self._exact_w, self._exact_theta) if ops.exact else (self.true_w, self.true_theta)
        for j, m in enumerate(self.sizes):
            rows = self.members[j]
            if m > 1:
                e = ops.exp(logits[..., j, :m] - shifts[..., j, None])
                pi[..., rows] = ops.floor + (1 - m * ops.floor) * e / e.sum(axis=-1, keepdims=True)
            if len(merged):
                spread = zeta[..., j, :m, :][..., merged]
                centred = spread - (pi[..., rows, None] * spread).sum(axis=-2, keepdims=True)
                base = (aggregate[..., j, merged] - dm[..., j, None] * true_theta[j, merged]) / (
                    true_w[j] + dm[..., j, None])
                for r, i in enumerate(rows):
                    delta[..., i, merged] = base + centred[..., r, :]
        delta[..., atom_i, atom_p] = scaled[..., atom_at] / pi[..., atom_i]
        return Deviations(pi, dm, delta)

    def vector(self, u: np.ndarray, eps: float) -> np.ndarray:
        """Flat (w_1..w_k, theta_1..theta_k) in float arithmetic."""
        return self.vector_and_jacobian(u, eps)[0]

    def vector_and_jacobian(self, u: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
        """(vector, d vector / d u) at u: one call of the compiled kernel (symengine LLVM) of the symbolic map
        and its exact symbolic Jacobian."""
        if self._kernels is None:
            self._compile()
        u = np.asarray(u, dtype=float)
        out = self._kernels[0](np.concatenate([u, [eps], self._shifts(u)]))
        size = self.k * (1 + self.P)
        return out[:size], out[size:].reshape(size, len(u))

    def vector_jacobian(self, u: np.ndarray, eps: float) -> np.ndarray:
        """d vector / d u (exact, from the symbolic map)."""
        return self.vector_and_jacobian(u, eps)[1]

    def arb_deviations(self, u: list, eps) -> Deviations:
        """The point at level eps in ball arithmetic (python-flint arb at the caller's ``flint.ctx.prec``): u and
        eps arb (or exact) numbers; the map's compiled arb kernel (no rounding to doubles anywhere)."""
        if self._kernels is None:
            self._compile()
        shifts = [flint.arb(c) for c in self._shifts(np.array([float(v) for v in u]))]
        values = [flint.arb(v) for v in self._kernels[1](*u, eps, *shifts)]  # constants come back as ints
        npi, ndm = self.k, len(self.sizes)
        return Deviations(np.array(values[:npi], dtype=object), np.array(values[npi:npi + ndm], dtype=object),
                          np.array(values[npi + ndm:], dtype=object).reshape(self.k, self.P))

    def _compile(self) -> None:
        """Kernels of the symbolic map (once per configuration): LLVM for (vector, Jacobian), arb for deviations."""
        n = len(self.penalised) + len(self.free)
        u = np.array(sp.symbols(f"u0:{n}", real=True), dtype=object)
        eps = sp.Symbol("eps", positive=True)
        shifts = np.array(sp.symbols(f"c0:{len(self.sizes)}", real=True), dtype=object)  # inputs, not coordinates
        dev = self._map(u, eps, _SYMBOLIC, object, sp.Integer(0), shifts)
        weights = (self._exact_w[self.cell_of] + dev.dm[self.cell_of]) * dev.pi
        atoms = self._exact_theta[self.cell_of] + dev.delta
        vector = [se.sympify(e) for e in [*weights, *np.ravel(atoms)]]
        symbols = [se.sympify(s) for s in u]
        jacobian = [e.diff(s) for e in vector for s in symbols]
        self._kernels = (compile_llvm_rows([*vector, *jacobian], [*u, eps, *shifts]),
                         arb_function([*dev.pi, *dev.dm, *np.ravel(dev.delta)], [*u, eps, *shifts]))

    def coordinates(self, dev: Deviations) -> np.ndarray:
        """u with z = the penalised coordinates of ``dev`` (so ||z|| is its own level)."""
        pi, dm, delta = (np.asarray(a, dtype=float) for a in (dev.pi, dev.dm, dev.delta))
        z = []
        for slot in self.penalised:
            if slot[0] == "mass":
                z.append(dm[slot[1]])
            elif slot[0] == "atom":
                z.append(pi[slot[1]] * delta[slot[1], slot[2]])
            else:
                j, p = slot[1], slot[2]
                rows = self.members[j]
                mass = self.true_w[j] + dm[j]
                z.append(dm[j] * self.true_theta[j, p] + mass * float((pi[rows] * delta[rows, p]).sum()))
        f = []
        for slot in self.free:
            j = slot[1]
            rows, m = self.members[j], self.sizes[j]
            if slot[0] == "logit":
                share = np.clip((pi[rows] - FLOOR) / (1 - m * FLOOR), 1e-12, None)
                f.append(np.log(share[slot[2]] / share[-1]))
            else:
                p, mass = slot[3], self.true_w[j] + dm[j]
                aggregate = dm[j] * self.true_theta[j, p] + mass * float((pi[rows] * delta[rows, p]).sum())
                centred = delta[rows, p] - (aggregate - dm[j] * self.true_theta[j, p]) / mass
                value = (centred[slot[2]] - centred[-1]) / self.box
                f.append(np.arcsin(np.clip(value, -1.0, 1.0)))
        return np.array(z + f, dtype=float)

    def exact_point(self, dev: Deviations) -> tuple[list[Fraction], list[list[Fraction]]]:
        """Exact rational weights and atoms of a point whose deviations are rationals (or doubles)."""
        weights, atoms = [], []
        for i in range(self.k):
            j = int(self.cell_of[i])
            weights.append((self.model.true_weights[j] + Fraction(dev.dm[j])) * Fraction(dev.pi[i]))
            atoms.append([self.model.true_atoms[j][p] + Fraction(dev.delta[i][p]) for p in range(self.P)])
        return weights, atoms
