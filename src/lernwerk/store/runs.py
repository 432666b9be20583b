"""The run half of `WorkspaceStore`: runs, their epochs and events, and whose they are.

A run belongs to the process that created it and then to the one that trains it (pid,
host and the process's start ticks, which tell a reused pid apart); `reconcile` marks
the runs whose process has died as interrupted.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import sqlite3
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lernwerk.errors import Conflict, NotFound
from lernwerk.store.records import (
    _EVENT_JSON,
    _RUN_COLUMNS,
    _RUN_JSON,
    RUN_STATUSES,
    EventRecord,
    RunRecord,
    _decode,
    _dumps,
    _insert,
    _now,
)


def _proc_stat(pid: int) -> list[str] | None:
    # /proc/<pid>/stat fields from the third (state) on; the comm field before them may
    # itself hold spaces and parentheses, so split after the last ')'.
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    return text[text.rfind(")") + 1 :].split()


def process_start_ticks(pid: int) -> int | None:
    """Return the start time of process `pid` in clock ticks since boot, or None if unknown."""
    stat = _proc_stat(pid)
    try:
        return int(stat[19]) if stat else None  # field 22 of /proc/<pid>/stat
    except (IndexError, ValueError):
        return None


class RunRows:
    """Runs, epochs and events in the workspace's database (mixed into `WorkspaceStore`)."""

    root: Path

    def _connect(self, write: bool = False) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError  # WorkspaceStore's

    def _subdir(self, kind: str, name: str, create: bool) -> Path:
        raise NotImplementedError  # WorkspaceStore's

    # -- runs ----------------------------------------------------------------------

    def create_run(
        self,
        *,
        name: str,
        config: dict[str, Any],
        model: str,
        dataset: str,
        dataset_hash: str,
        device: str,
    ) -> RunRecord:
        """Create a run in status 'created' with a fresh 8-hex-digit id, owned by this process.

        The process (pid, host, start ticks) is recorded at once: a run whose process is
        killed before it starts training is found by `reconcile` like a running one.
        """
        pid = os.getpid()
        rec = RunRecord(
            id=secrets.token_hex(4),
            name=name,
            config=config,
            model=model,
            dataset=dataset,
            dataset_hash=dataset_hash,
            device=device,
            pid=pid,
            host=socket.gethostname(),
            proc_start=process_start_ticks(pid),
        )
        with self._connect(write=True) as con:
            _insert(con, "runs", rec, _RUN_JSON)
        return rec

    def add_runs(self, records: list[RunRecord]) -> None:
        """Store whole runs (already ended, e.g. baselines) in one transaction: all or none."""
        with self._connect(write=True) as con:
            for rec in records:
                _insert(con, "runs", rec, _RUN_JSON)

    def get_run(self, ref: str) -> RunRecord:
        """Find a run by exact id, unique id prefix (3+ characters) or unique name.

        Raises:
            NotFound: no run matches.
            Conflict: several runs match; the message lists them.
        """
        with self._connect() as con:
            row = con.execute("SELECT * FROM runs WHERE id = ?", (ref,)).fetchone()
            if row is not None:
                return _decode(RunRecord, row, _RUN_JSON)
            rows = con.execute(
                "SELECT * FROM runs WHERE name = ? OR (length(?) >= 3 AND substr(id, 1, ?) = ?)"
                " ORDER BY created_at DESC",
                (ref, ref, len(ref), ref),
            ).fetchall()
        if not rows:
            raise NotFound(f"run {ref!r} not found; `lernwerk runs list` shows the runs", "run")
        if len(rows) > 1:
            candidates = ", ".join(f"{r['id']} ({r['name']})" for r in rows[:10])
            raise Conflict(
                f"run {ref!r} is ambiguous: it matches {len(rows)} runs: {candidates}; "
                "use a longer id prefix",
                where="run",
            )
        return _decode(RunRecord, rows[0], _RUN_JSON)

    def list_runs(self, status: str | None = None) -> list[RunRecord]:
        """Return runs, newest first, optionally only those with `status`."""
        sql, args = "SELECT * FROM runs", ()
        if status is not None:
            sql, args = sql + " WHERE status = ?", (status,)
        with self._connect() as con:
            rows = con.execute(sql + " ORDER BY created_at DESC, rowid DESC", args).fetchall()
        return [_decode(RunRecord, r, _RUN_JSON) for r in rows]

    def update_run(self, run_id: str, **fields: Any) -> RunRecord:
        """Set the given columns of a run and return the updated record."""
        unknown = sorted(set(fields) - (set(_RUN_COLUMNS) - {"id"}))
        if unknown:
            raise ValueError(f"unknown run fields {unknown}; expected some of {_RUN_COLUMNS}")
        if "status" in fields and fields["status"] not in RUN_STATUSES:
            raise ValueError(f"run status {fields['status']!r} is not one of {RUN_STATUSES}")
        if fields:
            assignments = ", ".join(f"{k} = ?" for k in fields)
            values = [_dumps(v) if k in _RUN_JSON else v for k, v in fields.items()]
            with self._connect(write=True) as con:
                cur = con.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*values, run_id])
                if cur.rowcount == 0:
                    raise NotFound(f"run {run_id!r} not found", where="run")
        return self._get_exact(run_id)

    def _get_exact(self, run_id: str) -> RunRecord:
        with self._connect() as con:
            row = con.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFound(f"run {run_id!r} not found", where="run")
        return _decode(RunRecord, row, _RUN_JSON)

    def mark_running(self, run_id: str) -> None:
        """Mark a run as running in this process (pid, host, start ticks); clear its end."""
        pid = os.getpid()
        with self._connect(write=True) as con:
            cur = con.execute(
                "UPDATE runs SET status = 'running', pid = ?, host = ?, proc_start = ?,"
                " started_at = coalesce(started_at, ?), finished_at = NULL, error = NULL"
                " WHERE id = ?",
                (pid, socket.gethostname(), process_start_ticks(pid), _now(), run_id),
            )
            if cur.rowcount == 0:
                raise NotFound(f"run {run_id!r} not found", where="run")

    def delete_run(self, run_id: str) -> None:
        """Delete a run with its epochs, events and files; refuses a run still training."""
        rec = self._get_exact(run_id)
        if rec.status == "running" and self.is_alive(rec):
            raise Conflict(
                f"run {run_id} is still running (pid {rec.pid} on {rec.host}); stop it first",
                where="run",
            )
        with self._connect(write=True) as con:
            con.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self._subdir("runs", run_id, create=False), ignore_errors=True)

    # -- epochs and events ---------------------------------------------------------

    def put_epoch(self, run_id: str, epoch: int, metrics: dict[str, Any]) -> None:
        """Store the metrics of one epoch, replacing any earlier ones for that epoch."""
        with self._connect(write=True) as con:
            con.execute(
                "INSERT INTO epochs (run_id, epoch, metrics) VALUES (?, ?, ?)"
                " ON CONFLICT (run_id, epoch) DO UPDATE SET metrics = excluded.metrics",
                (run_id, epoch, _dumps(metrics)),
            )

    def epochs(self, run_id: str) -> list[dict[str, Any]]:
        """Return `[{"epoch": 1, **metrics}, ...]` in epoch order."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT epoch, metrics FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,)
            ).fetchall()
        return [{"epoch": r["epoch"], **json.loads(r["metrics"])} for r in rows]

    def delete_epochs_after(self, run_id: str, epoch: int) -> None:
        """Forget epochs after `epoch` (a resumed run replays them)."""
        with self._connect(write=True) as con:
            con.execute("DELETE FROM epochs WHERE run_id = ? AND epoch > ?", (run_id, epoch))

    def add_event(self, run_id: str, type: str, payload: dict[str, Any]) -> int:
        """Append an event to a run and return its id (increasing across the workspace)."""
        with self._connect(write=True) as con:
            cur = con.execute(
                "INSERT INTO events (run_id, ts, type, payload) VALUES (?, ?, ?, ?)",
                (run_id, _now(), type, _dumps(payload)),
            )
            return int(cur.lastrowid)

    def record_progress(
        self,
        run_id: str,
        *,
        events: list[tuple[str, dict[str, Any]]] = (),  # type: ignore[assignment]
        epochs: list[tuple[int, dict[str, Any]]] = (),  # type: ignore[assignment]
        run_fields: dict[str, Any] | None = None,
    ) -> None:
        """Append events, upsert epochs and update run columns in one transaction."""
        run_fields = run_fields or {}
        unknown = sorted(set(run_fields) - (set(_RUN_COLUMNS) - {"id"}))
        if unknown:
            raise ValueError(f"unknown run fields {unknown}; expected some of {_RUN_COLUMNS}")
        now = _now()
        with self._connect(write=True) as con:
            con.executemany(
                "INSERT INTO events (run_id, ts, type, payload) VALUES (?, ?, ?, ?)",
                [(run_id, now, t, _dumps(p)) for t, p in events],
            )
            con.executemany(
                "INSERT INTO epochs (run_id, epoch, metrics) VALUES (?, ?, ?)"
                " ON CONFLICT (run_id, epoch) DO UPDATE SET metrics = excluded.metrics",
                [(run_id, e, _dumps(m)) for e, m in epochs],
            )
            if run_fields:
                assignments = ", ".join(f"{k} = ?" for k in run_fields)
                values = [_dumps(v) if k in _RUN_JSON else v for k, v in run_fields.items()]
                con.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*values, run_id])

    def events(self, run_id: str, after_id: int = 0, limit: int | None = None) -> list[EventRecord]:
        """Return a run's events with id greater than `after_id`, oldest first."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT * FROM events WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?",
                (run_id, after_id, -1 if limit is None else limit),
            ).fetchall()
        return [_decode(EventRecord, r, _EVENT_JSON) for r in rows]

    # -- liveness ------------------------------------------------------------------

    def is_alive(self, rec: RunRecord) -> bool:
        """Whether the run's process still exists; a process on another host counts as alive."""
        if rec.pid is None:
            return False
        if rec.host != socket.gethostname():
            return True
        try:
            os.kill(rec.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # exists, owned by another user
        stat = _proc_stat(rec.pid)
        if stat and stat[0] in ("Z", "X"):
            return False
        ticks = process_start_ticks(rec.pid)
        return rec.proc_start is None or ticks is None or ticks == rec.proc_start

    def reconcile(self) -> list[str]:
        """Mark runs whose process on this host has died as 'interrupted'; return their ids.

        A run belongs to the process that created it (a CLI, a notebook, a server's training
        worker) and then to the one that trains it: both are recorded on the run. A
        `created` run without a process was made by an older lernwerk, which recorded it
        only when training began; one older than a minute is taken as orphaned.
        """
        cutoff = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="microseconds")
        with self._connect() as con:
            rows = con.execute(
                "SELECT * FROM runs WHERE status IN ('running', 'created')"
            ).fetchall()
        changed = []
        for rec in (_decode(RunRecord, r, _RUN_JSON) for r in rows):
            if rec.pid is None:
                if rec.status == "running" or rec.created_at >= cutoff:
                    continue
            elif rec.host != socket.gethostname() or self.is_alive(rec):
                continue
            now = _now()
            with self._connect(write=True) as con:
                cur = con.execute(
                    "UPDATE runs SET status = 'interrupted', finished_at = ?"
                    " WHERE id = ? AND status = ?",
                    (now, rec.id, rec.status),
                )
                if cur.rowcount:  # not finished meanwhile
                    con.execute(
                        "INSERT INTO events (run_id, ts, type, payload) VALUES (?, ?, ?, ?)",
                        (
                            rec.id,
                            now,
                            "RunInterrupted",
                            _dumps(
                                {
                                    "pid": rec.pid,
                                    "host": rec.host,
                                    "reason": "the training process is gone",
                                }
                            ),
                        ),
                    )
                    changed.append(rec.id)
        return changed
