"""`/api/sweeps`: the workspace's sweeps, one sweep's trials, best and importances."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from lernwerk.api import Workspace
from lernwerk.errors import Conflict
from lernwerk.serving.deps import get_workspace
from lernwerk.serving.errors import error_responses

router = APIRouter(tags=["sweeps"], responses=error_responses(401))


class SweepItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    dataset: str
    model: str
    metric: str
    trials: int
    trials_done: int
    best_value: float | None = None


class SweepView(BaseModel):
    """A sweep as `Workspace.sweep_summary` gives it, plus `train_best`: the run config
    (for `POST /api/runs`) that trains its best trial longer, or null."""

    model_config = ConfigDict(extra="allow")
    name: str
    metric: str
    direction: str
    trials_wanted: int
    counts: dict[str, int]
    space: list[dict[str, Any]]
    best: dict[str, Any] | None
    best_so_far: list[dict[str, Any]]
    importance: dict[str, float]
    trials: list[dict[str, Any]]
    train_best: dict[str, Any] | None = None


@router.get("/sweeps", response_model=list[SweepItem])
async def list_sweeps(ws: Workspace = Depends(get_workspace)) -> list[dict[str, Any]]:
    """The sweeps in the workspace's sweep database, newest first."""
    return await run_in_threadpool(ws.sweeps)


@router.get("/sweeps/{name}", response_model=SweepView, responses=error_responses(404, 422))
async def get_sweep(name: str, ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """One sweep: its trials as they finish, the best so far, and each setting's importance."""

    def view() -> dict[str, Any]:
        summary = ws.sweep_summary(name)
        try:
            longer = ws.best_longer(name, summary=summary)
            longer.pop("best")
        except Conflict:  # no finished trial yet
            longer = None
        return {**summary, "train_best": longer}

    return await run_in_threadpool(view)
