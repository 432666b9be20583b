"""`/api/runs` and `/api/jobs`: start (as a job), list, show, follow, stop, delete runs;
evaluate, predict with and download a trained run."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import FileResponse
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from lernwerk.api import Run, Workspace
from lernwerk.api.run import ONNX_EXPORT_DIR
from lernwerk.config import TrainConfig
from lernwerk.errors import Conflict, NotFound
from lernwerk.serving.deps import get_jobs, get_workspace, is_multipart, json_body, request_error
from lernwerk.serving.errors import error_responses
from lernwerk.serving.events import run_events
from lernwerk.serving.jobs import Job, JobManager, JobRequest
from lernwerk.serving.schemas import (
    CodeView,
    EvaluationView,
    ExplainRequest,
    ExplanationView,
    GeneratedSamples,
    JobView,
    OnnxExport,
    Prediction,
    PredictRequest,
    RunRow,
    RunView,
    StartRun,
    StopAnswer,
    ThresholdRequest,
    ThresholdView,
)

router = APIRouter(tags=["runs"], responses=error_responses(401))

_READ = error_responses(404, 422)  # a run that is not there; a bad parameter

_RUN_ID_WAIT_S = 5.0  # how long starting a run waits to answer with the run's id
_MAX_EVENT_ID = 2**63 - 1  # event ids are SQLite integers


class RunCache:
    """Recently used trained runs with their loaded predictors, so that predicting does
    not load the weights on every request. An entry is renewed when its run changed."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, Run] = OrderedDict()

    def get(self, ws: Workspace, ref: str) -> Run:
        fresh = ws.run(ref)
        key = f"{ws.path}\0{fresh.id}"  # a workshop's participants' runs never mix
        with self._lock:
            cached = self._runs.get(key)
            if cached is not None and cached.record.finished_at == fresh.record.finished_at:
                self._runs.move_to_end(key)
                return cached
            self._runs[key] = fresh
            while len(self._runs) > self.size:
                self._runs.popitem(last=False)
        return fresh

    def forget(self, ws: Workspace, run_id: str) -> None:
        with self._lock:
            self._runs.pop(f"{ws.path}\0{run_id}", None)


def get_run_cache(request: Request) -> RunCache:
    return request.app.state.runs


def _job_json(jobs: JobManager, job: Job) -> dict[str, Any]:
    return {**job.to_dict(), "queue_position": jobs.queue_position(job)}


@router.post(
    "/runs",
    status_code=202,
    response_model=JobView,
    responses=error_responses(400, 404, 409, 413, 422),
)
async def start_run(
    body: StartRun,
    ws: Workspace = Depends(get_workspace),
    jobs: JobManager = Depends(get_jobs),
) -> dict[str, Any]:
    """Check the request, then queue the training; it runs in a worker process.

    Answers with the job id, its status (queued or running) and, when the run has
    started within a few seconds, its run id (else follow `/api/jobs/{job_id}`).
    """

    def check() -> JobRequest:
        spec = ws.resolve_model(body.model, allow_files=False)
        config = TrainConfig.from_dict(body.train)
        ws.check_fit(body.dataset, spec, config=config)
        return JobRequest(body.dataset, spec.to_dict(), config.to_dict(), body.name)

    return await answer_when_started(jobs, jobs.submit(await run_in_threadpool(check)))


async def answer_when_started(jobs: JobManager, job: Job) -> dict[str, Any]:
    """The job's answer once its run has an id, it waits for another training, or after a
    few seconds."""
    deadline = time.monotonic() + _RUN_ID_WAIT_S
    while not job.ended and job.run_id is None and time.monotonic() < deadline:
        if job.status == "queued" and not jobs.has_free_slot():
            break  # it waits for another training: answer now
        await asyncio.sleep(0.05)
    return _job_json(jobs, job)


@router.get("/runs", response_model=list[RunRow])
def list_runs(
    ws: Workspace = Depends(get_workspace), jobs: JobManager = Depends(get_jobs)
) -> list[dict[str, Any]]:
    """Jobs that have no run yet (queued first), then every run, newest first."""
    all_jobs = jobs.jobs()
    pending = [
        {**_job_json(jobs, j), "id": None}
        for j in reversed(all_jobs)
        if not j.ended and j.run_id is None
    ]
    active = {j.run_id: j.id for j in all_jobs if j.run_id is not None and not j.ended}
    rows = [{**r.row(), "job_id": active.get(r.id)} for r in ws.runs()]
    return pending + rows


@router.get("/jobs/{job_id}", response_model=JobView, responses=_READ)
def show_job(job_id: str, jobs: JobManager = Depends(get_jobs)) -> dict[str, Any]:
    """A job's status and, once its run has started, the run's id."""
    return _job_json(jobs, jobs.get(job_id))


@router.get("/runs/{run_id}", response_model=RunView, responses=_READ)
def show_run(
    run_id: str, ws: Workspace = Depends(get_workspace), jobs: JobManager = Depends(get_jobs)
) -> dict[str, Any]:
    """The run's record (config, status, metrics), its history per epoch and, once
    trained, what its prediction takes (`input`)."""
    run = ws.run(run_id)
    job = jobs.job_for_run(run.id)
    return {
        **run.to_dict(),
        "input": run.input_spec(),
        "job_id": job.id if job else None,
        **run.data_state(),  # the data version it trained on, and whether the data changed
    }


@router.get(
    "/runs/{run_id}/events",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"},
        **_READ,
    },
)
async def run_events_stream(
    run_id: str,
    after: int = Query(0, ge=0, le=_MAX_EVENT_ID, description="relay events after this id"),
    last_event_id: str | None = Header(None),
    ws: Workspace = Depends(get_workspace),
    jobs: JobManager = Depends(get_jobs),
) -> EventSourceResponse:
    """Server-Sent Events of the run's progress; ends after a terminal event."""
    run = await run_in_threadpool(ws.run, run_id)  # 404 before the stream starts
    if last_event_id is not None and last_event_id.strip().isdigit():
        after = max(after, min(int(last_event_id), _MAX_EVENT_ID))

    def is_active() -> bool:
        return jobs.job_for_run(run.id) is not None

    stream = run_events(ws.store, run.id, after, is_active)
    return EventSourceResponse(stream, ping=15, headers={"Cache-Control": "no-store"})


@router.post(
    "/runs/{ref}/stop",
    status_code=202,
    response_model=StopAnswer,
    responses=error_responses(404, 409, 422),
)
def stop_run(
    ref: str, ws: Workspace = Depends(get_workspace), jobs: JobManager = Depends(get_jobs)
) -> dict[str, Any]:
    """Stop a run (or a job, by its id): it ends after its current step and keeps its
    weights; a queued job is dropped."""
    job = jobs.stop(ref) if jobs.is_job(ref) else None
    if job is None:
        run = ws.run(ref)
        if run.status not in ("created", "running"):
            raise Conflict(f"run {run.id} is not running; it is {run.status}", where="run")
        job = jobs.stop(run.id)
        if job is None:
            if run.status == "running" and ws.store.is_alive(run.record):
                raise Conflict(
                    f"run {run.id} is trained by another process (pid {run.record.pid}); "
                    "stop it there",
                    where="run",
                )
            raise Conflict(f"run {run.id} is not running; it is {run.status}", where="run")
    status = "stopped" if job.ended else "stopping"
    return {"job_id": job.id, "run_id": job.run_id, "status": status}


@router.delete(
    "/runs/{run_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(404, 409, 422),
)
def delete_run(
    run_id: str,
    ws: Workspace = Depends(get_workspace),
    jobs: JobManager = Depends(get_jobs),
    cache: RunCache = Depends(get_run_cache),
) -> Response:
    """Delete a run with its files; refused (409) while it trains."""
    run = ws.run(run_id)
    # A finished run's worker may still be saying goodbye to the job manager for a moment;
    # the run itself is complete then (its status is written last), so it may go.
    if run.status in ("created", "running") and jobs.job_for_run(run.id) is not None:
        raise Conflict(f"run {run.id} is training; stop it first", where="run")
    ws.delete_run(run.id)
    cache.forget(ws, run.id)
    return Response(status_code=204)


@router.get(
    "/runs/{run_id}/evaluation",
    response_model=EvaluationView,
    responses=error_responses(404, 409, 422),
)
def evaluation(
    run_id: str,
    split: Literal["train", "val", "test"] = Query("test", description="the split"),
    limit: int = Query(1000, ge=0, le=20_000, description="at most this many samples"),
    ws: Workspace = Depends(get_workspace),
    cache: RunCache = Depends(get_run_cache),
) -> dict[str, Any]:
    """Metrics on a split, the confusion matrix, and each sample's prediction
    (misclassified first)."""
    return cache.get(ws, run_id).evaluation(split, limit=limit)


_PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": PredictRequest.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


@router.post(
    "/runs/{run_id}/predict",
    openapi_extra=_PREDICT_BODY,
    response_model=Prediction,
    responses=error_responses(400, 404, 409, 413, 422),
)
async def predict(
    run_id: str,
    request: Request,
    ws: Workspace = Depends(get_workspace),
    cache: RunCache = Depends(get_run_cache),
) -> dict[str, Any]:
    """Predict one input: `{predicted, confidence, probabilities, ms}` or `{value, ms}`."""
    run = await run_in_threadpool(cache.get, ws, run_id)
    if is_multipart(request):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise request_error("file", "a file is required", "missing")
        name, data = upload.filename or "upload", await upload.read()
        started = time.perf_counter()
        results = await run_in_threadpool(run.predict_upload, name, data)
        ms = (time.perf_counter() - started) * 1000
        if len(results) == 1:
            return {**results[0], "ms": ms}
        return {"results": results, "ms": ms}
    body = await json_body(request, PredictRequest)
    started = time.perf_counter()
    result = await run_in_threadpool(lambda: run.predict_sample(**body.model_dump()))
    return {**result, "ms": (time.perf_counter() - started) * 1000}


@router.post(
    "/runs/{run_id}/explain",
    response_model=ExplanationView,
    responses=error_responses(400, 404, 409, 413, 422),
)
async def explain(
    run_id: str,
    body: ExplainRequest,
    ws: Workspace = Depends(get_workspace),
    cache: RunCache = Depends(get_run_cache),
) -> dict[str, Any]:
    """Why the model decided so for one input, given as for predict: integrated gradients
    (any network), Grad-CAM and each convolution layer's feature maps (images)."""
    run = await run_in_threadpool(cache.get, ws, run_id)
    given = body.model_dump(exclude={"target"})

    def explained() -> dict[str, Any]:
        x = run.sample_input(**given)
        return run.explain(x[0], target=body.target).to_dict()

    return await run_in_threadpool(explained)


@router.put(
    "/runs/{run_id}/threshold",
    response_model=ThresholdView,
    responses=error_responses(400, 404, 409, 422),
)
async def set_threshold(
    run_id: str,
    body: ThresholdRequest,
    ws: Workspace = Depends(get_workspace),
    cache: RunCache = Depends(get_run_cache),
) -> dict[str, Any]:
    """Move an anomaly detector's threshold and save it with the run; the stored
    validation and test metrics are computed under it."""
    run = await run_in_threadpool(cache.get, ws, run_id)
    return await run_in_threadpool(run.set_threshold, body.threshold)


@router.get(
    "/runs/{run_id}/weights",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "model.zip"},
        **error_responses(404, 409, 422),  # 409: a baseline run, which keeps no model
    },
)
def weights(run_id: str, ws: Workspace = Depends(get_workspace)) -> Response:
    """The trained model as `model.zip`: `model.safetensors` and `model.json`; 409 for a
    baseline run, which keeps only its metrics."""
    run = ws.run(run_id)
    return Response(
        run.weights_zip(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="lernwerk-{run.id}-model.zip"'},
    )


# -- ONNX export ----------------------------------------------------------------------------

_EXPORT_LOCKS: dict[str, threading.Lock] = {}
_EXPORT_LOCKS_GUARD = threading.Lock()
_EXPORT_FILES = ("model.onnx", "model.json")  # downloads: both sent as octet-stream


def _export_lock(run_id: str) -> threading.Lock:
    with _EXPORT_LOCKS_GUARD:
        return _EXPORT_LOCKS.setdefault(run_id, threading.Lock())


def _export_answer(report: dict[str, Any]) -> dict[str, Any]:
    run_id = report["run_id"]
    names = [Path(f).name for f in report["files"]]
    return {
        "run_id": run_id,
        "parity": report["parity"],
        "files": [{"name": n, "url": f"/api/runs/{run_id}/export/{n}"} for n in names],
    }


@router.post(
    "/runs/{run_id}/export", response_model=OnnxExport, responses=error_responses(404, 409, 422)
)
async def export_onnx(run_id: str, ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """Export the run as ONNX, checked against PyTorch on its test split (up to 256
    samples): the parity figures and the links to `model.onnx` and `model.json`. Takes
    seconds the first time; later calls return the kept export. 422 (`ExportFailed`) when
    the file does not reproduce PyTorch's outputs; nothing is kept then."""
    run = await run_in_threadpool(ws.run, run_id)

    def export() -> dict[str, Any]:
        with _export_lock(run.id):  # one export of a run at a time
            return run.onnx_export()

    return _export_answer(await run_in_threadpool(export))


@router.get(
    "/runs/{run_id}/code", response_model=CodeView, responses=error_responses(404, 409, 422)
)
def run_code(run_id: str, ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """The run as one plain PyTorch file: the network class, the preprocessing,
    `load_weights` and the run's training loop (what `export --format pytorch` writes as
    model.py); 422 for a run the code export does not write (anomaly, forecasting)."""
    return {"filename": "model.py", "code": ws.run(run_id).pytorch_code()}


@router.get(
    "/runs/{run_id}/export/{file}",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "the file"},
        **_READ,
    },
)
def export_file(run_id: str, file: str, ws: Workspace = Depends(get_workspace)) -> FileResponse:
    """A file of the run's ONNX export (`model.onnx` or `model.json`), once exported."""
    run = ws.run(run_id)
    path = run.dir / ONNX_EXPORT_DIR / file
    if file not in _EXPORT_FILES or not path.is_file():
        raise NotFound(
            f"run {run.id} has no exported {file}; export it first (POST /api/runs/{run.id}/export)",
            where="file",
        )
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=f"lernwerk-{run.id}-{file}",
    )


# -- generated images (task generate) -----------------------------------------------------

_PNG_ANSWER = {200: {"content": {"image/png": {}}, "description": "a PNG image"}}


@router.get("/runs/{run_id}/generated", response_model=GeneratedSamples, responses=_READ)
def generated_samples(run_id: str, ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """The sample grids a generative run drew while it trained: `{epochs: [1, 2, …],
    latent_map, interpolation}` (empty lists and false for other runs)."""
    return ws.run(run_id).generated_samples()


@router.get(
    "/runs/{run_id}/generated/{name}.png",
    response_class=Response,
    responses={**_READ, **_PNG_ANSWER},
)
def generated_sample(run_id: str, name: str, ws: Workspace = Depends(get_workspace)) -> Response:
    """One stored picture: `epoch-0003` (the fixed latent points after epoch 3),
    `latent-map` or `interpolation`."""
    png = ws.run(run_id).generated_sample_png(name)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


_GENERATE = {**error_responses(404, 409, 422), **_PNG_ANSWER}  # 409: a baseline keeps no network


@router.post("/runs/{run_id}/generate", response_class=Response, responses=_GENERATE)
async def generate_images(
    run_id: str,
    n: int = Query(16, description="how many images, 1 to 1024"),
    seed: int | None = Query(None, description="the same seed draws the same images"),
    ws: Workspace = Depends(get_workspace),
    cache: RunCache = Depends(get_run_cache),
) -> Response:
    """New images from a generative run (a VAE, a DCGAN) as one PNG grid; 422 for a run
    that does not generate."""
    run = await run_in_threadpool(cache.get, ws, run_id)
    png = await run_in_threadpool(lambda: run.generate_png(n, seed=seed))
    return Response(png, media_type="image/png")
