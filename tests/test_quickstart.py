"""A newcomer's first steps stay true: CI runs the README's quick-start commands exactly as written (each in a
fresh venv), and docs/expressions.md lists exactly the parser's whitelist and its size bounds."""

import re
from pathlib import Path

from hmoe_theory.bounds import BOUNDS
from hmoe_theory.expr import CONSTANTS, FUNCTIONS

ROOT = Path(__file__).resolve().parents[1]


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start\s+```bash\n(.*?)```", readme, re.S)
    assert block, "README has no Quick start bash block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_ci_runs_both_readme_commands_verbatim_each_in_a_fresh_venv():
    commands = quick_start_commands()
    assert len(commands) == 2 and all(c.startswith("python3 -m venv .venv && ") for c in commands)
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    ci = [line.split("  #")[0].strip() for line in lines]  # without trailing comments
    positions = [ci.index(c) for c in commands]  # each README command is one line of the CI script, verbatim
    assert positions == sorted(positions)
    for k, position in enumerate(positions):  # a fresh .venv before each: no earlier install is visible
        before = ci[positions[k - 1] + 1 if k else 0 : position]
        assert any(line.startswith("rm -rf .venv") for line in before), f"no fresh venv before command {k + 1}"
    assert ci.index("bash .ci/install-browser.sh") < positions[1]  # the browser tests have their browser


def test_expression_doc_lists_the_whitelist_and_bounds():
    text = (ROOT / "docs" / "expressions.md").read_text(encoding="utf-8")
    row = re.search(r"\| functions \| `([^`]*)`", text)
    assert row and sorted(row.group(1).split()) == sorted(FUNCTIONS)
    assert re.search(r"\| constants \| `pi`, `E` \|", text) and sorted(CONSTANTS) == ["E", "pi"]
    for name in ("length", "depth", "calls", "exponent", "number_digits", "degree"):
        bound = BOUNDS[name]
        assert f"| {name} | {bound.limit:,} | `{bound.variable}` |".replace(",", " ") in text, name
