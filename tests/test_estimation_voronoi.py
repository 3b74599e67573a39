"""Voronoi cells and losses (hand-computed values), presets, translation alignment."""

import numpy as np
import pytest

from hmoe_theory.errors import ModelError, UnknownNameError
from hmoe_theory.estimation.voronoi import VORONOI_PRESETS, Atoms, VoronoiExponents, align_translation, voronoi_cells, voronoi_loss

TRUE = Atoms(np.log([1.0, 2.0]), {"beta": np.array([[1.0, 0.0], [0.0, 0.0]]), "a": np.array([[0.0], [3.0]])})


def test_identical_measures_have_zero_loss():
    loss = voronoi_loss(TRUE, TRUE)
    assert loss.value == 0.0 and loss.cells == ((0,), (1,))
    assert np.isnan(loss.overfit_cell_error) and loss.exact_cell_error == 0.0


def test_hand_computed_loss_with_one_overfitted_cell():
    # atoms 0 and 1 fall in V_1 (near true atom 1), atom 2 in V_2
    fitted = Atoms(
        np.log([0.5, 0.25, 2.5]),
        {"beta": np.array([[1.1, 0.0], [0.8, 0.0], [0.0, 0.0]]), "a": np.array([[0.0], [0.0], [2.9]])},
    )
    loss = voronoi_loss(fitted, TRUE, "strong")
    assert loss.cells == ((0, 1), (2,))
    weight = abs(0.75 - 1.0) + abs(2.5 - 2.0)
    overfit = 0.5 * 0.1**2 + 0.25 * 0.2**2  # exponent 2 in over-fitted cells (beta block; a block is 0)
    exact = 2.5 * 0.1  # exponent 1 in exact cells (a block)
    assert loss.weight_term == pytest.approx(weight)
    assert loss.overfit_term == pytest.approx(overfit)
    assert loss.exact_term == pytest.approx(exact)
    assert loss.value == pytest.approx(weight + overfit + exact)
    # per-block exponents: beta gets exponent 4 in over-fitted cells
    custom = voronoi_loss(fitted, TRUE, VoronoiExponents(overfit={"beta": 4.0}))
    assert custom.overfit_term == pytest.approx(0.5 * 0.1**4 + 0.25 * 0.2**4)


def test_gaussian_linear_preset_uses_rbar():
    spec = VORONOI_PRESETS["gaussian-linear"]
    assert spec.for_block("beta", 2) == 4 and spec.for_block("a", 2) == 2 and spec.for_block("nu", 3) == 3
    assert spec.for_block("alpha", 1) == 1
    assert spec.for_block("beta", 4) == 8 and spec.for_block("a", 4) == 4  # rbar(4) = 8 (claim r-bar.four-equals-eight)
    with pytest.raises(ModelError, match="rbar"):
        spec.for_block("beta", 5)


def test_cells_follow_the_nearest_true_atom():
    fitted = Atoms(np.zeros(3), {"beta": np.array([[0.1, 0.0], [0.9, 0.1], [5.0, 0.0]]), "a": np.array([[2.5], [0.2], [0.0]])})
    assert voronoi_cells(fitted, TRUE) == ((1, 2), (0,))


def test_alignment_removes_a_common_translation():
    fitted = Atoms(
        np.log([0.5, 0.5, 2.1]),
        {"beta": np.array([[1.1, 0.1], [0.9, -0.1], [0.05, 0.0]]), "a": np.array([[0.1], [-0.1], [3.05]])},
    )
    base = voronoi_loss(align_translation(fitted, TRUE, ["beta"], ["a"]), TRUE)
    shifted = Atoms(fitted.log_weights + 3.0, {"beta": fitted.blocks["beta"] + [2.0, -7.0], "a": fitted.blocks["a"]})
    aligned = align_translation(shifted, TRUE, ["beta"], ["a"])
    assert voronoi_loss(aligned, TRUE).value == pytest.approx(base.value, abs=1e-12)
    # the reference (last) true atom is matched exactly after alignment
    np.testing.assert_allclose(aligned.blocks["beta"][2], TRUE.blocks["beta"][1])
    assert np.exp(aligned.log_weights[2]) == pytest.approx(2.0)
    # without alignment the translated measure looks far away
    assert voronoi_loss(shifted, TRUE).value > 10 * base.value


def test_errors():
    with pytest.raises(UnknownNameError, match="unknown Voronoi preset"):
        voronoi_loss(TRUE, TRUE, "weak")
    with pytest.raises(ModelError, match="blocks differ"):
        voronoi_loss(Atoms(np.zeros(2), {"beta": np.zeros((2, 2))}), TRUE)
    with pytest.raises(ModelError, match="must have shape"):
        Atoms(np.zeros(2), {"beta": np.zeros((3, 2))})
