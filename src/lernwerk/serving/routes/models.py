"""`/api/models` and `/api/layers`: presets and saved models, summaries, the layer registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Response

from lernwerk.api import Workspace
from lernwerk.api.models import layer_catalog
from lernwerk.serving.deps import get_workspace
from lernwerk.serving.errors import error_responses
from lernwerk.serving.schemas import (
    CodeView,
    LayerType,
    ModelItem,
    ModelSummaryView,
    SaveModel,
    SummaryRequest,
)

if TYPE_CHECKING:
    from lernwerk.models import ModelSummary

router = APIRouter(tags=["models"], responses=error_responses(401))

DEFAULT_OUTPUTS = 10  # what 'units: auto' means with neither a dataset nor `outputs`, as in the CLI


def summary_json(summary: ModelSummary) -> dict[str, Any]:
    """A summary for the designer: one row per layer (nested blocks included), totals."""
    layers = [
        {
            "index": row.index,
            "name": f"{row.type.lower()}_{row.index}",
            "type": row.type,
            "output_shape": list(row.output_shape),
            "params": row.params,
            "flops": row.flops,
            "depth": row.depth,
        }
        for row in summary.rows
    ]
    top = [row for row in summary.rows if row.depth == 0]
    return {
        "name": summary.name,
        "input_shape": list(summary.input_shape),
        "layers": layers,
        "total_params": summary.total_params,
        "trainable_params": summary.trainable_params,
        "total_flops": summary.flops_per_sample,
        "output_shape": list(top[-1].output_shape) if top else list(summary.input_shape),
        "output_activation": summary.output_activation,
    }


@router.get("/models", response_model=list[ModelItem])
def list_models(ws: Workspace = Depends(get_workspace)) -> list[dict[str, Any]]:
    """The shipped presets and the models saved in this workspace, with their specs."""
    return ws.list_models()


@router.post(
    "/models/summary",
    response_model=ModelSummaryView,
    responses=error_responses(400, 404, 413, 422),
)
def model_summary(body: SummaryRequest, ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """Layers, output shapes, parameters and FLOPs; a layer that does not fit is a 422
    whose `layer` is its (1-based) index."""
    spec = ws.resolve_model(body.spec, allow_files=False)
    shape = tuple(body.input_shape) if body.input_shape else None
    outputs = body.outputs if body.outputs or body.dataset else DEFAULT_OUTPUTS
    summary = ws.model_summary(
        spec, dataset=body.dataset, input_shape=shape, outputs=outputs, allow_files=False
    )
    return summary_json(summary)


@router.post(
    "/models/code",
    response_model=CodeView,
    responses=error_responses(400, 404, 413, 422),
)
def model_code(body: SummaryRequest, ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """The design as plain PyTorch code: imports, helper classes and an `nn.Module` class
    written layer by layer, for the dataset's input (or `input_shape`)."""
    spec = ws.resolve_model(body.spec, allow_files=False)
    shape = tuple(body.input_shape) if body.input_shape else None
    outputs = body.outputs if body.outputs or body.dataset else DEFAULT_OUTPUTS
    code = ws.model_code(
        spec, dataset=body.dataset, input_shape=shape, outputs=outputs, allow_files=False
    )
    return {"filename": "model.py", "code": code}


@router.post(
    "/models",
    status_code=201,
    response_model=ModelItem,
    responses=error_responses(400, 409, 413, 422),
)
def save_model(body: SaveModel, ws: Workspace = Depends(get_workspace)) -> dict[str, Any]:
    """Save a spec as `models/NAME.yaml` in the workspace; it is then found by its name."""
    spec = ws.save_model(body.name, body.spec)
    return {
        "name": spec.name,
        "description": spec.description,
        "source": "workspace",
        "spec": spec.to_dict(),
    }


@router.delete(
    "/models/{name}", status_code=204, response_class=Response, responses=error_responses(404, 422)
)
def delete_model(name: str, ws: Workspace = Depends(get_workspace)) -> Response:
    """Delete a saved model (runs trained with it keep their copy of the spec)."""
    ws.delete_model(name)
    return Response(status_code=204)


@router.get("/layers", response_model=list[LayerType])
def layers() -> list[dict[str, Any]]:
    """The layer registry: each type with its parameters, types, defaults and choices."""
    return layer_catalog()
