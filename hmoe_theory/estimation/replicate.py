"""One replicate of a rate study: the one replicate function :func:`run_path` for every setting (mixtures
fitted by least squares or EM, attention entries), laid out by the setting's protocol.

Design (shared/RATES_PROTOCOL.md; the fields of :class:`~.setting.Protocol`):

* **Samples.** ``sample = "nested"`` (default): replicate ``rep`` draws ONE sample of size n_max from ``seed``
  (three independent streams of ``numpy.random.SeedSequence(seed)``: the design X, standard normal noise z,
  uniform labels u); size n uses its first n points. ``"fresh"``: size n draws its own sample from
  ``SeedSequence([seed, n])``. Paired either way: the draws depend on (base seed, rep, n) only, so every
  setting with the same design and d sees the same X and z. ``design_points = "fixed"``: X is drawn once from
  ``SeedSequence([design_seed])`` and shared by every replicate (size n uses its first n rows);
  ``"given"``: the rows of ``points``, cycled; ``"grid"`` (d = 1, fresh samples): X at size n is
  ``linspace(lo, hi, n)`` of the design uniform(lo, hi), the same for every replicate (the noise and labels
  are the size's fresh draws). Regression: Y = f*(X) + sqrt(noise_variance) z. Gaussian MoE:
  J = the first j with u < cumsum(pi(X))_j, Y = E_J(X) + sqrt(nu_J) z. A truth that depends on n is
  evaluated at each size (``Setting.at``) on the same draws.
* **Starts** (``starts``). Near the truth: true atoms plus N(0, s^2), s = ``start_perturbation`` at the size
  (0.1, or e.g. n^-1/4 as Refined-Mixture-Rates); an over-specified fit splits true atom j in two halves of
  its weight (c_j - log 2) with opposite perturbations. ``"warm"`` (mixtures' default): the first size starts
  there, each larger size from the previous size's fit, refitted by the **refit rule** (``refit``):

  - ``"if-not-converged"`` (default; the identifiable catalogue settings): a warm fit (and the first size's
    near-truth fit) whose status is not ``converged`` is refitted at its size from the fresh near-truth start
    that ``starts = "fresh"`` would use there (seeded by (seed, setting, n), kick ``start_perturbation`` at n);
    the kept fit is the converged one of the two with the lower loss, else the usable one (not
    ``diverged``/``failed``) with the lower loss, else the fresh one (ties: the warm one); the fresh fit gets
    ``RESCUE_BUDGET`` times the iteration cap. A least-squares fit kept that way and still not converged (nor
    off) is continued from its point by L-BFGS-B (:func:`~.least_squares.polish`, ``POLISH_WORK`` / n gradient
    evaluations, at most ``POLISH_MAX_EVALS``) and, if that end is not yet verified, by one more Newton fit;
    metric ``polished`` = 1 when that fit is kept. Measured on the decisive design's twins (20 replicates x 8
    sizes, same seeds, side by side with the rule without the polish): converged softmax-linear 130 -> 159 of
    160 (lowest size 11 -> 19 of 20), quadratic-polynomial 158 -> 160, quadratic-monomial 147 -> 160, at 1.19x the
    CPU of the three twins' paths (372 -> 441 s, benchmarks/bench_polish.py); a setting whose fits all converge never reaches the polish;
  - ``"if-off"`` (the negative controls, whose failing to converge is the point): only a warm fit (not the
    first size's) that is off (``diverged`` or ``failed``, e.g. an EM blow-up) is refitted (start from the
    path's generator), and the fresh fit replaces it.

  The kept fit is the size's one stored fit and the next warm start; metric ``refit`` = 1 when it is the
  fresh fit, ``refit_tried`` = 1 when a fresh fit was run. This is not selection on the outcome: every
  (replicate, size) keeps exactly one fit, chosen by the fits' own verified status and loss (both computed
  from the data alone), never by their distance to the truth; a fit that converges nowhere is stored with
  its status (no survivorship), and the rule only stops a warm start from carrying a stuck point (an
  iteration cap, a blow-up) to the larger sizes.
  ``"fresh"``: a fresh near-truth start at every size, seeded by (seed, setting, n) only; with ``tries = m``
  the size is fitted from m independent near-truth starts (try t seeded by (seed, setting, n, t); try 0 is
  the one-try start) and the fit of lowest loss (highest likelihood) among the usable ones is kept (the
  CRPE-SGaME ``n_tries``; a blow-up's likelihood is unbounded, so off tries are kept only if all are off);
  metric ``tries_converged`` counts the converged tries. ``"warm-or-initial"`` (attention's default): the
  better of the warm fit and the fit from the first near-truth start, at every size. ``random_path``
  (mixtures): a second path from N(0, 1) parameters; the best of both paths per size is stored beside the
  headline (``best_loss``, ``best_voronoi``). For
  ``rep < COLD_CHECK_REPS`` every ``COLD_CHECK_EVERY``-th size of a warm path is also fitted from a fresh
  near-truth start (``cold_voronoi``, ``cold_loss_gap`` = (L_warm - L_cold) / L_cold).
* **Fits.** Least squares (:func:`~.least_squares.fit_least_squares`, verified status; variable projection
  where experts enter linearly) or EM.
* **Losses** (:mod:`.metrics`), after removing the softmax translation (:func:`~.voronoi.align_translation`)
  and projecting parameters on their identified part (sym(A) for quadratic gates); attention entries:
  :func:`.attention_catalogue.losses`.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import sympy as sp
from threadpoolctl import threadpool_limits

from ..errors import ModelError
from ..numeric import softmax
from . import attention_catalogue
from .catalogue import CONTRASTS, DEFAULT_SETTINGS, SETTINGS as MIXTURES, get_setting as _catalogue_setting
from .em import GaussianMoEEM, GaussianMoEParams
from .exponents import block_of, derived_exponents, literature_exponents
from .least_squares import Acceptance, LeastSquaresFit, fit_least_squares, polish
from .metrics import CONVERGED
from .quotient import quotient_acceptance
from .setting import Setting, setting_from_mapping
from .voronoi import Atoms, align_translation, d1_loss, voronoi_loss

Array = np.ndarray
BOUND = 5.0
MAX_ITER = 100  # Hessian evaluations per size (warm starts need far fewer)
EM_MAX_ITER = 2000  # the literature: maxit 2000, tolerance 1e-8 (CRPE-SGaME)
#: budget multiplier of a rescue fit (refit rule ``if-not-converged``): the fits left at the cap crawl in slow
#: valleys (measured on the first decisive rerun of this design: quadratic-monomial/ridge-tanh/over rep 11 at
#: n = 51,795 converged in 109 systems, quadratic-monomial/linear/over/merged rep 1 at n = 1,931 in 293)
RESCUE_BUDGET = 3
EM_TOL = 1e-8  # on the mean log-likelihood gain per iteration
#: the L-BFGS-B polish of a kept least-squares fit that is still not converged (refit rule ``if-not-converged``):
#: POLISH_WORK / n gradient evaluations at size n, at most POLISH_MAX_EVALS (:func:`polish_evals`)
POLISH_WORK = 100_000_000
POLISH_MAX_EVALS = 20_000
COLD_CHECK_REPS = 2
COLD_CHECK_EVERY = 5
OFF = ("diverged", "failed")  # never a usable fit: never kept when a usable one exists, never carried forward
#: variable projection (least_squares.fit_least_squares) for over-specified fits of experts linear in their
#: parameters. Exact fits converge in a few full Newton steps from their warm starts, where the projection's
#: two stages cost 1.2-2.6x the CPU for the same 40/40 verified fits (benchmarks/bench_rates_v3.py)
PROJECTION = True
#: over-specified settings fitted WITHOUT the projection, chosen per setting by measurement (reps 2-3, 20 sizes
#: 1e3..1e5, equal CPU): quadratic-monomial/linear/over verified 33/40 without, 27/40 with it (softmax-linear
#: 25/40 with vs 9/40 without, quadratic-polynomial 35/40 vs 34/40: they keep it)
NO_PROJECTION: frozenset[str] = frozenset({"quadratic-monomial/linear/over"})
#: every setting :func:`run_path` knows by name: the mixture catalogue and the attention catalogue
SETTINGS: dict[str, Setting] = {**MIXTURES, **attention_catalogue.SETTINGS}


def get_setting(name: str | Setting) -> Setting:
    """A setting by name (mixture or attention catalogue), one-line error for an unknown name."""
    if isinstance(name, str) and name in attention_catalogue.SETTINGS:
        return attention_catalogue.SETTINGS[name]
    return _catalogue_setting(name)


def setting_seed(seed: int, setting: str) -> np.random.SeedSequence:
    """Seed of the setting-specific randomness of replicate ``seed`` (start perturbations): (seed, crc32(name))."""
    return np.random.SeedSequence([int(seed), zlib.crc32(setting.encode("utf-8"))])


@dataclass(frozen=True)
class PairedSample:
    """Standard draws of one replicate: U[0, 1) or N(0, 1) design (n, d), noise z, labels u."""

    raw_X: Array
    z: Array
    u: Array

    @classmethod
    def draw(cls, seed: int | Sequence[int], n_max: int, d: int, law: str) -> "PairedSample":
        x_stream, z_stream, u_stream = np.random.SeedSequence(seed).spawn(3)
        x_rng = np.random.default_rng(x_stream)
        raw = x_rng.random((n_max, d)) if law == "uniform" else x_rng.standard_normal((n_max, d))
        return cls(raw, np.random.default_rng(z_stream).standard_normal(n_max), np.random.default_rng(u_stream).random(n_max))


def simulate(setting: Setting, sample: PairedSample, X: Array | None = None) -> tuple[Array, Array]:
    """(X, Y) for ``setting`` (numeric truth) from the standard draws (module docstring); ``X`` defaults to the
    design's transform of ``sample.raw_X`` (n rows: Y uses the first n noise and label draws)."""
    X = setting.design.transform(sample.raw_X) if X is None else X
    return X, _responses(setting, X, sample)


def _responses(setting: Setting, X: Array, sample: PairedSample) -> Array:
    n = len(X)
    model, theta = setting.true_model, setting.true_theta
    if setting.estimator == "least-squares":
        return model.predict(X, theta) + math.sqrt(setting.noise_variance) * sample.z[:n]
    data = model.prepare(X)
    p = model.split(theta)
    pi = softmax(model.gate_kernel.values(data, p.gate) + p.bias[:, None], axis=0)
    labels = np.minimum((np.cumsum(pi, axis=0) < sample.u[:n]).sum(axis=0), model.k - 1)
    means = model.expert_kernel.values(data, p.expert)[labels, np.arange(n)]
    return means + np.sqrt(setting.true_variances[labels]) * sample.z[:n]


class _Data:
    """(X, Y) at each size of one replicate path under the setting's protocol (module docstring)."""

    def __init__(self, setting: Setting, seed: int, n_max: int) -> None:
        self.seed, protocol, design = int(seed), setting.protocol, setting.design
        self.grid = (design.a, design.b) if protocol.design_points == "grid" else None  # fresh samples only
        self.nested = protocol.sample == "nested"
        self.sample = PairedSample.draw(self.seed, n_max, setting.d, design.law) if self.nested else None
        self.X_all: Array | None = None  # None: fresh samples with a random design draw X per size
        if protocol.design_points == "given":
            self.X_all = np.resize(np.array(protocol.points, dtype=float), (n_max, setting.d))
        elif protocol.design_points == "fixed":
            self.X_all = design.transform(PairedSample.draw([protocol.design_seed], n_max, setting.d, design.law).raw_X)
        elif self.nested:
            self.X_all = design.transform(self.sample.raw_X)
        self.fixed = self.nested and not setting.n_dependent
        self.y_all = _responses(setting, self.X_all, self.sample) if self.fixed else None

    def at(self, setting: Setting, n: int) -> tuple[Array, Array]:
        """(X, Y) of size n for ``setting`` = the path's setting at n (its truth evaluated there)."""
        if self.fixed:
            return self.X_all[:n], self.y_all[:n]
        if self.nested:
            return simulate(setting, self.sample, self.X_all[:n])
        sample = PairedSample.draw([self.seed, n], n, setting.d, setting.design.law)
        if self.grid is not None:
            return simulate(setting, sample, np.linspace(*self.grid, n)[:, None])
        return simulate(setting, sample, None if self.X_all is None else self.X_all[:n])


def _rows(setting: Setting) -> Array:
    """True atoms as rows [gamma, c, eta(, nu)] in the fitted model's flat order."""
    rows = setting.true_theta.reshape(setting.k_true, -1)
    if setting.estimator == "em":
        rows = np.concatenate([rows, setting.true_variances[:, None]], axis=1)
    return rows


def near_truth_start(setting: Setting, rng: np.random.Generator, scale: float = 0.1) -> Array:
    """The truth perturbed by N(0, scale^2); over-specified: the first k - k* atoms split in two (attention:
    :func:`.attention_catalogue.near_truth_start`)."""
    if setting.attention is not None:
        return attention_catalogue.near_truth_start(setting, rng, scale)
    rows = _rows(setting)
    width = rows.shape[1]
    bias = setting.true_model.sizes[0]
    fixed = width - 1 if setting.estimator == "em" else None  # variances are not perturbed

    def kick() -> Array:
        out = rng.normal(0.0, scale, width)
        if fixed is not None:
            out[fixed] = 0.0
        return out

    extra = setting.k - setting.k_true
    if extra > setting.k_true:
        raise ModelError(f"{setting.name}: near-truth starts split each true atom at most once (k <= 2 k*)")
    out = []
    for j, row in enumerate(rows):
        if j < extra:
            half = row.copy()
            half[bias] -= math.log(2.0)
            delta = kick()
            out += [half + delta, half - delta]
        else:
            out.append(row + kick())
    return np.concatenate(out)


def random_start(setting: Setting, rng: np.random.Generator, y: Array) -> Array:
    """N(0, 1) parameters (EM: variances var(Y))."""
    width = _rows(setting).shape[1]
    theta = rng.normal(0.0, 1.0, (setting.k, width))
    if setting.estimator == "em":
        theta[:, -1] = float(np.var(y))
    return theta.ravel()


# -- losses ------------------------------------------------------------------------------------------
def _atoms(setting: Setting, theta: Array, k: int) -> Atoms:
    model = setting.fit_model if k == setting.k else setting.true_model
    flat = np.asarray(theta, dtype=float).reshape(k, -1)
    variances = flat[:, -1] if setting.estimator == "em" else None
    if variances is not None:
        flat = flat[:, :-1]
    p = model.canonical(flat.ravel())
    blocks: dict[str, list[Array]] = {}
    for kernel, values in ((model.gate_kernel, p.gate), (model.expert_kernel, p.expert)):
        for m, symbol in enumerate(kernel.params):
            blocks.setdefault(block_of(symbol.name), []).append(values[:, m])
    out = {name: np.stack(columns, axis=1) for name, columns in blocks.items()}
    if variances is not None:
        out["nu"] = variances[:, None]
    return Atoms(p.bias, out)


@dataclass(frozen=True)
class _LossSpec:
    literature: object
    derived: object
    shift: tuple[str, ...]
    match: tuple[str, ...]
    grid: tuple[Array, Array]
    truth: Atoms  # the true mixing measure
    true_values: Array  # f* on the grid nodes
    merged: tuple[int, ...]  # D1 columns (truth.stacked()) of coordinates entering linearly: the merged D1


def _loss_spec(setting: Setting) -> _LossSpec:
    """Everything the losses need that does not depend on the fit (computed once per setting and path)."""
    model = setting.true_model
    expert = model.expert_kernel
    gate_blocks = tuple(dict.fromkeys(block_of(p.name) for p in model.gate_kernel.params))
    expert_blocks = tuple(dict.fromkeys(block_of(p.name) for p in expert.params))
    intercepts = tuple(block_of(p.name) for p in expert.params if sp.diff(expert.expr, p) == 1)  # dE/dp = 1
    derived, _ = derived_exponents(setting.gate, setting.expert, setting.d)
    linear = setting.estimator != "em" and len(model.linear_indices) > 0
    # the softmax translation is aligned on the fitted atoms that represent the pinned true atom, found by their
    # experts -- which identify an atom, except in over-specified least squares with linear experts: there only a
    # cell's aggregate is identified (exact merges; a split atom's experts can sit anywhere, even next to the other
    # true atom's), so they are found by the gate blocks of the pinned fit, pinned like the truth at its last atom
    by_gate = linear and setting.over_specified and len(gate_blocks) > 0
    match = gate_blocks if by_gate else expert_blocks + (("nu",) if setting.estimator == "em" else ())
    nodes, weights = setting.design.grid(setting.d)
    true_flat = _rows(setting).ravel() if setting.estimator == "em" else setting.true_theta
    truth = _atoms(setting, true_flat, setting.k_true)
    columns = np.cumsum([0] + [truth.blocks[b].shape[1] for b in truth.blocks])
    merged = tuple(int(c) for i, b in enumerate(truth.blocks) if linear and b in expert_blocks
                   for c in range(columns[i], columns[i + 1]))
    return _LossSpec(
        literature_exponents(setting.voronoi, gate_blocks, expert_blocks, intercepts),
        derived,
        gate_blocks if setting.gate.translation_invariant(setting.d) else (),
        match,
        (nodes, weights),
        truth,
        model.predict(nodes, setting.true_theta),
        merged,
    )


def losses(setting: Setting, theta: Array, spec: object | None = None) -> dict[str, float]:
    """The loss metrics of :mod:`.metrics` for fitted parameters ``theta`` (flat, k components); ``spec``:
    the fit-independent part (:func:`loss_spec`)."""
    if setting.attention is not None:
        return attention_catalogue.losses(setting, theta, spec)
    spec = spec or _loss_spec(setting)
    truth = spec.truth
    fitted = align_translation(_atoms(setting, theta, setting.k), truth, spec.shift, spec.match)
    headline = voronoi_loss(fitted, truth, spec.literature)
    derived = voronoi_loss(fitted, truth, spec.derived)
    nodes, weights = spec.grid
    flat = np.asarray(theta, dtype=float).reshape(setting.k, -1)
    if setting.estimator == "em":
        flat = flat[:, :-1]
    gap = setting.fit_model.predict(nodes, flat.ravel()) - spec.true_values
    d1 = {"d1": _d1(fitted, truth, ())}
    if spec.merged:
        d1["d1_merged"] = _d1(fitted, truth, spec.merged)
    return {
        "voronoi": headline.value,
        **d1,
        "voronoi_derived": derived.value,
        "weight_discrepancy": headline.weight_term,
        "l2_error": float(np.sqrt(weights @ gap**2)),
        "max_atom_distance": float(np.nanmax([headline.exact_cell_error, headline.overfit_cell_error])),
    }


def _d1(fitted: Atoms, truth: Atoms, merged: tuple[int, ...]) -> float:
    """D1 (:func:`~.voronoi.d1_loss`, weights exp(c)): atom-wise (cells by every coordinate), or merged over the
    columns ``merged`` with cells by the other (gate) coordinates -- the merge moves the merged ones freely."""
    names = list(truth.blocks)
    atoms, true_atoms = fitted.stacked(names), truth.stacked(names)
    cells = None
    if merged:
        keep = [c for c in range(atoms.shape[1]) if c not in merged]
        nearest = np.linalg.norm(atoms[:, None, keep] - true_atoms[None, :, keep], axis=2).argmin(axis=1)
        cells = [np.flatnonzero(nearest == j) for j in range(truth.k)]
    return float(d1_loss(np.exp(fitted.log_weights), atoms, np.exp(truth.log_weights), true_atoms,
                         convention="merged" if merged else "atomwise", merged=merged, cells=cells).value)


def loss_spec(setting: Setting) -> object:
    """The fit-independent part of :func:`losses` for ``setting`` (numeric truth: ``setting.at(n)``)."""
    return attention_catalogue.loss_spec(setting) if setting.attention is not None else _loss_spec(setting)


# -- fits along the sizes ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Fit:
    theta: Array
    status: str
    iterations: int
    loss: float
    grad_norm: float


def _fit(setting: Setting, X: Array, y: Array, start: Array, budget: int = 1) -> _Fit:
    """The setting's fit from ``start`` with ``budget`` times the iteration cap (MAX_ITER Newton systems or
    EM_MAX_ITER EM maps)."""
    if setting.estimator == "em":
        em = GaussianMoEEM(setting.k, setting.gate, setting.expert, max_iter=EM_MAX_ITER * budget, tol=EM_TOL)
        sizes = setting.fit_model.sizes
        em.fit(X, y, init=GaussianMoEParams.from_flat(start, setting.k, setting.d, sizes))
        return _Fit(em.theta_, em.status_, em.n_iter_, -em.log_likelihood_, float("nan"))
    fit = fit_least_squares(setting.fit_model, X, y, start, bound=BOUND, max_iter=MAX_ITER * budget,
                            projection=PROJECTION and setting.over_specified
                            and setting.name not in NO_PROJECTION, accept=_acceptance(setting))
    return _Fit(fit.theta, fit.status, fit.iterations, fit.loss, fit.grad_norm)


def _acceptance(setting: Setting) -> Acceptance | None:
    """The test a least-squares fit of ``setting`` is judged by: a merged-loss twin is flat along its merge
    directions, so its fit is judged on the quotient and stops as soon as the quotient KKT test passes
    (estimation/quotient); every other setting: the plain KKT test (None)."""
    return quotient_acceptance(setting, BOUND) if setting.d1_convention == "merged" else None


def polish_evals(n: int) -> int:
    """The L-BFGS-B budget of a polished fit at size n: ``POLISH_WORK`` / n gradient evaluations, at most
    ``POLISH_MAX_EVALS`` (a fixed amount of work per fit whatever n, in evaluations, so the result never depends on
    the machine's speed)."""
    return int(min(POLISH_MAX_EVALS, POLISH_WORK // max(int(n), 1)))


def _polished(setting: Setting, X: Array, y: Array, fit: _Fit) -> _Fit:
    """``fit`` continued by L-BFGS-B (:func:`~.least_squares.polish`, budget :func:`polish_evals`) and verified by
    the setting's own test (the quotient KKT test for a merged-loss twin); where that end is not yet verified, the
    setting's Newton fit from it (one iteration cap) finishes it: L-BFGS-B crosses the long valleys, Newton's
    quadratic convergence passes the first-order test there (measured: L-BFGS-B alone stopped at cosines 4e-5)."""
    record = LeastSquaresFit(fit.theta, fit.status, "max_iter", fit.iterations, fit.loss, fit.grad_norm, 0)
    done = polish(setting.fit_model, X, y, record, bound=BOUND, max_evals=polish_evals(len(y)),
                  accept=_acceptance(setting))
    polished = _Fit(done.theta, done.status, done.iterations, done.loss, done.grad_norm)
    if polished.status == CONVERGED:
        return polished
    finished = _fit(setting, X, y, polished.theta)
    finished = replace(finished, iterations=finished.iterations + polished.iterations)
    return _kept(polished, finished, "if-not-converged")


def run_path(setting: str | Setting | Mapping, sizes: Sequence[int], rep: int, seed: int) -> list[dict]:
    """Fit ``setting`` at every size of ``sizes`` on replicate ``rep``'s sample(s) drawn from ``seed``.

    ``setting``: a catalogue name (mixture or attention), a :class:`Setting`, or a mapping in the schema of
    :mod:`.setting`. Returns one row per size: ``{"n": n, "status": status, "metrics": {name: float}}``
    (:mod:`.metrics`). Deterministic given its arguments: BLAS runs single-threaded inside (threadpoolctl), so
    neither the worker count nor the machine's thread settings change a bit of the result (and parallelism
    comes from running replicate paths side by side, which is faster for these small matrices).
    """
    with threadpool_limits(limits=1):
        return _run_path(setting, sizes, rep, seed)


def _run_path(setting: str | Setting | Mapping, sizes: Sequence[int], rep: int, seed: int) -> list[dict]:
    chosen = setting_from_mapping(setting) if isinstance(setting, Mapping) else get_setting(setting)
    sizes = sorted({int(n) for n in sizes})
    floor = int(chosen.fit_model.free_mask.sum()) + 1
    if not sizes or sizes[0] < floor:
        raise ModelError(f"{chosen.name}: sample sizes must be >= {floor} (free parameters + 1), got {sizes[:1]}")
    data = _Data(chosen, seed, sizes[-1])
    rng = np.random.default_rng(setting_seed(seed, chosen.name))
    path = _warm_or_initial if chosen.protocol.starts == "warm-or-initial" else _warm_or_fresh
    return path(chosen, sizes, rep, data, rng, seed)


def _specs(setting: Setting) -> Callable[[Setting], object]:
    """Loss specs per evaluated truth (one for a fixed truth)."""
    cache: dict[tuple, object] = {}

    def spec(at: Setting) -> object:
        key = tuple(tuple(sorted(t.items())) for t in at.truth)
        if key not in cache:
            cache[key] = loss_spec(at)
        return cache[key]

    return spec


def _size_seed(seed: int, setting: str, n: int, attempt: int = 0) -> np.random.SeedSequence:
    """Seed of the fresh near-truth start number ``attempt`` at size n: (seed, crc32(setting), n[, attempt])
    (attempt 0 without the fourth entry: the one-try start)."""
    entropy = [int(seed), zlib.crc32(setting.encode("utf-8")), int(n)]
    return np.random.SeedSequence(entropy + [int(attempt)] if attempt else entropy)


def _loss_key(fit: _Fit) -> float:
    return fit.loss if np.isfinite(fit.loss) else np.inf


def _best_usable(fits: Sequence[_Fit]) -> _Fit:
    """The fit of lowest loss among those that are not off (all of them when every one is off); ties: the first."""
    usable = [f for f in fits if f.status not in OFF] or list(fits)
    return min(usable, key=_loss_key)


def _kept(warm: _Fit, fresh: _Fit, rule: str) -> _Fit:
    """The refit rule's choice between a warm fit and its fresh refit (module docstring): ``if-off`` keeps the
    fresh fit; ``if-not-converged`` the converged one of lower loss, else the usable one of lower loss, else
    the fresh one."""
    if rule == "if-off" or (warm.status in OFF and fresh.status in OFF):
        return fresh
    converged = [f for f in (warm, fresh) if f.status == CONVERGED]
    return min(converged, key=_loss_key) if converged else _best_usable((warm, fresh))


def _needs_refit(fit: _Fit, rule: str) -> bool:
    return fit.status in OFF if rule == "if-off" else fit.status != CONVERGED


def _fresh_start(at: Setting, seed: int, name: str, n: int, scale: float, attempt: int = 0) -> Array:
    """The fresh near-truth start number ``attempt`` at size n: depends on (seed, setting, n, attempt) only."""
    return near_truth_start(at, np.random.default_rng(_size_seed(seed, name, n, attempt)), scale)


def _warm_or_fresh(
    chosen: Setting, sizes: list[int], rep: int, data: _Data, rng: np.random.Generator, seed: int
) -> list[dict]:
    """Starts ``warm`` (with the refit rule and the cold checks) or ``fresh`` (best of ``tries``), plus the
    optional random path."""
    protocol, specs = chosen.protocol, _specs(chosen)
    headline_start = other_start = None
    rows = []
    for index, n in enumerate(sizes):
        at = chosen.at(n)
        X, y = data.at(at, n)
        spec = specs(at)
        scale = protocol.start_perturbation.at(n)
        extra: dict[str, float] = {}
        if protocol.starts == "fresh":  # the starts at n depend on (seed, setting, n) only, not on the grid
            tries = [_fit(at, X, y, _fresh_start(at, seed, chosen.name, n, scale, t)) for t in range(protocol.tries)]
            headline = _best_usable(tries)
            extra["refit"] = 0.0
            if protocol.tries > 1:
                extra["tries_converged"] = float(sum(f.status == CONVERGED for f in tries))
        else:
            first = headline_start is None  # the first size starts near the truth (drawn from the path's stream)
            headline = warm = _fit(at, X, y, near_truth_start(at, rng, scale) if first else headline_start)
            # never carry a blow-up (or, by default, any fit that did not converge) forward; the first size's
            # near-truth fit is rescued by the default rule too (by a differently seeded fresh start)
            tried = _needs_refit(warm, protocol.refit) and not (first and protocol.refit == "if-off")
            if tried:
                if protocol.refit == "if-off":
                    fresh = _fit(at, X, y, near_truth_start(at, rng, scale))
                else:
                    fresh = _fit(at, X, y, _fresh_start(at, seed, chosen.name, n, scale), budget=RESCUE_BUDGET)
                headline = _kept(warm, fresh, protocol.refit)
            extra.update(refit=float(headline is not warm), refit_tried=float(tried))
            if protocol.refit == "if-not-converged" and chosen.estimator == "least-squares":
                polished = _polished(at, X, y, headline) if headline.status not in (CONVERGED, *OFF) else headline
                extra["polished"] = float(polished is not headline)
                headline = polished
        metrics = losses(at, headline.theta, spec)
        metrics.update(iterations=float(headline.iterations), grad_norm=headline.grad_norm, loss=headline.loss,
                       **extra)
        if protocol.random_path:
            if other_start is None:
                other_start = random_start(at, rng, y)
            other = _fit(at, X, y, other_start)
            other_start = other.theta if other.status not in OFF else None
            best = min((headline, other), key=lambda f: f.loss if np.isfinite(f.loss) else np.inf)
            metrics.update(best_loss=best.loss,
                           best_voronoi=losses(at, best.theta, spec)["voronoi"] if best is not headline else
                           metrics["voronoi"])
        if protocol.starts == "warm" and rep < COLD_CHECK_REPS and index % COLD_CHECK_EVERY == 0:
            cold = _fit(at, X, y, near_truth_start(at, rng, scale))
            metrics["cold_voronoi"] = losses(at, cold.theta, spec)["voronoi"]
            metrics["cold_loss_gap"] = (headline.loss - cold.loss) / abs(cold.loss)
        headline_start = headline.theta
        rows.append({"n": n, "status": headline.status, "metrics": metrics})
    return rows


def _warm_or_initial(
    chosen: Setting, sizes: list[int], rep: int, data: _Data, rng: np.random.Generator, seed: int
) -> list[dict]:
    """At every size the better of the warm fit and the fit from the first near-truth start."""
    specs = _specs(chosen)
    initial = start = near_truth_start(chosen.at(sizes[0]), rng, chosen.protocol.start_perturbation.at(sizes[0]))
    rows = []
    for n in sizes:
        at = chosen.at(n)
        X, y = data.at(at, n)
        spec = specs(at)
        warm = _fit(at, X, y, start)
        cold = warm if start is initial else _fit(at, X, y, initial)
        fit = min((warm, cold), key=lambda f: f.loss if np.isfinite(f.loss) else np.inf)
        start = fit.theta
        metrics = losses(at, fit.theta, spec)
        metrics.update(iterations=float(warm.iterations + (cold is not warm) * cold.iterations),
                       grad_norm=fit.grad_norm, loss=fit.loss, cold_loss_gap=(warm.loss - cold.loss) / abs(cold.loss))
        if "voronoi" in metrics:  # hmoe parametrisation (the attention one has l2_error only)
            metrics["cold_voronoi"] = metrics["voronoi"] if cold is fit else losses(at, cold.theta, spec)["voronoi"]
        rows.append({"n": n, "status": fit.status, "metrics": metrics})
    return rows


__all__ = ["CONTRASTS", "DEFAULT_SETTINGS", "SETTINGS", "PairedSample", "get_setting", "loss_spec", "losses",
           "near_truth_start", "random_start", "run_path", "simulate"]
