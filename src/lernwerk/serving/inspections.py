"""Inspection jobs: a batch uploaded to `POST /api/runs/{id}/inspect`, inspected in the
background, its report kept for the page (rows, thumbnails, report.html and report.csv).

Inspecting is prediction, not training: one background thread runs the jobs one after
another (PyTorch uses its own threads inside), so the server's request threads stay free.
Each job keeps its upload and its report in a temporary folder until it is one of the
`_KEPT` oldest ended jobs, or the server stops; a correction reads the item from there.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lernwerk.api import Run
from lernwerk.errors import Conflict, DataError, LernwerkError, NotFound
from lernwerk.evaluation.inspection import (
    InspectModel,
    ReviewRule,
    inspect_batch,
    open_source,
)

log = logging.getLogger("lernwerk.serving.inspections")

_KEPT = 20  # ended jobs kept, with their uploads and reports
_UNSAFE = re.compile(r"[^\w.\-]+")


@dataclass
class Inspection:
    """One inspection job and what is known of it so far."""

    id: str
    run_id: str
    dataset: str
    folder: Path  # the upload (`input`) and the report (`report/`)
    source: Path
    status: str = "queued"  # queued, running, finished, failed
    done: int = 0
    total: int | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    created_at: float = field(default_factory=time.time)

    @property
    def ended(self) -> bool:
        return self.status in ("finished", "failed")

    def to_dict(self) -> dict[str, Any]:
        base = f"/api/inspections/{self.id}"
        return {
            "inspection_id": self.id,
            "run_id": self.run_id,
            "dataset": self.dataset,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "error": self.error,
            "report_html": f"{base}/report.html" if self.status == "finished" else None,
            "report_csv": f"{base}/report.csv" if self.status == "finished" else None,
            "result": self.result,
        }


class InspectionManager:
    """Queue, run and keep inspection jobs (one at a time, on a background thread)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inspect-job")
        self._lock = threading.Lock()
        self._jobs: dict[str, Inspection] = {}
        self._root = Path(tempfile.mkdtemp(prefix="lernwerk-inspections-"))

    def submit(
        self, run: Run, model: InspectModel, rule: ReviewRule, files: list[tuple[str, bytes]]
    ) -> Inspection:
        """Store the upload, check that the run can read it, queue the job.

        Raises:
            DataError: no files, or files the run cannot read (not a zip or images, a CSV
                for an image run, an unreadable zip); nothing is kept then.
        """
        if not files:
            raise DataError("no files uploaded; send a zip or images as `files`", where="files")
        job_id = secrets.token_hex(6)
        folder = self._root / job_id
        folder.mkdir()
        try:
            source = _store_upload(folder, files)
            _, total = open_source(source, model)  # refuses a kind the run cannot take
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        job = Inspection(job_id, run.id, run.record.dataset, folder, source, total=total)
        with self._lock:
            self._jobs[job_id] = job
            self._forget_old()
        self._pool.submit(self._work, job, model, rule)
        return job

    def get(self, job_id: str) -> Inspection:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"inspection '{job_id}' not found", where="inspection_id")
        return job

    def report_file(self, job_id: str, name: str) -> Path:
        job = self.get(job_id)
        if job.status != "finished":
            raise Conflict(f"inspection '{job_id}' is {job.status}; no report yet", where=name)
        return job.folder / "report" / name

    def item(self, job_id: str, index: int) -> tuple[str, bytes]:
        """The name and bytes of an inspected item, as uploaded (for a correction).

        Raises:
            NotFound: no such inspection or item.
            Conflict: the inspection has not finished.
        """
        job = self.get(job_id)
        if job.status != "finished" or job.result is None:
            raise Conflict(f"inspection '{job_id}' is {job.status}", where="inspection_id")
        rows = job.result["rows"]
        if not 0 <= index < len(rows):
            raise NotFound(f"inspection '{job_id}' has no item {index}", where="index")
        name = rows[index]["item"]
        if job.source.suffix.lower() == ".zip":
            with zipfile.ZipFile(job.source) as archive:
                return name, archive.read(name)
        return name, (job.source / name).read_bytes()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self._root, ignore_errors=True)

    def _work(self, job: Inspection, model: InspectModel, rule: ReviewRule) -> None:
        job.status = "running"

        def progress(done: int, total: int | None) -> None:
            job.done, job.total = done, total

        try:
            result = inspect_batch(
                model,
                job.source,
                job.folder / "report",
                rule=rule,
                keep_rows=True,
                progress=progress,
                title=f"upload to run {job.run_id}",
            )
            summary = result.to_dict()
            summary.pop("files")
            job.result = summary
            job.status = "finished"
        except LernwerkError as exc:
            job.error, job.status = exc.to_dict(), "failed"
        except Exception as exc:  # a bug must not leave the job running for ever
            log.exception("inspection %s failed", job.id)
            job.error = {"error": type(exc).__name__, "message": str(exc), "where": None}
            job.status = "failed"

    def _forget_old(self) -> None:
        ended = sorted((j for j in self._jobs.values() if j.ended), key=lambda j: j.created_at)
        for job in ended[: max(0, len(ended) - _KEPT)]:
            self._jobs.pop(job.id, None)
            shutil.rmtree(job.folder, ignore_errors=True)


def _store_upload(folder: Path, files: list[tuple[str, bytes]]) -> Path:
    """One zip, CSV or `.ts` is inspected as it is; images go into a folder."""
    if len(files) == 1 and files[0][0].lower().endswith((".zip", ".csv", ".ts", ".ts.gz")):
        name = _safe(files[0][0]) or "upload"
        path = folder / name
        path.write_bytes(files[0][1])
        return path
    images = folder / "input"
    images.mkdir()
    seen: set[str] = set()
    for name, data in files:
        safe = _safe(name) or "upload"
        if safe in seen:
            raise DataError(f"two uploads are named {safe}", where="files")
        seen.add(safe)
        (images / safe).write_bytes(data)
    return images


def _safe(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return _UNSAFE.sub("_", base).lstrip(".")
