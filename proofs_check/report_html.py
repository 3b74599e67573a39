"""``hmoe check --html DIR``: a static report of a ledger run.

``DIR/index.html``: totals, the dependency graph (inline SVG, :mod:`proofs_check.graph_svg`) and a table
of claims with status badges. Graph boxes are coloured by verdict (:data:`VERDICTS`: a passed claim by its
status, proved / certified / supported / refuted as expected / inconclusive as expected, then failed and dependency
failed), with a legend; the graph is scaled to the page width (its ``viewBox``) and a checkbox shows it at
actual size (CSS only). ``DIR/graph.svg`` is the same drawing as a standalone file. ``DIR/claims/<id>.html``: one page per claim with its statement,
hypotheses, source (paper id and version when given), verdict, counterexample with a Python snippet
that replays the check, the claims it depends on and those that use it, and a warning when a claim it
rests on failed. ``DIR/style.css`` is shared. Pages are plain HTML5 with no script and only relative
links; every text is escaped. Stale pages in ``DIR/claims/`` from an earlier run are removed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path

from hmoe_theory import __version__

from .formatting import stable_value
from .graph import used_by
from .graph_svg import graph_svg
from .registry import is_builtin
from .runner import ClaimResult, totals_line

STYLE = """\
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
code, pre, .mono { font-family: ui-monospace, monospace; }
pre { background: #f5f5f5; padding: .8em; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .3em .5em; text-align: left; vertical-align: top; }
.badge { display: inline-block; border-radius: .8em; padding: .05em .7em; color: #fff; font-size: .85em; }
.badge.passed { background: #2e7d32; } .badge.failed { background: #c62828; }
.badge.dependency-failed { background: #ef6c00; } .badge.not-run { background: #757575; }
.badge.status { background: #455a64; }
.graph { overflow-x: auto; border: 1px solid #ddd; padding: .5em; box-sizing: border-box;
         width: calc(100vw - 4em); margin-left: calc(50% - 50vw + 2em); }
.graph svg { display: block; width: 100%; height: auto; }
#graph-actual-size:checked ~ .graph svg { width: auto; }
.graph .negative-control rect { stroke: #212121; stroke-width: 1.5; stroke-dasharray: 4 2; }
.warning { border-left: 4px solid #ef6c00; background: #fff3e0; padding: .5em 1em; }
"""

LABEL_CLASS = {"passed": "passed", "failed": "failed", "dependency failed": "dependency-failed"}

#: Verdict classes of the graph: (CSS class, legend label, colour), in legend order.
VERDICTS = (
    ("proved", "passed: proved", "#2e7d32"),
    ("certified", "passed: certified", "#00838f"),
    ("supported", "passed: supported", "#9e9d24"),
    ("refuted", "passed: refuted as expected", "#6a1b9a"),
    ("inconclusive", "passed: inconclusive as expected", "#8d6e63"),
    ("failed", "failed", "#c62828"),
    ("dependency-failed", "dependency failed", "#ef6c00"),
)
VERDICT_COLOUR = {key: colour for key, _, colour in VERDICTS}


def verdict_class(result: ClaimResult) -> str:
    """``failed``, ``dependency-failed``, or the status of a passed claim (a key of :data:`VERDICT_COLOUR`)."""
    if result.label != "passed":
        return LABEL_CLASS[result.label]
    return result.verdict.status.value


def claim_href(claim_id: str) -> str:
    """Relative path of a claim's page from the index."""
    return f"claims/{claim_id}.html"


def _page(title: str, body: str, css: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta name="generator" content="hmoe-theory {escape(__version__)}">\n'
        f"<title>{escape(title)}</title>\n<link rel=\"stylesheet\" href=\"{css}\">\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _badge(result: ClaimResult) -> str:
    label = result.label
    return (
        f'<span class="badge {LABEL_CLASS[label]}">{escape(label)}</span> '
        f'<span class="badge status">{escape(result.outcome)}</span>'
    )


def replay_snippet(result: ClaimResult) -> str:
    """Python that loads the claim's source and runs its check again (checks are deterministic)."""
    c = result.claim
    imports = ["from proofs_check.registry import get", "from proofs_check.runner import run_claim"]
    load: list[str] = []
    if c.origin.startswith("entry point "):
        imports.insert(0, "from proofs_check.loading import load_entry_points")
        load = ["load_entry_points()"]
    elif not is_builtin(c) and c.origin.endswith(".py"):
        imports.insert(0, "from proofs_check.loading import load_paths")
        load = [f"load_paths([{json.dumps(c.origin)}])"]
    lines = [
        *imports,
        "",
        *load,
        f"result = run_claim(get({json.dumps(c.id)}))",
        "print(result.verdict.status.value, result.verdict.summary)",
        "print(result.verdict.counterexample)",
    ]
    return "\n".join(lines)


def _claim_links(ids: Sequence[str], by_id: dict[str, ClaimResult]) -> str:
    """A list of links to sibling claim pages, with their badges."""
    if not ids:
        return "<p>none</p>"
    items = []
    for i in ids:
        if i in by_id:
            items.append(f'<li><a href="{escape(i)}.html">{escape(i)}</a> {_badge(by_id[i])}</li>')
        else:
            items.append(f"<li>{escape(i)} (not in this report)</li>")
    return "<ul>\n" + "\n".join(items) + "\n</ul>"


def claim_page(result: ClaimResult, by_id: dict[str, ClaimResult], users: tuple[str, ...]) -> str:
    """The HTML page of one claim (links are relative to ``DIR/claims/``)."""
    c, v = result.claim, result.verdict
    paper = escape(f"{c.paper} {c.paper_version}".strip()) if c.paper else "not given"
    parts = [
        '<p><a href="../index.html">&larr; all claims</a></p>',
        f'<h1 class="mono">{escape(c.id)}</h1>',
        f"<p>{_badge(result)} expected <strong>{escape(c.expected.value)}</strong>; {escape(c.kind)}</p>",
        f"<h2>{escape(c.title)}</h2>",
    ]
    if result.upstream_failed:
        failed = ", ".join(f'<a href="{escape(i)}.html">{escape(i)}</a>' for i in result.upstream_failed)
        parts.append(f'<p class="warning">Dependency failed: this claim rests on {failed}, which did not pass.</p>')
    parts += [
        "<h3>Statement</h3>",
        f"<p>{escape(c.statement)}</p>",
        "<h3>Hypotheses</h3>",
        "<ul>\n" + "\n".join(f"<li>{escape(h)}</li>" for h in c.hypotheses) + "\n</ul>",
        "<h3>Source</h3>",
        f"<p>{escape(c.source)}</p>",
        f"<p>Paper: {paper}. Defined in <code>{escape(c.origin or 'unknown')}</code>.</p>",
        "<h3>Verdict</h3>",
        f"<p><strong>{escape(result.outcome)}</strong> (expected {escape(c.expected.value)}) &mdash; "
        f"{escape(result.summary)}</p>",
    ]
    if v.counterexample:
        shown = json.dumps(stable_value(v.counterexample), indent=2, default=str)
        parts += ["<h3>Counterexample</h3>", f"<pre>{escape(shown)}</pre>"]
    parts += ["<h3>Replay</h3>", f"<pre>{escape(replay_snippet(result))}</pre>"]
    if v.evidence:
        shown = json.dumps(stable_value(v.evidence), indent=2, default=str)
        parts += [f"<details><summary>Evidence</summary>\n<pre>{escape(shown)}</pre>\n</details>"]
    parts += [
        "<h3>Depends on</h3>",
        _claim_links(c.depends_on, by_id),
        "<h3>Used by</h3>",
        _claim_links(users, by_id),
    ]
    return _page(c.id, "\n".join(parts), "../style.css")


def dependency_svg(results: Sequence[ClaimResult]) -> str:
    """The dependency graph with boxes coloured by verdict and a legend counting each verdict class."""
    kind = {r.claim.id: verdict_class(r) for r in results}
    css_class = {r.claim.id: f"{kind[r.claim.id]} {r.claim.kind.replace(' ', '-')}" for r in results}
    tooltip = {r.claim.id: f"{r.claim.title} ({r.label}, {r.outcome})" for r in results}
    fill = {i: VERDICT_COLOUR[k] for i, k in kind.items()}
    counts = {key: sum(k == key for k in kind.values()) for key, _, _ in VERDICTS}
    legend = [(f"{label} ({counts[key]})", colour) for key, label, colour in VERDICTS]
    return graph_svg([r.claim for r in results], css_class, claim_href, tooltip, fill, legend)


def index_page(results: Sequence[ClaimResult]) -> str:
    """The index: totals, legend, dependency graph, table of claims."""
    svg = dependency_svg(results)
    rows = "\n".join(
        f'<tr><td class="mono"><a href="{escape(claim_href(r.claim.id))}">{escape(r.claim.id)}</a></td>'
        f"<td>{escape(r.claim.title)}</td><td>{escape(r.claim.kind)}</td><td>{_badge(r)}</td>"
        f"<td>{escape(r.claim.expected.value)}</td><td>{len(r.claim.depends_on)}</td></tr>"
        for r in results
    )
    body = f"""<h1>Claims ledger</h1>
<p><strong>{escape(totals_line(list(results)))}</strong> &mdash; generated by hmoe-theory {escape(__version__)}.</p>
<p>Badges: <span class="badge passed">passed</span> the verdict is the expected one;
<span class="badge failed">failed</span> it is not; <span class="badge dependency-failed">dependency failed</span>
the claim's own check passed but a claim it rests on failed. Status vocabulary: proved (exact, or a rigorous
enclosure), certified (a rigorous one-sided certificate), supported (numerical evidence only), refuted (explicit
counterexample), inconclusive.</p>
<h2>Dependency graph</h2>
<p>Arrows point from a claim to the claims that rest on it; box colours are the verdicts (legend above the
graph); negative controls have a dashed border; click a box for its page. The graph is scaled to the
window; <a href="graph.svg">graph.svg</a> opens it alone (zoom with the browser).</p>
<input type="checkbox" id="graph-actual-size"> <label for="graph-actual-size">actual size (scroll sideways)</label>
<div class="graph">
{svg}
</div>
<h2>Claims</h2>
<table>
<thead><tr><th>id</th><th>title</th><th>kind</th><th>status</th><th>expected</th><th>depends on</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>"""
    return _page("Claims ledger", body, "style.css")


def write_html(results: Sequence[ClaimResult], directory: str | Path) -> Path:
    """Write the report into ``directory`` (created if needed); returns the index path."""
    root = Path(directory)
    pages = root / "claims"
    pages.mkdir(parents=True, exist_ok=True)
    by_id = {r.claim.id: r for r in results}
    users = used_by(r.claim for r in results)
    for stale in pages.glob("*.html"):
        if stale.stem not in by_id:
            stale.unlink()
    (root / "style.css").write_text(STYLE, encoding="utf-8")
    for r in results:
        (pages / f"{r.claim.id}.html").write_text(claim_page(r, by_id, users.get(r.claim.id, ())), encoding="utf-8")
    (root / "graph.svg").write_text('<?xml version="1.0" encoding="utf-8"?>\n' + dependency_svg(results) + "\n",
                                    encoding="utf-8")
    index = root / "index.html"
    index.write_text(index_page(results), encoding="utf-8")
    return index
