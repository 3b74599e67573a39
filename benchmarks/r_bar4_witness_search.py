"""Search (run once) for the certificates of hmoe_theory.interactions.r_bar_enclosure.ENCLOSED_WITNESSES.

Usage: python benchmarks/r_bar4_witness_search.py M R [STARTS]. Least squares on P_1..P_R of the m-component
r-system (weights w = softmax(η) > 0, normalisation Σ a² + Σ b² = 1) from seeded random starts; the converged
point with the largest smallest weight is rescaled to a_1 = 1/2, its first m - (R - 2m + 1) weights are rounded
to 3 digits and fixed, the square subsystem (a_2..a_m, b_1..b_m and the last R - 2m + 1 weights free) is refined
by Newton in 60-digit mpmath and checked with the Krawczyk test of prove_witness. Prints the certificate to paste.
"""

from __future__ import annotations

import math
import sys

import mpmath as mp
import numpy as np
import sympy as sp
from scipy.optimize import least_squares

from hmoe_theory.interactions.r_bar_enclosure import WitnessCertificate, prove_witness
from hmoe_theory.interactions.r_systems import system


def residuals(z: np.ndarray, m: int, r: int) -> np.ndarray:
    a, b, w = z[:m], z[m:2 * m], np.exp(z[2 * m:])
    w = w / w.sum()
    values = [sum(np.sum(w * a ** (ell - 2 * n2) * b ** n2) / (math.factorial(ell - 2 * n2) * math.factorial(n2))
                  for n2 in range(ell // 2 + 1)) for ell in range(1, r + 1)]
    return np.array([*values, np.sum(a**2) + np.sum(b**2) - 1])


def search(m: int, r: int, starts: int) -> np.ndarray | None:
    rng = np.random.default_rng(20261205)
    best, best_weight = None, 0.0
    for _ in range(starts):
        z0 = np.concatenate([rng.normal(size=2 * m), 0.5 * rng.normal(size=m)])
        fit = least_squares(residuals, z0, args=(m, r), xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=4000)
        w = np.exp(fit.x[2 * m:]) / np.exp(fit.x[2 * m:]).sum()
        if np.max(np.abs(fit.fun)) < 1e-11 and w.min() > best_weight:
            best, best_weight = fit.x, w.min()
    return best


def certificate(m: int, r: int, z: np.ndarray) -> WitnessCertificate:
    a, b = z[:m], z[m:2 * m]
    w = np.exp(z[2 * m:]) / np.exp(z[2 * m:]).sum()
    scale = 0.5 / a[0]  # a_1 = 1/2 (scale u -> u / (2 a_1))
    a, b = a * scale, b * scale**2
    free_weights = r - (2 * m - 1)
    fixed = [sp.Rational(round(1000 * v), 1000) for v in w[: m - free_weights]]
    start = [*a[1:], *b, *w[m - free_weights:]]
    draft = WitnessCertificate(m, r, sp.Rational(1, 2), (*fixed, *[None] * free_weights),
                               tuple(sp.Rational(0) for _ in start), sp.Rational(1, 10**30))
    free, a_s, b_s, w_s = draft.symbols()
    equations = system(m, r, a_s, b_s, w_s)
    F = sp.lambdify(free, equations, "mpmath")
    J = sp.lambdify(free, sp.Matrix(equations).jacobian(free), "mpmath")
    mp.mp.dps = 60
    x = mp.matrix(start)
    for _ in range(40):
        x = x - mp.lu_solve(mp.matrix(J(*x)), mp.matrix(F(*x)))
    midpoint = tuple(sp.Rational(mp.nstr(v, 40, min_fixed=-1, max_fixed=1)) for v in x)
    return WitnessCertificate(m, r, sp.Rational(1, 2), draft.weights, midpoint, draft.radius)


def main(m: int, r: int, starts: int) -> None:
    z = search(m, r, starts)
    if z is None:
        print(f"m = {m}, r = {r}: no converged start with positive weights in {starts} starts")
        return
    found = certificate(m, r, z)
    result = prove_witness(found)
    print(f"m = {m}, r = {r}: Krawczyk contained {result.contained}, weights positive {result.weights_positive}, "
          f"P_{r + 1} in {result.next_value}")
    print("weights", [str(v) for v in found.weights])
    print("midpoint", [str(sp.Float(v, 40)) for v in found.midpoint])


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 20)
