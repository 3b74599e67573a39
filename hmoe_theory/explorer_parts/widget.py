"""The explorer app: four tabs built from ipywidgets, for Jupyter, JupyterLab and Voila.

* **Relations** -- a catalogue gate x expert (or a typed function of inputs and parameters), dimension,
  order, mode, seed and an optional point ``theta_0``; shows the relations (interactions, trivial
  vanishing derivatives, theta-dependent relations with coefficient expressions) and identifiability
  (:func:`.family.explore_family`).
* **Curvature** -- a typed mean map ``Y``, its coordinates, constants and Sigma; *apply* turns the
  constants, the two plotted ranges, the other coordinates and the resolution into sliders; moving a
  slider writes its value, as a short decimal, into its text field (so *apply* keeps it) and recomputes the
  field (:func:`.curvature.explore_curvature`); the plotly heat map shows it (hover: coordinates and value;
  click: the value at that grid point, copied below the map).
* **Attention** -- one attention entry with a gate at each position (plain, G1 .. G5): the relations of every
  position side by side, the full list for the chosen one (:func:`.attention.explore_attention`) and the rate
  order of its over-specified fit (:func:`.attention.attention_rate_order`).
* **Gallery** -- the papers' examples (:mod:`.gallery`), loaded into the other tabs.

The computing tabs show their result in a monospace block, the equivalent Python call in a text area
("copy as code", :mod:`.snippets`) and download links (:mod:`.figures`). Every typed text goes through the
safe parsers of :mod:`hmoe_theory.expr`; an input error is one red line and clears the previous result, so
what is shown always belongs to the inputs shown. Computations run in a worker thread under a time limit
(field ``limit (s)``) with elapsed time and a *cancel* button (:mod:`.jobs`); the view lives in the page's
URL fragment (:mod:`.permalink`, :mod:`.urlstate`), so the address is a permalink.

Layout: widths are ``auto`` inside the app (flexible grid cells of at least 220 px; the 700 px heat map
and long result lines scroll inside their own box) and tab titles are short, so neither the page nor a
tab title overflows (checked in headless Chromium at 1000 px, and by eye at 600 px).
"""

from __future__ import annotations

import csv
import html
import io
from typing import Any

import math
import threading
from collections.abc import Callable

from ..errors import HmoeError, ModelError
from ..expr import parse_assignments, parse_name, parse_names
from . import permalink
from .gallery import GALLERY, example
from .jobs import DEFAULT_LIMIT_S, Job
from .snippets import attention_call, curvature_call, family_call

TAB_TITLES = ("Relations", "Curvature", "Attention", "Gallery")
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


def short_decimal(value: float, step: float) -> str:
    """``value`` with as many decimals as the slider ``step`` has, trailing zeros dropped:
    ``short_decimal(3.5999999999999996, 0.03) == "3.6"`` (what a slider shows and its text field receives)."""
    decimals = max(0, math.ceil(-math.log10(step))) if step > 0 else 6
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _entries(text: str) -> dict[str, str]:
    """``"u=-1:1, v=0:2*pi"`` -> ``{"u": "-1:1", "v": "0:2*pi"}`` (the split the safe parsers make; call
    after they accepted the text)."""
    return {parse_name(k): v.strip() for k, v in (p.split("=", 1) for p in text.split(",") if p.strip())}


class Progress:
    """Time limit, *cancel* button and elapsed time of one tab's computations (:class:`.jobs.Job`); a new
    computation cancels the running one (the latest request wins)."""

    def __init__(self, w: Any, what: str) -> None:
        self.what = what
        self.limit = w.BoundedIntText(value=DEFAULT_LIMIT_S, min=1, max=3600, description="limit (s)",
                                      style={"description_width": "60px"}, layout=w.Layout(width="150px"))
        self.cancel_button = w.Button(description="cancel", icon="stop", disabled=True, tooltip="stop the running computation",
                                      layout=w.Layout(width="100px"))
        self.bar = w.FloatProgress(value=0, min=0, max=1, layout=w.Layout(width="160px"))
        self.label = w.HTML()
        self.label.add_class("hmoe-progress")
        self.view = w.HBox([self.limit, self.cancel_button, self.bar, self.label],
                           layout=w.Layout(width="auto", flex_flow="row wrap", align_items="center"))
        self.job: Job | None = None
        self._shown = threading.Lock()  # one outcome shown at a time; a newer job cannot start mid-show
        self.cancel_button.on_click(lambda _button: self.cancel())

    def start(self, compute: Callable[[], Any], show: Callable[[Any, HmoeError | None], None]) -> Job:
        """Run ``compute()`` in the background; ``show(result, error)`` receives the outcome."""
        self.cancel()
        seconds = self.limit.value
        self.bar.max, self.bar.value, self.bar.bar_style = seconds, 0, "info"
        self.label.value = f"computing ... (limit {seconds} s)"
        self.cancel_button.disabled = False

        def tick(elapsed: float) -> None:
            if self.job is job:
                self.bar.value = min(elapsed, seconds)
                self.label.value = f"computing ... {elapsed:.0f} s of {seconds} s"

        def done(result: Any, error: HmoeError | None) -> None:
            with self._shown:  # check and show at once: an older outcome cannot overwrite a newer one
                if self.job is not job:  # superseded by a newer request: its outcome is not shown
                    return
                self.cancel_button.disabled = True
                self.bar.value, self.bar.bar_style = self.bar.max, "success" if error is None else "danger"
                self.label.value = f"{'done' if error is None else 'stopped'} after {job.elapsed:.1f} s"
                show(result, error)

        job = Job(compute, done, seconds=seconds, what=self.what, tick=tick)
        with self._shown:
            self.job = job
        return job.start()

    def cancel(self) -> None:
        """Stop the running computation, if any (its tab then shows 'cancelled')."""
        if self.job is not None and self.job.running:
            self.job.cancel()

    def wait(self, timeout: float = 300.0) -> None:
        """Block until the current computation has been shown (for scripts and tests)."""
        if self.job is not None and not self.job.wait(timeout):
            raise TimeoutError(f"{self.what} still running after {timeout:g} s")


class RelationsTab:
    """Controls and result of :func:`.family.explore_family`."""

    name = "relations"

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
        self.progress = Progress(w, "relation search")
        self.result = w.HTML(result_html("press 'find relations'"))
        self.code = _code_area(w)
        self.export = w.HTML()
        self.on_run: Callable[[Any], None] = lambda _tab: None
        self.link_controls = (self.gate, self.expert, self.mode, self.dimension, self.order, self.seed, self.point, self.function,
                        self.inputs, self.params, self.positive)
        self.button.on_click(self.run)
        self.view = w.VBox(
            [
                _grid(w, [self.gate, self.expert, self.mode, self.dimension, self.order, self.seed]),
                self.point,
                w.HTML("<b>or type a function</b> (used when not empty):"),
                self.function,
                _grid(w, [self.inputs, self.params, self.positive]),
                self.button,
                self.progress.view,
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

    def texts(self) -> dict[str, str]:
        """The view as permalink fields (:mod:`.permalink`)."""
        arguments = self.arguments()
        return {k: "" if v is None else str(v) for k, v in arguments.items()}

    def load(self, arguments: dict[str, Any]) -> None:
        """Set the controls from ``explore_family`` keyword arguments (a gallery entry)."""
        self.function.value = arguments.get("function", "")
        self.inputs.value = arguments.get("inputs", "")
        self.params.value = arguments.get("params", "")
        self.positive.value = arguments.get("positive", "") or ""
        self.point.value = arguments.get("point", "") or ""
        if "gate" in arguments:
            for control, key in ((self.gate, "gate"), (self.expert, "expert"), (self.mode, "mode")):
                if key in arguments and arguments[key] not in control.options:
                    raise ModelError(f"unknown {key} {arguments[key]!r} (one of {', '.join(control.options)})")
            self.gate.value, self.expert.value = arguments["gate"], arguments["expert"]
            self.dimension.value, self.mode.value = arguments.get("d", 1), arguments.get("mode", "regression")
        self.order.value, self.seed.value = arguments.get("order", 2), arguments.get("seed", 0)

    def load_texts(self, values: dict[str, str]) -> None:
        """Set the controls from permalink fields."""
        arguments: dict[str, Any] = {k: values[k] for k in ("function", "inputs", "params", "positive", "point") if k in values}
        if not values.get("function"):
            arguments.update(gate=values.get("gate", "softmax-linear"), expert=values.get("expert", "linear"),
                             mode=values.get("mode", "regression"), d=_bounded(values, "d", 1, self.dimension))
        arguments.update(order=_bounded(values, "order", 2, self.order), seed=_bounded(values, "seed", 0, self.seed))
        self.load(arguments)

    def run(self, _button: Any = None) -> None:
        from .family import explore_family

        arguments = self.arguments()
        self.code.value = family_call(**arguments)
        self.on_run(self)
        self.result.value = result_html("computing ...")
        self.progress.start(lambda: explore_family(**arguments), self.show)

    def show(self, report: Any, error: HmoeError | None) -> None:
        """The report (or the one-line error, which replaces any previous result)."""
        from .figures import download_link

        if error is not None:
            self.result.value = result_html(f"error: {error}", error=True)
            self.export.value = ""
            return
        table = io.StringIO()
        csv.writer(table, lineterminator="\n").writerows([("kind", "status", "relation"), *report.relation_rows()])
        self.export.value = "export: " + download_link(table.getvalue(), "relations.csv", "text/csv") + download_link(
            report.discovery.to_json(), "discovery.json", "application/json"
        )
        self.result.value = result_html(str(report))


class CurvatureTab:
    """Text inputs, sliders, live heat map and result of :func:`.curvature.explore_curvature`."""

    name = "curvature"

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
        self.progress = Progress(w, "curvature field")
        self.plot: Any = None
        self.plot_box = w.Box(layout=w.Layout(width="auto", overflow="auto"))
        self.result = w.HTML(result_html("press 'apply'"))
        self.probe = w.HTML()
        self.code = _code_area(w)
        self.export_button = w.Button(description="prepare downloads", icon="download", tooltip="PNG, SVG and CSV of the field")
        self.export = w.HTML()
        self.field: Any = None
        self.on_run: Callable[[Any], None] = lambda _tab: None
        self._controls: dict[str, Any] = {}
        self._texts: dict[str, str] = {}  # each slider's text in the ranges / constants field
        self.link_controls = (self.map, self.coords, self.ranges, self.sets, self.sigma, self.resolution)
        self.button.on_click(self.apply)
        self.export_button.on_click(self.prepare_downloads)
        self.resolution.observe(self.redraw, names="value")
        self.view = w.VBox(
            [
                self.map,
                _grid(w, [self.coords, self.ranges, self.sets, self.sigma]),
                self.button,
                w.HTML("<b>sliders</b> (release to recompute; the text fields follow):"),
                self.sliders,
                self.resolution,
                self.progress.view,
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

    def texts(self) -> dict[str, str]:
        """The view as permalink fields (:mod:`.permalink`)."""
        return {"map": self.map.value, "coords": self.coords.value, "ranges": self.ranges.value, "sets": self.sets.value,
                "sigma": self.sigma.value, "resolution": str(self.resolution.value)}

    def load_texts(self, values: dict[str, str]) -> None:
        """Set the text inputs from permalink fields (absent ones keep their value)."""
        for key, control in (("map", self.map), ("coords", self.coords), ("ranges", self.ranges), ("sets", self.sets), ("sigma", self.sigma)):
            if key in values:
                control.value = values[key]
        resolution = _bounded(values, "resolution", self.resolution.value, self.resolution)
        self.resolution.unobserve(self.redraw, names="value")  # apply() draws once
        self.resolution.value = resolution
        self.resolution.observe(self.redraw, names="value")

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

    def show_error(self, error: HmoeError) -> None:
        """One red line; the previous field, its map, probe and downloads are removed (they no longer match)."""
        self.field, self.plot = None, None
        self.plot_box.children = []
        self.probe.value = self.export.value = ""
        self.result.value = result_html(f"error: {error}", error=True)

    def apply(self, _button: Any = None) -> None:
        """Parse the text inputs (safe parser), rebuild the sliders, draw."""
        from .curvature import parse_ranges

        try:
            coords = parse_names(self.coords.value)
            bounds = parse_ranges(self.ranges.value)
            values = parse_assignments(self.sets.value) if self.sets.value.strip() else {}
            controls = {name: self._slider(name, lo, (lo, hi)) for name, (lo, hi) in bounds.items()}
            controls.update({name: self._slider(name, float(value)) for name, value in values.items() if name not in bounds})
        except HmoeError as exc:
            self.show_error(exc)
            return
        for control in self._controls.values():
            control.unobserve(self.slid, names="value")
        self._controls, self._coords = controls, coords
        self._texts = {**_entries(self.ranges.value), **_entries(self.sets.value)}
        for control in controls.values():
            control.observe(self.slid, names="value")
        self.sliders.children = list(controls.values())
        self.redraw()

    def slid(self, change: dict[str, Any]) -> None:
        """A slider moved: its value, as a short decimal, goes into its text field; then the field is redrawn."""
        slider, value = change["owner"], change["new"]
        step = slider.step
        self._texts[slider.description] = (
            ":".join(short_decimal(v, step) for v in value) if isinstance(value, tuple) else short_decimal(value, step)
        )
        ranges = [k for k, c in self._controls.items() if isinstance(c.value, tuple)]
        self.ranges.value = ", ".join(f"{k}={self._texts[k]}" for k in ranges)
        self.sets.value = ", ".join(f"{k}={self._texts[k]}" for k in self._controls if k not in ranges)
        self.redraw()

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``explore_curvature``: the text fields as the sliders left them."""
        ranges = [k for k, c in self._controls.items() if isinstance(c.value, tuple)]
        sets = ", ".join(f"{k}={self._texts[k]}" for k in self._controls if k not in ranges)
        return {
            "map_text": self.map.value, "coords": self.coords.value,
            "ranges": ", ".join(f"{k}={self._texts[k]}" for k in ranges), "sets": sets or None,
            "sigma": self.sigma.value.strip() or None, "resolution": self.resolution.value,
        }

    def redraw(self, _change: Any = None) -> None:
        """Recompute the field (in the background) and show it in a new heat map."""
        from .curvature import explore_curvature

        if not self._controls:
            return
        arguments = self.arguments()
        self.code.value = curvature_call(**arguments)
        self.on_run(self)
        self.result.value = result_html("computing ...")
        self.progress.start(lambda: explore_curvature(**arguments), self.show)

    def show(self, field: Any, error: HmoeError | None) -> None:
        """The field as a heat map and its summary (or the one-line error, which removes the old map)."""
        if error is not None:
            self.show_error(error)
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


class AttentionTab:
    """Relations of one attention entry at every gate position (:func:`.attention.explore_attention`)."""

    name = "attention"

    def __init__(self, w: Any) -> None:
        from ..attention.families import PARAMETRISATIONS, POSITIONS

        wide = {"style": {"description_width": "80px"}, "layout": w.Layout(width="auto")}
        self.position = w.Dropdown(options=list(POSITIONS), value="G2", description="position", **wide)
        self.tokens = w.IntSlider(value=2, min=1, max=3, description="tokens N", **wide)
        self.dim = w.IntSlider(value=1, min=1, max=2, description="dim d", **wide)
        self.heads = w.IntSlider(value=1, min=1, max=2, description="heads H", **wide)
        self.param = w.Dropdown(options=list(PARAMETRISATIONS), value="hmoe", description="param", **wide)
        self.temperature = w.Checkbox(value=False, description="free temperature tau", indent=False, layout=w.Layout(width="auto"))
        self.order = w.IntSlider(value=2, min=1, max=3, description="order", **wide)
        self.seed = w.BoundedIntText(value=0, min=0, max=10**6, description="seed", **wide)
        self.button = w.Button(description="compare positions", button_style="primary", icon="search")
        self.progress = Progress(w, "attention relations")
        self.result = w.HTML(result_html("press 'compare positions'"))
        self.code = _code_area(w)
        self.on_run: Callable[[Any], None] = lambda _tab: None
        self.link_controls = (self.position, self.tokens, self.dim, self.heads, self.param, self.temperature, self.order, self.seed)
        self.button.on_click(self.run)
        self.view = w.VBox(
            [
                w.HTML("entry (1, 1) of one attention layer, the gate at each position; relations among F and its "
                       "derivatives up to the order, at a generic point"),
                _grid(w, [self.position, self.tokens, self.dim, self.heads, self.param, self.order, self.seed, self.temperature]),
                self.button,
                self.progress.view,
                self.result,
                self.code,
            ],
            layout=w.Layout(width="auto"),
        )

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``explore_attention`` for the chosen position."""
        return {"position": self.position.value, "tokens": self.tokens.value, "dim": self.dim.value, "heads": self.heads.value,
                "param": self.param.value, "temperature": self.temperature.value, "order": self.order.value, "seed": self.seed.value}

    def texts(self) -> dict[str, str]:
        """The view as permalink fields (:mod:`.permalink`)."""
        return {k: str(int(v) if isinstance(v, bool) else v) for k, v in self.arguments().items()}

    def load_texts(self, values: dict[str, str]) -> None:
        """Set the controls from permalink fields."""
        for key, control in (("position", self.position), ("param", self.param)):
            if key in values:
                if values[key] not in control.options:
                    raise ModelError(f"unknown {key} {values[key]!r} (one of {', '.join(control.options)})")
                control.value = values[key]
        for key, control in (("tokens", self.tokens), ("dim", self.dim), ("heads", self.heads), ("order", self.order), ("seed", self.seed)):
            control.value = _bounded(values, key, control.value, control)
        self.temperature.value = values.get("temperature", "0") in ("1", "true", "True")

    def run(self, _button: Any = None) -> None:
        from ..attention.families import POSITIONS
        from .attention import attention_rate_order, explore_attention

        arguments = self.arguments()
        self.code.value = attention_call(**arguments)
        self.on_run(self)
        self.result.value = result_html("computing ...")
        chosen = arguments.pop("position")

        def compute() -> tuple[str, dict[str, Any], Any]:
            reports = {p: explore_attention(p, **arguments) for p in POSITIONS}
            if arguments["dim"] != 1 or arguments["param"] != "hmoe":
                return chosen, reports, "rate order: computed for d = 1 and the hmoe parametrisation only"
            try:
                order = attention_rate_order(chosen, arguments["tokens"], arguments["heads"])
            except HmoeError as exc:
                return chosen, reports, f"rate order: {exc}"
            return chosen, reports, f"rate order ({arguments['heads'] + 1} heads fitted to {arguments['heads']}):\n{order.text()}"

        self.progress.start(compute, self.show)

    def show(self, outcome: Any, error: HmoeError | None) -> None:
        """A table over the positions, then the relations of the chosen one (or the one-line error)."""
        if error is not None:
            self.result.value = result_html(f"error: {error}", error=True)
            return
        chosen, reports, rate = outcome
        header = ("position", "params", "relations", "constant", "theta-dep.", "with gate", "strongly identifiable")
        rows = [header] + [
            (p, str(r["params"]), str(r["relations"]), str(r["constant"]), str(r["theta_dependent"]), str(r["with_gate"]),
             "yes" if r["strongly_identifiable"] else "no")
            for p, r in ((p, report.row()) for p, report in reports.items())
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        table = "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)
        self.result.value = result_html(f"{table}\n\n{reports[chosen]}\n\n{rate}")


def _bounded(values: dict[str, str], key: str, default: int, control: Any) -> int:
    """An integer permalink field within ``control``'s min / max, else a one-line ModelError."""
    value = permalink.as_int(values, key, default)
    if not control.min <= value <= control.max:
        raise ModelError(f"permalink: {key} must be in [{control.min}, {control.max}], got {value}")
    return value


class App:
    """The tabs, the gallery and the permalink of the view (the URL fragment, :mod:`.urlstate`)."""

    def __init__(self, w: Any, figures: Any) -> None:
        from .urlstate import UrlFragment

        self.relations, self.curvature, self.attention = RelationsTab(w), CurvatureTab(w, figures), AttentionTab(w)
        self.computing = (self.relations, self.curvature, self.attention)
        self.choice = w.Select(options=[e.title for e in GALLERY], rows=len(GALLERY), layout=w.Layout(width="auto"))
        self.shows = w.HTML()
        self.load_button = w.Button(description="load and run", button_style="primary", icon="play")
        gallery = w.VBox([self.choice, self.shows, self.load_button], layout=w.Layout(width="auto"))
        self.tabs = w.Tab(children=[*(t.view for t in self.computing), gallery], layout=w.Layout(width="auto"))
        for index, title in enumerate(TAB_TITLES):
            self.tabs.set_title(index, title)
        self.url = UrlFragment()
        self.link = w.HTML()
        self.link.add_class("hmoe-permalink")
        for tab in self.computing:  # the address follows every input (and so shows that the kernel has it)
            tab.on_run = self.publish
            for control in tab.link_controls:
                control.observe(lambda _change, tab=tab: self.publish(tab), names="value")
        self.choice.observe(self.describe, names="value")
        self.load_button.on_click(self.run_example)
        self.url.observe(lambda change: self.open(change["new"]), names="page")
        self.describe()
        self.view = w.VBox(
            [w.HTML("<b>hmoe explorer</b>: parameter relations of a family or of gated attention, Fisher-Rao curvature of a mean map"),
             self.tabs, self.link, self.url],
            layout=w.Layout(width="auto", max_width="1200px"),
        )
        self.view.add_class("hmoe-explorer")

    def publish(self, tab: Any) -> None:
        """The view of ``tab`` becomes the page's URL fragment (and the permalink line)."""
        fragment = permalink.encode(tab.name, tab.texts())
        self.url.fragment = fragment
        self.link.value = (f"<span style='{MONOSPACE}; font-size: 12px'>permalink of this view: "
                           f"<a href='#{html.escape(fragment)}'>#{html.escape(fragment)}</a></span>")

    def open(self, fragment: str) -> None:
        """Show the view a permalink describes (select its tab, set its inputs, compute); a bad link is one red line."""
        try:
            name, values = permalink.decode(fragment)
            tab = next(t for t in self.computing if t.name == name)
            self.tabs.selected_index = self.computing.index(tab)
            tab.load_texts(values)
        except HmoeError as exc:
            self.link.value = result_html(f"error: {exc}", error=True)
            return
        if tab is self.curvature:
            tab.apply()
        else:
            tab.run()

    def describe(self, _change: Any = None) -> None:
        entry = example(self.choice.value)
        call = family_call(**entry.arguments) if entry.kind == "family" else curvature_call(**entry.arguments)
        self.shows.value = f"<p>{html.escape(entry.shows)}</p>" + result_html(call)

    def run_example(self, _button: Any = None) -> None:
        entry = example(self.choice.value)
        if entry.kind == "family":
            self.relations.load(entry.arguments)
            self.tabs.selected_index = 0
            self.relations.run()
        else:
            self.curvature.load(entry.arguments)
            self.tabs.selected_index = 1
            self.curvature.apply()


def build() -> Any:
    """The app: a ``VBox`` holding the four tabs (see the module docstring); the default map is drawn from the
    start. The ``VBox`` carries ``relations``, ``curvature``, ``attention``, ``tabs``, ``gallery`` and ``app``
    (the :class:`App`) for tests and scripting."""
    w, figures = _imports()
    app = App(w, figures)
    app.curvature.apply()
    view = app.view
    view.relations, view.curvature, view.attention, view.tabs = app.relations, app.curvature, app.attention, app.tabs
    view.gallery, view.app = (app.choice, app.load_button), app
    return view
