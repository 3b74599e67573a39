"""Rate slopes, the Markdown summary and the log-log plots computed from a store."""

import numpy as np
import pytest
from test_experiments_fakes import MODULE

from hmoe_theory.experiments import (
    SweepError,
    SweepSpec,
    load_results,
    plot_rates,
    rate_figure,
    rate_row,
    run_sweep,
    summarise,
    summary_markdown,
    write_summary,
)

FAKE = f"{MODULE}:power_replicate"


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("swept")
    run_sweep(SweepSpec(("root-n", "quarter"), "100:100000:7", reps=40, seed=1), out, replicate=FAKE)
    return out


def test_exact_power_law_gives_exact_slope_and_degenerate_ci():
    ns = np.repeat([100, 1000, 10000], 5)
    row = rate_row("s", "m", ns, 3.0 * ns**-0.5)
    assert row.fit.slope == pytest.approx(-0.5, abs=1e-12)
    assert np.exp(row.fit.intercept) == pytest.approx(3.0, rel=1e-12)
    assert row.fit.ci_low == pytest.approx(-0.5, abs=1e-12) and row.fit.ci_high == pytest.approx(-0.5, abs=1e-12)
    assert (row.fits, row.dropped, row.sizes) == (15, 0, 3)


def test_nonpositive_values_are_left_out_and_too_few_sizes_give_no_fit():
    row = rate_row("s", "m", [10, 10, 100, 100, 1000], [1.0, 0.0, 0.1, np.nan, 0.01])
    assert row.fit.slope == pytest.approx(-1.0) and (row.fits, row.dropped, row.sizes) == (5, 2, 3)
    assert rate_row("s", "m", [1, 10, 100, 1000], [5.0, 1.0, 0.1, 0.01]).fit.slope == pytest.approx(-1.0)
    short = rate_row("s", "m", [10, 100, 1000], [1.0, 1.0, -1.0])
    assert short.fit is None and short.decay is None and short.dropped == 1


def test_decay_test_tells_power_law_from_logarithmic_decay():
    rng = np.random.default_rng(0)
    ns = np.repeat(np.geomspace(1e2, 1e6, 9), 20)
    noise = np.exp(0.05 * rng.standard_normal(ns.size))
    assert rate_row("s", "m", ns, ns**-0.5 * noise).decay.preferred == "power"
    assert rate_row("s", "m", ns, 1 / np.log(ns) * noise).decay.preferred == "log"


def test_summary_recovers_the_fake_rates(swept):
    rows = {(r.setting, r.metric): r for r in summarise(swept)}
    assert set(rows) == {(s, m) for s in ("root-n", "quarter") for m in ("error", "spread")}
    for setting, exponent in (("root-n", 0.5), ("quarter", 0.25)):
        fit = rows[setting, "error"].fit
        assert fit.slope == pytest.approx(-exponent, abs=0.08)
        assert fit.ci_low < -exponent < fit.ci_high
        assert rows[setting, "error"].fits == 280 and rows[setting, "error"].sizes == 7
    assert abs(rows["root-n", "spread"].fit.slope) < 0.01  # std of N(0,1) does not decay


def test_markdown_summary_lists_every_row(swept, tmp_path):
    text = summary_markdown(swept)
    assert text.startswith("# Convergence rates")
    assert "560 fits, 2 settings, 7 sizes n = 100..100000, base seed 1" in text
    assert "| setting | metric | slope | 95% CI | decay | fits | sizes |" in text
    row = {(r.setting, r.metric): r for r in summarise(swept)}["quarter", "error"]
    fit, decay = row.fit, row.decay
    assert decay.preferred == "power"
    assert (f"| quarter | error | {fit.slope:+.3f} | [{fit.ci_low:+.3f}, {fit.ci_high:+.3f}] | power "
            f"(p = {decay.p_value:.2g}) | 280 | 7 |") in text
    assert "- `quarter`: sqrt|mean of n normals|: rate n^-1/4" in text
    assert write_summary(swept, tmp_path).read_text() == text


def test_rate_figure_is_log_log_with_fitted_line(swept):
    records = load_results(swept)
    fig = rate_figure(records, "root-n")
    ax = fig.axes[0]
    assert (ax.get_xscale(), ax.get_yscale(), ax.get_title()) == ("log", "log", "root-n")
    fitted = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(fitted) == 2  # one per metric
    x, y = fitted[0].get_data()  # metrics sorted: "error" first
    fit = {(r.setting, r.metric): r.fit for r in summarise(swept)}["root-n", "error"]
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    assert slope == pytest.approx(fit.slope, abs=1e-9) and intercept == pytest.approx(fit.intercept, abs=1e-9)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"error: slope {fit.slope:+.2f} [{fit.ci_low:+.2f}, {fit.ci_high:+.2f}]" in labels
    with pytest.raises(SweepError, match="no fits stored for setting 'nope'"):
        rate_figure(records, "nope")


def test_plot_rates_writes_png_and_svg(swept, tmp_path):
    paths = plot_rates(swept, tmp_path, formats=("png", "svg"))
    assert sorted(p.name for p in paths) == ["rates-quarter.png", "rates-quarter.svg", "rates-root-n.png",
                                             "rates-root-n.svg"]
    assert (tmp_path / "rates-root-n.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (tmp_path / "rates-root-n.svg").read_text()[:500]
    with pytest.raises(SweepError, match="plot formats must be among png, svg"):
        plot_rates(swept, tmp_path, formats=("pdf",))
