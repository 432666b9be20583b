"""A hot-folder watch's memory: the files it has judged, its verdicts and its outbox.

One SQLite file per watch (a run and a folder), `watch.db` in the watch's folder under the
workspace's `watch/`. A verdict, the mark that its file is done and its outgoing messages
are committed in one transaction, so a watcher killed at any moment neither judges a file
twice nor loses a message; the CSV log and the receivers catch up from here on restart.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, file_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS verdicts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, file_id TEXT NOT NULL UNIQUE, row TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sink TEXT NOT NULL, payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_sink ON outbox (sink, id);
CREATE TABLE IF NOT EXISTS logs (path TEXT PRIMARY KEY, seq INTEGER NOT NULL)
"""


class WatchState:
    """The SQLite file of one watch; safe to share between threads (a connection each)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        with self._write() as con:
            for statement in _SCHEMA.split(";"):
                con.execute(statement)

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = FULL")  # a committed verdict survives power loss
            self._local.con = con
        return con

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        con = self._con()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection."""
        con, self._local.con = getattr(self._local, "con", None), None
        if con is not None:
            con.close()

    # -- files and verdicts ---------------------------------------------------------

    def seen_keys(self) -> set[str]:
        """The keys of every file judged so far."""
        return {r[0] for r in self._con().execute("SELECT key FROM seen")}

    def record(self, key: str, file_id: str, rows: list[dict[str, Any]], sinks: list[str]) -> None:
        """Mark a file judged, store its verdicts (one per sample) and queue a message per
        verdict for each sink, all in one transaction."""
        with self._write() as con:
            con.execute("INSERT INTO seen (key, file_id) VALUES (?, ?)", (key, file_id))
            for row in rows:
                text = json.dumps(row, allow_nan=False)
                con.execute(
                    "INSERT INTO verdicts (file_id, row) VALUES (?, ?)", (row["file_id"], text)
                )
                con.executemany(
                    "INSERT INTO outbox (sink, payload) VALUES (?, ?)", [(s, text) for s in sinks]
                )

    def last_seq(self) -> int:
        """The number of the newest verdict (0 when none)."""
        return self._con().execute("SELECT COALESCE(MAX(seq), 0) FROM verdicts").fetchone()[0]

    def seq_of(self, file_id: str) -> int | None:
        """The number of the verdict with this id, if stored."""
        row = self._con().execute("SELECT seq FROM verdicts WHERE file_id = ?", (file_id,))
        found = row.fetchone()
        return None if found is None else found[0]

    def verdicts_after(self, seq: int) -> list[tuple[int, dict[str, Any]]]:
        """The verdicts numbered above `seq`, oldest first."""
        rows = self._con().execute(
            "SELECT seq, row FROM verdicts WHERE seq > ? ORDER BY seq", (seq,)
        )
        return [(s, json.loads(r)) for s, r in rows]

    # -- the CSV logs -----------------------------------------------------------------

    def log_seq(self, path: str) -> int | None:
        """The newest verdict known to be in the log at `path`; None for a log not yet kept."""
        row = self._con().execute("SELECT seq FROM logs WHERE path = ?", (path,)).fetchone()
        return None if row is None else row[0]

    def set_log_seq(self, path: str, seq: int) -> None:
        with self._write() as con:
            con.execute(
                "INSERT INTO logs (path, seq) VALUES (?, ?) "
                "ON CONFLICT (path) DO UPDATE SET seq = excluded.seq",
                (path, seq),
            )

    # -- the outbox -------------------------------------------------------------------

    def outbox(self, sink: str, limit: int = 100) -> list[tuple[int, str]]:
        """Up to `limit` undelivered messages for a sink, oldest first: (id, JSON payload)."""
        rows = self._con().execute(
            "SELECT id, payload FROM outbox WHERE sink = ? ORDER BY id LIMIT ?", (sink, limit)
        )
        return [(i, p) for i, p in rows]

    def waiting(self) -> dict[str, int]:
        """How many messages wait, per sink."""
        rows = self._con().execute("SELECT sink, COUNT(*) FROM outbox GROUP BY sink")
        return {s: n for s, n in rows}

    def delivered(self, ids: list[int]) -> None:
        """Remove delivered messages from the outbox."""
        if not ids:
            return
        with self._write() as con:
            con.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])
