"""The playground's data from a workspace: a built-in, a stored table or uploaded CSV text."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from lernwerk.errors import DataError
from lernwerk.training.playground import (
    PlaneData,
    PlaygroundSession,
    PlaygroundSettings,
    builtin_data,
    csv_data,
    table_data,
)

if TYPE_CHECKING:
    from lernwerk.api.workspace import Workspace

MAX_TABLE_ROWS = 5000  # a larger table is sampled down to this many rows

__all__ = ["PlaygroundSession", "PlaygroundSettings", "playground_data", "playground_session"]


def playground_data(ws: Workspace, settings: PlaygroundSettings) -> PlaneData:
    """The points `settings.data` names.

    Raises:
        DataError: unknown data, a table without exactly two numeric features, bad CSV.
        NotFound: no stored table of that name.
    """
    if settings.data == "csv":
        if not settings.csv:
            raise DataError("data is 'csv' but no csv text came along", where="csv")
        return csv_data(settings.csv)
    if settings.data.startswith("table:"):
        name = settings.data.removeprefix("table:")
        ds = ws.load_dataset(name)
        if ds.kind != "table":
            raise DataError(
                f"dataset {name!r} holds {ds.kind}; the playground needs a table "
                "with two numeric features",
                where="data",
            )
        if not isinstance(ds.x, torch.Tensor):
            raise DataError(f"table {name!r} is too large for the playground", where="data")
        x, y = ds.x.numpy(), ds.y.numpy()
        if len(x) > MAX_TABLE_ROWS:
            keep = np.random.default_rng(0).choice(len(x), MAX_TABLE_ROWS, replace=False)
            x, y = x[keep], y[keep]
        return table_data(name, x, y, ds.task, list(ds.classes), list(ds.feature_names))
    return builtin_data(settings.data, settings.samples, settings.noise, settings.seed)


def playground_session(ws: Workspace, settings: PlaygroundSettings) -> PlaygroundSession:
    """A new session for `settings` (not yet training)."""
    return PlaygroundSession(settings, playground_data(ws, settings))
