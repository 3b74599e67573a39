"""Loading user claims: Python files, directories of them, and installed entry points.

A claims file is ordinary Python that decorates checks with :func:`proofs_check.claim`; loading it
**runs it** (like pytest runs a test file), so load only files you trust. The toolkit itself never
evaluates strings: expressions inside a claim go through :mod:`hmoe_theory.expr` when the claim's code
asks for it (e.g. :func:`hmoe_theory.interactions.function_from_text`).

* A directory loads every ``*.py`` directly inside it whose name does not start with ``_`` (sorted by
  name; ``_helpers.py`` can hold shared code imported by the claim files).
* While a file is imported, its directory is at the front of ``sys.path``, so sibling modules import.
* Entry points of the group ``hmoe.claims`` name a module (``mypkg.claims``) whose import registers claims.

Every failure is one :class:`~proofs_check.claim.ClaimError` line: a missing path, a file that does not
import (with the line that failed), a file with no claim, a duplicate id, a malformed claim.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import re
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from .claim import ClaimError
from .registry import _REGISTRY, loading_from, mark_loaded

ENTRY_POINT_GROUP = "hmoe.claims"


@dataclass(frozen=True)
class Sources:
    """Where user claims come from (picklable, so worker processes can load the same claims)."""

    paths: tuple[str, ...] = ()
    entry_points: bool = False


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _failure(exc: BaseException, path: Path) -> str:
    """``ExcType: message (file.py line N)`` with the innermost frame inside ``path``."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f"SyntaxError: {_one_line(exc.msg)} ({path.name} line {exc.lineno})"
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
    where = f" ({path.name} line {lines[-1]})" if lines else ""
    return f"{type(exc).__name__}: {_one_line(exc)}{where}"


def _module_name(path: Path) -> str:
    """A unique, deterministic module name for a user file (its stem plus a hash of its full path)."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    return f"hmoe_user_claims_{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}_{digest}"


def load_file(path: str | Path) -> int:
    """Import one claims file; returns the number of claims it registered (an error if none)."""
    path = Path(path).resolve()
    if not mark_loaded(str(path)):
        return 0
    before = len(_REGISTRY)
    name = _module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ClaimError(f"cannot load claims file {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent))
    try:
        with loading_from(str(path)), contextlib.redirect_stdout(sys.stderr):  # prints must not break --json
            spec.loader.exec_module(module)
    except ClaimError as exc:
        sys.modules.pop(name, None)
        raise ClaimError(f"claims file {path}: {exc}") from None
    except (Exception, SystemExit) as exc:  # user code: any failure is reported as one line
        sys.modules.pop(name, None)
        raise ClaimError(f"claims file {path} failed to import: {_failure(exc, path)}") from None
    finally:
        if sys.path and sys.path[0] == str(path.parent):
            del sys.path[0]
    count = len(_REGISTRY) - before
    if count == 0:
        sys.modules.pop(name, None)
        raise ClaimError(f"claims file {path} defines no claim (decorate a check with @claim(...))")
    return count


def claim_files(path: str | Path) -> list[Path]:
    """The files a ``--claims PATH`` argument names (see the module docstring)."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.glob("*.py") if not f.name.startswith(("_", ".")))
        if not files:
            raise ClaimError(f"no claims files (*.py) in directory {p}")
        return files
    if p.is_file():
        if p.suffix != ".py":
            raise ClaimError(f"claims file {p} is not a .py file")
        return [p]
    raise ClaimError(f"no such claims file or directory: {p}")


def load_paths(paths: Sequence[str | Path]) -> int:
    """Load every file named by ``paths``; returns the number of claims registered."""
    return sum(load_file(f) for p in paths for f in claim_files(p))


def load_entry_points() -> int:
    """Import every module published in the ``hmoe.claims`` entry point group (sorted by name)."""
    before = len(_REGISTRY)
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)):
        origin = f"entry point {ep.name} ({ep.value})"
        if not mark_loaded(origin):
            continue
        try:
            with loading_from(origin), contextlib.redirect_stdout(sys.stderr):
                ep.load()
        except ClaimError as exc:
            raise ClaimError(f"{origin}: {exc}") from None
        except (Exception, SystemExit) as exc:  # an installed package's code: one line
            raise ClaimError(f"{origin} failed to import: {type(exc).__name__}: {_one_line(exc)}") from None
    return len(_REGISTRY) - before


def load(sources: Sources) -> None:
    """Load ``sources`` (idempotent: a worker process forked from the parent skips what it has)."""
    if sources.entry_points:
        load_entry_points()
    load_paths(sources.paths)
