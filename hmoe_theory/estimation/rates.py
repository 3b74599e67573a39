"""Convergence rates from nested, paired replicate fits: slopes, bootstrap CIs, contrasts, decay shape.

Data of one (setting, metric): a grid ``V[r, s]`` of losses for replicate ``r = 1..R`` at sample size
``n_1 < ... < n_S``, and the fit status of each cell. Design hypotheses (the rates-v2 protocol):

* **nested** -- replicate ``r`` draws ONE sample of size ``n_S``; the fit at ``n_s`` uses its first
  ``n_s`` points. Losses of one replicate at different sizes are dependent; replicates are i.i.d.
* **paired** -- two settings that are compared use the same inputs and noise draws for the same ``r``.

Only *usable* cells enter: status ``converged`` and a finite value ``> 0`` (a log is taken). The
others are *left out* and counted (by status, and ``invalid`` for converged fits without a usable
value). A result **counts** only when at least ``MIN_CONVERGED_SHARE`` = 95 % of its fits are usable:
with more fits left out, the means below would be over a subset selected by the solver's success.

Estimators (``U_s`` = usable replicates at size ``s``; ``x_s = log n_s``):

* mean-loss curve ``m_s = |U_s|^-1 sum_{r in U_s} V[r, s]`` and ``y_s = log m_s``;
* **slope** ``b``: OLS of ``y_s = a + b x_s`` over the sizes with ``U_s`` non-empty (the literature's
  estimator; ``L ~ e^a n^b``);
* **robust slope**: Theil-Sen on the same points, ``median_{s<t} (y_t - y_s)/(x_t - x_s)``
  (``scipy.stats.theilslopes``); intercept ``median(y) - b median(x)``;
* **bootstrap** (percentile, level ``level``): draw ``R`` replicate indices with replacement, ``B``
  times, with ``numpy.random.default_rng(seed)``; resample ``b`` gives replicate weights ``w_r``
  (multiplicities) and ``m_s^b = sum_r w_r V[r,s] 1_U / sum_r w_r 1_U``. The SAME indices are used at every
  size (the sizes of one replicate share a sample) and, for a contrast, for both settings (their
  replicates share X and noise), so the bootstrap keeps both dependences. Every estimator is recomputed
  on every resample; the CI is the ``(1-level)/2`` and ``(1+level)/2`` quantiles. The indices depend
  only on ``(seed, R, B)``: two analyses with the same replicate count resample the same replicates;
* **start-of-range sensitivity**: the OLS slope ``b_m`` on ``n_{m+1}..n_S`` for ``m = 0..S-3`` with
  its bootstrap CI (the CRPE-SGaME ``n0`` check), and the shift ``b_m - b_0`` with the CI of the same
  bootstrap (paired: both slopes use the same resampled replicates); a shift whose CI excludes 0 means
  the smallest sizes are not in the asymptotic regime;
* **paired contrast** of settings ``a``, ``b`` on their common replicates and sizes:
  ``d = b_a - b_b`` with the paired bootstrap CI; ``hi < 0`` -> ``a faster`` (steeper decay),
  ``lo > 0`` -> ``b faster``, else ``not separated at this design``;
* **power law vs logarithmic decay**: ``P: y = a + b x`` (``L = C n^b``) against
  ``G: y = a' + c log x`` (``L = C (log n)^c``; ``c = -1`` is 1/log n, a free ``c`` lets the log model
  match the level and local slope of the data, so only the *shape* is tested). With both fitted by OLS to
  the mean-loss curve, the design can separate them only if their predictions differ by more than the
  sampling noise somewhere in the range: ``D = max_s |yhat_P(s) - yhat_G(s)| / se_s`` with ``se_s``
  the bootstrap standard deviation of ``y_s``. ``D < SEPARATION_Z`` (= 2) -> ``inseparable`` ("this
  design cannot separate a power law from 1/log n"); otherwise the bootstrap CI of
  ``RSS_G - RSS_P`` decides: ``lo > 0`` -> ``power``, ``hi < 0`` -> ``log``, else ``undecided``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import ModelError
from .metrics import CONVERGED

Array = np.ndarray

LEVEL = 0.95
N_BOOT = 2000
MIN_CONVERGED_SHARE = 0.95
MIN_SIZES = 3
SEPARATION_Z = 2.0
VERDICTS = ("a faster", "b faster", "not separated at this design")
INSEPARABLE = "this design cannot separate a power law from 1/log n"


# --------------------------------------------------------------------------------------------------
# the replicate grid
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplicateGrid:
    """Losses ``values[r, s]`` and statuses ``status[r, s]`` (``""`` = no stored fit) of one
    (setting, metric) for replicates ``reps[r]`` at sizes ``sizes[s]`` (increasing)."""

    sizes: Array
    reps: Array
    values: Array
    status: Array

    @classmethod
    def from_cells(cls, cells: Iterable[tuple[int, int, str, float]]) -> ReplicateGrid:
        """Grid from ``(n, rep, status, value)`` cells (``value`` NaN when the fit has none)."""
        cells = list(cells)
        sizes = np.array(sorted({int(c[0]) for c in cells}), dtype=np.int64)
        reps = np.array(sorted({int(c[1]) for c in cells}), dtype=np.int64)
        values = np.full((reps.size, sizes.size), np.nan)
        status = np.full((reps.size, sizes.size), "", dtype=object)
        col = {int(n): j for j, n in enumerate(sizes)}
        row = {int(r): i for i, r in enumerate(reps)}
        for n, rep, state, value in cells:
            i, j = row[int(rep)], col[int(n)]
            if status[i, j]:
                raise ModelError(f"two fits for n={n}, rep={rep}")
            status[i, j], values[i, j] = str(state), float(value)
        return cls(sizes, reps, values, status)

    @property
    def usable(self) -> Array:
        """Cells that enter the estimators: converged with a finite value > 0."""
        with np.errstate(invalid="ignore"):
            return (self.status == CONVERGED) & np.isfinite(self.values) & (self.values > 0)

    def restrict(self, sizes: Array, reps: Array) -> ReplicateGrid:
        """The sub-grid on the given sizes and replicates (each must be present)."""
        cols = np.searchsorted(self.sizes, sizes)
        rows = np.searchsorted(self.reps, reps)
        return ReplicateGrid(np.asarray(sizes), np.asarray(reps), self.values[np.ix_(rows, cols)],
                             self.status[np.ix_(rows, cols)])


# --------------------------------------------------------------------------------------------------
# vectorised building blocks (every function works on a batch of curves along the last axis)
# --------------------------------------------------------------------------------------------------
def bootstrap_weights(n_reps: int, n_boot: int = N_BOOT, seed: int = 0) -> Array:
    """``(n_boot, n_reps)`` multiplicities of the replicates in each resample (rows sum to ``n_reps``)."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_reps, size=(n_boot, n_reps))
    flat = (picks + n_reps * np.arange(n_boot)[:, None]).ravel()
    return np.bincount(flat, minlength=n_boot * n_reps).reshape(n_boot, n_reps).astype(float)


def weighted_log_means(grid: ReplicateGrid, weights: Array) -> Array:
    """``log`` of the mean usable loss at each size for each weight row (NaN where no usable cell)."""
    usable = grid.usable
    total = np.einsum("br,rs->bs", weights, np.where(usable, grid.values, 0.0))
    count = np.einsum("br,rs->bs", weights, usable.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.log(total / np.where(count > 0, count, 1.0)), np.nan)


def masked_ols(x: Array, y: Array) -> tuple[Array, Array, Array]:
    """Slope, intercept and residual sum of squares of ``y = a + b x`` over the finite entries of ``y``
    (batched over leading axes; NaN when fewer than 2 distinct points)."""
    w = np.isfinite(y).astype(float)
    yz = np.where(w > 0, y, 0.0)
    count = w.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm = (w * x).sum(-1) / count
        ym = yz.sum(-1) / count
        dx = x - xm[..., None]
        sxx = (w * dx * dx).sum(-1)
        slope = (w * dx * (yz - ym[..., None])).sum(-1) / sxx
        intercept = ym - slope * xm
        rss = (w * (yz - intercept[..., None] - slope[..., None] * x) ** 2).sum(-1)
    bad = (count < 2) | ~(sxx > 0)
    return tuple(np.where(bad, np.nan, v) for v in (slope, intercept, rss))


def theil_sen_slopes(x: Array, y: Array) -> Array:
    """Theil-Sen slope ``median_{s<t, x_s != x_t} (y_t - y_s)/(x_t - x_s)`` over finite pairs (batched)."""
    i, j = np.triu_indices(x.size, k=1)
    keep = x[j] != x[i]
    i, j = i[keep], j[keep]
    pair_slopes = (y[..., j] - y[..., i]) / (x[j] - x[i])
    finite = np.isfinite(pair_slopes)
    out = np.full(pair_slopes.shape[:-1], np.nan)
    has = finite.any(-1)
    out[has] = np.nanmedian(pair_slopes[has], axis=-1)
    return out


def percentile_ci(samples: Array, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of the finite ``samples`` (NaN, NaN when none)."""
    samples = np.asarray(samples, dtype=float)
    samples = samples[np.isfinite(samples)]
    if not samples.size:
        return (np.nan, np.nan)
    low, high = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2])
    return (float(low), float(high))


# --------------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LineFit:
    """``log L = intercept + slope log n`` with a bootstrap CI ``[ci_low, ci_high]`` for the slope."""

    slope: float
    intercept: float
    ci_low: float
    ci_high: float

    @property
    def ci(self) -> tuple[float, float]:
        return (self.ci_low, self.ci_high)

    def contains(self, value: float) -> bool:
        return self.ci_low <= value <= self.ci_high


@dataclass(frozen=True)
class StartSensitivity:
    """OLS slope (with bootstrap CI) on the sizes ``n >= first_n`` (``sizes`` of them), and its shift
    from the full-range slope with the paired bootstrap CI of that shift."""

    first_n: int
    sizes: int
    slope: float
    ci_low: float
    ci_high: float
    shift: float = 0.0
    shift_ci: tuple[float, float] = (0.0, 0.0)

    @property
    def drifts(self) -> bool:
        """The shift's CI excludes 0: the slope depends on where the range starts."""
        return self.shift_ci[0] > 0 or self.shift_ci[1] < 0


@dataclass(frozen=True)
class DecayTest:
    """Power law ``C n^b`` against logarithmic decay ``C (log n)^c`` on the mean-loss curve.

    ``preferred``: ``power``, ``log``, ``undecided`` (separable, but the bootstrap CI of
    ``rss_log - rss_power`` covers 0) or ``inseparable`` (``max_gap_se < SEPARATION_Z``).
    """

    preferred: str
    max_gap_se: float
    power_slope: float
    log_exponent: float
    rss_power: float
    rss_log: float
    delta_ci: tuple[float, float]

    @property
    def separable(self) -> bool:
        return self.preferred != "inseparable"

    @property
    def words(self) -> str:
        return {
            "inseparable": INSEPARABLE,
            "power": "a power law fits better than (log n)^c",
            "log": "(log n)^c fits better than a power law",
            "undecided": "separable in principle, but neither fits better at this noise",
        }[self.preferred]


@dataclass(frozen=True)
class RateResult:
    """Rate analysis of one (setting, metric); ``fit``/``robust``/``decay`` are ``None`` (see ``note``)
    when fewer than ``MIN_SIZES`` sizes have a usable value."""

    setting: str
    metric: str
    sizes: tuple[int, ...]
    reps: int
    fits: int
    used: int
    left_out_by_status: dict[str, int]
    invalid: int
    converged_share: float
    converged_share_by_n: tuple[float, ...]
    mean_loss: tuple[float, ...]
    band: tuple[tuple[float, float], ...]
    fit: LineFit | None
    robust: LineFit | None
    sensitivity: tuple[StartSensitivity, ...]
    decay: DecayTest | None
    level: float = LEVEL
    n_boot: int = N_BOOT
    seed: int = 0
    note: str = ""

    @property
    def left_out(self) -> int:
        return self.fits - self.used

    @property
    def used_share(self) -> float:
        return self.used / self.fits if self.fits else 0.0

    @property
    def counts(self) -> bool:
        """At least ``MIN_CONVERGED_SHARE`` of the fits converged with a usable value."""
        return self.fit is not None and self.used_share >= MIN_CONVERGED_SHARE


@dataclass(frozen=True)
class ContrastResult:
    """Paired slope difference ``slope_a - slope_b`` of one metric on the settings' common design."""

    name: str
    setting_a: str
    setting_b: str
    metric: str
    statement: str
    sizes: tuple[int, ...]
    reps: int
    slope_a: float
    slope_b: float
    difference: float
    ci_low: float
    ci_high: float
    verdict: str
    counts: bool
    log_ratio: tuple[float, ...] = field(default=())
    log_ratio_band: tuple[tuple[float, float], ...] = field(default=())
    note: str = ""

    @property
    def ci(self) -> tuple[float, float]:
        return (self.ci_low, self.ci_high)


# --------------------------------------------------------------------------------------------------
# analyses
# --------------------------------------------------------------------------------------------------
def _bookkeeping(grid: ReplicateGrid) -> dict:
    present = grid.status != ""
    usable = grid.usable
    converged = grid.status == CONVERGED
    fits = int(present.sum())
    left = {}
    for state in sorted({str(s) for s in grid.status[present & ~converged]}):
        left[state] = int((grid.status == state).sum())
    per_n = present.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_by_n = np.where(per_n > 0, converged.sum(0) / np.maximum(per_n, 1), 0.0)
    return {
        "sizes": tuple(int(n) for n in grid.sizes),
        "reps": int(grid.reps.size),
        "fits": fits,
        "used": int(usable.sum()),
        "left_out_by_status": left,
        "invalid": int((converged & ~usable).sum()),
        "converged_share": float(converged.sum() / fits) if fits else 0.0,
        "converged_share_by_n": tuple(float(v) for v in share_by_n),
    }


def decay_test(x: Array, y: Array, boot_y: Array, level: float = LEVEL) -> DecayTest:
    """Power law vs ``(log n)^c`` on ``y = log m`` at ``x = log n`` (see module docstring);
    ``boot_y`` ``(B, S)`` are the bootstrap log mean curves. Needs ``x > 0`` and 4 finite points."""
    keep = np.isfinite(y) & (x > 0)
    if keep.sum() < 4:
        raise ModelError("the decay test needs at least 4 sizes with a usable value and n > 1")
    x, y, boot_y = x[keep], y[keep], boot_y[:, keep]
    z = np.log(x)
    bp, ap, rp = masked_ols(x, y)
    bg, ag, rg = masked_ols(z, y)
    gap = np.abs((ap + bp * x) - (ag + bg * z))
    se = np.nanstd(boot_y, axis=0, ddof=1) if boot_y.shape[0] > 1 else np.zeros_like(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(se > 0, gap / np.where(se > 0, se, 1.0), np.where(gap > 1e-12, np.inf, 0.0))
    max_gap = float(np.max(ratio))
    _, _, boot_rp = masked_ols(x, boot_y)
    _, _, boot_rg = masked_ols(z, boot_y)
    delta = percentile_ci(boot_rg - boot_rp, level)
    if max_gap < SEPARATION_Z:
        preferred = "inseparable"
    elif delta[0] > 0:
        preferred = "power"
    elif delta[1] < 0:
        preferred = "log"
    else:
        preferred = "undecided"
    return DecayTest(preferred, max_gap, float(bp), float(bg), float(rp), float(rg), delta)


def analyse_rate(grid: ReplicateGrid, setting: str = "", metric: str = "", n_boot: int = N_BOOT,
                 level: float = LEVEL, seed: int = 0) -> RateResult:
    """Slope, robust slope, bootstrap CIs, start-of-range sensitivity and decay test of one grid."""
    if not 0 < level < 1 or n_boot < 1:
        raise ModelError(f"need 0 < level < 1 and n_boot >= 1, got level={level}, n_boot={n_boot}")
    book = _bookkeeping(grid)
    ones = np.ones((1, grid.reps.size))
    y = weighted_log_means(grid, ones)[0]
    x = np.log(grid.sizes.astype(float))
    boot_y = weighted_log_means(grid, bootstrap_weights(grid.reps.size, n_boot, seed))
    band = tuple(tuple(np.exp(v) for v in percentile_ci(boot_y[:, s], level)) for s in range(x.size))
    common = {"mean_loss": tuple(float(v) for v in np.exp(y)), "band": band, "level": level, "n_boot": n_boot,
              "seed": seed, **book}
    valid = np.flatnonzero(np.isfinite(y))
    if valid.size < MIN_SIZES:
        return RateResult(setting, metric, fit=None, robust=None, sensitivity=(), decay=None, **common,
                          note=f"{valid.size} sizes with a usable value (need {MIN_SIZES})")
    xv, yv, byv = x[valid], y[valid], boot_y[:, valid]
    slope, intercept, _ = masked_ols(xv, yv)
    fit = LineFit(float(slope), float(intercept), *percentile_ci(masked_ols(xv, byv)[0], level))
    from scipy.stats import theilslopes  # lazy: scipy.stats costs ~0.45 s at import, needed only here

    ts = theilslopes(yv, xv)
    robust = LineFit(float(ts.slope), float(ts.intercept), *percentile_ci(theil_sen_slopes(xv, byv), level))
    sensitivity = []
    boot_full = masked_ols(xv, byv)[0]
    for m in range(valid.size - MIN_SIZES + 1):
        s_m, boot_m = float(masked_ols(xv[m:], yv[m:])[0]), masked_ols(xv[m:], byv[:, m:])[0]
        sensitivity.append(StartSensitivity(int(grid.sizes[valid[m]]), int(valid.size - m), s_m,
                                            *percentile_ci(boot_m, level), shift=s_m - fit.slope,
                                            shift_ci=percentile_ci(boot_m - boot_full, level)))
    try:
        decay = decay_test(xv, yv, byv, level)
    except ModelError:
        decay = None
    return RateResult(setting, metric, fit=fit, robust=robust, sensitivity=tuple(sensitivity), decay=decay,
                      **common)


def paired_contrast(grid_a: ReplicateGrid, grid_b: ReplicateGrid, name: str = "", setting_a: str = "",
                    setting_b: str = "", metric: str = "", statement: str = "", n_boot: int = N_BOOT,
                    level: float = LEVEL, seed: int = 0) -> ContrastResult:
    """Paired bootstrap CI of ``slope_a - slope_b`` on the replicates and sizes both grids hold.

    Hypothesis: replicate ``r`` of both settings uses the same inputs and noise (paired design), so
    one set of resampled replicate indices serves both. Only sizes where both mean curves have a
    usable value enter; ``counts`` requires both settings to count on that common design.
    """
    sizes = np.intersect1d(grid_a.sizes, grid_b.sizes)
    reps = np.intersect1d(grid_a.reps, grid_b.reps)
    head = dict(name=name, setting_a=setting_a, setting_b=setting_b, metric=metric, statement=statement)
    if sizes.size < MIN_SIZES or reps.size < 1:
        return ContrastResult(**head, sizes=tuple(int(n) for n in sizes), reps=int(reps.size), slope_a=np.nan,
                              slope_b=np.nan, difference=np.nan, ci_low=np.nan, ci_high=np.nan,
                              verdict=VERDICTS[2], counts=False,
                              note=f"{sizes.size} common sizes and {reps.size} common replicates")
    a, b = grid_a.restrict(sizes, reps), grid_b.restrict(sizes, reps)
    x = np.log(sizes.astype(float))
    ones = np.ones((1, reps.size))
    weights = bootstrap_weights(reps.size, n_boot, seed)
    ya, yb = weighted_log_means(a, ones)[0], weighted_log_means(b, ones)[0]
    keep = np.isfinite(ya) & np.isfinite(yb)
    counts = all(g.usable.sum() >= MIN_CONVERGED_SHARE * max((g.status != "").sum(), 1) for g in (a, b))
    if keep.sum() < MIN_SIZES:
        return ContrastResult(**head, sizes=tuple(int(n) for n in sizes), reps=int(reps.size), slope_a=np.nan,
                              slope_b=np.nan, difference=np.nan, ci_low=np.nan, ci_high=np.nan,
                              verdict=VERDICTS[2], counts=False,
                              note=f"{int(keep.sum())} sizes with usable values in both settings")
    x, ya, yb = x[keep], ya[keep], yb[keep]
    bya, byb = weighted_log_means(a, weights)[:, keep], weighted_log_means(b, weights)[:, keep]
    sa, sb = float(masked_ols(x, ya)[0]), float(masked_ols(x, yb)[0])
    low, high = percentile_ci(masked_ols(x, bya)[0] - masked_ols(x, byb)[0], level)
    verdict = VERDICTS[0] if high < 0 else VERDICTS[1] if low > 0 else VERDICTS[2]
    ratio_band = tuple(percentile_ci(bya[:, s] - byb[:, s], level) for s in range(x.size))
    return ContrastResult(**head, sizes=tuple(int(n) for n in sizes[keep]), reps=int(reps.size), slope_a=sa,
                          slope_b=sb, difference=sa - sb, ci_low=low, ci_high=high, verdict=verdict,
                          counts=bool(counts), log_ratio=tuple(float(v) for v in ya - yb), log_ratio_band=ratio_band)


def reference_line(sizes: Sequence[float], mean_loss: Sequence[float], slope: float) -> Array:
    """``C n^slope`` through the centroid of the finite points ``(log n, log m)`` (for plots)."""
    x, y = np.log(np.asarray(sizes, dtype=float)), np.log(np.asarray(mean_loss, dtype=float))
    keep = np.isfinite(y)
    return np.exp(y[keep].mean() + slope * (x - x[keep].mean()))
