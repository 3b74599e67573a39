"""Sweep specs: --n size specs and their bounds, paired per-replicate seeds, the grid of replicate paths."""

import numpy as np
import pytest

from hmoe_theory.errors import HmoeError
from hmoe_theory.experiments import SweepError, SweepSpec, Task, parse_sizes, task_seed


def test_log_spaced_sizes_match_geomspace_rounded():
    assert parse_sizes("1e3:1e5:8") == tuple(int(round(v)) for v in np.geomspace(1e3, 1e5, 8))
    assert parse_sizes("1e3:1e5:8")[0] == 1000 and parse_sizes("1e3:1e5:8")[-1] == 100000
    assert len(parse_sizes("1e3:1e5:20")) == 20  # the decisive design: 20 distinct sizes
    assert parse_sizes("100:100:1") == (100,)
    assert parse_sizes("1:3:8") == (1, 2, 3)  # rounding collisions are dropped, endpoints kept


def test_comma_lists_are_sorted_and_unique():
    assert parse_sizes("500, 100,2e2,100") == (100, 200, 500)
    assert parse_sizes("7") == (7,)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "empty --n spec"),
        ("1e3:1e5", "START:STOP:COUNT"),
        ("1e3:1e5:0", "COUNT must be"),
        ("1e3:1e5:2.5", "COUNT must be"),
        ("1e5:1e3:4", "STOP must be >= START"),
        ("10:20:1", "COUNT=1 needs START == STOP"),
        ("1.5,10", "sizes must be positive integers"),
        ("0,10", "sizes must be positive integers"),
        ("-5,10", "expected a number"),
        ("1e3,abc", "expected a number"),
        ("1e3,,10", "expected a number"),
        ("nan,10", "expected a number"),
        ("1e13", "exceeds the bound 10000000 on sample size of a rate sweep (--n) "
                 "(raise it with the environment variable HMOE_MAX_SAMPLE_SIZE=N)"),
        ("1e3:1e5:5000", "exceeds the bound 1000 on distinct sample sizes of a rate sweep (--n)"),
        ("1" + "0" * 400, "exceeds the bound 10000000 on sample size"),
    ],
)
def test_bad_size_specs_are_one_line_errors(spec, message):
    with pytest.raises(HmoeError) as info:
        parse_sizes(spec)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_the_sample_size_bound_can_be_raised(monkeypatch):
    monkeypatch.setenv("HMOE_MAX_SAMPLE_SIZE", str(10**13))
    assert parse_sizes("1e13") == (10**13,)


def test_task_seed_is_the_documented_63_bit_hash_of_base_seed_and_replicate():
    for base, rep in ((0, 0), (3, 17), (2**40, 9999)):
        state = np.random.SeedSequence([base, rep]).generate_state(1, dtype=np.uint64)[0]
        assert task_seed(base, rep) == int(state >> np.uint64(1))
    seeds = {task_seed(base, rep) for base in range(3) for rep in range(50)}
    assert len(seeds) == 150 and all(0 <= s < 2**63 for s in seeds)
    assert task_seed(0, 0) == 7896617691693857887  # pinned: changing it would silently change every stored sweep


def test_spec_grid_is_replicate_by_replicate_with_seeds_shared_by_the_settings():
    spec = SweepSpec(settings=("a", "b"), sizes="10:1000:3", reps=4, seed=5)
    tasks = spec.tasks()
    assert len(tasks) == len(spec) == 2 * 4 and spec.fits == 2 * 4 * 3
    assert tasks[:4] == [Task("a", 0, task_seed(5, 0), (10, 100, 1000)), Task("b", 0, task_seed(5, 0), (10, 100, 1000)),
                         Task("a", 1, task_seed(5, 1), (10, 100, 1000)), Task("b", 1, task_seed(5, 1), (10, 100, 1000))]
    assert {t.key for t in tasks} == {(s, r) for s in "ab" for r in range(4)}
    assert len({t.seed for t in tasks}) == 4  # paired: one seed per replicate
    assert SweepSpec(("a",), (1000, 10, 100, 10), 1).sizes == (10, 100, 1000)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"settings": ()}, "at least one"),
        ({"settings": ("a", "a")}, "listed twice"),
        ({"sizes": (0, 5)}, "integers >= 1"),
        ({"sizes": (5.0,)}, "integers >= 1"),
        ({"reps": 0}, "--reps must be an integer >= 1"),
        ({"reps": 10**9}, "--reps = 1000000000 exceeds the bound 10000 on replicates of a rate sweep (--reps) "
                          "(raise it with the environment variable HMOE_MAX_REPS=N)"),
        ({"sizes": tuple(range(1, 1200))}, "exceeds the bound 1000 on distinct sample sizes"),
        ({"seed": -1}, "--seed"),
        ({"seed": True}, "--seed"),
    ],
)
def test_bad_specs_raise_one_line_errors(kwargs, message):
    args = {"settings": ("a",), "sizes": (10,), "reps": 1, **kwargs}
    with pytest.raises(HmoeError) as info:
        SweepSpec(**args)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert isinstance(info.value, (SweepError, HmoeError))
