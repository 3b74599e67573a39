"""Estimation on attention entries: the symbolic least-squares fitter, the loss atoms, the replicate path."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hmoe_theory.errors import ModelError
from hmoe_theory.estimation import attention_catalogue as ar
from hmoe_theory.estimation.replicate import run_path
from hmoe_theory.estimation.least_squares import fit_least_squares
from hmoe_theory.newton_system import DerivedSystem
from hmoe_theory.estimation.replicate import PairedSample, simulate
from hmoe_theory.estimation.setting import AttentionEntry
from hmoe_theory.experiments import SweepSpec, load_results, run_sweep, summarise

SQRT2 = math.sqrt(2.0)


def _data(position: str, n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    return simulate(ar.SETTINGS[f"attention/{position}/exact"], PairedSample.draw(seed, n, 2, "uniform"))


def test_system_matches_finite_differences_of_the_compiled_entry():
    model = ar.entry_function("G2", 2).newton_system()
    X, y = _data("G2", 300)
    theta = np.random.default_rng(0).normal(0.5, 0.4, model.n_params)
    r, norms, g, H = model.system(X, y, theta)
    assert np.allclose(r, model.predict(X, theta) - y, atol=1e-13)
    eps = 1e-6
    grads, hess = [], []
    for a in range(model.n_params):
        step = np.zeros(model.n_params)
        step[a] = eps
        half = [0.5 * np.sum((model.predict(X, theta + s * step) - y) ** 2) for s in (1, -1)]
        grads.append((half[0] - half[1]) / (2 * eps))
        hess.append((model.system(X, y, theta + step)[2] - model.system(X, y, theta - step)[2]) / (2 * eps))
    assert np.allclose(g, grads, rtol=1e-6, atol=1e-6)
    assert np.allclose(H, np.array(hess), rtol=1e-5, atol=1e-5)
    assert np.allclose(H, H.T)
    gauss = ar.entry_function("G2", 2).newton_system(hessian="gauss-newton").system(X, y, theta)[3]
    J = np.array([(model.predict(X, theta + e * eps) - model.predict(X, theta - e * eps)) / (2 * eps)
                  for e in np.eye(model.n_params)])
    assert np.allclose(gauss, J @ J.T, rtol=1e-5, atol=1e-5)
    assert np.allclose(norms, np.sum(J**2, axis=1), rtol=1e-5)


@pytest.mark.parametrize("position", ["plain", "G1", "G2"])
def test_fitter_recovers_a_well_specified_attention_layer(position):
    model = ar.regression(position, 1)
    X, y = _data(position, 4000)
    truth = ar.true_theta(position)
    start = truth + np.random.default_rng(1).normal(0, 0.1, truth.size)
    fit = fit_least_squares(model, X, y, start)
    assert fit.status == "converged"
    assert fit.grad_norm < 1e-8
    # the residual variance is the noise variance sigma^2 = 0.01 (loss = half of it) up to sampling error
    assert abs(2 * fit.loss - ar.NOISE_VARIANCE) < 0.001
    assert np.max(np.abs(fit.theta - truth)) < 0.35
    assert ar.losses(ar.SETTINGS[f"attention/{position}/exact"], fit.theta)["l2_error"] < 0.01


def test_fitter_rejects_bad_shapes():
    model = ar.regression("plain", 1)
    with pytest.raises(ModelError, match="samples"):
        fit_least_squares(model, np.zeros((3, 2)), np.zeros(3), np.zeros(4))
    with pytest.raises(ModelError, match="shape"):
        model.predict(np.zeros((5, 3)), np.zeros(4))
    with pytest.raises(ModelError, match="hessian"):
        ar.entry_function("plain", 1).newton_system(hessian="bfgs")


def test_atoms_and_voronoi_loss_on_a_hand_built_example():
    # plain, 2 heads; parameter order S_1_1, S_1_2, S_2_1, S_2_2, V_1_(j=1), V_1_(j=2), V_2_(j=1), V_2_(j=2)
    names = [p.name for p in ar.entry_function("plain", 2).params]
    assert names == ["S_1_1_1_1", "S_1_2_1_1", "S_2_1_1_1", "S_2_2_1_1", "V_1_1_1_1", "V_1_1_2_1", "V_2_1_1_1",
                     "V_2_1_2_1"]
    theta = np.array([2.0, 3.0, 2.0, 2.0, 0.6, 0.8, 0.0, 0.5])
    atoms = ar.read_atoms(AttentionEntry("plain"), 2, theta)
    assert np.allclose(np.exp(atoms.log_weights), [1.0, 0.5])
    assert np.allclose(atoms.blocks["V"], [[0.6, 0.8], [0.0, 1.0]])
    assert np.allclose(atoms.blocks["S"], [[2.0, 3.0], [2.0, 2.0]])
    assert "g" not in atoms.blocks
    truth = ar.read_atoms(AttentionEntry("plain"), 1, ar.true_theta("plain"))
    assert np.allclose(np.exp(truth.log_weights), [SQRT2]) and np.allclose(truth.blocks["V"], [[1 / SQRT2] * 2])
    direction = np.array([1, 1]) / SQRT2
    by_hand = (abs(1.5 - SQRT2)  # one cell holding both atoms: weight term, then squared distances per block
               + 1.0 * (np.sum((np.array([0.6, 0.8]) - direction) ** 2) + 1.0)
               + 0.5 * (np.sum((np.array([0.0, 1.0]) - direction) ** 2) + 0.0))
    metrics = ar.losses(ar.SETTINGS["attention/plain/over"], theta)
    assert metrics["voronoi"] == pytest.approx(by_hand, rel=1e-12)
    assert metrics["weight_discrepancy"] == pytest.approx(abs(1.5 - SQRT2), rel=1e-12)
    # the gauge: (w, V) -> (w c, V / c) does not change the entry; the mass reads |w| ||V|| = ||u||
    assert np.allclose(ar.read_atoms(AttentionEntry("plain"), 1, ar.true_theta("plain")).log_weights, [math.log(SQRT2)])


def test_gate_weights_enter_their_head_or_every_head():
    g1 = ar.read_atoms(AttentionEntry("G1"), 2, np.array([2, 2, 2, 2, 1, 1, 1, 1, 0.5, -0.7]))
    assert np.allclose(g1.blocks["g"], [[0.5], [-0.7]])
    g5 = ar.read_atoms(AttentionEntry("G5"), 2, np.array([2, 2, 2, 2, 1, 1, 1, 1, 0.3]))
    assert np.allclose(g5.blocks["g"], [[0.3], [0.3]])
    # a zero value atom has weight 0 and direction 0 (no division by zero)
    zero = ar.read_atoms(AttentionEntry("plain"), 2, np.array([2, 2, 2, 2, 1, 1, 0, 0.0]))
    assert np.exp(zero.log_weights)[1] == 0 and np.all(zero.blocks["V"][1] == 0)


def test_over_specified_start_splits_the_true_head_with_opposite_perturbations():
    setting = ar.SETTINGS["attention/G2/over"]
    start = ar.near_truth_start(setting, np.random.default_rng(7))
    names = [p.name for p in ar.entry_function("G2", 2).params]
    value = dict(zip(names, start))
    truth = dict(zip(names, setting.attention.theta(setting.truth, 2)))
    for name in names:
        twin = name.replace("_1_", "_2_", 1) if name.split("_")[1] == "1" else None
        if twin is None:
            continue
        half = 0.5 if name.startswith("V_") else 1.0
        delta = value[name] - half * truth[name]
        assert value[twin] - half * truth[twin] == pytest.approx(-delta, abs=1e-15)
        assert abs(delta) < 0.5 and delta != 0


def test_replicate_path_is_deterministic_nested_and_paired():
    sizes = [60, 90, 140]
    first = run_path("attention/G1/exact", sizes, 0, 11)
    again = run_path("attention/G1/exact", sizes, 0, 11)
    assert first == again
    assert [r["n"] for r in first] == sizes
    assert {r["status"] for r in first} <= {"converged", "iteration-cap", "diverged", "failed"}
    assert set(first[0]["metrics"]) >= {"voronoi", "weight_discrepancy", "l2_error", "loss", "cold_loss_gap"}
    other = run_path("attention/G1/exact", sizes, 1, 12)
    assert other[0]["metrics"]["loss"] != first[0]["metrics"]["loss"]
    # paired: every position sees the same X and the same noise draws z
    sample = PairedSample.draw(11, 140, 2, "uniform")
    (X_a, y_a), (X_b, y_b) = (simulate(ar.SETTINGS[f"attention/{p}/exact"], sample) for p in ("plain", "G2"))
    assert np.array_equal(X_a, X_b)
    noise_a = y_a - ar.regression("plain", 1).predict(X_a, ar.true_theta("plain"))
    noise_b = y_b - ar.regression("G2", 1).predict(X_b, ar.true_theta("G2"))
    assert np.allclose(noise_a, noise_b, atol=1e-14) and np.allclose(noise_a, 0.1 * sample.z, atol=1e-14)
    # nested: a shorter path is the prefix of a longer one (same sample, same starts)
    assert run_path("attention/G1/exact", sizes[:2], 0, 11) == first[:2]
    with pytest.raises(ModelError, match="sample sizes"):
        run_path("attention/G1/over", [8, 100], 0, 11)


def test_runner_and_summary_take_the_replicate_unchanged(tmp_path):
    spec = SweepSpec(settings=("attention/plain/exact", "attention/G1/exact"), sizes=(60, 120, 240), reps=3, seed=0)
    report = run_sweep(spec, tmp_path, replicate="hmoe_theory.estimation.attention_replicate:run_path")
    assert report.complete and report.computed == 6
    records = load_results(tmp_path)
    assert len(records) == 18
    summary = summarise(records, [c for c in ar.CONTRASTS if c[0] == "G1-vs-plain/exact"], n_boot=50)
    assert summary.contrasts[0].setting_a == "attention/G1/exact"
    assert {r.metric for r in summary.settings[0].results} >= {"voronoi", "l2_error", "weight_discrepancy"}
    assert math.isfinite(summary.result("attention/plain/exact", "l2_error").fit.slope)


@pytest.mark.parametrize("position,heads", [("plain", 2), ("G1", 2), ("G3", 2), ("G5", 2), ("G2", 1)])
def test_llvm_system_equals_the_numpy_kernel_of_the_same_expressions(position, heads):
    # reference: the previous engine (one numpy kernel of f, its gradient and the full upper-triangle Hessian)
    from hmoe_theory.compile import compile_exprs

    model = ar.entry_function(position, heads).newton_system()
    f, params = model.expr, model.params
    grad = [f.diff(p) for p in params]
    rows, cols = np.triu_indices(model.n_params)
    kernel = compile_exprs([f, *grad, *(grad[a].diff(params[b]) for a, b in zip(rows, cols))],
                           [*model.inputs, *params])
    n = 5000  # more than two blocks of the new kernel, the last one partial
    X, y = _data(position, n, seed=5)
    theta = np.random.default_rng(2).normal(0.8, 0.6, model.n_params)
    values = np.broadcast_to(kernel(*X.T, *theta), (len(rows) + model.n_params + 1, n))
    p = model.n_params
    r_ref = values[0] - y
    J = values[1 : 1 + p]
    S = np.zeros((p, p))
    S[rows, cols] = values[1 + p :] @ r_ref
    H_ref = J @ J.T + S + np.triu(S, 1).T
    r, norms, g, H = model.system(X, y, theta)
    for new, ref in [(r, r_ref), (norms, np.sum(J**2, axis=1)), (g, J @ r_ref), (H, H_ref)]:
        assert np.max(np.abs(new - ref)) <= 1e-12 * np.max(np.abs(ref))
    # the prepared layout gives the same bits as raw X, and predict agrees with the system's residual
    data = model.prepare(X)
    assert all(np.array_equal(a, b) for a, b in zip(model.system(data, y, theta), (r, norms, g, H)))
    assert np.max(np.abs(model.predict(data, theta) - y - r)) <= 1e-12 * np.max(np.abs(r))


def test_second_order_program_matches_sympy_on_every_node_kind():
    # exp nested in a sigmoid, negative / positive / fractional powers, and erf (the generic-node fallback)
    import sympy as sp

    from hmoe_theory.newton_system import second_order_program

    x, a, b, c = sp.symbols("x a b c")
    expr = (a * sp.exp(b * x / (1 + sp.exp(-c * x))) / (1 + sp.exp(-c * x)) ** 2 + sp.sqrt(a**2 + x**2)
            + sp.erf(b * x) * c + a**3 * b)
    params = (a, b, c)
    program = second_order_program(expr, params)
    point = {x: 0.7, a: 1.3, b: -0.4, c: 0.9}
    values = dict(point)
    for symbol, definition in program.auxiliaries:
        values[symbol] = float(definition.xreplace(values))
    # exp(-c x); R = 1 / (1 + exp(-c x)), shared by the sigmoid and its square; exp(b x R); exp(-b^2 x^2) of erf'
    assert sorted(str(d) for _, d in program.auxiliaries) == ["1/(A_1 + 1)", "exp(-b**2*x**2)", "exp(-c*x)",
                                                              "exp(A_2*b*x)"]
    assert float(program.value.xreplace(values)) == pytest.approx(float(expr.xreplace(point)), rel=1e-14)
    for k, p in enumerate(params):
        assert float(program.gradient[k].xreplace(values)) == pytest.approx(float(expr.diff(p).xreplace(point)),
                                                                          rel=1e-13)
    for i, j in [(i, j) for i in range(3) for j in range(i, 3)]:
        exact = float(expr.diff(params[i], params[j]).xreplace(point))
        assert float(program.curvature.get((i, j), 0).xreplace(values)) == pytest.approx(exact, rel=1e-13)
    # the compiled system on this function equals the numpy kernel of sympy's derivatives
    model = DerivedSystem(expr, (x,), params)
    X = np.linspace(-1, 1, 50)[:, None]
    theta = np.array([1.3, -0.4, 0.9])
    r, _, g, H = model.system(X, np.zeros(50), theta)
    grads = np.array([[float(expr.diff(p).subs({x: v, a: 1.3, b: -0.4, c: 0.9})) for v in X[:, 0]] for p in params])
    assert np.allclose(g, grads @ r, rtol=1e-12, atol=0)
    gauss = DerivedSystem(expr, (x,), params, hessian="gauss-newton").system(X, np.zeros(50), theta)[3]
    assert np.allclose(gauss, grads @ grads.T, rtol=1e-12, atol=0)
    assert not np.allclose(H, gauss)  # the residual curvature term is there


def test_replicate_path_bits_do_not_depend_on_the_hash_seed():
    import json
    import subprocess
    import sys

    code = ("import json; from hmoe_theory.estimation import attention_replicate as ar; "
            "print(json.dumps([ar.run_path(s, [40, 90], 0, 3) for s in ('attention/G3/over', 'attention/G5/exact')]))")
    outputs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**__import__("os").environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2024")]
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])[1] == run_path("attention/G5/exact", [40, 90], 0, 3)
