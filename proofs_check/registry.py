"""Registration of claims: modules decorate their checks with :func:`claim`.

The built-in ledger lives in ``proofs_check/claims/``; user claims come from files or directories
(:mod:`proofs_check.loading`) and from installed packages (entry point group ``hmoe.claims``). They all
register into one table keyed by claim id; a duplicate id is an error naming both definitions.
"""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from hmoe_theory.certify import Status
from hmoe_theory.errors import UnknownNameError

from .claim import Claim, ClaimError, Verdict, as_status, as_strings

BUILTIN_PACKAGE = "proofs_check.claims"

_REGISTRY: dict[str, Claim] = {}
_ORIGIN: list[str] = []  # origin of the file being imported by the loader (innermost last)
_LOADED: set[str] = set()  # sources already imported (resolved paths, entry point names)
_MODULES: set[str] = set()  # modules that registered claims


def claim(
    *,
    id: str,  # noqa: A002 - the ledger's vocabulary
    title: str | None = None,
    statement: str | None = None,
    hypotheses: Sequence[str] | str | None = None,
    source: str | None = None,
    expected: Status | str | None = None,
    time_limit_s: float = 30.0,
    kind: str = "theorem",
    depends_on: Sequence[str] | str = (),
    paper: str = "",
    paper_version: str = "",
) -> Callable[[Callable[[], Verdict]], Callable[[], Verdict]]:
    """Decorator registering ``check`` as the check of a new claim.

    Required: ``id``, ``title``, ``statement``, ``hypotheses`` (non-empty), ``source``, ``expected``
    (``"proved"``, ``"certified"``, ``"supported"``, ``"refuted"`` or ``"inconclusive"``). Optional: ``time_limit_s``,
    ``kind`` (theorem | negative control | finding), ``depends_on`` (ids of the claims this one rests
    on), ``paper`` and ``paper_version`` (publication id, e.g. ``"arXiv:2402.12345"``, ``"v2"``).
    """
    status = as_status(id, expected)
    caller = sys._getframe(1).f_globals.get("__name__", "")  # the module where @claim(...) is written

    def register(check: Callable[[], Verdict]) -> Callable[[], Verdict]:
        origin = caller if caller.startswith(BUILTIN_PACKAGE + ".") or not _ORIGIN else _ORIGIN[-1]
        new = Claim(
            id,
            title or "",
            statement or "",
            as_strings(hypotheses),
            source or "",
            status,
            check,
            time_limit_s,
            kind,
            as_strings(depends_on),
            paper or "",
            paper_version or "",
            origin,
        )
        if id in _REGISTRY:
            raise ClaimError(f"duplicate claim id {id!r}: defined in {_REGISTRY[id].origin} and again in {origin}")
        _REGISTRY[id] = new
        _MODULES.add(caller)
        return check

    return register


@contextmanager
def loading_from(origin: str) -> Iterator[None]:
    """Claims registered inside the block record ``origin`` (used by the loaders)."""
    _ORIGIN.append(origin)
    try:
        yield
    finally:
        _ORIGIN.pop()


def mark_loaded(source: str) -> bool:
    """Record ``source`` as loaded; False when it already was (loading is idempotent)."""
    if source in _LOADED:
        return False
    _LOADED.add(source)
    return True


@contextmanager
def isolated() -> Iterator[None]:
    """Claims loaded inside the block, and the modules that defined them, are forgotten afterwards
    (one CLI run, one test). The built-in ledger is loaded first and always kept."""
    _load_all()
    registry, loaded, modules = dict(_REGISTRY), set(_LOADED), set(sys.modules)
    try:
        yield
    finally:
        _REGISTRY.clear()
        _REGISTRY.update(registry)
        _LOADED.clear()
        _LOADED.update(loaded)
        for name in (set(sys.modules) - modules) & _MODULES:
            del sys.modules[name]


def _load_all() -> None:
    from . import claims as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")


def is_builtin(c: Claim) -> bool:
    return c.origin.startswith(BUILTIN_PACKAGE + ".")


def all_claims() -> list[Claim]:
    """Every registered claim (the built-in ledger plus any loaded user claims), sorted by id."""
    _load_all()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def builtin_claims() -> list[Claim]:
    """The claims of this package's ledger (``proofs_check/claims/``), sorted by id."""
    return [c for c in all_claims() if is_builtin(c)]


def get(claim_id: str) -> Claim:
    _load_all()
    if claim_id not in _REGISTRY:
        raise UnknownNameError(f"unknown claim {claim_id!r}")
    return _REGISTRY[claim_id]


def select(pattern: str | None, claims: Sequence[Claim] | None = None) -> list[Claim]:
    """Claims (of ``claims``, default all) whose id matches the glob ``pattern`` or contains it (all if None)."""
    claims = all_claims() if claims is None else list(claims)
    if not pattern:
        return claims
    chosen = [c for c in claims if fnmatch.fnmatchcase(c.id, pattern) or pattern in c.id]
    if not chosen:
        raise UnknownNameError(f"no claim matches {pattern!r} ({len(claims)} claims; try 'hmoe check --list')")
    return chosen
