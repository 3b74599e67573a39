"""Reports of a sweep computed from its stored fits: ``summary.json`` and ``summary.md``.

For every setting and every rate metric it reports (:func:`rate_metric_names`) the analysis of
:func:`hmoe_theory.estimation.rates.analyse_rate`: the slope ``b`` of ``log(mean loss over converged
replicates) = a + b log n`` (OLS) and its Theil-Sen counterpart, percentile bootstrap CIs over whole
replicates (nested samples: the same resampled replicates at every n), the slope as a function of the
first size kept, the power-law vs ``(log n)^c`` test where the design can separate them, how many fits
were left out (not converged, or no usable value) and whether the result *counts* (>= 95 % of its fits
usable). Contrasts ``(name, setting_a, setting_b, metric, statement)`` are paired slope differences
(:func:`hmoe_theory.estimation.rates.paired_contrast`). The method and its hypotheses:
``docs/rates_method.md``; what changed in rates v3: ``docs/rates_v3.md``.

Honest accounting (rates v3): beside the slope over converged fits, every metric also gets the slope over
ALL fits with a finite positive value whatever their status (``all_fits``), and the converged share per n;
every setting names its convention (model, loss, parametrisation), whether it is a negative control (a
non-identifiable setting, expected not to converge) and its ``predicted_order`` ``{"s", "status"}``: the
order s of the inverse bound ||f_G - f_G*|| >= C D1^s (:mod:`hmoe_theory.rate_orders`), which predicts the
exponent-one loss D1 (metric ``d1``) to decay like n^(-1/(2s)). Computing s takes minutes per over-specified
setting, so it is passed in (``predicted``: setting -> (s, status), e.g. a table precomputed with
:func:`hmoe_theory.rate_orders.rate_order`); a setting without one says "not computed".

Multiplicity (Holm 1979): the contrasts that can test the theory -- one functional on both sides
(:func:`hmoe_theory.estimation.catalogue.same_functional`) and no negative-control side
(:func:`~hmoe_theory.estimation.catalogue.testable`) -- form one family of m hypotheses "slope_a = slope_b".
Holm's step-down at family-wise level alpha = 1 - ``level``: with r hypotheses left, every one whose
bootstrap CI at level 1 - alpha/r excludes 0 is rejected (separated), then r shrinks; when none is, the rest
are not separated (their CI at that level is reported). A percentile CI excludes 0 at level 1 - a exactly
when the bootstrap two-sided p-value is below a, so this is Holm's procedure on those p-values: the chance
that any contrast of the family is declared separated while all slopes are equal is at most alpha
(unadjusted, m = 7 contrasts at 95 % give up to 1 - 0.95^7 = 30 %). :func:`holm_contrasts` runs it on any
family (the ledger runs one family across its data sets).

``summary.json`` is byte-stable: keys sorted, floats rounded to ``SIGNIFICANT`` significant digits,
non-finite numbers written as ``null``, fixed bootstrap seed.
"""

from __future__ import annotations

import importlib
import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..estimation.catalogue import Convention, convention, same_functional, testable
from ..estimation.metrics import CONVERGED, DIAGNOSTIC_METRICS, RATE_METRICS
from ..estimation.rates import (
    LEVEL,
    MIN_CONVERGED_SHARE,
    N_BOOT,
    SEPARATION_Z,
    VERDICTS,
    ContrastResult,
    RateResult,
    ReplicateGrid,
    analyse_rate,
    paired_contrast,
)
from .export import is_wall_clock
from .spec import SweepError
from .store import FitRecord, ResultStore

SUMMARY_MD = "summary.md"
SUMMARY_JSON = "summary.json"
SIGNIFICANT = 6
NOT_COMPUTED = "not computed"
D1_METRIC = "d1"  # the exponent-one Voronoi loss whose rate the rate orders predict (atom-wise)
Predicted = tuple[float | None, str]  # (s, status) of a setting's rate order
Contrast = tuple[str, str, str, str, str]  # (name, setting_a, setting_b, metric, statement)


# --------------------------------------------------------------------------------------------------
# from records to analyses
# --------------------------------------------------------------------------------------------------
def rate_metric_names(records: Iterable[FitRecord], setting: str) -> list[str]:
    """Metrics of ``setting`` whose rate is estimated: the ``RATE_METRICS`` present (in that order),
    then any other metric that is neither a known diagnostic nor a wall-clock value (sorted)."""
    present = {m for r in records if r.setting == setting for m in r.metrics}
    known = [m for m in RATE_METRICS if m in present]
    other = sorted(m for m in present - set(RATE_METRICS) if m not in DIAGNOSTIC_METRICS and not is_wall_clock(m))
    return known + other


def replicate_grid(records: Iterable[FitRecord], setting: str, metric: str) -> ReplicateGrid:
    """The (rep x n) grid of ``metric`` for ``setting`` (NaN where a fit lacks the metric)."""
    cells = [(r.n, r.rep, r.status, r.metrics.get(metric, math.nan)) for r in records if r.setting == setting]
    if not cells:
        raise SweepError(f"no fits stored for setting {setting!r}")
    return ReplicateGrid.from_cells(cells)


def all_fits_grid(grid: ReplicateGrid) -> ReplicateGrid:
    """The same grid with every stored fit counted as usable whatever its status (a finite value > 0 still
    needed): the no-survivorship view of the data."""
    return ReplicateGrid(grid.sizes, grid.reps, grid.values, np.where(grid.status != "", CONVERGED, ""))


@dataclass(frozen=True)
class SettingSummary:
    """One setting: its design, the share of converged fits, a :class:`RateResult` per rate metric on the
    converged fits (``results``) and on all fits (``all_fits``), and its convention (``None``: not recorded)."""

    name: str
    sizes: tuple[int, ...]
    reps: int
    fits: int
    converged_share: float
    converged_share_by_n: tuple[float, ...]
    left_out_by_status: dict[str, int]
    results: tuple[RateResult, ...]
    warm_start: WarmStartCheck | None = None
    all_fits: tuple[RateResult, ...] = ()
    convention: Convention | None = None
    predicted_order: Predicted = (None, NOT_COMPUTED)

    @property
    def negative_control(self) -> bool:
        return bool(self.convention and self.convention.negative_control)


@dataclass(frozen=True)
class WarmStartCheck:
    """Agreement of warm-started fits with fresh near-truth starts on the checked subsample (``cold_*`` metrics).

    gap = (L_warm - L_cold) / L_cold per checked fit; ``same`` counts |gap| <= 1e-6 (the same optimum to the
    solver's precision), ``warm_lower`` / ``cold_lower`` the others by sign.
    """

    checked: int
    same: int
    warm_lower: int
    cold_lower: int
    median_abs_gap: float

    @classmethod
    def of(cls, records: Sequence[FitRecord]) -> WarmStartCheck | None:
        gaps = [r.metrics["cold_loss_gap"] for r in records if math.isfinite(r.metrics.get("cold_loss_gap", math.nan))]
        if not gaps:
            return None
        same = sum(abs(g) <= 1e-6 for g in gaps)
        lower = sum(g < -1e-6 for g in gaps)
        return cls(len(gaps), same, lower, len(gaps) - same - lower, float(statistics.median(abs(g) for g in gaps)))

    def words(self) -> str:
        return (f"warm starts vs fresh near-truth starts on {self.checked} checked fits: {self.same} reach the same "
                f"optimum (|relative loss gap| <= 1e-6), {self.warm_lower} lower with the warm start, "
                f"{self.cold_lower} lower with the fresh start; median |gap| {self.median_abs_gap:.2e}")


@dataclass(frozen=True)
class AdjustedContrast:
    """A contrast with its place in the Holm family (module docstring): ``family`` = m (0 = outside the
    family: not one functional, or a negative-control side), ``holm_ci`` = the CI at the level ``holm_level``
    at which Holm decided it (NaN outside the family), ``holm_verdict`` = Holm's verdict (:data:`VERDICTS`,
    or ``not tested: <why>``)."""

    result: ContrastResult
    same_functional: bool
    testable: bool
    family: int
    holm_level: float
    holm_ci: tuple[float, float]
    holm_verdict: str

    @property
    def name(self) -> str:
        return self.result.name

    @property
    def counts(self) -> bool:
        """Holm-separated or not, the result counts as evidence: in the family and both settings >= 95 % usable."""
        return self.family > 0 and self.result.counts


def _why_untested(same: bool, test: bool) -> str:
    return "not tested: " + ("the two sides measure different losses" if not same
                             else "a side is a negative control (not identifiable)")


def holm_contrasts(pairs: Sequence[tuple[ReplicateGrid, ReplicateGrid, Contrast]], n_boot: int = N_BOOT,
                   level: float = LEVEL, seed: int = 0) -> list[AdjustedContrast]:
    """Holm's step-down over the testable contrasts among ``pairs`` = (grid_a, grid_b, contrast) (module
    docstring), the others reported outside the family; results in the order of ``pairs``."""
    def run(grid_a: ReplicateGrid, grid_b: ReplicateGrid, contrast: Contrast, at: float) -> ContrastResult:
        name, a, b, metric, statement = contrast
        return paired_contrast(grid_a, grid_b, name, a, b, metric, statement, n_boot=n_boot, level=at, seed=seed)

    flags = [(same_functional(c), same_functional(c) and testable(c)) for _, _, c in pairs]
    nominal = [run(ga, gb, c, level) for ga, gb, c in pairs]
    family = [i for i, (_, test) in enumerate(flags) if test]
    decided: dict[int, tuple[float, tuple[float, float], str]] = {}
    remaining, alpha = list(family), 1 - level
    while remaining:
        at = 1 - alpha / len(remaining)
        results = {i: run(*pairs[i], at) for i in remaining}
        separated = [i for i, r in results.items() if r.verdict != VERDICTS[2]]
        for i in (separated or remaining):
            decided[i] = (at, results[i].ci, results[i].verdict)
        remaining = [i for i in remaining if i not in separated] if separated else []
    out = []
    for i, (same, test) in enumerate(flags):
        at, ci, verdict = decided.get(i, (np.nan, (np.nan, np.nan), _why_untested(same, test)))
        out.append(AdjustedContrast(nominal[i], same, test, len(family) if test else 0, at, ci, verdict))
    return out


@dataclass(frozen=True)
class Summary:
    """Everything the reports show; ``skipped`` lists contrasts whose settings are not in the store."""

    settings: tuple[SettingSummary, ...]
    adjusted: tuple[AdjustedContrast, ...]
    skipped: tuple[str, ...]
    n_boot: int
    level: float
    seed: int

    @property
    def contrasts(self) -> tuple[ContrastResult, ...]:
        """The contrasts at the nominal level (unadjusted), in the order given."""
        return tuple(c.result for c in self.adjusted)

    def result(self, setting: str, metric: str) -> RateResult:
        for s in self.settings:
            for r in s.results:
                if (s.name, r.metric) == (setting, metric):
                    return r
        raise KeyError((setting, metric))


def _setting_summary(records: Sequence[FitRecord], setting: str, n_boot: int, level: float,
                     seed: int, predicted: Predicted) -> SettingSummary:
    own = [r for r in records if r.setting == setting]
    sizes = tuple(sorted({r.n for r in own}))
    by_n = tuple(sum(r.status == CONVERGED for r in own if r.n == n) / sum(r.n == n for r in own) for n in sizes)
    left: dict[str, int] = {}
    for r in own:
        if r.status != CONVERGED:
            left[r.status] = left.get(r.status, 0) + 1
    grids = {m: replicate_grid(own, setting, m) for m in rate_metric_names(own, setting)}
    results = tuple(analyse_rate(g, setting, m, n_boot=n_boot, level=level, seed=seed) for m, g in grids.items())
    everything = tuple(analyse_rate(all_fits_grid(g), setting, m, n_boot=n_boot, level=level, seed=seed)
                       for m, g in grids.items())
    return SettingSummary(setting, sizes, len({r.rep for r in own}), len(own),
                          sum(r.status == CONVERGED for r in own) / len(own), by_n, dict(sorted(left.items())), results,
                          WarmStartCheck.of(own), everything, convention(setting), predicted)


def _check_contrast(contrast: object) -> Contrast:
    if (not isinstance(contrast, (tuple, list)) or len(contrast) != 5
            or not all(isinstance(part, str) for part in contrast)):
        raise SweepError(f"a contrast is (name, setting_a, setting_b, metric, statement), got {contrast!r}")
    return tuple(contrast)


def _records(source: str | Path | Iterable[FitRecord]) -> list[FitRecord]:
    if isinstance(source, (str, Path)):
        with ResultStore(source, create=False) as store:
            return list(store.fits())
    return list(source)


def summarise(source: str | Path | Iterable[FitRecord], contrasts: Sequence[Contrast] = (), n_boot: int = N_BOOT,
              level: float = LEVEL, seed: int = 0, predicted: Mapping[str, Predicted] | None = None) -> Summary:
    """Analyse every (setting, rate metric) and every contrast whose two settings are present.

    ``source`` is a store (directory or ``.sqlite`` file) or the fit records themselves; ``predicted`` gives
    settings their rate order (s, status) (module docstring).
    """
    records = sorted(_records(source), key=lambda r: r.key)
    names = sorted({r.setting for r in records})
    predicted = predicted or {}
    settings = tuple(_setting_summary(records, s, n_boot, level, seed, predicted.get(s, (None, NOT_COMPUTED)))
                     for s in names)
    pairs, skipped = [], []
    for contrast in map(_check_contrast, contrasts):
        name, a, b, metric, _ = contrast
        if a not in names or b not in names:
            skipped.append(name)
            continue
        pairs.append((replicate_grid(records, a, metric), replicate_grid(records, b, metric), contrast))
    done = holm_contrasts(pairs, n_boot=n_boot, level=level, seed=seed)
    return Summary(settings, tuple(done), tuple(skipped), n_boot, level, seed)


def rate_rows(records: Iterable[FitRecord], n_boot: int = N_BOOT, seed: int = 0) -> list[RateResult]:
    """A :class:`RateResult` per (setting, rate metric), settings sorted."""
    return [r for s in summarise(records, n_boot=n_boot, seed=seed).settings for r in s.results]


# --------------------------------------------------------------------------------------------------
# summary.json
# --------------------------------------------------------------------------------------------------
def _round(value: object) -> object:
    """JSON-ready copy: floats to ``SIGNIFICANT`` digits (non-finite -> None), tuples to lists."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT}g}") if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _round(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_round(v) for v in value]
    return _round(float(value))  # numpy scalars


def _result_json(r: RateResult) -> dict:
    fit, robust, decay = r.fit, r.robust, r.decay
    return {
        "slope": fit.slope if fit else None,
        "ci": list(fit.ci) if fit else [None, None],
        "intercept": fit.intercept if fit else None,
        "robust_slope": robust.slope if robust else None,
        "robust_ci": list(robust.ci) if robust else [None, None],
        "counts": r.counts,
        "fits": r.fits,
        "used": r.used,
        "used_share": r.used_share,
        "left_out": r.left_out,
        "left_out_by_status": r.left_out_by_status,
        "invalid": r.invalid,
        "mean_loss": list(r.mean_loss),
        "band": [list(b) for b in r.band],
        "first_size_sensitivity": [{"first_n": s.first_n, "sizes": s.sizes, "slope": s.slope,
                                    "ci": [s.ci_low, s.ci_high], "shift": s.shift, "shift_ci": list(s.shift_ci)}
                                   for s in r.sensitivity],
        "decay": None if decay is None else {
            "preferred": decay.preferred, "words": decay.words, "max_gap_se": decay.max_gap_se,
            "power_slope": decay.power_slope, "log_exponent": decay.log_exponent,
            "rss_power": decay.rss_power, "rss_log": decay.rss_log, "rss_log_minus_power_ci": list(decay.delta_ci)},
        "note": r.note,
    }


def _all_fits_json(r: RateResult) -> dict:
    return {"slope": r.fit.slope if r.fit else None, "ci": list(r.fit.ci) if r.fit else [None, None],
            "fits": r.fits, "used": r.used}


def _contrast_json(adjusted: AdjustedContrast) -> dict:
    c = adjusted.result
    return {"name": c.name, "setting_a": c.setting_a, "setting_b": c.setting_b, "metric": c.metric,
            "statement": c.statement, "sizes": list(c.sizes), "reps": c.reps, "slope_a": c.slope_a,
            "slope_b": c.slope_b, "difference": c.difference, "ci": list(c.ci), "verdict": c.verdict,
            "counts": c.counts, "note": c.note, "same_functional": adjusted.same_functional,
            "testable": adjusted.testable, "holm": {"family": adjusted.family, "level": adjusted.holm_level,
                                                    "ci": list(adjusted.holm_ci), "verdict": adjusted.holm_verdict}}


def _convention_json(s: SettingSummary) -> dict:
    c = s.convention
    return {
        "convention": {"model": c.model if c else None, "loss": c.loss if c else None,
                       "parametrisation": c.parametrisation if c else None,
                       **({"metric": c.metric, "converged": c.converged} if c and c.converged else {})},
        "negative_control": s.negative_control,
        "negative_control_reason": c.reason if c and c.negative_control else None,
        "identifiable_twin": c.twin if c and c.twin else None,
        "predicted_order": {"s": s.predicted_order[0], "status": s.predicted_order[1]},
        **({"mle_twin": c.mle_twin} if c and c.mle_twin else {}),
    }


def summary_dict(summary: Summary) -> dict:
    """The ``summary.json`` object (before rounding)."""
    return {
        "settings": {s.name: {
            "sizes": list(s.sizes), "reps": s.reps, "fits": s.fits, "converged_share": s.converged_share,
            "converged_share_by_n": list(s.converged_share_by_n), "left_out_by_status": s.left_out_by_status,
            "metrics": {r.metric: {**_result_json(r), "all_fits": _all_fits_json(a)}
                        for r, a in zip(s.results, s.all_fits)},
            "warm_start_check": asdict(s.warm_start) if s.warm_start else None, **_convention_json(s)}
            for s in summary.settings},
        "contrasts": [_contrast_json(c) for c in summary.adjusted],
        "skipped_contrasts": list(summary.skipped),
        "method": {"estimator": "OLS of log(mean loss over converged replicates) on log n; Theil-Sen",
                   "ci": "percentile bootstrap over replicates (same indices at every n and in both settings "
                         "of a contrast)",
                   "level": summary.level, "n_boot": summary.n_boot, "seed": summary.seed,
                   "min_converged_share": MIN_CONVERGED_SHARE, "separation_z": SEPARATION_Z,
                   "multiplicity": "Holm step-down over the testable contrasts (one functional, no negative-control "
                                   "side) at family-wise level 1 - level"},
    }


def _dump(value: object, depth: int = 0) -> str:
    """JSON with sorted keys, one key per line, and lists of numbers (or of number pairs) on one line."""
    pad = " " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [f"{pad}{json.dumps(k)}: {_dump(value[k], depth + 1)}" for k in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return "[\n" + ",\n".join(pad + _dump(v, depth + 1) for v in value) + "\n" + " " * depth + "]"
    return json.dumps(value, sort_keys=True, allow_nan=False)


def summary_json(summary: Summary) -> str:
    """``summary.json`` text: sorted keys, rounded floats, trailing newline (byte-stable)."""
    return _dump(_round(summary_dict(summary))) + "\n"


# --------------------------------------------------------------------------------------------------
# summary.md
# --------------------------------------------------------------------------------------------------
def _num(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:+.{digits}f}"


def _with_ci(value: float, ci: tuple[float, float]) -> str:
    return f"{_num(value)} [{_num(ci[0])}, {_num(ci[1])}]"


def _pct(share: float) -> str:
    return f"{100 * share:.1f} %"


def _upper_half(r: RateResult):
    """The sensitivity entry that keeps the upper half of the sizes (None without a fit)."""
    return r.sensitivity[(len(r.sensitivity) + 2) // 2 - 1] if r.sensitivity else None


def _row(setting: str, r: RateResult, everything: RateResult) -> str:
    left = f"{r.left_out}" + (" (" + ", ".join(f"{v} {k}" for k, v in r.left_out_by_status.items())
                              + (f", {r.invalid} invalid" if r.invalid else "") + ")" if r.left_out else "")
    all_fits = _with_ci(everything.fit.slope, everything.fit.ci) if everything.fit else "n/a"
    if r.fit is None:
        return (f"| {setting} | {r.metric} | n/a ({r.note}) | {all_fits} | n/a | {_pct(r.used_share)} | {left} | no "
                "| n/a | n/a |")
    half = _upper_half(r)
    decay = r.decay.preferred if r.decay else "n/a"
    return (f"| {setting} | {r.metric} | {_with_ci(r.fit.slope, r.fit.ci)} | {all_fits} "
            f"| {_with_ci(r.robust.slope, r.robust.ci)} | {_pct(r.used_share)} | {left} | {'yes' if r.counts else 'no'} "
            f"| n >= {half.first_n}: {_with_ci(half.slope, (half.ci_low, half.ci_high))} | {decay} |")


def d1_metric_of(s: SettingSummary) -> str:
    """The D1 metric whose slope the setting's rate order predicts (its convention's ``d1_metric``; the atom-wise
    ``d1`` for a setting without a recorded convention)."""
    return s.convention.d1_metric if s.convention is not None else D1_METRIC


def _prediction_words(s: SettingSummary) -> str:
    """The predicted D1 slope -1/(2s) next to the measured one (:func:`d1_metric_of`) when both exist."""
    order, status = s.predicted_order
    if order is None:
        return f"Predicted order s: {status}."
    metric = d1_metric_of(s)
    words = f"Predicted order s = {order:.3g} ({status}): D1 slope -1/(2s) = {-1 / (2 * order):+.3f}"
    measured = next((r for r in s.results if r.metric == metric), None)
    if measured is None or measured.fit is None:
        return words + f"; no `{metric}` slope measured."
    return words + f"; measured `{metric}` slope {_with_ci(measured.fit.slope, measured.fit.ci)}."


def _convention_lines(s: SettingSummary) -> list[str]:
    c = s.convention
    if c is None:
        return [f"Convention: not recorded (a setting outside the catalogue). {_prediction_words(s)}", ""]
    lines = [f"Convention: model {c.model}; loss {c.loss}; parametrisation {c.parametrisation}. "
             f"{_prediction_words(s)}", ""]
    if c.negative_control:
        lines += [f"**Negative control**: {c.reason}. Its slopes are shown, never used as evidence"
                  + (f"; identifiable twin: `{c.twin}`." if c.twin else "; no identifiable twin in this catalogue yet."),
                  ""]
    return lines


def _holm_ci(a: AdjustedContrast) -> str:
    if not a.family:
        return "n/a"
    return f"[{_num(a.holm_ci[0])}, {_num(a.holm_ci[1])}] at {100 * a.holm_level:.2f} %"


def _contrast_words(c: ContrastResult) -> str:
    diff = f"slope difference {_with_ci(c.difference, c.ci)}"
    if c.verdict == "a faster":
        words = f"`{c.setting_a}` decays faster than `{c.setting_b}` ({diff})"
    elif c.verdict == "b faster":
        words = f"`{c.setting_b}` decays faster than `{c.setting_a}` ({diff})"
    else:
        words = f"not separated at this design ({diff} contains 0)" if not c.note else f"not computed: {c.note}"
    flag = "" if c.counts else " Does not count: fewer than 95 % of the fits of a setting are usable."
    return f"- **{c.name}** ({c.metric}): {c.statement or 'no statement'} -> {words}.{flag}"


def _undecided(summary: Summary) -> list[str]:
    lines = []
    inseparable = [f"{s.name}/{r.metric} (gap {r.decay.max_gap_se:.2g} se)" for s in summary.settings
                   for r in s.results if r.decay is not None and not r.decay.separable]
    if inseparable:
        lines.append("- Power law vs 1/log n: this design cannot separate a power law from (log n)^c for "
                     + ", ".join(inseparable) + " (the two best fits differ by less than "
                     f"{SEPARATION_Z:g} bootstrap standard errors at every size).")
    for s in summary.settings:
        for r in s.results:
            if r.fit is not None and not r.counts:
                lines.append(f"- `{s.name}` {r.metric}: only {_pct(r.used_share)} of the fits converged with a "
                             "usable value; its slope is shown but does not count.")
            half = _upper_half(r)
            if half is not None and half.drifts:
                lines.append(f"- `{s.name}` {r.metric}: the slope depends on where the range starts (all sizes "
                             f"{_num(r.fit.slope)}, n >= {half.first_n} {_num(half.slope)}, shift "
                             f"{_with_ci(half.shift, half.shift_ci)}): the smallest sizes are not in the asymptotic "
                             "regime, so the full-range slope is not the rate.")
    lines += [f"- Contrast **{c.name}** ({c.metric}): not separated, CI {_with_ci(c.difference, c.ci)}."
              for c in summary.contrasts if c.verdict == "not separated at this design"]
    lines += [f"- Contrast **{name}**: not computed, a setting is missing from the store." for name in summary.skipped]
    return lines or ["- Nothing flagged: every result counts, every contrast is separated."]


def summary_markdown(summary: Summary, header: Sequence[str] = (), descriptions: dict[str, str] | None = None) -> str:
    """``summary.md``: per-setting tables, contrasts in words and what the design cannot decide."""
    descriptions = descriptions or {}
    lines = ["# Convergence rates", "", *header, (
        f"Slope b of log(mean loss over converged replicates) = a + b log n by OLS, and Theil-Sen (robust); "
        f"{100 * summary.level:g} % percentile bootstrap CIs from {summary.n_boot} resamples of whole replicates "
        f"(seed {summary.seed}; the same replicates at every n because samples are nested, and for both settings "
        "of a contrast because they are paired). Only converged fits with a finite positive value enter; a result "
        f"counts when >= {100 * MIN_CONVERGED_SHARE:g} % of its fits do. 'n >= N' is the slope on the upper half "
        "of the sizes (a shift from the full-range slope whose paired CI excludes 0 is listed below); 'power vs log' is the power law vs (log n)^c test (inseparable = the design cannot "
        "tell them apart). Method: docs/rates_method.md."), ""]
    for s in summary.settings:
        left = ", ".join(f"{v} {k}" for k, v in s.left_out_by_status.items()) or "none"
        lines += [f"## {s.name}", ""]
        if descriptions.get(s.name):
            lines += [descriptions[s.name], ""]
        lines += [
            f"n = {s.sizes[0]}..{s.sizes[-1]} ({len(s.sizes)} sizes), {s.reps} replicates, {s.fits} fits; converged "
            f"{_pct(s.converged_share)} (per n: {_pct(min(s.converged_share_by_n))} to "
            f"{_pct(max(s.converged_share_by_n))}); not converged: {left}.", ""]
        lines += ["Converged share per n: " + ", ".join(f"{n}: {_pct(v)}" for n, v in
                                                      zip(s.sizes, s.converged_share_by_n)) + ".", ""]
        lines += _convention_lines(s)
        if s.warm_start:
            lines += [f"Check: {s.warm_start.words()}.", ""]
        if s.results:
            lines += ["| setting | metric | slope, converged fits [CI] | slope, all fits [CI] | robust slope [CI] "
                      "| usable | left out | counts? | upper-half slope [CI] | power vs log |",
                      "|---|---|---|---|---|---:|---|---|---|---|",
                      *(_row(s.name, r, a) for r, a in zip(s.results, s.all_fits)), ""]
        else:
            lines += ["No rate metric stored.", ""]
    if summary.adjusted:
        family = max(c.family for c in summary.adjusted)
        lines += ["## Contrasts (paired slope differences a - b)", "",
                  f"Holm's step-down over the {family} testable contrasts (one functional on both sides, no "
                  f"negative-control side) at family-wise level {100 * (1 - summary.level):g} %; the Holm CI is the "
                  "CI at the level at which the contrast was decided.", "",
                  "| contrast | metric | a | b | slope a | slope b | a - b [95 % CI] | Holm CI | Holm verdict "
                  "| counts? |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {a.name} | {c.metric} | {c.setting_a} | {c.setting_b} | {_num(c.slope_a)} | {_num(c.slope_b)} "
                  f"| {_with_ci(c.difference, c.ci)} | {_holm_ci(a)} | {a.holm_verdict} "
                  f"| {'yes' if a.counts else 'no'} |" for a in summary.adjusted for c in (a.result,)]
        lines += ["", *(_contrast_words(c) for c in summary.contrasts), ""]
    lines += ["## What this design cannot decide", "", *_undecided(summary)]
    return "\n".join(lines) + "\n"


def _descriptions(replicate: str) -> dict[str, str]:
    """Setting descriptions from the replicate module's ``SETTINGS`` (empty if unavailable)."""
    try:
        settings = getattr(importlib.import_module(replicate.partition(":")[0]), "SETTINGS", {})
        return {name: str(getattr(s, "description", "")) for name, s in dict(settings).items()}
    except Exception:  # the report must not depend on the replicate module being importable
        return {}


def write_summary(store_path: str | Path, out_dir: str | Path, contrasts: Sequence[Contrast] = (),
                  n_boot: int = N_BOOT, seed: int = 0, predicted: Mapping[str, Predicted] | None = None) -> list[Path]:
    """Write ``summary.json`` and ``summary.md`` for the store into ``out_dir``; return both paths."""
    with ResultStore(store_path, readonly=True) as store:
        records, meta, failures = list(store.fits()), store.meta(), store.failures()
    summary = summarise(records, contrasts, n_boot=n_boot, seed=seed, predicted=predicted)
    replicate = meta.get("replicate", "?")
    header = [f"{len(records)} stored fits, {len(summary.settings)} settings, base seed {meta.get('base_seed', '?')}, "
              f"replicate `{replicate}`."
              + (f" {len(failures)} fits raised and are missing (re-run the sweep to retry them)." if failures else ""),
              ""]
    out_dir = Path(out_dir)
    paths = [out_dir / SUMMARY_JSON, out_dir / SUMMARY_MD]
    texts = [summary_json(summary), summary_markdown(summary, header, _descriptions(replicate))]
    for path, text in zip(paths, texts):
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise SweepError(f"cannot write {path}: {exc.strerror or exc}") from None
    return paths
