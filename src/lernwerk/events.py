"""Typed, immutable events the trainer emits.

The training loop knows nothing of terminals or browsers: it emits these, and the
progress bar, the history, checkpoints, early stopping and the store writer listen.
Each event turns into a plain dict (`to_dict`) for the store and for Server-Sent Events.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    run_id: str

    @property
    def type(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True)
class RunStarted(Event):
    epochs: int
    steps_per_epoch: int
    start_epoch: int  # 0 for a fresh run, the checkpoint's epoch on resume
    device: str
    num_parameters: int


@dataclass(frozen=True)
class BatchEnded(Event):
    epoch: int  # 1-based
    step: int  # 1-based within the epoch
    steps_per_epoch: int
    loss: float  # running mean of the training loss over this epoch so far
    elapsed_s: float


@dataclass(frozen=True)
class EpochEnded(Event):
    epoch: int  # 1-based
    epochs: int
    metrics: dict[str, float] = field(
        default_factory=dict
    )  # train_loss, val_loss, val_accuracy, lr …
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class CheckpointSaved(Event):
    epoch: int
    path: str


@dataclass(frozen=True)
class RunFinished(Event):
    epochs_done: int
    elapsed_s: float
    best_epoch: int | None = None
    best_metric: float | None = None
    reason: str | None = None  # why it ended before its epochs (early stopping, time budget)


@dataclass(frozen=True)
class RunStopped(Event):
    epochs_done: int
    elapsed_s: float
    reason: str = "stop requested"


@dataclass(frozen=True)
class RunFailed(Event):
    epochs_done: int
    elapsed_s: float
    error: str = ""


TERMINAL_EVENTS = (RunFinished, RunStopped, RunFailed)
