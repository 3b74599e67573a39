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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["interactions", "--gate", "softmax-linear", "--expert", "linear", "--order", "x"], "invalid int value"),
        (["identifiability", "--k", "1.5"], "invalid int value"),
        (["no-such-command"], "invalid choice"),
        (["interactions", "--time-limit", "nan"], "--time-limit must be a finite positive number"),
        (["curvature", "--time-limit", "0", "--map", "[u]", "--coords", "u", "--at", "u=0"], "finite positive"),
    ],
)
def test_argument_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hmoe: error: ") and message in err and "--help" in err


def test_help_and_version_return_zero(capsys):
    assert main(["--version"]) == 0
    assert main(["interactions", "--help"]) == 0
    assert "--time-limit SECONDS" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "variable"),
    [
        (["identifiability", "--gate", "softmax-linear", "--expert", "linear", "--k", "13"], "HMOE_MAX_K"),
        (["interactions", "--gate", "softmax-linear", "--expert", "linear", "--d", "7"], "HMOE_MAX_D"),
        (["interactions", "--gate", "softmax-linear", "--expert", "linear", "--digits", "2001"], "HMOE_MAX_DIGITS"),
        (["check", "--jobs", "65", "--list"], "HMOE_MAX_JOBS"),
    ],
)
def test_size_flags_are_bounded_before_the_command_runs(argv, variable, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert variable in err and err.count("\n") == 1


def test_time_limited_command_stops_with_one_line(capsys):
    argv = ["interactions", "--function", "exp(exp(exp(exp(a*x+b))))*exp(exp(exp(b*x)))", "--inputs", "x",
            "--params", "a,b", "--order", "4", "--time-limit", "0.5"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == "hmoe: error: hmoe interactions exceeded its time limit of 0.5 s; raise it with --time-limit SECONDS\n"


def test_time_limited_command_output_reaches_stdout(capsys):
    argv = ["interactions", "--function", "a*x+b", "--inputs", "x", "--params", "a,b", "--at", "a=1,b=2",
            "--order", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "F + dF/da" not in out and "relation" in out and "a=1,b=2" in out


def test_identifiability_at_without_fisher_is_refused(capsys):
    assert main(["identifiability", "--gate", "softmax-linear", "--expert", "linear", "--at", "a_1=1"]) == 2
    assert "--at sets the mixture point of --fisher" in capsys.readouterr().err
