"""Run claims, compare verdicts with expectations, and render the ledger (text, JSON, Markdown).

Each claim runs under its own wall-clock limit (:func:`hmoe_theory.timelimit.time_limit`); with
``jobs > 1`` claims run in worker processes (each check runs in its worker's main thread, so the
limits still apply; workers load the same user claims). A check that exceeds its limit yields an
``inconclusive`` verdict. A check that is broken -- it raises, calls ``sys.exit``, returns anything but a
:class:`Verdict`, writes to stdout, or kills its worker process -- gets the outcome ``error``, which never
passes (whatever the claim expects), with a one-line reason; what it wrote to stdout is forwarded to
stderr, so ``--json`` output stays valid JSON. After the run, each result lists the claims it rests on
(``depends_on``, transitively) that failed. Summaries are rendered with
:func:`proofs_check.formatting.stable_text`, so the ledger is byte-stable across machines.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace

from hmoe_theory.certify import Status
from hmoe_theory.errors import TimeLimitExceeded
from hmoe_theory.jsonout import strict_dumps
from hmoe_theory.timelimit import time_limit

from .claim import Claim, Verdict
from .formatting import stable_text, stable_value
from .graph import failed_upstream, used_by
from .loading import Sources, load
from .registry import get


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    verdict: Verdict
    seconds: float
    upstream_failed: tuple[str, ...] = ()  # claims this one rests on (transitively) that ran and failed
    error: str | None = None  # why the check itself is broken (raised, exited, printed, ...): never passes

    @property
    def passed(self) -> bool:
        return self.error is None and self.verdict.status is self.claim.expected

    @property
    def outcome(self) -> str:
        """The verdict's status, or ``error`` when the check is broken."""
        return "error" if self.error is not None else self.verdict.status.value

    @property
    def summary(self) -> str:
        """The verdict's summary with floats at fixed significant digits (byte-stable)."""
        return stable_text(self.verdict.summary)

    @property
    def label(self) -> str:
        """passed | failed | dependency failed (the claim's own check passed, a claim it rests on did not)."""
        if not self.passed:
            return "failed"
        return "dependency failed" if self.upstream_failed else "passed"

    def as_dict(self) -> dict:
        record = self.claim.record()
        del record["time_limit_s"]
        v = self.verdict
        return {
            **record,
            "dependency_failed": list(self.upstream_failed),
            "status": self.outcome,
            "error": self.error,
            "passed": self.passed,
            "summary": self.summary,
            "counterexample": v.counterexample,
            "evidence": v.evidence,
            "seconds": round(self.seconds, 3),
        }


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:300]


def errored(claim: Claim, reason: str, seconds: float = 0.0) -> ClaimResult:
    """The result of a broken check: outcome ``error`` (never passes) with a one-line ``reason``."""
    reason = _one_line(reason)
    return ClaimResult(claim, Verdict(Status.INCONCLUSIVE, f"error: {reason}"), seconds, error=reason)


def run_claim(claim: Claim) -> ClaimResult:
    """Run one claim's check under its time limit (stdout captured and forwarded to stderr)."""
    started = time.perf_counter()
    printed = io.StringIO()
    reason = None
    verdict: object = None
    try:
        with contextlib.redirect_stdout(printed), time_limit(claim.time_limit_s, f"claim {claim.id}"):
            verdict = claim.check()
    except TimeLimitExceeded as exc:
        verdict = Verdict(Status.INCONCLUSIVE, str(exc))
    except SystemExit as exc:
        reason = f"check called sys.exit({exc.code!r})"
    except Exception as exc:  # a broken check is reported in the ledger, never hidden, never passes
        reason = f"check raised {type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    if printed.getvalue():
        sys.stderr.write(printed.getvalue())
        reason = reason or f"check wrote {len(printed.getvalue())} characters to stdout (a check reports through its Verdict)"
    if reason is None and not isinstance(verdict, Verdict):
        reason = f"check returned {type(verdict).__name__}, not a Verdict"
    if reason is not None:
        return errored(claim, reason, seconds)
    return ClaimResult(claim, verdict, seconds)


def _run_by_id(claim_id: str) -> tuple[str, Verdict, float, str | None]:
    result = run_claim(get(claim_id))
    return claim_id, result.verdict, result.seconds, result.error


def _run_in_pool(claims: list[Claim], jobs: int, sources: Sources, on_result) -> dict[str, ClaimResult]:
    """Run ``claims`` in a pool of ``jobs`` workers. When a worker dies (a check that kills its process),
    the claims lost with the pool are run again one per fresh worker, so only the culprit is an error."""
    results: dict[str, ClaimResult] = {}

    def record(result: ClaimResult) -> None:
        results[result.claim.id] = result
        if on_result:
            on_result(result)

    by_id = {c.id: c for c in claims}
    lost: list[str] = []
    with ProcessPoolExecutor(max_workers=jobs, initializer=load, initargs=(sources,)) as pool:
        futures = [(claim_id, pool.submit(_run_by_id, claim_id)) for claim_id in by_id]
        for claim_id, future in futures:
            try:
                _, verdict, seconds, error = future.result()
                record(ClaimResult(by_id[claim_id], verdict, seconds, error=error))
            except BrokenProcessPool:
                lost.append(claim_id)
    for claim_id in lost:
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=1, initializer=load, initargs=(sources,)) as alone:
            try:
                _, verdict, seconds, error = alone.submit(_run_by_id, claim_id).result()
                record(ClaimResult(by_id[claim_id], verdict, seconds, error=error))
            except BrokenProcessPool:
                record(errored(by_id[claim_id], "the check killed its worker process (it exited or was killed "
                               "without returning a Verdict)", time.perf_counter() - started))
    return results


def with_dependencies(results: list[ClaimResult]) -> list[ClaimResult]:
    """``results`` with ``upstream_failed`` filled in from the claims' ``depends_on``."""
    upstream = failed_upstream([r.claim for r in results], {r.claim.id: r.passed for r in results})
    return [replace(r, upstream_failed=upstream[r.claim.id]) for r in results]


def run_claims(
    claims: list[Claim], jobs: int = 1, on_result=None, sources: Sources | None = None
) -> list[ClaimResult]:
    """Run ``claims`` (in ``jobs`` processes); ``on_result(result)`` is called as each finishes.

    ``sources``: the user claims among ``claims`` (loaded again in worker processes that do not
    inherit them). The returned results are in the order of ``claims``, with dependencies resolved.
    """
    results: dict[str, ClaimResult] = {}
    if jobs <= 1 or len(claims) <= 1:
        for c in claims:
            results[c.id] = run_claim(c)
            if on_result:
                on_result(results[c.id])
    else:
        results = _run_in_pool(claims, jobs, sources or Sources(), on_result)
    return with_dependencies([results[c.id] for c in claims])


def format_line(result: ClaimResult) -> str:
    mark = "PASS" if result.passed else "FAIL"
    expected = "" if result.passed else f" (expected {result.claim.expected})"
    reason = f": {result.error}" if result.error else ""
    return f"{mark}  {result.claim.id:<60} {result.outcome:<12} {result.seconds:7.2f}s{expected}{reason}"


def dependency_line(result: ClaimResult) -> str | None:
    """``id rests on failed claim(s): a, b`` for a claim whose dependency failed, else None."""
    if not result.upstream_failed:
        return None
    return f"      {result.claim.id} rests on failed claim(s): {', '.join(result.upstream_failed)}"


def totals_line(results: list[ClaimResult]) -> str:
    passed = sum(r.passed for r in results)
    line = f"{passed} passed, {len(results) - passed} failed"
    resting = sum(1 for r in results if r.passed and r.upstream_failed)
    return line + (f" ({resting} passed but rest on a failed claim)" if resting else "")


def to_json(results: list[ClaimResult]) -> str:
    passed = sum(r.passed for r in results)
    resting = sum(1 for r in results if r.passed and r.upstream_failed)
    payload = {
        "passed": passed,
        "failed": len(results) - passed,
        "dependency_failed": resting,
        "claims": [r.as_dict() for r in results],
    }
    return strict_dumps(payload, indent=2)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _anchor(claim_id: str) -> str:
    return claim_id.replace(".", "").lower()


def _links(ids: tuple[str, ...], present: set[str]) -> str:
    return ", ".join(f"[{i}](#{_anchor(i)})" if i in present else f"{i} (not in this ledger)" for i in ids)


def to_markdown(results: list[ClaimResult]) -> str:
    """The CLAIMS.md ledger: a summary table, then one section per claim (depends on / used by)."""
    present = {r.claim.id for r in results}
    users = used_by(r.claim for r in results)
    lines = [
        "# Claims ledger",
        "",
        "Generated by `hmoe check --markdown`; do not edit by hand. Status vocabulary: **proved** (exact,",
        "or a rigorous enclosure), **certified** (a rigorous one-sided certificate), **supported** (numerical",
        "evidence only: high-precision agreement at random points, float ranks, Monte Carlo), **refuted**",
        "(explicit counterexample), **inconclusive**. A claim passes when its status is the expected one;",
        "negative controls are expected to be refuted.",
        "",
        f"**{totals_line(results)}**",
        "",
        "| id | kind | status | expected | pass |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        ok = ("yes (**dependency failed**)" if r.upstream_failed else "yes") if r.passed else "**no**"
        lines.append(
            f"| [{r.claim.id}](#{_anchor(r.claim.id)}) | {r.claim.kind} | {r.outcome}"
            f" | {r.claim.expected.value} | {ok} |"
        )
    for r in results:
        c = r.claim
        paper = f"; paper: {_cell(c.paper)} {_cell(c.paper_version)}".rstrip() if c.paper else ""
        lines += [
            "",
            f"## {c.id}",
            "",
            f"**{_cell(c.title)}** ({c.kind}; source: {_cell(c.source)}{paper})",
            "",
            f"Statement: {_cell(c.statement)}",
            "",
            "Hypotheses:",
            *(f"- {_cell(h)}" for h in c.hypotheses),
            "",
        ]
        if c.depends_on:
            lines += [f"Depends on: {_links(c.depends_on, present)}", ""]
        if users.get(c.id):
            lines += [f"Used by: {_links(users[c.id], present)}", ""]
        lines.append(f"Verdict: **{r.outcome}** (expected {c.expected.value}) -- {_cell(r.summary)}")
        if r.upstream_failed:
            lines += ["", f"**Dependency failed**: rests on {_links(r.upstream_failed, present)}, which did not pass."]
        if r.verdict.counterexample:
            shown = json.dumps(stable_value(r.verdict.counterexample), default=str)
            lines += ["", f"Counterexample: `{shown}`"]
    return "\n".join(lines) + "\n"
