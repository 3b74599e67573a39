"""Estimation layer: simulate from a true MoE, fit it with verified stopping, measure Voronoi losses, rates.

* :mod:`.kernels` / :mod:`.model` -- the hand-written Newton system of softmax regression mixtures, the fast path
  registered on :class:`hmoe_theory.families.Mixture` (the default is :mod:`hmoe_theory.newton_system`).
* :mod:`.least_squares` -- :func:`fit_least_squares`, the one fit of every regression model: saddle-free damped
  Newton in the box with a verified status per fit, variable projection for parameters that enter linearly.
* :mod:`.em` -- :class:`GaussianMoEEM` (vectorised EM, Newton/IRLS gate M-step, features from the families).
* :mod:`.voronoi` / :mod:`.exponents` -- Voronoi losses; the literature's and the derived exponents.
* :mod:`.setting` / :mod:`.catalogue` / :mod:`.attention_catalogue` -- settings as data (one TOML schema for
  mixtures and attention entries, with the sampling protocol) and the named catalogues.
* :mod:`.replicate` -- the one replicate function of every setting (:func:`run_path`, the experiments' contract).
* :mod:`.rates` -- slopes of the mean-loss curve (OLS, Theil-Sen) with replicate-bootstrap CIs, paired
  contrasts, power law vs 1/log n where the design separates them.
* :mod:`.metrics` -- fit statuses and metric names.
"""

from .em import GaussianMoEEM, GaussianMoEParams, mean_log_likelihood
from .least_squares import LeastSquaresMoE, fit_least_squares
from .model import SoftmaxMoE
from .rates import ContrastResult, DecayTest, LineFit, RateResult, ReplicateGrid, analyse_rate, paired_contrast
from .catalogue import CONTRASTS, DEFAULT_SETTINGS, SETTINGS, get_setting
from .replicate import run_path
from .setting import AttentionEntry, Protocol, Setting, load_setting_file, setting_from_mapping
from .voronoi import VORONOI_PRESETS, Atoms, VoronoiExponents, VoronoiLoss, align_translation, voronoi_cells, voronoi_loss

__all__ = [
    "CONTRASTS",
    "load_setting_file",
    "run_path",
    "setting_from_mapping",
    "DEFAULT_SETTINGS",
    "SETTINGS",
    "VORONOI_PRESETS",
    "Atoms",
    "AttentionEntry",
    "Protocol",
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
    "fit_least_squares",
    "get_setting",
    "mean_log_likelihood",
    "paired_contrast",
    "voronoi_cells",
    "voronoi_loss",
]
