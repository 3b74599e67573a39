"""The SQLite result store (schema v3): WAL, exact floats, status column, one transaction per path, claims,
integrity check on open (a damaged store is one line and a non-zero exit, never "resumed"), read-only use."""

import contextlib
import io
import json
import math
import os
import re
import shutil
import socket
import sqlite3
import tempfile
import traceback
from pathlib import Path

import pytest
from test_experiments_fakes import MODULE

from hmoe_theory.cli import main
from hmoe_theory.experiments import ResultStore, SweepError, Task, load_results, metric_values
from hmoe_theory.experiments.store import FitRecord, this_owner

FAKE = f"{MODULE}:power_replicate"
SWEEP = ["rates", "--replicate", FAKE, "--setting", "root-n", "--n", "100:1000:3", "--reps", "6", "--seed", "1",
         "--workers", "1", "--quiet", "--no-report"]


def _task(rep=0, setting="s", sizes=(10, 20)):
    return Task(setting, rep, 1000 + rep, sizes)


def _rows(values, sizes=(10, 20), status="converged"):
    return [{"n": n, "status": status, "metrics": values} for n in sizes]


def test_store_is_wal_and_round_trips_floats_and_status_exactly(tmp_path):
    values = {"a": 0.1 + 0.2, "b": 1e-300, "c": -123456.789e10, "d": math.pi, "e": math.inf, "f": 5e-324}
    with ResultStore(tmp_path) as store:
        store.bind("m:f", 0)
        store.add_path(_task(), _rows(values)[:1] + _rows(values, (20,), "iteration-cap"), started=1.0,
                       finished=2.0, seconds=1.0, worker="h:1")
    db = sqlite3.connect(tmp_path / "runs.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT n, status FROM fits ORDER BY n").fetchall() == [(10, "converged"), (20, "iteration-cap")]
    db.close()
    first, second = load_results(tmp_path)
    assert first.metrics == values and second.metrics == values  # bit-exact, inf included
    assert all(math.copysign(1, first.metrics[k]) == math.copysign(1, values[k]) for k in values)
    assert (first.setting, first.n, first.rep, first.seed, first.worker, first.status) == ("s", 10, 0, 1000, "h:1",
                                                                                          "converged")
    assert second.status == "iteration-cap"


def test_a_path_is_one_transaction_and_the_first_stored_row_wins(tmp_path):
    with ResultStore(tmp_path / "x.sqlite") as store:
        store.add_failure(_task(), "ValueError: boom")
        assert store.failures() == [("s", 0, "ValueError: boom")]
        with pytest.raises(TypeError, match="fit status must be one of"):  # second row bad: nothing stored
            store.add_path(_task(), [*_rows({"e": 1.0}, (10,)), *_rows({"e": 1.0}, (20,), "ok")], 0, 0, 0, "w")
        assert store.completed_paths((10, 20)) == set() and store.failures() != []
        store.add_path(_task(), _rows({"e": 1.0}), 0, 0, 0, "w")
        store.add_path(_task(), _rows({"e": 2.0}), 0, 0, 0, "w")  # duplicate (two sweeps): first rows kept
        assert store.failures() == []
        assert store.completed_paths((10, 20)) == {("s", 0)}
        assert store.completed_paths((10, 20, 40)) == set()  # a larger grid needs the path again
    assert [r.metrics for r in load_results(tmp_path / "x.sqlite")] == [{"e": 1.0}, {"e": 1.0}]


def test_binding_refuses_another_replicate_seed_or_definition(tmp_path):
    with ResultStore(tmp_path) as store:
        store.bind("m:f", 0, {"mine": {"k": 2}})
        store.bind("m:f", 0, {"mine": {"k": 2}})  # same binding is fine (resume)
        with pytest.raises(SweepError, match="replicate='m:f', not 'm:g'"):
            store.bind("m:g", 0)
        with pytest.raises(SweepError, match="base_seed='0', not '1'"):
            store.bind("m:f", 1)
        with pytest.raises(SweepError, match="a different definition of 'mine'"):
            store.bind("m:f", 0, {"mine": {"k": 3}})
        assert store.definitions() == {"mine": {"k": 2}}


def test_claims_of_live_owners_are_respected_and_dead_ones_taken_over(tmp_path):
    tasks = [_task(rep) for rep in range(4)]
    gone = _dead_pid()
    with ResultStore(tmp_path) as store:
        assert store.claim(tasks[:1], owner="elsewhere.example:1") == tasks[:1]  # another host: assumed alive
        assert store.claim(tasks[1:2], owner=f"{socket.gethostname()}:{gone}") == tasks[1:2]  # this host, dead
        assert store.claim(tasks[2:3], owner=f"{socket.gethostname()}:{os.getppid()}") == tasks[2:3]  # alive
        assert store.claim(tasks) == [tasks[1], tasks[3]]
        assert store.claimed_by_others() == [("s", 0, "elsewhere.example:1"), ("s", 2, f"{socket.gethostname()}:{os.getppid()}")]
        store.add_path(tasks[3], _rows({"e": 1.0}), 0, 0, 0, "w")  # storing a path drops its claim
        assert store.claim(tasks[3:]) == []  # stored meanwhile (by another sweep): not claimed again
        store.release(tasks)
        rows = sorted(store._db.execute("SELECT rep, owner FROM claims"))
    assert rows == [(0, "elsewhere.example:1"), (2, f"{socket.gethostname()}:{os.getppid()}")]
    assert this_owner() == f"{socket.gethostname()}:{os.getpid()}"


def _dead_pid() -> int:
    """The pid of a child that has exited and been reaped."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


@pytest.mark.parametrize("metrics", [{}, {"e": "x"}, {1: 2.0}, [("e", 1.0)], {"e": True}])
def test_bad_metrics_are_rejected(tmp_path, metrics):
    with ResultStore(tmp_path) as store, pytest.raises(TypeError):
        store.add_path(_task(), _rows(metrics), 0, 0, 0, "w")


def test_missing_store_is_a_one_line_error(tmp_path):
    with pytest.raises(SweepError, match="no result store at"):
        load_results(tmp_path / "nothing-here")


def test_metric_values_groups_reps_by_size_in_order():
    records = [FitRecord("s", n, r, 0, {"e": n + r / 10}) for n in (20, 10) for r in (1, 0)]
    records.append(FitRecord("t", 10, 0, 0, {"e": 99.0}))
    records.append(FitRecord("s", 30, 0, 0, {"other": 1.0}))
    by_size = metric_values(records, "s", "e")
    assert list(by_size) == [10, 20, 30]
    assert by_size[10] == [10.0, 10.1] and by_size[20] == [20.0, 20.1] and math.isnan(by_size[30][0])


# -- damaged stores ------------------------------------------------------------------------------------
def _overwrite_last_page(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(size - 4096)
        fh.write(bytes(range(256)) * 16)


def _random_bytes_at_8192(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.seek(8192)
        fh.write(bytes((37 * i + 11) % 256 for i in range(200)))


def _not_sqlite(path: Path) -> None:
    path.write_text("setting,n,rep\n" * 500)


def _foreign_sqlite(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE fits (x)")
    db.close()
    header = path.read_bytes()[:100]
    FOREIGN_HEADERS.append((path, header))


FOREIGN_HEADERS: list = []


@pytest.fixture(scope="module")
def good_store(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("good")
    assert main([*SWEEP, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["runs.sqlite"]  # checkpointed on close
    assert (out / "runs.sqlite").stat().st_size >= 4 * 4096
    return out


@pytest.mark.parametrize(
    "damage, message",
    [
        (_overwrite_last_page, "is damaged"),
        (_random_bytes_at_8192, "is damaged"),
        (_not_sqlite, "is damaged or not a store (file is not a database)"),
        (_foreign_sqlite, "is not a version-3 result store (table 'meta': missing)"),
    ],
)
def test_a_damaged_store_is_one_line_and_a_non_zero_exit(good_store, tmp_path, capsys, damage, message):
    out = tmp_path / "out"
    shutil.copytree(good_store, out)
    damage(out / "runs.sqlite")
    with pytest.raises(SweepError, match=re.escape(message)) as info:
        load_results(out)
    assert "\n" not in str(info.value)
    capsys.readouterr()
    for argv in ([*SWEEP, "--out", str(out)], ["rates", "--replicate", FAKE, "--out", str(out), "--report"]):
        assert main(argv) == 2
        captured = capsys.readouterr()
        assert captured.err.startswith("hmoe: error: ") and captured.err.count("\n") == 1
        assert message in captured.err
        assert "resumed" not in captured.err + captured.out and captured.out == ""
    for path, header in FOREIGN_HEADERS:
        assert path.read_bytes()[:100] == header  # a foreign file is not converted to WAL (left untouched)


def test_an_intact_store_resumes(good_store, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(good_store, out)
    assert main([*SWEEP, "--out", str(out)]) == 0
    assert "(6 resumed, 0 new, 0 failed)" in capsys.readouterr().err


# -- read-only stores -----------------------------------------------------------------------------------
def _as_unprivileged(function) -> str:
    """``function()`` (returning a string) where permission bits hold: here when not root, else in a forked
    child that drops to uid/gid 65534 (root ignores chmod). Skips when neither is possible."""
    if os.geteuid() != 0:
        return function()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # never return into pytest from the child
        code = 0
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            text = function()
        except pytest.skip.Exception as exc:
            text = f"SKIP {exc}"
        except BaseException:
            text, code = "ERROR " + traceback.format_exc(), 1
        with os.fdopen(write, "w") as fh:
            fh.write(text)
        os._exit(code)
    os.close(write)
    with os.fdopen(read) as fh:
        text = fh.read()
    os.waitpid(pid, 0)
    if "PermissionError: [Errno 1] Operation not permitted" in text and "setuid" in text:
        pytest.skip("running as root without the right to drop privileges: chmod cannot make a directory read-only")
    if text.startswith("SKIP "):
        pytest.skip(text[5:])
    assert not text.startswith("ERROR"), text
    return text


def _warm_up_svg() -> None:
    """Import what an SVG report needs and load the fonts, in this process (inherited by a fork)."""
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    ax.loglog([1, 10], [1, 0.1], label=r"$n^{-1/2}$")
    ax.set_title("warm-up")
    ax.legend()
    fig.savefig(io.BytesIO(), format="svg")


@pytest.fixture
def public_tmp():
    """A temporary directory that uid 65534 can traverse (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="hmoe-ro-"))
    path.chmod(0o755)
    yield path
    for sub in path.rglob("*"):
        if sub.is_dir():
            sub.chmod(0o755)
    shutil.rmtree(path)


def test_report_and_export_work_on_a_read_only_store(good_store, public_tmp):
    store_dir, report_dir = public_tmp / "store", public_tmp / "report"
    shutil.copytree(good_store, store_dir)
    report_dir.mkdir(mode=0o777)
    report_dir.chmod(0o777)
    expected = load_results(store_dir)
    _warm_up_svg()  # the unprivileged child may not be able to read the stdlib or the font cache
    (store_dir / "runs.sqlite").chmod(0o444)
    store_dir.chmod(0o555)
    listing = sorted(p.name for p in store_dir.iterdir())

    def check() -> str:
        if os.access(store_dir, os.W_OK):
            pytest.skip("chmod did not make the directory read-only here")
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()) as out:
            records = load_results(store_dir)
            report = main(["rates", "--replicate", FAKE, "--out", str(store_dir), "--report", "--report-dir",
                           str(report_dir), "--formats", "svg", "--export", str(report_dir / "fits.csv")])
            refused = main(["rates", "--replicate", FAKE, "--out", str(store_dir), "--report"])
        return json.dumps({"records": [[r.setting, r.n, r.rep, r.seed, r.status, r.metrics] for r in records],
                           "report": report, "refused": refused, "out": out.getvalue(), "err": err.getvalue()})

    result = json.loads(_as_unprivileged(check))
    assert result["records"] == [[r.setting, r.n, r.rep, r.seed, r.status, r.metrics] for r in expected]
    assert result["report"] == 0 and result["refused"] == 2
    assert result["err"].startswith("hmoe: error: --out (use --report-dir)") and result["err"].count("\n") == 1
    assert "is not a writable directory" in result["err"]
    assert sorted(p.name for p in report_dir.iterdir()) == ["fits.csv", "rates-root-n.svg", "summary.json", "summary.md"]
    assert len((report_dir / "fits.csv").read_text().splitlines()) == 1 + len(expected)
    assert sorted(p.name for p in store_dir.iterdir()) == listing  # nothing written beside the store


def test_a_read_only_store_with_an_unreplayed_journal_refuses_instead_of_dropping_fits(good_store, public_tmp):
    store_dir = public_tmp / "store"
    shutil.copytree(good_store, store_dir)
    pid = os.fork()
    if pid == 0:  # a writer that dies without checkpointing: its last path lives only in runs.sqlite-wal
        try:
            store = ResultStore(store_dir)
            store.add_path(_task(rep=99, setting="root-n"), _rows({"error": 1.0}), 0, 0, 0, "w")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    (store_dir / "runs.sqlite-shm").unlink()  # e.g. copied without the index
    assert (store_dir / "runs.sqlite-wal").stat().st_size > 0
    store_dir.chmod(0o555)

    def check() -> str:
        if os.access(store_dir, os.W_OK):
            pytest.skip("chmod did not make the directory read-only here")
        try:
            return f"loaded {len(load_results(store_dir))}"
        except SweepError as exc:
            return str(exc)

    message = _as_unprivileged(check)
    assert "has fits in its journal runs.sqlite-wal" in message and "\n" not in message
    store_dir.chmod(0o755)
    assert len(load_results(store_dir)) == 18 + 2  # writable again: the journal is replayed, nothing was lost


def test_two_processes_claiming_at_once_never_both_get_a_path(tmp_path):
    """Claims are read and written in one IMMEDIATE transaction (forked claimers released together)."""
    import multiprocessing

    ResultStore(tmp_path).close()
    tasks = [_task(rep) for rep in range(60)]
    fork = multiprocessing.get_context("fork")
    start, results = fork.Event(), fork.Queue()

    def claimer() -> None:
        with ResultStore(tmp_path) as store:
            start.wait(10)
            results.put((os.getpid(), [t.rep for t in store.claim(tasks)]))

    children = [fork.Process(target=claimer) for _ in range(2)]
    for child in children:
        child.start()
    start.set()
    got = dict(results.get(timeout=30) for _ in children)
    for child in children:
        child.join(10)
    first, second = got.values()
    assert sorted(first + second) == list(range(60))  # every path claimed exactly once
    with ResultStore(tmp_path) as store:
        owners = dict(store._db.execute("SELECT rep, owner FROM claims").fetchall())
    assert {owners[rep] for rep in first} <= {f"{socket.gethostname()}:{pid}" for pid in got}


def test_a_store_refuses_a_size_grid_that_changes_the_warm_start_chain(tmp_path):
    """The fit at n is warm-started from the sizes below n: other sizes below would mix two chains."""
    with ResultStore(tmp_path) as store:
        store.bind("m:f", 0, sizes=(200, 400))  # empty store: any grid
        store.add_path(_task(sizes=(200, 400)), _rows({"e": 1.0}, (200, 400)), 0, 0, 0, "w")
        for grid in ((200, 400), (200,), (200, 400, 800), (200, 400, 800, 1600)):
            store.bind("m:f", 0, sizes=grid)  # same chain below min(max): fine
        for grid, top in (((100, 200, 400), 400), ((200, 300, 400), 400), ((200, 800), 400), ((100,), 100)):
            with pytest.raises(SweepError, match=re.escape(f"holds fits at sizes [200, 400]; fits are warm-started "
                                                           f"along the sizes, so a new --n must list the same sizes up to {top}")):
                store.bind("m:f", 0, sizes=grid)
