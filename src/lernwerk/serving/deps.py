"""What routes get injected: the app's workspace, job manager and run cache."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from lernwerk.api import Workspace
from lernwerk.serving.jobs import JobManager, OwnedJobs


def participant(request: Request) -> str | None:
    """The workshop participant a request comes from (None: the server's own token, or
    no workshop)."""
    return getattr(request.state, "participant", None)


def get_workspace(request: Request) -> Workspace:
    """The server's workspace, or in a workshop the participant's own."""
    workshop = getattr(request.app.state, "workshop", None)
    name = participant(request)
    if workshop is not None and name is not None:
        return workshop.workspace(name)
    return request.app.state.workspace


def get_jobs(request: Request) -> JobManager | OwnedJobs:
    """The job manager; in a workshop, the requester's view of it (their jobs only)."""
    workshop = getattr(request.app.state, "workshop", None)
    if workshop is None:
        return request.app.state.jobs
    return OwnedJobs(request.app.state.jobs, participant(request), get_workspace(request).path)


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def json_body(request: Request, model: type[BaseModel]) -> Any:
    """Parse and validate a JSON body by hand (for routes that also take multipart)."""
    raw = await request.body()
    try:
        data = json.loads(raw or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body",),
                    "msg": "invalid JSON",
                    "ctx": {"error": str(exc)},
                }
            ]
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None


def parse_options(text: str | None, field: str = "options") -> dict[str, Any]:
    """A field holding a JSON object (an import's `options`, a preview's `augment`)."""
    if not text:
        return {}
    try:
        options = json.loads(text)
    except json.JSONDecodeError as exc:
        raise request_error(field, f"not valid JSON: {exc.msg}") from None
    if not isinstance(options, dict):
        raise request_error(field, "expected a JSON object")
    return options


def request_error(field: str, message: str, kind: str = "value_error") -> RequestValidationError:
    """A malformed request naming `field`; answered 422 RequestError like FastAPI's own."""
    return RequestValidationError([{"type": kind, "loc": ("body", field), "msg": message}])
