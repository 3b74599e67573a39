"""The verdict of a rate-order question: exponent, status, convention, slowest cells, table, certificate.

Statuses follow the project's ledger vocabulary (:class:`hmoe_theory.certify.Status`):

* ``"proved"`` -- phi = 0 identically on an explicit family with D1 > 0 (sympy identity): the loss is not
  identifiable (``exponent`` is null); or both halves of phi ~ eps^s: phi <= C eps^s certified along an explicit
  family and phi >= C eps^s near G* proved by an independence certificate (``lower_bound``; s = 1, 2);
* ``"certified"`` -- rigorous enclosures along an explicit family bound phi <= C eps^s at >= 3 eps
  ("no faster than n^-1/(2s)" at those eps) and the search's order agrees;
* ``"supported"`` -- a numerical minimum only (a search bounds phi from above; the rate achieved is never
  certified by it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..certify import Status
from ..jsonout import finite_or_none, strict_dumps

SUPPORTED = Status.SUPPORTED.value


@dataclass
class RateOrder:
    """Result of :func:`~.engine.rate_order` (see the module docstring for ``status``)."""

    setting: str
    exponent: float | None
    identifiable: bool
    status: str
    verdict: str
    convention: dict
    cells: dict
    table: list[dict]
    minimiser: dict
    configurations: list[dict] = field(default_factory=list)
    degeneracy: dict | None = None
    certificate: dict | None = None
    notes: list[str] = field(default_factory=list)
    lower_bound: dict | None = None

    @property
    def no_rate_proved(self) -> bool:
        """phi = 0 on an explicit family with D1 > 0, proved by a sympy identity: the loss has no rate at all."""
        return self.status == Status.PROVED.value and not self.identifiable

    def to_dict(self) -> dict:
        return finite_or_none({
            "setting": self.setting, "exponent": self.exponent, "identifiable": self.identifiable,
            "status": self.status, "verdict": self.verdict, "convention": self.convention, "cells": self.cells,
            "table": self.table, "minimiser": self.minimiser, "configurations": self.configurations,
            "degeneracy": self.degeneracy, "certificate": self.certificate, "lower_bound": self.lower_bound,
            "notes": self.notes,
        })

    def to_json(self) -> str:
        return strict_dumps(self.to_dict(), indent=2)

    def text(self) -> str:
        c = self.convention
        lines = [
            f"setting: {self.setting}",
            f"convention: model {c['model']}, loss D1 {c['loss']}, {c['parametrisation']}; pin: {c['pin']}; "
            f"k* = {c['k_true']}, k = {c['k']}; box {c['box']}",
            f"verdict ({self.status}): {self.verdict}",
            f"slowest cells: {self.cells.get('sizes')}  (branch {self.cells.get('branch')})",
        ]
        if self.table:
            lines.append(f"{'eps':>10} {'D1':>11} {'phi':>11} {'enclosure':>25} {'slope':>7}  branch")
            for row in self.table:
                enc = row.get("enclosure")
                enc_text = f"[{enc[0]:.3e}, {enc[1]:.3e}]" if enc else "-"
                slope = row.get("slope")
                lines.append(f"{row['eps']:>10.3e} {row['d1']:>11.4e} {row['phi']:>11.4e} {enc_text:>25} "
                             f"{'-' if slope is None else f'{slope:.3f}':>7}  {row['branch']}")
        if self.minimiser:
            shown = ", ".join(f"{k}: {'-' if v is None else v}" for k, v in self.minimiser.items())
            lines.append(f"minimiser exponents d log|dtheta| / d log D1: {shown}")
        if self.lower_bound is not None:
            lines.append(f"rate achieved (phi >= C eps^{self.lower_bound['order']}): {self.lower_bound['statement']}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"RateOrder({self.setting!r}, exponent={self.exponent}, status={self.status!r}, "
                f"loss={self.convention.get('loss')!r}, cells={self.cells.get('sizes')})")
