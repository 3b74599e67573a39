"""Fuzz suite for the result store's content integrity and setting identity (docs/hardening.md).

Every damage a careless collaborator (or a disk) can do to ``runs.sqlite`` without breaking SQLite's own
integrity check -- a changed digit, status, seed or setting, a truncated or malformed metrics object, a
forged digest, a duplicated row in a table rebuilt without its primary key, a trigger, view, index or
table added, a setting identity edited -- must make every reader (resume, ``--export``, ``--report``,
the bare ``--out DIR``) refuse with one line and exit 2, and never print "resumed". A random hypothesis
mutation of a stored row is refused unless it changed nothing. A setting whose name is reused with another
definition is a one-line error. A sweep whose journal is deleted mid-run never reports success with fits
missing, and a SIGKILL-ed sweep leaves no pool worker behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_experiments_fakes import MODULE

from hmoe_theory.cli import main
from hmoe_theory.experiments import ResultStore, SweepError, SweepSpec, load_results, run_sweep
from hmoe_theory.experiments.identity import setting_identity

FAKE = f"{MODULE}:power_replicate"
SWEEP = ["rates", "--replicate", FAKE, "--setting", "root-n", "--setting", "quarter", "--n", "100:1000:3",
         "--reps", "3", "--seed", "1", "--workers", "1", "--quiet", "--no-report"]


@pytest.fixture(scope="module")
def good_store(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("good")
    assert main([*SWEEP, "--out", str(out)]) == 0
    return out


def _sql(*statements: str):
    def damage(path: Path) -> None:
        db = sqlite3.connect(path)
        with db:
            for statement in statements:
                db.execute(statement)
        db.close()
    return damage


def _flip_digit_in_file(path: Path) -> None:
    """Change one digit of a stored metric value in the file's bytes (SQLite's checks still pass)."""
    data = bytearray(path.read_bytes())
    at = data.index(b'"error": 0.') + len(b'"error": 0.') + 3
    data[at] = ord("1") if data[at] != ord("1") else ord("2")
    path.write_bytes(bytes(data))


REBUILD_WITHOUT_KEY = (
    "CREATE TABLE fits2 AS SELECT * FROM fits", "DROP TABLE fits", "ALTER TABLE fits2 RENAME TO fits",
)
DAMAGES = {
    "digit-in-metrics": (_sql("UPDATE fits SET metrics = replace(metrics, '0.0', '0.1') WHERE rowid = 2"),
                         "does not match its digest"),
    "flipped-byte-in-file": (_flip_digit_in_file, "does not match its digest"),
    "status": (_sql("UPDATE fits SET status = 'converged' WHERE status = 'iteration-cap'"), "does not match its digest"),
    "seed": (_sql("UPDATE fits SET seed = seed + 1 WHERE rowid = 1"), "does not match its digest"),
    "setting-renamed": (_sql("UPDATE fits SET setting = 'root-n-copy' WHERE rowid = 1"), "does not match its digest"),
    "truncated-metrics": (_sql("UPDATE fits SET metrics = substr(metrics, 1, 9) WHERE rowid = 3"),
                          "does not match its digest"),
    "broken-metrics-json": (_sql("UPDATE fits SET metrics = '{\"error\": ' WHERE rowid = 3"), "does not match its digest"),
    "digest-cleared": (_sql("UPDATE fits SET digest = '' WHERE rowid = 4"), "does not match its digest"),
    "digest-wrong-type": (_sql("UPDATE fits SET digest = X'00' WHERE rowid = 4"), "wrong type"),
    "identity-edited": (_sql("UPDATE meta SET value = 'x' || value WHERE key = 'identity:root-n'"),
                        "does not match its digest"),
    "identity-deleted": (_sql("DELETE FROM meta WHERE key = 'identity:quarter'"), "does not match its digest"),
    "duplicate-without-key": (_sql(*REBUILD_WITHOUT_KEY, "INSERT INTO fits SELECT * FROM fits WHERE rowid = 1"),
                              "differs from the version-3 schema"),
    "rebuilt-without-key": (_sql(*REBUILD_WITHOUT_KEY), "differs from the version-3 schema"),
    "trigger": (_sql("CREATE TRIGGER t AFTER INSERT ON fits BEGIN UPDATE fits SET metrics = '{}'; END"),
                "unexpected trigger 't'"),
    "view": (_sql("CREATE VIEW v AS SELECT * FROM fits"), "unexpected view 'v'"),
    "index": (_sql("CREATE INDEX i ON fits(metrics)"), "unexpected index 'i'"),
    "table": (_sql("CREATE TABLE extra (x)"), "unexpected table 'extra'"),
    "fits-dropped-column": (_sql("ALTER TABLE fits DROP COLUMN digest"), "is not a version-3 result store"),
}


@pytest.mark.parametrize("name", sorted(DAMAGES))
@pytest.mark.parametrize("reader", ["resume", "export", "report", "table"])
def test_damaged_content_is_refused_by_every_reader(good_store, tmp_path, capsys, name, reader):
    damage, message = DAMAGES[name]
    out = tmp_path / "out"
    shutil.copytree(good_store, out)
    damage(out / "runs.sqlite")
    argv = {
        "resume": [*SWEEP, "--out", str(out)],
        "export": ["rates", "--replicate", FAKE, "--out", str(out), "--export", str(tmp_path / "fits.csv")],
        "report": ["rates", "--replicate", FAKE, "--out", str(out), "--report", "--report-dir", str(tmp_path / "r")],
        "table": ["rates", "--replicate", FAKE, "--out", str(out)],
    }[reader]
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("hmoe: error: "), err
    assert "resumed" not in err and "Traceback" not in err
    assert message is None or message in err, err
    assert not (tmp_path / "fits.csv").exists()


COLUMNS = ("setting", "n", "rep", "seed", "status", "metrics", "digest")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(1, 18), column=st.sampled_from(COLUMNS),
       value=st.one_of(st.integers(-3, 2**63 - 1), st.text(max_size=12), st.floats(allow_nan=True),
                       st.sampled_from(["converged", "root-n", "{}", '{"error": 0.5}', "0" * 64])))
def test_random_row_mutations_are_refused_unless_nothing_changed(good_store, tmp_path_factory, row, column, value):
    out = tmp_path_factory.mktemp("mutated")
    shutil.copy(good_store / "runs.sqlite", out / "runs.sqlite")
    db = sqlite3.connect(out / "runs.sqlite")
    before = db.execute(f"SELECT {column} FROM fits WHERE rowid = ?", (row,)).fetchone()[0]
    try:
        with db:
            db.execute(f"UPDATE fits SET {column} = ? WHERE rowid = ?", (value, row))
    except sqlite3.IntegrityError:  # primary key or NOT NULL: sqlite refused the edit itself
        value = before
    after = db.execute(f"SELECT {column} FROM fits WHERE rowid = ?", (row,)).fetchone()[0]
    db.close()
    if after == before and type(after) is type(before):
        assert len(load_results(out)) == 18
    else:
        with pytest.raises(SweepError, match="is damaged"):
            load_results(out)


# -- setting identity ----------------------------------------------------------------------------------
def _spec_file(path: Path, exponent: float, name: str = "mine") -> Path:
    path.write_text(f'name = "{name}"\nexponent = {exponent}\n')
    return path


def test_identity_is_the_definition_not_the_name():
    from hmoe_theory.estimation.catalogue import SETTINGS, regression_mapping

    reference = "hmoe_theory.estimation.replicate:run_path"
    name = "softmax-linear/linear/exact"
    catalogue = setting_identity(reference, name)
    assert catalogue == setting_identity(reference, name)  # deterministic
    assert catalogue != setting_identity(reference, "softmax-linear/linear/over")
    assert catalogue != setting_identity("hmoe_theory.estimation.attention_replicate:run_path", name)
    mapping = regression_mapping("softmax-linear", "linear", False)
    assert mapping["name"] == name and name in SETTINGS
    assert setting_identity(reference, name, mapping) == catalogue  # the same definition through --spec
    changed = json.loads(json.dumps(mapping))
    changed["truth"][0]["weight"] *= 1.01
    assert setting_identity(reference, name, changed) != catalogue


def test_identity_does_not_depend_on_the_hash_seed(tmp_path):
    import subprocess

    code = ("from hmoe_theory.experiments.identity import setting_identity as s;"
            "print(s('hmoe_theory.estimation.replicate:run_path', 'quadratic-polynomial/linear/over'))")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("0", "77")}
    assert len(outputs) == 1 and len(outputs.pop().strip()) == 64


def test_a_name_reused_with_another_definition_is_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    mine = _spec_file(tmp_path / "mine.toml", 0.5)
    base = ["rates", "--replicate", FAKE, "--n", "10,20", "--reps", "2", "--quiet", "--no-report", "--out", str(out)]
    definitions = {"mine": {"name": "mine", "exponent": 0.5}}
    spec = SweepSpec(("mine",), (10, 20), 2)
    assert run_sweep(spec, out, replicate=FAKE, definitions=definitions).computed == 2
    # the same name, another definition: refused before anything is computed (library and CLI)
    with pytest.raises(SweepError, match="(another|a different) definition"):
        run_sweep(spec, out, replicate=FAKE, definitions={"mine": {"name": "mine", "exponent": 0.25}})
    with ResultStore(out) as store:  # a catalogue setting whose name was used by a user definition
        with pytest.raises(SweepError, match="holds fits of a setting named 'mine' with another definition"):
            store.bind(FAKE, 0, sizes=(10, 20), identities={"mine": setting_identity(FAKE, "mine")})
    assert mine.exists() and base
    assert run_sweep(spec, out, replicate=FAKE, definitions=definitions).skipped == 2  # the same one resumes


# -- lost journal, orphan workers, shared work ---------------------------------------------------------
def wal_deleting_replicate(setting, sizes, rep, seed):
    """Fake replicate that deletes the store's journal at replicate 1, as a careless user would, while a
    second connection (another sweep) opens the store."""
    from test_experiments_fakes import power_replicate

    store = Path(os.environ["HMOE_TEST_STORE"])
    if rep == 1:
        for suffix in ("-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
        other = sqlite3.connect(store)
        other.execute("SELECT count(*) FROM fits").fetchone()
        other.close()
    return power_replicate(setting, sizes, rep, seed)


def test_a_deleted_journal_loses_nothing_once_checkpointed(tmp_path, monkeypatch):
    """Each stored path is checkpointed into the store file, so deleting the journal mid-sweep (while another
    connection opens the store) loses nothing: the sweep ends complete with every fit verified."""
    out = tmp_path / "out"
    monkeypatch.setenv("HMOE_TEST_STORE", str(out / "runs.sqlite"))
    report = run_sweep(SweepSpec(("root-n", "quarter"), (10, 20, 40), 4), out,
                       replicate=f"{__name__}:wal_deleting_replicate")
    assert (report.computed, report.complete) == (8, True) and len(load_results(out)) == 24


def test_a_lost_journal_is_an_error_never_success(tmp_path, monkeypatch):
    """Without the checkpoints (as before), the deleted journal takes the fits with it: the sweep's final
    verification on a fresh connection refuses with one line instead of reporting '8 new'."""
    out = tmp_path / "out"
    monkeypatch.setenv("HMOE_TEST_STORE", str(out / "runs.sqlite"))
    monkeypatch.setattr(ResultStore, "checkpoint", lambda self: None)
    with pytest.raises(SweepError) as info:
        run_sweep(SweepSpec(("root-n", "quarter"), (10, 20, 40), 4), out, replicate=f"{__name__}:wal_deleting_replicate")
    assert "\n" not in str(info.value) and str(out / "runs.sqlite") in str(info.value)


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_sigkilled_sweep_leaves_no_pool_worker(tmp_path):
    import multiprocessing

    gate = tmp_path / "never"

    def target() -> None:
        os.environ.update({"HMOE_FAKE_GATE": str(gate)})
        run_sweep(SweepSpec(("root-n",), (10,), 4), tmp_path / "out", workers=2, replicate=FAKE)

    child = multiprocessing.get_context("fork").Process(target=target)
    child.start()
    deadline = time.monotonic() + 60
    while len(workers := _children(child.pid)) < 2:
        assert time.monotonic() < deadline, "the pool never started"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)  # the parent only, as `kill -9 PID` does
    child.join()
    deadline = time.monotonic() + 30
    while alive := {pid for pid in workers if Path(f"/proc/{pid}").exists()
                    and (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z")}:
        assert time.monotonic() < deadline, f"orphan pool workers {alive} still running"
        time.sleep(0.05)


def test_two_sweeps_on_one_store_both_end_complete(tmp_path, monkeypatch):
    """The second sweep computes what nobody claimed, waits for the first sweep's paths, and reports complete."""
    import multiprocessing
    import threading

    out, gate = tmp_path / "shared", tmp_path / "gate"
    store = out / "runs.sqlite"

    def count(table: str) -> int:
        try:
            with sqlite3.connect(store, timeout=5) as db:
                return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        except sqlite3.Error:
            return 0

    def first() -> None:
        os.environ["HMOE_FAKE_GATE"] = str(gate)
        run_sweep(SweepSpec(("root-n",), (10, 20), 3), out, replicate=FAKE)

    child = multiprocessing.get_context("fork").Process(target=first)
    child.start()
    deadline = time.monotonic() + 60
    while count("claims") < 3:
        assert time.monotonic() < deadline and child.is_alive()
        time.sleep(0.02)

    def open_gate_when_ours_are_stored() -> None:  # the second sweep's own 2 paths (reps 3, 4) are stored
        while count("fits") < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        gate.touch()

    opener = threading.Thread(target=open_gate_when_ours_are_stored)
    opener.start()
    second = run_sweep(SweepSpec(("root-n",), (10, 20), 5), out, replicate=FAKE)
    opener.join()
    child.join(60)
    assert child.exitcode == 0
    assert (second.computed, second.elsewhere, second.shared, second.complete) == (2, 3, 3, True)
    assert len(load_results(out)) == 10


def test_a_spec_reusing_a_catalogue_name_with_another_definition_is_refused(tmp_path, capsys):
    """The issue's case: a --spec named like a catalogue setting, with other truths, must not resume (or be
    resumed by) the catalogue setting's fits -- in either order."""
    from hmoe_theory.estimation.catalogue import regression_mapping

    mapping = regression_mapping("softmax-linear", "linear", False)
    mapping["truth"][0]["weight"] *= 1.5
    lines = [f"{key} = {json.dumps(value)}" for key, value in mapping.items()
             if key != "truth" and not isinstance(value, dict)]
    for key, value in mapping.items():  # tables ([protocol]) after the top-level keys
        if isinstance(value, dict):
            lines += [f"[{key}]", *(f"{k} = {json.dumps(v)}" for k, v in value.items())]
    for table in mapping["truth"]:
        lines += ["[[truth]]", *(f"{key} = {json.dumps(value)}" for key, value in table.items())]
    spec = tmp_path / "clash.toml"
    spec.write_text("\n".join(lines) + "\n")
    common = ["--n", "200,400", "--reps", "1", "--quiet", "--no-report"]
    catalogue = ["rates", "--setting", mapping["name"], *common]
    mine = ["rates", "--spec", str(spec), *common]
    for first, second, out in ((catalogue, mine, tmp_path / "a"), (mine, catalogue, tmp_path / "b")):
        assert main([*first, "--out", str(out)]) == 0
        capsys.readouterr()
        assert main([*second, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "with another definition" in err and "resumed" not in err, err
