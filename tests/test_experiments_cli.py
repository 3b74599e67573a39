"""``hmoe rates``: a sweep with report, resume, --report only, --list, and one-line errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_experiments_fakes import MODULE

from hmoe_theory.cli import main

TESTS = Path(__file__).resolve().parent
FAKE = ["--replicate", f"{MODULE}:power_replicate"]


def test_sweep_resume_and_report(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    argv = ["rates", *FAKE, "--n", "100:10000:3", "--reps", "4", "--workers", "2", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "24/24 fits" in captured.err and "(0 resumed, 24 new, 0 failed)" in captured.err
    written = sorted(Path(p).name for p in captured.out.split())
    assert written == ["rates-quarter.png", "rates-quarter.svg", "rates-root-n.png", "rates-root-n.svg",
                       "summary.md"]
    summary = (out / "summary.md").read_text()
    assert "| root-n | error |" in summary and "| quarter | spread |" in summary

    calls = tmp_path / "calls.log"
    monkeypatch.setenv("HMOE_FAKE_LOG", str(calls))
    assert main(argv + ["--setting", "default", "--setting", "extra", "--no-report"]) == 0
    assert "(24 resumed, 12 new, 0 failed)" in capsys.readouterr().err
    assert {line.split(",")[0] for line in calls.read_text().splitlines()} == {"extra"}

    (out / "summary.md").unlink()
    assert main(["rates", "--out", str(out), "--report", "--formats", "svg"]) == 0
    assert "| extra | error |" in (out / "summary.md").read_text()
    assert len(calls.read_text().splitlines()) == 12  # --report fitted nothing


def test_list_marks_default_settings(capsys):
    assert main(["rates", *FAKE, "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [["*", "root-n"], ["*", "quarter"], ["extra", "not"]]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--n", "1e5:1e3:8"], "bad --n spec '1e5:1e3:8': STOP must be >= START"),
        (["--setting", "nope"], "unknown setting 'nope' (known: root-n, quarter, extra)"),
        (["--formats", "png,jpg"], "plot formats must be among png, svg"),
        (["--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "0.3"],
         "cannot reach Dask scheduler at tcp://127.0.0.1:9"),
        (["--report"], "no result store at"),
    ],
)
def test_bad_input_is_one_line_error(tmp_path, capsys, extra, message):
    assert main(["rates", *FAKE, "--out", str(tmp_path / "o"), "--quiet", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hmoe: error: {message}") and err.count("\n") == 1


def test_unwritable_out_and_missing_out(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["rates", *FAKE, "--out", str(blocker / "sub")]) == 2
    assert capsys.readouterr().err.startswith(f"hmoe: error: --out {blocker / 'sub'} is not a writable directory")
    assert main(["rates", *FAKE]) == 2
    assert "--out DIR is required" in capsys.readouterr().err


def test_missing_estimation_module_or_bad_replicate_is_one_line_in_a_real_process(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    argv = [sys.executable, "-m", "hmoe_theory", "rates", "--replicate", "no_such_mod_q:f", "--out", str(tmp_path)]
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 2
    assert out.stderr == (
        "hmoe: error: cannot import replicate module 'no_such_mod_q': No module named 'no_such_mod_q'\n"
    )
