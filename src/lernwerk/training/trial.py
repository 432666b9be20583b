"""The listener through which a sweep's trial sees its run: per-epoch values out, prune in.

It knows nothing of Optuna: the sweep gives it a `report(epoch, value) -> prune?` callable,
so the training layer stays free of the sweep library.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from lernwerk.events import EpochEnded
from lernwerk.training.callbacks import Listener

PRUNED_PREFIX = "pruned by the sweep"


class TrialReporter(Listener):
    """Reports `metric` after each epoch; stops the run when `report` answers prune.

    Args:
        metric: an epoch metric's name, e.g. "val_accuracy".
        report: called with (epoch, value); True asks to prune the trial.
    """

    def __init__(self, metric: str, report: Callable[[int, float], bool]) -> None:
        self.metric, self.report = metric, report
        self.pruned_at: int | None = None  # the epoch after which the trial was pruned
        self.values: list[float] = []  # the reported values, one per epoch

    def on_epoch_end(self, event: EpochEnded) -> None:
        assert self.trainer is not None
        value = event.metrics.get(self.metric)
        if value is None or not math.isfinite(value):
            return
        self.values.append(float(value))
        if self.report(event.epoch, float(value)) and self.pruned_at is None:
            self.pruned_at = event.epoch
            self.trainer.request_stop(
                f"{PRUNED_PREFIX} after epoch {event.epoch}: {self.metric} {value:.4g} "
                "is behind the other trials"
            )
