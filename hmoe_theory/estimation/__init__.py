"""Estimation layer: simulate from a true MoE, fit it, measure Voronoi losses, fit convergence rates.

* :mod:`.components` / :mod:`.model` -- vectorised gates, experts and the softmax-gated regression MoE
  (exact gradient and Jacobian; same parameter order as :mod:`hmoe_theory.families`).
* :mod:`.least_squares` -- :class:`LeastSquaresMoE` (Levenberg-Marquardt or L-BFGS-B, restarts).
* :mod:`.em` -- :class:`GaussianMoEEM` (vectorised EM, Newton/IRLS gate M-step).
* :mod:`.sampling` -- X ~ Uniform[-1, 1]^d, regression and Gaussian-MoE responses.
* :mod:`.voronoi` -- Voronoi cells and losses with per-block exponents and presets.
* :mod:`.rates` -- log-log slope with bootstrap CI; power law vs 1/log n test.
* :mod:`.settings` -- the settings catalogue and :func:`run_replicate` (the experiments' contract).
"""

from .em import GaussianMoEEM, GaussianMoEParams, mean_log_likelihood
from .least_squares import LeastSquaresMoE
from .model import SoftmaxMoE
from .rates import RateFit, RateModelTest, fit_rate, power_law_vs_log_test
from .sampling import sample_gaussian_moe, sample_regression, uniform_inputs
from .settings import DEFAULT_SETTINGS, DEFAULT_SIZES, SETTINGS, Setting, get_setting, run_replicate
from .voronoi import VORONOI_PRESETS, Atoms, VoronoiExponents, VoronoiLoss, align_translation, voronoi_cells, voronoi_loss

__all__ = [
    "DEFAULT_SETTINGS",
    "DEFAULT_SIZES",
    "SETTINGS",
    "VORONOI_PRESETS",
    "Atoms",
    "GaussianMoEEM",
    "GaussianMoEParams",
    "LeastSquaresMoE",
    "RateFit",
    "RateModelTest",
    "Setting",
    "SoftmaxMoE",
    "VoronoiExponents",
    "VoronoiLoss",
    "align_translation",
    "fit_rate",
    "get_setting",
    "mean_log_likelihood",
    "power_law_vs_log_test",
    "run_replicate",
    "sample_gaussian_moe",
    "sample_regression",
    "uniform_inputs",
    "voronoi_cells",
    "voronoi_loss",
]
