"""`/api/workshop`: join a workshop, the trainer's room view, pushing to everyone."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from lernwerk.errors import Forbidden, NotFound
from lernwerk.serving.deps import participant
from lernwerk.serving.errors import error_responses
from lernwerk.serving.schemas import Joined, JoinRequest, PushRequest, PushView, RoomView, WhoView
from lernwerk.serving.workshop import Workshop

router = APIRouter(tags=["workshop"])


def _workshop(request: Request) -> Workshop:
    workshop = getattr(request.app.state, "workshop", None)
    if workshop is None:
        raise NotFound("this server runs no workshop (start it with lernwerk serve --workshop)")
    return workshop


def _trainer_only(request: Request) -> Workshop:
    workshop = _workshop(request)
    if participant(request) is not None:
        raise Forbidden("only the trainer sees the room and pushes to everyone", where="token")
    return workshop


@router.post(
    "/workshop/join", status_code=201, response_model=Joined,
    responses=error_responses(400, 401, 404, 409, 413, 422),
)  # fmt: skip
async def join(body: JoinRequest, request: Request) -> dict[str, Any]:
    """Join the workshop under a name: a workspace of one's own and the token that opens
    it (the page keeps it; `url` opens the workbench with it). Open without a token."""
    workshop = _workshop(request)
    joined = await run_in_threadpool(workshop.join, body.name)
    return {**joined, "url": f"/?token={joined['token']}"}


@router.get("/workshop/me", response_model=WhoView, responses=error_responses(401))
def who(request: Request) -> dict[str, Any]:
    """Whether this server runs a workshop, and who is asking: a participant or the trainer."""
    workshop = getattr(request.app.state, "workshop", None)
    name = participant(request)
    return {"workshop": workshop is not None, "participant": name, "trainer": name is None}


@router.get("/workshop/room", response_model=RoomView, responses=error_responses(401, 403, 404))
async def room(request: Request) -> dict[str, Any]:
    """The trainer's view: every participant with their datasets, runs and trainings
    (running, waiting), and the leaderboard on the shared task."""
    workshop = _trainer_only(request)
    return await run_in_threadpool(workshop.room, request.app.state.jobs)


@router.post(
    "/workshop/push",
    response_model=PushView,
    responses=error_responses(401, 403, 404, 413, 422),
)
async def push(body: PushRequest, request: Request) -> dict[str, Any]:
    """Copy a dataset and/or a saved model of the trainer's workspace to every participant
    (one who has a dataset of that name keeps theirs)."""
    workshop = _trainer_only(request)
    return await run_in_threadpool(workshop.push, body.dataset, body.model)
