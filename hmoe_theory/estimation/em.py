"""EM for softmax-gated Gaussian mixtures of experts (density mode), gate and experts linear in parameters.

Model: p(y | x) = sum_j pi_j(x) N(y | eta_j . phi_e(x), nu_j), pi_j(x) = softmax_j(gamma_j . phi_g(x) + c_j),
with the feature maps phi_g = ds/dgamma and phi_e = dE/deta derived from the symbolic families (they must
not depend on the parameters: :class:`~hmoe_theory.estimation.kernels.TermKernel` computes them once per
data set). For the softmax-linear gate and linear experts z = phi_g = (x, 1) after appending the bias and
phi_e = (x, 1): p(y | x) = sum_j pi_j(x) N(y | a_j.x + alpha_j, nu_j). Component k is pinned
(gamma_k = 0, c_k = 0) to remove the softmax translation invariance.

One iteration (vectorised over the n samples; never a Python loop over samples):

* E-step: r_ij = pi_j(x_i) N(y_i | m_ij, nu_j) / p(y_i | x_i), computed in log space (logsumexp).
* M-step, experts: eta_j = weighted least squares of y on phi_e(x) with weights r_.j;
  nu_j = sum_i r_ij (y_i - m_ij)^2 / sum_i r_ij (floored at ``variance_floor``).
* M-step, gate: ``newton_steps`` Newton (IRLS) steps on the concave multinomial-logistic objective
  Q(V) = sum_ij r_ij log pi_j(x_i), gradient Z^T (r_j - p_j), Hessian -sum_i p_ij (delta_jl - p_il) z_i z_i^T,
  with step halving so Q never decreases (a generalised EM: the log-likelihood is non-decreasing).

Acceleration (``acceleration``): ``"none"`` iterates the EM map F above; ``"squarem"`` (the default, chosen by
measurement: benchmarks/bench_em_squarem.py) is SQUAREM, scheme S3 of Varadhan & Roland (2008, Scand. J.
Statist. 35:335-353), with a monotone safeguard. One cycle from theta_0, in the unconstrained coordinates
u = (gamma, c, eta, log nu): u_1 = F(u_0), u_2 = F(u_1), r = u_1 - u_0, v = u_2 - 2 u_1 + u_0,

    alpha = -||r|| / ||v||, clipped to [-step_max, -1],     u' = u_0 - 2 alpha r + alpha^2 v,

(alpha = -1 gives u' = u_2, the plain two-step point: the paper's modification keeping |alpha| >= 1; the upper
cap step_max starts at 1 and is multiplied by 4 when alpha reaches it, as in the authors' SQUAREM package
(step.max0 = 1, mstep = 4), and divided by 4, not below 1, on every rejection), the gate of u' clipped to the
box as its M-step is. Safeguard: theta'' = F(theta') replaces theta_2 only when it is finite, inside the
box and l(theta'') >= l(theta_2); otherwise theta_2 is kept (an extrapolation outside the box is a rejected
proposal, never a blow-up of the fit). So the accepted points have l(theta_0) <= l(theta_1) <= l(theta_2) <=
l(next theta_0): like a generalised EM the fit never decreases the log-likelihood (each step either is an EM
step or beats the two EM steps it replaces), and the stopping rule below judges only points reached by a plain
EM step (theta_1, theta_2), with that step's gain, exactly as without acceleration: a status means the same
thing. ``n_iter_`` and ``max_iter`` count EM-map evaluations (three per cycle; plain EM steps when fewer than
three are left; without acceleration a converged fit counts the maps up to its returned point).

Status of a fit (``status_``, with ``reason_``; :mod:`.metrics` names the statuses). A fit is a statement
about the returned point theta, verified there:

* ``converged`` -- the mean log-likelihood gained less than ``tol`` in the last EM step AND the
  first-order (KKT) test holds at theta: with s_ia the per-sample score of free parameter a (gate rows
  1..k-1 and their bias, expert coefficients, variances; component k's gate is pinned),

      cos(theta) = max_a |mean_i s_ia| / sqrt(mean_i s_ia^2) <= accept_score / sqrt(n),

  i.e. the score (the gradient of the mean log-likelihood) is below ``accept_score`` (default 0.1)
  sampling standard deviations of a mean score: the optimisation error is small against the statistical
  one. Inside the box the score of a fixed point of the EM map is zero, so the test is the fixed-point
  test of EM. It is first order only (EM ascends, so a returned saddle is possible but not generic).
  While the gain is small but the test fails, EM keeps iterating (a slow, sub-linear EM phase is not
  a stop);
* ``iteration-cap`` -- ``max_iter`` EM-map evaluations without passing both tests;
* ``diverged`` -- a blow-up, detected at every iteration: a non-finite value, an expert coefficient or a
  variance leaving the box ``|eta| <= bound``, ``nu <= bound^2`` (reason ``box``), or a variance at
  ``variance_floor`` (reason ``variance-floor``: a component collapsed onto a few points, where the
  likelihood is unbounded). The returned point is the last one reached; it is never a usable fit.

The box (the compact parameter space of the theory's MLE; default ``BOUND`` = 50, a safety net: a study
should pass a box that fits its truth, e.g. max(5, 2 max|theta*|) -- the group's CRPE-SGaME truth has
|theta*| = 25, the catalogue's 2): the gate's M-step is projected on
``|gamma|, |c| <= bound`` (each Newton step clipped, step halving keeps Q from decreasing), so a gate that
would sharpen without limit -- an over-fitted cell split by an ever steeper boundary, where the MLE over
an unbounded space does not exist -- stops at the bound; a gate coordinate held there passes the KKT test
when its score points out of the box.

Measured (catalogue ``gaussian-moe``, near-truth starts, tol 1e-8, plain EM): cos = 0.9e-5 to 2.2e-5 (exact,
7-8 iterations) and 1.0e-4 to 3.8e-4 (over-specified, 176-2000 iterations) at n = 1e3..1e5, against
0.1/sqrt(n) = 3.2e-3..3.2e-4. SQUAREM against plain EM (benchmarks/bench_em_squarem.py, the rate design's
replicate paths, reps 0-3, 8 sizes 1e3..1e5, one run): the three over-specified settings cost 0.24-0.30x the
CPU per path (median EM maps per fit 40-69 against 236-241), with 0 of 204 EM fits at the cap against 6
(verified stored fits 96/96 against 95/96); the three exact ones cost 0.80-1.07x (5 maps either way, the same
optima within 3e-9). From the same start the two methods reach the same log-likelihood within 1e-6
(relative) in 83 of 96 over-specified headline fits; SQUAREM is higher in 10, lower in 3 (at most 2.3e-4):
in the sub-linear phase the two ascents can stop at different points of a flat likelihood.
Parameters follow ``Mixture.from_names(gate, expert, k, d,
"density").params``: per component [gamma, c, eta, nu].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from ..errors import ModelError
from ..numeric import logsumexp
from ..families import Expert, Gate
from .model import SoftmaxMoE

Array = np.ndarray
LOG_2PI = float(np.log(2 * np.pi))
BOUND = 50.0  # a safety net; a study passes a box that fits its truth (e.g. max(5, 2 max|theta*|))
ACCEPT_SCORE = 0.1


@dataclass(frozen=True)
class GaussianMoEParams:
    """gate (k, d+1) = [beta, beta0]; experts (k, d+1) = [a, alpha]; variances (k,)."""

    gate: Array
    experts: Array
    variances: Array

    @classmethod
    def from_flat(cls, theta: Array, k: int, d: int, sizes: tuple[int, int] | None = None) -> "GaussianMoEParams":
        """From [gamma, c, eta, nu] per component; ``sizes`` = (p_gate, p_expert), default (d, d + 1)."""
        pg, pe = sizes or (d, d + 1)
        rows = np.asarray(theta, dtype=float).reshape(k, pg + pe + 2)
        return cls(rows[:, : pg + 1].copy(), rows[:, pg + 1 : pg + 1 + pe].copy(), rows[:, -1].copy())

    def flat(self) -> Array:
        return np.concatenate([self.gate, self.experts, self.variances[:, None]], axis=1).ravel()

    def pinned(self) -> "GaussianMoEParams":
        """The same model with component k's gate parameters set to zero."""
        return GaussianMoEParams(self.gate - self.gate[-1], self.experts.copy(), self.variances.copy())


@dataclass(frozen=True)
class _Data:
    """Gate design (phi_g(x), 1) as (p_g + 1, n), expert design phi_e(x) as (p_e, n), response (n,), and
    the products of each design's rows, (n, p^2)."""

    Zt: Array
    Et: Array
    y: Array
    outer: Array
    outer_e: Array

    @classmethod
    def build(cls, model: SoftmaxMoE, X: Array, y: Array) -> "_Data":
        data = model.prepare(X)
        n = len(data)
        gate, expert = model.gate_kernel, model.expert_kernel
        if gate.varying or expert.varying:
            raise ModelError(
                f"EM needs a gate score and experts linear in their parameters; {model.gate.name} x "
                f"{model.expert.name} is not (use least squares)"
            )
        one = np.zeros((0, model.k))
        _, gate_features = gate.values_and_gradients(data, np.zeros((1, gate.size)) if gate.size else one)
        _, expert_features = expert.values_and_gradients(data, np.zeros((1, expert.size)))
        Z = np.concatenate([gate_features[:, 0, :], np.ones((1, n))], axis=0)
        E = np.ascontiguousarray(expert_features[:, 0, :])
        return cls(
            np.ascontiguousarray(Z), E, y,
            (Z.T[:, :, None] * Z.T[:, None, :]).reshape(n, -1), (E.T[:, :, None] * E.T[:, None, :]).reshape(n, -1),
        )


def _linear_maps(V: Array, Zt: Array) -> Array:
    """V z_i for every sample: (k, p) x (p, n) -> (k, n). einsum, not BLAS: multithreaded BLAS on
    this skinny product is ~10x slower than a single pass when the cores are shared."""
    return np.einsum("kp,pn->kn", V, Zt)


def _log_softmax(V: Array, data: _Data) -> Array:
    """log pi_j(x_i) for gate parameters V (k, p): array (k, n)."""
    scores = _linear_maps(V, data.Zt)
    return scores - logsumexp(scores, axis=0)


def _log_joint(data: _Data, params: GaussianMoEParams, log_pi: Array) -> Array:
    """log pi_j(x_i) + log N(y_i | m_ij, nu_j), array (k, n)."""
    residual = data.y - _linear_maps(params.experts, data.Et)
    nu = params.variances[:, None]
    return log_pi - 0.5 * (LOG_2PI + np.log(nu) + residual**2 / nu)


def mean_log_likelihood(X: Array, y: Array, params: GaussianMoEParams, model: SoftmaxMoE | None = None) -> float:
    """(1/n) sum_i log p(y_i | x_i) (``model`` gives the feature maps; default softmax-linear x linear)."""
    X = np.asarray(X, dtype=float)
    model = model or SoftmaxMoE.from_names("softmax-linear", "linear", len(params.variances), X.shape[1])
    data = _Data.build(model, X, np.asarray(y, dtype=float))
    return float(logsumexp(_log_joint(data, params, _log_softmax(params.gate, data)), axis=0).mean())


def gate_newton_step(data: _Data, r: Array, V: Array, log_pi: Array, bound: float = np.inf) -> tuple[Array, Array]:
    """One damped Newton step for max_V Q(V) = sum_ij r_ji log softmax_j(V z_i), V (k, p), V_k = 0, projected on
    the box |V| <= ``bound``: coordinates at the bound whose gradient points out of the box are held, the Newton
    system is solved on the others, the step is clipped to the box and halved until Q does not decrease.

    ``log_pi`` is log softmax at V; returns the new V and its log softmax (Q never decreases).
    """
    k, p = V.shape
    n = data.y.shape[0]
    probs = np.exp(log_pi[: k - 1])
    grad = ((r[: k - 1] - probs) @ data.Zt.T).ravel()
    weight = probs[:, None, :] * (np.eye(k - 1)[:, :, None] - probs[None, :, :])  # (k-1, k-1, n)
    hess = (weight.reshape(-1, n) @ data.outer).reshape(k - 1, k - 1, p, p)
    hess = hess.transpose(0, 2, 1, 3).reshape((k - 1) * p, (k - 1) * p)
    hess += 1e-10 * np.trace(hess) / len(hess) * np.eye(len(hess))
    held = ((np.abs(V[: k - 1]) >= bound) & (np.sign(grad.reshape(k - 1, p)) == np.sign(V[: k - 1]))).ravel()
    free = np.flatnonzero(~held)
    direction = np.zeros_like(grad)
    direction[free] = np.linalg.solve(hess[np.ix_(free, free)], grad[free])
    direction = direction.reshape(k - 1, p)
    current = float((r * log_pi).sum())
    step = 1.0
    for _ in range(30):
        candidate = V.copy()
        candidate[: k - 1] = np.clip(candidate[: k - 1] + step * direction, -bound, bound)
        candidate_log_pi = _log_softmax(candidate, data)
        if float((r * candidate_log_pi).sum()) >= current:
            return candidate, candidate_log_pi
        step /= 2
    return V, log_pi


def _e_step(data: _Data, params: GaussianMoEParams, log_pi: Array) -> tuple[Array, float]:
    """Responsibilities r (k, n) at ``params`` and the mean log-likelihood there."""
    joint = _log_joint(data, params, log_pi)
    top = joint.max(axis=0)
    shifted = np.exp(joint - top)
    total = shifted.sum(axis=0)
    return shifted / total, float((top + np.log(total)).mean())


def _m_step(
    data: _Data, params: GaussianMoEParams, log_pi: Array, r: Array, newton_steps: int, variance_floor: float,
    bound: float,
) -> tuple[GaussianMoEParams, Array]:
    """The M-step given responsibilities ``r`` (module docstring); returns the new parameters and gate log softmax."""
    p = data.Et.shape[0]
    gram = (r @ data.outer_e).reshape(-1, p, p) + 1e-12 * np.eye(p)
    rhs = r @ (data.Et * data.y).T
    experts = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
    residual = data.y - _linear_maps(experts, data.Et)
    mass = r.sum(axis=1)
    variances = np.maximum((r * residual**2).sum(axis=1) / np.maximum(mass, 1e-300), variance_floor)
    gate = params.gate
    for _ in range(newton_steps):
        gate, log_pi = gate_newton_step(data, r, gate, log_pi, bound)
    return GaussianMoEParams(gate, experts, variances), log_pi


def em_iteration(
    data: _Data, params: GaussianMoEParams, log_pi: Array, newton_steps: int, variance_floor: float,
    bound: float = np.inf,
) -> tuple[GaussianMoEParams, Array, float]:
    """One EM iteration (the EM map) from ``params`` (with gate log softmax ``log_pi``).

    Returns the new parameters, their gate log softmax, and the mean log-likelihood at the OLD ones.
    """
    r, value = _e_step(data, params, log_pi)
    new_params, new_log_pi = _m_step(data, params, log_pi, r, newton_steps, variance_floor, bound)
    return new_params, new_log_pi, value


def score_cosine(data: _Data, params: GaussianMoEParams, log_pi: Array, bound: float = np.inf,
                 r: Array | None = None) -> float:
    """max_a |mean_i s_ia| / sqrt(mean_i s_ia^2) over the free parameters (module docstring), with the
    per-sample scores of the log-likelihood log p(y_i | x_i):

    s_i(gamma_j, c_j) = (r_ji - pi_ji) z_i (j < k),  s_i(eta_j) = r_ji (y_i - m_ji) phi_e(x_i) / nu_j,
    s_i(nu_j) = r_ji ((y_i - m_ji)^2 / (2 nu_j^2) - 1 / (2 nu_j)).

    A gate coordinate held at the box (|v| = ``bound``) whose score points out of the box satisfies its KKT
    condition and is left out of the maximum. ``r``: the responsibilities r_ji = pi_j(x_i) N(y_i | m_ji, nu_j) /
    p(y_i | x_i) at ``params`` when the caller has them (:func:`_e_step`), else computed here.
    """
    r = _e_step(data, params, log_pi)[0] if r is None else r
    k = r.shape[0]
    residual = data.y - _linear_maps(params.experts, data.Et)
    nu = params.variances[:, None]
    gate = (r - np.exp(log_pi))[: k - 1]
    expert = r * residual / nu
    variance = r * (residual**2 / (2 * nu**2) - 1 / (2 * nu))
    ratios = []
    for weights, design in ((gate, data.Zt), (expert, data.Et), (variance, np.ones((1, data.y.size)))):
        mean = weights @ design.T
        square = (weights**2) @ (design**2).T
        ratios.append(np.abs(mean) / np.sqrt(np.where(square > 0, square * data.y.size, np.inf)))
    V = params.gate[: k - 1]
    mean = gate @ data.Zt.T
    held = (np.abs(V) >= bound) & (np.sign(mean) == np.sign(V))
    ratios[0] = np.where(held, 0.0, ratios[0])
    return float(max(np.max(v) if v.size else 0.0 for v in ratios))


def blow_up(params: GaussianMoEParams, bound: float, variance_floor: float) -> str:
    """``""`` when ``params`` are finite and inside the box (module docstring), else the reason."""
    values = (params.gate, params.experts, params.variances)
    if not all(np.all(np.isfinite(v)) for v in values):
        return "non-finite"
    if np.abs(params.experts).max() > bound or params.variances.max() > bound**2:
        return "box"  # the gate is projected on the box; experts and variances (closed-form M-step) are not
    if params.variances.min() <= variance_floor:
        return "variance-floor"
    return ""


@dataclass(frozen=True)
class _Point:
    """A point of the fit with its E-step: parameters, gate log softmax, responsibilities, mean log-likelihood."""

    params: GaussianMoEParams
    log_pi: Array
    r: Array
    value: float

    @classmethod
    def at(cls, data: _Data, params: GaussianMoEParams, log_pi: Array) -> "_Point":
        r, value = _e_step(data, params, log_pi)
        return cls(params, log_pi, r, value)


@dataclass(frozen=True)
class _Outcome:
    """Where a fit stopped: the returned point, EM-map evaluations, status, reason and score cosine (nan: not
    computed)."""

    params: GaussianMoEParams
    log_pi: Array
    maps: int
    status: str
    reason: str
    cosine: float


def _unconstrained(params: GaussianMoEParams) -> Array:
    """The coordinates SQUAREM extrapolates in: gate, experts, log variances (flat)."""
    return np.concatenate([params.gate.ravel(), params.experts.ravel(), np.log(params.variances)])


def _constrained(u: Array, like: GaussianMoEParams, bound: float) -> GaussianMoEParams:
    """Inverse of :func:`_unconstrained`, the gate clipped to the box ``|gamma|, |c| <= bound`` (as its M-step)."""
    g, e = like.gate.size, like.experts.size
    gate = np.clip(u[:g].reshape(like.gate.shape), -bound, bound)
    return GaussianMoEParams(gate, u[g : g + e].reshape(like.experts.shape), np.exp(u[g + e :]))


@dataclass
class _Run:
    """The EM map and the stopping rule shared by plain and accelerated EM (module docstring)."""

    data: _Data
    newton_steps: int
    variance_floor: float
    bound: float
    tol: float
    threshold: float
    max_iter: int
    maps: int = 0

    def map(self, point: _Point) -> tuple[GaussianMoEParams, Array]:
        """One EM-map evaluation (counted)."""
        self.maps += 1
        return _m_step(self.data, point.params, point.log_pi, point.r, self.newton_steps, self.variance_floor,
                       self.bound)

    def advance(self, point: _Point) -> _Point | _Outcome:
        """One EM step from ``point``: the new point, or the outcome when it blew up or passed the stopping rule
        (the step gained less than ``tol`` and the score test holds at the new point)."""
        params, log_pi = self.map(point)
        reason = blow_up(params, self.bound, self.variance_floor)
        new = None if reason else _Point.at(self.data, params, log_pi)
        if new is not None and not np.isfinite(new.value):
            reason = "non-finite"
        if reason:
            return _Outcome(params, log_pi, self.maps, "diverged", reason, np.nan)
        if new.value - point.value < self.tol:
            cosine = score_cosine(self.data, params, log_pi, self.bound, new.r)
            if cosine <= self.threshold:
                return _Outcome(params, log_pi, self.maps, "converged", "tol", cosine)
        return new

    def capped(self, point: _Point) -> _Outcome:
        return _Outcome(point.params, point.log_pi, self.maps, "iteration-cap", "max_iter", np.nan)


def squarem(run: _Run, point: _Point) -> _Outcome:
    """SQUAREM, scheme S3 (Varadhan & Roland 2008) with the monotone safeguard, from ``point`` (module docstring).

    One cycle from theta_0: theta_1 = F(theta_0), theta_2 = F(theta_1) (both plain EM steps, each checked by
    the stopping rule and the blow-up test), r = u_1 - u_0, v = u_2 - 2 u_1 + u_0 in the unconstrained
    coordinates u, alpha = -||r|| / ||v|| with -step_max <= alpha <= -1, u' = u_0 - 2 alpha r + alpha^2 v, the gate
    clipped to the box; theta'' = F(theta') is accepted when it is inside the box and
    l(theta'') >= l(theta_2), else theta_2 is kept. step_max starts at 1, is multiplied by 4 when alpha hits it (as
    in the authors' SQUAREM package) and divided by 4, not below 1, on every rejection. Fewer than three EM-map
    evaluations left: plain EM steps.
    """
    step_max = 1.0
    while run.maps < run.max_iter:
        if run.max_iter - run.maps < 3:
            point = run.advance(point)
            if isinstance(point, _Outcome):
                return point
            continue
        first = run.advance(point)
        if isinstance(first, _Outcome):
            return first
        second = run.advance(first)
        if isinstance(second, _Outcome):
            return second
        u0, u1, u2 = (_unconstrained(p.params) for p in (point, first, second))
        r, v = u1 - u0, u2 - 2 * u1 + u0
        norm_r, norm_v = float(np.linalg.norm(r)), float(np.linalg.norm(v))
        point = second
        if not norm_v > 0:
            continue
        alpha = -min(max(norm_r / norm_v, 1.0), step_max)
        step_max = 4 * step_max if -alpha >= step_max else step_max
        extrapolated = _constrained(u0 - 2 * alpha * r + alpha**2 * v, second.params, run.bound)
        if blow_up(extrapolated, run.bound, run.variance_floor):
            step_max = max(1.0, step_max / 4)
            continue
        start, candidate = _Point.at(run.data, extrapolated, _log_softmax(extrapolated.gate, run.data)), None
        if np.isfinite(start.value):
            params, log_pi = run.map(start)
            if not blow_up(params, run.bound, run.variance_floor):
                candidate = _Point.at(run.data, params, log_pi)
        if candidate is not None and candidate.value >= second.value:  # False for a nan value
            point = candidate
        else:
            step_max = max(1.0, step_max / 4)
    return run.capped(point)


def plain(run: _Run, point: _Point) -> _Outcome:
    """Plain (generalised) EM from ``point`` until the stopping rule, a blow-up or ``max_iter`` EM maps."""
    while run.maps < run.max_iter:
        point = run.advance(point)
        if isinstance(point, _Outcome):
            return point
    return run.capped(point)


ACCELERATIONS = {"none": plain, "squarem": squarem}


@cache
def _feature_model(gate: str | Gate, expert: str | Expert, k: int, d: int) -> SoftmaxMoE:
    """The model whose compiled kernels give EM its feature maps (compiled once per family, k and d)."""
    return SoftmaxMoE.from_names(gate, expert, k, d)


@dataclass
class GaussianMoEEM:
    """scikit-learn style EM estimator (see module docstring).

    Fitted attributes: ``params_`` (:class:`GaussianMoEParams`, component k pinned), ``theta_``
    (flat, in ``Mixture`` order), ``log_likelihood_`` (mean, at ``params_``), ``n_iter_``,
    ``status_`` (``converged``, ``iteration-cap`` or ``diverged``: module docstring), ``reason_``
    (``tol``, ``max_iter``, ``non-finite``, ``box`` or ``variance-floor``), ``score_cosine_`` (the
    first-order test's cos at ``params_``) and ``converged_`` (``status_ == "converged"``).
    """

    n_components: int
    gate: str | Gate = "softmax-linear"
    expert: str | Expert = "linear"
    max_iter: int = 300
    tol: float = 1e-7
    newton_steps: int = 1
    variance_floor: float = 1e-8
    random_state: int | np.random.Generator | None = 0
    bound: float = BOUND
    accept_score: float = ACCEPT_SCORE
    acceleration: str = "squarem"
    params_: GaussianMoEParams | None = field(default=None, init=False, repr=False)
    log_likelihood_: float = field(default=np.nan, init=False)
    n_iter_: int = field(default=0, init=False)
    status_: str = field(default="", init=False)
    reason_: str = field(default="", init=False)
    score_cosine_: float = field(default=np.nan, init=False)
    model_: SoftmaxMoE | None = field(default=None, init=False, repr=False)

    @property
    def converged_(self) -> bool:
        return self.status_ == "converged"

    def _model(self, d: int) -> SoftmaxMoE:
        return _feature_model(self.gate, self.expert, self.n_components, d)

    def _initial(self, data: _Data, y: Array) -> GaussianMoEParams:
        """Random soft partition -> weighted least squares experts; flat gate; pooled variance."""
        rng = np.random.default_rng(self.random_state)
        k = self.n_components
        p = data.Et.shape[0]
        r = rng.dirichlet(np.ones(k), size=len(y)).T
        gram = (r @ data.outer_e).reshape(k, p, p) + 1e-8 * np.eye(p)
        experts = np.linalg.solve(gram, (r @ (data.Et * y).T)[:, :, None])[:, :, 0]
        experts += rng.normal(0, 0.1 * (y.std() + 1e-12), experts.shape)
        return GaussianMoEParams(np.zeros((k, data.Zt.shape[0])), experts, np.full(k, y.var() + 1e-12))

    def fit(self, X: Array, y: Array, init: GaussianMoEParams | Array | None = None) -> "GaussianMoEEM":
        if self.acceleration not in ACCELERATIONS:
            raise ModelError(f"unknown acceleration {self.acceleration!r}; choose one of {', '.join(ACCELERATIONS)}")
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        if X.ndim != 2 or y.shape != (len(X),):
            raise ModelError(f"need X of shape (n, d) and y of shape (n,), got {X.shape} and {y.shape}")
        k, d = self.n_components, X.shape[1]
        if not isinstance(k, int) or k < 2:
            raise ModelError(f"EM needs n_components >= 2, got {k!r}")
        model = self._model(d)
        data = _Data.build(model, X, y)
        if init is None:
            params = self._initial(data, y)
        elif isinstance(init, GaussianMoEParams):
            params = init.pinned()
        else:
            params = GaussianMoEParams.from_flat(init, k, d, model.sizes).pinned()
        if params.gate.shape != (k, data.Zt.shape[0]) or np.any(params.variances <= 0):
            raise ModelError(f"initial parameters must describe {k} components in dimension {d} with nu > 0")
        params = GaussianMoEParams(np.clip(params.gate, -self.bound, self.bound), params.experts, params.variances)
        log_pi = _log_softmax(params.gate, data)  # a start outside the box is projected on it (the gate's part)
        run = _Run(data, self.newton_steps, self.variance_floor, self.bound, self.tol,
                   self.accept_score / np.sqrt(len(y)), self.max_iter)
        outcome = ACCELERATIONS[self.acceleration](run, _Point.at(data, params, log_pi))
        self.params_, self.n_iter_, self.model_ = outcome.params, outcome.maps, model
        self.status_, self.reason_, self.score_cosine_ = outcome.status, outcome.reason, outcome.cosine
        if self.status_ == "iteration-cap":
            self.score_cosine_ = score_cosine(data, outcome.params, outcome.log_pi, self.bound)
        self.log_likelihood_ = mean_log_likelihood(X, y, outcome.params, model)
        return self

    @property
    def theta_(self) -> Array:
        if self.params_ is None:
            raise ModelError("call fit first")
        return self.params_.flat()

    def predict(self, X: Array) -> Array:
        """Conditional mean E[y | x] = sum_j pi_j(x) eta_j . phi_e(x)."""
        if self.params_ is None:
            raise ModelError("call fit before predict")
        X = np.asarray(X, dtype=float)
        data = _Data.build(self.model_ or self._model(X.shape[1]), X, np.zeros(len(X)))
        pi = np.exp(_log_softmax(self.params_.gate, data))
        return (pi * _linear_maps(self.params_.experts, data.Et)).sum(axis=0)
