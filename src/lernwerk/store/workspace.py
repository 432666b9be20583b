"""The workspace: one directory holding a SQLite database (`lernwerk.db`) and files.

Every method opens a short-lived connection, so one store is safe to share between
threads, and several processes (the server, training workers) can use the same workspace
at once: the database runs in WAL mode, waits up to 30 s for a lock, and writes take the
write lock up front (`BEGIN IMMEDIATE`). The SQL lives in the store: datasets and the
schema here, runs in `runs`, samples in `samples`, rows in and out in `records`;
`_connect` is the one place that knows the database is a local file.
"""

from __future__ import annotations

import fcntl
import os
import random
import re
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lernwerk.errors import Conflict, NotFound, SpecError
from lernwerk.store.files import default_workspace_path
from lernwerk.store.records import (  # noqa: F401  (public here too)
    _DATASET_JSON,
    _EVENT_JSON,
    _RUN_COLUMNS,
    _RUN_JSON,
    RUN_STATUSES,
    DatasetRecord,
    EventRecord,
    RunRecord,
    _decode,
    _dumps,
    _insert,
    _now,
)
from lernwerk.store.runs import RunRows, process_start_ticks  # noqa: F401  (public here too)
from lernwerk.store.samples import SampleRows

SCHEMA_VERSION = 4
_MIGRATE_TIMEOUT_S = 30.0  # as long as a write waits for the lock (busy_timeout)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    name TEXT PRIMARY KEY, kind TEXT NOT NULL, task TEXT NOT NULL, source TEXT NOT NULL,
    content_hash TEXT NOT NULL, num_samples INTEGER NOT NULL, classes TEXT NOT NULL,
    input_shape TEXT NOT NULL, created_at TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', feature_names TEXT NOT NULL DEFAULT '[]',
    meta TEXT NOT NULL DEFAULT '{}', updated_at TEXT,
    data_file TEXT NOT NULL DEFAULT '', slots INTEGER NOT NULL DEFAULT 0,
    next_id INTEGER NOT NULL DEFAULT 0, target_shape TEXT NOT NULL DEFAULT '[]',
    last_edit TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
    started_at TEXT, finished_at TEXT, config TEXT NOT NULL, model TEXT NOT NULL,
    dataset TEXT NOT NULL, dataset_hash TEXT NOT NULL, device TEXT NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 0, best_metric REAL, best_epoch INTEGER,
    metrics TEXT NOT NULL DEFAULT '{}', seconds REAL NOT NULL DEFAULT 0, error TEXT,
    pid INTEGER, host TEXT, proc_start INTEGER
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
    metrics TEXT NOT NULL, PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    ts TEXT NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, id);
CREATE TABLE IF NOT EXISTS samples (
    dataset TEXT NOT NULL, id INTEGER NOT NULL, slot INTEGER NOT NULL,
    label INTEGER, target BLOB, test INTEGER NOT NULL DEFAULT 0,
    checked INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (dataset, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_by_slot ON samples (dataset, slot);
CREATE INDEX IF NOT EXISTS samples_by_label ON samples (dataset, label, slot);
"""

# Steps from one schema version to the next, for workspaces made by an older lernwerk.
_MIGRATIONS: dict[int, list[str]] = {
    2: [
        "ALTER TABLE datasets ADD COLUMN description TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE datasets ADD COLUMN feature_names TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE datasets ADD COLUMN meta TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE datasets ADD COLUMN updated_at TEXT",
    ],
    # samples one by one: a file of fixed-size records and a row each (store/samples.py);
    # the datasets' safetensors files move over in `_migrate_dataset_files`
    3: [
        "ALTER TABLE datasets ADD COLUMN data_file TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE datasets ADD COLUMN slots INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE datasets ADD COLUMN next_id INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE datasets ADD COLUMN target_shape TEXT NOT NULL DEFAULT '[]'",
    ],
    # fixing what the model got wrong: the last edit to undo, samples marked as checked
    4: [
        "ALTER TABLE datasets ADD COLUMN last_edit TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE samples ADD COLUMN checked INTEGER NOT NULL DEFAULT 0",
    ],
}

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
TMP_DIR = "tmp"  # staging and uploads: cleaned when a workspace opens, unless in use
_DATASET_FILES = ("data.safetensors", ".lock")  # what a dataset folder may hold, besides
_SAMPLE_FILES = re.compile(r"samples-[0-9a-f]+\.bin")  # its sample files (store/samples.py)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _try_lock(path: Path) -> bool:
    """Whether nobody holds the lock on `path` (taken and let go again at once)."""
    try:
        with open(path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class WorkspaceStore(SampleRows, RunRows):
    """The workspace directory: datasets, runs, per-epoch metrics and events.

    Args:
        root: The workspace directory; None uses `default_workspace_path()`.
    """

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root if root is not None else default_workspace_path()).absolute()
        self.db_path = self.root / "lernwerk.db"
        self._local = threading.local()  # a connection per thread (sqlite3's rule)
        try:
            for sub in ("runs", "datasets", TMP_DIR):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise SpecError(
                f"workspace {self.root} is not a directory; give a directory (it is created "
                "when missing)",
                where="workspace",
            ) from None
        except PermissionError:
            raise SpecError(
                f"workspace {self.root}: permission denied; give a directory you may write",
                where="workspace",
            ) from None
        try:
            self._migrate()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
                raise
            raise SpecError(
                f"{self.db_path} is not a readable lernwerk database ({exc}); move it away "
                "to start the workspace afresh",
                where="workspace",
            ) from None
        self._clean_tmp()
        self._clean_orphan_datasets()

    def __repr__(self) -> str:
        return f"WorkspaceStore({str(self.root)!r})"

    # -- database ------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on its first use (~0.3 ms: a fit makes ~40
        calls). Not carried into a child process: SQLite forbids that."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            con = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
            try:
                con.row_factory = sqlite3.Row
                con.execute("PRAGMA busy_timeout = 30000")
                con.execute("PRAGMA foreign_keys = ON")
                con.execute("PRAGMA synchronous = NORMAL")  # safe in WAL; fsyncs at checkpoints
            except BaseException:
                con.close()
                raise
            local.con, local.pid = con, os.getpid()
        return local.con

    def close(self) -> None:
        """Close this thread's connection now (it is closed when the store is collected,
        too); the next call opens another."""
        con, self._local.con, self._local.pid = getattr(self._local, "con", None), None, None
        if con is not None:
            con.close()

    @contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        con = self._connection()
        if not write:
            yield con
            return
        local = self._local
        depth = getattr(local, "depth", 0)
        if depth:  # a write inside a write of this thread: part of the outer transaction
            yield con
            return
        if con.in_transaction:  # left open by an interruption between BEGIN and its end
            con.execute("ROLLBACK")
        local.depth = 1
        try:
            con.execute("BEGIN IMMEDIATE")
            yield con
            con.execute("COMMIT")
        except BaseException:
            try:
                if con.in_transaction:
                    con.execute("ROLLBACK")
            except sqlite3.Error:
                self.close()  # a fresh one next time
            raise
        finally:
            local.depth = 0

    def _migrate(self) -> None:
        # Processes that open a fresh workspace at once race to switch it to WAL and to
        # create the schema. SQLite answers the journal-mode switch with "database is
        # locked" at once, without the busy handler, while another connection holds a
        # lock; so both steps are retried with a short backoff, and both are idempotent.
        deadline = time.monotonic() + _MIGRATE_TIMEOUT_S
        delay = 0.005
        while True:
            try:
                self._switch_to_wal()
                self._create_schema()
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay * (1 + random.random()))  # jitter: racers do not retry in step
            delay = min(2 * delay, 0.25)

    def _switch_to_wal(self) -> None:
        with self._connect() as con:
            if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                con.execute("PRAGMA journal_mode = WAL")

    def _create_schema(self) -> None:
        moved: list[Path] = []
        with self._connect(write=True) as con:
            # read inside the write transaction: another process may have migrated meanwhile
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise Conflict(
                    f"workspace schema version {version} is newer than this lernwerk "
                    f"supports ({SCHEMA_VERSION}); upgrade lernwerk",
                    where=str(self.db_path),
                )
            if version == SCHEMA_VERSION:
                return
            if version > 0:  # an older workspace: step it up, one version at a time
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in _MIGRATIONS.get(step, []):
                        if statement.split()[2] in tables:  # else _SCHEMA makes it whole
                            con.execute(statement)
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)  # CREATE … IF NOT EXISTS: safe to repeat
            if 0 < version < 3:
                moved = self._migrate_dataset_files(con)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        for path in moved:  # only once the new form is committed
            path.unlink(missing_ok=True)

    def _migrate_dataset_files(self, con: sqlite3.Connection) -> list[Path]:
        """Version 2 kept each dataset as one safetensors file, rewritten on every edit;
        write each as a sample file and rows, and return the old files to remove."""
        import numpy as np
        from safetensors.numpy import load_file

        old_files = []
        for row in con.execute("SELECT * FROM datasets").fetchall():
            rec = _decode(DatasetRecord, row, _DATASET_JSON)
            folder = self._subdir("datasets", rec.name, create=True)
            old = folder / "data.safetensors"
            if not old.is_file():
                continue
            tensors = load_file(str(old))
            x = tensors["x"]
            n = len(x)
            ids = tensors["ids"] if "ids" in tensors else np.arange(n, dtype=np.int64)
            test = np.zeros(n, dtype=np.bool_)
            if "is_test" in tensors:
                test = tensors["is_test"].astype(np.bool_)
            elif "test_index" in tensors:
                test[tensors["test_index"]] = True
            y = tensors["y"]
            self._write_samples(con, rec, folder, x, ids, y, test)
            old_files.append(old)
        return old_files

    # -- directories ---------------------------------------------------------------

    def check_name(self, kind: str, name: str) -> None:
        """Refuse a dataset, run or model name that is not a safe folder name everywhere.

        Raises:
            SpecError: the name has other characters, or is a reserved Windows device name.
        """
        what = kind[:-1]
        if not _SAFE_NAME.fullmatch(name):
            raise SpecError(
                f"{what} name {name!r} is not allowed; use letters, digits, '.', '_' "
                "and '-', starting with a letter or digit",
                where="name",
            )
        from lernwerk.config import reserved_name_problem  # pydantic: loaded when needed

        problem = reserved_name_problem(name)
        if problem:
            raise SpecError(f"{what} name {name!r} is not allowed: {problem}", where="name")

    def _subdir(self, kind: str, name: str, create: bool) -> Path:
        self.check_name(kind, name)
        path = self.root / kind / name
        if create:
            path.mkdir(parents=True, exist_ok=True)
        return path

    def run_dir(self, run_id: str) -> Path:
        """Return (and create) the directory for a run's files."""
        return self._subdir("runs", run_id, create=True)

    def dataset_dir(self, name: str) -> Path:
        """Return the directory of a dataset's files (not created: `write_dataset` does)."""
        return self._subdir("datasets", name, create=False)

    @contextmanager
    def staging(self, prefix: str = "stage") -> Iterator[Path]:
        """A fresh, empty folder under the workspace's `tmp/`, removed afterwards.

        Files are written here first and then moved into place in one rename. A lock held
        while in use tells `_clean_tmp` (in any process) to leave it alone; what a killed
        process left is removed the next time the workspace opens.
        """
        tmp = self.root / TMP_DIR
        tmp.mkdir(exist_ok=True)
        with self._tmp_lock():  # no cleaner between creating the lock and taking it
            entry = f"{prefix}-{secrets.token_hex(6)}"
            handle = open(tmp / f"{entry}.lock", "a+b")  # noqa: SIM115 (held until the end)
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            folder = tmp / entry
            folder.mkdir()
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            (tmp / f"{entry}.lock").unlink(missing_ok=True)
            handle.close()

    @contextmanager
    def _tmp_lock(self) -> Iterator[None]:
        with open(self.root / TMP_DIR / ".lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _clean_tmp(self) -> None:
        """Remove what killed processes left in `tmp/`; entries still in use stay."""
        tmp = self.root / TMP_DIR
        try:
            with self._tmp_lock():
                for path in tmp.iterdir():
                    if path.name == ".lock":
                        continue
                    if path.suffix == ".lock":
                        if _try_lock(path):  # its process is gone
                            _remove(tmp / path.stem)
                            path.unlink(missing_ok=True)
                    elif not (tmp / f"{path.name}.lock").exists():
                        _remove(path)  # a lock is made before its entry: this one is left over
        except OSError:
            pass  # a read-only workspace: nothing to clean, and reading still works

    def _clean_orphan_datasets(self) -> None:
        """Remove dataset folders that have no record: a process killed between moving
        the files into place and committing the record, or an older lernwerk's leftovers."""
        folder = self.root / "datasets"
        try:
            with self._connect(write=True) as con:  # no install is half-way meanwhile
                known = {r[0] for r in con.execute("SELECT name FROM datasets")}
                for path in folder.iterdir():
                    if path.name in known or not path.is_dir():
                        continue
                    if all(
                        p.name in _DATASET_FILES or _SAMPLE_FILES.fullmatch(p.name)
                        for p in path.iterdir()
                    ):
                        shutil.rmtree(path, ignore_errors=True)
        except (OSError, sqlite3.OperationalError):
            pass  # read-only, or busy: the next open tries again

    def model_file(self, name: str) -> Path:
        """Return the path of a saved model spec, `models/NAME.yaml` (the folder is created)."""
        path = self._subdir("models", name, create=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.parent / f"{name}.yaml"

    def model_names(self) -> list[str]:
        """The names of the model specs saved in this workspace, sorted."""
        folder = self.root / "models"
        if not folder.is_dir():
            return []
        names = (p.name.removesuffix(".yaml") for p in folder.glob("*.yaml"))
        return sorted(n for n in names if _SAFE_NAME.fullmatch(n))

    # -- datasets ------------------------------------------------------------------

    def put_dataset(self, rec: DatasetRecord) -> None:
        """Insert a dataset record, replacing one of the same name."""
        self.check_name("datasets", rec.name)
        with self._connect(write=True) as con:
            _insert(con, "datasets", rec, _DATASET_JSON, replace=True)

    def get_dataset(self, name: str) -> DatasetRecord:
        """Return the dataset called `name`; NotFound lists the ones that exist."""
        with self._connect() as con:
            row = con.execute("SELECT * FROM datasets WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = ", ".join(d.name for d in self.list_datasets()) or "none yet"
            raise NotFound(
                f"dataset {name!r} not found in workspace {self.root}; datasets: {known}",
                where="dataset",
            )
        return _decode(DatasetRecord, row, _DATASET_JSON)

    def has_dataset(self, name: str) -> bool:
        with self._connect() as con:
            row = con.execute("SELECT 1 FROM datasets WHERE name = ?", (name,)).fetchone()
        return row is not None

    @contextmanager
    def dataset_lock(self, name: str) -> Iterator[None]:
        """Hold the dataset's lock: one change at a time (load, edit, store) across processes.

        Raises:
            NotFound: no such dataset (and no folder is made for it).
        """
        self.get_dataset(name)
        lock_path = self._subdir("datasets", name, create=True) / ".lock"
        with open(lock_path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def list_datasets(self) -> list[DatasetRecord]:
        """Return all datasets, sorted by name."""
        with self._connect() as con:
            rows = con.execute("SELECT * FROM datasets ORDER BY name").fetchall()
        return [_decode(DatasetRecord, r, _DATASET_JSON) for r in rows]

    def delete_dataset(self, name: str) -> None:
        """Delete a dataset's record, its sample rows and its files."""
        self.get_dataset(name)
        with self.dataset_lock(name), self._connect(write=True) as con:  # no add meanwhile
            con.execute("DELETE FROM samples WHERE dataset = ?", (name,))
            con.execute("DELETE FROM datasets WHERE name = ?", (name,))
        shutil.rmtree(self._subdir("datasets", name, create=False), ignore_errors=True)
