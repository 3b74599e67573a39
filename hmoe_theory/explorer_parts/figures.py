"""The curvature field as a live plotly heat map (hover shows the coordinates and the value) and its
exports: PNG / SVG (the matplotlib figure of :meth:`~hmoe_theory.explorer.CurvatureField.figure`)
and CSV (one row per grid point).

Colour: a field that changes sign (or is constant) uses a diverging scale centred at 0 (``zmid=0``),
so red is positive and blue negative curvature; a one-signed field uses a sequential scale.

Why plotly: its ``FigureWidget`` (anywidget) renders in Jupyter, JupyterLab and Voila, has hover,
zoom and PNG download built in, and is actively maintained (bqplot has no built-in image export and
a slower release cadence); a 201 x 201 heat map is redrawn in well under a second.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .curvature import CurvatureField


def colour_style(values: np.ndarray) -> dict[str, Any]:
    """plotly colour settings: a diverging scale on [-m, m] (0 is white) unless the field has one strict
    sign; a constant field (to 1e-9) gets m = max(|value|, 1), so rounding noise is not drawn."""
    low, high = float(np.min(values)), float(np.max(values))
    span = max(abs(low), abs(high))
    constant = high - low <= 1e-9 * max(span, 1.0)
    if constant or low < 0 < high:
        limit = max(span, 1.0) if constant else span
        return {"colorscale": "RdBu", "reversescale": True, "zmin": -limit, "zmax": limit}
    return {"colorscale": "Viridis", "reversescale": False, "zmin": low, "zmax": high}


def heatmap_trace(field: CurvatureField) -> dict[str, Any]:
    """Keyword arguments of a ``plotly.graph_objects.Heatmap`` for the field (z indexed [axis 1, axis 0])."""
    a, b = field.axes
    symbol = field.quantity.split()[-1]
    return {
        "x": field.U[:, 0].tolist(),
        "y": field.V[0, :].tolist(),
        "z": field.values.T.tolist(),
        "hovertemplate": f"{a} = %{{x:.4g}}<br>{b} = %{{y:.4g}}<br>{symbol} = %{{z:.6g}}<extra></extra>",
        "colorbar": {"title": {"text": symbol}},
        **colour_style(field.values),
    }


def title(field: CurvatureField) -> str:
    """``K of Y = ...: K in [lo, hi]`` (or ``K = c everywhere``)."""
    symbol = field.quantity.split()[-1]
    low, high = float(field.values.min()), float(field.values.max())
    text = field.map_text if len(field.map_text) <= 60 else field.map_text[:57] + "..."
    if high - low <= 1e-9 * max(abs(low), abs(high), 1.0):
        return f"{symbol} of Y = {text}:  {symbol} = {low:.6g} everywhere"
    return f"{symbol} of Y = {text}:  {symbol} in [{low:.4g}, {high:.4g}]"


def figure_widget(field: CurvatureField) -> Any:
    """A plotly ``FigureWidget`` showing ``field`` (700 x 460 px; it scrolls inside a narrower container).

    The data and layout are given at construction: that is what reaches the page reliably (in-place
    restyling of a displayed widget dropped the x / y arrays in Voila), so each redraw builds a new one.
    """
    import plotly.graph_objects as go

    layout = go.Layout(
        height=460, margin={"l": 60, "r": 50, "t": 40, "b": 50}, modebar={"orientation": "v"},
        title={"text": title(field), "font": {"size": 12}, "x": 0.02},
        xaxis={"title": {"text": field.axes[0]}}, yaxis={"title": {"text": field.axes[1]}},
    )
    return go.FigureWidget(data=[go.Heatmap(**heatmap_trace(field))], layout=layout)


def field_csv(field: CurvatureField) -> str:
    """CSV text: ``axis0,axis1,<symbol>`` then one row per grid point (17 significant digits)."""
    a, b = field.axes
    symbol = field.quantity.split()[-1]
    lines = [f"{a},{b},{symbol}"]
    lines += [f"{u:.17g},{v:.17g},{k:.17g}" for u, v, k in zip(field.U.ravel(), field.V.ravel(), field.values.ravel())]
    return "\n".join(lines) + "\n"


def field_image(field: CurvatureField, fmt: str) -> bytes:
    """The matplotlib heat map of the field as ``png`` or ``svg`` bytes."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"image format must be png or svg, got {fmt!r}")
    buffer = io.BytesIO()
    field.figure().savefig(buffer, format=fmt, dpi=150)
    return buffer.getvalue()


def download_link(data: bytes | str, filename: str, mime: str) -> str:
    """An HTML link that downloads ``data`` as ``filename`` (a data URI: no server round trip)."""
    raw = data.encode() if isinstance(data, str) else data
    encoded = base64.b64encode(raw).decode()
    return (
        f"<a download='{html.escape(filename)}' href='data:{mime};base64,{encoded}' "
        f"style='margin-right:1em' title='download {html.escape(filename)}'>{html.escape(filename)}</a>"
    )


def export_links(field: CurvatureField, stem: str = "curvature") -> str:
    """Download links for the field as PNG, SVG and CSV."""
    return "export: " + "".join(
        [
            download_link(field_image(field, "png"), f"{stem}.png", "image/png"),
            download_link(field_image(field, "svg"), f"{stem}.svg", "image/svg+xml"),
            download_link(field_csv(field), f"{stem}.csv", "text/csv"),
        ]
    )
