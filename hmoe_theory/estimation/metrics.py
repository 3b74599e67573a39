"""Names shared by the estimators, the result store and the reports (one place, no string copies).

Fit status (one per stored fit), decided by the estimator from its own stopping test:

* ``converged``      -- the solver's convergence test held (relative step or gradient below tolerance);
* ``iteration-cap``  -- the iteration budget ran out first;
* ``stalled``        -- stopped early by the stall rule of :mod:`.least_squares` (the loss flat while the KKT test
                       keeps failing): a fit that cannot pass its verification, never counted as converged;
* ``diverged``       -- a blow-up: non-finite loss or parameters, a parameter leaving the estimator's box, or
                       (EM) a variance at its floor; never a usable fit, never a warm start;
* ``failed``         -- the fit stopped without passing its verification (a saddle), or raised.

A status is a statement about the returned point, verified there by the estimator (least squares: KKT
cosine and Hessian, :mod:`.least_squares`; EM: the score test, :mod:`.em`).

Metrics of one fit (floats). ``RATE_METRICS`` are losses whose decay in n is estimated; the others are
diagnostics reported beside them:

* ``voronoi``            -- weighted Voronoi loss with the setting's headline exponents (D1 or D2: the
                           setting's convention, :func:`hmoe_theory.estimation.catalogue.convention`);
* ``d1``                 -- the exponent-one Voronoi loss D1 (:func:`~.voronoi.d1_loss`, the setting's atomwise or
                           merged convention), whose decay n^(-1/(2s)) the rate orders predict (stored by
                           replicate functions that compute it; mixtures: atom-wise);
* ``d1_merged``          -- D1 with the coordinates that enter linearly (linear experts in least squares, the
                           tied attention values) through the cell aggregate, cells by the other coordinates: the
                           loss the exact merge of an over-specified linear-expert fit does not move;
* ``weight_discrepancy`` -- sum_j |sum_{i in V_j} exp(c_i) - exp(c*_j)|;
* ``l2_error``           -- ||f_hat - f*||_{L2(design)};
* ``voronoi_derived``    -- diagnostic only: the weighted loss with the exponents of
                           :func:`~.exponents.derived_exponents`, which no theorem backs outside the Gaussian
                           MoE with linear experts (so no rate is estimated for it);
* ``max_atom_distance``  -- diagnostic only: unweighted largest distance of a fitted atom to its true atom;
* ``iterations``, ``grad_norm``, ``loss`` -- the headline fit's solver record;
* ``best_voronoi``, ``best_loss`` -- the best of all starts (stored beside the near-truth headline fit);
* ``refit``              -- 1 when the stored fit of this size is the fresh near-truth refit of a warm-started fit
                           (the protocol's refit rule, :mod:`.replicate`: the warm fit did not converge, or was
                           off, and the refit was kept), else 0;
* ``refit_tried``        -- 1 when the warm-started fit of this size was refitted from a fresh near-truth start
                           (whichever fit was kept), else 0 (warm starts only);
* ``polished``           -- 1 when the stored fit is the kept fit continued by L-BFGS-B (and Newton) because neither
                           the warm nor the fresh fit converged (refit rule ``if-not-converged``, least squares),
                           else 0;
* ``tries_converged``    -- with ``tries = m > 1`` fresh starts per size: how many of the m fits converged;
* ``cold_voronoi``, ``cold_loss_gap`` -- on a subsample of replicates and sizes, the headline loss of a fresh
  near-truth start and (L_warm - L_cold) / L_cold: how far warm starts along the nested sizes agree.
"""

from __future__ import annotations

STATUSES: tuple[str, ...] = ("converged", "iteration-cap", "stalled", "diverged", "failed")
CONVERGED = "converged"

RATE_METRICS: tuple[str, ...] = ("voronoi", "d1", "d1_merged", "weight_discrepancy", "l2_error")
DIAGNOSTIC_METRICS: tuple[str, ...] = (
    "voronoi_derived", "max_atom_distance", "iterations", "grad_norm", "loss", "best_voronoi", "best_loss", "cold_voronoi", "cold_loss_gap",
    "refit", "refit_tried", "polished", "tries_converged",
)
