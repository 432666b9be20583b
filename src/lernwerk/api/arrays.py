"""`lw.fit(X, y)`: training on samples held as arrays, without creating a dataset first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lernwerk.data.arrays import dataset_from_arrays
from lernwerk.training.defaults import default_model

if TYPE_CHECKING:
    from lernwerk.api.run import Run
    from lernwerk.api.workspace import Workspace
    from lernwerk.config import ModelSpec


def fit_arrays(
    workspace: Workspace,
    x: Any,
    y: Any,
    model: str | dict[str, Any] | ModelSpec | None = None,
    **train: Any,
) -> Run:
    """Store `x` and `y` as the dataset `arrays-<hash>` and train `model` on it.

    `model` defaults to what the train page picks for the data's kind and shape (an MLP
    for a table); `train` may hold `task="regression"` or `"classification"` to override
    the task read from `y`.

    Raises:
        DataError: the shapes of `x` and `y` fit no dataset (the message says which).
        SpecError, NotFound: as `Workspace.fit`.
    """
    task = train.get("task")
    ds = dataset_from_arrays(x, y, task=task if task in ("classification", "regression") else None)
    if model is None:
        model = default_model(ds.kind, list(ds.input_shape), task or ds.task)
    return workspace.fit(ds, model, **train)
