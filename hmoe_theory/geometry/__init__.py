"""Fisher-Rao geometry of Gaussian mean models ``y ~ N(Y(theta), Sigma)`` built from attention and gates.

* :mod:`.curvature` -- Gauss-equation curvature from ``J`` and ``H`` (numeric batched / exact / mpmath),
  the sign convention (sphere of radius ``R``: ``K = +1/R^2``) and the immersion check;
* :mod:`.metric` -- :class:`PullbackMetric`: metric ``J^T Sigma^-1 J`` and curvature of a symbolic mean map;
* :mod:`.exact_field`, :mod:`.exact_curvature` -- exact curvature in canonical form (reduced fractions over ``Q``
  in ``exp`` / ``tan``-half-angle generators), each form checked against the 50-digit mpmath reference;
* :mod:`.callable_map` -- :class:`CallableMeanMap`: the same for a black-box numpy map (finite differences);
* :mod:`.gaussian_family` -- :class:`GaussianFamilyMetric`: full ``N(mu(theta), Sigma(theta))`` via Christoffel symbols;
* :mod:`.maps` -- attention-type and gated mean maps, and the witnesses of the claims;
* :mod:`.depth` -- stacks of (gated) attention layers on random 2-planes, forward-mode second derivatives;
* :mod:`.learned` -- curvature of small trained attention classifiers on toy tasks.
"""

from .callable_map import CallableMeanMap
from .curvature import NumericCurvature
from .gaussian_family import GaussianFamilyMetric
from .maps import (
    MeanMap,
    attention_mean_map,
    axis_aligned_gate_map,
    cylinder_gate_map,
    cylinder_map,
    deficient_attention_witness,
    flat_attention_witness,
    input_dependent_values_witness,
    round_sphere_map,
    sigmoid_gate_witness,
    sigmoid_gated_map,
    softmax,
    sphere_witness,
    ungated_attention_map,
)
from .metric import PullbackMetric, decide_zero_exponential

__all__ = [
    "CallableMeanMap",
    "GaussianFamilyMetric",
    "MeanMap",
    "NumericCurvature",
    "PullbackMetric",
    "attention_mean_map",
    "axis_aligned_gate_map",
    "cylinder_gate_map",
    "cylinder_map",
    "decide_zero_exponential",
    "deficient_attention_witness",
    "flat_attention_witness",
    "input_dependent_values_witness",
    "round_sphere_map",
    "sigmoid_gate_witness",
    "sigmoid_gated_map",
    "softmax",
    "sphere_witness",
    "ungated_attention_map",
]
