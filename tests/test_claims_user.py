"""Researchers' own claims: ``hmoe check --claims PATH`` with text, JSON, Markdown and JUnit output,
exit codes, one-line load errors, entry points, worker processes and the ``hmoe init-claims`` template."""

import json
import sys
import xml.etree.ElementTree as ET
from importlib.metadata import EntryPoint

import pytest

from hmoe_theory.cli import main
from proofs_check import loading
from proofs_check.registry import all_claims, builtin_claims, isolated

HEADER = """\
import sympy as sp
from hmoe_theory.certify import Status, decide_equal
from hmoe_theory.expr import parse_expression
from proofs_check import Verdict, claim

x, a = sp.symbols("x a", real=True)
"""

CLAIMS = HEADER + '''
@claim(
    id="demo.theorem.square",
    title="(x + a)^2 expands",
    statement="(x + a)^2 = x^2 + 2 a x + a^2",
    hypotheses=("x, a real",),
    source="algebra",
    expected="proved",
    paper="arXiv:0000.00001",
    paper_version="v3",
)
def square():
    lhs = parse_expression("(x + a)**2", names=["x", "a"])
    return Verdict.from_decision(decide_equal(lhs, x**2 + 2*a*x + a**2), "(x + a)^2 - expansion")


@claim(
    id="demo.negative.no-cross-term",
    title="Negative control: (x + a)^2 = x^2 + a^2",
    statement="(x + a)^2 = x^2 + a^2",
    hypotheses=("hypothesis dropped: the cross term",),
    source="algebra",
    expected=Status.REFUTED,
    kind="negative control",
    depends_on=("demo.theorem.square",),
)
def no_cross_term():
    return Verdict.from_decision(decide_equal((x + a)**2, x**2 + a**2), "(x + a)^2 - x^2 - a^2")


@claim(
    id="demo.wrong.cube",
    title="Deliberately wrong: (x + a)^3 = x^3 + a^3",
    statement="(x + a)^3 = x^3 + a^3",
    hypotheses=("none",),
    source="a typo",
    expected="proved",
    depends_on="demo.theorem.square",
)
def cube():
    return Verdict.from_decision(decide_equal((x + a)**3, x**3 + a**3), "(x + a)^3 - x^3 - a^3")


@claim(
    id="demo.rests-on-wrong",
    title="Rests on the wrong claim",
    statement="x = x",
    hypotheses=("none",),
    source="tautology",
    expected="proved",
    depends_on=("demo.wrong.cube",),
)
def rests_on_wrong():
    return Verdict.from_decision(decide_equal(x, x), "x - x")
'''

IDS = ["demo.negative.no-cross-term", "demo.rests-on-wrong", "demo.theorem.square", "demo.wrong.cube"]


@pytest.fixture(autouse=True)
def _forget_user_claims():
    with isolated():
        yield


@pytest.fixture
def claims_dir(tmp_path):
    directory = tmp_path / "claims"
    directory.mkdir()
    (directory / "demo_claims.py").write_text(CLAIMS)
    (directory / "_helpers.py").write_text("raise RuntimeError('helpers are not loaded as claims files')\n")
    return directory


def one_line_error(capsys, argv, fragment):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("hmoe: error: ") and err.count("\n") == 1, err
    assert fragment in err, err
    return err


def test_user_claims_json_verdicts_and_exit_code(claims_dir, capsys):
    assert main(["check", "--claims", str(claims_dir), "--json", "--jobs", "1"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in payload["claims"]] == IDS  # only the user's claims: --claims excludes the built-in ledger
    by_id = {c["id"]: c for c in payload["claims"]}
    assert (payload["passed"], payload["failed"], payload["dependency_failed"]) == (3, 1, 1)
    assert by_id["demo.theorem.square"]["status"] == "proved" and by_id["demo.theorem.square"]["passed"]
    negative = by_id["demo.negative.no-cross-term"]
    assert negative["status"] == "refuted" and negative["passed"]
    assert set(negative["counterexample"]) == {"x", "a"}  # the point where 2 a x != 0
    wrong = by_id["demo.wrong.cube"]
    assert wrong["status"] == "refuted" and not wrong["passed"] and wrong["expected"] == "proved"
    assert by_id["demo.rests-on-wrong"]["passed"] and by_id["demo.rests-on-wrong"]["dependency_failed"] == ["demo.wrong.cube"]
    assert by_id["demo.theorem.square"]["paper"] == "arXiv:0000.00001"
    assert by_id["demo.theorem.square"]["origin"] == str((claims_dir / "demo_claims.py").resolve())


def test_text_output_markdown_and_junit(claims_dir, tmp_path, capsys):
    ledger, junit = tmp_path / "out" / "CLAIMS.md", tmp_path / "out" / "claims.xml"
    code = main(["check", "--claims", str(claims_dir), "--markdown", str(ledger), "--junit", str(junit), "--jobs", "1"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[-1] == "3 passed, 1 failed (1 passed but rest on a failed claim)"
    assert any(line.startswith("FAIL  demo.wrong.cube") and "(expected proved)" in line for line in out)
    assert "demo.rests-on-wrong rests on failed claim(s): demo.wrong.cube" in "\n".join(out)

    text = ledger.read_text()
    assert "**3 passed, 1 failed (1 passed but rest on a failed claim)**" in text
    assert "| [demo.wrong.cube](#demowrongcube) | theorem | refuted | proved | **no** |" in text
    assert "| [demo.rests-on-wrong](#demorests-on-wrong) | theorem | proved | proved | yes (**dependency failed**) |" in text
    assert "Depends on: [demo.theorem.square](#demotheoremsquare)" in text
    assert "Used by: [demo.negative.no-cross-term](#demonegativeno-cross-term), [demo.wrong.cube](#demowrongcube)" in text
    assert "paper: arXiv:0000.00001 v3" in text

    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("4", "1")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert sorted(cases) == IDS
    failure = cases["demo.wrong.cube"].find("failure")
    assert failure is not None and failure.get("type") == "refuted"
    assert failure.get("message").startswith("expected proved, got refuted: (x + a)^3 - x^3 - a^3 is not zero")
    counterexample = json.loads(failure.get("message").split("counterexample: ", 1)[1])
    assert set(counterexample) == {"x", "a"}
    assert all(cases[i].find("failure") is None for i in IDS if i != "demo.wrong.cube")
    assert "dependency failed: rests on demo.wrong.cube" in cases["demo.rests-on-wrong"].find("system-out").text
    assert cases["demo.theorem.square"].get("classname") == "demo.theorem"


def test_passing_claims_exit_zero_and_only_selects(claims_dir, capsys):
    assert main(["check", "--claims", str(claims_dir), "--only", "demo.theorem.*", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "1 passed, 0 failed"


def test_worker_processes_give_the_same_verdicts(claims_dir, capsys):
    assert main(["check", "--claims", str(claims_dir / "demo_claims.py"), "--json", "--jobs", "2"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert {c["id"]: c["status"] for c in payload["claims"]} == {
        "demo.negative.no-cross-term": "refuted",
        "demo.rests-on-wrong": "proved",
        "demo.theorem.square": "proved",
        "demo.wrong.cube": "refuted",
    }


def test_builtin_flag_runs_both_and_list_shows_them(claims_dir, capsys):
    assert main(["check", "--claims", str(claims_dir), "--builtin", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert set(IDS) <= set(listed) and {c.id for c in builtin_claims()} <= set(listed)
    assert listed == sorted(listed)


def test_user_claim_may_rest_on_a_builtin_claim(tmp_path, capsys):
    (tmp_path / "mine.py").write_text(
        HEADER
        + '''
@claim(id="demo.uses-builtin", title="t", statement="s", hypotheses="none", source="s", expected="proved",
       depends_on=("pde.gaussian.heat-equation",))
def uses():
    return Verdict(Status.PROVED, "ok")
'''
    )
    assert main(["check", "--claims", str(tmp_path / "mine.py"), "--json", "--jobs", "1"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["claims"][0]["depends_on"] == ["pde.gaussian.heat-equation"]  # not run here: not a failure


BROKEN = {
    "syntax": ("def broken(:\n", "SyntaxError"),
    "runtime": ("x = 1\ny = undefined_name\n", "NameError: name 'undefined_name' is not defined (bad.py line 2)"),
    "exit": ("import sys\nsys.exit(3)\n", "failed to import: SystemExit"),
    "no-claims": ("x = 1\n", "defines no claim"),
    "no-hypotheses": (
        HEADER + '@claim(id="a.b", title="t", statement="s", hypotheses=(), source="s", expected="proved")\n'
        "def c():\n    return None\n",
        "claim 'a.b': state the hypotheses",
    ),
    "no-expected": (
        HEADER + '@claim(id="a.b", title="t", statement="s", hypotheses="none", source="s")\ndef c():\n    return None\n',
        "claim 'a.b': state the expected outcome",
    ),
    "bad-expected": (
        HEADER + '@claim(id="a.b", title="t", statement="s", hypotheses="none", source="s", expected="true")\n'
        "def c():\n    return None\n",
        "got 'true'",
    ),
    "duplicate": (
        HEADER
        + '@claim(id="a.b", title="t", statement="s", hypotheses="none", source="s", expected="proved")\n'
        "def c():\n    return None\n"
        '@claim(id="a.b", title="t", statement="s", hypotheses="none", source="s", expected="proved")\n'
        "def d():\n    return None\n",
        "duplicate claim id 'a.b'",
    ),
    "duplicate-builtin": (
        HEADER + '@claim(id="pde.gaussian.heat-equation", title="t", statement="s", hypotheses="none", source="s", '
        'expected="proved")\ndef c():\n    return None\n',
        "duplicate claim id 'pde.gaussian.heat-equation': defined in proofs_check.claims.pde and again in",
    ),
    "bad-id": (
        HEADER + '@claim(id="a b/../c", title="t", statement="s", hypotheses="none", source="s", expected="proved")\n'
        "def c():\n    return None\n",
        "claim id 'a b/../c'",
    ),
    "unknown-dependency": (
        HEADER + '@claim(id="a.b", title="t", statement="s", hypotheses="none", source="s", expected="proved", '
        'depends_on="no.such")\ndef c():\n    return None\n',
        "claim 'a.b' depends on unknown claim 'no.such'",
    ),
    "cycle": (
        HEADER
        + '@claim(id="a.b", title="t", statement="s", hypotheses="none", source="s", expected="proved", depends_on="a.c")\n'
        "def c():\n    return None\n"
        '@claim(id="a.c", title="t", statement="s", hypotheses="none", source="s", expected="proved", depends_on="a.b")\n'
        "def d():\n    return None\n",
        "cycle: a.b -> a.c -> a.b",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_claims_files_are_one_line_errors(case, tmp_path, capsys):
    text, fragment = BROKEN[case]
    (tmp_path / "bad.py").write_text(text)
    one_line_error(capsys, ["check", "--claims", str(tmp_path / "bad.py"), "--jobs", "1"], fragment)


def test_duplicate_ids_across_files_name_both_files(tmp_path, capsys):
    for name in ("one.py", "two.py"):
        (tmp_path / name).write_text(
            HEADER + '@claim(id="a.b", title="t", statement="s", hypotheses="none", source="s", expected="proved")\n'
            "def c():\n    return Verdict(Status.PROVED, 'ok')\n"
        )
    err = one_line_error(capsys, ["check", "--claims", str(tmp_path)], "duplicate claim id 'a.b'")
    assert "one.py" in err and "two.py" in err


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda p: p / "missing", "no such claims file or directory"),
        (lambda p: p, "no claims files (*.py) in directory"),
        (lambda p: (p / "notes.txt").write_text("x") and p / "notes.txt", "is not a .py file"),
    ],
)
def test_bad_paths_are_one_line_errors(make, fragment, tmp_path, capsys):
    one_line_error(capsys, ["check", "--claims", str(make(tmp_path))], fragment)


def test_nothing_to_run_and_bad_jobs_are_errors(capsys):
    one_line_error(capsys, ["check", "--no-builtin", "--no-plugins"], "no claims to run")
    one_line_error(capsys, ["check", "--jobs", "0"], "--jobs must be at least 1")


BROKEN_CHECKS = {  # claim id suffix -> (body of the check, expected outcome, words of the one-line reason)
    "raises": ("raise ZeroDivisionError('boom')", "check raised ZeroDivisionError: boom"),
    "exits-0": ("import sys; sys.exit(0)", "check called sys.exit(0)"),
    "exits-text": ("raise SystemExit('bye')", "check called sys.exit('bye')"),
    "returns-true": ("return True", "check returned bool, not a Verdict"),
    "returns-none": ("return None", "check returned NoneType, not a Verdict"),
    "prints": ("print('{\"not\": json'); return Verdict(Status.INCONCLUSIVE, 'x')",
               "check wrote 13 characters to stdout"),
    "missing-data": ("from hmoe_theory.shipped import MissingShippedData; raise MissingShippedData('no fits.csv')",
                     "check raised MissingShippedData: no fits.csv"),
}
KILLS = ("import os; os._exit(3)", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")


def _broken_claims(directory, bodies) -> None:
    text = HEADER
    for name, body in bodies.items():  # expected inconclusive: a broken check must still fail
        text += (f'@claim(id="broken.{name}", title="t", statement="s", hypotheses="none", source="s", '
                 f'expected="inconclusive")\ndef c_{name.replace("-", "_")}():\n    {body}\n')
    text += ('@claim(id="fine.ok", title="t", statement="s", hypotheses="none", source="s", expected="inconclusive")\n'
             "def ok():\n    return Verdict(Status.INCONCLUSIVE, 'nothing decided')\n")
    (directory / "broken.py").write_text(text)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_broken_check_is_an_error_that_never_passes(tmp_path, capfd, jobs):
    """Raising, exiting, returning a non-Verdict, printing: outcome 'error', FAIL even though the claim expects
    inconclusive, a one-line reason; --json stays valid JSON (the prints go to stderr); exit status 1."""
    _broken_claims(tmp_path, {name: body for name, (body, _) in BROKEN_CHECKS.items()})
    assert main(["check", "--claims", str(tmp_path), "--no-builtin", "--no-plugins", "--json", "--jobs", jobs]) == 1
    captured = capfd.readouterr()
    payload = json.loads(captured.out)  # valid JSON despite the claim that printed
    by_id = {c["id"]: c for c in payload["claims"]}
    for name, (_, reason) in BROKEN_CHECKS.items():
        result = by_id[f"broken.{name}"]
        assert (result["status"], result["passed"]) == ("error", False), name
        assert result["error"].startswith(reason) and "\n" not in result["error"], (name, result["error"])
    assert by_id["fine.ok"]["passed"] is True and by_id["fine.ok"]["error"] is None
    assert (payload["passed"], payload["failed"]) == (1, len(BROKEN_CHECKS))
    assert '{"not": json' in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize("body", KILLS)
def test_a_check_that_kills_its_worker_fails_alone(tmp_path, capfd, body):
    _broken_claims(tmp_path, {"kills": body, "raises": BROKEN_CHECKS["raises"][0]})
    assert main(["check", "--claims", str(tmp_path), "--no-builtin", "--no-plugins", "--jobs", "2"]) == 1
    out = capfd.readouterr()
    lines = {line.split()[1]: line for line in out.out.splitlines() if line.startswith(("PASS", "FAIL"))}
    assert lines["broken.kills"].startswith("FAIL") and "killed its worker process" in lines["broken.kills"]
    assert lines["broken.raises"].startswith("FAIL") and "ZeroDivisionError: boom" in lines["broken.raises"]
    assert lines["fine.ok"].startswith("PASS")  # the other claims of the broken pool are run again
    assert "Traceback" not in out.out + out.err


def test_entry_point_claims_are_loaded_by_default(tmp_path, monkeypatch, capsys):
    package = tmp_path / "site"
    package.mkdir()
    (package / "hmoe_demo_plugin.py").write_text(
        HEADER + '@claim(id="plugin.identity", title="t", statement="x = x", hypotheses="none", source="plugin",'
        ' expected="proved")\ndef identity():\n    return Verdict.from_decision(decide_equal(x, x), "x - x")\n'
    )
    monkeypatch.syspath_prepend(str(package))
    published = [EntryPoint(name="demo", value="hmoe_demo_plugin", group=loading.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(loading, "entry_points", lambda group: published if group == loading.ENTRY_POINT_GROUP else [])

    assert main(["check", "--no-builtin", "--json", "--jobs", "1"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [(c["id"], c["status"], c["origin"]) for c in payload["claims"]] == [
        ("plugin.identity", "proved", "entry point demo (hmoe_demo_plugin)")
    ]
    assert main(["check", "--list"]) == 0  # default: built-in ledger and installed claims together
    listed = capsys.readouterr().out
    assert "plugin.identity" in listed and "pde.gaussian.heat-equation" in listed
    assert main(["check", "--list", "--no-plugins"]) == 0
    assert "plugin.identity" not in capsys.readouterr().out


def test_broken_entry_point_is_one_line_error(monkeypatch, capsys):
    published = [EntryPoint(name="broken", value="hmoe_no_such_module_xyz", group=loading.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(loading, "entry_points", lambda group: published)
    one_line_error(capsys, ["check", "--list"], "entry point broken (hmoe_no_such_module_xyz) failed to import")


def test_help_says_claims_files_run_code(capsys):
    try:
        code = main(["check", "--help"])
    except SystemExit as exc:  # argparse exits after printing the help
        code = exc.code
    assert code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "loading it RUNS it" in text and "--claims PATH" in text and "--junit FILE" in text


def test_init_claims_template_passes(tmp_path, capsys):
    target = tmp_path / "my claims"
    assert main(["init-claims", str(target)]) == 0
    assert sorted(p.name for p in target.iterdir()) == ["README.md", "my_claims.py"]
    assert "hmoe check --claims" in capsys.readouterr().out
    assert main(["check", "--claims", str(target), "--json", "--jobs", "1"]) == 0
    payload = json.loads(capsys.readouterr().out)
    kinds = {c["kind"]: (c["status"], c["passed"]) for c in payload["claims"]}
    assert kinds == {"theorem": ("proved", True), "negative control": ("refuted", True)}
    assert "function_from_text" in (target / "my_claims.py").read_text()  # a user-defined family, safe parser
    one_line_error(capsys, ["init-claims", str(target)], "already exists (use --force to overwrite)")
    assert main(["init-claims", str(target), "--force"]) == 0


def test_isolated_forgets_user_claims(claims_dir):
    before = {c.id for c in all_claims()}
    with isolated():
        assert loading.load_paths([claims_dir]) == 4
        assert {c.id for c in all_claims()} == before | set(IDS)
    assert {c.id for c in all_claims()} == before
    assert not any(name.startswith("hmoe_user_claims_") for name in sys.modules)



def test_check_built_by_a_helper_module_belongs_to_the_claims_file(tmp_path, capsys):
    (tmp_path / "_factory.py").write_text(
        "from hmoe_theory.certify import Status\nfrom proofs_check import Verdict\n"
        "def make(status):\n    def check():\n        return Verdict(Status(status), 'made')\n    return check\n"
    )
    (tmp_path / "made.py").write_text(
        "from _factory import make\nfrom proofs_check import claim\n"
        'claim(id="f.made", title="t", statement="s", hypotheses="none", source="s", expected="proved")(make("proved"))\n'
    )
    assert main(["check", "--claims", str(tmp_path), "--json", "--jobs", "1"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["claims"]
    assert (result["id"], result["status"], result["origin"]) == ("f.made", "proved", str((tmp_path / "made.py").resolve()))


def test_a_claims_file_that_prints_at_import_keeps_json_valid(tmp_path, capfd):
    (tmp_path / "noisy.py").write_text(
        HEADER + 'print("loading my claims {")\n'
        '@claim(id="noisy.ok", title="t", statement="s", hypotheses="none", source="s", expected="inconclusive")\n'
        "def ok():\n    return Verdict(Status.INCONCLUSIVE, 'nothing decided')\n"
    )
    assert main(["check", "--claims", str(tmp_path), "--no-builtin", "--no-plugins", "--json", "--jobs", "1"]) == 0
    captured = capfd.readouterr()
    assert json.loads(captured.out)["passed"] == 1 and "loading my claims {" in captured.err
