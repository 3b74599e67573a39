"""Claim records and verdicts.

A :class:`Claim` states one mathematical statement with its hypotheses and its source, the outcome we
expect (``proved``/``certified`` for a theorem, ``refuted`` for a negative control or a claim that
does not survive without a missing hypothesis), and a ``check`` that produces a :class:`Verdict`.
A claim *passes* when the verdict's status equals the expected one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hmoe_theory.certify import Status, ZeroDecision


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
        status = Status.CERTIFIED if any(v.status is Status.CERTIFIED for v in verdicts) else Status.PROVED
        return cls(status, f"{summary} ({len(verdicts)} checks)")


@dataclass(frozen=True)
class Claim:
    """One ledger entry. ``check()`` must be deterministic (seeded) and respect ``time_limit_s``."""

    id: str
    title: str
    statement: str
    hypotheses: tuple[str, ...]
    source: str
    expected: Status
    check: Callable[[], Verdict]
    time_limit_s: float = 30.0
    kind: str = "theorem"  # theorem | negative control | finding

    def __post_init__(self) -> None:
        if not self.hypotheses:
            raise ValueError(f"claim {self.id}: state the hypotheses (write 'none' explicitly)")
        if not isinstance(self.expected, Status):
            raise ValueError(f"claim {self.id}: expected must be a Status")
