"""Predicted rate orders of rate-study settings, computed once by the rate-order engine and stored as a table.

For a setting fitted with k atoms, :func:`hmoe_theory.rate_orders.rate_order` gives the order s of the inverse
bound ||f_G - f_G*|| >= C D1^s near the truth, so an n^-1/2 estimate of f predicts the D1 rate n^-1/(2s)
(``docs/rate_orders.md``). The model is the setting's: least squares -> ``regression``, EM -> ``density``
(:func:`hmoe_theory.rate_orders.from_setting`), in the identified parametrisation (:func:`identified`: A = A^T for
quadratic gates, as the replicate's losses). The loss convention matches the metric the replicate stores
(:func:`hmoe_theory.estimation.replicate.losses`): ``d1`` is the atom-wise D1, ``d1_merged`` the merged D1
(experts linear in their parameters enter through the cell aggregate).

Computing s takes from seconds (exact fits, exact merges) to minutes (over-specified fits searched numerically),
so it is not a report-time call: :func:`compute` runs each setting in a child process under a hard time limit
(:func:`hmoe_theory.timelimit.run_with_deadline`) and records "not computed: time limit" honestly when it runs
out; :func:`write_table` / :func:`read_table` store the rows as CSV with the engine version (a digest of the
``rate_orders`` sources) and the wall seconds, and :func:`predicted_for` turns a table into the
``predicted`` mapping of :func:`hmoe_theory.experiments.summary.summarise`.

Run: ``python -m hmoe_theory.experiments.predicted OUT.csv [--time-limit S] [SETTING ...]``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from ..errors import HmoeError, TimeLimitExceeded
from ..estimation.catalogue import (DEFAULT_SETTINGS, QUADRATIC_GATES, convention, identified_mapping,
                                    regression_mapping)
from ..estimation.replicate import get_setting, loss_spec
from ..estimation.setting import Setting, setting_from_mapping
from ..timelimit import run_with_deadline

METRIC_LOSS = {"d1": "atomwise", "d1_merged": "merged"}  # stored metric -> D1 convention of the rate order
TIME_LIMIT_S = 300.0
COLUMNS = ("setting", "metric", "loss", "model", "k", "s", "status", "verdict", "engine", "wall_s")


@dataclass(frozen=True)
class PredictedOrder:
    """One stored rate order: ``s`` (None: no rate, or not computed) and its ``status`` in words."""

    setting: str
    metric: str
    loss: str
    model: str
    k: int
    s: float | None
    status: str
    verdict: str
    engine: str
    wall_s: float


def engine_version() -> str:
    """sha256 (12 hex digits) of the ``hmoe_theory.rate_orders`` sources, in file-name order."""
    digest = hashlib.sha256()
    for path in sorted(files("hmoe_theory").joinpath("rate_orders").iterdir(), key=lambda p: p.name):
        if path.name.endswith(".py"):
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def metrics_of(setting: str) -> tuple[str, ...]:
    """The D1 metrics whose orders are computed for ``setting``: ``d1``, and ``d1_merged`` when experts enter
    linearly; a merged-loss twin (``d1_convention = "merged"``) only ``d1_merged``, its headline."""
    if d1_metric(setting) == "d1_merged":
        return ("d1_merged",)
    return ("d1", "d1_merged") if loss_spec(get_setting(setting)).merged else ("d1",)


def d1_metric(setting: str) -> str:
    """The stored D1 metric whose slope the rate order of ``setting`` predicts (:attr:`Convention.d1_metric
    <hmoe_theory.estimation.catalogue.Convention.d1_metric>`; ``d1`` for a setting no catalogue knows)."""
    known = convention(setting)
    return known.d1_metric if known is not None else "d1"


def identified(setting: Setting) -> Setting:
    """The setting in its identified parametrisation: a quadratic gate x^T A x + b^T x sees only sym(A), and the
    replicate measures its losses on sym(A), so the rate order is taken with A = A^T (the ``-symmetric``
    family, truth entries u <= v); any other setting is returned as it is."""
    family = setting.gate.name
    if family not in QUADRATIC_GATES or setting.estimator == "em":
        return setting
    return setting_from_mapping(identified_mapping(regression_mapping(family, setting.expert.name,
                                                                      setting.over_specified)))


def _order(setting: str, loss: str) -> tuple[float | None, str, str, str, int]:
    from ..rate_orders import from_setting, rate_order

    chosen = identified(get_setting(setting))
    model = "density" if chosen.estimator == "em" else "regression"
    result = rate_order(from_setting(chosen, model), chosen.k, loss, name=setting)
    status = result.status if result.identifiable else f"{result.status}: not identifiable (phi = 0, no rate)"
    return result.exponent, status, result.verdict, model, chosen.k


def compute(settings: Iterable[str] = DEFAULT_SETTINGS, time_limit: float = TIME_LIMIT_S,
            metrics: Sequence[str] = tuple(METRIC_LOSS)) -> list[PredictedOrder]:
    """The rate order of every (setting, D1 metric among ``metrics``), each in a child process stopped after
    ``time_limit`` wall seconds."""
    version, rows = engine_version(), []
    for setting in settings:
        chosen = get_setting(setting)
        model = "density" if chosen.estimator == "em" else "regression"
        for metric in (m for m in metrics_of(setting) if m in metrics):
            loss = METRIC_LOSS[metric]
            start = time.monotonic()
            try:
                s, status, verdict, model, k = run_with_deadline(_order, setting, loss, seconds=time_limit,
                                                                 what=f"rate order of {setting}")
            except TimeLimitExceeded:
                s, status, verdict, k = None, f"not computed: time limit {time_limit:g} s", "", chosen.k
            except HmoeError as exc:
                s, status, verdict, k = None, f"not computed: {exc}", "", chosen.k
            rows.append(PredictedOrder(setting, metric, loss, model, k, s, status, verdict, version,
                                       round(time.monotonic() - start, 1)))  # wall s of the child
            print(f"{setting} {metric}: s = {s} ({status}) {rows[-1].wall_s} s wall", flush=True)
    return rows


def write_table(rows: Sequence[PredictedOrder], path: str | Path) -> Path:
    """The rows as CSV (columns :data:`COLUMNS`; ``s`` empty when None)."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([r.setting, r.metric, r.loss, r.model, r.k, "" if r.s is None else repr(r.s), r.status,
                             r.verdict, r.engine, r.wall_s])
    return path


def read_table(path: str | Path) -> list[PredictedOrder]:
    """Rows written by :func:`write_table`."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return [PredictedOrder(r["setting"], r["metric"], r["loss"], r["model"], int(r["k"]),
                               float(r["s"]) if r["s"] else None, r["status"], r["verdict"], r["engine"],
                               float(r["wall_s"])) for r in csv.DictReader(handle)]


def predicted_for(rows: Iterable[PredictedOrder]) -> dict[str, tuple[float | None, str]]:
    """setting -> (s, status) of the setting's own D1 metric (:func:`d1_metric`; the ``predicted`` argument of the
    summary); the status names the loss convention and the engine version."""
    return {r.setting: (r.s if r.s is None or math.isfinite(r.s) else None,
                        f"{r.status}; D1 {r.loss}, {r.model} model, engine {r.engine}")
            for r in rows if r.metric == d1_metric(r.setting)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("settings", nargs="*", default=list(DEFAULT_SETTINGS))
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT_S)
    parser.add_argument("--metrics", default=",".join(METRIC_LOSS))
    args = parser.parse_intermixed_args(argv)
    print(write_table(compute(args.settings, args.time_limit, args.metrics.split(",")), args.out))


if __name__ == "__main__":
    main()
