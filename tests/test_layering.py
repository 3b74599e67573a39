"""The library's data flows one way (shared/DESIGN.md): a module never imports a layer above its own.

DESIGN.md lists attention, interactions, geometry and estimation side by side above the families. In the code
they are ordered, and this test keeps them so (every import, also inside functions, read with ``ast``):

    base modules (expr, compile, certify, ...; they may import one another) < families < interactions, geometry < attention < estimation
    < rate_orders < experiments < explorer, commands < cli < __main__

attention sits above interactions because its relation tables (attention/relations.py) run the interaction
engine on attention families; estimation sits above both because its derived Voronoi exponents use the
relations and the gated-attention experiment fits attention families; rate_orders sits above estimation
because it reads its settings and its Voronoi loss D1 (and seeds its search with the interaction engine's
relations). Peers of one rank (interactions and geometry) must not import each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hmoe_theory"
RANKS = {
    "families": 1,
    "interactions": 2,
    "geometry": 2,
    "attention": 3,
    "estimation": 4,
    "rate_orders": 5,
    "experiments": 6,
    "explorer": 7,
    "commands": 7,
    "cli": 8,
    "__main__": 9,
}  # every other top-level module (expr, compile, certify, symbols, errors, timelimit, bounds, ...) is rank 0: the
#    base utilities, which may import one another


def _unit(parts: tuple[str, ...]) -> str:
    """Top-level unit of hmoe_theory that a dotted path inside the package belongs to (explorer_parts/ is the
    explorer's own split into modules)."""
    unit = parts[0].removesuffix(".py") if parts else ""
    return "explorer" if unit == "explorer_parts" else unit


def _rank(unit: str) -> int:
    return RANKS.get(unit, 0)


def _imported_units(path: Path) -> set[str]:
    """Top-level hmoe_theory units imported by the module at ``path`` (absolute and relative imports)."""
    package = path.relative_to(PACKAGE).parts[:-1]  # the package the module lives in, relative to hmoe_theory
    units = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            targets = [(node.module or "").split(".")]
        elif isinstance(node, ast.ImportFrom):  # relative: level 1 is the module's own package
            base = list(package[: len(package) - (node.level - 1)])
            targets = [["hmoe_theory", *base, *node.module.split(".")]] if node.module else [
                ["hmoe_theory", *base, alias.name] for alias in node.names]
        else:
            continue
        for target in targets:
            if target[0] == "hmoe_theory" and len(target) > 1:
                units.add(_unit(tuple(target[1:])))
    return units


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_higher_or_peer_layer(path):
    own = _unit(path.relative_to(PACKAGE).parts)
    for unit in _imported_units(path) - {own, ""}:
        assert _rank(unit) < _rank(own) or _rank(unit) == _rank(own) == 0, f"{path.relative_to(PACKAGE)} ({own}, rank {_rank(own)}) imports {unit} (rank {_rank(unit)})"


def test_the_checker_sees_relative_and_absolute_imports():
    """The import reader itself: relative imports one and two levels up, absolute ones, imports in functions."""
    attention = PACKAGE / "attention" / "relations.py"
    assert "interactions" in _imported_units(attention) and "families" in _imported_units(attention)
    setting = PACKAGE / "estimation" / "setting.py"
    assert {"attention", "families"} <= _imported_units(setting)
    interactions_cli = PACKAGE / "commands" / "interactions.py"
    assert "attention" in _imported_units(interactions_cli)  # an absolute import inside a function
    assert _rank("estimation") > _rank("attention") > _rank("interactions") > _rank("families") > _rank("expr")
    assert _rank("experiments") > _rank("rate_orders") > _rank("estimation")


def _imported_modules(path: Path) -> set[Path]:
    """Module files of hmoe_theory that the module at ``path`` imports (also inside functions); an import of a
    package or of a name from a package counts as an import of that package's modules named, else of nothing
    (package faces, ``__init__.py``, only gather what lies below them and are left out of the cycle check)."""
    package = path.relative_to(PACKAGE).parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name.split(".")[1:] for alias in node.names if alias.name.startswith("hmoe_theory.")]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if not (node.module or "").startswith("hmoe_theory"):
                    continue
                base = node.module.split(".")[1:]
            else:
                base = [*package[: len(package) - (node.level - 1)], *(node.module.split(".") if node.module else [])]
            targets = [base, *([*base, alias.name] for alias in node.names)]
        else:
            continue
        for target in targets:
            candidate = PACKAGE.joinpath(*target).with_suffix(".py") if target else None
            if candidate is not None and candidate.is_file() and candidate != path:
                found.add(candidate)
    return found


def test_the_house_has_no_circle():
    """No module reaches itself through imports (a cycle between modules of one layer is as bad as one across)."""
    replicate = PACKAGE / "estimation" / "replicate.py"
    assert PACKAGE / "estimation" / "attention_catalogue.py" in _imported_modules(replicate)  # `from . import x`
    assert PACKAGE / "estimation" / "catalogue.py" in _imported_modules(replicate)  # `from .catalogue import ...`
    graph = {p: _imported_modules(p) for p in MODULES if p.name != "__init__.py"}
    state: dict[Path, int] = {}  # 1 on the current path, 2 done

    def visit(node: Path, trail: list[Path]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, set())):
            if state.get(nxt) == 1:
                cycle = [*trail[trail.index(nxt):], nxt] if nxt in trail else [node, nxt]
                raise AssertionError("import circle: " + " -> ".join(str(p.relative_to(PACKAGE)) for p in cycle))
            if nxt in graph and state.get(nxt) != 2:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(graph):
        if state.get(start) != 2:
            visit(start, [start])
