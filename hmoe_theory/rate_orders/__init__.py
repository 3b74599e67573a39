"""Rate orders from inverse bounds: phi(eps) = min { ||f_G - f_G*||_L2(mu) : D1(G, G*) ~ eps } ~ eps^s.

An n^-1/2 estimate of f_G* and the inverse bound ||f_G - f_G*|| >= C D1^s give the D1 rate n^-1/(2s); phi = 0 on
a curve with D1 > 0 means no rate under that loss. Modules (one job each): :mod:`.models` (f_G and the truth),
:mod:`.quadrature` (the measure), :mod:`.coordinates` (points near G*, D1 eliminated radially),
:mod:`.residuals` (float and ball-arithmetic residuals), :mod:`.seeds` (PDE constructions, splits, random
starts), :mod:`.search` (continuation, Levenberg-Marquardt), :mod:`.exponents` (slopes), :mod:`.degeneracy`
(sympy merge identities), :mod:`.certificates` (arb enclosures), :mod:`.result`, :mod:`.engine`,
:mod:`.settings` (named questions). The D1 loss itself is :func:`hmoe_theory.estimation.voronoi.d1_loss`.
"""

from .engine import DEFAULT_GRID, configurations, rate_order
from .models import RateModel, from_setting, gaussian_mixture
from .result import SUPPORTED, RateOrder
from .settings import names as question_names
from .settings import question, resolve

__all__ = [
    "DEFAULT_GRID",
    "SUPPORTED",
    "RateModel",
    "RateOrder",
    "configurations",
    "from_setting",
    "gaussian_mixture",
    "question",
    "question_names",
    "rate_order",
    "resolve",
]
