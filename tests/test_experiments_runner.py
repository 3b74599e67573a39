"""Sweeps: identical numbers serial / process pool / Dask, resume after SIGKILL, failures, errors."""

import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
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
from hmoe_theory.experiments.progress import ProgressLine

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FAKE = f"{MODULE}:power_replicate"
SPEC = SweepSpec(settings=("root-n", "quarter"), sizes="100:10000:3", reps=3, seed=11)


def test_serial_process_pool_and_dask_store_identical_numbers(tmp_path):
    serial = run_sweep(SPEC, tmp_path / "serial", workers=1, replicate=FAKE)
    assert (serial.total, serial.computed, serial.skipped, serial.failed) == (18, 18, 0, 0) and serial.complete
    expected = load_results(tmp_path / "serial")
    assert len(expected) == 18 and len({r.metrics["error"] for r in expected}) == 18

    pool = run_sweep(SPEC, tmp_path / "pool", workers=2, replicate=power_replicate)  # callable form
    assert pool.computed == 18
    pooled = load_results(tmp_path / "pool")
    assert pooled == expected
    assert len({r.worker for r in pooled}) == 2  # really ran in two worker processes

    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, host="127.0.0.1", protocol="tcp",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        on_dask = run_sweep(SPEC, tmp_path / "dask", scheduler=cluster.scheduler_address, replicate=FAKE)
    assert on_dask.computed == 18
    assert load_results(tmp_path / "dask") == expected


def _stored_rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT setting, n, rep, seed, metrics, finished, stored, rowid FROM fits").fetchall()


def _count(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT count(*) FROM fits").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def test_sigkilled_sweep_resumes_without_recomputing_or_losing_fits(tmp_path, monkeypatch):
    spec = SweepSpec(settings=("root-n", "quarter"), sizes="100:1000:4", reps=8, seed=3)  # 64 fits
    out, store = tmp_path / "killed", tmp_path / "killed" / "runs.sqlite"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    env = {**os.environ, "PYTHONPATH": f"{TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "HMOE_FAKE_SLEEP": "0.04", "HMOE_FAKE_LOG": str(first_log)}
    argv = [sys.executable, "-m", "hmoe_theory", "rates", "--replicate", FAKE, "--setting", "default",
            "--n", "100:1000:4", "--reps", "8", "--seed", "3", "--workers", "2", "--out", str(out),
            "--quiet", "--no-report"]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while _count(store) < 10:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "sweep stored nothing within 60 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its pool workers
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    before = _stored_rows(store)
    assert 10 <= len(before) < 64

    monkeypatch.setenv("HMOE_FAKE_LOG", str(second_log))
    report = run_sweep(spec, out, workers=1, replicate=FAKE)
    monkeypatch.delenv("HMOE_FAKE_LOG")
    assert (report.skipped, report.computed, report.failed) == (len(before), 64 - len(before), 0)

    after = _stored_rows(store)
    assert set(before) <= set(after)  # finished fits kept untouched (same rowid, timestamps, numbers)
    recomputed = {tuple(line.split(",")) for line in second_log.read_text().splitlines()}
    already = {(s, str(n), str(seed)) for s, n, _, seed, *_ in before}
    assert len(recomputed) == 64 - len(before) and not recomputed & already

    uninterrupted = run_sweep(spec, tmp_path / "clean", workers=1, replicate=FAKE)
    assert uninterrupted.computed == 64
    assert load_results(out) == load_results(tmp_path / "clean")


def test_failed_fits_are_recorded_and_retried_on_resume(tmp_path):
    spec = SweepSpec(settings=("root-n",), sizes="10,11,12", reps=2)
    report = run_sweep(spec, tmp_path, replicate=f"{MODULE}:odd_size_fails")
    assert (report.computed, report.failed, report.complete) == (4, 2, False)
    with ResultStore(tmp_path) as store:
        failures = store.failures()
    assert [f[:3] for f in failures] == [("root-n", 11, 0), ("root-n", 11, 1)]
    assert failures[0][3].startswith("ValueError: odd n=11 (at test_experiments_fakes.py:")
    again = run_sweep(spec, tmp_path, replicate=f"{MODULE}:odd_size_fails")
    assert (again.skipped, again.computed, again.failed) == (4, 0, 2)


def test_broken_replicate_stops_the_sweep_early(tmp_path):
    spec = SweepSpec(settings=("root-n",), sizes="10:1000:3", reps=10)
    with pytest.raises(SweepError, match="stopped after 3 failed fits; first: .*RuntimeError: broken replicate"):
        run_sweep(spec, tmp_path, replicate=f"{MODULE}:always_fails", max_failures=2)


def test_a_dying_worker_process_is_a_one_line_error_and_the_sweep_resumes(tmp_path):
    spec = SweepSpec(settings=("root-n",), sizes=(10, 20), reps=2)
    with pytest.raises(SweepError, match="a worker process died .* re-run the same command to resume"):
        run_sweep(spec, tmp_path, workers=2, replicate=f"{MODULE}:worker_dies")


def test_non_numeric_metrics_are_failures(tmp_path):
    report = run_sweep(SweepSpec(("root-n",), (10,), 1), tmp_path, replicate=f"{MODULE}:returns_garbage")
    assert report.failed == 1
    with ResultStore(tmp_path) as store:
        assert "metric 'error' is not a number" in store.failures()[0][3]


def test_a_store_refuses_a_different_seed_or_replicate(tmp_path):
    run_sweep(SweepSpec(("root-n",), (10,), 1, seed=0), tmp_path, replicate=FAKE)
    with pytest.raises(SweepError, match="base_seed='0', not '1'"):
        run_sweep(SweepSpec(("root-n",), (10,), 1, seed=1), tmp_path, replicate=FAKE)


@pytest.mark.parametrize(
    "replicate, message",
    [
        (lambda s, n, seed: {}, "module-level function"),
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


def test_unreachable_or_malformed_scheduler_is_a_one_line_error(tmp_path):
    spec = SweepSpec(("root-n",), (10,), 1)
    with pytest.raises(SweepError, match="bad scheduler address 'localhost:1'"):
        run_sweep(spec, tmp_path, scheduler="localhost:1", replicate=FAKE)
    started = time.monotonic()
    with pytest.raises(SweepError, match=r"cannot reach Dask scheduler at tcp://127.0.0.1:9\b") as info:
        run_sweep(spec, tmp_path, scheduler="tcp://127.0.0.1:9", replicate=FAKE, connect_timeout_s=0.5)
    assert "\n" not in str(info.value) and time.monotonic() - started < 10


def test_bad_worker_count_or_timeout(tmp_path):
    with pytest.raises(SweepError, match="--workers must be an integer >= 1"):
        run_sweep(SPEC, tmp_path, workers=0, replicate=FAKE)
    with pytest.raises(SweepError, match="--connect-timeout must be positive"):
        run_sweep(SPEC, tmp_path, connect_timeout_s=0, replicate=FAKE)


def test_progress_line_reports_counts():
    stream = io.StringIO()
    bar = ProgressLine(total=40, skipped=10, stream=stream)
    bar.update(10, 2, final=True)
    line = stream.getvalue()
    assert line.startswith("rates: 20/40 fits [############............]  50%")
    assert "10 resumed" in line and "2 failed" in line and line.endswith("\n")


def test_progress_line_redraws_in_place_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = ProgressLine(total=4, skipped=0, stream=stream)
    bar.update(1, 0)
    bar.update(4, 0, final=True)
    drawn = stream.getvalue()
    assert drawn.startswith("\rrates: 1/4 fits") and "\rrates: 4/4 fits" in drawn and drawn.count("\n") == 1
    assert "eta --" in drawn.rsplit("\r", 1)[1]


def test_sweep_with_progress_writes_to_stderr(tmp_path, capsys):
    run_sweep(SweepSpec(("root-n",), (10, 20), 2), tmp_path, replicate=FAKE, progress=True)
    assert "rates: 4/4 fits" in capsys.readouterr().err
