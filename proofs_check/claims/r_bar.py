"""The solvability index r̄(m) of the location-scale Gaussian r-systems (Ho and Nguyen 2016, Ann. Statist. 44(6),
Prop. 2.1 and its system (4)): r̄(m) is the least r such that

    Σ_{i=1}^m s3_i² Σ_{n1 + 2 n2 = ℓ} s1_i^{n1} s2_i^{n2} / (n1! n2!) = 0,   ℓ = 1..r,

has no real solution with every s3_i ≠ 0 and some s1_i ≠ 0 (hmoe_theory.interactions.r_systems). Lower bounds
come from real witnesses (exact, or enclosed by a Krawczyk test in arb), upper bounds from non-existence proofs:
the m = 2 Groebner eliminant, and r̄(m) <= 2m by a sign-change count (hmoe_theory.interactions.r_bar_upper).
Convention: the system as displayed (weights w_i = s3_i², means s1, second coefficients s2), no other
parametrisation.
"""

from __future__ import annotations

from hmoe_theory.certify import Status
from hmoe_theory.interactions.r_bar_enclosure import ENCLOSED_WITNESSES, prove_witness
from hmoe_theory.interactions.r_bar_lines import check_all
from hmoe_theory.interactions.r_bar_upper import check_shift_identity, witness_sign_changes
from hmoe_theory.interactions.r_systems import WITNESSES, prove_no_solution_m2, witness_check
from proofs_check.claim import Verdict
from proofs_check.registry import claim

SOURCE = "Ho & Nguyen 2016, Ann. Statist. 44(6) (r̄(2) = 4, r̄(3) = 6, r̄(4) >= 7)"
CONVENTION = "the r-system of Ho & Nguyen 2016 with w_i = s3_i^2 > 0, some s1_i != 0"
UPPER_SOURCE = ("Ho & Nguyen 2016, Ann. Statist. 44(6) (r̄(3) = 6); Kalai, Moitra & Valiant 2010, STOC, Prop. 7 "
                "(sign changes of Gaussian sums); Schoenberg 1951 and Karlin 1968, Total Positivity, Ch. 5 "
                "(variation diminishing)")


@claim(
    id="r-bar.two-equals-four",
    title="r̄(2) = 4 for location-scale Gaussian mixtures",
    statement="the r-system with m = 2 has a non-trivial real solution at r = 3 and none at r = 4",
    hypotheses=(CONVENTION, "witness s1 = (1, -1), s2 = (-1/2, -1/2), w = (1, 1) (exact rationals)"),
    source=SOURCE,
    expected=Status.PROVED,
)
def two_equals_four() -> Verdict:
    witness = witness_check(*WITNESSES[2])
    proof = prove_no_solution_m2(4)
    if not (witness.proves_lower_bound and proof.proved):
        return Verdict(Status.INCONCLUSIVE, f"witness holds: {witness.proves_lower_bound}; r = 4 proof: {proof.method}")
    return Verdict(Status.PROVED, f"exact witness at r = 3 (P_4 = {witness.next_value}); at r = 4 the lex Groebner "
                   f"eliminant {proof.eliminant} has no positive root ({CONVENTION})")


@claim(
    id="r-bar.three-at-least-six",
    title="r̄(3) >= 6 for location-scale Gaussian mixtures",
    statement="the r-system with m = 3 has a non-trivial real solution at r = 5",
    hypotheses=(CONVENTION, "witness s1 = (-1, 0, 1), s2 = (-1/4, -5/12, -1/4), w = (1, 6/5, 1) (exact)"),
    source=SOURCE,
    expected=Status.PROVED,
)
def three_at_least_six() -> Verdict:
    witness = witness_check(*WITNESSES[3])
    if not witness.proves_lower_bound:
        return Verdict(Status.REFUTED, f"the witness does not solve P_1..P_5: {witness.values}")
    return Verdict(Status.PROVED, f"P_1..P_5 vanish exactly at the witness, P_6 = {witness.next_value} ({CONVENTION})")


@claim(
    id="r-bar.three-at-most-six-on-weight-lines",
    depends_on=("r-bar.two-equals-four",),
    title="r̄(3) <= 6 on sampled weight lines (evidence; the proof is r-bar.at-most-twice-m)",
    statement="on the weight lines w = (1, t, k) of the shipped data, P_1..P_6 for m = 3 have no real solution with t > 0",
    hypotheses=(
        CONVENTION,
        "normalised a_1 = 1 (some s1_i != 0, permuted to i = 1 and scaled)",
        "the eliminants and lex Groebner bases were computed by Singular 4.3.1 and are not re-verified here",
        "only the shipped lines k are covered, not every positive weight",
    ),
    source=SOURCE,
    expected=Status.SUPPORTED,
)
def three_at_most_six_on_weight_lines() -> Verdict:
    verdicts = check_all()
    summary = "; ".join(f"k = {v.k}: {v.nonreal_fibres}/{v.positive_roots} positive roots with non-real fibre"
                        for v in verdicts)
    if not all(v.no_real_solution for v in verdicts):
        return Verdict(Status.REFUTED, f"a positive weight with a possibly real fibre: {summary}")
    return Verdict(Status.SUPPORTED, f"{summary} (arb discriminant enclosures < 0 over exact root intervals; "
                   f"Groebner data trusted, lines sampled; {CONVENTION})")


@claim(
    id="r-bar.four-at-least-eight",
    title="r̄(4) >= 8 for location-scale Gaussian mixtures (the literature has r̄(4) >= 7)",
    statement="the r-system with m = 4 has a non-trivial real solution at r = 7",
    hypotheses=(
        CONVENTION,
        "a_1 = 1/2 and the weights fixed to rationals; the other 7 unknowns enclosed in a box of radius 1e-30",
        "Krawczyk's theorem: K(X) inside the interior of X implies a unique zero in X (Moore 1977, SIAM J. Numer. Anal. 14)",
    ),
    source=SOURCE + "; Krawczyk 1969",
    expected=Status.PROVED,
)
def four_at_least_eight() -> Verdict:
    result = prove_witness(ENCLOSED_WITNESSES[(4, 7)])
    if not result.proves_lower_bound:
        return Verdict(Status.INCONCLUSIVE, f"Krawczyk inclusion {result.contained}, weights > 0 {result.weights_positive}")
    return Verdict(Status.PROVED, f"Krawczyk inclusion in arb: a real zero of P_1..P_7 with positive weights and "
                   f"a_1 = 1/2 exists; P_8 there is in {result.next_value.str(5)} ({CONVENTION})")


@claim(
    id="r-bar.at-most-twice-m",
    title="r̄(m) <= 2m for location-scale Gaussian mixtures (m = 2, 3, 4)",
    statement="for m = 2, 3, 4 the r-system at r = 2m has no real solution with positive weights and some s1_i != 0",
    hypotheses=(
        CONVENTION,
        "written proof (docs/r_bar.md): with c > max(0, -2 s2_i), g = sum_i w_i N(s1_i, 2 s2_i + c) - W N(0, c) is a "
        "non-zero combination of m + 1 Gaussian densities whose moments of orders 0..2m vanish, so it changes sign "
        "at least 2m + 1 times, while m + 1 Gaussians change sign at most 2m times",
        "machine-checked exactly: the moment identity of the shift (orders 0..8, sympy); the sign-change bound and "
        "the moment lemma are classical (Gaussian kernel totally positive, variation diminishing), proved in the doc",
        "consistency: at the real solutions for r = 2m - 1 (m = 2, 3, 4) g has exactly 2m sign changes (arb signs "
        "at x = i/20, |x| <= 8), the largest number the bound allows",
    ),
    source=UPPER_SOURCE,
    expected=Status.PROVED,
)
def at_most_twice_m() -> Verdict:
    identity = check_shift_identity(8)
    if not identity.holds:
        return Verdict(Status.INCONCLUSIVE, f"the shift moment identity fails at order {identity.first_failure}")
    counts = [witness_sign_changes(m) for m in (2, 3, 4)]
    summary = ", ".join(f"m = {s.m}: {s.changes}" for s in counts)
    if any(s.changes > 2 * s.m for s in counts):
        return Verdict(Status.REFUTED, f"more than 2m sign changes of m + 1 Gaussians ({summary})")
    if not all(s.attains_bound for s in counts):
        return Verdict(Status.INCONCLUSIVE, f"fewer than 2m certified sign changes at a witness ({summary})")
    return Verdict(Status.PROVED, f"moment identity exact to order 8; sign changes of g at the r = 2m - 1 witnesses "
                   f"{summary} (= 2m, the bound); hence no non-trivial real solution at r = 2m ({CONVENTION})")


@claim(
    id="r-bar.three-equals-six",
    depends_on=("r-bar.three-at-least-six", "r-bar.at-most-twice-m"),
    title="r̄(3) = 6 for location-scale Gaussian mixtures",
    statement="the r-system with m = 3 has a non-trivial real solution at r = 5 and none at r = 6",
    hypotheses=(CONVENTION, "the exact witness of r-bar.three-at-least-six and the proof of r-bar.at-most-twice-m"),
    source=UPPER_SOURCE,
    expected=Status.PROVED,
)
def three_equals_six() -> Verdict:
    witness = witness_check(*WITNESSES[3])
    identity = check_shift_identity(6)
    if not (witness.proves_lower_bound and identity.holds):
        return Verdict(Status.INCONCLUSIVE, f"witness holds: {witness.proves_lower_bound}; identity: {identity}")
    return Verdict(Status.PROVED, f"exact witness at r = 5 (P_6 = {witness.next_value}); at r = 6 the sign-change "
                   f"count (4 Gaussians: <= 6 changes; 7 vanishing moments: >= 7) excludes real solutions "
                   f"({CONVENTION})")


@claim(
    id="r-bar.four-equals-eight",
    depends_on=("r-bar.four-at-least-eight", "r-bar.at-most-twice-m"),
    title="r̄(4) = 8 for location-scale Gaussian mixtures (the literature has r̄(4) >= 7)",
    statement="the r-system with m = 4 has a non-trivial real solution at r = 7 and none at r = 8",
    hypotheses=(CONVENTION,
                "the Krawczyk enclosure of r-bar.four-at-least-eight and the proof of r-bar.at-most-twice-m"),
    source=UPPER_SOURCE + "; Krawczyk 1969",
    expected=Status.PROVED,
)
def four_equals_eight() -> Verdict:
    enclosure = prove_witness(ENCLOSED_WITNESSES[(4, 7)])
    identity = check_shift_identity(8)
    if not (enclosure.proves_lower_bound and identity.holds):
        return Verdict(Status.INCONCLUSIVE, f"enclosure holds: {enclosure.proves_lower_bound}; identity: {identity}")
    return Verdict(Status.PROVED, f"Krawczyk-enclosed real solution at r = 7; at r = 8 the sign-change count "
                   f"(5 Gaussians: <= 8 changes; 9 vanishing moments: >= 9) excludes real solutions ({CONVENTION})")
