"""Rate statistics on synthetic nested, paired replicates whose true slopes are known.

Synthetic design: replicate r draws ONE sample z_1..z_{n_max} of standard normals (per column); the
"loss" at size n is |mean(z_1..z_n)| (prefixes, so nested). E|mean_n| = sqrt(2/(pi n)) exactly, so the
mean-loss curve has slope exactly -1/2; sqrt|mean_n| has E = c n^-1/4 exactly (slope -1/4). Two
columns of one draw are two settings on the same replicates (paired).
"""

import numpy as np
import pytest
from scipy.stats import theilslopes

from hmoe_theory.errors import ModelError
from hmoe_theory.estimation.rates import (
    MIN_SIZES,
    ReplicateGrid,
    analyse_rate,
    bootstrap_weights,
    decay_test,
    masked_ols,
    paired_contrast,
    theil_sen_slopes,
    weighted_log_means,
)

SIZES = np.unique(np.round(np.geomspace(1000, 100_000, 20)).astype(int))


def nested_abs_means(reps: int, sizes: np.ndarray, columns: int = 2, seed: int = 0) -> np.ndarray:
    """``(columns, reps, len(sizes))`` array of |mean of the first n normals| of one sample per replicate."""
    rng = np.random.default_rng(seed)
    out = np.empty((columns, reps, sizes.size))
    for r in range(reps):
        z = rng.standard_normal((int(sizes[-1]), columns))
        out[:, r, :] = np.abs(np.cumsum(z, axis=0)[sizes - 1] / sizes[:, None]).T
    return out


def grid_of(values: np.ndarray, sizes: np.ndarray = SIZES, status=None) -> ReplicateGrid:
    reps, count = values.shape
    return ReplicateGrid.from_cells(
        (int(sizes[s]), r, "converged" if status is None else status[r][s], float(values[r, s]))
        for r in range(reps) for s in range(count))


@pytest.fixture(scope="module")
def draws():
    return nested_abs_means(40, SIZES)


def test_root_n_and_quarter_slopes_are_recovered_inside_their_cis(draws):
    for values, truth in ((draws[0], -0.5), (np.sqrt(draws[0]), -0.25)):
        result = analyse_rate(grid_of(values), "s", "m", n_boot=1000)
        assert result.fit.contains(truth) and result.robust.contains(truth), (truth, result.fit, result.robust)
        assert result.fit.slope == pytest.approx(truth, abs=0.05)
        assert result.fit.ci_high - result.fit.ci_low < 0.2
        assert (result.fits, result.used, result.left_out, result.counts) == (800, 800, 0, True)
        assert result.converged_share == 1.0 and result.sizes == tuple(SIZES) and result.reps == 40
        # the point estimate is the OLS slope of log(mean over replicates) on log n
        slope, intercept = np.polyfit(np.log(SIZES), np.log(values.mean(axis=0)), 1)
        assert result.fit.slope == pytest.approx(slope, abs=1e-12)
        assert result.fit.intercept == pytest.approx(intercept, abs=1e-10)
        assert result.robust.slope == pytest.approx(theilslopes(np.log(values.mean(0)), np.log(SIZES)).slope)


def test_exact_power_law_gives_exact_slopes_and_degenerate_cis():
    values = np.tile(3.0 * SIZES**-0.5, (5, 1))
    result = analyse_rate(grid_of(values), n_boot=200)
    for line in (result.fit, result.robust):
        assert line.slope == pytest.approx(-0.5, abs=1e-12)
        assert line.ci_low == pytest.approx(-0.5, abs=1e-12) and line.ci_high == pytest.approx(-0.5, abs=1e-12)
    assert np.exp(result.fit.intercept) == pytest.approx(3.0, rel=1e-12)
    assert [s.slope for s in result.sensitivity] == pytest.approx([-0.5] * (SIZES.size - MIN_SIZES + 1), abs=1e-12)


def test_bootstrap_ci_covers_the_true_slope_at_close_to_the_nominal_rate():
    sizes = np.unique(np.round(np.geomspace(100, 10_000, 8)).astype(int))
    covered = 0
    for seed in range(40):
        values = nested_abs_means(25, sizes, columns=1, seed=100 + seed)[0]
        covered += analyse_rate(grid_of(values, sizes), n_boot=400, seed=seed).fit.contains(-0.5)
    assert covered >= 33  # nominal 95 %: 38 of 40; percentile intervals with 25 replicates run a bit short


def test_bootstrap_resamples_whole_replicates_with_one_index_set_for_all_sizes():
    weights = bootstrap_weights(7, n_boot=50, seed=3)
    assert weights.shape == (50, 7) and np.all(weights.sum(axis=1) == 7)
    assert np.array_equal(weights, bootstrap_weights(7, n_boot=50, seed=3))
    assert not np.array_equal(weights, bootstrap_weights(7, n_boot=50, seed=4))
    values = np.arange(1.0, 22.0).reshape(7, 3)
    grid = grid_of(values, np.array([10, 20, 40]))
    means = np.exp(weighted_log_means(grid, weights))
    assert means == pytest.approx((weights @ values) / 7, rel=1e-12)  # same weights in every column


def test_vectorised_theil_sen_and_ols_match_scipy_and_numpy():
    rng = np.random.default_rng(5)
    x = np.log(SIZES.astype(float))
    y = rng.normal(size=(6, x.size))
    y[2, 4] = np.nan
    ts = theil_sen_slopes(x, y)
    slope, intercept, rss = masked_ols(x, y)
    for row in range(6):
        keep = np.isfinite(y[row])
        assert ts[row] == pytest.approx(theilslopes(y[row, keep], x[keep]).slope, abs=1e-12)
        coef, res = np.polyfit(x[keep], y[row, keep], 1, full=True)[:2]
        assert (slope[row], intercept[row], rss[row]) == pytest.approx((coef[0], coef[1], res[0]), abs=1e-10)


def test_paired_contrasts_separate_half_from_quarter_but_not_half_from_half(draws):
    half, quarter, other_half = grid_of(draws[0]), grid_of(np.sqrt(draws[0])), grid_of(draws[1])
    faster = paired_contrast(half, quarter, "c", "half", "quarter", "m", n_boot=1000)
    assert faster.verdict == "a faster" and faster.ci_high < 0 and faster.counts
    assert faster.ci_low <= -0.25 <= faster.ci_high
    assert faster.difference == pytest.approx(faster.slope_a - faster.slope_b)
    assert faster.slope_a == pytest.approx(analyse_rate(half).fit.slope, abs=1e-12)
    assert paired_contrast(quarter, half, n_boot=1000).verdict == "b faster"
    same = paired_contrast(half, other_half, n_boot=1000)
    assert same.verdict == "not separated at this design" and same.ci_low < 0 < same.ci_high
    # the log ratio of the mean curves has the slope difference as its OLS slope
    assert np.polyfit(np.log(faster.sizes), faster.log_ratio, 1)[0] == pytest.approx(faster.difference, abs=1e-12)


def test_pairing_narrows_the_contrast_ci():
    """The same draws in both settings cancel shared noise: the paired CI is narrower than with
    independent replicates of the second setting."""
    sizes = np.unique(np.round(np.geomspace(300, 30_000, 10)).astype(int))
    a = nested_abs_means(30, sizes, columns=1, seed=1)[0]
    paired = paired_contrast(grid_of(a, sizes), grid_of(1.5 * a**0.9, sizes), n_boot=500)
    unpaired = paired_contrast(grid_of(a, sizes), grid_of(1.5 * nested_abs_means(30, sizes, 1, seed=2)[0] ** 0.9,
                                                          sizes), n_boot=500)
    assert (paired.ci_high - paired.ci_low) < 0.3 * (unpaired.ci_high - unpaired.ci_low)


def test_non_converged_and_unusable_fits_are_left_out_and_counted(draws):
    values = draws[0].copy()
    status = [["converged"] * SIZES.size for _ in range(40)]
    for k in range(30):
        status[k][k % SIZES.size] = "iteration-cap"
        values[k, k % SIZES.size] = 1e6  # must not enter the mean
    for k in range(30, 40):
        status[k][3] = "diverged"
    status[0][5], values[0, 5] = "failed", np.nan
    values[1, 7], values[2, 7], values[3, 9] = 0.0, np.nan, np.inf  # converged but unusable
    result = analyse_rate(grid_of(values, status=status), n_boot=300)
    assert result.left_out_by_status == {"diverged": 10, "failed": 1, "iteration-cap": 30}
    assert (result.invalid, result.used, result.left_out) == (3, 756, 44)
    assert result.converged_share == pytest.approx(759 / 800)
    assert result.converged_share_by_n[3] == pytest.approx(28 / 40)  # 10 diverged + 2 capped at size index 3
    assert not result.counts and result.fit is not None  # 94.5 % < 95 %: reported, flagged
    usable = np.array([[s == "converged" for s in row] for row in status]) & np.isfinite(values) & (values > 0)
    expected = [values[usable[:, s], s].mean() for s in range(SIZES.size)]
    assert result.mean_loss == pytest.approx(expected, rel=1e-12)
    fewer = [row[:] for row in status]
    for k in range(20, 30):
        fewer[k][k % SIZES.size] = "converged"
    assert analyse_rate(grid_of(draws[0], status=fewer), n_boot=100).counts  # 31 of 800 left out: counts


def test_start_of_range_sensitivity_reveals_a_pre_asymptotic_start():
    values = np.tile(SIZES**-0.5 + 40.0 * SIZES**-1.0, (3, 1))  # slope -1 regime first, then -1/2
    result = analyse_rate(grid_of(values), n_boot=100)
    slopes = [s.slope for s in result.sensitivity]
    assert [s.first_n for s in result.sensitivity] == list(SIZES[: SIZES.size - MIN_SIZES + 1])
    assert [s.sizes for s in result.sensitivity] == list(range(SIZES.size, MIN_SIZES - 1, -1))
    assert slopes[0] == result.fit.slope and np.all(np.diff(slopes) > 0)
    assert slopes[0] < -0.6 and -0.57 < slopes[-1] < -0.5  # local slope -0.56 at n = 1e5


def test_power_law_vs_log_decay_only_decided_where_the_design_separates_them(draws):
    rng = np.random.default_rng(7)
    sizes = np.unique(np.round(np.geomspace(100, 1e6, 15)).astype(int))
    noise = np.exp(0.05 * rng.standard_normal((40, sizes.size)))
    power = analyse_rate(grid_of(sizes**-0.5 * noise, sizes), n_boot=500).decay
    assert power.preferred == "power" and power.separable and power.delta_ci[0] > 0
    log = analyse_rate(grid_of(1 / np.log(sizes) * noise, sizes), n_boot=500).decay
    assert log.preferred == "log" and log.log_exponent == pytest.approx(-1.0, abs=0.1) and log.delta_ci[1] < 0
    # |mean| with 40 replicates over 1e3..1e5: (log n)^c with free c mimics n^-1/2 within the noise
    noisy = analyse_rate(grid_of(draws[0]), n_boot=500).decay
    assert noisy.preferred == "inseparable" and noisy.max_gap_se < 2
    assert noisy.words == "this design cannot separate a power law from 1/log n"
    with pytest.raises(ModelError, match="at least 4 sizes"):
        decay_test(np.log([10.0, 20.0, 40.0]), np.zeros(3), np.zeros((5, 3)))


def test_too_few_sizes_and_bad_input():
    result = analyse_rate(grid_of(np.ones((4, 2)), np.array([10, 20])))
    assert result.fit is None and result.decay is None and not result.counts
    assert result.note == "2 sizes with a usable value (need 3)"
    with pytest.raises(ModelError, match="two fits for n=10, rep=0"):
        ReplicateGrid.from_cells([(10, 0, "converged", 1.0), (10, 0, "converged", 2.0)])
    with pytest.raises(ModelError, match="0 < level < 1"):
        analyse_rate(grid_of(np.ones((2, 3)), np.array([10, 20, 40])), level=1.5)


def test_same_input_same_bits(draws):
    a = analyse_rate(grid_of(draws[0]), n_boot=300, seed=11)
    b = analyse_rate(grid_of(draws[0][::-1]), n_boot=300, seed=11)  # replicate ids differ, order does not matter
    assert a.fit == analyse_rate(grid_of(draws[0]), n_boot=300, seed=11).fit
    assert a.fit.slope == pytest.approx(b.fit.slope, abs=1e-12)


def test_start_shift_is_paired_and_flags_only_a_real_drift(draws):
    steady = analyse_rate(grid_of(draws[0]), n_boot=500)
    assert not any(s.drifts for s in steady.sensitivity)  # no drift flagged on this clean power law
    rng = np.random.default_rng(4)
    bent = (SIZES**-0.5 + 40.0 * SIZES**-1.0) * np.exp(0.05 * rng.standard_normal((40, SIZES.size)))
    drifting = analyse_rate(grid_of(bent), n_boot=500)
    half = drifting.sensitivity[SIZES.size // 2]
    assert half.drifts and half.shift_ci[0] > 0 and half.shift == pytest.approx(half.slope - drifting.fit.slope)
    assert drifting.sensitivity[0].shift == 0.0


# -- the catalogue's conventions: negative controls are really not identifiable, contrasts use one functional --
def test_over_specified_linear_experts_have_an_exact_merge_so_they_are_negative_controls():
    from hmoe_theory.estimation.catalogue import SETTINGS, convention
    from hmoe_theory.estimation.replicate import losses

    for gate in ("softmax-linear", "quadratic-monomial", "laplace"):
        setting = SETTINGS[f"{gate}/linear/over"]
        true = setting.true_theta.reshape(2, -1)
        pg = setting.fit_model.sizes[0]
        halves = [true[0].copy(), true[0].copy()]
        for sign, atom in zip((1, -1), halves):  # half the weight each, experts averaging to the true expert
            atom[pg] -= np.log(2)
            atom[pg + 1:] += sign * 0.7
        theta = np.concatenate([*halves, true[1]])
        nodes = np.random.default_rng(0).uniform(-1, 1, (200, 2))
        gap = setting.fit_model.predict(nodes, theta) - setting.true_model.predict(nodes, setting.true_theta)
        assert np.abs(gap).max() < 1e-12  # f_G = f_G* exactly ...
        assert losses(setting, theta)["voronoi"] > 1.0  # ... at a D1 loss far from 0
        assert convention(setting.name).negative_control and "exact merges" in convention(setting.name).reason
    for name in ("softmax-linear/ridge-tanh/over", "softmax-linear/linear/exact", "gaussian-moe/over",
                 "gaussian-moe/quadratic-monomial/over", "attention/G1/exact"):
        assert not convention(name).negative_control, name
    assert convention("attention/G2/over").negative_control
    assert convention("quadratic-polynomial/linear/over").twin == "quadratic-polynomial/linear/over/merged"
    assert convention("quadratic-polynomial/linear/over").mle_twin == "gaussian-moe/quadratic-polynomial/over"
    assert convention("no-such-setting") is None


def test_every_contrast_compares_one_functional_and_says_whether_it_can_test_the_theory():
    from hmoe_theory.estimation.attention_catalogue import CONTRASTS as ATTENTION
    from hmoe_theory.estimation.catalogue import CONTRASTS, SETTINGS, same_functional, testable

    assert all(same_functional(c) for c in (*CONTRASTS, *ATTENTION))
    assert {c[0]: testable(c) for c in CONTRASTS} == {
        "nonlinear-vs-linear-experts": False, "monomial-vs-polynomial-gate": True,
        "monomial-vs-polynomial-gate-merged": True, "monomial-tanh-vs-linear": False}
    assert not testable(next(c for c in ATTENTION if c[0] == "G1-vs-plain/over"))
    # the shipped v2 contrast tanh (D1) vs linear (D2) would not be one functional
    assert SETTINGS["gaussian-moe/over"].voronoi == "rbar"
    assert not same_functional(("x", "softmax-linear/ridge-tanh/over", "gaussian-moe/over", "voronoi", ""))
