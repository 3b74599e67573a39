"""Sweeps of replicate paths: identical numbers serial / process pool / Dask, resume after SIGKILL, failures,
two concurrent sweeps sharing one store (claims), one-line errors, progress on stderr.

Sweeps that must run in another process (to be SIGKILL-ed, or to own claims under another pid) are forked
from this process: the modules are already imported, so a fork costs milliseconds, not an interpreter start.
"""

import math
import multiprocessing
import os
import re
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
from test_experiments_fakes import MODULE, power_replicate

from hmoe_theory.errors import UnknownNameError
from hmoe_theory.experiments import (
    ResultStore,
    SweepError,
    SweepSpec,
    load_results,
    replicate_reference,
    resolve_settings,
    run_sweep,
)
from hmoe_theory.experiments.store import this_owner

FAKE = f"{MODULE}:power_replicate"
SPEC = SweepSpec(settings=("root-n", "quarter"), sizes="100:10000:3", reps=3, seed=11)
FORK = multiprocessing.get_context("fork")


def _fits_of_log(log: Path) -> Counter:
    return Counter(tuple(line.split(",")) for line in log.read_text().splitlines()) if log.exists() else Counter()


def _stored_rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT setting, n, rep, seed, status, metrics, finished, stored, rowid FROM fits").fetchall()


def _count(path: Path, table: str = "fits") -> int:
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def _sweep_in_child(spec: SweepSpec, out: Path, env: dict, workers: int = 1) -> multiprocessing.Process:
    """Run ``spec`` in a forked child that leads its own process group (so killpg reaches its pool)."""

    def target() -> None:
        os.setsid()
        os.environ.update(env)
        run_sweep(spec, out, workers=workers, replicate=FAKE)

    child = FORK.Process(target=target)
    child.start()
    return child


def _wait_for(predicate, child: multiprocessing.Process, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert child.is_alive() or predicate(), f"the child sweep ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within {limit} s"
        time.sleep(0.01)


def test_serial_and_process_pool_store_identical_numbers(tmp_path):
    serial = run_sweep(SPEC, tmp_path / "serial", workers=1, replicate=FAKE)
    assert (serial.total, serial.computed, serial.skipped, serial.failed, serial.elsewhere) == (6, 6, 0, 0, 0)
    assert serial.complete
    expected = load_results(tmp_path / "serial")
    assert len(expected) == 18 and len({r.metrics["error"] for r in expected}) == 18
    assert Counter(r.status for r in expected) == {"converged": 12, "iteration-cap": 6}  # rep 2 of each setting
    assert {r.worker for r in expected} == {this_owner()}

    pool = run_sweep(SPEC, tmp_path / "pool", workers=2, replicate=power_replicate)  # callable form
    assert pool.computed == 6
    pooled = load_results(tmp_path / "pool")
    assert pooled == expected  # FitRecord equality: coordinates, seed, status and every metric bit for bit
    assert this_owner() not in {r.worker for r in pooled}  # really ran in worker processes


def test_paths_are_paired_and_nested(tmp_path):
    run_sweep(SPEC, tmp_path, replicate=FAKE)
    records = load_results(tmp_path)
    seeds = {(r.setting, r.rep): r.seed for r in records}
    assert all(seeds[("root-n", rep)] == seeds[("quarter", rep)] for rep in range(3))  # same draws per replicate
    assert len(set(seeds.values())) == 3
    by_key = {r.key: r for r in records}
    # both settings see the same sample: quarter's error is the square root of root-n's at every (n, rep)
    for (setting, n, rep), r in by_key.items():
        if setting == "quarter":
            assert r.metrics["error"] == by_key[("root-n", n, rep)].metrics["error"] ** 0.5


def test_sigkilled_sweep_resumes_without_recomputing_or_losing_fits(tmp_path, monkeypatch):
    spec = SweepSpec(settings=("root-n", "quarter"), sizes="100:1000:4", reps=8, seed=3)  # 16 paths, 64 fits
    out, store = tmp_path / "killed", tmp_path / "killed" / "runs.sqlite"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    # replicates 0-2 finish, the workers then wait at replicate 3 for a gate that never opens: killed there
    env = {"HMOE_FAKE_LOG": str(first_log), "HMOE_FAKE_GATE": str(tmp_path / "never"), "HMOE_FAKE_GATE_FROM_REP": "3"}
    child = _sweep_in_child(spec, out, env, workers=2)
    try:
        _wait_for(lambda: _count(store) >= 24, child, "6 stored paths")
        time.sleep(0.2)  # nothing else can be stored: the other paths are all waiting at the gate
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the sweep and its pool workers
        child.join()
    assert child.exitcode == -signal.SIGKILL
    before = _stored_rows(store)
    assert len(before) == 24 and {rep for _, _, rep, *_ in before} == {0, 1, 2}  # whole paths only
    assert _count(store, "claims") > 0  # the dead sweep's claims are left behind...

    monkeypatch.setenv("HMOE_FAKE_LOG", str(second_log))
    report = run_sweep(spec, out, workers=1, replicate=FAKE)
    monkeypatch.delenv("HMOE_FAKE_LOG")
    # ...and taken over: the owner process is gone
    assert (report.skipped, report.computed, report.failed, report.elsewhere) == (
        len(before) // 4, 16 - len(before) // 4, 0, 0)
    assert _count(store, "claims") == 0

    after = _stored_rows(store)
    assert set(before) <= set(after)  # finished fits kept untouched (same rowid, timestamps, numbers)
    recomputed = set(_fits_of_log(second_log))
    already = {(s, str(n), str(rep), str(seed)) for s, n, rep, seed, *_ in before}
    assert len(recomputed) == 64 - len(before) and not recomputed & already

    uninterrupted = run_sweep(spec, tmp_path / "clean", workers=1, replicate=FAKE)
    assert uninterrupted.computed == 16
    assert load_results(out) == load_results(tmp_path / "clean")


def test_two_concurrent_sweeps_share_the_work(tmp_path, monkeypatch):
    """The first sweep claims its 12 paths; a second sweep started meanwhile on a larger grid computes only
    the 8 paths nobody claimed, leaves the first one's to it, and no fit is ever computed twice."""
    out, store, log = tmp_path / "shared", tmp_path / "shared" / "runs.sqlite", tmp_path / "fits.log"
    gate = tmp_path / "gate"
    first_spec = SweepSpec(settings=("root-n", "quarter"), sizes=(50, 100), reps=6, seed=5)
    child = _sweep_in_child(first_spec, out, {"HMOE_FAKE_GATE": str(gate), "HMOE_FAKE_LOG": str(log)})
    try:
        _wait_for(lambda: _count(store, "claims") == 12, child, "claims of the first sweep")
        monkeypatch.setenv("HMOE_FAKE_LOG", str(log))
        second = run_sweep(SweepSpec(("root-n", "quarter"), (50, 100), reps=10, seed=5), out, replicate=FAKE,
                           wait_for_others=False)
        assert child.is_alive()  # still waiting at its gate
    finally:
        gate.touch()  # let the first sweep finish its 12 paths
        child.join(60)
    assert child.exitcode == 0
    assert (second.computed, second.failed, second.skipped, second.elsewhere, second.complete) == (8, 0, 0, 12, False)
    fits = _fits_of_log(log)
    assert max(fits.values()) == 1  # no fit computed twice
    assert {(s, int(n), int(rep)) for s, n, rep, _ in fits} == {
        (s, n, rep) for s in ("root-n", "quarter") for n in (50, 100) for rep in range(10)
    }
    assert {rep for s, n, rep, _ in fits if int(rep) >= 6} == {"6", "7", "8", "9"}
    assert len(load_results(out)) == 40 and _count(store, "claims") == 0
    again = run_sweep(SweepSpec(("root-n", "quarter"), (50, 100), reps=10, seed=5), out, replicate=FAKE)
    assert (again.skipped, again.computed, again.complete) == (20, 0, True)


def test_failed_paths_are_recorded_and_retried_on_resume(tmp_path):
    spec = SweepSpec(settings=("root-n",), sizes="10,11,12", reps=4)
    report = run_sweep(spec, tmp_path, replicate=f"{MODULE}:odd_rep_fails")
    assert (report.computed, report.failed, report.complete) == (2, 2, False)
    assert sorted({(r.rep, r.n) for r in load_results(tmp_path)}) == [(0, 10), (0, 11), (0, 12), (2, 10), (2, 11), (2, 12)]
    with ResultStore(tmp_path) as store:
        failures = store.failures()
    assert [f[:2] for f in failures] == [("root-n", 1), ("root-n", 3)]
    assert failures[0][2].startswith("ValueError: odd rep=1 (at test_experiments_fakes.py:")
    again = run_sweep(spec, tmp_path, replicate=f"{MODULE}:odd_rep_fails")
    assert (again.skipped, again.computed, again.failed) == (2, 0, 2)


def test_broken_replicate_stops_the_sweep_early(tmp_path):
    spec = SweepSpec(settings=("root-n",), sizes="10:1000:3", reps=10)
    with pytest.raises(SweepError, match="stopped after 3 failed replicate paths; first: .*RuntimeError: broken replicate"):
        run_sweep(spec, tmp_path, replicate=f"{MODULE}:always_fails", max_failures=2)
    with ResultStore(tmp_path) as store:
        assert len(store.failures()) == 3 and _count(tmp_path / "runs.sqlite", "claims") == 0


def test_a_dying_worker_process_is_a_one_line_error(tmp_path):
    spec = SweepSpec(settings=("root-n",), sizes=(10, 20), reps=2)
    with pytest.raises(SweepError, match="a worker process died .* re-run the same command to resume") as info:
        run_sweep(spec, tmp_path, workers=2, replicate=f"{MODULE}:worker_dies")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "function, message",
    [
        ("returns_garbage", "TypeError: metric 'error' is not a number"),
        ("bad_status", "TypeError: fit status must be one of converged, iteration-cap, stalled, diverged, failed, got 'fine'"),
        ("missing_size", "TypeError: replicate must return a list of 2 rows (one per size)"),
    ],
)
def test_garbage_rows_are_failures(tmp_path, function, message):
    report = run_sweep(SweepSpec(("root-n",), (10, 20), 1), tmp_path, replicate=f"{MODULE}:{function}")
    assert (report.failed, report.computed) == (1, 0)
    with ResultStore(tmp_path) as store:
        assert store.failures()[0][2].startswith(message)
    assert load_results(tmp_path) == []


def test_a_store_refuses_another_seed_replicate_or_definition(tmp_path):
    run_sweep(SweepSpec(("root-n",), (10,), 1, seed=0), tmp_path, replicate=FAKE)
    with pytest.raises(SweepError, match="base_seed='0', not '1'; use another --out directory"):
        run_sweep(SweepSpec(("root-n",), (10,), 1, seed=1), tmp_path, replicate=FAKE)
    with pytest.raises(SweepError, match=f"replicate='{MODULE}:power_replicate', not '{MODULE}:odd_rep_fails'"):
        run_sweep(SweepSpec(("root-n",), (10,), 1, seed=0), tmp_path, replicate=f"{MODULE}:odd_rep_fails")
    mine = {"name": "mine", "exponent": 0.5}
    spec = SweepSpec(("mine",), (10, 20), 2, seed=0)
    assert run_sweep(spec, tmp_path, workers=2, replicate=FAKE, definitions={"mine": mine}).computed == 2
    # the definition reached the workers: same numbers as the catalogue setting with the same exponent
    stored = {(r.n, r.rep): r.metrics for r in load_results(tmp_path) if r.setting == "mine"}
    assert stored == {(row["n"], rep): row["metrics"]
                      for rep, seed in enumerate(t.seed for t in spec.tasks())
                      for row in power_replicate("root-n", (10, 20), rep, seed)}
    with ResultStore(tmp_path) as store:
        assert store.definitions() == {"mine": mine}
    with pytest.raises(SweepError, match="holds fits with a different definition of 'mine'"):
        run_sweep(spec, tmp_path, replicate=FAKE, definitions={"mine": {**mine, "exponent": 1.0}})


@pytest.mark.parametrize(
    "replicate, message",
    [
        (lambda s, sizes, rep, seed: [], "module-level function"),
        ("no_colon_here", "must look like"),
        ("no_such_module_xyz:f", "cannot import replicate module 'no_such_module_xyz'"),
        (f"{MODULE}:no_such_function", "has no function 'no_such_function'"),
    ],
)
def test_bad_replicate_references(replicate, message):
    with pytest.raises(SweepError, match=message):
        replicate_reference(replicate)


def test_settings_are_checked_against_the_replicate_module():
    assert resolve_settings(["default"], FAKE) == ("root-n", "quarter")
    assert resolve_settings(["extra", "default", "quarter"], FAKE) == ("extra", "root-n", "quarter")
    with pytest.raises(UnknownNameError, match=re.escape("unknown setting 'nope' (known: root-n, quarter, extra)")):
        resolve_settings(["nope"], FAKE)
    # a module without SETTINGS accepts any name but has no default
    assert resolve_settings(["anything"], "math:hypot") == ("anything",)
    with pytest.raises(UnknownNameError, match="no DEFAULT_SETTINGS"):
        resolve_settings(["default"], "math:hypot")


def test_malformed_scheduler_is_a_one_line_error(tmp_path):
    spec = SweepSpec(("root-n",), (10,), 1)
    with pytest.raises(SweepError, match="bad scheduler address 'localhost:1'"):
        run_sweep(spec, tmp_path, scheduler="localhost:1", replicate=FAKE)
    # an unreachable one: tests/test_experiments_cli.py (one line through the CLI)


def test_bad_worker_count_or_timeout(tmp_path):
    with pytest.raises(SweepError, match="--workers must be an integer >= 1"):
        run_sweep(SPEC, tmp_path, workers=0, replicate=FAKE)
    for timeout in (0, -1, math.nan, math.inf, 1e308, "3"):  # non-finite or absurd: refused before connecting
        with pytest.raises(SweepError, match=r"--connect-timeout must be a number of seconds in \(0, 3600\]"):
            run_sweep(SPEC, tmp_path, connect_timeout_s=timeout, replicate=FAKE)


def test_sweep_with_progress_writes_to_stderr(tmp_path, capsys):
    run_sweep(SweepSpec(("root-n",), (10, 20), 3), tmp_path, replicate=FAKE, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert re.search(r"rates: 100%.*\b3/3\b", captured.err.replace("\r", "\n").strip().splitlines()[-1])
    run_sweep(SweepSpec(("root-n",), (10, 20), 4), tmp_path, replicate=FAKE, progress=True)  # resume: 3 skipped
    assert re.search(r"\b4/4\b", capsys.readouterr().err)


def test_dask_local_cluster_stores_the_same_numbers(tmp_path):
    """Last in this file: the in-process cluster leaves threads behind, and the tests above fork."""
    from distributed import LocalCluster

    run_sweep(SPEC, tmp_path / "serial", replicate=FAKE)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, host="127.0.0.1", protocol="tcp",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        on_dask = run_sweep(SPEC, tmp_path / "dask", scheduler=cluster.scheduler_address, replicate=FAKE)
    assert (on_dask.computed, on_dask.failed) == (6, 0)
    assert load_results(tmp_path / "dask") == load_results(tmp_path / "serial")
