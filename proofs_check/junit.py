"""JUnit XML for CI dashboards: one ``<testcase>`` per claim.

A claim whose verdict differs from its expected outcome is a ``<failure>`` whose message (attribute and
body) names both statuses, the summary and the counterexample (JSON). A claim that passed but
rests on a failed claim passes, with the failed dependencies in ``<system-out>`` (the dependency is
itself a failure). ``classname`` is the id up to its last dot, so dashboards group claims by family.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from .formatting import stable_value
from .runner import ClaimResult


def _text(value: str) -> str:
    """XML 1.0 forbids most control characters; replace them rather than write an unreadable file."""
    return "".join(ch if ch in "\t\n\r" or ord(ch) >= 0x20 else "?" for ch in value)


def to_junit(results: Sequence[ClaimResult], suite: str = "hmoe claims") -> str:
    """The JUnit XML document (``<testsuites>`` with one ``<testsuite>``) for ``results``."""
    failures = sum(not r.passed for r in results)
    total_time = f"{sum(r.seconds for r in results):.3f}"
    counts = {"tests": str(len(results)), "failures": str(failures), "errors": "0", "time": total_time}
    root = ET.Element("testsuites", name=suite, **counts)
    testsuite = ET.SubElement(root, "testsuite", name=suite, skipped="0", **counts)
    for r in results:
        c = r.claim
        classname = c.id.rsplit(".", 1)[0] if "." in c.id else c.id
        case = ET.SubElement(testsuite, "testcase", classname=classname, name=c.id, time=f"{r.seconds:.3f}")
        if not r.passed:
            message = f"expected {c.expected.value}, got {r.verdict.status.value}: {r.summary}"
            if r.verdict.counterexample:
                message += "; counterexample: " + json.dumps(stable_value(r.verdict.counterexample), default=str)
            failure = ET.SubElement(case, "failure", message=_text(message), type=r.verdict.status.value)
            failure.text = _text(message)
        out = [f"{c.title}", f"verdict: {r.verdict.status.value} (expected {c.expected.value}) -- {r.summary}"]
        if r.upstream_failed:
            out.append(f"dependency failed: rests on {', '.join(r.upstream_failed)}")
        ET.SubElement(case, "system-out").text = _text("\n".join(out))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
