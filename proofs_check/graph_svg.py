"""An inline SVG drawing of the claim dependency graph, laid out without external tools.

Layout (a small Sugiyama scheme): each claim sits in the column of its layer
(:func:`proofs_check.graph.layers`: 0 for claims resting on nothing, else 1 + the deepest dependency),
so every edge runs left to right, from a claim to the claims that rest on it. Within a column the
order starts alphabetical and is improved by four barycentre sweeps (mean row of the neighbours in the
previous, then the next column; ties by id), which reduces edge crossings. Every step is
deterministic, so the same claims give the same picture.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape

from .claim import Claim
from .graph import layers, used_by

CHAR_WIDTH = 6.6  # px per character of 11 px monospace
NODE_HEIGHT = 20
ROW_PITCH = 28
COLUMN_GAP = 70
MARGIN = 10


def _order(claims: Sequence[Claim]) -> list[list[str]]:
    """Columns of ids, ordered to reduce crossings (see the module docstring)."""
    layer = layers(claims)
    by_id = {c.id: c for c in claims}
    users = used_by(claims)
    columns = [sorted(i for i in layer if layer[i] == k) for k in range(max(layer.values(), default=-1) + 1)]

    def rows() -> dict[str, float]:
        return {i: r / max(len(col) - 1, 1) for col in columns for r, i in enumerate(col)}

    for sweep in range(4):
        forward = sweep % 2 == 0
        indices = range(1, len(columns)) if forward else range(len(columns) - 2, -1, -1)
        for k in indices:
            position = rows()
            neighbours = {
                i: [position[n] for n in (by_id[i].depends_on if forward else users.get(i, ())) if n in position]
                for i in columns[k]
            }
            columns[k].sort(
                key=lambda i: (sum(neighbours[i]) / len(neighbours[i]) if neighbours[i] else position[i], i)
            )
    return columns


def graph_svg(
    claims: Sequence[Claim], css_class: Mapping[str, str], href: Callable[[str], str], tooltip: Mapping[str, str]
) -> str:
    """The SVG element: one linked box per claim (CSS class ``css_class[id]``), one arrow per dependency."""
    if not claims:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0" role="img"></svg>'
    columns = _order(claims)
    widths = [max(len(i) for i in col) * CHAR_WIDTH + 16 for col in columns]
    height = max(len(col) for col in columns) * ROW_PITCH + 2 * MARGIN
    box: dict[str, tuple[float, float, float]] = {}  # id -> (x, y, width)
    x = MARGIN
    for col, w in zip(columns, widths):
        top = (height - len(col) * ROW_PITCH) / 2 + (ROW_PITCH - NODE_HEIGHT) / 2
        for r, i in enumerate(col):
            box[i] = (x, top + r * ROW_PITCH, w)
        x += w + COLUMN_GAP
    width = x - COLUMN_GAP + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="claim dependency graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#777"/></marker></defs>',
    ]
    for c in sorted(claims, key=lambda c: c.id):
        for d in c.depends_on:
            if d not in box:
                continue
            x1, y1, w1 = box[d]
            x2, y2, _ = box[c.id]
            sx, sy, ex, ey = x1 + w1, y1 + NODE_HEIGHT / 2, x2, y2 + NODE_HEIGHT / 2
            bend = (ex - sx) / 2
            parts.append(
                f'<path class="edge" d="M {sx:.1f} {sy:.1f} C {sx + bend:.1f} {sy:.1f}, {ex - bend:.1f} {ey:.1f}, '
                f'{ex:.1f} {ey:.1f}" marker-end="url(#arrow)"/>'
            )
    for i, (bx, by, w) in sorted(box.items()):
        parts.append(
            f'<a href="{escape(href(i))}"><g class="node {escape(css_class.get(i, "not-run"))}">'
            f"<title>{escape(tooltip.get(i, i))}</title>"
            f'<rect x="{bx:.1f}" y="{by:.1f}" width="{w:.1f}" height="{NODE_HEIGHT}" rx="4"/>'
            f'<text x="{bx + 8:.1f}" y="{by + 14:.1f}">{escape(i)}</text></g></a>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
