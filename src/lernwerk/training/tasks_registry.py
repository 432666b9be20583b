"""The registered tasks, all of them: making a task by name, choosing the one a dataset
calls for, and rebuilding a saved one.

Tasks register themselves where they are defined (`tasks`: classification and
regression, `tasks_sequence`: forecasting and anomaly detection); this module imports
them all, so that a task named by a user, a config or a saved model is found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from lernwerk.errors import SpecError
from lernwerk.training import (
    tasks_generate,  # noqa: F401  (its task registers itself)
    tasks_sequence,  # noqa: F401  (its tasks register themselves)
)
from lernwerk.training.tasks import TASKS, Task

if TYPE_CHECKING:
    from lernwerk.data import Dataset


def make_task(
    task: str,
    loss: str | None,
    *,
    classes: list[str],
    y_train: torch.Tensor | None = None,
    **options: Any,
) -> Task:
    """Resolve the loss for a task and the number of outputs it needs.

    `options` are what a task may take beyond the dataset's classes and training targets
    (the anomaly task's `normal_class` and `input_shape`, …); a task ignores the ones
    it does not use.

    Raises:
        SpecError: an unknown task, or the loss does not suit the task (e.g. mse for
            classification).
    """
    return task_class(task).create(loss, classes=classes, y_train=y_train, **options)


def task_class(name: str) -> type[Task]:
    """The task registered under `name`.

    Raises:
        SpecError: no task is registered under that name.
    """
    if name not in TASKS:
        raise SpecError(f"unknown task '{name}'; expected one of: {', '.join(TASKS)}", where="task")
    return TASKS[name]


def resolve_task(name: str | None, ds: Dataset) -> type[Task]:
    """The task a run on `ds` trains: the one named, else the registered task that claims
    the dataset most (forecasting for forecast windows, else the dataset's own kind of
    labels), checked against the dataset (`Task.check_data`).

    Raises:
        SpecError: an unknown task, no task claims the dataset, or the task does not
            suit it (classification on numeric targets, forecasting without windows).
        DataError: the data cannot train the task (a class without samples).
    """
    if name is None:
        claims = [(cls.claim(ds), cls) for cls in TASKS.values()]
        best = max((c for c, _ in claims), default=0)
        if best <= 0:
            known = ", ".join(TASKS)
            raise SpecError(
                f"no task trains on dataset '{ds.name}' by itself; name one of: {known}",
                where="task",
            )
        cls = next(cls for c, cls in claims if c == best)
    else:
        cls = task_class(name)
    cls.check_data(ds)
    return cls


def task_from_dict(d: dict[str, Any]) -> Task:
    """Rebuild a task saved with a model (`Task.to_dict`)."""
    name = d.get("task", "regression")
    if name not in TASKS:
        raise SpecError(f"unknown task '{name}' in a saved model", where="task")
    return TASKS[name].from_dict(d)
