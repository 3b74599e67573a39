"""The claim dependency graph (validation, failure propagation, layers) and byte-stable number formatting."""

import pytest

from hmoe_theory.certify import Status
from proofs_check.claim import Claim, ClaimError, Verdict
from proofs_check.formatting import round_float, stable_text, stable_value
from proofs_check.graph import check_dependencies, failed_upstream, layers, used_by
from proofs_check.registry import builtin_claims


def make(claim_id, *depends_on, **fields):
    return Claim(
        claim_id, "t", "s", ("none",), "src", Status.PROVED, lambda: Verdict(Status.PROVED, ""), depends_on=depends_on, **fields
    )


CHAIN = [make("a"), make("b", "a"), make("c", "b"), make("d", "a", "c"), make("e")]


def test_failure_propagates_transitively_and_only_from_claims_that_ran():
    upstream = failed_upstream(CHAIN, {"a": False, "b": True, "c": True, "d": True, "e": True})
    assert upstream == {"a": (), "b": ("a",), "c": ("a",), "d": ("a",), "e": ()}
    upstream = failed_upstream(CHAIN, {"b": False, "c": True, "d": True})  # a and e did not run
    assert upstream == {"a": (), "b": (), "c": ("b",), "d": ("b",), "e": ()}


def test_layers_and_reverse_edges():
    assert layers(CHAIN) == {"a": 0, "b": 1, "c": 2, "d": 3, "e": 0}
    assert used_by(CHAIN) == {"a": ("b", "d"), "b": ("c",), "c": ("d",), "d": (), "e": ()}


def test_unknown_dependencies_cycles_and_self_loops_are_errors():
    with pytest.raises(ClaimError, match="'b' depends on unknown claim 'zz'"):
        check_dependencies([make("a"), make("b", "zz")])
    with pytest.raises(ClaimError, match="cycle: a -> c -> b -> a"):
        check_dependencies([make("a", "c"), make("b", "a"), make("c", "b")])
    with pytest.raises(ClaimError, match="cannot depend on itself"):
        make("a", "a")
    check_dependencies(CHAIN)  # acyclic, all known: no error


def test_old_positional_construction_still_works():
    c = Claim("x.y", "t", "s", ("h",), "src", Status.REFUTED, lambda: None, 5.0, "negative control")
    assert (c.depends_on, c.paper, c.paper_version, c.origin) == ((), "", "", "")
    with pytest.raises(ValueError, match="state the hypotheses"):  # ClaimError is a ValueError, as before
        Claim("x.y", "t", "s", (), "src", Status.PROVED, lambda: None)


@pytest.mark.parametrize("limit", [0, -1, float("nan"), float("inf"), True])
def test_time_limit_must_be_a_positive_number(limit):
    with pytest.raises(ClaimError, match="time_limit_s"):
        make("a", time_limit_s=limit)


def test_builtin_ledger_has_an_acyclic_dependency_graph_with_real_links():
    claims = builtin_claims()
    check_dependencies(claims)
    by_id = {c.id: c for c in claims}
    assert sum(len(c.depends_on) for c in claims) >= 20
    assert "attention.mhsa-entry-is-3-level-hmoe" in by_id["attention.gated-entry-is-3-level-hmoe"].depends_on
    assert "pde.gaussian.heat-equation" in by_id["interactions.discovery.rediscovers-foundation-pdes"].depends_on
    assert max(layers(claims).values()) >= 3


@pytest.mark.parametrize(
    "text, expected",
    [
        ("value -0.505344181865 at {'x': '1/15'}", "value -0.505344 at {'x': '1/15'}"),
        ("margin 1.5585041674443333e-06", "margin 1.5585e-06"),
        ("margin 1.5585041674443331e-06", "margin 1.5585e-06"),  # last-digit noise disappears
        ("= 1.95928834650579 > 0", "= 1.95929 > 0"),
        ("value 1.42589642469e-8 at", "value 1.4259e-08 at"),
        ("margin 9.1e-07; rank 25 of 28", "margin 9.1e-07; rank 25 of 28"),  # already short: untouched
        ("x_1.5 G1 v1.2.3 1/16 12345678901 d=32", "x_1.5 G1 v1.2.3 1/16 12345678901 d=32"),  # not floats
        ("(3 checks)", "(3 checks)"),
    ],
)
def test_stable_text_rounds_long_floats_only(text, expected):
    assert stable_text(text) == expected


def test_stable_value_rounds_nested_floats_and_keeps_exact_values():
    value = {"point": {"a": "1/3"}, "margin": 1.5585041674443333e-06, "rank": 10, "ok": True, "v": [0.1 + 0.2]}
    assert stable_value(value) == {"point": {"a": "1/3"}, "margin": 1.5585e-06, "rank": 10, "ok": True, "v": [0.3]}
    assert round_float(float("nan")) != round_float(float("nan"))  # nan passes through
