"""Importable, picklable fake replicate functions for the experiments tests (and checks of the fakes).

Contract of a replicate function: ``f(setting, sizes, rep, seed) -> [{"n", "status", "metrics"}, ...]``,
one row per size in the order of ``sizes``. ``power_replicate`` is nested by construction, like the real
engine: it draws ``max(sizes)`` standard normals once from ``default_rng(seed)`` and size n uses the first
n of them. Its ``error`` metric is ``|mean|^(2e)`` for the setting's exponent e, whose log has mean
``-e log n + const``: the OLS slope of a sweep estimates ``-e``. Replicates ``rep % 3 == 2`` report the
status ``iteration-cap`` (so every backend must carry the status through).

Environment hooks: ``HMOE_FAKE_LOG`` (a file: one line ``setting,n,rep,seed`` appended per fit, one
``write`` per path so concurrent processes do not interleave), ``HMOE_FAKE_SLEEP`` (seconds per path) and
``HMOE_FAKE_GATE`` (a file: paths of replicates >= ``HMOE_FAKE_GATE_FROM_REP``, default 0, wait until it
exists -- so a test decides when a sweep may proceed instead of racing the clock).

Referenced as ``"test_experiments_fakes:power_replicate"``: pytest puts ``tests/`` on ``sys.path``;
subprocesses get it through ``PYTHONPATH``.
"""

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

MODULE = "test_experiments_fakes"


@dataclass(frozen=True)
class FakeSetting:
    name: str
    description: str
    exponent: float


SETTINGS = {
    "root-n": FakeSetting("root-n", "|mean of n normals|: rate n^-1/2", 0.5),
    "quarter": FakeSetting("quarter", "sqrt|mean of n normals|: rate n^-1/4", 0.25),
    "extra": FakeSetting("extra", "not in the default reproduction", 1.0),
}
DEFAULT_SETTINGS = ("root-n", "quarter")


def _log_and_sleep(setting: str, sizes, rep: int, seed: int) -> None:
    gate = os.environ.get("HMOE_FAKE_GATE")
    if gate and rep >= int(os.environ.get("HMOE_FAKE_GATE_FROM_REP", "0")):
        deadline = time.monotonic() + 120
        while not os.path.exists(gate):
            if time.monotonic() > deadline:
                raise TimeoutError(f"gate file {gate} never appeared")
            time.sleep(0.01)
    if log := os.environ.get("HMOE_FAKE_LOG"):
        with open(log, "a") as fh:
            fh.write("".join(f"{setting},{n},{rep},{seed}\n" for n in sizes))
    time.sleep(float(os.environ.get("HMOE_FAKE_SLEEP", "0")))


def power_replicate(setting, sizes, rep: int, seed: int) -> list[dict]:
    """``setting``: a name of ``SETTINGS`` or a user definition ``{"name": ..., "exponent": ...}``."""
    if isinstance(setting, Mapping):
        name, exponent = setting["name"], float(setting["exponent"])
    else:
        name, exponent = setting, SETTINGS[setting].exponent
    _log_and_sleep(name, sizes, rep, seed)
    x = np.random.default_rng(seed).standard_normal(max(sizes))
    return [
        {
            "n": n,
            "status": "iteration-cap" if rep % 3 == 2 else "converged",
            "metrics": {"error": abs(float(x[:n].mean())) ** (2 * exponent), "spread": float(x[:n].std())},
        }
        for n in sizes
    ]


def odd_rep_fails(setting: str, sizes, rep: int, seed: int) -> list[dict]:
    if rep % 2:
        raise ValueError(f"odd rep={rep}")
    return power_replicate(setting, sizes, rep, seed)


def always_fails(setting: str, sizes, rep: int, seed: int) -> list[dict]:
    raise RuntimeError("broken replicate")


def worker_dies(setting: str, sizes, rep: int, seed: int) -> list[dict]:
    """Kills the process running it (only ever run in a pool worker)."""
    os._exit(3)


def returns_garbage(setting: str, sizes, rep: int, seed: int):
    return [{"n": n, "status": "converged", "metrics": {"error": "not a number"}} for n in sizes]


def bad_status(setting: str, sizes, rep: int, seed: int):
    return [{"n": n, "status": "fine", "metrics": {"error": 1.0}} for n in sizes]


def missing_size(setting: str, sizes, rep: int, seed: int):
    return power_replicate(setting, sizes, rep, seed)[:-1]


def test_fake_is_deterministic_nested_and_seed_sensitive():
    rows = power_replicate("root-n", (50, 100), 0, 7)
    assert rows == power_replicate("root-n", (50, 100), 0, 7)
    assert rows != power_replicate("root-n", (50, 100), 0, 8)
    assert power_replicate("root-n", (50,), 0, 7) == rows[:1]  # nested: prefixes of one sample
    assert [r["n"] for r in rows] == [50, 100]
    quarter = power_replicate("quarter", (50, 100), 0, 7)
    assert quarter[1]["metrics"]["error"] == rows[1]["metrics"]["error"] ** 0.5
    assert power_replicate({"name": "mine", "exponent": 0.25}, (50, 100), 0, 7) == quarter


def test_fake_log_has_one_line_per_fit(tmp_path, monkeypatch):
    log = tmp_path / "log"
    monkeypatch.setenv("HMOE_FAKE_LOG", str(log))
    power_replicate("quarter", (10, 20, 30), 2, 99)
    assert log.read_text().splitlines() == ["quarter,10,2,99", "quarter,20,2,99", "quarter,30,2,99"]


def store_records(store, records) -> None:
    """Write FitRecords into a ResultStore as replicate paths (one transaction per (setting, rep))."""
    from hmoe_theory.experiments import Task

    paths: dict[tuple[str, int], list] = {}
    for r in records:
        paths.setdefault((r.setting, r.rep), []).append(r)
    for (setting, rep), rows in paths.items():
        rows.sort(key=lambda r: r.n)
        task = Task(setting, rep, rows[0].seed, tuple(r.n for r in rows))
        store.add_path(task, [{"n": r.n, "status": r.status, "metrics": r.metrics} for r in rows], 0.0, 1.0, 1.0, "h:1")
