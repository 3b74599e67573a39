"""Sweep specs: --n size specs, per-task seeds (stable across processes), the task grid."""

import os
import subprocess
import sys

import numpy as np
import pytest

from hmoe_theory.errors import HmoeError
from hmoe_theory.experiments import SweepError, SweepSpec, parse_sizes, task_seed


def test_log_spaced_sizes_match_geomspace_rounded():
    assert parse_sizes("1e3:1e5:8") == tuple(int(round(v)) for v in np.geomspace(1e3, 1e5, 8))
    assert parse_sizes("1e3:1e5:8")[0] == 1000 and parse_sizes("1e3:1e5:8")[-1] == 100000
    assert parse_sizes("100:100:1") == (100,)
    # rounding collisions are dropped, endpoints kept
    assert parse_sizes("1:3:8") == (1, 2, 3)


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
        ("1.5,10", "sizes must be integers"),
        ("0,10", "sizes must be integers"),
        ("-5,10", "expected a number"),
        ("1e3,abc", "expected a number"),
        ("1e3,,10", "expected a number"),
        ("1e13", "integers in [1, 1e12]"),
    ],
)
def test_bad_size_specs_are_one_line_errors(spec, message):
    with pytest.raises(SweepError, match=message.replace("[", r"\[").replace("(", r"\(")) as info:
        parse_sizes(spec)
    assert isinstance(info.value, HmoeError) and "\n" not in str(info.value)


def test_task_seed_depends_on_every_coordinate_and_fits_sqlite():
    base = task_seed(0, "a", 1000, 0)
    variants = {task_seed(1, "a", 1000, 0), task_seed(0, "b", 1000, 0), task_seed(0, "a", 1001, 0),
                task_seed(0, "a", 1000, 1)}
    assert base not in variants and len(variants) == 4
    assert all(0 <= s < 2**63 for s in variants | {base})


def test_task_seed_is_the_same_in_a_fresh_process_with_another_hash_seed():
    code = "from hmoe_theory.experiments import task_seed; print(task_seed(3, 'some-setting', 1931, 17))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert int(out.stdout) == task_seed(3, "some-setting", 1931, 17)


def test_spec_grid_has_every_task_once_with_its_derived_seed():
    spec = SweepSpec(settings=("a", "b"), sizes="10:1000:3", reps=4, seed=5)
    tasks = spec.tasks()
    assert len(tasks) == len(spec) == 2 * 3 * 4
    assert {t.key for t in tasks} == {(s, n, r) for s in "ab" for n in (10, 100, 1000) for r in range(4)}
    assert all(t.seed == task_seed(5, t.setting, t.n, t.rep) for t in tasks)
    assert len({t.seed for t in tasks}) == len(tasks)
    assert tasks[0].n == 1000  # largest first


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"settings": ()}, "at least one"),
        ({"settings": ("a", "a")}, "listed twice"),
        ({"sizes": (0, 5)}, "integers >= 1"),
        ({"reps": 0}, "--reps"),
        ({"seed": -1}, "--seed"),
    ],
)
def test_bad_specs_raise(kwargs, message):
    args = {"settings": ("a",), "sizes": (10,), "reps": 1, **kwargs}
    with pytest.raises(SweepError, match=message):
        SweepSpec(**args)
