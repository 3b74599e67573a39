"""Fuzz suite for ``hmoe rates --scheduler`` / ``--connect-timeout`` and the rates CLI on an existing store.

Malformed addresses, unknown schemes, ports out of range, non-finite or absurd timeouts: one line, exit 2,
no Dask teardown traceback (checked in real subprocesses, where the teardown would print at exit). A server
that accepts the connection and never answers the Dask handshake is given up at ``--connect-timeout``.
``hmoe rates --out DIR`` on an existing store starts nothing: ``--export`` writes the CSV, alone it prints
the slope table.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_experiments_fakes import MODULE

from hmoe_theory.cli import main
from hmoe_theory.experiments import SweepError, SweepSpec, load_results, read_csv, run_sweep

FAKE = f"{MODULE}:power_replicate"
TESTS = Path(__file__).resolve().parent
STORE_FILES = {"runs.sqlite", "runs.sqlite-wal", "runs.sqlite-shm"}  # a read-only reader may leave the journal


def _rates(out: Path, *extra: str) -> list[str]:
    return ["rates", "--replicate", FAKE, "--setting", "root-n", "--n", "10,20", "--reps", "1", "--out", str(out),
            "--quiet", "--no-report", *extra]


ADDRESSES = ["tcp://", "tcp://:", "foo://x", "tcp://[::1", "inproc://x", "ucx://127.0.0.1:1", "tcp://a b:1",
             "tcp://127.0.0.1:99999", "tcp://127.0.0.1:0", "127.0.0.1:8786", "tcp://127.0.0.1:8786/path",
             "tcp://127.0.0.1:8786\nx", "tls://127.0.0.1:1", " tcp://127.0.0.1:1", "tcp://%00:1", ""]
TIMEOUTS = ["inf", "-inf", "nan", "1e308", "0", "-1", "3601", "1e-400"]


def _one_line(code: int, err: str) -> None:
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("hmoe: error: "), err
    assert "Traceback" not in err


@pytest.mark.parametrize("address", ADDRESSES)
def test_malformed_scheduler_addresses_are_one_line(address, tmp_path, capsys):
    code = main(_rates(tmp_path, "--scheduler", address, "--connect-timeout", "1"))
    _one_line(code, capsys.readouterr().err)


@pytest.mark.parametrize("timeout", TIMEOUTS)
def test_bad_connect_timeouts_are_refused_before_connecting(timeout, tmp_path, capsys):
    code = main(_rates(tmp_path, "--scheduler", "tcp://127.0.0.1:1", f"--connect-timeout={timeout}"))
    err = capsys.readouterr().err
    _one_line(code, err)
    assert "--connect-timeout must be a number of seconds in (0, 3600]" in err


@pytest.mark.parametrize("address", ["tls://127.0.0.1:1", "tcp://127.0.0.1:99999"])
def test_no_teardown_traceback_after_the_error_line(address, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "hmoe_theory", *_rates(tmp_path / "o", "--scheduler", address, "--connect-timeout", "1")],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(TESTS)},
    )
    _one_line(done.returncode, done.stderr)
    assert done.stdout == ""


def test_a_server_that_never_answers_the_handshake_is_given_up(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])  # accept, then say nothing
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    result: list[BaseException] = []

    def sweep() -> None:
        try:
            run_sweep(SweepSpec(("root-n",), (10,), 1), tmp_path, scheduler=f"tcp://127.0.0.1:{server.getsockname()[1]}",
                      replicate=FAKE, connect_timeout_s=1)
        except BaseException as exc:  # noqa: BLE001 - inspected below
            result.append(exc)

    worker = threading.Thread(target=sweep, daemon=True)
    worker.start()
    worker.join(120)  # a hang guard, not a speed assertion: before the fix it waited forever
    stop.set()
    server.close()
    assert not worker.is_alive(), "the sweep still waits on a server that never answers"
    assert accepted, "the sweep never connected"
    assert len(result) == 1 and isinstance(result[0], SweepError)
    assert "no handshake within --connect-timeout 1 s" in str(result[0])


# -- hmoe rates --out DIR on an existing store ------------------------------------------------------------
@pytest.fixture
def store(tmp_path) -> Path:
    out = tmp_path / "out"
    assert main(["rates", "--replicate", FAKE, "--setting", "root-n", "--setting", "quarter", "--n", "100:10000:4",
                 "--reps", "4", "--out", str(out), "--quiet", "--no-report"]) == 0
    return out


def test_export_on_an_existing_store_starts_no_sweep(store, tmp_path, capsys, monkeypatch):
    log = tmp_path / "fits.log"
    monkeypatch.setenv("HMOE_FAKE_LOG", str(log))  # any fit computed would be logged here
    capsys.readouterr()
    assert main(["rates", "--replicate", FAKE, "--out", str(store), "--export", str(tmp_path / "f.csv")]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(tmp_path / "f.csv") and captured.err == ""
    assert not log.exists()
    assert read_csv(tmp_path / "f.csv") == [
        type(r)(r.setting, r.n, r.rep, r.seed, {k: v for k, v in r.metrics.items()}, r.status)
        for r in load_results(store)
    ]
    assert {p.name for p in store.iterdir()} <= STORE_FILES  # no figures, no summary written


def test_out_alone_on_an_existing_store_prints_the_slope_table(store, tmp_path, capsys, monkeypatch):
    log = tmp_path / "fits.log"
    monkeypatch.setenv("HMOE_FAKE_LOG", str(log))
    capsys.readouterr()
    assert main(["rates", "--replicate", FAKE, "--out", str(store)]) == 0
    out = capsys.readouterr().out
    assert not log.exists()
    assert out.startswith("# Convergence rates") and "root-n" in out and "quarter" in out
    assert {p.name for p in store.iterdir()} <= STORE_FILES


def test_out_alone_without_a_store_still_needs_a_sweep_flag_or_runs_the_default(tmp_path, capsys):
    code = main(["rates", "--replicate", FAKE, "--out", str(tmp_path / "new"), "--n", "10", "--reps", "1",
                 "--quiet", "--no-report"])
    assert code == 0 and len(load_results(tmp_path / "new")) == 2  # DEFAULT_SETTINGS of the fake: 2 settings


def test_an_unimportable_replicate_is_one_line(tmp_path, capsys):
    code = main(["rates", "--replicate", "no_such_module_xyz:f", "--out", str(tmp_path)])
    _one_line(code, capsys.readouterr().err)
