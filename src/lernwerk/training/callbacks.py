"""Listeners: everything that reacts to training events, the loop's only audience.

A listener overrides the hooks it needs; `on_event` routes each event to its hook.
It asks for a stop through `self.trainer.request_stop(reason)`, never by raising.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from lernwerk.events import (
    BatchEnded,
    CheckpointSaved,
    EpochEnded,
    Event,
    RunFailed,
    RunFinished,
    RunStarted,
    RunStopped,
)

if TYPE_CHECKING:
    from lernwerk.training.trainer import Trainer


class Listener:
    """Base class: hooks named on_<scope>_<start|end>, all optional."""

    trainer: Trainer | None = None

    def on_event(self, event: Event) -> None:
        hook = {
            RunStarted: self.on_run_start,
            BatchEnded: self.on_batch_end,
            EpochEnded: self.on_epoch_end,
            CheckpointSaved: self.on_checkpoint,
            RunFinished: self.on_run_end,
            RunStopped: self.on_run_end,
            RunFailed: self.on_run_end,
        }.get(type(event))
        if hook is not None:
            hook(event)

    def on_run_start(self, event: RunStarted) -> None: ...

    def on_batch_end(self, event: BatchEnded) -> None: ...

    def on_epoch_end(self, event: EpochEnded) -> None: ...

    def on_checkpoint(self, event: CheckpointSaved) -> None: ...

    def on_run_end(self, event: RunFinished | RunStopped | RunFailed) -> None: ...


class EarlyStopping(Listener):
    """Stop when the monitored metric has not improved for `patience` epochs.

    The trainer tracks the best epoch and restores its weights at the end.
    """

    def __init__(self, patience: int, monitor: str) -> None:
        self.patience, self.monitor = patience, monitor

    def on_epoch_end(self, event: EpochEnded) -> None:
        assert self.trainer is not None
        best = self.trainer.state.best_epoch
        if best is not None and event.epoch - best >= self.patience:
            self.trainer.request_stop(
                f"early stopping: {self.monitor} has not improved for {self.patience} epochs "
                f"(best at epoch {best})",
                finished=True,
            )


class History(Listener):
    """Collects the per-epoch metrics in memory, as Keras's History does."""

    def __init__(self) -> None:
        self.epochs: list[dict[str, float]] = []

    def on_epoch_end(self, event: EpochEnded) -> None:
        self.epochs.append({"epoch": event.epoch, **event.metrics})


class Throttle:
    """True at most every `interval_s` seconds; for listeners that must not flood."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s, self._last = interval_s, 0.0

    def ready(self) -> bool:
        now = time.monotonic()
        if now - self._last >= self.interval_s:
            self._last = now
            return True
        return False
