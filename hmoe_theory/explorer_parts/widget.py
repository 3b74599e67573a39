"""The explorer app: three tabs built from ipywidgets, for Jupyter, JupyterLab and Voila.

* **Relations** -- a catalogue gate x expert (or a typed function of inputs and parameters), dimension,
  order, mode, seed and an optional point ``theta_0``; shows the relations (interactions, trivial
  vanishing derivatives, theta-dependent relations with coefficient expressions) and identifiability
  (:func:`hmoe_theory.explorer.explore_family`).
* **Curvature** -- a typed mean map ``Y``, its coordinates, constants and Sigma; *apply* turns the
  constants, the two plotted ranges, the other coordinates and the resolution into sliders; moving a
  slider recomputes the field (:func:`hmoe_theory.explorer.explore_curvature`) and redraws the
  plotly heat map (hover: coordinates and value; click: the value at that grid point, copied below the map).
* **Gallery** -- the papers' examples (:mod:`.gallery`), loaded into the other tabs.

Both computing tabs show their result in a monospace block, the equivalent Python call in a text
area ("copy as code", :mod:`.snippets`) and download links (:mod:`.figures`). Every typed text goes
through the safe parsers of :mod:`hmoe_theory.expr`; an input error is shown as one line.

Layout: widths are ``auto`` inside the app (flexible grid cells of at least 220 px; the 700 px heat map
and long result lines scroll inside their own box) and tab titles are short, so neither the page nor a
tab title overflows (checked in headless Chromium at 1000 px, and by eye at 600 px).
"""

from __future__ import annotations

import csv
import html
import io
from typing import Any

from ..errors import HmoeError
from ..expr import parse_assignments, parse_names
from .gallery import GALLERY, example
from .snippets import curvature_call, family_call

TAB_TITLES = ("Relations", "Curvature", "Gallery")
MONOSPACE = "font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, DejaVu Sans Mono, monospace"


def _imports() -> tuple[Any, Any]:
    try:
        import ipywidgets as w
    except ImportError:
        raise HmoeError(
            "ipywidgets is not installed (pip install 'hmoe-theory[notebooks]'); "
            "use explore_family(...) and explore_curvature(...) directly"
        ) from None
    try:
        import anywidget  # noqa: F401  (plotly's FigureWidget runs on it)
        import plotly.graph_objects  # noqa: F401
    except ImportError:
        raise HmoeError(
            "plotly and anywidget are needed for the live heat map (pip install 'hmoe-theory[notebooks]'); "
            "use explore_family(...) and explore_curvature(...) directly"
        ) from None
    from . import figures

    return w, figures


def result_html(text: str, error: bool = False) -> str:
    """A monospace block (long lines scroll inside it); errors in red."""
    colour = "#b00020" if error else "inherit"
    return (
        f"<pre class='hmoe-result' style='{MONOSPACE}; font-size: 12.5px; line-height: 1.35; white-space: pre; "
        f"overflow-x: auto; max-width: 100%; margin: 4px 0; color: {colour}'>{html.escape(text)}</pre>"
    )


def _grid(w: Any, children: list[Any], minimum: str = "220px") -> Any:
    return w.GridBox(
        children,
        layout=w.Layout(grid_template_columns=f"repeat(auto-fill, minmax({minimum}, 1fr))", grid_gap="4px 12px", width="auto"),
    )


def _text(w: Any, description: str, value: str = "", placeholder: str = "") -> Any:
    return w.Text(  # synced on Enter or leaving the field: fast typing loses no characters
        value=value, placeholder=placeholder, description=description, continuous_update=False,
        style={"description_width": "80px"}, layout=w.Layout(width="auto"),
    )


def _code_area(w: Any) -> Any:
    return w.Textarea(
        description="code", style={"description_width": "80px"},
        layout=w.Layout(width="auto", height="110px"),
        tooltip="the equivalent Python call: select all and copy",
    )


class RelationsTab:
    """Controls and result of :func:`hmoe_theory.explorer.explore_family`."""

    def __init__(self, w: Any) -> None:
        from ..families import EXPERTS, GATES, MODES

        wide = {"style": {"description_width": "80px"}, "layout": w.Layout(width="auto")}
        self.gate = w.Dropdown(options=list(GATES), value="softmax-linear", description="gate", **wide)
        self.expert = w.Dropdown(options=list(EXPERTS), value="linear", description="expert", **wide)
        self.mode = w.Dropdown(options=list(MODES), value="regression", description="mode", **wide)
        self.dimension = w.IntSlider(value=1, min=1, max=3, description="d", **wide)
        self.order = w.IntSlider(value=2, min=1, max=3, description="order", **wide)
        self.seed = w.BoundedIntText(value=0, min=0, max=10**6, description="seed", **wide)
        self.point = _text(w, "theta_0", placeholder="optional, e.g. a_1=1/2, alpha=-3")
        self.function = _text(w, "function", placeholder="optional, e.g. exp(b*x)*(a*x + c)")
        self.inputs = _text(w, "inputs", placeholder="x")
        self.params = _text(w, "params", placeholder="a, b, c")
        self.positive = _text(w, "positive", placeholder="optional, e.g. v")
        self.button = w.Button(description="find relations", button_style="primary", icon="search")
        self.result = w.HTML(result_html("press 'find relations'"))
        self.code = _code_area(w)
        self.export = w.HTML()
        self.button.on_click(self.run)
        self.view = w.VBox(
            [
                _grid(w, [self.gate, self.expert, self.mode, self.dimension, self.order, self.seed]),
                self.point,
                w.HTML("<b>or type a function</b> (used when not empty):"),
                self.function,
                _grid(w, [self.inputs, self.params, self.positive]),
                self.button,
                self.result,
                self.code,
                self.export,
            ],
            layout=w.Layout(width="auto"),
        )

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``explore_family`` for the current state."""
        common = {"order": self.order.value, "seed": self.seed.value, "point": self.point.value.strip() or None}
        if self.function.value.strip():
            return {
                "function": self.function.value, "inputs": self.inputs.value, "params": self.params.value,
                "positive": self.positive.value.strip() or None, **common,
            }
        return {"gate": self.gate.value, "expert": self.expert.value, "d": self.dimension.value, "mode": self.mode.value, **common}

    def load(self, arguments: dict[str, Any]) -> None:
        """Set the controls from ``explore_family`` keyword arguments (a gallery entry)."""
        self.function.value = arguments.get("function", "")
        self.inputs.value = arguments.get("inputs", "")
        self.params.value = arguments.get("params", "")
        self.positive.value = arguments.get("positive", "") or ""
        self.point.value = arguments.get("point", "") or ""
        if "gate" in arguments:
            self.gate.value, self.expert.value = arguments["gate"], arguments["expert"]
            self.dimension.value, self.mode.value = arguments.get("d", 1), arguments.get("mode", "regression")
        self.order.value, self.seed.value = arguments.get("order", 2), arguments.get("seed", 0)

    def run(self, _button: Any = None) -> None:
        from ..explorer import explore_family
        from .figures import download_link

        self.result.value = result_html("computing ...")
        arguments = self.arguments()
        self.code.value = family_call(**arguments)
        try:
            report = explore_family(**arguments)
        except HmoeError as exc:
            self.result.value = result_html(f"error: {exc}", error=True)
            self.export.value = ""
            return
        self.result.value = result_html(str(report))
        table = io.StringIO()
        csv.writer(table, lineterminator="\n").writerows([("kind", "status", "relation"), *report.relation_rows()])
        rows = table.getvalue()
        self.export.value = "export: " + download_link(rows, "relations.csv", "text/csv") + download_link(
            report.discovery.to_json(), "discovery.json", "application/json"
        )


class CurvatureTab:
    """Text inputs, sliders, live heat map and result of :func:`hmoe_theory.explorer.explore_curvature`."""

    def __init__(self, w: Any, figures: Any) -> None:
        self.w, self.figures = w, figures
        self.map = _text(w, "map Y", "[R*cos(u)*cos(v), R*cos(u)*sin(v), R*sin(u)]")
        self.coords = _text(w, "coords", "u, v")
        self.ranges = _text(w, "ranges", "u=-1.2:1.2, v=0:2*pi")
        self.sets = _text(w, "constants", "R=2", placeholder="constants and other coordinates, e.g. R=2")
        self.sigma = _text(w, "Sigma", placeholder="identity; or D variances; or D*D entries")
        self.button = w.Button(description="apply", button_style="primary", icon="refresh", tooltip="parse the text and rebuild the sliders")
        self.resolution = w.IntSlider(value=61, min=9, max=201, step=4, description="resolution", continuous_update=False,
                                      style={"description_width": "80px"}, layout=w.Layout(width="auto"))
        self.sliders = _grid(w, [], "300px")
        self.plot: Any = None
        self.plot_box = w.Box(layout=w.Layout(width="auto", overflow="auto"))
        self.result = w.HTML(result_html("press 'apply'"))
        self.probe = w.HTML()
        self.code = _code_area(w)
        self.export_button = w.Button(description="prepare downloads", icon="download", tooltip="PNG, SVG and CSV of the field")
        self.export = w.HTML()
        self.field: Any = None
        self._controls: dict[str, Any] = {}
        self.button.on_click(self.apply)
        self.export_button.on_click(self.prepare_downloads)
        self.resolution.observe(self.redraw, names="value")
        self.view = w.VBox(
            [
                self.map,
                _grid(w, [self.coords, self.ranges, self.sets, self.sigma]),
                self.button,
                w.HTML("<b>sliders</b> (release to recompute):"),
                self.sliders,
                self.resolution,
                self.plot_box,
                self.result,
                self.probe,
                self.code,
                w.HBox([self.export_button, self.export], layout=w.Layout(width="auto", flex_flow="row wrap")),
            ],
            layout=w.Layout(width="auto"),
        )

    def load(self, arguments: dict[str, Any]) -> None:
        """Set the text inputs from ``explore_curvature`` keyword arguments (a gallery entry)."""
        self.map.value, self.coords.value = arguments["map_text"], arguments["coords"]
        self.ranges.value = ", ".join(f"{k}={lo!r}:{hi!r}" for k, (lo, hi) in arguments["ranges"].items())
        self.sets.value = ", ".join(f"{k}={v!r}" for k, v in arguments.get("sets", {}).items())
        self.sigma.value = arguments.get("sigma", "") or ""
        self.resolution.value = arguments.get("resolution", 61)

    def _slider(self, name: str, value: float, span: tuple[float, float] | None = None) -> Any:
        w = self.w
        common = {"description": name, "continuous_update": False, "readout_format": ".3g",
                  "style": {"description_width": "80px"}, "layout": w.Layout(width="auto")}
        if span is None:
            width = max(1.0, 2 * abs(value))
            return w.FloatSlider(value=value, min=value - width, max=value + width, step=width / 100, **common)
        low, high = span
        width = high - low
        common["readout_format"] = ".2g"  # the range readout box holds about ten characters
        return w.FloatRangeSlider(value=(low, high), min=low - width, max=high + width, step=width / 200, **common)

    def apply(self, _button: Any = None) -> None:
        """Parse the text inputs (safe parser), rebuild the sliders, draw."""
        from ..explorer import parse_ranges

        try:
            coords = parse_names(self.coords.value)
            bounds = parse_ranges(self.ranges.value)
            values = parse_assignments(self.sets.value) if self.sets.value.strip() else {}
        except HmoeError as exc:
            self.result.value = result_html(f"error: {exc}", error=True)
            return
        controls = {name: self._slider(name, float(lo_hi[0]), lo_hi) for name, lo_hi in bounds.items()}
        controls.update({name: self._slider(name, float(value)) for name, value in values.items()})
        for control in self._controls.values():
            control.unobserve(self.redraw, names="value")
        self._controls = controls
        for control in controls.values():
            control.observe(self.redraw, names="value")
        self.sliders.children = list(controls.values())
        self._coords = coords
        self.redraw()

    def state(self) -> dict[str, Any]:
        """The keyword arguments of ``explore_curvature`` given by the sliders."""
        ranges = {k: tuple(c.value) for k, c in self._controls.items() if isinstance(c.value, tuple)}
        sets = {k: c.value for k, c in self._controls.items() if not isinstance(c.value, tuple)}
        return {
            "map_text": self.map.value, "coords": self.coords.value, "ranges": ranges, "sets": sets,
            "sigma": self.sigma.value.strip() or None, "resolution": self.resolution.value,
        }

    def redraw(self, _change: Any = None) -> None:
        """Recompute the field from the slider state and update the heat map in place."""
        from ..explorer import explore_curvature

        if not self._controls:
            return
        state = self.state()
        self.code.value = curvature_call(**state)
        try:
            field = explore_curvature(**state)
        except HmoeError as exc:
            self.result.value = result_html(f"error: {exc}", error=True)
            return
        self.field = field
        self.plot = self.figures.figure_widget(field)
        self.plot.data[0].on_click(self.show_point)
        self.plot_box.children = [self.plot]
        self.result.value = result_html(str(field))
        self.probe.value = ""
        self.export.value = ""

    def prepare_downloads(self, _button: Any = None) -> None:
        """Download links (PNG, SVG, CSV) for the current field (built on demand: ~1 s)."""
        if self.field is not None:
            self.export.value = self.figures.export_links(self.field)

    def show_point(self, _trace: Any, points: Any, _state: Any = None) -> None:
        """Clicked grid point: its coordinates and the curvature there (full precision)."""
        if self.field is None or not points.point_inds:
            return
        j, i = points.point_inds[0]  # plotly heat maps index [row (axis 1), column (axis 0)]
        self.probe.value = result_html(self.point_text(i, j))

    def point_text(self, i: int, j: int) -> str:
        """Text for grid point ``(i, j)`` of the current field."""
        field = self.field
        (a, b), symbol = field.axes, field.quantity.split()[-1]
        return f"point {a} = {field.U[i, j]:.12g}, {b} = {field.V[i, j]:.12g}:  {symbol} = {field.values[i, j]:.15g}"


def build() -> Any:
    """The app: a ``VBox`` holding the three tabs (see the module docstring)."""
    w, figures = _imports()
    relations = RelationsTab(w)
    curvature = CurvatureTab(w, figures)
    choice = w.Select(options=[e.title for e in GALLERY], rows=len(GALLERY), layout=w.Layout(width="auto"))
    shows = w.HTML()
    load = w.Button(description="load and run", button_style="primary", icon="play")
    tabs = w.Tab(children=[relations.view, curvature.view, w.VBox([choice, shows, load], layout=w.Layout(width="auto"))],
                 layout=w.Layout(width="auto"))
    for index, title in enumerate(TAB_TITLES):
        tabs.set_title(index, title)

    def describe(_change: Any = None) -> None:
        entry = example(choice.value)
        call = family_call(**entry.arguments) if entry.kind == "family" else curvature_call(**entry.arguments)
        shows.value = f"<p>{html.escape(entry.shows)}</p>" + result_html(call)

    def run_example(_button: Any = None) -> None:
        entry = example(choice.value)
        if entry.kind == "family":
            relations.load(entry.arguments)
            tabs.selected_index = 0
            relations.run()
        else:
            curvature.load(entry.arguments)
            tabs.selected_index = 1
            curvature.apply()

    choice.observe(describe, names="value")
    load.on_click(run_example)
    describe()
    curvature.apply()  # the default map is drawn from the start
    app = w.VBox(
        [w.HTML("<b>hmoe explorer</b>: parameter relations of a family, Fisher-Rao curvature of a mean map"), tabs],
        layout=w.Layout(width="auto", max_width="1200px"),
    )
    app.add_class("hmoe-explorer")
    app.relations, app.curvature, app.tabs, app.gallery = relations, curvature, tabs, (choice, load)  # for tests and scripting
    return app


