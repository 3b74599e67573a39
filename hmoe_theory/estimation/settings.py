"""Catalogue of simulation settings and one replicate of a rate study.

A setting fixes a true mixing measure G* (k* = 2 components, d = 2, X ~ Uniform[-1, 1]^2) and how it
is fitted:

* regression settings ``<gate>/<expert>/<exact|over>`` for gate in {softmax-linear,
  quadratic-polynomial, quadratic-monomial, laplace} and expert in {linear, ridge-sigmoid, ridge-tanh,
  ridge-gelu, gated-linear}: Y = f_G*(X) + N(0, 0.01), least squares (:class:`LeastSquaresMoE`) with
  k = k* (``exact``) or k = k* + 1 (``over``) components;
* density settings ``gaussian-moe/<exact|over>``: softmax-gated Gaussian mixture of linear experts,
  fitted by EM (:class:`GaussianMoEEM`).

Fitting protocol: one near-truth start (:func:`near_truth_starts`; over-specified: true atom 1 split
in two) plus one random start for least squares (Levenberg-Marquardt, parameters in [-5, 5], at most
``MAX_EVALUATIONS`` evaluations per start), the near-truth start for EM; the best fit is kept. Losses
are computed after :func:`~hmoe_theory.estimation.voronoi.align_translation` (quadratic gates:
sym(A)).

:func:`run_replicate` simulates, fits and returns the losses of one replicate; with the Voronoi
exponents of :mod:`hmoe_theory.estimation.voronoi` the theory (reconstructed, see there) predicts
``voronoi`` ~ n^-1/2 (up to logs) for strongly identifiable settings, ``l2_error`` ~ n^-1/2 always,
``exact_cell_error`` ~ n^-1/2 and ``overfit_cell_error`` ~ n^-1/4 for strongly identifiable experts,
and slower (possibly 1/log n) decay of the parameter losses for linear experts with a softmax-linear
or quadratic-polynomial gate when over-specified.

Caveat, computed by :mod:`hmoe_theory.interactions`: with d = 2 no smooth gate x expert pair of this
catalogue is strongly identifiable at order 2 (reconstructed index set; quadratic gates taken with
symmetric A). Softmax-linear x ridge keeps dF/da_k = d2F/dbeta_k dalpha; the quadratic-polynomial gate
keeps dF/dA_uv = d2F/db_u db_v; quadratic-monomial x ridge has only the three quadratic-form collisions
of the ledger claim ``interactions.identifiability.monomial-ridge-d2-collisions`` (in d = 1 that pair is
strongly identifiable). The expectations in the descriptions are the literature's, not verdicts.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError, lookup
from .em import GaussianMoEEM, GaussianMoEParams
from .least_squares import LeastSquaresMoE
from .model import SoftmaxMoE
from .sampling import sample_gaussian_moe, sample_regression
from .voronoi import Atoms, align_translation, voronoi_loss

Array = np.ndarray

D = 2
NOISE_VARIANCE = 0.01
GRID_SIZE = 100  # L2 norms over Uniform[-1, 1]^2 by the midpoint rule on a 100 x 100 grid
PERTURBATION = 0.1  # scale of the near-truth starting points
MAX_EVALUATIONS = 150  # per least-squares start; linear-expert over-fits often stop here (flat directions)

# true gate score parameters of component 1 (component 2 is pinned at 0 except for the Laplace gate)
_TRUE_GATES: dict[str, tuple[list[float], list[float]]] = {
    "softmax-linear": ([2.0, -1.0], [0.0, 0.0]),
    "quadratic-polynomial": ([1.5, 0.5, 0.5, -1.0, 1.0, -1.0], [0.0] * 6),
    "quadratic-monomial": ([2.0, 0.5, 0.5, -1.5], [0.0] * 4),
    "laplace": ([0.5, 0.5], [-0.5, -0.5]),
}
_TRUE_BIASES = (0.5, 0.0)
_AFFINE = ([2.0, -1.0, 0.5], [-1.0, 2.0, -0.5])  # (a, alpha) of components 1 and 2
_TRUE_EXPERTS: dict[str, tuple[list[float], list[float]]] = {
    **{e: (_AFFINE[0], _AFFINE[1]) for e in ("linear", "ridge-sigmoid", "ridge-tanh", "ridge-gelu")},
    "gated-linear": ([1.0, 1.0, 0.5, *_AFFINE[0]], [-1.0, 1.0, 0.0, *_AFFINE[1]]),
}
_TRUE_GAUSSIAN = GaussianMoEParams(
    gate=np.array([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0]]),
    experts=np.array([_AFFINE[0], _AFFINE[1]]),
    variances=np.array([0.05, 0.1]),
)

def _over_expectation(gate: str, expert: str) -> str:
    """What an over-specified fit is expected to show: the literature's expectation and, where the
    engine can decide it (smooth gates), that it finds order-2 relations at d = 2 (module docstring)."""
    if expert == "linear":
        return "linear experts: over-specified parameter losses may decay slower than any power (1/log n)"
    kind = "ridge experts" if expert.startswith("ridge-") else "G1-style gated linear experts"
    verdict = "not decided: the Laplace gate is not twice differentiable" if gate == "laplace" else "the engine finds order-2 relations at d = 2"
    return f"{kind} (literature: strongly identifiable, D ~ n^-1/2, reconstructed; {verdict})"


@dataclass(frozen=True)
class Setting:
    """One simulation setting (see module docstring); ``true_theta`` is flat, ``Mixture`` order."""

    name: str
    description: str
    gate: str
    expert: str
    k_true: int
    k_fit: int
    true_theta: tuple[float, ...]
    estimator: str  # "least-squares" or "em"
    voronoi: str  # exponent preset
    d: int = D
    noise_variance: float = NOISE_VARIANCE


def _regression_setting(gate: str, expert: str, over: bool) -> Setting:
    theta = []
    for j in range(2):
        theta += [*_TRUE_GATES[gate][j], _TRUE_BIASES[j], *_TRUE_EXPERTS[expert][j]]
    fit = "k = 3 (over-specified)" if over else "k = k* = 2 (exact)"
    description = (
        f"regression, {gate} gate x {expert} experts, k* = 2, d = 2, noise var {NOISE_VARIANCE}, "
        f"least squares with {fit}; {_over_expectation(gate, expert) if over else 'exact fit: D ~ n^-1/2'}"
    )
    name = f"{gate}/{expert}/{'over' if over else 'exact'}"
    return Setting(name, description, gate, expert, 2, 3 if over else 2, tuple(theta), "least-squares", "strong")


def _gaussian_setting(over: bool) -> Setting:
    fit = "k = 3 (over-specified)" if over else "k = k* = 2 (exact)"
    description = (
        "density, softmax-gated Gaussian mixture of linear experts, k* = 2, d = 2, EM with "
        f"{fit}; Voronoi exponents of the Gaussian-linear theory (rbar(2) = 4)"
    )
    return Setting(
        f"gaussian-moe/{'over' if over else 'exact'}",
        description,
        "softmax-linear",
        "linear",
        2,
        3 if over else 2,
        tuple(_TRUE_GAUSSIAN.flat()),
        "em",
        "gaussian-linear" if over else "strong",
    )


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        *(
            _regression_setting(g, e, over)
            for g, e, over in itertools.product(_TRUE_GATES, _TRUE_EXPERTS, (False, True))
        ),
        _gaussian_setting(False),
        _gaussian_setting(True),
    )
}

# contrasts: linear vs non-linear expert (rows 1-2), polynomial vs monomial quadratic gate (rows 3-4);
# exact vs over-fitted rates are read inside each over-specified setting from exact_cell_error
# (cells with one fitted atom) and overfit_cell_error (the cell holding two atoms).
DEFAULT_SETTINGS: tuple[str, ...] = (
    "softmax-linear/linear/over",
    "softmax-linear/ridge-tanh/over",
    "quadratic-polynomial/linear/over",
    "quadratic-monomial/linear/over",
)


DEFAULT_SIZES: tuple[int, ...] = tuple(125 * 2**i for i in range(8))  # 125 .. 16000


def get_setting(name: str | Setting) -> Setting:
    """Catalogue look-up with a one-line error."""
    if isinstance(name, Setting):
        return name
    return lookup(SETTINGS, name, "setting")


def _grid(d: int) -> Array:
    """Midpoint grid of [-1, 1]^d with GRID_SIZE points per axis (for d <= 3)."""
    axis = -1 + (2 * np.arange(GRID_SIZE) + 1) / GRID_SIZE
    return np.stack(np.meshgrid(*([axis] * d), indexing="ij"), axis=-1).reshape(-1, d)


def near_truth_starts(
    true_rows: Array,
    k_fit: int,
    bias_col: int,
    rng: np.random.Generator,
    positive_col: int | None = None,
    split: tuple[int, ...] = (0,),
) -> list[Array]:
    """Starting points near the truth, rows = components [gate, bias, expert(, nu)].

    Exact fit (k_fit = k*): the truth plus N(0, PERTURBATION^2) noise. Over-fit by one: for each true
    component j, two copies of it with bias c_j - log 2 (same total weight) and opposite small
    perturbations, the other components slightly perturbed -- one start per j in ``split``.
    ``positive_col`` (a variance) is not perturbed.
    """
    k_true, width = true_rows.shape

    def noise() -> Array:
        kick = rng.normal(0.0, PERTURBATION, width)
        if positive_col is not None:
            kick[positive_col] = 0.0
        return kick

    if k_fit == k_true:
        return [np.concatenate([row + noise() for row in true_rows])]
    if k_fit != k_true + 1:
        raise ModelError(f"near-truth starts support k = k* or k* + 1, got k = {k_fit}, k* = {k_true}")
    starts = []
    for j in split:
        rows = []
        for i, row in enumerate(true_rows):
            if i != j:
                rows.append(row + noise())
                continue
            half = row.copy()
            half[bias_col] -= np.log(2.0)
            kick = noise()
            rows += [half + kick, half - kick]
        starts.append(np.concatenate(rows))
    return starts


def _regression_atoms(model: SoftmaxMoE, theta: Array) -> Atoms:
    p = model.split(theta)
    gate = model.gate.canonical(p.gate, model.d)
    blocks, start = {}, 0
    for name, size in model.gate.blocks(model.d):
        blocks[name], start = gate[:, start : start + size], start + size
    start = 0
    for name, size in model.expert.blocks(model.d):
        blocks[name], start = p.expert[:, start : start + size], start + size
    return Atoms(p.bias, blocks)


def _gaussian_atoms(params: GaussianMoEParams) -> Atoms:
    d = params.gate.shape[1] - 1
    blocks = {
        "beta": params.gate[:, :d],
        "a": params.experts[:, :d],
        "alpha": params.experts[:, d:],
        "nu": params.variances[:, None],
    }
    return Atoms(params.gate[:, d], blocks)


@dataclass(frozen=True)
class _Fit:
    fitted: Atoms
    true: Atoms
    gap: Array  # f_hat - f* on the L2 grid
    shift_blocks: tuple[str, ...]
    match_blocks: tuple[str, ...]


def _fit_regression(setting: Setting, X: Array, y: Array, rng: np.random.Generator) -> _Fit:
    truth = SoftmaxMoE.from_names(setting.gate, setting.expert, setting.k_true, setting.d)
    true_theta = np.asarray(setting.true_theta)
    rows = true_theta.reshape(setting.k_true, -1)
    starts = near_truth_starts(rows, setting.k_fit, truth.sizes[0], rng)
    estimator = LeastSquaresMoE(
        setting.gate, setting.expert, setting.k_fit, random_restarts=1, max_iter=MAX_EVALUATIONS, random_state=rng
    )
    estimator.fit(X, y, init=starts)
    grid = _grid(setting.d)
    gate_blocks = tuple(name for name, _ in truth.gate.blocks(setting.d))
    return _Fit(
        _regression_atoms(estimator.model_, estimator.theta_),
        _regression_atoms(truth, true_theta),
        estimator.predict(grid) - truth.predict(grid, true_theta),
        gate_blocks if truth.gate.translation_invariant else (),
        tuple(name for name, _ in truth.expert.blocks(setting.d)),
    )


def _fit_gaussian(setting: Setting, X: Array, y: Array, rng: np.random.Generator) -> _Fit:
    true_params = GaussianMoEParams.from_flat(np.asarray(setting.true_theta), setting.k_true, setting.d)
    rows = np.asarray(setting.true_theta).reshape(setting.k_true, -1)
    starts = near_truth_starts(rows, setting.k_fit, setting.d, rng, positive_col=rows.shape[1] - 1)
    best = None
    for start in starts:
        estimator = GaussianMoEEM(setting.k_fit).fit(X, y, init=start)
        if best is None or estimator.log_likelihood_ > best.log_likelihood_:
            best = estimator
    grid = _grid(setting.d)
    truth_mean = GaussianMoEEM(setting.k_true)
    truth_mean.params_ = true_params
    return _Fit(
        _gaussian_atoms(best.params_),
        _gaussian_atoms(true_params),
        best.predict(grid) - truth_mean.predict(grid),
        ("beta",),
        ("a", "alpha", "nu"),
    )


def run_replicate(setting: str, n: int, seed: int) -> dict[str, float]:
    """Simulate n samples of ``setting`` with ``numpy.random.default_rng(seed)``, fit, return losses.

    Keys: ``voronoi`` D(G_hat, G*) (translation fixed, sym(A) for quadratic gates),
    ``weight_discrepancy`` (its weight term), ``exact_cell_error`` / ``overfit_cell_error`` (largest
    parameter distance to the true atom over cells with one / several fitted atoms; nan when there is
    no such cell), ``l2_error`` ||f_hat - f*||_L2(Uniform[-1,1]^d) (for ``gaussian-moe``, of the
    conditional mean), ``fit_seconds`` (the only wall-clock value). Deterministic given the inputs.
    """
    chosen = get_setting(setting)
    if not (isinstance(n, (int, np.integer)) and n >= 10):
        raise ModelError(f"sample size n must be an integer >= 10, got {n!r}")
    rng = np.random.default_rng(seed)
    true_theta = np.asarray(chosen.true_theta)
    if chosen.estimator == "em":
        X, y = sample_gaussian_moe(rng, GaussianMoEParams.from_flat(true_theta, chosen.k_true, chosen.d), n)
        started = time.perf_counter()
        fit = _fit_gaussian(chosen, X, y, rng)
    else:
        model = SoftmaxMoE.from_names(chosen.gate, chosen.expert, chosen.k_true, chosen.d)
        X, y = sample_regression(rng, model, true_theta, n, chosen.noise_variance)
        started = time.perf_counter()
        fit = _fit_regression(chosen, X, y, rng)
    fit_seconds = time.perf_counter() - started
    aligned = align_translation(fit.fitted, fit.true, fit.shift_blocks, fit.match_blocks)
    loss = voronoi_loss(aligned, fit.true, chosen.voronoi)
    return {
        "voronoi": loss.value,
        "weight_discrepancy": loss.weight_term,
        "exact_cell_error": loss.exact_cell_error,
        "overfit_cell_error": loss.overfit_cell_error,
        "l2_error": float(np.sqrt(np.mean(fit.gap**2))),
        "fit_seconds": fit_seconds,
    }
