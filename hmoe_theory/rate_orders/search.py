"""phi(eps) = min { ||f_G - f_G*|| : D1-surrogate level eps } by continuation over a grid of eps.

For one configuration and each eps (largest first), every branch (one per seed, :mod:`.seeds`) is minimised
twice: from its construction re-seeded at level eps (random starts: fresh at the first eps only), and from the
better (smaller phi) of its own minimiser at the previous eps and the prediction of :func:`extrapolate` from its
last two points. The better result is the branch's point at eps. The minimiser is Levenberg-Marquardt
(:func:`levenberg_marquardt`) with the exact Jacobian of :class:`~.residuals.Residuals` and extended-precision
iterates. Each point is then re-evaluated in ball arithmetic on a finer rule (independent quadrature), its exact
D1 under the convention computed (:func:`hmoe_theory.estimation.voronoi.d1_loss`) and its Voronoi
assignment checked (every atom nearest to its own true atom)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import flint
import numpy as np

from ..estimation.voronoi import d1_loss
from .coordinates import Coordinates, Deviations
from .residuals import EXTENDED_BELOW, PRECISION, Residuals, as_doubles
from .seeds import Seed, as_float, at_level, level, seeds

SEARCH_NODES = {"input": 24, "input-2d": 12, "response": 64, "input-density": 12, "response-density": 40}
CHECK_NODES = {"input": 40, "input-2d": 20, "response": 96, "input-density": 20, "response-density": 64}
# Gauss-Legendre nodes per axis of the search rule and of the independent re-evaluation; a conditional density
# (inputs x response) gets a smaller tensor rule, its response range being +- 10 sd around the true means
MAX_ITERATIONS = 100
STALL = 1e-6  # two accepted steps in a row that lower phi^2 by less than this fraction end the search
WINDOW = 10  # iterations over which the rate of decrease of phi^2 is measured
FLOOR_GAIN = 1e-3  # with ball residuals, a projected decrease of phi^2 below this fraction switches to polish
TINY = 1e-28  # below this phi^2 / ||f*||^2 the float64 Jacobian loses the directions that matter


@dataclass
class Point:
    """One branch at one eps."""

    eps: float
    d1: float
    phi: float
    phi_check: float
    voronoi_ok: bool
    deviations: Deviations  # doubles (the search keeps exact balls; phi_check uses them)
    seed_t: float
    u: np.ndarray


@dataclass
class Branch:
    seed: Seed
    points: list[Point] = field(default_factory=list)
    scale: float = 1.0  # ||f*||_L2(mu) on the search rule


def levenberg_marquardt(res: Residuals, u0: np.ndarray, eps: float,
                        beat: float = math.inf) -> tuple[np.ndarray, float, np.ndarray]:
    """Minimise ||r(u)|| from u0: Marquardt steps (J^T J + lam diag(J^T J)) du = -J^T r with the exact float
    Jacobian, the iterate u kept as exact balls (python-flint arb midpoints, ``PRECISION`` bits) so that parameter
    rounding never limits phi (a double u caps the cancellation inside a cell at ~1e-16 |Delta|). The ball-arithmetic
    Jacobian (its entries below ~1e-17 are lost in float64) takes over ("polish") when the float one stalls with
    phi^2 < TINY ||f*||^2, or when the residuals are balls (phi < EXTENDED_BELOW ||f*||) and phi^2 would fall by less
    than a fraction FLOOR_GAIN over the remaining iterations at its rate of the last WINDOW (:func:`_projected`).

    Iterations that cannot matter are not spent: a trial step whose Gauss-Newton model predicts a decrease of
    phi^2 below STALL phi^2 is not evaluated (even if accepted it would count as a stall), and a run that, at its
    rate of the last WINDOW iterations, cannot reach ``beat`` (the phi another start already reached) by
    MAX_ITERATIONS stops. Returns (u as doubles, phi, u as arb)."""
    old = flint.ctx.prec
    flint.ctx.prec = PRECISION
    try:
        u = np.array([flint.arb(float(v)) for v in u0], dtype=object)
        r = res.residual(u, eps)
        f = float(r @ r)
        lam, stalled, polish, history = 1e-3, 0, False, []
        for iteration in range(MAX_ITERATIONS):
            history.append(f)
            if iteration >= WINDOW and not polish:
                projected = _projected(f, history[-1 - WINDOW], MAX_ITERATIONS - iteration)
                if projected > beat**2:
                    break
                if projected > (1 - FLOOR_GAIN) * f:
                    if f >= (EXTENDED_BELOW * res.scale) ** 2:
                        break
                    polish, stalled, lam = True, 0, 1e-3  # ball residuals, float Jacobian crawling
            J = res.jacobian(u, eps, extended=polish)
            A, g = J.T @ J, J.T @ r
            scale = np.maximum(np.diag(A), 1e-300 + 1e-12 * np.max(np.diag(A)))
            accepted = False
            while lam < 1e10:
                try:
                    step = np.linalg.solve(A + lam * np.diag(scale), -g)
                except np.linalg.LinAlgError:
                    lam *= 10
                    continue
                if -2 * (g @ step) - step @ A @ step <= STALL * f:
                    break  # predicted decrease negligible (it only shrinks as lam grows)
                trial = np.array([(a + flint.arb(float(v))).mid() for a, v in zip(u, step)], dtype=object)
                r_new = res.residual(trial, eps)
                f_new = float(r_new @ r_new)
                if np.isfinite(f_new) and f_new < f:
                    accepted = True
                    break
                lam *= 4
            if not accepted and not polish and f < TINY * res.scale**2:
                polish, stalled = True, 0  # float64 Jacobian exhausted: polish with the ball-arithmetic one
                continue
            if not accepted:
                break
            stalled = stalled + 1 if f - f_new <= STALL * f else 0
            u, r, f, lam = trial, r_new, f_new, max(lam / 5, 1e-12)
            if stalled >= 2 and not polish and f < TINY * res.scale**2:
                polish, stalled, lam = True, 0, 1e-3
            elif stalled >= 2:
                break
        return as_doubles(u), float(np.sqrt(f)), u
    finally:
        flint.ctx.prec = old


def _projected(f: float, f_before: float, remaining: int) -> float:
    """phi^2 after ``remaining`` more iterations at the geometric rate f / f_before of the last WINDOW (phi^2 = f
    now, f_before WINDOW iterations ago; no decrease projects f)."""
    rate = min(f / f_before, 1.0) if f_before > 0 else 1.0
    return f * rate ** (remaining / WINDOW)


def search_configuration(coords: Coordinates, grid: list[float], seed: int = 0) -> list[Branch]:
    """Every branch of the configuration over the eps grid (module docstring)."""
    points, weights = coords.model.measure.rule(_nodes(coords.model, SEARCH_NODES))
    res = Residuals(coords, points, weights)
    check = Residuals(coords, *coords.model.measure.rule(_nodes(coords.model, CHECK_NODES)))
    # a seed invisible to D1 (e.g. a merge under the merged convention) has no level: it is no start
    branches = [Branch(s, scale=res.scale) for s in seeds(coords, seed) if level(coords, s.family(0.1)) > 1e-12]
    for eps in grid:
        for branch in branches:
            t, start = at_level(coords, branch.seed, eps)
            candidates = []  # [fresh start, continued]; the continued one runs first and sets the bar
            continued = [p.u for p in branch.points[-1:]]
            if len(branch.points) >= 2:
                continued.append(coords.coordinates(extrapolate(branch.points[-2], branch.points[-1], eps)))
            if continued:
                best = min(continued, key=lambda u0: float(np.linalg.norm(res.residual(u0, eps))))
                candidates.append(levenberg_marquardt(res, best, eps))
            if branch.seed.exact or not branch.points:  # random starts are fresh at the first eps only
                beat = candidates[0][1] if candidates else math.inf
                candidates.insert(0, levenberg_marquardt(res, coords.coordinates(start), eps, beat))
            u, phi, u_exact = min(candidates, key=lambda c: c[1])
            branch.points.append(_record(coords, check, check.arb_deviations(u_exact, eps), eps, phi, t, u))
    return branches


def extrapolate(a: Point, b: Point, eps: float) -> Deviations:
    """The next point predicted from the last two: every deviation follows its own power of eps,
    Delta(eps) = Delta_b (eps / eps_b)^e with e = log(Delta_b / Delta_a) / log(eps_b / eps_a) (same sign; else
    Delta_b scaled linearly); split fractions kept."""
    step = math.log(eps / b.eps) / math.log(b.eps / a.eps)

    def follow(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        same = (x * y > 0)
        ratio = np.where(same, np.abs(y) / np.where(same, np.abs(x), 1.0), eps / b.eps)
        return y * np.where(same, ratio**step, ratio)

    return Deviations(b.deviations.pi, follow(a.deviations.dm, b.deviations.dm),
                      follow(a.deviations.delta, b.deviations.delta))


def _nodes(model, counts: dict[str, int]) -> tuple[int, ...]:
    """Nodes per axis: the response (Lebesgue axis) gets many (a coarse rule there aliases: the search can
    make the discrete norm vanish while the integral does not), inputs fewer in d >= 2 (tensor rules)."""
    conditional = len(model.measure.axes) > 1 and model.measure.axes[-1][0] == "lebesgue"
    kind = "input-density" if conditional else "input" if model.d == 1 else "input-2d"
    response = "response-density" if conditional else "response"
    return tuple(counts[response] if law == "lebesgue" else counts[kind] for law, _, _ in model.measure.axes)


def _record(coords: Coordinates, check: Residuals, exact: Deviations, eps: float, phi: float, t: float,
            u: np.ndarray) -> Point:
    phi_check = float(np.linalg.norm(check.extended(exact)))
    dev = as_float(exact)
    weights = (coords.true_w[coords.cell_of] + dev.dm[coords.cell_of]) * dev.pi
    atoms = coords.true_theta[coords.cell_of] + dev.delta
    loss = d1_loss(weights, atoms, coords.true_w, coords.true_theta, convention=coords.convention,
                   merged=coords.merged, cells=coords.members)
    nearest = np.linalg.norm(atoms[:, None, :] - coords.true_theta[None, :, :], axis=2).argmin(axis=1)
    return Point(eps, loss.value, phi, phi_check, bool(np.all(nearest == coords.cell_of)), dev, t, u)
