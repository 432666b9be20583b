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
    from lernwerk.config import TrainConfig
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


class Plateau(Listener):
    """The `plateau` schedule: multiply the rate by `plateau_factor` after `plateau_patience`
    epochs without a lower monitored loss, down to `lr_min` (Keras's ReduceLROnPlateau,
    as Ismail Fawaz et al. 2019 train with; a loss counts as lower by at least 1e-4).

    Its state (the factor on the peak rate, the best loss, the epochs waited) lives in the
    trainer's state, so a checkpoint holds it and a resume goes on where it was.
    """

    MIN_DELTA = 1e-4

    def __init__(self, config: TrainConfig) -> None:
        assert config.lr is not None, "resolve the config first"
        self.monitor, self.lr = config.monitor, config.lr
        self.factor, self.patience = config.plateau_factor, config.plateau_patience
        self.floor = min(config.lr_min / config.lr, 1.0)  # the lowest factor on the peak rate

    def on_epoch_end(self, event: EpochEnded) -> None:
        assert self.trainer is not None
        state = self.trainer.state
        value = event.metrics.get(self.monitor)
        if value is None:
            return
        if state.plateau_best is None or value < state.plateau_best - self.MIN_DELTA:
            state.plateau_best, state.plateau_wait = value, 0
            return
        state.plateau_wait += 1
        if state.plateau_wait >= self.patience and state.lr_scale > self.floor:
            state.lr_scale = max(state.lr_scale * self.factor, self.floor)
            state.plateau_wait = 0


class TimeBudget(Listener):
    """Stop after the epoch that brings the training time to `seconds` (summed over
    resumes); the run ends as finished and its RunFinished event says why."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_epoch_end(self, event: EpochEnded) -> None:
        assert self.trainer is not None
        if event.elapsed_s >= self.seconds and event.epoch < event.epochs:
            self.trainer.request_stop(
                f"time budget: {format_seconds(self.seconds)} of training reached after epoch "
                f"{event.epoch} of {event.epochs} (--time-budget to change it)",
                finished=True,
            )


def format_seconds(seconds: float) -> str:
    """300 -> '5 min', 90 -> '90 s', 5400 -> '1 h 30 min', 0.5 -> '0.5 s'."""
    if seconds < 10:
        return f"{seconds:.2g} s"
    s = round(seconds)
    if s < 120 or s % 60:
        return f"{s} s"
    hours, minutes = divmod(s // 60, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


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
