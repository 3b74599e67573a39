"""Registration of claims: modules in ``proofs_check/claims/`` decorate their checks with :func:`claim`."""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
from collections.abc import Callable, Sequence

from hmoe_theory.certify import Status
from hmoe_theory.errors import UnknownNameError

from .claim import Claim, Verdict

_REGISTRY: dict[str, Claim] = {}


def claim(
    *,
    id: str,  # noqa: A002 - the ledger's vocabulary
    title: str,
    statement: str,
    hypotheses: Sequence[str],
    source: str,
    expected: Status | str,
    time_limit_s: float = 30.0,
    kind: str = "theorem",
) -> Callable[[Callable[[], Verdict]], Callable[[], Verdict]]:
    """Decorator registering ``check`` as the check of a new claim."""

    def register(check: Callable[[], Verdict]) -> Callable[[], Verdict]:
        if id in _REGISTRY:
            raise ValueError(f"duplicate claim id {id!r}")
        _REGISTRY[id] = Claim(
            id, title, statement, tuple(hypotheses), source, Status(expected), check, time_limit_s, kind
        )
        return check

    return register


def _load_all() -> None:
    from . import claims as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")


def all_claims() -> list[Claim]:
    """Every registered claim, sorted by id."""
    _load_all()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get(claim_id: str) -> Claim:
    _load_all()
    if claim_id not in _REGISTRY:
        raise UnknownNameError(f"unknown claim {claim_id!r}")
    return _REGISTRY[claim_id]


def select(pattern: str | None) -> list[Claim]:
    """Claims whose id matches the glob ``pattern`` or contains it as a substring (all if None)."""
    claims = all_claims()
    if not pattern:
        return claims
    chosen = [c for c in claims if fnmatch.fnmatchcase(c.id, pattern) or pattern in c.id]
    if not chosen:
        raise UnknownNameError(f"no claim matches {pattern!r} ({len(claims)} claims; try 'hmoe check --list')")
    return chosen
