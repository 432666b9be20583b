"""The public Python API, the one entry that both the CLI and the web server use.

import lernwerk as lw
run = lw.fit("xor", "mlp", epochs=50)
run.history            # a pandas DataFrame, one row per epoch
run.evaluate("test")   # accuracy, per-class precision/recall/F1, confusion matrix ...
run.predict(x)         # probabilities per class
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lernwerk.api.datasets import DatasetsNamespace
from lernwerk.api.run import Run
from lernwerk.api.workspace import Workspace
from lernwerk.config import ModelSpec
from lernwerk.data import Dataset
from lernwerk.models import ModelSummary, build_network, resolve_model, summarize

# -- module-level conveniences --------------------------------------------------------------


def _workspace(workspace: Workspace | str | Path | None) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace(workspace)


def fit(
    dataset: str | Dataset,
    model: str | dict[str, Any] | ModelSpec,
    *,
    workspace: Workspace | str | Path | None = None,
    **train: Any,
) -> Run:
    """Train `model` on `dataset` in a workspace (default: ./lernwerk-workspace)."""
    return _workspace(workspace).fit(dataset, model, **train)


def load_run(ref: str, workspace: Workspace | str | Path | None = None) -> Run:
    """A stored run by id, unique id prefix or name."""
    return _workspace(workspace).run(ref)


def model_summary(
    model: str | dict[str, Any] | ModelSpec,
    *,
    dataset: str | Dataset | None = None,
    input_shape: tuple[int, ...] | None = None,
    outputs: int | None = None,
    workspace: Workspace | str | Path | None = None,
) -> ModelSummary:
    """Summarise a model for a dataset's input (and classes) or for a given input shape.

    A model name may be a preset or, with a workspace, a model saved there.

    Raises:
        SpecError: the model does not fit the input; the message names the layer.
    """
    if dataset is None and workspace is None:  # no workspace needed (nor created)
        return summarize(build_network(resolve_model(model), input_shape, outputs))
    return _workspace(workspace).model_summary(
        model, dataset=dataset, input_shape=input_shape, outputs=outputs
    )


datasets = DatasetsNamespace(Workspace)

__all__ = ["Run", "Workspace", "datasets", "fit", "load_run", "model_summary"]
