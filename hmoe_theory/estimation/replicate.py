"""One replicate of a rate study: a nested, paired sample and the fits along its sizes.

Design (issue "rates v2"; the literature's protocol, shared/RATES_PROTOCOL.md):

* **Nested and paired.** Replicate ``rep`` draws ONE sample of size n_max from ``seed`` (three independent
  streams of ``numpy.random.SeedSequence(seed)``: the design X, standard normal noise z, uniform labels
  u); size n uses its first n points. The seed depends on (base seed, rep) only, so every setting with
  the same design and d sees the same X and z: comparisons between settings are paired.
  Regression: Y = f*(X) + sqrt(noise_variance) z. Gaussian MoE: J = the first j with u < cumsum(pi(X))_j,
  Y = E_J(X) + sqrt(nu_J) z.
* **Starts.** Near the truth (the literature's protocol, the headline fit): true atoms plus N(0, 0.1^2)
  noise; an over-specified fit splits true atom j in two halves of its weight (c_j - log 2) with opposite
  perturbations. The first size starts there; each larger size starts from the previous size's fit (warm
  start along the nested sizes). A second path starts from N(0, 1) parameters; the best of both paths per
  size is stored beside the headline (``best_loss``, ``best_voronoi``). For ``rep < COLD_CHECK_REPS``
  every ``COLD_CHECK_EVERY``-th size is also fitted from a fresh near-truth start and the agreement with
  the warm-started fit is stored (``cold_voronoi``, ``cold_loss_gap`` = (L_warm - L_cold) / L_cold).
* **Fits.** Least squares (:func:`~.least_squares.fit_least_squares`, verified status) or EM.
* **Losses** (:mod:`.metrics`), after removing the softmax translation (:func:`~.voronoi.align_translation`)
  and projecting parameters on their identified part (sym(A) for quadratic gates).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp
from threadpoolctl import threadpool_limits

from ..errors import ModelError
from ..numeric import softmax
from .catalogue import CONTRASTS, DEFAULT_SETTINGS, SETTINGS, get_setting
from .em import GaussianMoEEM, GaussianMoEParams
from .exponents import block_of, derived_exponents, literature_exponents
from .least_squares import fit_least_squares
from .setting import Setting, setting_from_mapping
from .voronoi import Atoms, align_translation, voronoi_loss

Array = np.ndarray
PERTURBATION = 0.1
BOUND = 5.0
MAX_ITER = 100  # Hessian evaluations per size (warm starts need far fewer)
EM_MAX_ITER = 2000  # the literature: maxit 2000, tolerance 1e-8 (CRPE-SGaME)
EM_TOL = 1e-8  # on the mean log-likelihood gain per iteration
COLD_CHECK_REPS = 2
COLD_CHECK_EVERY = 5


def setting_seed(seed: int, setting: str) -> np.random.SeedSequence:
    """Seed of the setting-specific randomness of replicate ``seed`` (start perturbations): (seed, crc32(name))."""
    return np.random.SeedSequence([int(seed), zlib.crc32(setting.encode("utf-8"))])


@dataclass(frozen=True)
class PairedSample:
    """Standard draws of one replicate: U[0, 1) or N(0, 1) design (n_max, d), noise z, labels u."""

    raw_X: Array
    z: Array
    u: Array

    @classmethod
    def draw(cls, seed: int, n_max: int, d: int, law: str) -> "PairedSample":
        x_stream, z_stream, u_stream = np.random.SeedSequence(int(seed)).spawn(3)
        x_rng = np.random.default_rng(x_stream)
        raw = x_rng.random((n_max, d)) if law == "uniform" else x_rng.standard_normal((n_max, d))
        return cls(raw, np.random.default_rng(z_stream).standard_normal(n_max), np.random.default_rng(u_stream).random(n_max))


def simulate(setting: Setting, sample: PairedSample) -> tuple[Array, Array]:
    """(X, Y) of size n_max for ``setting`` from the standard draws (module docstring)."""
    X = setting.design.transform(sample.raw_X)
    model, theta = setting.true_model, setting.true_theta
    if setting.estimator == "least-squares":
        return X, model.predict(X, theta) + math.sqrt(setting.noise_variance) * sample.z
    data = model.prepare(X)
    p = model.split(theta)
    pi = softmax(model.gate_kernel.values(data, p.gate) + p.bias[:, None], axis=0)
    labels = np.minimum((np.cumsum(pi, axis=0) < sample.u).sum(axis=0), model.k - 1)
    means = model.expert_kernel.values(data, p.expert)[labels, np.arange(len(X))]
    return X, means + np.sqrt(setting.true_variances[labels]) * sample.z


def _rows(setting: Setting) -> Array:
    """True atoms as rows [gamma, c, eta(, nu)] in the fitted model's flat order."""
    rows = setting.true_theta.reshape(setting.k_true, -1)
    if setting.estimator == "em":
        rows = np.concatenate([rows, setting.true_variances[:, None]], axis=1)
    return rows


def near_truth_start(setting: Setting, rng: np.random.Generator) -> Array:
    """The truth perturbed by N(0, PERTURBATION^2); over-specified: the first k - k* atoms split in two."""
    rows = _rows(setting)
    width = rows.shape[1]
    bias = setting.true_model.sizes[0]
    fixed = width - 1 if setting.estimator == "em" else None  # variances are not perturbed

    def kick() -> Array:
        out = rng.normal(0.0, PERTURBATION, width)
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


def _loss_spec(setting: Setting) -> _LossSpec:
    """Everything the losses need that does not depend on the fit (computed once per setting and path)."""
    model = setting.true_model
    expert = model.expert_kernel
    gate_blocks = tuple(dict.fromkeys(block_of(p.name) for p in model.gate_kernel.params))
    expert_blocks = tuple(dict.fromkeys(block_of(p.name) for p in expert.params))
    intercepts = tuple(block_of(p.name) for p in expert.params if sp.diff(expert.expr, p) == 1)  # dE/dp = 1
    derived, _ = derived_exponents(setting.gate, setting.expert, setting.d)
    match = expert_blocks + (("nu",) if setting.estimator == "em" else ())
    nodes, weights = setting.design.grid(setting.d)
    true_flat = _rows(setting).ravel() if setting.estimator == "em" else setting.true_theta
    return _LossSpec(
        literature_exponents(setting.voronoi, gate_blocks, expert_blocks, intercepts),
        derived,
        gate_blocks if setting.gate.translation_invariant(setting.d) else (),
        match,
        (nodes, weights),
        _atoms(setting, true_flat, setting.k_true),
        model.predict(nodes, setting.true_theta),
    )


def losses(setting: Setting, theta: Array, spec: _LossSpec | None = None) -> dict[str, float]:
    """The loss metrics of :mod:`.metrics` for fitted parameters ``theta`` (flat, k components)."""
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
    return {
        "voronoi": headline.value,
        "voronoi_derived": derived.value,
        "weight_discrepancy": headline.weight_term,
        "l2_error": float(np.sqrt(weights @ gap**2)),
        "max_atom_distance": float(np.nanmax([headline.exact_cell_error, headline.overfit_cell_error])),
    }


# -- fits along the nested sizes ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Fit:
    theta: Array
    status: str
    iterations: int
    loss: float
    grad_norm: float


def _fit(setting: Setting, X: Array, y: Array, start: Array) -> _Fit:
    if setting.estimator == "em":
        em = GaussianMoEEM(setting.k, setting.gate, setting.expert, max_iter=EM_MAX_ITER, tol=EM_TOL)
        sizes = setting.fit_model.sizes
        em.fit(X, y, init=GaussianMoEParams.from_flat(start, setting.k, setting.d, sizes))
        return _Fit(em.theta_, em.status_, em.n_iter_, -em.log_likelihood_, float("nan"))
    model = setting.fit_model
    fit = fit_least_squares(model, model.prepare(X), y, start, bound=BOUND, max_iter=MAX_ITER)
    return _Fit(fit.theta, fit.status, fit.iterations, fit.loss, fit.grad_norm)


def run_path(setting: str | Setting | Mapping, sizes: Sequence[int], rep: int, seed: int) -> list[dict]:
    """Fit ``setting`` at every size of ``sizes`` on replicate ``rep``'s nested sample drawn from ``seed``.

    ``setting``: a catalogue name, a :class:`Setting`, or a mapping in the schema of :mod:`.setting`.
    Returns one row per size: ``{"n": n, "status": status, "metrics": {name: float}}`` (:mod:`.metrics`).
    Deterministic given its arguments: BLAS runs single-threaded inside (threadpoolctl), so neither the
    worker count nor the machine's thread settings change a bit of the result (and parallelism comes from
    running replicate paths side by side, which is faster for these small matrices).
    """
    with threadpool_limits(limits=1):
        return _run_path(setting, sizes, rep, seed)


def _run_path(setting: str | Setting | Mapping, sizes: Sequence[int], rep: int, seed: int) -> list[dict]:
    chosen = setting_from_mapping(setting) if isinstance(setting, Mapping) else get_setting(setting)
    sizes = sorted({int(n) for n in sizes})
    floor = chosen.fit_model.free_mask.sum() + 1
    if not sizes or sizes[0] < floor:
        raise ModelError(f"{chosen.name}: sample sizes must be >= {floor} (free parameters + 1), got {sizes[:1]}")
    sample = PairedSample.draw(seed, sizes[-1], chosen.d, chosen.design.law)
    X, y = simulate(chosen, sample)
    rng = np.random.default_rng(setting_seed(seed, chosen.name))
    headline_start, other_start = near_truth_start(chosen, rng), None
    spec = _loss_spec(chosen)
    rows = []
    for index, n in enumerate(sizes):
        headline = _fit(chosen, X[:n], y[:n], headline_start)
        if other_start is None:
            other_start = random_start(chosen, rng, y[:n])
        other = _fit(chosen, X[:n], y[:n], other_start)
        headline_start, other_start = headline.theta, other.theta
        metrics = losses(chosen, headline.theta, spec)
        best = min((headline, other), key=lambda f: f.loss if np.isfinite(f.loss) else np.inf)
        metrics.update(
            iterations=float(headline.iterations),
            grad_norm=headline.grad_norm,
            loss=headline.loss,
            best_loss=best.loss,
            best_voronoi=losses(chosen, best.theta, spec)["voronoi"] if best is not headline else metrics["voronoi"],
        )
        if rep < COLD_CHECK_REPS and index % COLD_CHECK_EVERY == 0:
            cold = _fit(chosen, X[:n], y[:n], near_truth_start(chosen, rng))
            metrics["cold_voronoi"] = losses(chosen, cold.theta, spec)["voronoi"]
            metrics["cold_loss_gap"] = (headline.loss - cold.loss) / abs(cold.loss)
        rows.append({"n": n, "status": headline.status, "metrics": metrics})
    return rows


__all__ = ["CONTRASTS", "DEFAULT_SETTINGS", "SETTINGS", "PairedSample", "losses", "near_truth_start", "random_start",
           "run_path", "simulate"]
