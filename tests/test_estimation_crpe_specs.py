"""The group's CRPE-SGaME settings as TOML specs (docs/specs/crpe_sgame/, docs/crpe_sgame.md): they parse, carry the
group's truth and the protocol fields, and one small path runs through the replicate."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hmoe_theory.estimation.replicate import run_path
from hmoe_theory.estimation.setting import Perturbation, load_setting_file

SPECS = Path(__file__).resolve().parents[1] / "docs" / "specs" / "crpe_sgame"


@pytest.mark.parametrize("name, k, tries", [("exact", 2, 1), ("over", 3, 5)])
def test_the_crpe_sgame_specs_carry_the_groups_truth_and_protocol(name, k, tries):
    setting = load_setting_file(SPECS / f"{name}.toml")
    assert setting.name == f"crpe-sgame/{name}" and setting.k == k and setting.k_true == 2
    assert setting.estimator == "em" and setting.voronoi == "rbar" and setting.design.text() == "uniform(0, 1)"
    first, reference = setting.truth
    assert math.log(first["weight"]) == pytest.approx(-8.0) and first["beta_1"] == 25.0
    assert (first["alpha"], first["a_1"], reference["alpha"], reference["a_1"]) == (15.0, -20.0, -5.0, 20.0)
    assert (first["variance"], reference["variance"]) == (0.09, 0.16)  # sd 0.3 and 0.4
    protocol = setting.protocol
    assert (protocol.sample, protocol.design_points, protocol.starts, protocol.random_path, protocol.tries) == \
        ("fresh", "grid", "fresh", False, tries)  # X = linspace(0, 1, n); their n_tries
    assert protocol.start_perturbation == Perturbation(1.0, -0.25)


def test_the_exact_spec_runs_and_its_loss_falls():
    rows = run_path(load_setting_file(SPECS / "exact.toml"), (300, 30000), 0, 2023)
    assert [row["status"] for row in rows] == ["converged", "converged"]
    assert rows[1]["metrics"]["voronoi"] < rows[0]["metrics"]["voronoi"]
