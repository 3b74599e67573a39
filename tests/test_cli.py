"""The hmoe command: exit codes, one-line errors, ledger output formats."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hmoe_theory.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run_hmoe(*args):
    return subprocess.run([sys.executable, "-m", "hmoe_theory", *args], capture_output=True, text=True, cwd=ROOT)


def test_unknown_claim_pattern_is_one_line_error():
    out = run_hmoe("check", "--only", "no-such-claim-xyz")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0
    assert out.stderr.startswith("hmoe: error: no claim matches")


def test_check_json_and_markdown(tmp_path, capsys):
    ledger = tmp_path / "CLAIMS.md"
    code = main(["check", "--only", "pde.softmax-linear", "--json", "--markdown", str(ledger), "--jobs", "1"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["failed"] == 0 and payload["passed"] >= 1
    assert all(c["status"] == c["expected"] for c in payload["claims"])
    text = ledger.read_text()
    assert text.startswith("# Claims ledger") and "pde.softmax-linear" in text


def test_readme_quick_start_and_ci_run_the_same_test_command():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert len(commands) == 2
    assert "hmoe check" in commands[0]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("argv", [["check", "--list"]])
def test_list_runs_nothing(argv, capsys):
    assert main(argv) == 0
    assert "pde." in capsys.readouterr().out
