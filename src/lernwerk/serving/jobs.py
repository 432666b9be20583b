"""Training jobs: every run trains in a worker process, never in one of the server's threads.

The `JobManager` keeps a queue and at most `max_concurrent` trainings at once. The queue is
fair between owners (a workshop's participants): the next job is the oldest one whose
owner has nothing running; only when every waiting job's owner already trains does the
oldest of them start. With one owner (a workbench on a laptop) that is first in, first out. A
worker is a Python process (multiprocessing's "spawn") that calls `Workspace(path).fit(…)`
for each job it is sent; the trainer writes progress to the store, which is where the
server reads it for the page. Server and worker talk through two pipes:

- down: jobs, "stop" (sets the running trainer's `StopSignal`: it ends after its current
  step, with its weights) and None (exit). The pipe stays open while the worker lives;
  when it closes, the worker exits at once: the server is gone, and `reconcile` will
  mark the run `interrupted`. A worker that has not ended `stop_timeout_s` after a stop
  is terminated. (Not a multiprocessing Event for the stop: setting one that a dead
  process was waiting on hangs for ever.)
- up: "ready" once loaded, the run id as soon as the run starts, then how the job ended.

While a training slot is free, one started worker is kept waiting (`prestart`), so that
a run starts without waiting for Python and PyTorch to load: the last worker whose job
ended well, or a fresh one (a process trains at most `_JOBS_PER_WORKER` runs; one that
failed unexpectedly is not reused).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import secrets
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from lernwerk.errors import Conflict, LernwerkError, NotFound

log = logging.getLogger("lernwerk.serving.jobs")

_MAX_KEPT_JOBS = 500  # ended jobs remembered for /api/jobs/{id}
_KILL_AFTER_TERM_S = 3.0
_STANDBY_RETRY_S = 30.0  # after a worker died while starting
_STOP = "stop"  # the message that stops a worker's current job
_JOBS_PER_WORKER = 20  # a process trains at most this many runs, then a fresh one starts


@dataclass(frozen=True)
class JobRequest:
    """What to train: validated by the server before it becomes a job."""

    dataset: str
    model: dict[str, Any]  # a resolved ModelSpec as a dict: the worker reads no files
    train: dict[str, Any]  # a TrainConfig as a dict
    name: str | None = None
    owner: str | None = None  # a workshop participant (None: the server's own workspace)
    workspace: str | None = None  # where it trains (None: the manager's workspace)


@dataclass
class Job:
    """One training job and what is known of it so far."""

    id: str
    request: JobRequest
    status: str = "queued"  # queued, running, then the run's end: finished, stopped, …
    run_id: str | None = None
    error: dict[str, Any] | None = None
    created_at: float = field(default_factory=time.time)
    stop_requested: bool = False

    @property
    def ended(self) -> bool:
        return self.status not in ("queued", "running")

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.id,
            "status": self.status,
            "run_id": self.run_id,
            "name": self.request.name,
            "dataset": self.request.dataset,
            "model": self.request.model.get("name", "custom"),
            "error": self.error,
        }


# -- the worker process ---------------------------------------------------------------------


def _worker_main(jobs: Connection, results: Connection) -> None:
    """A training process: load lernwerk, then train the jobs it is sent, one at a time,
    reporting each; it exits when sent None, or at once when the server is gone."""
    # The Ctrl-C a terminal sends to the whole process group is the server's: it stops
    # the trainings itself, and they keep what they learned.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from lernwerk import Listener, TrainConfig, Workspace

    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    threading.Thread(target=_read_messages, args=(jobs, inbox), daemon=True).start()
    _warm_up()
    results.send(("ready", os.getpid()))

    class ReportRunId(Listener):
        def on_run_start(self, event: Any) -> None:
            results.send(("run", event.run_id))

    while (message := inbox.get()) is not None:
        workspace_path, request, stop_signal = message
        try:
            run = Workspace(workspace_path).fit(
                request.dataset,
                request.model,
                name=request.name,
                config=TrainConfig.from_dict(request.train),
                listeners=[ReportRunId()],
                stop_signal=stop_signal,
            )
            results.send(("done", {"run_id": run.id, "status": run.status}))
        except LernwerkError as exc:  # RunFailed included: the run is stored as failed
            results.send(("failed", exc.to_dict()))
        except BaseException as exc:  # tell the server, then end: this process is suspect
            error = {"error": type(exc).__name__, "message": str(exc), "where": None}
            results.send(("failed", {**error, "fatal": True}))
            raise


def _warm_up() -> None:
    """Load now what a first training loads on first use: creating an optimizer pulls in
    torch._dynamo and sympy, seconds that a run would otherwise wait."""
    import torch

    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])


def _read_messages(jobs: Connection, inbox: queue.SimpleQueue[Any]) -> None:
    """Receive the server's messages: a job (passed on with a fresh StopSignal), "stop"
    (sets the signal of the job last received), None (exit after the current job). Ends
    this process at once when the server's end of the pipe closes: the server died, or
    let this worker go."""
    from lernwerk import StopSignal

    current = StopSignal()
    try:
        while True:
            message = jobs.recv()
            if message == _STOP:
                current.set("stopped from the web page")
            elif message is None:
                inbox.put(None)
            else:
                current = StopSignal()
                inbox.put((*message, current))
    except (EOFError, OSError):
        os._exit(3)


# -- the manager, in the server -------------------------------------------------------------


@dataclass
class _Worker:
    process: Any  # multiprocessing.Process (spawn context)
    jobs: Connection  # our sending end; closing it ends the worker
    results: Connection  # our receiving end
    job: Job | None = None
    jobs_done: int = 0  # jobs sent to this process so far
    reusable: bool = True  # False after an unexpected error: the process then ends
    ready: bool = False  # it has loaded lernwerk and waits for jobs
    stop_at: float | None = None
    terminated_at: float | None = None


class JobManager:
    """Queues training jobs and runs them in worker processes.

    Args:
        workspace_path: The workspace the workers train in.
        max_concurrent: Workers training at once; more jobs wait, first in first out.
        stop_timeout_s: How long a stopped worker may take before it is terminated.
        prestart: Keep one started worker waiting while a slot is free.
        on_worker_lost: Called (in the manager's thread) when a worker died without
            reporting, so that the workspace marks its run interrupted.
    """

    def __init__(
        self,
        workspace_path: Path,
        *,
        max_concurrent: int = 1,
        stop_timeout_s: float = 10.0,
        prestart: bool = True,
        on_worker_lost: Any = None,
        poll_interval_s: float = 0.1,
    ) -> None:
        self.workspace_path = Path(workspace_path)
        self.max_concurrent = max_concurrent
        self.stop_timeout_s = stop_timeout_s
        self.prestart = prestart
        self.on_worker_lost = on_worker_lost
        self.poll_interval_s = poll_interval_s
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._queue: deque[Job] = deque()
        self._jobs: dict[str, Job] = {}
        self._running: list[_Worker] = []
        self._standby: _Worker | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._standby_retry_at = 0.0

    # -- the server's side ------------------------------------------------------------------

    def start(self) -> None:
        """Start the manager's thread (it starts the workers)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="lernwerk-jobs", daemon=True)
            self._thread.start()

    def submit(self, request: JobRequest) -> Job:
        """Queue a job; it starts as soon as a slot is free."""
        job = Job(id=secrets.token_hex(4), request=request)
        with self._lock:
            if self._closing:
                raise Conflict("the server is shutting down; no new trainings", where="run")
            self._jobs[job.id] = job
            self._queue.append(job)
            self._forget_old_jobs()
        self._wake.set()
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"job {job_id!r} not found", where="job")
        return job

    def is_job(self, ref: str) -> bool:
        """Whether `ref` is the id of a job this server knows."""
        with self._lock:
            return ref in self._jobs

    def jobs(self) -> list[Job]:
        """Every job this server knows, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created_at, reverse=True)

    def job_for_run(self, run_id: str) -> Job | None:
        """The active (queued or running) job of a run, if this server runs it."""
        with self._lock:
            for job in self._jobs.values():
                if job.run_id == run_id and not job.ended:
                    return job
        return None

    def queue_position(self, job: Job) -> int | None:
        """1 for the next job to start; None when not queued."""
        with self._lock:
            for i, queued in enumerate(self._fair_order()):
                if queued is job:
                    return i + 1
        return None

    def _fair_order(self) -> list[Job]:
        """The queued jobs in the order they will start (hold the lock): each time, the
        oldest job whose owner has nothing running or picked before it, else the oldest."""
        busy = {w.job.request.owner for w in self._running if w.job is not None}
        waiting, order = list(self._queue), []
        while waiting:
            pick = next((j for j in waiting if j.request.owner not in busy), waiting[0])
            waiting.remove(pick)
            order.append(pick)
            busy.add(pick.request.owner)
        return order

    def has_free_slot(self) -> bool:
        """Whether a job submitted now would start without waiting for another."""
        with self._lock:
            return len(self._running) < self.max_concurrent

    def stop(self, ref: str) -> Job | None:
        """Stop the job with this job id or run id: a queued job is dropped, a running one
        stops after its current step (and is killed if it takes too long). Returns None
        when no active job of this server matches."""
        with self._lock:
            job = self._jobs.get(ref)
            if job is None or job.ended:
                job = next(
                    (j for j in self._jobs.values() if j.run_id == ref and not j.ended), None
                )
            if job is None or job.ended:
                return None
            job.stop_requested = True
            if job.status == "queued":
                self._queue.remove(job)
                job.status = "stopped"
                return job
            for worker in self._running:
                if worker.job is job and worker.stop_at is None:
                    _send(worker, _STOP)
                    worker.stop_at = time.monotonic()
        self._wake.set()
        return job

    def shutdown(self) -> None:
        """Stop every training (keeping what it learned), drop queued jobs, end workers."""
        with self._lock:
            self._closing = True
            for job in self._queue:
                job.status, job.stop_requested = "stopped", True
            self._queue.clear()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            workers = list(self._running)
            standby, self._standby = self._standby, None
        for worker in workers:
            _send(worker, _STOP)
            _send(worker, None)  # and then end, instead of waiting for another job
        if standby is not None:
            _send(standby, None)
            standby.process.join(timeout=2)
            _end(standby)
        deadline = time.monotonic() + self.stop_timeout_s
        for worker in workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            self._collect(worker)
            _end(worker)

    # -- the manager's thread ---------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.poll_interval_s)
            self._wake.clear()
            if self._closing:
                return
            try:
                self._tick()
            except Exception:  # the loop must go on; a bug here must not stop all training
                log.exception("job manager: unexpected error")

    def _tick(self) -> None:
        lost: list[tuple[Job, dict[str, Any]]] = []
        with self._lock:
            for worker in list(self._running):
                if (gone := self._check(worker)) is not None:
                    lost.append(gone)
            while self._queue and len(self._running) < self.max_concurrent:
                job = self._fair_order()[0]
                self._queue.remove(job)
                self._dispatch(job)
            free = len(self._running) < self.max_concurrent
            if self.prestart and free and not self._closing:
                self._keep_standby()
        if lost:
            if self.on_worker_lost is not None:
                self.on_worker_lost()  # first: the run is interrupted before its job says so
            with self._lock:
                for job, error in lost:
                    job.status, job.error = "interrupted", error

    def _retire(self, worker: _Worker) -> None:
        """A worker whose job ended: keep it as the waiting worker, or let it go."""
        reusable = (
            worker.reusable
            and worker.terminated_at is None
            and worker.jobs_done < _JOBS_PER_WORKER
            and self.prestart
            and not self._closing
        )
        standby = self._standby
        if standby is not None:
            self._collect(standby)
        if reusable and (standby is None or not standby.ready or not standby.process.is_alive()):
            if standby is not None:  # still starting: this one is ready now
                _end(standby)
            worker.job, worker.stop_at = None, None
            self._standby = worker
        else:
            _end(worker)  # closing its pipe ends it

    def _keep_standby(self) -> None:
        standby = self._standby
        if standby is not None and standby.process.is_alive():
            return
        if standby is not None:
            _end(standby)
            self._standby = None
            if standby.jobs_done == 0:  # it died while starting: retry later, not in a loop
                self._standby_retry_at = time.monotonic() + _STANDBY_RETRY_S
                log.warning(
                    "a training process ended while starting (exit code %s)",
                    standby.process.exitcode,
                )
        if time.monotonic() >= self._standby_retry_at:
            self._standby = self._spawn()

    def _spawn(self) -> _Worker:
        jobs_out, jobs_in = self._context.Pipe(duplex=False)  # (receiving, sending) ends
        results_out, results_in = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_worker_main,
            args=(jobs_out, results_in),
            name="lernwerk-training",
            daemon=True,
        )
        process.start()
        jobs_out.close()  # the worker's ends: closed here, so that EOF means "gone"
        results_in.close()
        return _Worker(process, jobs_in, results_out)

    def _dispatch(self, job: Job) -> None:
        worker, self._standby = self._standby, None
        for _ in range(2):
            if worker is None or not worker.process.is_alive():
                worker = self._spawn()
            where = job.request.workspace or str(self.workspace_path)
            if _send(worker, (where, job.request)):
                break
            _end(worker)
            worker = None
        else:
            job.status = "failed"
            job.error = {"error": "RunFailed", "message": "could not start a training process"}
            return
        assert worker is not None
        worker.job = job
        worker.jobs_done += 1
        job.status = "running"
        self._running.append(worker)

    def _check(self, worker: _Worker) -> tuple[Job, dict[str, Any]] | None:
        """Read what a worker reported; reap it when it ended. A worker that died before
        its job ended gives (the job, an error) back."""
        alive = worker.process.is_alive()  # first: a dead worker's reports are all in the pipe
        self._collect(worker)
        if alive and worker.job is not None and worker.job.ended:
            self._running.remove(worker)  # its job is done: free the slot, keep the process
            self._retire(worker)
            return None
        if alive:
            now = time.monotonic()
            if worker.stop_at is not None and worker.terminated_at is None:
                if now - worker.stop_at > self.stop_timeout_s:
                    log.warning("training process %s did not stop; terminating", worker.process.pid)
                    worker.process.terminate()
                    worker.terminated_at = now
            elif (
                worker.terminated_at is not None and now - worker.terminated_at > _KILL_AFTER_TERM_S
            ):
                worker.process.kill()
            return None
        self._running.remove(worker)
        _end(worker)
        job = worker.job
        if job is not None and not job.ended:
            message = (
                f"the training process ended unexpectedly (exit code {worker.process.exitcode})"
            )
            return job, {"error": "RunFailed", "message": message, "where": None}
        return None

    def _collect(self, worker: _Worker) -> None:
        job = worker.job
        try:
            while worker.results.poll():
                kind, value = worker.results.recv()
                if kind == "ready":
                    worker.ready = True
                if job is None:
                    continue
                if kind == "run":
                    job.run_id = value
                elif kind == "done":
                    job.run_id, job.status = value["run_id"], value["status"]
                elif kind == "failed":
                    worker.reusable = worker.reusable and not value.pop("fatal", False)
                    job.status, job.error = "failed", value
        except (EOFError, OSError):
            pass  # the worker is gone; its exit is handled by the caller

    def _forget_old_jobs(self) -> None:
        ended = [j for j in self._jobs.values() if j.ended]
        for job in sorted(ended, key=lambda j: j.created_at)[: max(0, len(ended) - _MAX_KEPT_JOBS)]:
            del self._jobs[job.id]


class OwnedJobs:
    """One owner's view of a shared `JobManager` (a workshop participant's): only their
    jobs are found, listed and stopped, and what they submit trains in their workspace.
    Queue positions count everyone's jobs."""

    def __init__(self, manager: JobManager, owner: str | None, workspace_path: Path) -> None:
        self.manager, self.owner, self.workspace_path = manager, owner, Path(workspace_path)

    def _mine(self, job: Job | None) -> Job | None:
        return job if job is not None and job.request.owner == self.owner else None

    def submit(self, request: JobRequest) -> Job:
        owned = replace(request, owner=self.owner, workspace=str(self.workspace_path))
        return self.manager.submit(owned)

    def get(self, job_id: str) -> Job:
        job = self._mine(self.manager.get(job_id))
        if job is None:
            raise NotFound(f"job {job_id!r} not found", where="job")
        return job

    def is_job(self, ref: str) -> bool:
        return self.manager.is_job(ref) and self._mine(self.manager.get(ref)) is not None

    def jobs(self) -> list[Job]:
        return [j for j in self.manager.jobs() if j.request.owner == self.owner]

    def job_for_run(self, run_id: str) -> Job | None:
        return self._mine(self.manager.job_for_run(run_id))

    def queue_position(self, job: Job) -> int | None:
        return self.manager.queue_position(job)

    def has_free_slot(self) -> bool:
        return self.manager.has_free_slot()

    def stop(self, ref: str) -> Job | None:
        if self.is_job(ref) or self.job_for_run(ref) is not None:
            return self.manager.stop(ref)
        return None


def _send(worker: _Worker, message: Any) -> bool:
    try:
        worker.jobs.send(message)
        return True
    except (OSError, ValueError):
        return False


def _end(worker: _Worker) -> None:
    """Close our pipe ends (a live worker then exits) and reap the process."""
    for connection in (worker.jobs, worker.results):
        try:
            connection.close()
        except OSError:
            pass
    if worker.process.is_alive():
        worker.process.terminate()
        worker.process.join(timeout=_KILL_AFTER_TERM_S)
        if worker.process.is_alive():
            worker.process.kill()
    worker.process.join(timeout=1)
