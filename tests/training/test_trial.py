"""The sweep's listener: each epoch's value goes out, a prune answer stops the run once."""

from __future__ import annotations

from typing import Any

from lernwerk.events import EpochEnded
from lernwerk.training.trial import PRUNED_PREFIX, TrialReporter


class FakeTrainer:
    def __init__(self) -> None:
        self.stops: list[str] = []

    def request_stop(self, reason: str, *, finished: bool = False) -> None:
        assert not finished  # a pruned run is stopped, not finished
        self.stops.append(reason)


def epoch(n: int, **metrics: float) -> EpochEnded:
    return EpochEnded("run", n, 5, metrics, float(n))


def test_reports_each_epoch_and_stops_once_when_pruned() -> None:
    calls: list[tuple[int, float]] = []

    def report(step: int, value: float) -> bool:
        calls.append((step, value))
        return step >= 2

    reporter = TrialReporter("val_accuracy", report)
    trainer: Any = FakeTrainer()
    reporter.trainer = trainer
    reporter.on_event(epoch(1, val_accuracy=0.5, val_loss=1.0))
    assert trainer.stops == [] and reporter.pruned_at is None
    reporter.on_event(epoch(2, val_accuracy=0.55))
    reporter.on_event(epoch(3, val_accuracy=0.6))  # the stop takes a step to act
    assert calls == [(1, 0.5), (2, 0.55), (3, 0.6)] and reporter.values == [0.5, 0.55, 0.6]
    assert reporter.pruned_at == 2 and len(trainer.stops) == 1
    assert trainer.stops[0].startswith(f"{PRUNED_PREFIX} after epoch 2: val_accuracy 0.55")


def test_a_missing_or_nan_value_is_not_reported() -> None:
    calls: list[int] = []
    reporter = TrialReporter("val_accuracy", lambda step, value: bool(calls.append(step)))
    reporter.trainer = FakeTrainer()  # type: ignore[assignment]
    reporter.on_event(epoch(1, train_loss=0.3))
    reporter.on_event(epoch(2, val_accuracy=float("nan")))
    assert calls == [] and reporter.values == []
