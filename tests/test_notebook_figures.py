"""Every notebook runs (fast mode) with its own asserts, and every figure it promises renders as an image.

Design (CI time): each notebook is executed exactly once, here, with nbclient; the one execution serves both
checks -- a failing ``assert`` in a cell fails the test with that cell's traceback, and the executed cells are
then searched for image outputs. ``notebooks/`` is therefore not also collected by nbmake (``testpaths`` in
pyproject.toml), which would run every notebook a second time (~60 s more on 2 cores).

A *figure cell* is a code cell that calls ``plt.show()`` or displays a figure built by ``rate_figure`` /
``contrast_figure``; it must have at least as many ``image/png`` (or ``image/svg+xml``) outputs as it has such
calls (a call inside a loop counts once). (A bare matplotlib ``Figure`` passed to ``display()`` prints
``<Figure size ...>`` unless the inline backend is on, and ``plt.show()`` shows nothing under
``MPLBACKEND=Agg``, which conftest.py sets and the kernel inherits: each notebook starts with
``%matplotlib inline``.)
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
CELL_TIMEOUT_S = 300
IMAGES = ("image/png", "image/svg+xml")
SHOWS = re.compile(r"plt\.show\(\)")
DISPLAYS_FIGURE = re.compile(r"display\(\s*(rate_figure|contrast_figure)\(")


def figure_cells(notebook: nbformat.NotebookNode) -> list[tuple[int, int]]:
    """``(cell index, images at least)`` for every cell that promises a figure."""
    cells = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        promised = len(SHOWS.findall(cell.source)) + len(DISPLAYS_FIGURE.findall(cell.source))
        if promised:
            cells.append((index, promised))
    return cells


def images(cell: nbformat.NotebookNode) -> int:
    return sum(1 for out in cell.get("outputs", []) if any(m in out.get("data", {}) for m in IMAGES))


def test_figure_cells_are_found():
    """The rule above finds the promised figures (counted by hand in the stored notebooks: notebook 04 shows
    four figures from three cells, 06 the architecture, two rate figures and the contrasts)."""
    found = {p.stem[:2]: [n for _, n in figure_cells(nbformat.read(p, as_version=4))] for p in PATHS}
    assert {k: found[k] for k in ("01", "02", "03", "04", "05", "06")} == {
        "01": [1, 1, 1, 1], "02": [1, 1, 1], "03": [1, 1, 1, 1], "04": [1, 1, 1], "05": [1, 1, 1, 1], "06": [1, 2]}


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs_and_every_figure_renders(path):
    assert os.environ.get("HMOE_FAST") == "1"  # conftest.py: the kernel inherits the fast mode
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    missing = [
        f"cell {index}: {images(notebook.cells[index])} image(s), expected >= {expected}"
        for index, expected in figure_cells(notebook)
        if images(notebook.cells[index]) < expected
    ]
    assert missing == [], f"{path.name}: figures that did not render: {missing}"
    as_text = [out["data"]["text/plain"] for cell in notebook.cells for out in cell.get("outputs", [])
               if "<Figure size" in out.get("data", {}).get("text/plain", "") and not any(m in out["data"] for m in IMAGES)]
    assert as_text == [], f"{path.name}: figures printed as text only: {as_text}"
