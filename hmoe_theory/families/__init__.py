"""Gates, experts, Gaussian noise and their products/mixtures (symbolic families)."""

from .base import ParametricFunction, dot
from .experts import EXPERTS, Expert
from .gates import GATES, Gate, GateTerm
from .mixture import MODES, Mixture, gate_expert, get_expert, get_gate
from .noise import gaussian_density, response_symbol, variance_symbol

__all__ = [
    "EXPERTS",
    "GATES",
    "MODES",
    "Expert",
    "Gate",
    "GateTerm",
    "Mixture",
    "ParametricFunction",
    "dot",
    "gate_expert",
    "gaussian_density",
    "get_expert",
    "get_gate",
    "response_symbol",
    "variance_symbol",
]
