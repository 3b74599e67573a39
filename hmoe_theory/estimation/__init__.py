"""Estimation layer: simulate from a true MoE, fit it, measure Voronoi losses, fit convergence rates.

* :mod:`.components` / :mod:`.model` -- vectorised gates, experts and the softmax-gated regression MoE
  (exact gradient and Jacobian; same parameter order as :mod:`hmoe_theory.families`).
* :mod:`.least_squares` -- :class:`LeastSquaresMoE` (Levenberg-Marquardt or L-BFGS-B, restarts).
* :mod:`.em` -- :class:`GaussianMoEEM` (vectorised EM, Newton/IRLS gate M-step).
* :mod:`.sampling` -- X ~ Uniform[-1, 1]^d, regression and Gaussian-MoE responses.
* :mod:`.voronoi` -- Voronoi cells and losses with per-block exponents and presets.
* :mod:`.rates` -- slopes of the mean-loss curve (OLS, Theil-Sen) with replicate-bootstrap CIs, paired
  contrasts, power law vs 1/log n where the design separates them.
* :mod:`.settings` -- the settings catalogue and :func:`run_replicate` (the experiments' contract).
"""

from .em import GaussianMoEEM, GaussianMoEParams, mean_log_likelihood
from .least_squares import LeastSquaresMoE
from .model import SoftmaxMoE
from .rates import ContrastResult, DecayTest, LineFit, RateResult, ReplicateGrid, analyse_rate, paired_contrast
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
    "ContrastResult",
    "DecayTest",
    "LineFit",
    "RateResult",
    "ReplicateGrid",
    "Setting",
    "SoftmaxMoE",
    "VoronoiExponents",
    "VoronoiLoss",
    "align_translation",
    "analyse_rate",
    "get_setting",
    "mean_log_likelihood",
    "paired_contrast",
    "run_replicate",
    "sample_gaussian_moe",
    "sample_regression",
    "uniform_inputs",
    "voronoi_cells",
    "voronoi_loss",
]
