"""`/api/runs/{id}/inspect` and `/api/inspections`: a batch inspected in the background,
its report (rows, thumbnails, report.html, report.csv), and corrections that add an item
to the run's dataset with the right label."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from lernwerk.api import Workspace
from lernwerk.errors import SpecError
from lernwerk.evaluation.inspection import parse_rate, resolve_rule
from lernwerk.serving.deps import get_workspace, is_multipart, request_error
from lernwerk.serving.errors import error_responses
from lernwerk.serving.inspections import InspectionManager
from lernwerk.serving.schemas import ClassName, InspectionView, SampleIds

router = APIRouter(tags=["inspections"], responses=error_responses(401))

_READ = error_responses(404, 422)
_INSPECT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "a zip of images, images, a CSV or a .ts file",
                        },
                        "review_below": {"type": "string", "description": "e.g. 0.9"},
                        "review_rate": {"type": "string", "description": "e.g. 5%"},
                    },
                    "required": ["files"],
                }
            }
        },
    }
}


def get_inspections(request: Request) -> InspectionManager:
    return request.app.state.inspections


@router.post(
    "/runs/{run_id}/inspect",
    status_code=202,
    openapi_extra=_INSPECT_BODY,
    response_model=InspectionView,
    responses=error_responses(400, 404, 409, 413, 422),
)
async def inspect(
    run_id: str,
    request: Request,
    ws: Workspace = Depends(get_workspace),
    inspections: InspectionManager = Depends(get_inspections),
) -> dict[str, Any]:
    """Inspect a batch with a trained run, in the background: answers the job at once;
    `GET /api/inspections/{id}` gives its progress, then the report."""
    if not is_multipart(request):
        raise request_error("files", "send the batch as multipart/form-data `files`", "missing")
    form = await request.form()
    uploads = [f for f in (*form.getlist("files"), *form.getlist("file")) if not isinstance(f, str)]
    files = [(f.filename or "upload", await f.read()) for f in uploads]
    below = _number(form.get("review_below"), "review_below")
    rate_text = form.get("review_rate")
    rate = parse_rate(rate_text) if isinstance(rate_text, str) and rate_text else None

    def start() -> dict[str, Any]:
        run = ws.run(run_id)
        model = run.inspect_model()
        rule = resolve_rule(model, below, rate)
        return inspections.submit(run, model, rule, files).to_dict()

    return await run_in_threadpool(start)


def _number(value: Any, field: str) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return float(value)
    except ValueError:  # a SpecError: the schema allows any text here
        raise SpecError(f"expected a number such as 0.9; received {value!r}", where=field) from None


@router.get("/inspections/{inspection_id}", response_model=InspectionView, responses=_READ)
def show_inspection(
    inspection_id: str, inspections: InspectionManager = Depends(get_inspections)
) -> dict[str, Any]:
    """An inspection's status and progress; once finished, its summary and every row
    (the flagged ones with `review` true and `why`, thumbnails as data URIs)."""
    return inspections.get(inspection_id).to_dict()


@router.get(
    "/inspections/{inspection_id}/report.html",
    response_class=FileResponse,
    responses={200: {"content": {"text/html": {}}, "description": "report.html"}, **_READ},
)
def report_html(
    inspection_id: str, inspections: InspectionManager = Depends(get_inspections)
) -> FileResponse:
    """The self-contained HTML report of a finished inspection."""
    return FileResponse(
        inspections.report_file(inspection_id, "report.html"), media_type="text/html"
    )


@router.get(
    "/inspections/{inspection_id}/report.csv",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "report.csv"}, **_READ},
)
def report_csv(
    inspection_id: str, inspections: InspectionManager = Depends(get_inspections)
) -> FileResponse:
    """Every item of a finished inspection, one CSV row each."""
    return FileResponse(
        inspections.report_file(inspection_id, "report.csv"),
        media_type="text/csv",
        filename=f"inspection-{inspection_id}.csv",
    )


@router.post(
    "/inspections/{inspection_id}/items/{index:int}/label",
    status_code=201,
    response_model=SampleIds,
    responses=error_responses(400, 404, 409, 413, 422),
)
async def label_item(
    inspection_id: str,
    index: int,
    body: ClassName,
    ws: Workspace = Depends(get_workspace),
    inspections: InspectionManager = Depends(get_inspections),
) -> dict[str, Any]:
    """Add an inspected image to the run's dataset under the right class (a correction),
    ready for the next training."""

    def add() -> dict[str, Any]:
        job = inspections.get(inspection_id)
        name, data = inspections.item(inspection_id, index)
        return ws.add_image_samples(job.dataset, body.name, files=[(name, data)])

    return await run_in_threadpool(add)
