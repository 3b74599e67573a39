"""Conformance suite (in the spirit of scikit-learn's ``parametrize_with_checks``): every gate x expert of the
catalogue and every attention position goes through the same checks, so a new family is covered by one catalogue
line and no new test.

Checks on every gate x expert (k = 2, d = 2; the symbolic mixture of :class:`hmoe_theory.families.Mixture`):
pinning (the one rule of ``Mixture.pinned``; ``pin`` keeps the function), translation invariance (a common shift
of the gate parameters and biases keeps the function iff the gate says so), identified projection (``canonical``
keeps the function, the projection is an orthogonal projector). On every gate with the linear expert and every
expert with the softmax-linear gate (each family at least once, d = 2): the derived Newton system equals the
symbolic values and, for softmax gates, the hand-written fast path to 1e-12; a noiseless fit from a perturbed
truth returns the function (round trip). Every attention position: derived values = symbolic values and the fit
round trip.
"""

from __future__ import annotations

import numpy as np
import pytest

from hmoe_theory.compile import compile_exprs
from hmoe_theory.estimation import attention_catalogue as ar
from hmoe_theory.estimation.least_squares import fit_least_squares
from hmoe_theory.estimation.model import SoftmaxMoE
from hmoe_theory.families import EXPERTS, GATES, Mixture

PAIRS = [(g, e) for g in GATES for e in EXPERTS]
CROSS = sorted({(g, "linear") for g in GATES} | {("softmax-linear", e) for e in EXPERTS})
#: a result, not hidden: from truth + N(0, 0.05^2) on noiseless data (n = 150), the damped Newton fit of the
#: two-layer tanh expert stops at a verified local minimum (KKT, gtol, 72 iterations, loss 4.8e-8, RMS error 3.1e-4)
LOCAL_MINIMA = {("softmax-linear", "ffn-tanh")}


def _values(mixture: Mixture, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 0.7, len(mixture.params))


def _f(mixture: Mixture, X: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.broadcast_to(mixture.function.kernel(*X.T, *values), (len(X),))


def _X(d: int, n: int = 60, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (n, d))


# -- checks on every gate x expert ---------------------------------------------------------------------
def check_pinning(mixture: Mixture) -> None:
    last = mixture.components[-1]["gate"]
    if mixture.gate.normalisation == "softmax":
        expected = {last.bias} | (set(last.params) if mixture.gate.translation_invariant(mixture.d) else set())
    else:
        expected = set()
    assert set(mixture.pinned) == expected
    assert mixture.free_mask.sum() == len(mixture.params) - len(expected)
    assert [p for p, free in zip(mixture.params, mixture.free_mask) if free] == list(mixture.free_params)
    values = _values(mixture, 0)
    pinned = mixture.pin(values)
    assert np.all(pinned[~mixture.free_mask] == 0.0)
    X = _X(mixture.d)
    np.testing.assert_allclose(_f(mixture, X, pinned), _f(mixture, X, values), rtol=1e-12, atol=1e-12)


def check_translation_invariance(mixture: Mixture) -> None:
    values = _values(mixture, 2)
    rows = values.reshape(mixture.k, mixture.width).copy()
    shifted = [a for a, (role, _) in enumerate(mixture.roles) if role in ("gate", "bias")]
    rows[:, shifted] += np.random.default_rng(3).normal(0.0, 0.5, len(shifted))
    X = _X(mixture.d)
    same = np.allclose(_f(mixture, X, rows.ravel()), _f(mixture, X, values), rtol=1e-11, atol=1e-12)
    invariant = mixture.gate.normalisation == "softmax" and mixture.gate.translation_invariant(mixture.d)
    if invariant:
        assert same
    else:  # the gate matters only where the experts differ (a relu expert may vanish on every point)
        experts = compile_exprs([c["expert"] for c in mixture.components], [*mixture.x, *mixture.params])
        values_of_experts = np.broadcast_to(experts(*X.T, *values), (mixture.k, len(X)))
        assert same is bool(np.allclose(values_of_experts, values_of_experts[0], atol=1e-12))


def check_identified_projection(mixture: Mixture) -> None:
    for P in (mixture.gate.identified_projection(mixture.d), mixture.expert.identified_projection(mixture.d)):
        np.testing.assert_allclose(P, P.T, atol=1e-12)
        np.testing.assert_allclose(P @ P, P, atol=1e-10)
    values = _values(mixture, 4)
    canonical = mixture.canonical(values).ravel()
    X = _X(mixture.d)
    np.testing.assert_allclose(_f(mixture, X, canonical), _f(mixture, X, values), rtol=1e-11, atol=1e-12)
    with pytest.raises(Exception, match="parameter values"):
        mixture.canonical(values[:-1])


CHECKS = [check_pinning, check_translation_invariance, check_identified_projection]


@pytest.mark.parametrize("gate, expert", PAIRS, ids=[f"{g}/{e}" for g, e in PAIRS])
def test_every_gate_x_expert(gate, expert):
    mixture = Mixture.from_names(gate, expert, 2, 2)
    for check in CHECKS:
        check(mixture)


# -- the derived Newton system and the fit, each family at least once ----------------------------------
@pytest.mark.parametrize(
    "gate, expert",
    [pytest.param(g, e, marks=pytest.mark.xfail(strict=True, reason="local minimum")) if (g, e) in LOCAL_MINIMA
     else (g, e) for g, e in CROSS],
    ids=[f"{g}/{e}" for g, e in CROSS],
)
def test_derived_system_and_fit_round_trip(gate, expert):
    mixture = Mixture.from_names(gate, expert, 2, 2)
    derived = mixture.derived_system()
    X = _X(2, n=150)
    truth = mixture.pin(_values(mixture, 5))
    y = _f(mixture, X, truth) + 0.05 * np.random.default_rng(6).normal(size=len(X))
    theta = _values(mixture, 7)
    np.testing.assert_allclose(derived.predict(X, theta), _f(mixture, X, theta), rtol=1e-12, atol=1e-13)
    system = derived.system(X, y, theta)
    np.testing.assert_allclose(system[0], _f(mixture, X, theta) - y, rtol=1e-12, atol=1e-13)
    fast = mixture.newton_system()
    if gate == "sigmoid":
        assert fast.__class__ is derived.__class__  # no fast path registered: the derived system is used
    else:
        assert isinstance(fast, SoftmaxMoE)
        for mine, theirs in zip(system, fast.system(X, y, theta)):
            assert np.abs(mine - theirs).max() <= 1e-12 * max(np.abs(theirs).max(), 1.0)
    # round trip: noiseless data, a start near the truth; the fit returns the function
    y_exact = _f(mixture, X, truth)
    start = truth + 0.05 * np.random.default_rng(8).normal(size=truth.size)
    fit = fit_least_squares(derived, X, y_exact, start, bound=None)
    assert fit.status == "converged", (fit.status, fit.reason, fit.iterations)
    assert np.sqrt(np.mean((_f(mixture, X, fit.theta) - y_exact) ** 2)) < 1e-6


@pytest.mark.parametrize("position", ar.POSITIONS)
def test_every_attention_position(position):
    function = ar.entry_function(position, 1)
    system = function.newton_system()
    X = _X(ar.N_TOKENS * ar.DIM, n=200)
    theta = ar.true_theta(position)
    symbolic = np.broadcast_to(function.kernel(*X.T, *theta), (len(X),))
    np.testing.assert_allclose(system.predict(X, theta), symbolic, rtol=1e-12, atol=1e-13)
    assert system.free_mask.all()  # the gauge w = 1 is substituted in the function: nothing else to pin
    start = theta + 0.05 * np.random.default_rng(9).normal(size=theta.size)
    fit = fit_least_squares(system, X, symbolic, start)
    assert fit.status == "converged"
    assert np.sqrt(np.mean((system.predict(X, fit.theta) - symbolic) ** 2)) < 1e-6
