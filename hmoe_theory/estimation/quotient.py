"""What "converged" means for a least-squares fit of a merged-D1 twin: the KKT test on the quotient by the merges.

Setting. Least squares with k > k* components whose experts are linear in their parameters, E(x; eta) =
eta . phi(x) (``d1_convention = "merged"``, :mod:`.setting`). Inside a Voronoi cell V_j whose atoms share their
gate, f_G depends on the cell only through its mass sum_{i in V_j} w_i and its aggregate sum_{i in V_j} w_i eta_i
(w_i = exp(c_i)): an exact merge. The empirical loss is then constant along the **merge directions** M(theta),
the tangent space of that merge set: for every cell with |V_j| >= 2, the changes (dc_i, deta_i)_{i in V_j} of the
free weights and experts of the cell with

    sum_i w_i dc_i = 0   (mass)   and   sum_i w_i (dc_i eta_ip + deta_ip) = 0 for every expert coordinate p,

i.e. the null space of the cell's constraint matrix C_j ((|V_j| - 1)(1 + p) directions; a pinned weight is no
coordinate). Its Hessian has no sign there (measured: least eigenvalues within +-4e-7), so the plain test
(:func:`~.least_squares.verified_result`: Hessian positive semi-definite in every free direction) decides nothing
on this flat set. The merged D1 (:func:`~.voronoi.d1_loss`, ``convention="merged"``) reads a cell's experts only
through the aggregate and its weights through the mass (and, in the atom-wise gate terms, w_i |gamma_i - gamma*_j|,
which moves at first order in the gate gaps only), so where the solver stopped along M does not move it.

**Converged (quotient KKT).** In the solver's scale-free coordinates z_a = ||J_a|| theta_a (D = diag ||J_a||^2,
g_z = D^-1/2 g, H_z = D^-1/2 H D^-1/2, g = J^T r), let P be the orthogonal projector onto M(theta)^perp (on a
cell's weights and experts: P = C_z^T (C_z C_z^T)^+ C_z with C_z = C_j D^-1/2, the row space of its
constraints; the identity on every other coordinate). ``converged`` means, over the free coordinates not held at a
bound of the box (:func:`~.least_squares.held_at_bound`; a held coordinate is no part of a merge direction, which
must stay in the box):

1. first order: max_a |(P g_z)_a| / ||r|| <= ``accept_cos`` (the solver's cosine test, on the projected gradient);
2. second order: P H_z P + tau (I - P) is positive definite after the solver's 1e-10 relative shift (tau = the
   largest |(H_z)_aa|), i.e. H restricted to M^perp is positive semi-definite.

So the fit is a verified local minimum in every direction that moves an identified quantity (the gates, the
weights and the cell aggregates), and nothing is required along M: neither curvature nor a vanishing gradient.
Exact on the flat set (shared gates in a cell: there g is in M^perp and H v = 0 for v in M); off it, a descent
left along M could move the identified quantities at second order, which this test does not see. Other statuses
are the solver's (a failed quotient test keeps ``iteration-cap``/``stalled``/``failed`` from the fit's stopping
reason, ``diverged`` stays). Cells: nearest true atom in the canonical gate parameters of the pinned fit (the
fitted pinned atom lies in the pinned true atom's cell, as the near-truth starts put it). The zero-residual rule of
the solver is not applied (noise-free data are not a rate study).

**Early stop.** The same test is an acceptance rule of the solver (:func:`quotient_acceptance`, passed as
``accept`` to :func:`~.least_squares.fit_least_squares`): evaluated on the solver's iterate and the system it holds
there wherever the loss is flat, it stops the fit as soon as it holds, and the fit's status is then the quotient
status. :func:`quotient_status` judges a finished fit by the same rule at its returned point (one system more).
Measured (benchmarks/bench_twins.py, the three twins, replicates 0-3 of the decisive design, 96 headline fits per
variant, side by side): early stop 0.695x the CPU of capped fits + quotient_status (softmax-linear 0.66x,
quadratic-polynomial 1.04x, quadratic-monomial 0.50x per path), verified 78 vs 75 of 96; the rule costs <= 0.3 % of
the CPU. Fit by fit (same start and data, every fit of replicates 0-1): the early-stopped loss is above the capped one
by at most 3e-7, 1.5e-8, 3e-6 relative, and where both converge the merged D1 differs by a median 1.5e-4, 5e-5,
7e-4 but at most 6 %, 0.4 %, 15 %: the merged D1 still moves along directions where the loss is flat to 1e-6.
Along a warm path one changed fit changes every later start, so whole paths differ far more.

Measured (the three twins, near-truth starts as in the replicate, warm along n = 1e3, 3e3, 1e4, 8 replicates,
72 fits of ``fit_least_squares`` with the replicate's box and budget): the quotient test and the plain test give
the same status on all 72 fits, 43 converged. The 29 others are not stuck on the flat set: their median merged
D1 is 12.2 (converged: 2.2): atoms at the box and a saddle, e.g. a softmax-linear fit at n = 2000 (replicate 0,
probed alone) with least Hessian eigenvalue -1.8e3 and cosine 0.93. So the twin's convention removes the flat-set
objection, but does not by itself raise the verified share of these fits to 95 %. What does: the refit rule's
polish (:func:`~.least_squares.polish`, L-BFGS-B then Newton, verified by this test), which takes the twins of the
decisive design to 159, 160 and 160 of 160 converged fits (benchmarks/bench_polish.py).
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..newton_system import System
from .least_squares import ACCEPT_COS, Acceptance, LeastSquaresFit, held_at_bound, kkt_test, verified_result
from .setting import Setting

Array = np.ndarray


def gate_cells(setting: Setting, theta: Array) -> tuple[tuple[int, ...], ...]:
    """Voronoi cells of the fitted components (pinned ``theta``) by nearest true atom in the canonical gate
    parameters (sym(A) for quadratic gates)."""
    fitted = setting.fit_model.canonical(np.asarray(theta, dtype=float)).gate
    true = setting.true_model.canonical(setting.true_theta).gate
    nearest = np.linalg.norm(fitted[:, None, :] - true[None, :, :], axis=2).argmin(axis=1)
    return tuple(tuple(int(i) for i in np.flatnonzero(nearest == j)) for j in range(setting.k_true))


def quotient_projector(setting: Setting, theta: Array, cells: tuple[tuple[int, ...], ...] | None = None,
                       scale: Array | None = None, held: Array | None = None) -> Array:
    """P, the orthogonal projector onto M(theta)^perp in the free coordinates z_a = scale_a theta_a (module
    docstring; ``scale`` = ||J_a|| there, default 1: the plain coordinates). Coordinates ``held`` at a bound of the
    box (bool over the free coordinates) are no part of a merge direction (P is the identity there)."""
    model = setting.fit_model
    if setting.estimator != "least-squares" or not len(model.linear_indices):
        raise ModelError(f"{setting.name}: merge directions need least squares with experts linear in their "
                         "parameters")
    theta = np.asarray(theta, dtype=float)
    cells = gate_cells(setting, theta) if cells is None else cells
    free = np.flatnonzero(model.free_mask)
    position = {int(a): b for b, a in enumerate(free)}
    pg, pe = model.sizes
    width = pg + 1 + pe
    parts = model.split(theta)
    weights, experts = np.exp(parts.bias), parts.expert
    P = np.eye(len(free))
    scale = np.ones(len(free)) if scale is None else np.asarray(scale, dtype=float)
    movable = {b for b in range(len(free)) if held is None or not held[b]}
    for cell in cells:
        if len(cell) < 2:
            continue
        columns, rows = [], []  # free coordinates of the cell and their columns in C_j (mass row, then p rows)
        for i in cell:
            if position.get(i * width + pg) in movable:  # the weight c_i (pinned for component k)
                columns.append(position[i * width + pg])
                rows.append([weights[i], *(weights[i] * experts[i])])
            for m in range(pe):
                if position[i * width + pg + 1 + m] in movable:
                    columns.append(position[i * width + pg + 1 + m])
                    rows.append([0.0, *(weights[i] * (np.arange(pe) == m))])
        C = np.array(rows).T / scale[columns]
        P[np.ix_(columns, columns)] = C.T @ np.linalg.pinv(C @ C.T) @ C
    return P


def quotient_acceptance(setting: Setting, bound: float | None, accept_cos: float = ACCEPT_COS) -> Acceptance:
    """The quotient KKT test of the module docstring as the solver's acceptance rule accept(theta, system): theta
    the pinned parameters of ``setting``'s fitted model, system = (r, ||J_a||^2, g, H) of ||r||^2 / 2 over its free
    entries at theta. It projects g_z and H_z on M(theta)^perp (:func:`quotient_projector`, scale_a = ||J_a||) and
    runs the solver's own test (:func:`~.least_squares.kkt_test`, no zero-residual rule) on the projected pair."""
    free = np.flatnonzero(setting.fit_model.free_mask)

    def accept(theta: Array, system: System) -> bool:
        r, norms, g, H = system
        scale = np.sqrt(np.maximum(norms, 1e-300))
        P = quotient_projector(setting, theta, scale=scale, held=held_at_bound(theta[free], g, bound))
        H_z = H / np.outer(scale, scale)
        tau = max(float(np.abs(np.diag(H_z)).max()), 1e-300)
        projected = (P @ H_z @ P + tau * (np.eye(len(P)) - P)) * np.outer(scale, scale)  # back to theta: same test
        return kkt_test(theta[free], (r, norms, scale * (P @ (g / scale)), projected), bound, accept_cos)[0]

    return accept


def quotient_status(setting: Setting, X: Array, y: Array, fit: LeastSquaresFit, bound: float | None,
                    accept_cos: float = ACCEPT_COS) -> str:
    """The status of ``fit`` (from :func:`~.least_squares.fit_least_squares` on (X, y)) under the quotient KKT test
    of the module docstring (:func:`quotient_acceptance` at fit.theta); ``diverged`` stays ``diverged``."""
    if fit.status == "diverged":
        return fit.status
    model = setting.fit_model
    free = np.flatnonzero(model.free_mask)
    r, norms, g, H = model.system(X, np.asarray(y, dtype=float), fit.theta)
    system = (r, norms[free], g[free], H[np.ix_(free, free)])
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(system[3]))):
        return "diverged"
    rule = quotient_acceptance(setting, bound, accept_cos)
    return verified_result(fit.theta[free], system, float(r @ r), fit.reason, fit.iterations, bound, accept_cos,
                           lambda _x, at_x: rule(fit.theta, at_x)).status


__all__ = ["ACCEPT_COS", "gate_cells", "quotient_acceptance", "quotient_projector", "quotient_status"]
