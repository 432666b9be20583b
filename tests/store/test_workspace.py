"""The workspace store: schema, runs, epochs, events, liveness, several writers at once."""

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import lernwerk.store
from lernwerk.errors import Conflict, NotFound, SpecError
from lernwerk.store import DatasetRecord, RunRecord, WorkspaceStore, process_start_ticks
from lernwerk.store.workspace import SCHEMA_VERSION

# Child processes load only the store: a stand-in for the `lernwerk` package skips its
# __init__ (which imports torch and every layer), so a child starts in milliseconds.
# It also shows the store needs nothing above it.
CHILD_PRELUDE = f"""
import sys, types
package = types.ModuleType("lernwerk")
package.__path__ = [{str(Path(lernwerk.store.__file__).parents[1])!r}]
sys.modules["lernwerk"] = package
from lernwerk.store import WorkspaceStore
"""

HAS_PROC = Path("/proc/self/stat").exists()
needs_proc = pytest.mark.skipif(not HAS_PROC, reason="needs Linux /proc")


@pytest.fixture
def store(tmp_path: Path) -> WorkspaceStore:
    return WorkspaceStore(tmp_path / "ws")


def make_run(store: WorkspaceStore, name: str = "run") -> RunRecord:
    return store.create_run(
        name=name, config={"lr": 0.1}, model="mlp", dataset="xor", dataset_hash="h", device="cpu"
    )


def run_child(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD_PRELUDE + code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[str]]:
    child = run_child("import sys; print('ready', flush=True); sys.stdin.read()")
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    yield child
    child.kill()
    child.communicate()  # reaps it and closes the pipes


def test_creates_directories_and_database_in_wal_mode(tmp_path: Path) -> None:
    store = WorkspaceStore(tmp_path / "ws")
    assert store.root == tmp_path / "ws"
    assert store.db_path == tmp_path / "ws" / "lernwerk.db"
    assert (store.root / "runs").is_dir() and (store.root / "datasets").is_dir()
    con = sqlite3.connect(store.db_path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"datasets", "runs", "epochs", "events"} <= tables
    con.close()
    make_run(store)
    assert len(WorkspaceStore(str(tmp_path / "ws")).list_runs()) == 1  # reopening keeps data


def test_refuses_a_newer_schema(store: WorkspaceStore) -> None:
    con = sqlite3.connect(store.db_path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(Conflict, match="schema version 99 is newer"):
        WorkspaceStore(store.root)


def test_dataset_crud(store: WorkspaceStore) -> None:
    rec = DatasetRecord(
        name="xor",
        kind="tables",
        task="classification",
        source={"builtin": "xor"},
        content_hash="abc",
        num_samples=200,
        classes=["0", "1"],
        input_shape=[2],
    )
    store.put_dataset(rec)
    assert store.get_dataset("xor") == rec
    store.put_dataset(DatasetRecord(**{**rec.to_dict(), "num_samples": 300}))
    assert [d.num_samples for d in store.list_datasets()] == [300]
    store.dataset_dir("xor").mkdir()
    (store.dataset_dir("xor") / "x.bin").write_bytes(b"1")
    store.delete_dataset("xor")
    assert not (store.root / "datasets" / "xor").exists()
    with pytest.raises(NotFound, match="dataset 'xor' not found in workspace"):
        store.get_dataset("xor")
    with pytest.raises(SpecError, match="not allowed"):
        store.dataset_dir("../escape")


def test_run_crud(store: WorkspaceStore) -> None:
    rec = make_run(store, "first")
    assert re.fullmatch(r"[0-9a-f]{8}", rec.id)
    assert rec.status == "created" and rec.epoch == 0 and rec.metrics == {}
    assert store.get_run(rec.id) == rec
    json.dumps(rec.to_dict())

    updated = store.update_run(
        rec.id, status="finished", epoch=3, best_metric=0.9, metrics={"val": {"acc": 0.9}}
    )
    assert updated.status == "finished" and updated.metrics == {"val": {"acc": 0.9}}
    assert store.get_run(rec.id) == updated
    with pytest.raises(ValueError, match="unknown run fields"):
        store.update_run(rec.id, colour="red")
    with pytest.raises(ValueError, match="unknown run fields"):
        store.update_run(rec.id, id="other")
    with pytest.raises(ValueError, match="status"):
        store.update_run(rec.id, status="sleeping")
    with pytest.raises(NotFound):
        store.update_run("ffffffff", epoch=1)

    second = make_run(store, "second")
    assert [r.id for r in store.list_runs()] == [second.id, rec.id]
    assert [r.id for r in store.list_runs(status="created")] == [second.id]


def test_get_run_by_prefix_and_name(store: WorkspaceStore, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = iter(["abc12345", "abc99999", "ffff0000", "eeee0000"])
    monkeypatch.setattr("lernwerk.store.workspace.secrets.token_hex", lambda n: next(ids))
    make_run(store, "alpha")
    make_run(store, "beta")
    make_run(store, "dup")
    make_run(store, "dup")

    assert store.get_run("abc1").name == "alpha"
    assert store.get_run("abc99999").name == "beta"
    assert store.get_run("beta").id == "abc99999"
    with pytest.raises(Conflict, match=r"ambiguous.*abc99999 \(beta\), abc12345 \(alpha\)"):
        store.get_run("abc")
    with pytest.raises(Conflict, match="matches 2 runs"):
        store.get_run("dup")
    with pytest.raises(NotFound, match=r"run 'ab' not found; `lernwerk runs list` shows the runs"):
        store.get_run("ab")  # prefixes need three characters
    with pytest.raises(NotFound, match="run 'nope' not found"):
        store.get_run("nope")


def test_epochs_upsert_and_delete_after(store: WorkspaceStore) -> None:
    run = make_run(store)
    for epoch in (1, 2, 3):
        store.put_epoch(run.id, epoch, {"loss": 1.0 / epoch})
    store.put_epoch(run.id, 2, {"loss": 0.4, "acc": 0.8})
    assert store.epochs(run.id) == [
        {"epoch": 1, "loss": 1.0},
        {"epoch": 2, "loss": 0.4, "acc": 0.8},
        {"epoch": 3, "loss": 1.0 / 3},
    ]
    store.delete_epochs_after(run.id, 1)
    assert store.epochs(run.id) == [{"epoch": 1, "loss": 1.0}]


def test_events_after_id_and_limit(store: WorkspaceStore) -> None:
    run, other = make_run(store), make_run(store, "other")
    ids = [store.add_event(run.id, "BatchEnded", {"step": i}) for i in range(5)]
    store.add_event(other.id, "BatchEnded", {"step": 99})
    assert ids == sorted(ids)
    assert [e.payload["step"] for e in store.events(run.id)] == [0, 1, 2, 3, 4]
    after = store.events(run.id, after_id=ids[1])
    assert [e.id for e in after] == ids[2:]
    assert after[0].run_id == run.id and after[0].type == "BatchEnded"
    assert [e.id for e in store.events(run.id, after_id=ids[0], limit=2)] == ids[1:3]


def test_mark_running_records_the_process(store: WorkspaceStore) -> None:
    run = make_run(store)
    store.mark_running(run.id)
    rec = store.get_run(run.id)
    assert rec.status == "running" and rec.pid == os.getpid()
    assert rec.host == socket.gethostname()
    assert rec.proc_start == process_start_ticks(os.getpid())
    assert rec.started_at is not None
    store.mark_running(run.id)
    assert store.get_run(run.id).started_at == rec.started_at


def test_reconcile_leaves_a_live_run_alone(store: WorkspaceStore) -> None:
    run = make_run(store)
    store.mark_running(run.id)
    assert store.is_alive(store.get_run(run.id))
    assert store.reconcile() == []
    assert store.get_run(run.id).status == "running"


def test_reconcile_marks_a_killed_process_interrupted(store: WorkspaceStore) -> None:
    code = (
        "store = WorkspaceStore(sys.argv[1])\n"
        "run = store.create_run(name='victim', config={}, model='mlp', dataset='xor',\n"
        "                       dataset_hash='h', device='cpu')\n"
        "store.mark_running(run.id)\n"
        "print(run.id, flush=True)\n"
        "sys.stdin.read()\n"
    )
    child = run_child(code, str(store.root))
    assert child.stdout is not None
    run_id = child.stdout.readline().strip()
    assert store.get_run(run_id).status == "running", child.stderr
    child.kill()
    child.communicate()

    assert store.reconcile() == [run_id]
    rec = store.get_run(run_id)
    assert rec.status == "interrupted" and rec.finished_at is not None
    assert [e.type for e in store.events(run_id)] == ["RunInterrupted"]
    assert store.reconcile() == []


@needs_proc
def test_reconcile_detects_a_reused_pid(store: WorkspaceStore) -> None:
    run = make_run(store)
    store.mark_running(run.id)
    rec = store.update_run(run.id, proc_start=store.get_run(run.id).proc_start - 1)
    assert not store.is_alive(rec)
    assert store.reconcile() == [run.id]


@needs_proc
def test_reconcile_treats_a_zombie_as_dead(
    store: WorkspaceStore, sleeper: subprocess.Popen[str]
) -> None:
    run = make_run(store)
    store.update_run(
        run.id,
        status="running",
        pid=sleeper.pid,
        host=socket.gethostname(),
        proc_start=process_start_ticks(sleeper.pid),
    )
    assert store.reconcile() == []
    sleeper.kill()  # not reaped yet: a zombie
    stat = Path(f"/proc/{sleeper.pid}/stat")
    deadline = time.monotonic() + 5
    while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert store.reconcile() == [run.id]


def test_reconcile_leaves_other_hosts_alone(store: WorkspaceStore) -> None:
    run = make_run(store)
    store.update_run(run.id, status="running", pid=2**22 + 7, host="elsewhere", proc_start=1)
    assert store.reconcile() == []


def test_a_run_killed_while_created_is_interrupted_and_a_live_ones_kept(
    store: WorkspaceStore,
) -> None:
    code = (
        "store = WorkspaceStore(sys.argv[1])\n"
        "run = store.create_run(name='early', config={}, model='mlp', dataset='xor',\n"
        "                       dataset_hash='h', device='cpu')\n"
        "print(run.id, flush=True)\n"
        "sys.stdin.read()\n"
    )
    killed, live = run_child(code, str(store.root)), run_child(code, str(store.root))
    try:
        assert killed.stdout is not None and live.stdout is not None
        killed_id, live_id = killed.stdout.readline().strip(), live.stdout.readline().strip()
        rec = store.get_run(killed_id)
        assert rec.status == "created" and rec.pid == killed.pid  # its owner, from the start
        killed.kill()  # kill -9 before it started training
        killed.communicate()
        assert WorkspaceStore(store.root).reconcile() == [killed_id]  # e.g. a server start
        assert store.get_run(killed_id).status == "interrupted"
        assert [e.type for e in store.events(killed_id)] == ["RunInterrupted"]
        assert store.get_run(live_id).status == "created"  # its process still prepares it
    finally:
        live.kill()
        live.communicate()
    assert store.reconcile() == [live_id]


def test_a_created_run_without_a_process_is_interrupted_after_a_minute(
    store: WorkspaceStore,
) -> None:
    old = (datetime.now(UTC) - timedelta(minutes=2)).isoformat(timespec="microseconds")
    stale, fresh = make_run(store, "stale"), make_run(store, "fresh")
    for run in (stale, fresh):  # as an older lernwerk made them: no process until training
        store.update_run(run.id, pid=None, host=None, proc_start=None)
    store.update_run(stale.id, created_at=old)
    assert store.reconcile() == [stale.id]
    assert store.get_run(fresh.id).status == "created"


def test_delete_run_removes_rows_and_files(store: WorkspaceStore) -> None:
    run = make_run(store)
    (store.run_dir(run.id) / "last.safetensors").write_bytes(b"x")
    store.put_epoch(run.id, 1, {"loss": 1.0})
    store.add_event(run.id, "EpochEnded", {"epoch": 1})
    store.delete_run(run.id)
    assert not (store.root / "runs" / run.id).exists()
    assert store.epochs(run.id) == [] and store.events(run.id) == []
    with pytest.raises(NotFound):
        store.get_run(run.id)
    with pytest.raises(NotFound):
        store.delete_run(run.id)


def test_delete_refuses_a_live_running_run(store: WorkspaceStore) -> None:
    run = make_run(store)
    store.mark_running(run.id)
    with pytest.raises(Conflict, match="still running"):
        store.delete_run(run.id)


WRITER = """
store = WorkspaceStore(sys.argv[1])
run = store.create_run(name=sys.argv[2], config={}, model="mlp", dataset="xor",
                       dataset_hash="h", device="cpu")
print(run.id, flush=True)
sys.stdin.readline()  # wait for the go, so both writers overlap
for i in range(100):
    store.add_event(run.id, "BatchEnded", {"step": i})
    store.put_epoch(run.id, i, {"loss": 1.0})
    store.update_run(run.id, epoch=i)
    store.list_runs()
"""


def test_concurrent_processes_do_not_lock_each_other_out(tmp_path: Path) -> None:
    root = tmp_path / "fresh"  # both processes also race to create the schema
    writers = [run_child(WRITER, str(root), f"w{i}") for i in range(2)]
    run_ids = [w.stdout.readline().strip() for w in writers if w.stdout]
    for w in writers:
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    results = [w.communicate(timeout=60) for w in writers]
    for w, (_, err) in zip(writers, results, strict=True):
        assert w.returncode == 0, err
    store = WorkspaceStore(root)
    for run_id in run_ids:
        assert len(store.events(run_id)) == 100 and len(store.epochs(run_id)) == 100
        assert store.get_run(run_id).epoch == 99


def test_one_store_is_safe_across_threads(store: WorkspaceStore) -> None:
    run = make_run(store)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(50):
                store.add_event(run.id, "BatchEnded", {"step": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.events(run.id)) == 200


def test_a_version_1_workspace_is_migrated_and_keeps_its_datasets(tmp_path: Path) -> None:
    root = tmp_path / "old"
    root.mkdir()
    con = sqlite3.connect(root / "lernwerk.db")
    con.executescript(
        """
        CREATE TABLE datasets (
            name TEXT PRIMARY KEY, kind TEXT NOT NULL, task TEXT NOT NULL, source TEXT NOT NULL,
            content_hash TEXT NOT NULL, num_samples INTEGER NOT NULL, classes TEXT NOT NULL,
            input_shape TEXT NOT NULL, created_at TEXT NOT NULL
        );
        INSERT INTO datasets VALUES ('old', 'table', 'classification', '{}', 'sha256:0', 3,
            '["a", "b"]', '[2]', '2026-01-01T00:00:00');
        PRAGMA user_version = 1;
        """
    )
    con.close()
    store = WorkspaceStore(root)
    rec = store.get_dataset("old")
    assert (rec.classes, rec.meta, rec.feature_names, rec.description) == (["a", "b"], {}, [], "")
    store.put_dataset(DatasetRecord(**{**rec.to_dict(), "meta": {"k": 1}}))
    assert store.get_dataset("old").meta == {"k": 1}
    con = sqlite3.connect(root / "lernwerk.db")
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.close()


def test_a_thread_keeps_its_connection_and_a_failed_write_leaves_nothing(
    store: WorkspaceStore,
) -> None:
    run = make_run(store)
    with store._connect() as first, store._connect() as second:
        assert first is second
    with pytest.raises(RuntimeError, match="half-way"), store._connect(write=True) as con:
        con.execute("UPDATE runs SET epoch = 7 WHERE id = ?", (run.id,))
        raise RuntimeError("half-way")
    assert store.get_run(run.id).epoch == 0  # rolled back
    store.update_run(run.id, epoch=3)  # and the connection still writes
    assert store.get_run(run.id).epoch == 3
    other: list[object] = []
    worker = threading.Thread(target=lambda: other.append(store._connection()))
    worker.start()
    worker.join()
    assert other and other[0] is not store._connection()  # sqlite3: one per thread


def test_a_kept_connection_sees_what_another_process_writes(store: WorkspaceStore) -> None:
    run = make_run(store)
    assert store.get_run(run.id).epoch == 0  # this thread's connection is open now
    child = run_child(
        "store = WorkspaceStore(sys.argv[1]); store.update_run(sys.argv[2], epoch=5)",
        str(store.root),
        run.id,
    )
    _, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert store.get_run(run.id).epoch == 5


def test_a_transaction_left_open_is_rolled_back_not_joined(store: WorkspaceStore) -> None:
    # an interruption between BEGIN and its end (Ctrl-C) leaves the kept connection in a
    # transaction; the next write must not join it and stay uncommitted
    run = make_run(store)
    con = store._connection()
    con.execute("BEGIN IMMEDIATE")
    con.execute("UPDATE runs SET epoch = 9 WHERE id = ?", (run.id,))
    store.update_run(run.id, epoch=4)
    other = WorkspaceStore(store.root)
    seen: list[int] = []
    worker = threading.Thread(target=lambda: seen.append(other.get_run(run.id).epoch))
    worker.start()
    worker.join()
    assert seen == [4]  # committed, and the stray 9 rolled back
    store.close()
    assert store.get_run(run.id).epoch == 4  # a new connection after close
