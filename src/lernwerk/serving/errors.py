"""Every error the server answers, mapped in one place: a JSON body and a 4xx status.

`{"error": type, "message": one sentence, "where": field/file/row/layer or null}`; a model
that does not fit adds `"layer": N`. Core code raises `LernwerkError`s with their own
`http_status`; requests FastAPI cannot parse become `RequestError` (422); anything else is
a bug: logged with its traceback and answered 500 with a JSON body too.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from lernwerk.errors import LernwerkError
from lernwerk.serving.responses import SafeJSONResponse

log = logging.getLogger("lernwerk.serving")

_LAYER = re.compile(r"^layer (\d+)(?:\.\d+)*$")
_STATUS_NAMES = {
    401: "Unauthorized",
    404: "NotFound",
    405: "RequestError",
    413: "TooLarge",
}


class ErrorBody(BaseModel):
    """The JSON body of every 4xx and 5xx answer."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="the kind: RequestError, NotFound, SpecError, DataError, …")
    message: str = Field(description="one sentence naming what is wrong")
    where: str | None = Field(description="the field, file, row or layer at fault")
    layer: int | None = Field(None, description="a model that does not fit: the layer (1-based)")


_ERROR_TEXTS = {
    400: "The request is malformed",
    401: "The access token is missing or wrong",
    403: "Only the trainer (the server's own token) may do this",
    404: "What the request names does not exist",
    405: "The method is not allowed here (the `Allow` header lists those that are)",
    409: "It conflicts with the current state (a name taken, a run still training)",
    413: "The body is over the server's upload limit",
    422: "A value is invalid, or data and model do not fit",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each with the JSON error body."""
    return {s: {"model": ErrorBody, "description": _ERROR_TEXTS[s]} for s in statuses}


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods `/openapi.json` lists for the path that `path` falls under (empty: none)."""
    table = getattr(app.state, "allowed_methods", None)
    if table is None:  # built once, from the document itself: the two cannot disagree
        table = []
        for template, operations in app.openapi().get("paths", {}).items():
            table.append((_path_regex(template, operations), sorted(m.upper() for m in operations)))
        app.state.allowed_methods = table
    for regex, methods in table:
        if regex.fullmatch(path):
            return methods
    return []


def _path_regex(template: str, operations: dict[str, Any]) -> re.Pattern[str]:
    """A documented path as a regex: an integer parameter is digits, others one segment."""
    integers = {
        p["name"]
        for op in operations.values()
        for p in op.get("parameters", [])
        if p.get("in") == "path" and p.get("schema", {}).get("type") == "integer"
    }
    parts = re.split(r"\{([^}]+)\}", template)  # literal, name, literal, …
    regex = "".join(
        re.escape(part) if i % 2 == 0 else ("[0-9]+" if part in integers else "[^/]+")
        for i, part in enumerate(parts)
    )
    return re.compile(regex)


def error_body(error: str, message: str, where: str | None = None, **extra: Any) -> dict:
    return {"error": error, "message": message, "where": where, **extra}


def error_response(status: int, body: dict[str, Any]) -> SafeJSONResponse:
    return SafeJSONResponse(body, status_code=status)


def lernwerk_error_body(exc: LernwerkError) -> dict[str, Any]:
    """The error as JSON; a misfit layer's 1-based top-level index as `layer`."""
    body = exc.to_dict()
    match = _LAYER.match(exc.where or "")
    if match:
        body["layer"] = int(match.group(1))
    return body


def _field(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_body(exc: RequestValidationError) -> dict[str, Any]:
    """FastAPI's validation errors as one readable sentence naming the first bad field."""
    errors = exc.errors()
    if not errors:
        return error_body("RequestError", "the request is malformed")
    first = errors[0]
    kind, where = first.get("type", ""), _field(first.get("loc", ()))
    if kind == "json_invalid":
        ctx = first.get("ctx", {}) or {}
        detail = ctx.get("error", "invalid JSON")
        return error_body("RequestError", f"the body is not valid JSON: {detail}", "body")
    message = first.get("msg", "invalid value").removeprefix("Value error, ")
    if kind == "missing":
        text = f"{where} is required"
    elif kind == "extra_forbidden":
        text = f"{where}: unknown field"
    else:
        text = f"{where}: {message}"
        if "input" in first and not isinstance(first["input"], dict | list):
            shown = repr(first["input"])
            text += f"; received: {shown[:80]}"
    return error_body("RequestError", text, where)


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception to a JSON answer."""

    @app.exception_handler(LernwerkError)
    async def _lernwerk(request: Request, exc: LernwerkError) -> SafeJSONResponse:
        if exc.http_status >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc)
        return error_response(exc.http_status, lernwerk_error_body(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> SafeJSONResponse:
        return error_response(422, validation_body(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> SafeJSONResponse:
        name = _STATUS_NAMES.get(exc.status_code, "RequestError")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        headers = dict(exc.headers or {})
        if exc.status_code == 404:
            message = f"nothing at {request.url.path}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
            allow = allowed_methods(request.app, request.scope["path"])
            if allow:  # every route at this path, not only the first one starlette tried
                headers["Allow"] = ", ".join(allow)
        response = error_response(exc.status_code, error_body(name, message, None))
        response.headers.update(headers)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> SafeJSONResponse:
        log.exception("%s %s: unexpected error", request.method, request.url.path)
        return error_response(
            500,
            error_body(
                "InternalError",
                f"the server failed unexpectedly ({type(exc).__name__}); see its log",
            ),
        )
