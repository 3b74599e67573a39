"""summary.json / summary.md / figures computed from stored fits of synthetic nested, paired replicates.

Settings (true slopes known, see test_estimation_rates): ``root-n`` = |mean_n| (slope -1/2),
``quarter`` = sqrt|mean_n| of the same draws (-1/4, paired with root-n), ``root-n-b`` = |mean_n| of a
second column of the same replicates (-1/2); seed 1 is one where every 95 % CI below covers its truth
(coverage itself is measured in test_estimation_rates). Each fit also carries diagnostics and a wall-clock value
that must never become a rate or a panel.
"""

import json

import numpy as np
import pytest
from test_experiments_fakes import store_records
from test_estimation_rates import nested_abs_means

from hmoe_theory.experiments import (
    ResultStore,
    SweepError,
    load_results,
    plot_rates,
    rate_figure,
    rate_metric_names,
    rate_rows,
    summarise,
    summary_json,
    summary_markdown,
    write_summary,
)
from hmoe_theory.experiments.store import FitRecord

SIZES = np.unique(np.round(np.geomspace(500, 20_000, 10)).astype(int))
REPS = 30
CONTRASTS = (
    ("half-vs-quarter", "root-n", "quarter", "voronoi", "root-n decays faster than quarter"),
    ("half-vs-half", "root-n", "root-n-b", "voronoi", "same rate"),
    ("absent", "root-n", "not-run", "voronoi", "a setting that was not swept"),
)


def synthetic_records(capped=0):
    """Records of the three settings; the first ``capped`` root-n fits (by rep, size) hit the iteration cap."""
    draws = nested_abs_means(REPS, SIZES, columns=2, seed=1)
    records = []
    for r in range(REPS):
        for j, n in enumerate(SIZES):
            diag = {"iterations": 10.0 + j, "grad_norm": 1e-9, "fit_seconds": 0.01 * n}
            status = "iteration-cap" if r * SIZES.size + j < capped else "converged"
            records += [
                FitRecord("root-n", int(n), r, 10 * r + j, {"voronoi": draws[0, r, j], "l2_error": 2 * draws[0, r, j],
                                                            **diag}, status),
                FitRecord("quarter", int(n), r, 10 * r + j, {"voronoi": np.sqrt(draws[0, r, j]), **diag}),
                FitRecord("root-n-b", int(n), r, 10 * r + j, {"voronoi": draws[1, r, j], **diag}),
            ]
    return records


@pytest.fixture(scope="module")
def records():
    return synthetic_records()


@pytest.fixture(scope="module")
def summary(records):
    return summarise(records, CONTRASTS, n_boot=500)


@pytest.fixture(scope="module")
def store(tmp_path_factory, records):
    out = tmp_path_factory.mktemp("store")
    with ResultStore(out) as db:
        db.bind("synthetic", 0)
        store_records(db, records)
    return out


def test_rate_metrics_exclude_diagnostics_and_wall_clock(records):
    assert rate_metric_names(records, "root-n") == ["voronoi", "l2_error"]
    assert rate_metric_names(records, "quarter") == ["voronoi"]


def test_slopes_and_contrasts_are_recovered(summary):
    for setting, truth in (("root-n", -0.5), ("quarter", -0.25), ("root-n-b", -0.5)):
        result = summary.result(setting, "voronoi")
        assert result.fit.contains(truth) and result.robust.contains(truth) and result.counts, (setting, result.fit)
    by_name = {c.name: c for c in summary.contrasts}
    assert by_name["half-vs-quarter"].verdict == "a faster"
    assert by_name["half-vs-quarter"].ci_low <= -0.25 <= by_name["half-vs-quarter"].ci_high
    assert by_name["half-vs-half"].verdict == "not separated at this design"
    assert summary.skipped == ("absent",)


def test_json_schema_and_values(summary):
    data = json.loads(summary_json(summary))
    assert set(data) >= {"settings", "contrasts"}
    assert sorted(data["settings"]) == ["quarter", "root-n", "root-n-b"]
    entry = data["settings"]["root-n"]
    assert entry["sizes"] == [int(n) for n in SIZES] and entry["reps"] == REPS and entry["converged_share"] == 1.0
    assert sorted(entry["metrics"]) == ["l2_error", "voronoi"]  # no iterations, grad_norm, fit_seconds
    voronoi = entry["metrics"]["voronoi"]
    result = summary.result("root-n", "voronoi")
    assert voronoi["slope"] == float(f"{result.fit.slope:.6g}")
    assert voronoi["ci"] == [float(f"{v:.6g}") for v in result.fit.ci] and len(voronoi["ci"]) == 2
    assert voronoi["robust_slope"] == float(f"{result.robust.slope:.6g}")
    assert voronoi["left_out"] == 0 and voronoi["counts"] is True
    assert len(voronoi["first_size_sensitivity"]) == SIZES.size - 2
    assert voronoi["decay"]["preferred"] in ("power", "log", "undecided", "inseparable")
    contrast = data["contrasts"][0]
    assert (contrast["name"], contrast["verdict"], contrast["setting_a"]) == ("half-vs-quarter", "a faster", "root-n")


def test_left_out_fits_are_counted_and_flagged():
    summary = summarise(synthetic_records(capped=20), n_boot=200)
    result = summary.result("root-n", "voronoi")
    assert result.left_out == 20 and result.left_out_by_status == {"iteration-cap": 20} and not result.counts
    setting = next(s for s in summary.settings if s.name == "root-n")
    assert setting.converged_share == pytest.approx(280 / 300)
    assert setting.converged_share_by_n[0] == pytest.approx(28 / 30)
    text = summary_markdown(summary)
    assert "not converged: 20 iteration-cap." in text
    assert "| root-n | voronoi | " in text and "| 93.3 % | 20 (20 iteration-cap) | no |" in text
    assert "- `root-n` voronoi: only 93.3 % of the fits converged with a usable value" in text


def test_markdown_tables_contrasts_and_limits(summary):
    text = summary_markdown(summary)
    r = summary.result("quarter", "voronoi")
    assert text.startswith("# Convergence rates\n")
    assert (f"| quarter | voronoi | {r.fit.slope:+.3f} [{r.fit.ci_low:+.3f}, {r.fit.ci_high:+.3f}] "
            f"| {r.fit.slope:+.3f} [{r.fit.ci_low:+.3f}, {r.fit.ci_high:+.3f}] "  # all fits = converged fits here
            f"| {r.robust.slope:+.3f} [{r.robust.ci_low:+.3f}, {r.robust.ci_high:+.3f}] | 100.0 % | 0 | yes |") in text
    assert ("- **half-vs-quarter** (voronoi): root-n decays faster than quarter -> `root-n` decays faster than "
            "`quarter`") in text
    assert "- **half-vs-half** (voronoi): same rate -> not separated at this design" in text
    assert "## What this design cannot decide" in text
    assert "- Contrast **absent**: not computed, a setting is missing from the store." in text


def test_write_summary_is_byte_stable(store, tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = write_summary(store, tmp_path / "one", CONTRASTS, n_boot=300)
    second = write_summary(store, tmp_path / "two", CONTRASTS, n_boot=300)
    assert [p.name for p in first] == ["summary.json", "summary.md"]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes()
    data = json.loads(first[0].read_text())
    assert data["settings"]["quarter"]["metrics"]["voronoi"]["slope"] == pytest.approx(-0.25, abs=0.1)
    assert "900 stored fits, 3 settings, base seed 0, replicate `synthetic`." in first[1].read_text()
    assert len(load_results(store)) == 3 * REPS * SIZES.size


def test_json_does_not_depend_on_record_order(records, summary):
    shuffled = [records[i] for i in np.random.default_rng(0).permutation(len(records))]
    assert summary_json(summarise(shuffled, CONTRASTS, n_boot=500)) == summary_json(summary)


def test_bad_contrast_is_a_one_line_error(records):
    with pytest.raises(SweepError, match="a contrast is .name, setting_a, setting_b, metric, statement."):
        summarise(records, [("only", "two")], n_boot=10)


def test_rate_rows_keep_the_notebook_interface(records):
    rows = {(r.setting, r.metric): r for r in rate_rows(records, n_boot=100)}
    assert set(rows) == {("root-n", "voronoi"), ("root-n", "l2_error"), ("quarter", "voronoi"),
                         ("root-n-b", "voronoi")}
    assert rows["root-n", "l2_error"].fit.ci_low < rows["root-n", "l2_error"].fit.slope
    assert rows["root-n", "l2_error"].decay.preferred


def test_rate_figure_panels_lines_and_labels(records, summary):
    results = next(s for s in summary.settings if s.name == "root-n").results
    fig = rate_figure(records, "root-n", results=results)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["voronoi", "l2_error"]  # no wall-clock or diagnostic panel
    for ax, result in zip(axes, results):
        assert (ax.get_xscale(), ax.get_yscale(), ax.get_xlabel()) == ("log", "log", "sample size n")
        assert ax.get_ylabel().startswith(result.metric + ":")
        slopes = {}
        for line in ax.get_lines():
            x, y = line.get_data()
            slopes[line.get_label()] = np.polyfit(np.log(x), np.log(y), 1)[0]
        fit_label = f"OLS slope {result.fit.slope:+.3f} [{result.fit.ci_low:+.3f}, {result.fit.ci_high:+.3f}]"
        assert slopes[fit_label] == pytest.approx(result.fit.slope, abs=1e-9)
        assert slopes["reference slope -0.5"] == pytest.approx(-0.5, abs=1e-9)
        assert slopes["reference slope -0.25"] == pytest.approx(-0.25, abs=1e-9)
    with pytest.raises(SweepError, match="no fits stored for setting 'nope'"):
        rate_figure(records, "nope")


def test_plot_rates_writes_setting_and_contrast_figures(records, tmp_path):
    with ResultStore(tmp_path / "store") as db:
        store_records(db, [r for r in records if r.setting in ("root-n", "quarter")])
    paths = plot_rates(tmp_path / "store", tmp_path, formats="png", n_boot=100, contrasts=CONTRASTS)
    assert sorted(p.name for p in paths) == ["contrasts.png", "rates-quarter.png", "rates-root-n.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    with pytest.raises(SweepError, match="plot formats must be among png, svg"):
        plot_rates(tmp_path / "store", tmp_path, formats=("pdf",))


def test_svg_figures_are_byte_stable(records, summary, tmp_path):
    from hmoe_theory.experiments.plots import _save

    results = next(s for s in summary.settings if s.name == "quarter").results
    first, second = (_save(rate_figure(records, "quarter", results=results), tmp_path / stem, ("svg",))[0]
                     for stem in ("one", "two"))
    assert first.read_bytes() == second.read_bytes() and b"<dc:date>" not in first.read_bytes()


def test_all_fits_slope_sits_beside_the_converged_one_and_shows_survivorship():
    """The capped fits are the LARGEST losses of their size: dropping them biases the converged-only mean down at
    the small sizes (where they sit), so the two slopes differ; the all-fits slope keeps the true -1/2."""
    records = synthetic_records()
    worst = {}
    for r in records:
        if r.setting == "root-n" and r.n in SIZES[:3]:
            worst.setdefault(r.n, []).append(r)
    capped = {id(r) for group in worst.values() for r in sorted(group, key=lambda f: -f.metrics["voronoi"])[:6]}
    records = [FitRecord(r.setting, r.n, r.rep, r.seed, r.metrics, "iteration-cap" if id(r) in capped else r.status)
               for r in records]
    summary = summarise(records, n_boot=300)
    setting = next(s for s in summary.settings if s.name == "root-n")
    converged, everything = (next(x for x in group if x.metric == "voronoi") for group in (setting.results,
                                                                                          setting.all_fits))
    assert everything.used == everything.fits == REPS * SIZES.size and converged.used == everything.used - 18
    assert everything.fit.contains(-0.5) and everything.fit.slope < converged.fit.slope - 0.05
    data = json.loads(summary_json(summary))["settings"]["root-n"]
    assert data["metrics"]["voronoi"]["all_fits"]["slope"] == float(f"{everything.fit.slope:.6g}")
    assert data["converged_share_by_n"][:4] == [0.8, 0.8, 0.8, 1.0]
    assert "slope, all fits [CI]" in summary_markdown(summary) and "Converged share per n: 500: 80.0 %" in \
        summary_markdown(summary)


def test_settings_name_their_convention_and_negative_controls(summary):
    data = json.loads(summary_json(summary))["settings"]["root-n"]
    assert data["convention"] == {"model": None, "loss": None, "parametrisation": None}  # outside the catalogue
    assert data["negative_control"] is False
    assert data["predicted_order"] == {"s": None, "status": "not computed"}
    records = [FitRecord("softmax-linear/linear/over", r.n, r.rep, r.seed, r.metrics, r.status)
               for r in synthetic_records() if r.setting == "root-n"]
    control = json.loads(summary_json(summarise(records, n_boot=50)))["settings"]["softmax-linear/linear/over"]
    assert control["negative_control"] is True and "exact merges" in control["negative_control_reason"]
    assert control["convention"]["loss"].startswith("D1:") and control["identifiable_twin"] == "softmax-linear/linear/over/merged"
    assert "**Negative control**" in summary_markdown(summarise(records, n_boot=50))


def test_holm_controls_the_family_and_keeps_a_clear_separation(records):
    from hmoe_theory.experiments.summary import holm_contrasts, replicate_grid

    grids = {s: replicate_grid(records, s, "voronoi") for s in ("root-n", "quarter", "root-n-b")}
    pairs = [(grids["root-n"], grids["quarter"], CONTRASTS[0]), (grids["root-n"], grids["root-n-b"], CONTRASTS[1]),
             (grids["quarter"], grids["root-n-b"], ("q-vs-b", "quarter", "root-n-b", "voronoi", "")),
             (grids["root-n"], grids["quarter"], ("control", "softmax-linear/linear/over", "quarter", "voronoi", ""))]
    out = holm_contrasts(pairs, n_boot=2000)
    assert [a.family for a in out] == [3, 3, 3, 0]
    assert out[3].holm_verdict.startswith("not tested: a side is a negative control")
    # the two real separations (-1/4 and +1/4) are decided at levels 1 - 0.05/3 and then 1 - 0.05/2 at most
    assert out[0].holm_verdict == "a faster" and out[2].holm_verdict == "b faster"
    assert out[0].holm_level == pytest.approx(1 - 0.05 / 3)
    assert out[1].holm_verdict == "not separated at this design" and out[1].holm_level == pytest.approx(0.95)
    nominal = out[0].result.ci
    assert out[0].holm_ci[0] < nominal[0] and out[0].holm_ci[1] > nominal[1]  # wider than the 95 % CI


def test_a_metric_without_any_usable_value_is_a_labelled_empty_panel_not_a_crash(records, tmp_path):
    zeros = [FitRecord(r.setting, r.n, r.rep, r.seed, {**r.metrics, "flag": 0.0}, r.status)
             for r in records if r.setting == "quarter"]
    fig = rate_figure(zeros, "quarter", n_boot=20)
    empty = next(ax for ax in fig.axes if ax.get_title() == "flag (does not count: 0.0 % usable < 95 %)")
    assert [t.get_text() for t in empty.texts] == ["no usable value"]
    from hmoe_theory.experiments.plots import _save

    assert _save(fig, tmp_path / "f", ("svg",))[0].stat().st_size > 0


def test_a_predicted_order_sits_next_to_the_measured_d1_slope(records):
    """s = 1 predicts D1 ~ n^-1/2; the synthetic |mean_n| loss stored as ``d1`` has exactly that rate."""
    d1 = [FitRecord(r.setting, r.n, r.rep, r.seed, {"d1": r.metrics["voronoi"]}, r.status)
          for r in records if r.setting in ("root-n", "quarter")]
    summary = summarise(d1, n_boot=300, predicted={"root-n": (1.0, "certified"), "quarter": (2.0, "supported")})
    data = json.loads(summary_json(summary))["settings"]
    assert data["root-n"]["predicted_order"] == {"s": 1.0, "status": "certified"}
    text = summary_markdown(summary)
    for name, s in (("root-n", 1.0), ("quarter", 2.0)):
        r = summary.result(name, "d1")
        assert r.fit.contains(-1 / (2 * s))
        assert (f"D1 slope -1/(2s) = {-1 / (2 * s):+.3f}; measured `d1` slope {r.fit.slope:+.3f} "
                f"[{r.fit.ci_low:+.3f}, {r.fit.ci_high:+.3f}].") in text
