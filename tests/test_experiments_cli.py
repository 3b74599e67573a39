"""``hmoe rates``: sweep + report + resume with a fake replicate, ``--spec FILE.toml`` end to end on the real
engine with ``--export``, and one-line errors (bounds, bad specs naming the field, unsafe expressions)."""

import csv
import math
from pathlib import Path

import pytest
from test_experiments_fakes import MODULE

from hmoe_theory.cli import main
from hmoe_theory.estimation.metrics import STATUSES
from hmoe_theory.experiments import load_results, task_seed

FAKE = ["--replicate", f"{MODULE}:power_replicate"]

TINY = """\
name = "tiny-typed"
inputs = ["x1"]
gate = "b*x1"
expert = "a*x1 + alpha"
design = "uniform(-1, 1)"
noise_variance = 0.01
k = 2

[[truth]]
weight = 2.0
b = 3.0
a = 2.0
alpha = 1.0

[[truth]]
weight = 1.0
b = 0.0
a = -2.0
alpha = -1.0
"""


def test_sweep_resume_and_report(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    argv = ["rates", *FAKE, "--n", "100:10000:3", "--reps", "4", "--workers", "1", "--out", str(out), "--quiet",
            "--no-report", "--setting", "root-n"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "4/4 replicate paths (3 sizes each)" in captured.err and "(0 resumed, 4 new, 0 failed)" in captured.err
    assert captured.out == "" and sorted(p.name for p in out.iterdir()) == ["runs.sqlite"]

    calls = tmp_path / "calls.log"
    monkeypatch.setenv("HMOE_FAKE_LOG", str(calls))
    assert main([*argv, "--setting", "extra"]) == 0
    err = capsys.readouterr().err
    assert "8/8 replicate paths" in err and "(4 resumed, 4 new, 0 failed)" in err
    assert {line.split(",")[0] for line in calls.read_text().splitlines()} == {"extra"}

    assert main(["rates", *FAKE, "--out", str(out), "--report", "--formats", "svg"]) == 0
    written = sorted(Path(p).name for p in capsys.readouterr().out.split())
    assert written == ["rates-extra.svg", "rates-root-n.svg", "summary.json", "summary.md"]
    summary = (out / "summary.md").read_text()
    assert all(name in summary for name in ("root-n", "extra", "error")) and "quarter" not in summary
    assert len(calls.read_text().splitlines()) == 12  # --report fitted nothing (4 paths x 3 sizes above)
    capsys.readouterr()
    assert main([*argv[:3], "--n", "100,500,10000", *argv[5:]]) == 2  # another warm-start chain: refused
    err = capsys.readouterr().err
    assert err.startswith("hmoe: error: ") and "holds fits at sizes [100, 1000, 10000]" in err and err.count("\n") == 1
    assert len(calls.read_text().splitlines()) == 12


def test_list_marks_default_settings(capsys):
    assert main(["rates", *FAKE, "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [["*", "root-n"], ["*", "quarter"], ["extra", "not"]]


def test_list_of_the_catalogue_marks_the_decisive_reproduction(capsys):
    assert main(["rates", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    starred = [line.split()[1] for line in lines if line.startswith("*")]
    # 49 mixture settings (40 least squares, 3 merged-loss twins, 6 Gaussian-MoE EM incl. the quadratic-gate MLE
    # twins) + 10 attention entries; the default design stars the 12 decisive settings, the 4 MLE twins and the 3
    # merged-loss twins
    assert len(lines) == 59 and len(starred) == 19
    assert "quadratic-monomial/linear/over/merged" in starred
    assert "softmax-linear/ridge-tanh/over" in starred and "gaussian-moe/exact" in starred
    assert "gaussian-moe/quadratic-monomial/over" in starred and "attention/G2/over" not in starred
    assert sum(line.split()[0].startswith("attention/") for line in lines) == 10


def test_spec_file_end_to_end_with_export(tmp_path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    out, export = tmp_path / "out", tmp_path / "fits.csv"
    argv = ["rates", "--spec", str(spec), "--n", "40,80", "--reps", "2", "--seed", "4", "--workers", "1",
            "--out", str(out), "--quiet", "--formats", "svg", "--export", str(export)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "2/2 replicate paths (2 sizes each)" in captured.err
    assert captured.out.split() == [str(export), *(str(out / f) for f in ("rates-tiny-typed.svg", "summary.json",
                                                                            "summary.md"))]
    with export.open() as fh:
        rows = list(csv.DictReader(fh))
    header = export.read_text().splitlines()[0].split(",")
    assert header[:6] == ["setting", "n", "rep", "seed", "status", "iterations"]
    assert {"voronoi", "voronoi_derived", "l2_error", "weight_discrepancy", "loss", "grad_norm", "best_voronoi",
            "max_atom_distance"} <= set(header)
    assert not [c for c in header if "second" in c or "time" in c or c in ("started", "finished", "worker")]
    assert [(r["setting"], r["n"], r["rep"], r["seed"]) for r in rows] == [
        ("tiny-typed", str(n), str(rep), str(task_seed(4, rep))) for n in (40, 80) for rep in (0, 1)]
    assert all(r["status"] in STATUSES and int(r["iterations"]) >= 1 for r in rows)
    assert all(math.isfinite(float(r["voronoi"])) and float(r["l2_error"]) < 1.0 for r in rows)
    assert "tiny-typed" in (out / "summary.md").read_text()
    # the store keeps the definition: a changed definition under the same name is refused
    spec.write_text(TINY.replace("b = 3.0", "b = 2.5"))
    assert main(argv) == 2
    assert "holds fits with a different definition of 'tiny-typed'" in capsys.readouterr().err
    assert len(load_results(out)) == 4


@pytest.mark.parametrize(
    "edit, message",
    [
        (("alpha = -1.0\n", ""), "truth[2]: missing alpha (needs weight, b, a, alpha)"),
        (("k = 2", 'k = 2\ncolour = "red"'), "unknown field(s) colour (known: "),
        (("uniform(-1, 1)", "uniform(1, -1)"), "design: uniform(lo, hi) needs lo < hi, got 'uniform(1, -1)'"),
        (("uniform(-1, 1)", "beta(1, 2)"), "design: expected 'uniform(lo, hi)' or 'normal(mean, variance)'"),
        (("weight = 1.0", "weight = -1.0"), "truth[2].weight: must be > 0, got -1.0"),
        (("weight = 1.0", 'weight = "1.0"'), "truth[2].weight: expected a finite number, got '1.0'"),
        (("k = 2", "k = = 2"), "not valid TOML: "),
        (("k = 2", "k = 1"), "truth: 2 true components but only k = 1 fitted"),
        (("k = 2", "k = 99"), "k: expected an integer from 1 to 12, got 99"),
        (('gate = "b*x1"', "gate = \"__import__('os').system('touch PWNED')\""),
         "gate: cannot use expression \"__import__('os').system('touch PWNED')\": only plain function names may be called"),
        (('gate = "b*x1"', 'gate = "x1.__class__"'), "gate: cannot use expression 'x1.__class__': attribute access"),
        (('expert = "a*x1 + alpha"', 'expert = "a*x1 + c"'), "expert: parameter name(s) c already taken"),
        (('gate = "b*x1"', 'gate = "b*x1"\ngate_family = "softmax-linear"'), "gate: give exactly one of 'gate'"),
        (('noise_variance = 0.01\n', ""), "noise_variance: missing"),
        (("uniform(-1, 1)", "uniform(-1e999, 1)"), "design: the numbers must be finite doubles"),
        (("k = 2", "k = 5"), "k: at most twice the 2 [[truth]] table(s) (a near-truth start splits each true atom"),
        (('noise_variance = 0.01\n', 'estimator = "em"\n'), "truth[1]: missing variance (needs weight, b, a, alpha, variance)"),
    ],
)
def test_bad_spec_is_one_line_naming_the_field(tmp_path, capsys, monkeypatch, edit, message):
    old, new = edit
    assert old in TINY
    spec = tmp_path / "bad.toml"
    spec.write_text(TINY.replace(old, new))
    monkeypatch.chdir(tmp_path)
    assert main(["rates", "--spec", str(spec), "--out", str(tmp_path / "o"), "--n", "40,80", "--reps", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"hmoe: error: {spec}: ") and captured.err.count("\n") == 1
    assert message in captured.err
    assert not (tmp_path / "o").exists() and not (tmp_path / "PWNED").exists()  # refused before anything ran


def test_em_spec_needs_terms_linear_in_their_parameters(tmp_path, capsys):
    em = TINY.replace('gate = "b*x1"', 'gate = "-abs(x1 - b)"').replace("noise_variance = 0.01\n", 'estimator = "em"\n')
    em = em.replace("alpha = 1.0\n", "alpha = 1.0\nvariance = 0.1\n").replace("alpha = -1.0\n", "alpha = -1.0\nvariance = 0.2\n")
    spec = tmp_path / "em.toml"
    spec.write_text(em)
    assert main(["rates", "--spec", str(spec), "--out", str(tmp_path / "o"), "--n", "40,80", "--reps", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hmoe: error: {spec}: gate: estimator 'em' needs a term linear in its parameters")
    assert err.count("\n") == 1


def test_failed_paths_are_counted_and_the_first_is_explained(tmp_path, capsys):
    argv = ["rates", "--replicate", f"{MODULE}:odd_rep_fails", "--setting", "root-n", "--n", "10,20", "--reps", "3",
            "--workers", "1", "--out", str(tmp_path), "--quiet", "--no-report"]
    assert main(argv) == 1  # incomplete
    lines = capsys.readouterr().err.splitlines()
    assert "(0 resumed, 2 new, 1 failed)" in lines[0]
    assert lines[1].startswith("first failure: root-n rep 1: ValueError: odd rep=1 (at test_experiments_fakes.py:")
    assert len(lines) == 2


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--n", "1e5:1e3:8"], "bad --n spec '1e5:1e3:8': STOP must be >= START"),
        (["--n", "1e3:1e9:3"], "exceeds the bound 10000000 on sample size of a rate sweep (--n) "
                               "(raise it with the environment variable HMOE_MAX_SAMPLE_SIZE=N)"),
        (["--reps", "1000000000"], "--reps = 1000000000 exceeds the bound 10000 on replicates of a rate sweep "
                                   "(--reps) (raise it with the environment variable HMOE_MAX_REPS=N)"),
        (["--reps", "1e9"], "argument --reps: invalid int value: '1e9'"),
        (["--setting", "nope"], "unknown setting 'nope' (known: root-n, quarter, extra)"),
        (["--formats", "png,jpg"], "plot formats must be among png, svg"),
        (["--spec", "/nonexistent/x.toml"], "cannot read setting file /nonexistent/x.toml: No such file or directory"),
        (["--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "0.3"],
         "cannot reach Dask scheduler at tcp://127.0.0.1:9"),
        (["--report"], "no result store at"),
    ],
)
def test_bad_input_is_one_line_error(tmp_path, capsys, extra, message):
    assert main(["rates", *FAKE, "--out", str(tmp_path / "o"), "--quiet", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hmoe: error: ") and message in err and err.count("\n") == 1


def test_spec_name_clashing_with_the_catalogue_or_another_spec(tmp_path, capsys):
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text(TINY.replace('"tiny-typed"', '"softmax-linear/linear/exact"'))
    assert main(["rates", "--spec", str(first), "--setting", "softmax-linear/linear/exact", "--out",
                 str(tmp_path / "o")]) == 2
    assert "clash with the catalogue" in capsys.readouterr().err
    first.write_text(TINY)
    second.write_text(TINY)
    assert main(["rates", "--spec", str(first), "--spec", str(second), "--out", str(tmp_path / "o")]) == 2
    assert "setting name 'tiny-typed' is used by two --spec files" in capsys.readouterr().err


def test_unwritable_out_and_missing_out(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["rates", *FAKE, "--out", str(blocker / "sub")]) == 2
    assert capsys.readouterr().err.startswith(f"hmoe: error: --out {blocker / 'sub'} is not a writable directory")
    assert main(["rates", *FAKE]) == 2
    assert "--out DIR is required" in capsys.readouterr().err
