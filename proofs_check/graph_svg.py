"""An inline SVG drawing of the claim dependency graph, laid out without external tools.

Layout (a small Sugiyama scheme): each claim sits in the column of its layer
(:func:`proofs_check.graph.layers`: 0 for claims resting on nothing, else 1 + the deepest dependency),
so every edge runs left to right, from a claim to the claims that rest on it. Within a column the
order starts alphabetical and is improved by four barycentre sweeps (mean row of the neighbours in the
previous, then the next column; ties by id), which reduces edge crossings. Ids longer than
:data:`LINE_CHARS` characters wrap after a ``.`` or ``-`` so that the columns stay narrow. Every step is
deterministic, so the same claims give the same picture.

The drawing carries its own colours (``fill`` attributes, one colour per claim) and, when given, a legend
row above the graph, so it reads the same inline in a page and as a standalone ``.svg`` file. Its
``viewBox`` lets a page scale it to the available width.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape

from .claim import Claim
from .graph import layers, used_by

CHAR_WIDTH = 6.6  # px per character of 11 px monospace
LINE_CHARS = 34  # longest line of a box label before it wraps
LINE_HEIGHT = 13
NODE_PADDING = 7  # vertical padding of a box (sum of top and bottom)
NODE_GAP = 8  # vertical gap between boxes of a column
COLUMN_GAP = 60
MARGIN = 10
LEGEND_HEIGHT = 26
SWATCH = 12
DEFAULT_FILL = "#757575"


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


def label_lines(text: str, width: int = LINE_CHARS) -> list[str]:
    """``text`` cut into lines of at most ``width`` characters after ``.`` or ``-`` (a longer piece
    without such a break stays whole)."""
    pieces, start = [], 0
    for k, ch in enumerate(text):
        if ch in ".-":
            pieces.append(text[start : k + 1])
            start = k + 1
    pieces.append(text[start:])
    lines = [""]
    for piece in pieces:
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append(piece)
        else:
            lines[-1] += piece
    return lines


def _legend(legend: Sequence[tuple[str, str]]) -> tuple[list[str], float]:
    """SVG of the legend row (swatch and label per entry) and its width."""
    parts, x = ['<g class="legend">'], MARGIN
    for label, colour in legend:
        parts.append(
            f'<rect x="{x:.1f}" y="{MARGIN}" width="{SWATCH}" height="{SWATCH}" rx="2" fill="{escape(colour)}"/>'
            f'<text x="{x + SWATCH + 4:.1f}" y="{MARGIN + SWATCH - 2}" fill="#222">{escape(label)}</text>'
        )
        x += SWATCH + 4 + len(label) * CHAR_WIDTH + 18
    parts.append("</g>")
    return parts, x - 18 + MARGIN


def graph_svg(
    claims: Sequence[Claim],
    css_class: Mapping[str, str],
    href: Callable[[str], str],
    tooltip: Mapping[str, str],
    fill: Mapping[str, str] | None = None,
    legend: Sequence[tuple[str, str]] = (),
) -> str:
    """The SVG element: one linked box per claim (CSS class ``css_class[id]``, colour ``fill[id]``), one
    arrow per dependency, and a legend row of (label, colour) entries above the graph when given."""
    if not claims:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0" viewBox="0 0 0 0" role="img"></svg>'
    fill = fill or {}
    columns = _order(claims)
    lines = {c.id: label_lines(c.id) for c in claims}
    heights = {i: len(ls) * LINE_HEIGHT + NODE_PADDING for i, ls in lines.items()}
    widths = [max(len(line) for i in col for line in lines[i]) * CHAR_WIDTH + 16 for col in columns]
    column_heights = [sum(heights[i] for i in col) + NODE_GAP * (len(col) - 1) for col in columns]
    legend_parts, legend_width = _legend(legend) if legend else ([], 0.0)
    top_offset = MARGIN + (LEGEND_HEIGHT if legend else 0)
    height = max(column_heights) + top_offset + MARGIN
    box: dict[str, tuple[float, float, float, float]] = {}  # id -> (x, y, width, height)
    x = MARGIN
    for col, w, col_height in zip(columns, widths, column_heights):
        y = top_offset + (max(column_heights) - col_height) / 2
        for i in col:
            box[i] = (x, y, w, heights[i])
            y += heights[i] + NODE_GAP
        x += w + COLUMN_GAP
    width = max(x - COLUMN_GAP + MARGIN, legend_width)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="ui-monospace, monospace" font-size="11" '
        'role="img" aria-label="claim dependency graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#777"/></marker></defs>',
        *legend_parts,
    ]
    for c in sorted(claims, key=lambda c: c.id):
        for d in c.depends_on:
            if d not in box:
                continue
            x1, y1, w1, h1 = box[d]
            x2, y2, _, h2 = box[c.id]
            sx, sy, ex, ey = x1 + w1, y1 + h1 / 2, x2, y2 + h2 / 2
            bend = (ex - sx) / 2
            parts.append(
                f'<path class="edge" d="M {sx:.1f} {sy:.1f} C {sx + bend:.1f} {sy:.1f}, {ex - bend:.1f} {ey:.1f}, '
                f'{ex:.1f} {ey:.1f}" fill="none" stroke="#999" stroke-width="1.2" marker-end="url(#arrow)"/>'
            )
    for i, (bx, by, w, h) in sorted(box.items()):
        text = "".join(
            f'<tspan x="{bx + 8:.1f}" y="{by + NODE_PADDING / 2 + LINE_HEIGHT * (k + 1) - 3:.1f}">{escape(line)}</tspan>'
            for k, line in enumerate(lines[i])
        )
        parts.append(
            f'<a href="{escape(href(i))}"><g class="node {escape(css_class.get(i, "not-run"))}">'
            f"<title>{escape(tooltip.get(i, i))}</title>"
            f'<rect x="{bx:.1f}" y="{by:.1f}" width="{w:.1f}" height="{h}" rx="4" '
            f'fill="{escape(fill.get(i, DEFAULT_FILL))}"/>'
            f'<text fill="#fff">{text}</text></g></a>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
