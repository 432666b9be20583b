"""A hot folder next to the line: every new file judged once, logged, handed on.

`Watcher` polls a folder, waits until a file has stopped growing, classifies it with a
run's trained model and stores the verdict, the file's "done" mark and its outgoing
messages in one transaction (`store.watch.WatchState`). The CSV log and the sinks
(webhook, MQTT; `api.delivery`) catch up from that store, so a watcher killed at any
moment and started again neither judges a file twice nor misses one that arrived
meanwhile: the log holds each verdict once, a receiver gets each at least once.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lernwerk.api.delivery import MqttSink, Sink, SinkWorker, WebhookSink, parse_mqtt, parse_webhook
from lernwerk.errors import Conflict, NotFound, SpecError
from lernwerk.store.watch import WatchState

if TYPE_CHECKING:
    from lernwerk.api.run import Run

LOG_COLUMNS = ("time", "file", "file_id", "verdict", "probability", "score", "reason")
UNREADABLE = "unreadable"
# Names a writer uses while a file is still on its way; the finished file is renamed.
_PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", "~")
_LOG_BATCH = 16  # verdicts judged between two appends to the log
_DRAIN_S = 2.0  # how long stopping waits for the outbox to empty


class Watcher:
    """Watches `folder` for run `run`; nothing is written until `start`.

    Raises (on construction):
        NotFound: the folder does not exist, or the run has no trained model.
        Conflict: the run is still training.
        SpecError: a bad webhook URL, MQTT target, interval, or log path.
    """

    def __init__(
        self,
        run: Run,
        folder: Path | str,
        *,
        log: Path | str | None = None,
        webhook: str | None = None,
        mqtt: str | None = None,
        interval: float = 0.5,
        settle: float = 1.0,
        recursive: bool = False,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        if webhook is not None:
            parse_webhook(webhook)
        if mqtt is not None:
            parse_mqtt(mqtt)
        if not interval > 0 or not settle >= 0:
            raise SpecError("--interval must be above 0 and --settle at least 0 seconds")
        folder = Path(folder)
        if not folder.exists():
            raise NotFound(f"folder {folder} does not exist", where="folder")
        if not folder.is_dir():
            raise SpecError(f"{folder} is not a folder; give the folder to watch", where="folder")
        if run.status in ("created", "running"):
            raise Conflict(
                f"run {run.id} is still training (status {run.status}); "
                "watch with it once it has finished",
                where="run",
            )
        if not (run.dir / "model.json").is_file():
            raise NotFound(f"run {run.id} has no trained model (status {run.status})", where="run")
        self.run, self.folder = run, folder.resolve()
        self.interval, self.settle, self.recursive = interval, settle, recursive
        self.notify = notify or (lambda text: None)
        key = hashlib.sha256(str(self.folder).encode()).hexdigest()[:10]
        self.state_dir = run.workspace.store.root / "watch" / f"{run.id}-{key}"
        self.log_path = Path(log).resolve() if log is not None else self.state_dir / "verdicts.csv"
        _check_log(self.log_path)
        self.run.predictor  # noqa: B018 (load the model now: a broken one fails before start)
        self._sink_targets = {"webhook": webhook, "mqtt": mqtt}
        self._client_id = f"lernwerk-watch-{run.id}-{key}-{os.getpid()}"  # no takeover
        self.sinks: list[Sink] = []
        self.workers: list[SinkWorker] = []
        self.state: WatchState | None = None
        self._lock: io.BufferedRandom | None = None
        self._seen: set[str] = set()
        self._last: dict[str, tuple[int, int]] = {}
        self._sinks_stop = threading.Event()
        self.judged = 0

    # -- start and stop -------------------------------------------------------------

    def start(self) -> None:
        """Connect the sinks, take the watch's lock, open its state and catch the log up.

        Raises:
            SpecError: the MQTT broker cannot be reached.
            Conflict: another watcher holds this run and folder.
        """
        if self._sink_targets["mqtt"]:
            sink = MqttSink(self._sink_targets["mqtt"], self._client_id)
            sink.start()  # before anything is written: an unreachable broker leaves nothing
            self.sinks.append(sink)
        if self._sink_targets["webhook"]:
            self.sinks.append(WebhookSink(self._sink_targets["webhook"]))
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._take_lock()
            self.state = WatchState(self.state_dir / "watch.db")
            self._seen = self.state.seen_keys()
            self._catch_up_log()
        except BaseException:
            self.close()
            raise
        for sink in self.sinks:
            worker = SinkWorker(sink, self.state, self._sinks_stop, self.notify)
            worker.start()
            self.workers.append(worker)

    def _take_lock(self) -> None:
        handle = open(self.state_dir / ".lock", "a+b")  # noqa: SIM115 (held while watching)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise Conflict(
                f"{self.folder} is already watched with run {self.run.id} by another "
                "lernwerk watch; stop that one first",
                where="folder",
            ) from None
        self._lock = handle

    def close(self) -> dict[str, Any]:
        """Stop: let the sinks deliver for a moment, then disconnect; what is undelivered
        waits in the workspace for the next start. Returns {judged, waiting}."""
        waiting: dict[str, int] = {}
        if self.state is not None and self.workers:
            deadline = time.monotonic() + _DRAIN_S
            while time.monotonic() < deadline and self._waiting():
                time.sleep(0.05)
        self._sinks_stop.set()
        for worker in self.workers:
            worker.wake.set()
            worker.join()
        for sink in self.sinks:
            sink.stop()
        if self.state is not None:
            waiting = self._waiting()
            self.state.close()
        if self._lock is not None:
            self._lock.close()
        self.workers, self.sinks, self.state, self._lock = [], [], None, None
        return {"judged": self.judged, "waiting": waiting}

    def _waiting(self) -> dict[str, int]:
        assert self.state is not None
        return {s: n for s, n in self.state.waiting().items() if n}

    # -- the loop -----------------------------------------------------------------------

    def serve(
        self, stop: threading.Event, on_verdict: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        """Poll until `stop` is set; `on_verdict` hears each verdict as it is stored."""
        while not stop.is_set():
            if not self.poll(stop, on_verdict):
                stop.wait(self.interval)

    def poll(
        self,
        stop: threading.Event | None = None,
        on_verdict: Callable[[dict[str, Any]], None] | None = None,
    ) -> int:
        """One pass over the folder: judge the files that are new and settled; returns how
        many were judged."""
        assert self.state is not None, "start() first"
        current = dict(self._scan())
        now = time.time()
        ready = []
        for rel, (size, mtime_ns) in current.items():
            key = _key(rel, size, mtime_ns)
            stable = self._last.get(rel) == (size, mtime_ns)
            if key not in self._seen and stable and now - mtime_ns / 1e9 >= self.settle:
                ready.append((mtime_ns, rel, size))
        self._last = current
        judged = 0
        for mtime_ns, rel, size in sorted(ready):
            if stop is not None and stop.is_set():
                break
            rows = self._judge(rel, size, mtime_ns)
            if rows is None:
                continue  # changed or gone while read: the next pass sees it again
            self.state.record(_key(rel, size, mtime_ns), rows[0]["file_id"], rows, self._sinks())
            self._seen.add(_key(rel, size, mtime_ns))
            for worker in self.workers:
                worker.wake.set()
            judged += 1
            self.judged += 1
            if on_verdict is not None:
                for row in rows:
                    on_verdict(row)
            if judged % _LOG_BATCH == 0:
                self._append_log()
        if judged:
            self._append_log()
        return judged

    def _sinks(self) -> list[str]:
        return [s.name for s in self.sinks]

    def _scan(self) -> list[tuple[str, tuple[int, int]]]:
        """(path relative to the folder, (size, mtime in ns)) of each candidate file."""
        found = []
        stack = [self.folder]
        while stack:
            here = stack.pop()
            try:
                entries = list(os.scandir(here))
            except OSError:
                continue  # a subfolder removed or unreadable meanwhile
            for entry in entries:
                name = entry.name
                if name.startswith(".") or name.endswith(_PARTIAL_SUFFIXES):
                    continue
                try:
                    if entry.is_dir():
                        if self.recursive:
                            stack.append(Path(entry.path))
                        continue
                    st = entry.stat()
                except OSError:
                    continue  # gone between listing and looking
                path = Path(entry.path)
                if path == self.log_path or self.state_dir in path.parents:
                    continue
                rel = path.relative_to(self.folder).as_posix()
                found.append((rel, (st.st_size, st.st_mtime_ns)))
        return found

    def _judge(self, rel: str, size: int, mtime_ns: int) -> list[dict[str, Any]] | None:
        """The file's verdicts (one per sample), or None if it changed while being read."""
        path = self.folder / rel
        file_id = hashlib.sha256(f"{self.folder}\0{rel}\0{size}\0{mtime_ns}".encode()).hexdigest()
        file_id = file_id[:16]
        base = {"time": "", "file": rel, "file_id": file_id, "run": self.run.id}
        try:
            results = self.run.predict_files([path])
        except Exception as exc:  # whatever the file holds, the watcher goes on
            results = None
            reason = str(exc).replace(f"{path}", rel) or type(exc).__name__
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
            return None
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        if results is None:
            return [{**base, "time": stamp, "verdict": UNREADABLE, "reason": reason}]
        rows, task = [], self.run.predictor.task
        for k, result in enumerate(results):
            label = str(result.pop("input")).replace(str(path), rel, 1)
            fid = file_id if len(results) == 1 else f"{file_id}:{k + 1}"
            rows.append(
                {**base, "time": stamp, "file": label, "file_id": fid, **task.verdict(result)}
            )
        return rows

    # -- the CSV log ------------------------------------------------------------------

    def _catch_up_log(self) -> None:
        """Start the log or bring it level with the stored verdicts: a line cut off by a
        kill is dropped and written again; lines written before the kill are not repeated."""
        assert self.state is not None
        key = str(self.log_path)
        known = self.state.log_seq(key)
        if known is None:  # a new log: it holds the verdicts from now on
            known = self.state.last_seq()
            self.state.set_log_seq(key, known)
        if not self.log_path.exists() or self.log_path.stat().st_size == 0:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            _append(self.log_path, _csv_lines([dict(zip(LOG_COLUMNS, LOG_COLUMNS, strict=True))]))
        else:
            last = _last_line(self.log_path)
            if last is not None and last.get("file_id"):
                seq = self.state.seq_of(last["file_id"])
                if seq is not None and seq > known:
                    self.state.set_log_seq(key, seq)
        self._append_log()

    def _append_log(self) -> None:
        assert self.state is not None
        key = str(self.log_path)
        rows = self.state.verdicts_after(self.state.log_seq(key) or 0)
        if not rows:
            return
        _append(self.log_path, _csv_lines([r for _, r in rows]))
        self.state.set_log_seq(key, rows[-1][0])


def _key(rel: str, size: int, mtime_ns: int) -> str:
    """A file's identity: its path and what it holds (size and time of the last write),
    so a file written again under the same name is a new part."""
    return f"{rel}\0{size}\0{mtime_ns}"


def _check_log(path: Path) -> None:
    """Refuse a log path that cannot take verdicts, before anything is written."""
    if path.is_dir():
        raise SpecError(f"--log {path} is a folder; give a CSV file name", where="log")
    if path.exists() and path.stat().st_size:
        with open(path, encoding="utf-8", errors="replace") as f:
            header = f.readline().strip()
        if header != ",".join(LOG_COLUMNS):
            raise SpecError(
                f"--log {path} exists and is not a lernwerk verdict log (its first line is not "
                f"{','.join(LOG_COLUMNS)}); give another file",
                where="log",
            )
    elif not path.parent.is_dir() and path.parent.exists():
        raise SpecError(f"--log {path}: {path.parent} is not a folder", where="log")


def _csv_lines(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in LOG_COLUMNS])
    return buffer.getvalue().encode()


def _append(path: Path, data: bytes) -> None:
    """Append in one write and make it durable before the store says it is logged."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _last_line(path: Path) -> dict[str, str] | None:
    """The log's last complete line as a row; a cut-off line after it is removed."""
    with open(path, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        start = max(0, size - 65536)
        f.seek(start)
        tail = f.read()
        if not tail.endswith(b"\n"):
            cut = tail.rfind(b"\n")
            if cut < 0 and start > 0:
                return None  # a line longer than the tail read: not one of ours
            f.truncate(start + cut + 1)
            tail = tail[: cut + 1]
    lines = tail.decode("utf-8", errors="replace").splitlines()
    if not lines:
        return None
    values = next(csv.reader([lines[-1]]))
    if values == list(LOG_COLUMNS) or len(values) != len(LOG_COLUMNS):
        return None
    return dict(zip(LOG_COLUMNS, values, strict=True))
