"""Early stop of a merged-D1 twin's least-squares fit: the quotient KKT test as the solver's acceptance rule
(least_squares ``accept``, quotient.quotient_acceptance)."""

from __future__ import annotations

import numpy as np
import pytest

from hmoe_theory.estimation import replicate
from hmoe_theory.estimation.least_squares import fit_least_squares
from hmoe_theory.estimation.quotient import quotient_acceptance, quotient_status
from hmoe_theory.experiments.spec import task_seed

#: relative gap of the merged D1 between the early-stopped and the capped fit: the capped fit goes on polishing along
#: directions where the loss moves by < 1e-9 relative (measured gaps 2e-6 to 3e-4 on these cases)
D1_TOLERANCE = 1e-3


def _case(name: str, seed: int, n: int = 800):
    setting = replicate.get_setting(name)
    X, y = replicate._Data(setting, seed, n).at(setting, n)
    return setting, X, y, replicate.near_truth_start(setting, np.random.default_rng(seed))


def _fit(setting, X, y, start, accept=None):
    return fit_least_squares(setting.fit_model, X, y, start, bound=replicate.BOUND, max_iter=replicate.MAX_ITER,
                             projection=True, accept=accept)


@pytest.mark.parametrize(("name", "seed"), [("quadratic-polynomial/linear/over/merged", 1),
                                             ("quadratic-monomial/linear/over/merged", 3),
                                             ("softmax-linear/linear/over/merged", 5)])
def test_the_early_stopped_twin_fit_is_quotient_converged_sooner_at_the_same_merged_d1(name, seed):
    setting, X, y, start = _case(name, seed)
    capped = _fit(setting, X, y, start)
    early = _fit(setting, X, y, start, quotient_acceptance(setting, replicate.BOUND))
    assert quotient_status(setting, X, y, capped, replicate.BOUND) == "converged"
    assert early.status == "converged" and early.reason == "accept"
    assert quotient_status(setting, X, y, early, replicate.BOUND) == "converged"  # the same test, after the fact
    assert early.iterations < capped.iterations
    d1_capped, d1_early = (replicate.losses(setting, f.theta)["d1_merged"] for f in (capped, early))
    assert d1_early == pytest.approx(d1_capped, rel=D1_TOLERANCE)
    assert early.loss == pytest.approx(capped.loss, rel=1e-8)


def test_the_rule_decides_the_status_and_stops_the_solver():
    setting, X, y, start = _case("softmax-linear/linear/over/merged", 5)
    seen = []

    def never(theta, system):
        seen.append(theta)
        r, norms, g, H = system
        assert theta.shape == (setting.fit_model.n_params,) and g.shape == norms.shape == (len(H),)
        assert len(H) == setting.fit_model.free_mask.sum()  # the full problem's system over the free entries
        return False

    plain = _fit(setting, X, y, start)
    refused = _fit(setting, X, y, start, never)
    assert plain.status == "converged" and refused.status == "failed"  # stopped by gtol/ftol, the rule says no
    assert np.array_equal(refused.theta, plain.theta) and seen  # tried (where flat), but moves nothing
    accepted = _fit(setting, X, y, start, lambda theta, system: True)
    assert (accepted.status, accepted.reason) == ("converged", "accept")
    # tried at the first system and after flat steps, only with b*(a) in the box (here after 16 reduced systems);
    # the full stage reuses the projection's last system and accepts it at once
    assert accepted.iterations == 17 < plain.iterations == 23
    assert np.abs(accepted.theta).max() <= replicate.BOUND


def test_the_projection_stage_is_never_accepted_outside_the_box():
    # softmax-linear twin, n = 1000 of replicate 0's path: the quotient test holds at (a, b*(a)) after 18 reduced
    # systems, with an unconstrained expert coefficient b* = 6.9 outside the box |theta| <= 5
    setting = replicate.get_setting("softmax-linear/linear/over/merged")
    seed = task_seed(0, 0)
    X, y = replicate._Data(setting, seed, 1000).at(setting, 1000)
    rng = np.random.default_rng(replicate.setting_seed(seed, setting.name))
    start = replicate.near_truth_start(setting, rng, setting.protocol.start_perturbation.at(1000))
    rule = quotient_acceptance(setting, replicate.BOUND)
    accepted = []

    def recording(theta, system):
        holds = rule(theta, system)
        accepted.append((holds, float(np.abs(theta).max())))
        return holds

    fit = _fit(setting, X, y, start, recording)
    assert all(largest <= replicate.BOUND for _, largest in accepted)
    assert np.abs(fit.theta).max() <= replicate.BOUND
    assert fit.status == quotient_status(setting, X, y, fit, replicate.BOUND)
