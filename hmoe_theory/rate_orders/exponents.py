"""The order s of phi(eps) ~ eps^s from a branch table, and the minimiser's exponents per parameter.

Local slopes: s_k = log(phi_{k+1}/phi_k) / log(D1_{k+1}/D1_k) between consecutive grid points (the exact D1
of the points, not the nominal eps). A branch is *stable* when three consecutive local slopes among the points
with eps <= ``ASYMPTOTIC_EPS`` agree within +-``TOLERANCE``; its exponent is the mean of the last such three.
The order reported is that of the lowest stable branch (smallest phi at the smallest eps); slopes at
eps = 0.1 are pre-asymptotic and never used. Minimiser exponents: d log|Delta theta_p| / d log D1 of the
chosen branch between its last two points (a PDE direction shows as 1 and 2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

ASYMPTOTIC_EPS = 1e-2 * (1 + 1e-9)
TOLERANCE = 0.1
RUN = 3


def local_slopes(d1: Sequence[float], phi: Sequence[float]) -> list[float | None]:
    """Slopes between consecutive points (None where phi or D1 is not positive or D1 does not move)."""
    out: list[float | None] = []
    for (a, fa), (b, fb) in zip(zip(d1, phi), zip(d1[1:], phi[1:])):
        if min(a, b, fa, fb) <= 0 or abs(math.log(b / a)) < 1e-9:
            out.append(None)
        else:
            out.append(math.log(fb / fa) / math.log(b / a))
    return out


def stable_exponent(eps: Sequence[float], d1: Sequence[float], phi: Sequence[float]) -> float | None:
    """Mean of the last run of RUN consecutive local slopes within +-TOLERANCE (eps <= 1e-2), else None."""
    keep = [i for i, e in enumerate(eps) if e <= ASYMPTOTIC_EPS]
    slopes = local_slopes([d1[i] for i in keep], [phi[i] for i in keep])
    for end in range(len(slopes), RUN - 1, -1):
        run = slopes[end - RUN : end]
        if all(s is not None for s in run) and max(run) - min(run) <= 2 * TOLERANCE and \
                all(abs(s - np.mean(run)) <= TOLERANCE for s in run):
            return float(np.mean(run))
    return None


def parameter_exponents(names: Sequence[str], d1: Sequence[float], deltas: Sequence[np.ndarray]) -> dict[str, float | None]:
    """d log max_i |Delta_ip| / d log D1 between the last two points, per coordinate p."""
    out: dict[str, float | None] = {}
    (a, b), (da, db) = d1[-2:], deltas[-2:]
    for p, name in enumerate(names):
        ma, mb = float(np.max(np.abs(da[:, p]))), float(np.max(np.abs(db[:, p])))
        ok = min(ma, mb) > 1e-300 and abs(math.log(b / a)) > 1e-9
        out[name] = round(math.log(mb / ma) / math.log(b / a), 3) if ok else None
    return out
