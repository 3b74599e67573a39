"""The verification notebooks are stored clean (no outputs) and check their results in cells.

nbmake executes them (``testpaths`` includes ``notebooks``); these tests keep the stored files
reviewable: no outputs or execution counts, a python3 kernel, a fast mode, and assertions.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = (
    "01_attention_as_moe",
    "02_parameter_interactions",
    "03_fisher_rao_curvature",
    "04_convergence_rates",
    "05_counterexamples",
    "06_gated_attention_sample_efficiency",
    "07_rate_orders",
    "08_active_attention",
)
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def _code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_every_notebook_is_present_and_none_is_paired_with_a_script():
    assert sorted(p.stem for p in PATHS) == sorted(EXPECTED)
    assert not [p.name for p in NOTEBOOKS.iterdir() if p.suffix in (".py", ".md")], "commit only the .ipynb files"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_has_no_outputs_and_a_python3_kernel(path):
    notebook = json.loads(path.read_text())
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    for cell in _code_cells(path):
        assert cell["outputs"] == [], f"{path.name}: a code cell has stored outputs"
        assert cell["execution_count"] is None, f"{path.name}: a code cell has an execution count"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_asserts_its_results_and_has_a_fast_mode(path):
    sources = [_source(c) for c in _code_cells(path)]
    asserting = [s for s in sources if any(line.lstrip().startswith("assert ") for line in s.splitlines())]
    assert len(asserting) >= 2, f"{path.name}: results must be asserted in cells"
    assert any('os.environ.get("HMOE_FAST") == "1"' in s for s in sources), f"{path.name}: no fast mode"
    assert not any("eval(" in s or "sympify(" in s for s in sources), f"{path.name}: parse user text with hmoe_theory.expr"
