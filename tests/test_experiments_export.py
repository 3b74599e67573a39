"""CSV export: one row per fit, fixed columns then the sorted metric union, exact floats, no wall clock."""

import csv
import math

import pytest
from test_experiments_fakes import store_records

from hmoe_theory.experiments import ResultStore, SweepError, load_results, write_csv
from hmoe_theory.experiments.export import is_wall_clock, metric_columns
from hmoe_theory.experiments.store import FitRecord

RECORDS = [
    FitRecord("b-setting", 2000, 1, 77, {"voronoi": 0.1, "l2_error": 1 / 3, "iterations": 12.0, "fit_seconds": 0.5,
                                         "grad_norm": 1e-9}, "converged", seconds=0.5, worker="h:1"),
    FitRecord("a-setting", 1000, 0, 5, {"voronoi": 2.5e-17, "iterations": 150.0, "weight_discrepancy": math.nan},
              "iteration-cap"),
    FitRecord("a-setting", 1000, 1, 6, {}, "failed"),
    FitRecord("a-setting", 500, 3, 4, {"voronoi": math.inf, "iterations": 7.5}, "diverged"),
]
HEADER = "setting,n,rep,seed,status,iterations,grad_norm,l2_error,voronoi,weight_discrepancy"


def test_header_rows_and_exact_floats(tmp_path):
    path = write_csv(RECORDS, tmp_path / "fits.csv")
    lines = path.read_text().split("\n")
    assert lines[0] == HEADER and lines[-1] == "" and len(lines) == 6  # header, 4 rows, final newline
    assert lines[1:5] == [
        "a-setting,500,3,4,diverged,7.5,,,inf,",
        "a-setting,1000,0,5,iteration-cap,150,,,2.5e-17,nan",
        "a-setting,1000,1,6,failed,,,,,",
        "b-setting,2000,1,77,converged,12,1e-09,0.3333333333333333,0.1,",
    ]
    rows = list(csv.DictReader(path.open()))
    assert float(rows[3]["l2_error"]) == 1 / 3  # repr round-trips exactly
    assert "fit_seconds" not in rows[0] and "seconds" not in rows[0]


def test_bytes_do_not_depend_on_record_order(tmp_path):
    first = write_csv(RECORDS, tmp_path / "one.csv").read_bytes()
    assert write_csv(reversed(RECORDS), tmp_path / "two.csv").read_bytes() == first
    assert b"\r" not in first


def test_store_round_trip(tmp_path):
    with ResultStore(tmp_path / "out") as store:
        store_records(store, RECORDS[:2])
    text = write_csv(load_results(tmp_path / "out"), tmp_path / "fits.csv").read_text()
    assert text.splitlines()[0] == "setting,n,rep,seed,status,iterations,grad_norm,l2_error,voronoi,weight_discrepancy"
    assert "a-setting,1000,0,5," in text and ",0.3333333333333333,0.1," in text


def test_wall_clock_names_and_columns():
    assert is_wall_clock("fit_seconds") and is_wall_clock("seconds") and is_wall_clock("solve_time")
    assert not is_wall_clock("voronoi") and not is_wall_clock("iterations") and not is_wall_clock("timestep_error")
    assert metric_columns(RECORDS) == ["grad_norm", "l2_error", "voronoi", "weight_discrepancy"]


def test_unwritable_path_is_a_sweep_error(tmp_path):
    with pytest.raises(SweepError, match="cannot write"):
        write_csv(RECORDS, tmp_path / "missing-dir" / "fits.csv")
