"""Least-squares estimation of a regression function, with a verified stopping record.

    theta_hat = argmin_theta (1/2n) sum_i (y_i - f(x_i; theta))^2

over the free parameters (a softmax mixture's component k pinned, :meth:`hmoe_theory.families.Mixture.pinned`),
in the compact box |theta_a| <= bound (a
hypothesis of the rate theorems). Over-specified fits often park a low-weight atom on the boundary of
the box; the solver holds such coordinates (active set) and checks the Karush-Kuhn-Tucker conditions
there instead of chasing the boundary through a reparametrisation (with theta = bound tanh(u) the
boundary is at u = infinity and the fit never converges: measured, u reached 19 after 323 iterations).

Solver (:func:`damped_newton`): Newton's method on the exact Hessian H = J^T J + sum_i r_i d2f_i
(the model's ``system``: :class:`hmoe_theory.newton_system.DerivedSystem` derived from the symbolic function, or
a fast path registered on its family, :meth:`hmoe_theory.families.Mixture.newton_system`), saddle-free and damped:
with D = diag(J^T J) and D^-1/2 H D^-1/2 = V diag(w) V^T, h = -D^-1/2 V (|w| + lambda)^-1 V^T D^-1/2 g,
lambda raised after rejected steps and lowered by Nielsen's rule after good ones (the Newton step where H
is positive definite; downhill along negative curvature, which over-specified fits meet all along the way
from a near-truth split to their minimum). Over-specified fits have nearly flat
directions where Gauss-Newton (J^T J alone) crawls: measured on softmax-linear x linear, k = 3 for k* = 2,
n = 1e5, Levenberg-Marquardt needed 283-500+ Jacobians; the residual-curvature term S restores Newton's
quadratic convergence.

It stops on ``gtol`` (cos := max_a |g_a| / (||J_a|| ||r||) <= gtol, MINPACK's scale-free test),
``ftol`` (an accepted step whose actual and predicted relative reductions of ||r||^2 are <= ftol),
``xtol`` (steps below xtol (||u|| + xtol) at maximal damping) or ``max_iter`` Hessian evaluations. The
status is then *verified* at the returned point:

* ``converged``: the first- and second-order (KKT) conditions hold: over the coordinates not held at a
  bound, cos <= ``accept_cos`` and the Hessian is positive semi-definite (Cholesky of
  H + 1e-10 max diag(H) I succeeds); held coordinates have their gradient pointing out of the box.
  A zero-residual fit (||r||^2 fell below 1e-24 times its starting value, e.g. noiseless data) passes the
  first-order test: there r is round-off and its cosine with the columns of J is meaningless;
* ``iteration-cap``: the budget ran out before that; ``stalled``: stopped by the stall rule (below);
  ``diverged``: non-finite residuals at the start or the end; ``failed``: it stopped without meeting the
  conditions elsewhere (a saddle, ftol or xtol short of them).

Experts linear in their coefficients enter f linearly given the gate: :func:`fit_least_squares` first solves
them exactly by least squares and runs Newton on the gate parameters alone (:func:`variable_projection`),
then polishes and verifies on the full problem, both stages within one budget. Measured
(benchmarks/bench_rates_v3.py, over-specified linear experts, replicates 2-3 x 20 sizes 1e3..1e5, verified
headline fits with / without projection): softmax-linear 25/40 vs 9/40 at 0.99x the CPU, quadratic-polynomial
35/40 vs 34/40 at 0.59x, quadratic-monomial 27/40 vs 33/40 at 0.91x (worse there: not a uniform gain).
The projection is a first stage: it stops once its reduced cosine is <= ``ACCEPT_COS`` (the full stage polishes to
``gtol`` and verifies). Run to ``gtol`` = 1e-10 it met the flat merge set of over-specified linear experts (a weight
split inside a cell moves no residual): the reduced cosine fell below ``ACCEPT_COS``, so the stall rule never fired,
and the stage ran to the cap with the unconstrained b*(a) outside the box, leaving the full stage one system after
clipping: fits at iteration-cap with loss 0.77-6.5 against 0.005 for the noise (8 of 24 softmax-linear and
quadratic-polynomial twin fits from near-truth starts at n = 1e3, 1e4; all 24 below 0.0053 with the first-stage stop).
On the twins' replicate paths (decisive design, quotient early stop on in both arms, side by side): CPU per path
0.60x softmax-linear (reps 0-3; verified 26 vs 23 of 32), 0.93x quadratic-polynomial (reps 0-3; 29 vs 29; 0.72x
on reps 0-1, 1.18x on reps 2-3), 0.49x quadratic-monomial (reps 2-3; 13 vs 12 of 16); headline fits with loss > 0.1:
none left (6 before). Warm starts make the paths differ after the first changed fit, so these are different
local optima, not the same ones reached sooner.

A fit that cannot pass the KKT test is stopped instead of running to the cap: ``stalled`` when over
``STALL_WINDOW`` Newton systems the loss stayed flat (relative drop < ``STALL_DROP``) with the cosine above
``accept_cos`` (the gradient stalled on a flat direction). A slow descent is not a stall: measured on
attention/G2/over, fits crawl at 5e-6 relative per 30 systems and then converge (a rule "no 10x gain on the
cosine in 30 systems" cut the verified fits of that path from 15/20 to 7/20).

**Acceptance rule** (``accept``, e.g. :func:`hmoe_theory.estimation.quotient.quotient_acceptance`): a caller whose
fit is judged by another first-/second-order test than the plain one (a twin judged on the quotient by its exact
merges, where the plain test cannot pass and fits ran to the cap) passes that test as a predicate
accept(x, system) -> bool. The solver evaluates it on its current iterate and the system it already holds there
(no extra system), and only where the loss is flat: at the first system and after an accepted step that lowered
||r||^2 by less than ``ACCEPT_FLAT`` relative (a local minimum is a point where the loss stops moving; the test
costs 0.1-0.3 ms, a Newton system 1.3 ms at n = 1e3 and 45 ms at n = 1e5 for the twins). The quotient test ignores
the gradient along the merge directions, which off the exact merge set still lowers the loss at second order and
moves the merged D1: measured on a softmax-linear twin path (replicate 0, 8 sizes), trying the rule after steps
with a relative drop <= 1e-6 stopped fits 4.5e-8 above the capped fit's loss with merged D1 6 % apart, <= 1e-10
within 1e-4 (benchmarks/bench_twins.py). It stops (reason
``accept``) as soon as the rule holds, and the status at the returned point is then decided by the rule instead of
the plain test: ``converged`` iff accept(x, system), otherwise the stopping reason's status as above.

**Polish** (:func:`polish`): a fit left short of the test (``iteration-cap``, ``stalled``, ``failed``) can be
continued by L-BFGS-B in the box from its point and verified again by the same test; Newton's rejected steps in long
curved valleys with indefinite Hessians are what it crosses (the refit rule of the rate studies uses it last).

Every fit reports status, iterations, the final gradient norm ||dL/dtheta_free|| and loss L, so a rate
study can leave out fits that did not converge and say how many.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy.optimize import Bounds, minimize

from ..errors import ModelError
from ..families import Expert, Gate
from ..newton_system import System
from .model import SoftmaxMoE

Array = np.ndarray
STALL_WINDOW = 10  # Newton systems with a flat loss and a cosine above accept_cos before a fit is stopped as stalled
STALL_DROP = 1e-10  # relative decrease of ||r||^2 over the window below which the loss counts as flat
ACCEPT_COS = 1e-6  # the first-order test of a verified fit (cosine), and where the projection stage stops
ACCEPT_FLAT = 1e-10  # relative decrease of ||r||^2 by the last accepted step below which the acceptance rule is tried
#: an acceptance rule: accept(x, (r, ||J_a||^2, g, H)) -> True where the fit counts as converged (module docstring)
Acceptance = Callable[[Array, System], bool]


class RegressionModel(Protocol):
    """What :func:`fit_least_squares` needs of a model f(x; theta) with ``n_params`` parameters.

    ``free_mask`` (bool, (n_params,)): the estimated entries; ``pin(theta)``: equivalent parameters with the
    others at their pinned values; ``prepare(X)``: the data laid out once; ``predict(data, theta)``: f(x_i);
    ``system(data, y, theta)``: (r, ||J_a||^2, J^T r, H) of ||r||^2 / 2 over all n_params entries.
    Implemented by :class:`hmoe_theory.newton_system.DerivedSystem` and :class:`.model.SoftmaxMoE`.
    """

    n_params: int
    free_mask: Array

    def pin(self, theta: Array) -> Array: ...
    def prepare(self, X: Array) -> Any: ...
    def predict(self, data: Any, theta: Array) -> Array: ...
    def system(self, data: Any, y: Array, theta: Array) -> System: ...


@dataclass(frozen=True)
class SolverResult:
    """Outcome of one local solve: the solution ``x``, why it stopped and its verified status."""

    x: Array
    status: str  # converged | iteration-cap | stalled | diverged | failed
    reason: str  # gtol | ftol | xtol | stall | accept | max_iter | non-finite
    iterations: int
    cosine: float  # max_a |g_a| / (||J_a|| ||r||) at x


def _cosine(g: Array, norms: Array, rr: float) -> float:
    scale = np.sqrt(np.maximum(norms, 0.0) * max(rr, 1e-300))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(scale > 0, np.abs(g) / scale, 0.0)
    return float(ratios.max()) if ratios.size else 0.0


def _positive_definite(H: Array, shift: float) -> bool:
    try:
        np.linalg.cholesky(H + shift * np.eye(len(H)))
    except np.linalg.LinAlgError:
        return False
    return True


def damped_newton(
    residual: Callable[[Array], Array],
    system: Callable[[Array], System],
    x0: Array,
    bound: float | None = None,
    max_iter: int = 100,
    gtol: float = 1e-10,
    ftol: float = 1e-15,
    xtol: float = 1e-14,
    accept_cos: float = ACCEPT_COS,
    stall_window: int | None = STALL_WINDOW,
    reference_rr: float | None = None,
    accept: Acceptance | None = None,
) -> SolverResult:
    """Minimise ||r(x)||^2 / 2 over the box |x_a| <= bound from ``x0`` (module docstring).

    ``system(x)`` returns (r, ||J_a||^2, g, H). Coordinates at a bound whose gradient points out of the box are
    held (active set); the damped Newton step is taken in the others and projected onto the box.
    ``stall_window`` = m: stop (reason ``stall``) when ||r||^2 fell by less than ``STALL_DROP`` relative over
    the last m Newton systems with every cosine above ``accept_cos`` (:func:`_stalled`); ``None``: never.
    ``reference_rr``: ||r||^2 of the zero-residual rule (default: at ``x0``; a caller that moved the start
    first, e.g. by variable projection, passes the value at its own start).
    ``accept``: an acceptance rule on (x, system(x)), tried at the first system and after each accepted step that
    lowered ||r||^2 by less than ``ACCEPT_FLAT`` relative; stop (reason ``accept``) when it holds, and it replaces
    the plain KKT test in the returned status (module docstring).
    """
    x = np.array(x0, dtype=float)
    if bound is not None:
        x = np.clip(x, -bound, bound)
    r, norms, g, H = system(x)
    iterations = 1
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(H))):
        return SolverResult(x, "diverged", "non-finite", iterations, float("nan"))
    rr = float(r @ r)
    rr_start = rr if reference_rr is None else max(rr, reference_rr)
    damping, growth, reason = 1e-3, 2.0, "max_iter"
    try_accept = accept is not None  # at the first system, then where the loss went flat
    cosines: list[float] = []  # the cosine and ||r||^2 at each Newton system
    losses: list[float] = []

    while True:
        free = ~held_at_bound(x, g, bound)
        cosine = _cosine(g[free], norms[free], rr)
        if cosine <= gtol:
            reason = "gtol"
            break
        if try_accept and accept(x, (r, norms, g, H)):
            reason = "accept"
            break
        try_accept = False
        if iterations >= max_iter:
            break
        if len(cosines) < iterations:
            cosines.append(cosine)
            losses.append(rr)
            if _stalled(cosines, losses, stall_window, accept_cos):
                reason = "stall"
                break
        # saddle-free damped Newton in Marquardt scaling: h = -D^-1/2 V (|w| + damping)^-1 V^T D^-1/2 g for
        # D^-1/2 H D^-1/2 = V diag(w) V^T; it equals the Newton step where H is positive definite and moves
        # downhill along negative curvature, where a Cholesky-damped step would shrink to a crawl.
        scale = 1.0 / np.sqrt(np.maximum(norms[free], 1e-300))
        w, V = np.linalg.eigh(H[np.ix_(free, free)] * np.outer(scale, scale))
        h = np.zeros_like(x)
        h[free] = -scale * (V @ ((V.T @ (scale * g[free])) / (np.abs(w) + damping)))
        candidate = x + h if bound is None else np.clip(x + h, -bound, bound)
        step = candidate - x
        if np.linalg.norm(step) <= xtol * (np.linalg.norm(x) + xtol):
            reason = "xtol"
            break
        r_new = residual(candidate)
        rr_new = float(r_new @ r_new) if np.all(np.isfinite(r_new)) else np.inf
        predicted = float(-(step @ g) - 0.5 * (step @ (H @ step)))
        actual = 0.5 * (rr - rr_new)
        rho = actual / predicted if predicted > 0 else -1.0
        if rho > 0:
            rr_old, x = rr, candidate
            r, norms, g, H = system(x)
            iterations += 1
            rr = float(r @ r)
            try_accept = accept is not None and rr_old - rr <= ACCEPT_FLAT * rr_old
            damping = damping * max(1 / 3, 1 - (2 * rho - 1) ** 3)
            damping, growth = (0.0 if damping < 1e-12 else damping), 2.0
            if actual <= ftol * 0.5 * rr_old and predicted <= ftol * 0.5 * rr_old:
                reason = "ftol"
                break
        else:
            damping, growth = max(damping * growth, 1e-8), growth * 2.0
    return verified_result(x, (r, norms, g, H), rr_start, reason, iterations, bound, accept_cos, accept)


def _stalled(cosines: list[float], losses: list[float], window: int | None, accept_cos: float) -> bool:
    """The last ``window`` Newton systems lowered ||r||^2 by less than ``STALL_DROP`` relative while the
    cosine stayed above ``accept_cos``: the iterate moves along a direction where the loss is flat to round-off
    and the gradient does not vanish, so the first-order test cannot be passed (a slow but real descent, even
    1e-6 per window, is not a stall: over-specified fits crawl like that for tens of steps and then converge)."""
    if window is None or len(losses) <= window:
        return False
    drop = (losses[-window - 1] - losses[-1]) / max(losses[-1], 1e-300)
    return drop < STALL_DROP and min(cosines[-window:]) > accept_cos


def held_at_bound(x: Array, g: Array, bound: float | None) -> Array:
    """Coordinates held by the active set: at a bound of the box with the gradient pointing out of it."""
    if bound is None:
        return np.zeros(x.shape, dtype=bool)
    edge = 1e-12 * bound
    return ((x >= bound - edge) & (g < 0)) | ((x <= -bound + edge) & (g > 0))


def kkt_test(x: Array, system: System, bound: float | None, accept_cos: float, rr_start: float = 0.0
             ) -> tuple[bool, float]:
    """(holds, cosine): the KKT conditions of the module docstring at ``x`` with ``system`` = (r, ||J_a||^2, g, H)
    there -- over the coordinates not held at a bound, cos = max_a |g_a| / (||J_a|| ||r||) <= ``accept_cos`` (or
    ||r||^2 <= 1e-24 ``rr_start``: zero residual) and H + 1e-10 max|diag H| I positive definite."""
    r, norms, g, H = system
    rr = float(r @ r)
    free = ~held_at_bound(x, g, bound)
    cosine = _cosine(g[free], norms[free], rr)
    Hf = H[np.ix_(free, free)]
    shift = 1e-10 * max(float(np.abs(np.diag(Hf)).max()) if Hf.size else 0.0, 1e-300)
    first_order = cosine <= accept_cos or rr <= 1e-24 * rr_start  # zero residual: r is round-off (docstring)
    return first_order and (not Hf.size or _positive_definite(Hf, shift)), cosine


def verified_result(
    x: Array, system: System, rr_start: float, reason: str, iterations: int, bound: float | None, accept_cos: float,
    accept: Acceptance | None = None,
) -> SolverResult:
    """The status of a solver's returned point ``x`` with ``system`` = (r, ||J_a||^2, g, H) there, verified by
    the KKT conditions of the module docstring (:func:`kkt_test`), or by the acceptance rule ``accept`` instead
    where one is given (any solver of ||r||^2 / 2 in the box reports through this)."""
    r = system[0]
    if not np.isfinite(float(r @ r)):
        return SolverResult(x, "diverged", "non-finite", iterations, float("nan"))
    verified, cosine = kkt_test(x, system, bound, accept_cos, rr_start)
    if accept is not None:
        verified = accept(x, system)
    status = "converged" if verified else {"max_iter": "iteration-cap", "stall": "stalled"}.get(reason, "failed")
    return SolverResult(x, status, reason, iterations, cosine)


@dataclass(frozen=True)
class LeastSquaresFit:
    """One start's fit: pinned parameters ``theta`` and the solver record (see module docstring)."""

    theta: Array
    status: str
    reason: str
    iterations: int
    loss: float
    grad_norm: float
    start: int  # index of the start in the order they were tried


def fit_least_squares(
    model: RegressionModel,
    X: Any,
    y: Array,
    start: Array,
    bound: float | None = 5.0,
    max_iter: int = 100,
    start_index: int = 0,
    projection: bool = True,
    accept: Acceptance | None = None,
) -> LeastSquaresFit:
    """Least-squares fit of ``model`` to (X, y) from ``start`` in the box |theta_a| <= ``bound`` -- the one fit
    function of every regression model (:class:`RegressionModel`).

    ``X``: inputs (n, d) or the model's ``prepare(X)`` layout (reuse it across fits). ``start`` is pinned first
    (:meth:`RegressionModel.pin`) and :func:`damped_newton` moves the free entries. Returns the verified record
    (:class:`LeastSquaresFit`): theta, status, reason, iterations, loss L(theta_hat) = ||r||^2 / 2n and the
    gradient norm ||dL/dtheta_free|| = ||(J^T r)_free|| / n, both from the solver's last system (computed at
    the returned point, never recomputed).

    ``projection`` (models with ``linear_indices``, e.g. experts linear in their parameters): variable
    projection first (:func:`variable_projection`), then the full problem from its point; the two stages share
    the budget of ``max_iter`` Newton systems (the full stage gets at least one, to verify) and ``iterations``
    counts both (the full stage reuses the system at the projection's point instead of evaluating it again).

    ``accept`` (:data:`Acceptance`): a rule accept(theta, system) on the pinned parameters theta and the system
    (r, ||J_a||^2, g, H) of the full problem over the free entries at theta, tried by both stages where the loss is
    flat (:func:`damped_newton`); the fit stops as soon as it holds and its status is the rule's (``converged`` iff
    it holds at the returned point, otherwise the stopping reason's status), instead of the plain KKT test.
    """
    mask = model.free_mask
    theta = model.pin(np.asarray(start, dtype=float))
    y = np.asarray(y, dtype=float)
    n = len(y)
    if n < mask.sum():
        raise ModelError(f"need at least {mask.sum()} samples for {mask.sum()} free parameters, got {n}")
    data = model.prepare(X) if isinstance(X, np.ndarray | list | tuple) else X
    if len(data) != n:
        raise ModelError(f"need y of shape ({len(data)},), got {y.shape}")
    free = np.flatnonzero(mask)
    last: list = [None, None]  # free entries and system of the last system call
    memo: dict[bytes, System] = {}  # the last system of the model: the projection's end is the full stage's start

    def model_system(point: Array) -> System:
        key = point.tobytes()
        if key not in memo:
            memo.clear()
            memo[key] = model.system(data, y, point)
        return memo[key]

    projected, reference = 0, None
    if projection and len(getattr(model, "linear_indices", ())):
        with np.errstate(all="ignore"):
            r0 = model.predict(data, theta) - y
            moved, projected = variable_projection(model, data, y, theta, bound, max_iter, accept, model_system)
        if np.all(np.isfinite(moved)):
            theta, reference = moved, float(r0 @ r0)

    def full(v: Array) -> Array:
        out = theta.copy()
        out[free] = v
        return out

    def residual(v: Array) -> Array:
        return model.predict(data, full(v)) - y

    def system(v: Array) -> System:
        r, norms, g, H = model_system(full(v))
        last[0], last[1] = np.array(v), (r, norms[free], g[free], H[np.ix_(free, free)])
        return last[1]

    with np.errstate(all="ignore"):
        result = damped_newton(residual, system, theta[free], bound=bound, max_iter=max(max_iter - projected, 1),
                               reference_rr=reference, stall_window=STALL_WINDOW,
                               accept=None if accept is None else lambda v, at_v: accept(full(v), at_v))
        same = last[0] is not None and np.array_equal(last[0], result.x)
        r, _, g, _ = last[1] if same else system(result.x)
        loss = 0.5 * float(r @ r) / n
        grad_norm = float(np.linalg.norm(g) / n)
    status = result.status if np.isfinite(loss) else "diverged"
    return LeastSquaresFit(full(result.x), status, result.reason, projected + result.iterations, loss, grad_norm,
                           start_index)


def polish(
    model: RegressionModel,
    X: Any,
    y: Array,
    fit: LeastSquaresFit,
    bound: float | None = 5.0,
    max_evals: int = 1000,
    accept: Acceptance | None = None,
) -> LeastSquaresFit:
    """A fit that Newton left short of the KKT test (``iteration-cap``, ``stalled``, ``failed``) continued by L-BFGS-B
    (Byrd, Lu, Nocedal & Zhu 1995; ``scipy.optimize.minimize``) on L(theta) = ||r||^2 / 2n over the free entries in
    the box, from ``fit.theta``, with at most ``max_evals`` evaluations of (L, dL/dtheta), then verified at its end
    exactly like :func:`fit_least_squares` (one system; the plain KKT test or the rule ``accept``). A converged or
    diverged fit is returned as it is.

    Why: where over-specified fits leave the truth's neighbourhood they follow long curved valleys of slowly falling
    loss with indefinite Hessians, in which the damped Newton step is rejected again and again (measured: a
    softmax-linear twin at n = 1e3 spent 875 systems to its minimum, half of the steps rejected, and scipy's
    trust-constr with the exact Hessian did not finish in 1,000 iterations on 5 such fits, where L-BFGS-B passed the
    quotient KKT test on all 5 in 1,900-5,500 gradient evaluations). A gradient costs 0.2-0.4x a Newton system.
    Hypotheses: ``model.squared_loss(theta, data, y)`` -> (L, dL/dtheta) if present (else the gradient is read off
    ``model.system``); the result's ``iterations`` adds the evaluations to ``fit.iterations`` and its reason is
    ``polish``. L-BFGS-B is monotone here (its line search only accepts decreases), so the loss never rises.
    """
    if fit.status in ("converged", "diverged") or max_evals < 1:
        return fit
    y = np.asarray(y, dtype=float)
    n = len(y)
    data = model.prepare(X) if isinstance(X, np.ndarray | list | tuple) else X
    free = np.flatnonzero(model.free_mask)
    theta = np.array(fit.theta, dtype=float)
    scale = 1.0 / max(fit.loss, 1e-300)  # L-BFGS-B's ftol is relative to max(|L|, 1): work with L / L_start

    def full(v: Array) -> Array:
        out = theta.copy()
        out[free] = v
        return out

    def from_system(point: Array) -> tuple[float, Array]:
        r, _, g, _ = model.system(data, y, point)
        return 0.5 * float(r @ r) / n, g / n

    evaluate = (lambda point: model.squared_loss(point, data, y)) if hasattr(model, "squared_loss") else from_system

    def loss_and_gradient(v: Array) -> tuple[float, Array]:
        with np.errstate(all="ignore"):
            loss, gradient = evaluate(full(v))
        if not (np.isfinite(loss) and np.all(np.isfinite(gradient))):
            return np.inf, np.zeros(len(v))
        return scale * loss, scale * gradient[free]

    box = None if bound is None else Bounds(-bound * np.ones(len(free)), bound * np.ones(len(free)))
    start = theta[free] if bound is None else np.clip(theta[free], -bound, bound)
    result = minimize(loss_and_gradient, start, jac=True, method="L-BFGS-B", bounds=box,
                      options={"maxfun": int(max_evals), "maxiter": int(max_evals), "ftol": 1e-15, "gtol": 1e-14})
    if not np.isfinite(result.fun) or result.fun / scale > fit.loss:
        return fit
    point = full(result.x)
    with np.errstate(all="ignore"):
        r, norms, g, H = model.system(data, y, point)
    system = (r, norms[free], g[free], H[np.ix_(free, free)])
    status = verified_result(point[free], system, float(r @ r), "polish", 1, bound, ACCEPT_COS,
                             None if accept is None else lambda v, at_v: accept(full(v), at_v)).status
    if status == "failed":  # not verified: the status of the budget it used up
        status = fit.status
    return LeastSquaresFit(point, status, "polish", fit.iterations + int(result.nfev), 0.5 * float(r @ r) / n,
                           float(np.linalg.norm(g[free]) / n), fit.start)


def variable_projection(
    model: RegressionModel, data: Any, y: Array, theta: Array, bound: float | None, max_iter: int,
    accept: Acceptance | None = None, model_system: Callable[[Array], System] | None = None,
) -> tuple[Array, int]:
    """Variable projection (Golub & Pereyra 1973) for parameters that enter f linearly.

    With the linear entries b = theta[model.linear_indices] and the others a (free ones only),
    f(x; a, b) = design(a)^T b, so b*(a) = argmin_b ||design(a)^T b - y|| is solved exactly (least squares)
    and :func:`damped_newton` runs on a alone: the reduced residual r(a) = design(a)^T b*(a) - y, the reduced
    gradient is the full one's a-block (envelope theorem, J_b^T r = 0 at b*) and the reduced Hessian the Schur
    complement H_aa - H_ab H_bb^+ H_ba of the full exact Hessian at (a, b*(a)). Returns (theta at the reduced
    solution with b = b*(a), Newton systems used); it stops at reduced cosine <= ``ACCEPT_COS`` (a first stage: module
    docstring). Hypothesis: ``model.linear_design(data, theta)`` gives the
    rows of ``design`` in the order of ``model.linear_indices``, none of them pinned.
    ``accept``: the acceptance rule of :func:`fit_least_squares`, tried on (a, b*(a)) with the full problem's system
    there (the reduced one is no system of the full problem), and only where b*(a) lies in the box (the unconstrained
    b*(a) may leave it: measured, 6.9 for bound 5 on a softmax-linear twin at n = 1e3); ``model_system``: theta -> the
    model's system (default ``model.system(data, y, .)``).
    """
    linear = np.asarray(model.linear_indices)
    free = np.flatnonzero(model.free_mask)
    nonlinear = np.setdiff1d(free, linear)
    model_system = model_system or (lambda point: model.system(data, y, point))
    last: list = [None, None]  # theta and the full system (free entries) of the last system call

    def full(v: Array) -> tuple[Array, Array]:
        out = theta.copy()
        out[nonlinear] = v
        design = model.linear_design(data, out)
        out[linear] = np.linalg.lstsq(design.T, y, rcond=None)[0]
        return out, design

    def residual(v: Array) -> Array:
        out, design = full(v)
        return design.T @ out[linear] - y

    def system(v: Array) -> System:
        last[0] = full(v)[0]
        r, norms, g, H = model_system(last[0])
        last[1] = (r, norms[free], g[free], H[np.ix_(free, free)])
        coupling = np.linalg.lstsq(H[np.ix_(linear, linear)], H[np.ix_(linear, nonlinear)], rcond=1e-12)[0]
        reduced = H[np.ix_(nonlinear, nonlinear)] - H[np.ix_(nonlinear, linear)] @ coupling
        return r, norms[nonlinear], g[nonlinear], 0.5 * (reduced + reduced.T)

    def in_box_and_accepted(v: Array, _reduced: System) -> bool:  # b*(a) is unconstrained: it may leave the box
        return (bound is None or float(np.abs(last[0]).max()) <= bound) and accept(last[0], last[1])

    result = damped_newton(residual, system, theta[nonlinear], bound=bound, max_iter=max_iter, gtol=ACCEPT_COS,
                           stall_window=STALL_WINDOW, accept=None if accept is None else in_box_and_accepted)
    return full(result.x)[0], result.iterations


@dataclass
class LeastSquaresMoE:
    """scikit-learn style estimator: ``LeastSquaresMoE("softmax-linear", "linear", 3).fit(X, y)``.

    Starts: each point of ``init`` (e.g. near the truth, the literature's protocol), then
    ``random_restarts`` points N(0, random_scale^2). Fitted attributes: ``model_``, ``fits_`` (one
    :class:`LeastSquaresFit` per start, in order), ``best_`` (lowest loss among finite fits), ``theta_``
    and ``loss_`` of ``best_``.
    """

    gate: str | Gate
    expert: str | Expert
    n_components: int
    bound: float | None = 5.0
    random_restarts: int = 1
    random_scale: float = 1.0
    max_iter: int = 100
    random_state: int | np.random.Generator | None = 0
    model_: SoftmaxMoE | None = field(default=None, init=False, repr=False)
    fits_: list[LeastSquaresFit] = field(default_factory=list, init=False, repr=False)
    best_: LeastSquaresFit | None = field(default=None, init=False, repr=False)

    def fit(self, X: Array, y: Array, init: Sequence[Array] = ()) -> "LeastSquaresMoE":
        """Fit on X (n, d), y (n,), starting from each point of ``init`` and from random points."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        if X.ndim != 2 or y.shape != (len(X),):
            raise ModelError(f"need X of shape (n, d) and y of shape (n,), got {X.shape} and {y.shape}")
        model = SoftmaxMoE.from_names(self.gate, self.expert, self.n_components, X.shape[1])
        rng = np.random.default_rng(self.random_state)
        starts = [np.asarray(t, dtype=float) for t in init]
        starts += [rng.normal(0.0, self.random_scale, model.n_params) for _ in range(self.random_restarts)]
        if not starts:
            raise ModelError("no starting point: pass init or use random_restarts >= 1")
        data = model.prepare(X)
        self.fits_ = [
            fit_least_squares(model, data, y, s, self.bound, self.max_iter, start_index=i)
            for i, s in enumerate(starts)
        ]
        finite = [f for f in self.fits_ if np.isfinite(f.loss)]
        if not finite:
            raise ModelError("every least-squares start diverged (non-finite loss)")
        self.model_, self.best_ = model, min(finite, key=lambda f: f.loss)
        return self

    @property
    def theta_(self) -> Array:
        if self.best_ is None:
            raise ModelError("call fit first")
        return self.best_.theta

    @property
    def loss_(self) -> float:
        return self.best_.loss if self.best_ is not None else float("nan")

    def predict(self, X: Array) -> Array:
        """Fitted regression function at X (n, d)."""
        if self.best_ is None:
            raise ModelError("call fit before predict")
        return self.model_.predict(X, self.best_.theta)
