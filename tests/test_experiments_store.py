"""The SQLite result store: WAL mode, exact float round-trip, binding, failures, read errors."""

import math
import sqlite3

import pytest

from hmoe_theory.experiments import ResultStore, SweepError, Task, load_results, metric_values
from hmoe_theory.experiments.store import FitRecord


def _task(n=10, rep=0, setting="s"):
    return Task(setting, n, rep, seed=1000 + n + rep)


def test_store_is_wal_and_round_trips_floats_exactly(tmp_path):
    values = {"a": 0.1 + 0.2, "b": 1e-300, "c": -123456.789e10, "d": math.pi}
    with ResultStore(tmp_path) as store:
        store.bind("m:f", 0)
        store.add_fit(_task(), values, started=1.0, finished=2.0, seconds=1.0, worker="h:1")
    assert (tmp_path / "runs.sqlite").is_file()
    mode = sqlite3.connect(tmp_path / "runs.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    [record] = load_results(tmp_path)
    assert record.metrics == values  # bit-exact
    assert (record.setting, record.n, record.rep, record.seed, record.worker) == ("s", 10, 0, 1010, "h:1")


def test_completed_keys_and_failures_are_cleared_by_a_later_success(tmp_path):
    with ResultStore(tmp_path / "x.sqlite") as store:
        store.add_failure(_task(n=20), "ValueError: boom")
        assert store.failures() == [("s", 20, 0, "ValueError: boom")]
        assert store.completed() == set()
        store.add_fit(_task(n=20), {"e": 1.0}, 0, 0, 0, "w")
        store.add_fit(_task(n=20), {"e": 2.0}, 0, 0, 0, "w")  # duplicate: first row kept
        assert store.failures() == []
        assert store.completed() == {("s", 20, 0)}
    assert [r.metrics for r in load_results(tmp_path / "x.sqlite")] == [{"e": 1.0}]


def test_binding_refuses_another_replicate_or_seed(tmp_path):
    with ResultStore(tmp_path) as store:
        store.bind("m:f", 0)
        store.bind("m:f", 0)  # same binding is fine (resume)
        with pytest.raises(SweepError, match="replicate='m:f', not 'm:g'"):
            store.bind("m:g", 0)
        with pytest.raises(SweepError, match="base_seed='0', not '1'"):
            store.bind("m:f", 1)


@pytest.mark.parametrize("metrics", [{}, {"e": "x"}, {1: 2.0}, [("e", 1.0)]])
def test_bad_metrics_are_rejected(tmp_path, metrics):
    with ResultStore(tmp_path) as store, pytest.raises(TypeError):
        store.add_fit(_task(), metrics, 0, 0, 0, "w")


def test_missing_store_is_a_one_line_error(tmp_path):
    with pytest.raises(SweepError, match="no result store at"):
        load_results(tmp_path / "nothing-here")


def test_metric_values_groups_reps_by_size_in_order():
    records = [FitRecord("s", n, r, 0, {"e": n + r / 10}) for n in (20, 10) for r in (1, 0)]
    records.append(FitRecord("t", 10, 0, 0, {"e": 99.0}))
    records.append(FitRecord("s", 30, 0, 0, {"other": 1.0}))
    by_size = metric_values(records, "s", "e")
    assert list(by_size) == [10, 20, 30]
    assert by_size[10] == [10.0, 10.1] and by_size[20] == [20.0, 20.1] and math.isnan(by_size[30][0])
