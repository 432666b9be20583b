"""Fixing what the model got wrong: relabel, delete, mark as checked and undo samples of a
dataset (`/api/datasets/{name}/…`), a run's mistakes and retraining it on the new data
(`/api/runs/{run_id}/…`)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from lernwerk.api import Workspace
from lernwerk.serving.deps import get_jobs, get_workspace
from lernwerk.serving.errors import error_responses
from lernwerk.serving.jobs import JobManager, JobRequest
from lernwerk.serving.routes.runs import RunCache, answer_when_started, get_run_cache
from lernwerk.serving.schemas import (
    CheckedRequest,
    DataEdit,
    DeleteRequest,
    JobView,
    Mistakes,
    RelabelRequest,
)

router = APIRouter(tags=["fixes"], responses=error_responses(401))

_EDIT = error_responses(400, 404, 409, 422)  # no such dataset, class or id; nothing to undo
_EDIT_BODY = error_responses(400, 404, 409, 413, 422)  # the same, for a request with a body


@router.get("/datasets/{name}/edits", response_model=DataEdit, responses=_EDIT)
def data_version(name: str, ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """A stored dataset's data version and the last edit that `undo` would revert."""
    return {"dataset": name, **ws.data_version(name)}


@router.post("/datasets/{name}/relabel", response_model=DataEdit, responses=_EDIT_BODY)
def relabel(
    name: str, body: RelabelRequest, ws: Workspace = Depends(get_workspace)
) -> dict[str, Any]:
    """Move samples to another class, all or none."""
    return ws.relabel(name, body.ids, body.to)


@router.post("/datasets/{name}/delete-samples", response_model=DataEdit, responses=_EDIT_BODY)
def delete_samples(
    name: str, body: DeleteRequest, ws: Workspace = Depends(get_workspace)
) -> dict[str, Any]:
    """Delete samples, all or none (undo brings them back)."""
    return ws.delete(name, body.ids)


@router.post("/datasets/{name}/checked", response_model=DataEdit, responses=_EDIT_BODY)
def mark_checked(
    name: str, body: CheckedRequest, ws: Workspace = Depends(get_workspace)
) -> dict[str, Any]:
    """Mark samples as checked by a person (their label is right), or unmark them."""
    return ws.mark_checked(name, body.ids, body.checked)


@router.post("/datasets/{name}/undo", response_model=DataEdit, responses=_EDIT)
def undo(name: str, ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """Undo the last edit of the dataset's samples; 409 when there is none."""
    return {**ws.undo(name), **ws.data_version(name)}


@router.get(
    "/runs/{run_id}/mistakes", response_model=Mistakes, responses=error_responses(404, 409, 422)
)
def mistakes(
    run_id: str,
    split: Literal["train", "val", "test"] = Query("val", description="the split"),
    ws: Workspace = Depends(get_workspace),
    cache: RunCache = Depends(get_run_cache),
) -> dict[str, Any]:
    """The ids of the samples a classifier gets wrong on a split."""
    run = cache.get(ws, run_id)
    return {"run": run.id, "split": split, "ids": run.mistakes(split), **run.data_state()}


@router.post(
    "/runs/{run_id}/retrain",
    status_code=202,
    response_model=JobView,
    responses=error_responses(400, 404, 409, 422),
)
async def retrain(
    run_id: str, ws: Workspace = Depends(get_workspace), jobs: JobManager = Depends(get_jobs)
) -> dict[str, Any]:
    """Queue a new run with this run's settings on its dataset as it is now."""

    def check() -> JobRequest:
        dataset, spec, config = ws.run(run_id).retrain_plan()
        ws.check_fit(dataset, spec, config=config)
        return JobRequest(dataset, spec.to_dict(), config.to_dict(), None)

    return await answer_when_started(jobs, jobs.submit(await run_in_threadpool(check)))
