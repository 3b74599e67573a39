"""The documented CI recipe works: the GitHub Actions workflow's and the pre-commit hook's ``hmoe``
commands pass on the ``hmoe init-claims`` template and fail on a wrong claim; docs show the same files."""

import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml  # PyYAML: installed with the test extra (required by dask)

from hmoe_theory.cli import main
from proofs_check.registry import isolated

DOCS = Path(__file__).resolve().parents[1] / "docs"
WORKFLOW = DOCS / "ci" / "github-workflow-claims.yml"
PRE_COMMIT = DOCS / "ci" / "pre-commit-config.yaml"


@pytest.fixture(autouse=True)
def _forget_user_claims():
    with isolated():
        yield


def workflow_command() -> list[str]:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["claims"]["steps"]
    runs = [s["run"] for s in steps if "run" in s and s["run"].startswith("hmoe ")]
    assert len(runs) == 1
    return shlex.split(runs[0])


def hook_command() -> list[str]:
    (hook,) = yaml.safe_load(PRE_COMMIT.read_text())["repos"][0]["hooks"]
    assert hook["language"] == "system" and hook["pass_filenames"] is False
    return shlex.split(hook["entry"])


@pytest.mark.parametrize("command", [workflow_command, hook_command], ids=["workflow", "pre-commit"])
def test_ci_commands_pass_on_the_template_and_fail_on_a_wrong_claim(command, tmp_path, monkeypatch, capsys):
    argv = command()
    assert argv[:2] == ["hmoe", "check"]
    monkeypatch.chdir(tmp_path)
    assert main(["init-claims", "claims"]) == 0
    assert main(argv[1:]) == 0
    assert capsys.readouterr().out.strip().endswith("2 passed, 0 failed")
    if "--junit" in argv:
        suite = ET.parse(tmp_path / argv[argv.index("--junit") + 1]).getroot().find("testsuite")
        assert (suite.get("tests"), suite.get("failures")) == ("2", "0")
        assert (tmp_path / argv[argv.index("--html") + 1] / "index.html").is_file()

    text = (tmp_path / "claims" / "my_claims.py").read_text()
    (tmp_path / "claims" / "my_claims.py").write_text(text.replace("expected=Status.REFUTED", "expected=Status.PROVED"))
    assert main(argv[1:]) == 1


def test_docs_show_the_tested_files():
    doc = (DOCS / "claims.md").read_text()
    blocks = [yaml.safe_load(part.split("```", 1)[0]) for part in doc.split("```yaml")[1:]]
    assert yaml.safe_load(WORKFLOW.read_text()) in blocks
    assert yaml.safe_load(PRE_COMMIT.read_text()) in blocks
