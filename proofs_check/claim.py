"""Claim records and verdicts.

A :class:`Claim` states one mathematical statement with its hypotheses and its source, the outcome we
expect (``proved``/``certified``/``supported`` for a theorem, ``refuted`` for a negative control or a claim that
does not survive without a missing hypothesis), and a ``check`` that produces a :class:`Verdict`.
A claim *passes* when the verdict's status equals the expected one.

A claim may rest on other claims (``depends_on``, by id): the runner marks a claim whose
dependency (directly or transitively) fails. ``paper`` and ``paper_version`` identify the
publication the statement comes from (e.g. ``"arXiv:2402.12345"``, ``"v2"``); ``origin`` says
where the claim was defined (a module of this package, a user file, an entry point) and is filled
in by the registry.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hmoe_theory.certify import Status, ZeroDecision, weakest
from hmoe_theory.errors import HmoeError

#: Claim ids name files of the HTML report and anchors of CLAIMS.md: letters, digits, ``.``, ``_``, ``-``.
CLAIM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
STATUSES = ", ".join(repr(s.value) for s in Status)


class ClaimError(HmoeError, ValueError):
    """A claim is ill-formed or cannot be loaded (the CLI prints one line and exits with status 2)."""


@dataclass(frozen=True)
class Verdict:
    """What a check found: a status, a one-line summary, a counterexample when refuted, evidence."""

    status: Status
    summary: str
    counterexample: dict[str, Any] | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_decision(cls, decision: ZeroDecision, what: str) -> "Verdict":
        """Verdict for "``what`` is identically zero" from :func:`hmoe_theory.certify.decide_zero`."""
        if decision.status is Status.REFUTED:
            return cls(Status.REFUTED, f"{what} is not zero: {decision.detail}", decision.counterexample)
        if decision.status is Status.PROVED:
            return cls(Status.PROVED, f"{what} = 0 ({decision.method})")
        return cls(decision.status, f"{what} ~ 0: {decision.detail}")

    @classmethod
    def combine(cls, verdicts: list["Verdict"], summary: str) -> "Verdict":
        """All sub-verdicts must hold; the weakest status wins, the first refutation is reported."""
        for v in verdicts:
            if v.status in (Status.REFUTED, Status.INCONCLUSIVE):
                return cls(v.status, f"{summary}: {v.summary}", v.counterexample, v.evidence)
        return cls(weakest(v.status for v in verdicts), f"{summary} ({len(verdicts)} checks)")


def as_status(claim_id: str, expected: Status | str | None) -> Status:
    """The expected outcome as a :class:`Status` (a string is looked up by value, never evaluated)."""
    if isinstance(expected, Status):
        return expected
    if isinstance(expected, str) and expected.strip().lower() in {s.value for s in Status}:
        return Status(expected.strip().lower())
    given = "nothing" if expected is None else repr(expected)
    raise ClaimError(f"claim {claim_id!r}: state the expected outcome (expected= one of {STATUSES}; got {given})")


def as_strings(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """A tuple of strings; a single string is one item (not a sequence of characters)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@dataclass(frozen=True)
class Claim:
    """One ledger entry. ``check()`` must be deterministic (seeded) and respect ``time_limit_s``.

    Fields after ``kind`` are optional (new in the user-claims API; old positional construction
    still works).
    """

    id: str
    title: str
    statement: str
    hypotheses: tuple[str, ...]
    source: str
    expected: Status
    check: Callable[[], Verdict]
    time_limit_s: float = 30.0
    kind: str = "theorem"  # theorem | negative control | finding
    depends_on: tuple[str, ...] = ()
    paper: str = ""
    paper_version: str = ""
    origin: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not CLAIM_ID.fullmatch(self.id):
            raise ClaimError(
                f"claim id {self.id!r}: use letters, digits, '.', '_' and '-' (starting with a letter or digit)"
            )
        missing = [name for name in ("title", "statement", "source") if not str(getattr(self, name) or "").strip()]
        if missing:
            raise ClaimError(f"claim {self.id!r}: missing {', '.join(missing)}")
        if not self.hypotheses or not all(str(h).strip() for h in self.hypotheses):
            raise ClaimError(f"claim {self.id!r}: state the hypotheses (write 'none' explicitly)")
        if not isinstance(self.expected, Status):
            raise ClaimError(f"claim {self.id!r}: expected must be a Status (one of {STATUSES})")
        if not callable(self.check):
            raise ClaimError(f"claim {self.id!r}: the check must be a function returning a Verdict")
        limit = self.time_limit_s
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not math.isfinite(limit) or limit <= 0:
            raise ClaimError(f"claim {self.id!r}: time_limit_s must be a positive number of seconds")
        if self.id in self.depends_on:
            raise ClaimError(f"claim {self.id!r} cannot depend on itself")
        bad = [d for d in self.depends_on if not isinstance(d, str) or not CLAIM_ID.fullmatch(d)]
        if bad:
            raise ClaimError(f"claim {self.id!r}: depends_on must list claim ids, got {bad[0]!r}")

    def record(self) -> dict[str, Any]:
        """What the claim states, without its check (``hmoe check --list --json`` and the head of every result)."""
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "statement": self.statement,
            "hypotheses": list(self.hypotheses),
            "source": self.source,
            "paper": self.paper,
            "paper_version": self.paper_version,
            "origin": self.origin,
            "depends_on": list(self.depends_on),
            "expected": self.expected.value,
            "time_limit_s": self.time_limit_s,
        }
