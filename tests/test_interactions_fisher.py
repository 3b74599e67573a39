"""Fisher information of Gaussian mixtures of experts: exact values, singular when over-specified."""

import numpy as np
import pytest

from hmoe_theory.errors import ModelError
from hmoe_theory.families import Mixture
from hmoe_theory.interactions.fisher import fisher_information

TWO = Mixture.from_names("softmax-linear", "linear", 2, 1, "density")
OVER = "beta_1_1=0,beta0_1=0,a_1_1=1/2,alpha_1=1/4,nu_1=1/2,beta_2_1=0,beta0_2=0,a_2_1=1/2,alpha_2=1/4,nu_2=1/2"
GENERIC = "beta_1_1=0.7,beta0_1=0.2,a_1_1=1.5,alpha_1=-0.5,nu_1=0.3,beta_2_1=0,beta0_2=0,a_2_1=-1,alpha_2=0.8,nu_2=0.5"


def test_single_gaussian_linear_regression_matches_the_closed_form():
    # p(y|x) = N(y | a x + alpha, nu), X ~ U[-1, 1]: I = diag(E[x^2]/nu, 1/nu, 1/(2 nu^2)), E[x^2] = 1/3
    mixture = Mixture.from_names("softmax-linear", "linear", 1, 1, "density")
    result = fisher_information(mixture, "beta_1_1=0.4,beta0_1=0,a_1_1=0.9,alpha_1=-0.3,nu_1=0.5")
    assert result.params == ("a_1_1", "alpha_1", "nu_1")
    np.testing.assert_allclose(result.matrix, np.diag([1 / 1.5, 2.0, 2.0]), atol=1e-10)
    assert result.rank == 3 and not result.singular


def test_over_specified_mixture_is_singular():
    result = fisher_information(TWO, OVER)
    assert result.params == ("beta_1_1", "beta0_1", "a_1_1", "alpha_1", "nu_1", "a_2_1", "alpha_2", "nu_2")
    assert result.singular and result.rank == 3  # two identical components collapse to one (a, alpha, nu)
    assert result.singular_values[3] < 1e-12 < result.singular_values[2]
    # moving alpha_1 up and alpha_2 down by the same amount does not change p
    direction = np.zeros(8)
    direction[[3, 6]] = [1, -1]
    assert direction @ result.matrix @ direction < 1e-12


def test_generic_exact_mixture_is_regular_and_quadrature_is_converged():
    result = fisher_information(TWO, GENERIC)
    assert result.rank == 8 and result.singular_values[-1] > 1e-3
    assert result.error.max() < 1e-6  # |I(n) - I(n/2)|, a conservative bound


def test_monte_carlo_agrees_with_quadrature_within_its_error_bars():
    quadrature = fisher_information(TWO, GENERIC)
    mc = fisher_information(TWO, GENERIC, method="monte-carlo", samples=20000, seed=3)
    z = np.abs(mc.matrix - quadrature.matrix) / np.maximum(mc.error, 1e-12)
    assert z.max() < 5
    assert mc.rank == 8


def test_monte_carlo_also_sees_the_over_specified_singularity():
    assert fisher_information(TWO, OVER, method="monte-carlo", samples=4000).rank == 3


def test_two_dimensional_quadrature_runs_and_is_regular():
    mixture = Mixture.from_names("softmax-linear", "linear", 2, 2, "density")
    result = fisher_information(mixture, None, nodes_x=12, nodes_y=160)
    assert result.rank == len(result.params) == 11


@pytest.mark.parametrize(
    ("mixture", "kwargs", "message"),
    [
        (Mixture.from_names("softmax-linear", "linear", 2, 1), {}, "density-mode"),
        (Mixture.from_names("sigmoid", "linear", 2, 1, "density"), {}, "softmax"),
        (Mixture.from_names("softmax-linear", "linear", 2, 3, "density"), {}, "d <= 2"),
        (TWO, {"method": "simpson"}, "method"),
        (TWO, {"point": "nu_1=-1"}, "positive"),
        (TWO, {"point": "zeta=1"}, "no parameter"),
        (TWO, {"point": {"nu_1": float("nan")}}, "finite"),
        (TWO, {"free": ["zeta"]}, "unknown parameter"),
    ],
)
def test_bad_input(mixture, kwargs, message):
    with pytest.raises(ModelError, match=message):
        fisher_information(mixture, **kwargs)


def test_partial_point_lists_the_values_drawn_at_random():
    result = fisher_information(TWO, "beta_1_1=1/2, nu_1=2", nodes_x=8, nodes_y=80)
    assert result.point["beta_1_1"] == 0.5 and result.point["nu_1"] == 2.0
    assert "beta_1_1" not in result.drawn and "nu_1" not in result.drawn
    assert set(result.drawn) == set(result.point) - {"beta_1_1", "nu_1"}
    assert "drawn at random (not given in the point): beta0_1=" in result.table()
    assert result.to_dict()["drawn"] == list(result.drawn)


def test_mixture_size_is_bounded():
    from hmoe_theory.errors import BoundError

    with pytest.raises(BoundError, match="HMOE_MAX_K"):
        fisher_information(Mixture.from_names("softmax-linear", "linear", 13, 1, "density"))


def test_a_small_mean_offset_is_regular_by_proof_although_float64_says_rank_10():
    """Components 1 and 2 differ only by alpha_2 - alpha_1 = 1e-3: float64 eigenvalues fall below the tolerance
    (numerical rank 10 of 13), the evaluation-minor certificate proves all 13 score functions independent."""
    mixture = Mixture.from_names("softmax-linear", "linear", 3, 1, "density")
    point = ("beta_1_1=1,beta0_1=0,a_1_1=1,alpha_1=0,nu_1=1,beta_2_1=1,beta0_2=0,a_2_1=1,alpha_2=1/1000,nu_2=1,"
             "beta_3_1=0,beta0_3=0,a_3_1=-1,alpha_3=1,nu_3=1/2")
    result = fisher_information(mixture, point, nodes_x=24, nodes_y=200)
    assert result.numerical_rank == 10 and result.rank == 13 and result.rank_proved and not result.singular
    assert "numerical rank 10" in result.table() and "rank 13 of 13 (regular, proved" in result.table()


def test_over_specified_rank_is_proved_by_independence_and_exact_relations():
    result = fisher_information(TWO, OVER)
    assert result.rank_proved and (result.certificate.lower, result.certificate.upper) == (3, 3)
