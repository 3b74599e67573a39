"""Learned attention classifiers: toy tasks, training, and curvature of the representation surface."""

import numpy as np
import pytest
import sympy as sp

from hmoe_theory.errors import ModelError, UnknownNameError
from hmoe_theory.geometry.learned import TASKS, fit_classifier, make_task, spearman
from hmoe_theory.geometry.metric import PullbackMetric
from hmoe_theory.symbols import real_symbol


@pytest.mark.parametrize("task", TASKS)
def test_tasks_are_balanced_seeded_and_two_dimensional(task):
    X, y = make_task(task, 101, seed=4)
    assert X.shape == (101, 2) and set(np.unique(y)) == {0, 1} and abs(int(y.sum()) - 50) <= 1
    np.testing.assert_array_equal(make_task(task, 101, seed=4)[0], X)


def test_xor_labels_follow_quadrant_signs():
    X, y = make_task("xor", 200, seed=0)
    assert np.all((X[:, 0] * X[:, 1] > 0) == (y == 1))


def test_gated_classifier_learns_blobs_and_its_curvature_matches_the_exact_map():
    X, y = make_task("blobs", 200, seed=0)
    model = fit_classifier(X, y, gated=True, seed=0, steps=20)
    assert model.score(*make_task("blobs", 200, seed=1)) > 0.95
    points = np.array([[0.3, -0.2], [-1.0, 0.5]])
    K, scaled = model.curvature(points)
    # the same representation written in sympy (weights as exact rationals); 30-digit mpmath reference.
    # These surfaces are nearly degenerate (sigma_min/sigma_max ~ 1e-6): the QR-based numeric path must cope.
    x1, x2 = real_symbol("x_1"), real_symbol("x_2")
    L = model.layer

    def q(value):
        return sp.Rational(repr(float(value)))

    z = [q(model.E[k, 0]) * x1 + q(model.E[k, 1]) * x2 + q(model.e[k]) for k in range(len(model.e))]
    logits = [sum(q(L.A[i, k]) * z[k] for k in range(len(z))) + q(L.a[i]) for i in range(L.A.shape[0])]
    weights = [sp.exp(s) for s in logits]
    total = sum(weights)
    h = [sum(w * q(L.V[i, k]) for i, w in enumerate(weights)) / total for k in range(len(z))]
    h = [hk / (1 + sp.exp(-(sum(q(L.G[k, j]) * z[j] for j in range(len(z))) + q(L.c[k])))) for k, hk in enumerate(h)]
    reference = PullbackMetric(h, [x1, x2])
    for point, value in zip(points, K):
        assert abs(value - float(reference.reference_gaussian_curvature(point, digits=30))) < 1e-6 * max(1, abs(value))
    assert np.all(np.isfinite(scaled))


def test_spearman_and_input_checks():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    with pytest.raises(UnknownNameError, match="unknown task"):
        make_task("checkerboard", 10, 0)
    with pytest.raises(ModelError, match="must be"):
        fit_classifier(np.zeros((5, 3)), np.zeros(5), gated=False, seed=0)
