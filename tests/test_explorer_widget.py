"""Explorer v2 without a browser: the widget's state machine, copy-as-code, exports, the gallery, the
permalink, the attention tab and the background computations (time limit, cancel).

Computations run in a worker thread (:mod:`hmoe_theory.explorer_parts.jobs`): each test waits for the
outcome with ``progress.wait()`` before it reads the result.

(tests/test_browser_explorer.py drives the same app in headless Chromium under Voila.)
"""

import ast
import base64
import html
import re

import numpy as np
import pytest

from hmoe_theory.errors import ModelError
from hmoe_theory.explorer import explore_curvature, explore_family, explorer_widget, parse_sigma
from hmoe_theory.explorer_parts.figures import colour_style, download_link, field_csv, field_image, heatmap_trace
from hmoe_theory.explorer_parts.gallery import GALLERY, example
from hmoe_theory.explorer_parts.jobs import Cancelled, Job
from hmoe_theory.explorer_parts.permalink import decode, encode
from hmoe_theory.explorer_parts.snippets import attention_call, curvature_call, family_call
from hmoe_theory.explorer_parts.widget import short_decimal

pytest.importorskip("ipywidgets")
pytest.importorskip("plotly")


def _call(snippet: str) -> tuple[str, list, dict]:
    """The function name and literal arguments of the one assignment ``name = f(...)`` in a snippet."""
    calls = [n.value for n in ast.parse(snippet).body if isinstance(n, ast.Assign)]
    assert len(calls) == 1
    call = calls[0]
    return call.func.id, [ast.literal_eval(a) for a in call.args], {k.arg: ast.literal_eval(k.value) for k in call.keywords}


RUN = {"explore_family": explore_family, "explore_curvature": explore_curvature}


@pytest.fixture(scope="module")
def app():
    view = explorer_widget()
    view.curvature.progress.wait()
    return view


def _run(tab) -> None:
    """Press the tab's button and wait for the outcome."""
    tab.run() if hasattr(tab, "run") else tab.apply()
    tab.progress.wait()


def test_four_short_tab_titles_and_the_default_field_is_drawn(app):
    assert [app.tabs.get_title(i) for i in range(4)] == ["Relations", "Curvature", "Attention", "Gallery"]
    assert "min 0.25   max 0.25" in app.curvature.result.value
    trace = app.curvature.plot.data[0]
    assert len(trace.x) == 61 and trace.x[0] == -1.2 and np.allclose(np.array(trace.z), 0.25)
    assert "font-family: ui-monospace" in app.curvature.result.value


def test_relations_tab_result_and_copy_as_code_agree(app):
    rel = app.relations
    rel.function.value, rel.inputs.value, rel.params.value = "", "", ""
    rel.gate.value, rel.expert.value, rel.seed.value, rel.point.value = "quadratic-polynomial", "linear", 3, "a_1=2"
    _run(rel)
    assert "interaction (PDE)  [proved] dF/dA_1_1 - d2F/db_1^2 = 0" in rel.result.value
    assert "(1/a_1) d2F/db_1^2" in rel.result.value and "a_1=2" in rel.result.value
    name, args, kwargs = _call(rel.code.value)
    assert (name, args, kwargs) == ("explore_family", ["quadratic-polynomial", "linear"], {"seed": 3, "point": "a_1=2"})
    assert str(RUN[name](*args, **kwargs)) in html.unescape(rel.result.value)
    csv_text = base64.b64decode(re.search(r"download='relations.csv' href='data:text/csv;base64,([^']+)'", rel.export.value).group(1)).decode()
    assert csv_text.splitlines()[0] == "kind,status,relation" and "interaction (PDE),proved,dF/dA_1_1 - d2F/db_1^2 = 0" in csv_text
    assert "discovery.json" in rel.export.value


def test_typed_function_and_errors_in_one_line(app):
    rel = app.relations
    rel.function.value, rel.inputs.value, rel.params.value = "exp(b*x)*(a*x + c", "x", "a, b, c"
    _run(rel)
    assert rel.result.value.count("error:") == 1 and "cannot parse" in rel.result.value and "#b00020" in rel.result.value
    assert rel.export.value == ""  # the previous result's downloads are gone
    rel.function.value = "__import__('os').system('true')"
    _run(rel)
    assert "error:" in rel.result.value
    rel.function.value, rel.point.value = "exp(b*x)*tanh(a*x + c)", ""
    _run(rel)
    assert "[proved] dF/da - d2F/db dc = 0" in rel.result.value
    assert _call(rel.code.value)[2]["function"] == "exp(b*x)*tanh(a*x + c)"


def test_sliders_recompute_and_code_reproduces_the_field(app):
    cur = app.curvature
    cur.map.value, cur.coords.value = "[u*cos(v), u*sin(v), c*v]", "u, v"
    cur.ranges.value, cur.sets.value, cur.sigma.value = "u=-2:2, v=0:1", "c=3/2", ""
    _run(cur)
    assert set(cur._controls) == {"u", "v", "c"}
    cur._controls["c"].value = 2.0  # moving a slider recomputes
    cur.resolution.value = 21  # supersedes the computation the slider started
    cur.progress.wait()
    U = cur.field.U
    np.testing.assert_allclose(cur.field.values, -4 / (4 + U**2) ** 2, rtol=1e-10)
    name, args, kwargs = _call(cur.code.value)
    again = RUN[name](*args, **kwargs)
    np.testing.assert_array_equal(again.values, cur.field.values)
    assert args[2] == "u=-2:2, v=0:1" and kwargs == {"sets": "c=2", "resolution": 21}
    assert cur.point_text(0, 0) == f"point u = -2, v = 0:  K = {cur.field.values[0, 0]:.15g}"
    cur.prepare_downloads()
    assert cur.export.value.count("download=") == 3


def test_sigma_field_changes_the_metric_and_bad_sigma_is_one_line(app):
    cur = app.curvature
    cur.map.value, cur.coords.value, cur.ranges.value, cur.sets.value = "[u, v, u*v]", "u, v", "u=-1:1, v=-1:1", ""
    cur.sigma.value = "1, 1, 4"
    _run(cur)
    scaled = explore_curvature("[u, v, u*v/2]", "u, v", "u=-1:1, v=-1:1", resolution=cur.resolution.value)  # Sigma = diag(1,1,4) halves Y_3
    np.testing.assert_allclose(cur.field.values, scaled.values, rtol=1e-10, atol=1e-12)
    cur.sigma.value = "1, 2"
    _run(cur)
    assert "error: Sigma: expected 3 variances or 9 entries, got 2" in cur.result.value
    assert cur.field is None and cur.plot_box.children == ()  # the stale heat map is removed with the error


def test_parse_sigma():
    assert parse_sigma("", 3) is None and parse_sigma("identity", 2) is None
    assert parse_sigma("[1, 2]", 2) == [1, 2]
    assert parse_sigma("2, 1, 1, 2", 2) == [[2, 1], [1, 2]]
    with pytest.raises(ModelError):
        parse_sigma("1, 2, 3", 2)


def test_gallery_loads_and_runs_examples(app):
    choice, load = app.gallery
    choice.value = "helicoid (u cos v, u sin v, c v)"
    load.click()
    app.curvature.progress.wait()
    assert app.tabs.selected_index == 1 and "min -0.444444" in app.curvature.result.value
    choice.value = "Gaussian density: heat equation in the variance"
    load.click()
    app.relations.progress.wait()
    assert app.tabs.selected_index == 0 and "[proved] dF/dv - 1/2 d2F/dm^2 = 0" in app.relations.result.value


def test_every_gallery_statement_holds():
    curvature = {e.title: explore_curvature(**e.arguments, resolution=31) for e in GALLERY if e.kind == "curvature"}
    witness = curvature["sigmoid-gated witness: gates bend the Fisher-Rao metric"]
    assert witness.values[15, 15] == pytest.approx(1.9592883465, abs=1e-9)  # grid centre (0, 0)
    assert np.abs(curvature["ungated attention row: flat"].values).max() < 1e-9
    np.testing.assert_allclose(curvature["scalar gate between two experts: a sphere"].values, 0.25, atol=1e-10)
    helicoid = curvature["helicoid (u cos v, u sin v, c v)"]
    np.testing.assert_allclose(helicoid.values, -2.25 / (2.25 + helicoid.U**2) ** 2, rtol=1e-10)
    np.testing.assert_allclose(curvature["round 3-sphere: scalar curvature"].values, 1.5, atol=1e-10)
    texts = {e.title: [t for _, _, t in explore_family(**e.arguments).relation_rows()] for e in GALLERY if e.kind == "family"}
    assert "dF/da_1 - d2F/dbeta_1 dalpha = 0" in texts["softmax gate x linear expert: the beta-alpha-a PDE"]
    assert "dF/dA_1_1 - d2F/db_1^2 = 0" in texts["quadratic gate: dF/dA = d2F/db^2"]
    assert texts["monomial gate (attention) x tanh expert: no relation"] == []
    assert texts["active-attention: tanh value expert under the attention gate"] == []
    gelu = texts["active-attention: gelu value expert under the attention gate"]
    assert len(gelu) == 1 and gelu[0].startswith("F - ") and "d2F/dA_1_1 da_1" in gelu[0]
    sigmoid = texts["sigmoid gate x gated-linear expert (G1/G2 gated attention)"]
    assert sum(t.count(" - ") == 1 and "d2F" in t and "dF/" not in t.split(" - ")[0][:3] for t in sigmoid[:3]) == 3
    assert texts["Gaussian density: heat equation in the variance"] == ["dF/dv - 1/2 d2F/dm^2 = 0"]
    with pytest.raises(KeyError):
        example("no such example")


def test_copy_as_code_leaves_out_defaults():
    assert "explore_family('softmax-linear', 'linear')\n" in family_call(gate="softmax-linear", expert="linear")
    snippet = curvature_call("[u, v, u*v]", "u, v", {"u": (-1, 1), "v": (0, 2)})
    assert _call(snippet) == ("explore_curvature", ["[u, v, u*v]", "u, v", {"u": (-1.0, 1.0), "v": (0.0, 2.0)}], {})


def test_exports():
    field = explore_curvature("[u, v, u*v]", "u, v", "u=-1:1, v=-1:1", resolution=5)
    rows = field_csv(field).splitlines()
    assert rows[0] == "u,v,K" and len(rows) == 26
    u, v, k = map(float, rows[7].split(","))
    assert k == pytest.approx(-1 / (1 + u**2 + v**2) ** 2, rel=1e-12)
    assert field_image(field, "png")[:8] == b"\x89PNG\r\n\x1a\n"
    svg = field_image(field, "svg")
    assert b"<svg" in svg[:2000] and len(svg) < 200_000  # the mesh is rasterised
    link = download_link("a,b\n", "x.csv", "text/csv")
    assert base64.b64decode(re.search(r"base64,([^']+)'", link).group(1)) == b"a,b\n"


def test_colour_scale_is_diverging_and_centred_at_zero_when_the_sign_changes():
    assert colour_style(np.array([-1.0, 3.0])) == {"colorscale": "RdBu", "reversescale": True, "zmin": -3.0, "zmax": 3.0}
    assert colour_style(np.array([0.25, 0.25 + 1e-16]))["zmin"] == -1.0  # constant: rounding noise not drawn
    assert colour_style(np.array([0.5, 2.0]))["colorscale"] == "Viridis"
    field = explore_curvature("[u, v, u*v]", "u, v", "u=-1:1, v=0:2", resolution=5)
    trace = heatmap_trace(field)
    assert trace["x"] == list(np.linspace(-1, 1, 5)) and trace["y"] == list(np.linspace(0, 2, 5))
    assert trace["z"][1][0] == field.values[0, 1]  # plotly rows are the second axis


def test_slider_values_are_short_decimals_and_the_text_fields_follow(app):
    assert short_decimal(3.5999999999999996, 0.03) == "3.6" and short_decimal(-1e-17, 0.04) == "0"
    assert short_decimal(2.0, 0.03) == "2" and short_decimal(6.283185307179586, 0.0314) == "6.28"
    cur = app.curvature
    cur.map.value, cur.coords.value = "[R*cos(u)*cos(v), R*cos(u)*sin(v), R*sin(u)]", "u, v"
    cur.ranges.value, cur.sets.value, cur.sigma.value = "u=-1.2:1.2, v=0:2*pi", "R=2", ""
    _run(cur)
    R = cur._controls["R"]
    R.value = R.min + 140 * R.step  # a value on the slider's grid: 3.6000000000000005 in floating point
    cur.progress.wait()
    assert R.value != 3.6 and cur.sets.value == "R=3.6"  # the text field shows the short decimal
    assert cur.ranges.value == "u=-1.2:1.2, v=0:2*pi"  # untouched fields keep their text
    assert "with R=18/5" in cur.result.value and "min 0.0771605" in cur.result.value  # 1/3.6^2, not 8999999999999999/...
    cur._controls["u"].value = (-0.5, 0.75)
    cur.progress.wait()
    assert cur.ranges.value == "u=-0.5:0.75, v=0:2*pi"
    _run(cur)  # "apply" keeps what the sliders set
    assert cur._controls["R"].value == 3.6 and cur._controls["u"].value == (-0.5, 0.75)
    assert "u in [-0.5, 0.75]" in cur.result.value


def test_a_reversed_range_is_one_line_and_removes_the_old_map(app):
    cur = app.curvature
    cur.map.value, cur.coords.value, cur.sets.value, cur.sigma.value = "[u, v, u*v]", "u, v", "", ""
    cur.ranges.value = "u=-1:1, v=-1:1"
    _run(cur)
    assert cur.field is not None and len(cur.plot_box.children) == 1
    cur.ranges.value = "u=2:-2, v=-1:1"
    cur.apply()
    assert "error: range of 'u' must have low < high, got 2:-2 (2 >= -2)" in html.unescape(cur.result.value)
    assert cur.field is None and cur.plot_box.children == () and cur.export.value == ""


def test_jobs_stop_at_their_time_limit_and_on_cancel():
    import threading

    outcome = {}
    started = threading.Event()

    def spin():
        started.set()
        while True:  # pure Python: stopped between bytecodes
            pass

    def record(result, error):
        outcome["result"], outcome["error"] = result, error

    job = Job(spin, record, seconds=0.3, what="spin").start()
    assert job.wait(30) and outcome["result"] is None
    assert str(outcome["error"]) == "spin exceeded its time limit of 0.3 s"
    job = Job(spin, record, seconds=600, what="spin").start()
    assert started.wait(30)
    job.cancel()
    assert job.wait(30) and isinstance(outcome["error"], Cancelled) and "spin cancelled after" in str(outcome["error"])
    job = Job(lambda: 42, record, seconds=5).start()
    assert job.wait(30) and outcome == {"result": 42, "error": None}
    job.cancel()  # after the end: no effect
    assert outcome == {"result": 42, "error": None}


def test_cancel_button_stops_the_computation_and_clears_the_map(app):
    import threading

    cur = app.curvature
    cur.map.value, cur.coords.value, cur.ranges.value, cur.sets.value = "[u, v, u*v]", "u, v", "u=-1:1, v=-1:1", ""
    _run(cur)
    running = threading.Event()

    def slow():
        running.set()
        while True:
            pass

    cur.progress.start(slow, cur.show)
    assert running.wait(30) and not cur.progress.cancel_button.disabled
    cur.progress.cancel_button.click()
    cur.progress.wait()
    assert "error: curvature field cancelled after" in cur.result.value and cur.plot_box.children == ()
    assert cur.progress.cancel_button.disabled and "stopped after" in cur.progress.label.value


def test_permalink_round_trip_reproduces_the_view(app):
    assert decode("#" + encode("curvature", {"map": "[u, v, u*v]", "sets": "a=1&b=2", "sigma": ""})) == (
        "curvature", {"map": "[u, v, u*v]", "sets": "a=1&b=2"})
    for bad, message in [("tab=nowhere", "unknown tab"), ("tab=curvature&eval=1", "unknown key(s) 'eval'"),
                         ("tab=relations&seed=1&seed=2", "'seed' given twice"), ("tab=relations&order=x", None)]:
        if message is None:
            app.app.open(bad)
            assert "error: permalink: order must be an integer" in app.app.link.value
        else:
            with pytest.raises(ModelError, match=re.escape(message)):
                decode(bad)
    cur = app.curvature
    cur.map.value, cur.coords.value, cur.ranges.value, cur.sets.value = "[u*cos(v), u*sin(v), c*v]", "u, v", "u=-2:2, v=0:1", "c=3/2"
    cur.resolution.unobserve(cur.redraw, names="value")
    cur.resolution.value = 17
    cur.resolution.observe(cur.redraw, names="value")
    _run(cur)
    fragment = app.app.url.fragment
    assert fragment.startswith("tab=curvature&map=") and "resolution=17" in fragment and fragment in html.unescape(app.app.link.value)
    other = explorer_widget()
    other.curvature.progress.wait()
    other.app.url.page = fragment  # what the browser sends when the page opens with this fragment
    other.curvature.progress.wait()
    assert other.tabs.selected_index == 1 and other.curvature.sets.value == "c=3/2"
    np.testing.assert_array_equal(other.curvature.field.values, cur.field.values)
    rel = app.relations
    rel.function.value, rel.inputs.value, rel.params.value, rel.positive.value = "normal_pdf(y, m, v)", "y", "m, v", "v"
    _run(rel)
    other.app.url.page = app.app.url.fragment
    other.relations.progress.wait()
    assert other.tabs.selected_index == 0 and other.relations.result.value == rel.result.value


def test_attention_tab_compares_the_gate_positions(app):
    att = app.attention
    att.position.value = "G2"
    _run(att)
    lines = html.unescape(att.result.value).splitlines()
    table = {line.split()[0]: line.split()[1:] for line in lines[1:8]}
    assert set(table) == {"plain", "G1", "G1-headwise", "G2", "G3", "G4", "G5"}
    assert table["plain"][:5] == ["5", "13", "8", "5", "0"] and table["G2"][:5] == ["6", "14", "6", "8", "2"]
    assert "[proved] dF/dWg_1_1_1 - 7/5 d2F/dw_1_1 dWg_1_1_1 = 0" in att.result.value
    rate = html.unescape(att.result.value).split("rate order (2 heads fitted to 1):", 1)[1]
    assert "setting: attention/G2/N2/H2-H*1/hmoe" in rate and "verdict (proved): not identifiable under the atomwise D1" in rate
    assert _call(att.code.value) == ("explore_attention", ["G2"], {})
    assert attention_call("G1", heads=2, temperature=True).count("explore_attention('G1', heads=2, temperature=True)") == 1
    assert app.app.url.fragment == "tab=attention&position=G2&tokens=2&dim=1&heads=1&param=hmoe&temperature=0&order=2&seed=0"
