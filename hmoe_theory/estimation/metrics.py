"""Names shared by the estimators, the result store and the reports (one place, no string copies).

Fit status (one per stored fit), decided by the estimator from its own stopping test:

* ``converged``      -- the solver's convergence test held (relative step or gradient below tolerance);
* ``iteration-cap``  -- the iteration budget ran out first;
* ``diverged``       -- non-finite loss or parameters;
* ``failed``         -- the fit raised (no metrics beyond the status).

Metrics of one fit (floats). ``RATE_METRICS`` are losses whose decay in n is estimated; the others are
diagnostics reported beside them:

* ``voronoi``            -- weighted Voronoi loss with the literature's exponents (headline);
* ``voronoi_derived``    -- the same weighted loss with the exponents derived from the relations that
                           the interaction engine finds for the family;
* ``weight_discrepancy`` -- sum_j |sum_{i in V_j} exp(c_i) - exp(c*_j)|;
* ``l2_error``           -- ||f_hat - f*||_{L2(design)};
* ``max_atom_distance``  -- diagnostic only: unweighted largest distance of a fitted atom to its true atom;
* ``iterations``, ``grad_norm``, ``loss`` -- the headline fit's solver record;
* ``best_voronoi``, ``best_loss`` -- the best of all starts (stored beside the near-truth headline fit);
* ``cold_voronoi``, ``cold_loss_gap`` -- on a subsample of replicates and sizes, the headline loss of a fresh
  near-truth start and (L_warm - L_cold) / L_cold: how far warm starts along the nested sizes agree.
"""

from __future__ import annotations

STATUSES: tuple[str, ...] = ("converged", "iteration-cap", "diverged", "failed")
CONVERGED = "converged"

RATE_METRICS: tuple[str, ...] = ("voronoi", "voronoi_derived", "weight_discrepancy", "l2_error")
DIAGNOSTIC_METRICS: tuple[str, ...] = (
    "max_atom_distance", "iterations", "grad_norm", "loss", "best_voronoi", "best_loss", "cold_voronoi", "cold_loss_gap",
)
