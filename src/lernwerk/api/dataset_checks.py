"""The data checks of a dataset in a workspace: `Workspace.check`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lernwerk.data import Dataset
from lernwerk.data.checks import check_dataset

_TASKS = ("classification", "regression", "anomaly", "forecasting")


class DatasetChecks:
    """`Workspace.check`: what is wrong with a dataset, before training on it."""

    if TYPE_CHECKING:

        def _dataset_facts(self, ref: str) -> Dataset: ...

    def check(
        self,
        dataset: str | Dataset,
        *,
        val_split: float = 0.2,
        test_split: float = 0.2,
        split_seed: int = 0,
        task: str | None = None,
    ) -> dict[str, Any]:
        """Run the data checks on a dataset with the splits a run would use.

        Args:
            dataset: a stored dataset's name, a built-in reference, or a `Dataset`.
            val_split, test_split, split_seed: the run's split settings.
            task: the run's task when it differs from the dataset's (anomaly skips the
                per-class rules).

        Returns:
            `{"dataset", "num_samples", "samples_checked", "sampled", "seconds", "splits",
            "counts": {severity: n}, "findings": [{code, severity, numbers, message, why,
            action}]}`, blockers first; a blocker would stop `fit`.

        Raises:
            NotFound: no dataset of that name. SpecError: bad split settings or task.
        """
        from lernwerk.errors import SpecError

        if task is not None and task not in _TASKS:
            raise SpecError(
                f"task must be one of {', '.join(_TASKS)}; received: {task!r}", where="task"
            )
        ds = dataset if isinstance(dataset, Dataset) else self._dataset_facts(dataset)
        report = check_dataset(
            ds, task=task, val_split=val_split, test_split=test_split, split_seed=split_seed
        )
        return report.to_dict()
