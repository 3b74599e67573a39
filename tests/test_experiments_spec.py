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


# -- the setting schema: [attention], [protocol] and n-dependent truths ------------------------------------
from hmoe_theory.estimation.setting import Perturbation, SpecError, setting_from_mapping  # noqa: E402

_MIXTURE = {
    "name": "mine", "inputs": ["x1"], "gate": "b*x1", "expert": "a*x1 + alpha", "design": "uniform(-1, 1)",
    "noise_variance": 0.01, "k": 2,
    "truth": [{"weight": 1.0, "b": 1.0, "a": 2.0, "alpha": 0.5}, {"weight": 2.0, "b": 0.0, "a": -1.0, "alpha": 0.0}],
}
_ATTENTION = {
    "name": "att", "design": "uniform(-1, 1)", "noise_variance": 0.01,
    "attention": {"position": "G2", "heads": 2}, "truth": [{"S": 2.0, "V": 1.0, "Wg": 2.0}],
}


def test_an_attention_entry_is_a_setting_with_heads_as_components():
    setting = setting_from_mapping(_ATTENTION)
    assert (setting.k, setting.k_true, setting.inputs, setting.gate) == (2, 1, ("x1", "x2"), None)
    assert setting.protocol.starts == "warm-or-initial" and not setting.protocol.random_path
    assert setting.true_theta.tolist() == [2.0, 2.0, 1.0, 1.0, 2.0]  # S_1_1, S_1_2, V_1_1, V_1_2, Wg (one head)
    assert setting.fit_model.n_params == 10
    again = setting_from_mapping({**setting.to_mapping(), "name": "att"})
    assert again == setting
    plain = setting_from_mapping({**_ATTENTION, "attention": {"position": "plain", "heads": 1, "parametrisation":
                                                              "attention", "temperature": True},
                                  "truth": [{"WQ": 2.0, "WK": 1.0, "WV": 1.0, "WO": 1.0, "tau": 1.0}]})
    assert [p.name for p in plain.attention.function(1).params] == ["WQ_1_1_1", "WK_1_1_1", "WV_1_1_1", "WO_1_1", "tau"]


def test_protocol_fields_and_n_dependent_truths():
    setting = setting_from_mapping({**_MIXTURE, "protocol": {
        "sample": "fresh", "design_points": "given", "points": [[-0.5], [0.5]], "starts": "fresh",
        "start_perturbation": "n^-1/4", "random_path": False}})
    p = setting.protocol
    assert (p.sample, p.design_points, p.points, p.starts, p.random_path) == ("fresh", "given", ((-0.5,), (0.5,)),
                                                                              "fresh", False)
    assert p.start_perturbation == Perturbation(1.0, -0.25) and p.start_perturbation.at(10_000) == pytest.approx(0.1)
    assert Perturbation.parse("0.5*n^(-1/2)").at(100) == pytest.approx(0.05)
    moving = setting_from_mapping({**_MIXTURE, "truth": [{**_MIXTURE["truth"][0], "b": "1 + n**(-1/4)"},
                                                         _MIXTURE["truth"][1]]})
    assert moving.n_dependent and moving.at(10_000).truth[0]["b"] == pytest.approx(1.1)
    assert moving.at(16).true_theta[0] == pytest.approx(1.5)
    with pytest.raises(HmoeError, match="depends on n"):
        moving.true_theta


@pytest.mark.parametrize(
    "change, message",
    [
        ({"protocol": {"sample": "prefix"}}, "protocol.sample: expected one of nested, fresh"),
        ({"protocol": {"starts": "cold"}}, "protocol.starts: expected one of warm, fresh, warm-or-initial"),
        ({"protocol": {"design_points": "lattice"}}, "protocol.design_points: expected one of random, fixed, given, grid"),
        ({"protocol": {"design_points": "given"}}, "protocol.points: design_points = 'given' needs"),
        ({"protocol": {"design_points": "given", "points": [[0.1, 0.2]]}}, r"protocol.points\[1\]: expected 1 numbers"),
        ({"protocol": {"points": [[0.1]]}}, "protocol.points: only with design_points = 'given'"),
        ({"protocol": {"design_seed": -1}}, "protocol.design_seed: expected an integer"),
        ({"protocol": {"start_perturbation": "n^1/2"}}, "protocol.start_perturbation: needs C > 0"),
        ({"protocol": {"start_perturbation": "sqrt(n)"}}, "protocol.start_perturbation: expected a number > 0 or"),
        ({"protocol": {"start_perturbation": 0}}, "protocol.start_perturbation: must be > 0"),
        ({"protocol": {"random_path": "yes"}}, "protocol.random_path: expected true or false"),
        ({"protocol": {"warm": True}}, "protocol: unknown field"),
        ({"protocol": 3}, "protocol: expected a .protocol. table"),
        ({"truth": [{"weight": "1 - n", "b": 1.0, "a": 2.0, "alpha": 0.5}]}, r"truth\[1\].weight: .* not a finite positive"),
        ({"truth": [{"weight": 1.0, "b": "log(m)", "a": 2.0, "alpha": 0.5}]}, r"truth\[1\].b: "),
        ({"truth": [{"weight": "2.0", "b": 1.0, "a": 2.0, "alpha": 0.5}]}, r"truth\[1\].weight: expected a finite number"),
    ],
)
def test_bad_protocol_and_truth_fields_name_the_field(change, message):
    with pytest.raises(SpecError, match=message):
        setting_from_mapping({**_MIXTURE, **change})


@pytest.mark.parametrize(
    "change, message",
    [
        ({"attention": {"position": "G9", "heads": 1}}, "attention.position: expected one of plain"),
        ({"attention": {"position": "G2"}}, "attention.heads: missing"),
        ({"attention": {"position": "G2", "heads": 9}}, "attention.heads: expected an integer from 1 to 4"),
        ({"attention": {"position": "G2", "heads": 1, "tokens": 1}}, "attention.tokens: expected an integer from 2"),
        ({"attention": {"position": "G2", "heads": 1, "parametrisation": "free"}}, "attention.parametrisation: expected"),
        ({"attention": {"position": "G2", "heads": 1, "temperature": True}}, "attention.temperature: only with"),
        ({"attention": {"position": "G2", "heads": 1, "causal": True}}, "attention: unknown field"),
        ({"k": 2}, "k: not used by an .attention. setting"),
        ({"truth": [{"S": 2.0, "V": 1.0}]}, r"truth\[1\]: missing Wg"),
        ({"protocol": {"random_path": True}}, "protocol.random_path: not available for attention"),
    ],
)
def test_bad_attention_fields_name_the_field(change, message):
    with pytest.raises(SpecError, match=message):
        setting_from_mapping({**_ATTENTION, **change})


@pytest.mark.parametrize("digits", [400, 5000])
def test_a_huge_integer_read_by_the_library_is_one_spec_error(digits):
    """read through the library (no CLI pre-check): no OverflowError and no int-to-str limit error"""
    from hmoe_theory.estimation.setting import SpecError, _number

    with pytest.raises(SpecError, match=rf"truth\[0\]\.a: an integer of about {digits + 1} digits is beyond"):
        _number(10 ** digits, "truth[0].a")
