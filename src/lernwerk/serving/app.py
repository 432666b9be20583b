"""The web application: `create_app(settings)` wires the routers, guards and page."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from lernwerk import __version__
from lernwerk.api import Workspace
from lernwerk.errors import NotFound
from lernwerk.serving.errors import allowed_methods, install_error_handlers
from lernwerk.serving.inspections import InspectionManager
from lernwerk.serving.jobs import JobManager
from lernwerk.serving.middleware import BodyLimitMiddleware, TokenMiddleware
from lernwerk.serving.responses import SafeJSONResponse
from lernwerk.serving.routes import datasets, fixes, health, models, playground, runs
from lernwerk.serving.routes import inspections as inspections_routes
from lernwerk.serving.routes import sweeps as sweeps_routes
from lernwerk.serving.routes import workshop as workshop_routes
from lernwerk.serving.settings import STATIC_DIR, Settings
from lernwerk.serving.workshop import Workshop

log = logging.getLogger("lernwerk.serving")

_PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lernwerk</title></head>
<body><h1>lernwerk</h1><p>The page is not installed; the API is at
<a href="/docs">/docs</a>.</p></body></html>
"""
# Swagger UI for /docs ships in the package (static/vendor/swagger-ui/VERSION says whence):
# FastAPI's default loads it from a CDN, and the workbench works without a network
SWAGGER_DIR = STATIC_DIR / "vendor" / "swagger-ui"
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]


def create_app(settings: Settings) -> FastAPI:
    """The server for one workspace.

    Opening the workspace marks runs left `running` by a dead process as `interrupted`.
    Training workers start with the app (its lifespan) and are stopped when it ends.
    """
    workspace = Workspace(settings.workspace)
    workshop = Workshop(workspace) if settings.workshop else None

    def worker_lost() -> None:  # its run is marked interrupted, whoever's it was
        workspace.store.reconcile()
        for name in workshop.names() if workshop is not None else ():
            workshop.workspace(name).store.reconcile()

    jobs = JobManager(
        workspace.path,
        max_concurrent=settings.max_concurrent_trainings,
        stop_timeout_s=settings.stop_timeout_s,
        prestart=settings.prestart_worker,
        on_worker_lost=worker_lost,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        jobs.start()
        try:
            yield
        finally:
            await run_in_threadpool(jobs.shutdown)
            inspections.shutdown()
            if getattr(app.state, "playgrounds", None) is not None:
                app.state.playgrounds.shutdown()  # stop the playgrounds' training threads

    app = FastAPI(
        title="lernwerk",
        version=__version__,
        description="The lernwerk workbench's JSON API (see docs/web-api.md).",
        lifespan=lifespan,
        default_response_class=SafeJSONResponse,
        docs_url=None,  # served below, from the package instead of a CDN
        redoc_url=None,  # ReDoc would load from a CDN too; /docs covers it
    )
    app.state.settings = settings
    app.state.workspace = workspace
    app.state.jobs = jobs
    app.state.workshop = workshop
    app.state.runs = runs.RunCache()
    app.state.inspections = inspections = InspectionManager()
    install_error_handlers(app)
    for router in (health.router, datasets.router, models.router, runs.router, fixes.router):
        app.include_router(router, prefix="/api")
    app.include_router(inspections_routes.router, prefix="/api")
    app.include_router(workshop_routes.router, prefix="/api")
    app.include_router(sweeps_routes.router, prefix="/api")
    app.include_router(playground.router, prefix="/api")

    app.mount("/docs-assets", StaticFiles(directory=SWAGGER_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="lernwerk API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/favicon.svg",
        )

    @app.api_route("/api/{path:path}", methods=_ALL_METHODS, include_in_schema=False)
    async def unknown_api_path(path: str, request: Request) -> None:
        allow = allowed_methods(app, request.scope["path"])
        if allow:  # the path exists, with other methods: 405 naming them
            raise StarletteHTTPException(405, headers={"Allow": ", ".join(allow)})
        raise NotFound(f"no API endpoint {request.method} /api/{path}")

    static = settings.static_dir
    if not (static / "index.html").is_file():
        try:
            static.mkdir(parents=True, exist_ok=True)
            (static / "index.html").write_text(_PLACEHOLDER, encoding="utf-8")
        except OSError as exc:
            log.warning("no page to serve: %s", exc)
    if static.is_dir():
        app.mount("/", StaticFiles(directory=static, html=True), name="page")

    app.add_middleware(BodyLimitMiddleware, limit=settings.max_upload_bytes)
    if settings.workshop and not settings.token:
        raise ValueError("a workshop needs the trainer's token (Settings.token)")
    if settings.token:  # outermost: nothing runs for a request without the token
        who = workshop.participant if workshop is not None else None
        app.add_middleware(TokenMiddleware, token=settings.token, participant=who)
    return app
