"""The live progress bar of `lernwerk train`: a training listener (it loads PyTorch)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from lernwerk.events import BatchEnded, EpochEnded, RunFinished, RunStarted
from lernwerk.training import Listener
from lernwerk.training.callbacks import format_seconds


class ProgressBar(Listener):
    """A Rich progress bar on stderr: epoch, step, loss, validation metric, elapsed, ETA."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}"),
            BarColumn(),
            TextColumn("step {task.fields[step]}"),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[metric]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[budget]}"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task_id: Any = None
        self.steps = 1

    def on_run_start(self, event: RunStarted) -> None:
        self.steps = event.steps_per_epoch
        self.progress.start()
        self.task_id = self.progress.add_task(
            "train",
            total=event.epochs * event.steps_per_epoch,
            completed=event.start_epoch * event.steps_per_epoch,
            epoch=f"{event.start_epoch}/{event.epochs}",
            step=f"0/{event.steps_per_epoch}",
            loss="-",
            metric="",
            budget=self._budget(),
        )

    def _budget(self) -> str:
        """'of 5 min budget' when a time budget stops the run, else nothing."""
        seconds = self.trainer.config.time_budget_s if self.trainer is not None else None
        return f"of {format_seconds(seconds)} budget" if seconds else ""

    def on_batch_end(self, event: BatchEnded) -> None:
        self.progress.update(
            self.task_id,
            completed=(event.epoch - 1) * event.steps_per_epoch + event.step,
            epoch=f"{event.epoch}",
            step=f"{event.step}/{event.steps_per_epoch}",
            loss=f"{event.loss:.4f}",
        )

    def on_epoch_end(self, event: EpochEnded) -> None:
        m = event.metrics
        metric = " ".join(
            f"{k} {m[k]:.4f}" for k in ("val_loss", "val_accuracy", "val_mae") if k in m
        )
        self.progress.update(
            self.task_id,
            completed=event.epoch * self.steps,
            epoch=f"{event.epoch}/{event.epochs}",
            step=f"{self.steps}/{self.steps}",
            loss=f"{m['train_loss']:.4f}",
            metric=metric,
        )

    def on_run_end(self, event: Any) -> None:
        self.progress.stop()
        reason = getattr(event, "reason", None)
        if isinstance(event, RunFinished) and reason:
            self.progress.console.print(reason, markup=False, highlight=False)
