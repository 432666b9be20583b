"""`/api/playground`: sessions that train a tiny network on 2D points, and their frames."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import RootModel

from lernwerk.api import Workspace
from lernwerk.api.playground import playground_data, playground_session
from lernwerk.serving.deps import get_workspace
from lernwerk.serving.errors import error_responses
from lernwerk.serving.schemas import StoredName, _Answer, _Body
from lernwerk.training.playground import (
    LESSONS,
    PlaygroundSession,
    PlaygroundSettings,
    SessionPool,
    model_spec,
)

router = APIRouter(prefix="/playground", tags=["playground"], responses=error_responses(401))
_ONE = error_responses(404, 422)
_BODY = error_responses(400, 404, 409, 413, 422)


class SaveNetwork(_Body):
    name: StoredName


def get_pool(request: Request) -> SessionPool:
    """The app's playground sessions (made on first use; at most 4, idle ones dropped)."""
    pool = getattr(request.app.state, "playgrounds", None)
    if pool is None:
        pool = request.app.state.playgrounds = SessionPool()
    return pool


def _described(session: PlaygroundSession) -> dict[str, Any]:
    return {
        "id": session.id,
        "settings": session.settings.model_dump(exclude={"csv"}),
        "points": session.points(),
        "frame": session.frame(),
    }


class SessionView(_Answer):
    """A session: its id, settings and points with its first frame (docs/playground.md)."""


class PlaygroundFrame(_Answer):
    """What the network does now: boundary and neuron maps, weights, curves, epoch."""


class SavedNetwork(_Answer):
    """The playground's network saved as a workspace model, with links to use it."""


class PlaygroundLessons(RootModel[dict[str, dict[str, Any]]]):
    """Each one-click lesson by its name: the settings it starts (data, network, training)."""


@router.get("/lessons", response_model=PlaygroundLessons)
def lessons() -> dict[str, dict[str, Any]]:
    """The one-click lessons: each one's settings (data, network, training)."""
    return {
        key: PlaygroundSettings(**value).model_dump(exclude={"csv"})
        for key, value in LESSONS.items()
    }


@router.post("", status_code=201, response_model=SessionView, responses=_BODY)
def create(
    body: PlaygroundSettings,
    ws: Workspace = Depends(get_workspace),
    pool: SessionPool = Depends(get_pool),
) -> dict[str, Any]:
    """A new playground session (paused at epoch 0): its id, data points and first frame."""
    session = playground_session(ws, body)
    return _described(pool.add(session))


@router.put("/{sid}", response_model=SessionView, responses=_BODY)
def configure(
    sid: str,
    body: PlaygroundSettings,
    ws: Workspace = Depends(get_workspace),
    pool: SessionPool = Depends(get_pool),
) -> dict[str, Any]:
    """New settings for a session: new data and a fresh network, paused."""
    session = pool.get(sid)
    session.configure(body, playground_data(ws, body))
    return _described(session)


@router.get("/{sid}/frame", response_model=PlaygroundFrame, responses=_ONE)
def frame(sid: str, pool: SessionPool = Depends(get_pool)) -> dict[str, Any]:
    """What the network does now: boundary and neuron maps (uint8 base64), weights, curves."""
    return pool.get(sid).frame()


@router.post("/{sid}/play", response_model=PlaygroundFrame, responses=_ONE)
def play(sid: str, pool: SessionPool = Depends(get_pool)) -> dict[str, Any]:
    """Train in the session's thread at full speed until paused."""
    session = pool.get(sid)
    session.play()
    return session.frame()


@router.post("/{sid}/pause", response_model=PlaygroundFrame, responses=_ONE)
def pause(sid: str, pool: SessionPool = Depends(get_pool)) -> dict[str, Any]:
    """Stop training (the network stays as it is)."""
    session = pool.get(sid)
    session.pause()
    return session.frame()


@router.post("/{sid}/step", response_model=PlaygroundFrame, responses=_ONE)
def step(
    sid: str, epochs: int = Query(1, ge=1, le=1000), pool: SessionPool = Depends(get_pool)
) -> dict[str, Any]:
    """Train `epochs` epochs now (pausing first)."""
    session = pool.get(sid)
    session.step(epochs)
    return session.frame()


@router.post("/{sid}/reset", response_model=PlaygroundFrame, responses=_ONE)
def reset(sid: str, pool: SessionPool = Depends(get_pool)) -> dict[str, Any]:
    """A freshly initialised network at epoch 0 (playing on if it was)."""
    session = pool.get(sid)
    session.reset()
    return session.frame()


@router.delete("/{sid}", status_code=204, response_class=Response, responses=_ONE)
def close(sid: str, pool: SessionPool = Depends(get_pool)) -> Response:
    """Stop and forget a session."""
    pool.remove(sid)
    return Response(status_code=204)


@router.post("/{sid}/save", status_code=201, response_model=SavedNetwork, responses=_BODY)
def save(
    sid: str,
    body: SaveNetwork,
    ws: Workspace = Depends(get_workspace),
    pool: SessionPool = Depends(get_pool),
) -> dict[str, Any]:
    """Save the session's network as a workspace model; links to the designer and train page."""
    session = pool.get(sid)
    spec = ws.save_model(body.name, model_spec(session.settings, body.name, session.data.task))
    data = session.settings.data
    dataset = (
        data
        if data in ("xor", "circles", "moons", "spiral", "blobs")
        else (data.removeprefix("table:") if data.startswith("table:") else None)
    )
    links = {"designer": f"#/designer?model={spec.name}"}
    if dataset:
        links["train"] = f"#/train?dataset={dataset}&model={spec.name}"
    return {"model": spec.name, "links": links}
