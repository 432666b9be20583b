"""`GET /api/health`: is the server up, which version, which workspace."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from lernwerk import __version__
from lernwerk.api import Workspace
from lernwerk.serving.deps import get_workspace
from lernwerk.serving.errors import error_responses
from lernwerk.serving.schemas import Health

router = APIRouter(tags=["health"], responses=error_responses(401))


@router.get("/health", response_model=Health)
def health(ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """The server answers; its version and workspace."""
    return {"status": "ok", "version": __version__, "workspace": str(ws.path)}
