"""Replicate paths: determinism (bitwise, any PYTHONHASHSEED, any worker count), pairing, nesting, losses and
the Voronoi exponents (the literature's and the derived ones).

Issue "rates v2", deliverable 6: one tiny real sweep is run under two hash seeds -- serially in this process and
on 2 worker processes in a fresh interpreter started with another PYTHONHASHSEED and default BLAS threads --
and the exported CSVs must be identical byte for byte. The fresh interpreter also prints the rows of a
quadratic-gate replicate path (the settings that used to depend on the hash seed); it runs while this process
does its half.
"""

import contextlib
import io
import json
import math
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from hmoe_theory.cli import main
from hmoe_theory.estimation.catalogue import SETTINGS
from hmoe_theory.estimation.exponents import block_of, derived_exponents, literature_exponents, rbar
from hmoe_theory.estimation.replicate import PairedSample, losses, near_truth_start, run_path, simulate
from hmoe_theory.estimation.setting import setting_from_mapping
from hmoe_theory.experiments import load_results, task_seed

QUADRATIC = "quadratic-polynomial/linear/over"
QUADRATIC_ARGS = (QUADRATIC, (60, 120), 0, 2024)
SWEEP = ["rates", "--setting", "softmax-linear/ridge-tanh/exact", "--n", "100,200", "--reps", "2", "--seed", "9",
         "--quiet", "--no-report"]
SCRIPT = """
import json, os, sys
from hmoe_theory.cli import main
from hmoe_theory.estimation.replicate import run_path
out, export = sys.argv[1:3]
code = main([*json.loads(sys.argv[3]), "--workers", "2", "--out", out, "--export", export])
rows = run_path({setting!r}, {sizes!r}, {rep!r}, {seed!r})
print(json.dumps({{"code": code, "rows": rows, "pid": os.getpid()}}))
"""


def _dump(rows) -> str:
    """Rows as JSON with every float in repr (exact); NaN spelled so, which keeps equality bitwise."""
    return json.dumps(rows, sort_keys=True)


@pytest.fixture(scope="module")
def hash_seed_runs(tmp_path_factory):
    """The sweep and the quadratic path in a fresh interpreter with another hash seed (2 workers), and here
    (serially). Returns the two exported CSVs, the other interpreter's output and its store."""
    base = tmp_path_factory.mktemp("hashseeds")
    script = SCRIPT.format(setting=QUADRATIC_ARGS[0], sizes=QUADRATIC_ARGS[1], rep=QUADRATIC_ARGS[2],
                           seed=QUADRATIC_ARGS[3])
    other = "1" if os.environ.get("PYTHONHASHSEED") == "0" else "0"  # unset: this process's seed is random
    argv = [sys.executable, "-c", script, str(base / "pool"), str(base / "pool.csv"), json.dumps(SWEEP)]
    # and with BLAS free to use its default thread count there (run_path must limit it itself)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    proc = subprocess.Popen(argv, env={**env, "PYTHONHASHSEED": other}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = main([*SWEEP, "--workers", "1", "--out", str(base / "serial"), "--export", str(base / "serial.csv")])
    finally:
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["code"] == 0
    return (base / "serial.csv").read_bytes(), (base / "pool.csv").read_bytes(), result, base / "pool"


def test_run_path_is_bitwise_deterministic_and_independent_of_the_hash_seed(hash_seed_runs):
    _, _, other, _ = hash_seed_runs
    here = _dump(run_path(*QUADRATIC_ARGS))
    assert _dump(run_path(*QUADRATIC_ARGS)) == here  # same process, same arguments
    assert _dump(other["rows"]) == here  # another interpreter, another hash seed


def test_tiny_sweep_exports_identical_bytes_under_two_hash_seeds_and_two_workers(hash_seed_runs):
    serial, pooled, other, pool_store = hash_seed_runs
    assert serial == pooled
    lines = serial.decode().splitlines()
    assert len(lines) == 1 + 2 * 2 and lines[0].startswith("setting,n,rep,seed,status,iterations,")
    assert {line.split(",")[3] for line in lines[1:]} == {str(task_seed(9, 0)), str(task_seed(9, 1))}
    assert "voronoi" in lines[0].split(",")
    assert not {r.worker for r in load_results(pool_store)} & {f"{socket.gethostname()}:{other['pid']}"}  # pool ran it


def test_nested_sizes_share_their_prefix_rows():
    """Warm starts: the fit at size n depends only on the sizes up to n, so adding a larger size keeps the rows."""
    short = run_path("softmax-linear/linear/exact", (200, 400), 0, 5)
    longer = run_path("softmax-linear/linear/exact", (200, 400, 800), 0, 5)
    assert [r["n"] for r in longer] == [200, 400, 800]
    assert _dump(longer[:2]) == _dump(short)
    assert _dump(run_path("softmax-linear/linear/exact", (400, 200), 0, 5)) == _dump(short)  # sizes sorted


def test_rows_carry_status_and_the_documented_metrics():
    from hmoe_theory.estimation.catalogue import regression_mapping

    catalogue = run_path("softmax-linear/linear/over", (150,), 0, 11)[0]["metrics"]
    assert "best_loss" not in catalogue  # the catalogue's protocol has no random path
    mapping = regression_mapping("softmax-linear", "linear", True)
    mapping["protocol"] = {**mapping["protocol"], "random_path": True}
    rows = run_path(mapping, (150, 300), 0, 11)
    for index, row in enumerate(rows):
        assert row["status"] in ("converged", "iteration-cap", "diverged", "failed")
        metrics = row["metrics"]
        assert {"voronoi", "voronoi_derived", "weight_discrepancy", "l2_error", "max_atom_distance", "iterations",
                "grad_norm", "loss", "best_loss", "best_voronoi"} <= set(metrics)
        assert metrics["best_loss"] <= metrics["loss"] and metrics["iterations"] >= 1
        assert all(isinstance(v, float) for v in metrics.values())
        assert ("cold_voronoi" in metrics) == (index == 0)  # rep 0 < COLD_CHECK_REPS, every 5th size
    assert "cold_voronoi" not in run_path("softmax-linear/linear/over", (150,), 2, 11)[0]["metrics"]


def test_settings_with_the_same_design_see_the_same_draws():
    sample = PairedSample.draw(123, 500, 2, "uniform")
    linear, tanh = SETTINGS["softmax-linear/linear/exact"], SETTINGS["quadratic-monomial/ridge-tanh/over"]
    (X1, y1), (X2, y2) = simulate(linear, sample), simulate(tanh, sample)
    np.testing.assert_array_equal(X1, X2)
    assert X1.min() >= -1 and X1.max() <= 1
    noise1 = y1 - linear.true_model.predict(X1, linear.true_theta)
    noise2 = y2 - tanh.true_model.predict(X2, tanh.true_theta)
    np.testing.assert_allclose(noise1, noise2, rtol=0, atol=1e-12)  # same noise draws z
    np.testing.assert_allclose(noise1, 0.1 * sample.z, rtol=0, atol=1e-12)
    # prefixes: a smaller n_max draws the first rows of the larger sample
    small = PairedSample.draw(123, 200, 2, "uniform")
    np.testing.assert_array_equal(small.raw_X, sample.raw_X[:200])
    np.testing.assert_array_equal(small.z, sample.z[:200])
    np.testing.assert_array_equal(small.u, sample.u[:200])
    assert not np.array_equal(PairedSample.draw(124, 200, 2, "uniform").raw_X, small.raw_X)


def test_gaussian_moe_labels_follow_the_gate():
    setting = SETTINGS["gaussian-moe/exact"]
    X, y = simulate(setting, PairedSample.draw(1, 20000, 2, "uniform"))
    pi = setting.true_model.gate_probabilities(X, setting.true_theta)
    means = setting.true_model.expert_kernel.values(setting.true_model.prepare(X), setting.true_model.split(setting.true_theta).expert)
    # E[y | x] is the gate-weighted mean of the experts: residual mean ~ 0 within sampling error
    residual = y - (pi.T * means).sum(axis=0)
    assert abs(residual.mean()) < 4 * residual.std() / math.sqrt(len(y))


def test_near_truth_start_splits_atoms_for_over_specified_fits():
    setting = SETTINGS["softmax-linear/linear/over"]
    rng = np.random.default_rng(0)
    start = near_truth_start(setting, rng).reshape(3, -1)
    truth = setting.true_theta.reshape(2, -1)
    # atom 1 split in two halves of its weight with opposite perturbations, atom 2 perturbed
    bias = setting.true_model.sizes[0]  # index of c_j in a component's row
    halves = 2 * truth[0]
    halves[bias] -= 2 * math.log(2)
    np.testing.assert_allclose(start[0] + start[1], halves, atol=1e-12)
    assert np.abs(start[2] - truth[1]).max() < 0.6
    assert np.abs(start[0] - start[1]).max() > 0


def test_losses_vanish_at_the_truth():
    for name in ("softmax-linear/linear/exact", "quadratic-polynomial/linear/exact", "gaussian-moe/exact"):
        setting = SETTINGS[name]
        theta = setting.true_theta
        if setting.estimator == "em":
            rows = np.concatenate([theta.reshape(2, -1), setting.true_variances[:, None]], axis=1)
            theta = rows.ravel()
        metrics = losses(setting, theta)
        assert metrics["voronoi"] == pytest.approx(0, abs=1e-12), name
        assert metrics["voronoi_derived"] == pytest.approx(0, abs=1e-12) and metrics["l2_error"] == pytest.approx(0, abs=1e-12)


def test_literature_exponents_and_rbar():
    assert [rbar(m) for m in range(5)] == [0, 1, 4, 6, 8]
    assert [block_of(n) for n in ("beta_1", "A_1_2", "a1", "w0", "alpha", "nu")] == ["beta", "A", "a", "w", "alpha", "nu"]
    strong = literature_exponents("strong", ("beta",), ("a", "alpha"), ("alpha",))
    assert all(strong.for_block(b, 2) == 2.0 and strong.for_block(b, 1) == 1.0 for b in ("beta", "a", "alpha"))
    lit = literature_exponents("rbar", ("beta",), ("a", "alpha"), ("alpha",))
    assert [lit.for_block(b, 3) for b in ("beta", "alpha", "a", "nu")] == [6.0, 6.0, 3.0, 3.0]
    assert [lit.for_block(b, 2) for b in ("beta", "alpha", "a", "nu")] == [4.0, 4.0, 2.0, 2.0]


def test_derived_exponents_reproduce_the_interaction_of_linear_experts():
    exponents, relations = derived_exponents(SETTINGS["softmax-linear/linear/exact"].gate,
                                             SETTINGS["softmax-linear/linear/exact"].expert, 2)
    assert relations  # e.g. dF/da = d2F/dbeta dalpha, with the relation text returned
    assert {b: (exponents.for_block(b, 2), exponents.for_block(b, 3)) for b in ("a", "beta", "alpha")} == {
        "a": (2.0, 3.0), "beta": (4.0, 6.0), "alpha": (4.0, 6.0)}  # a: rbar/2; beta, alpha: rbar
    monomial = SETTINGS["quadratic-monomial/linear/exact"]
    strong, _ = derived_exponents(monomial.gate, monomial.expert, 2)
    assert dict(strong.overfit) == {}  # no interaction: strong identifiability, exponent 2 everywhere
    assert all(strong.for_block(b, 3) == 2.0 for b in ("A", "a", "alpha"))


def test_run_path_accepts_a_schema_mapping_and_refuses_tiny_sizes():
    mapping = {
        "name": "typed", "inputs": ["x1"], "gate": "b*x1", "expert": "a*x1 + alpha", "design": "normal(0, 1)",
        "noise_variance": 0.01, "k": 2,
        "truth": [{"weight": 2.0, "b": 3.0, "a": 2.0, "alpha": 1.0}, {"weight": 1.0, "b": 0.0, "a": -2.0, "alpha": -1.0}],
    }
    rows = run_path(mapping, (50,), 0, 1)
    assert rows[0]["n"] == 50 and math.isfinite(rows[0]["metrics"]["voronoi"])
    assert _dump(rows) == _dump(run_path(setting_from_mapping(mapping), (50,), 0, 1))
    from hmoe_theory.errors import ModelError

    with pytest.raises(ModelError, match=r"typed: sample sizes must be >= 7 \(free parameters \+ 1\)"):
        run_path(mapping, (5, 50), 0, 1)


# -- the protocol as data ----------------------------------------------------------------------------------
_TYPED = {
    "name": "typed", "inputs": ["x1"], "gate": "b*x1", "expert": "a*x1 + alpha", "design": "uniform(-1, 1)",
    "noise_variance": 0.01, "k": 2,
    "truth": [{"weight": 2.0, "b": 3.0, "a": 2.0, "alpha": 1.0}, {"weight": 1.0, "b": 0.0, "a": -2.0, "alpha": -1.0}],
}


def _with(protocol: dict, **fields) -> dict:
    return {**_TYPED, **fields, "protocol": {"random_path": False, **protocol}}


def test_fixed_and_given_designs_are_shared_by_the_replicates():
    from hmoe_theory.estimation.replicate import _Data

    fixed = setting_from_mapping(_with({"design_points": "fixed", "design_seed": 5}))
    (X1, y1), (X2, y2) = _Data(fixed, 1, 300).at(fixed, 200), _Data(fixed, 2, 300).at(fixed, 200)
    np.testing.assert_array_equal(X1, X2)  # one design for every replicate
    assert not np.array_equal(y1, y2)  # fresh noise per replicate
    nested = setting_from_mapping(_TYPED)
    assert not np.array_equal(_Data(nested, 1, 300).at(nested, 200)[0], _Data(nested, 2, 300).at(nested, 200)[0])
    given = setting_from_mapping(_with({"design_points": "given", "points": [[-0.5], [0.25], [1.0]]}))
    X, _ = _Data(given, 1, 10).at(given, 7)
    assert X[:, 0].tolist() == [-0.5, 0.25, 1.0, -0.5, 0.25, 1.0, -0.5]


def test_fresh_samples_and_starts_make_each_size_independent_of_the_grid():
    fresh = _with({"sample": "fresh", "starts": "fresh", "start_perturbation": "n^-1/4"})
    path = run_path(fresh, (60, 120), 0, 3)
    alone = run_path(fresh, (120,), 0, 3)
    assert _dump(path[1:]) == _dump(alone)  # size 120 sees its own sample and start whatever the grid
    nested = run_path(_with({}), (60, 120), 0, 3)
    assert nested[1]["metrics"]["loss"] != path[1]["metrics"]["loss"]
    assert all(row["metrics"]["refit"] == 0.0 for row in path)


def test_n_dependent_truth_is_evaluated_at_each_size():
    from hmoe_theory.estimation.replicate import _Data

    mapping = {**_TYPED, "truth": [{**_TYPED["truth"][0], "b": "3 + 10*n**(-1/2)"}, _TYPED["truth"][1]]}
    moving = setting_from_mapping(mapping)
    data = _Data(moving, 4, 400)
    for n in (100, 400):
        at = moving.at(n)
        X, y = data.at(at, n)
        assert at.truth[0]["b"] == pytest.approx(3 + 10 / math.sqrt(n))
        np.testing.assert_allclose(y - at.true_model.predict(X, at.true_theta), 0.1 * data.sample.z[:n], atol=1e-12)
    rows = run_path(mapping, (100, 400), 2, 4)
    fixed = run_path(_TYPED, (100, 400), 2, 4)
    assert all(row["metrics"]["l2_error"] < 0.05 for row in rows)  # the fit is close to the truth at that n
    assert [r["metrics"]["loss"] for r in rows] != [r["metrics"]["loss"] for r in fixed]


def test_a_warm_fit_that_is_off_is_refitted_from_a_fresh_near_truth_start(monkeypatch):
    from hmoe_theory.estimation import replicate

    real, calls = replicate._fit, []

    def fake(setting, X, y, start, budget=1):
        calls.append(np.array(start))
        fit = real(setting, X, y, start, budget)
        if len(calls) == 2:  # the warm fit at the second size blows up
            return replicate._Fit(fit.theta + 100.0, "diverged", fit.iterations, fit.loss, fit.grad_norm)
        return fit

    monkeypatch.setattr(replicate, "_fit", fake)
    rows = run_path(_with({}), (60, 90, 120), 2, 5)  # rep >= COLD_CHECK_REPS: no cold checks
    assert [row["metrics"]["refit"] for row in rows] == [0.0, 1.0, 0.0]
    assert rows[1]["status"] == "converged" and len(calls) == 4
    assert np.abs(calls[2] - setting_from_mapping(_TYPED).true_theta).max() < 1.0  # a near-truth start
    assert np.abs(calls[3]).max() < 50  # the next size starts from the refit, not from the blow-up


def test_the_attention_parametrisation_runs_with_its_tied_d1_and_l2_rate_metrics():
    mapping = {"name": "att", "design": "uniform(-1, 1)", "noise_variance": 0.01,
               "attention": {"position": "plain", "heads": 1, "parametrisation": "attention"},
               "truth": [{"WQ": 2.0, "WK": 1.0, "WV": 1.0, "WO": 1.0}]}
    rows = run_path(mapping, (80, 160), 0, 2)
    assert set(rows[0]["metrics"]) == {"d1_merged", "l2_error", "iterations", "grad_norm", "loss", "cold_loss_gap"}
    assert all(row["metrics"]["l2_error"] < 0.05 and 0 < row["metrics"]["d1_merged"] < 1.5 for row in rows)  # 0.99, 0.064
