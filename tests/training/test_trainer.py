"""The training loop through the workspace: seeds, early stopping, stops, failures, resume."""

import numpy as np
import pandas as pd
import pytest

import lernwerk
from lernwerk.events import EpochEnded, Event, RunFinished, RunStarted
from lernwerk.export import Predictor

XOR = "xor:samples=200"  # 120 training rows: 8 steps of 16 per epoch
# dropout draws from torch's global generator: a resume must restore it as well
DROPOUT_MLP = {
    "name": "dropout-mlp",
    "layers": [
        {"Dense": {"units": 16, "activation": "relu"}},
        {"Dropout": {"rate": 0.3}},
        {"Dense": {"units": "auto", "activation": "softmax"}},
    ],
}


class Recorder(lernwerk.Listener):
    """Keeps every event it hears."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        super().on_event(event)


def val_split(workspace: lernwerk.Workspace, run: lernwerk.Run) -> tuple[np.ndarray, np.ndarray]:
    train = run.config["train"]
    ds = workspace.load_dataset(run.record.dataset)
    x, y = ds.subset(ds.split(train["val_split"], train["test_split"], train["split_seed"]).val)
    return x.numpy(), y.numpy()


def test_the_same_seed_gives_the_same_run(workspace) -> None:
    first = workspace.fit(XOR, DROPOUT_MLP, epochs=4, seed=3)
    second = workspace.fit(XOR, DROPOUT_MLP, epochs=4, seed=3)
    assert first.id != second.id
    pd.testing.assert_frame_equal(first.history, second.history, check_exact=True)
    assert first.metrics == second.metrics
    x, _ = val_split(workspace, first)
    np.testing.assert_array_equal(first.predict(x), second.predict(x))


def test_another_seed_gives_another_run(workspace) -> None:
    first = workspace.fit(XOR, "mlp", epochs=4, seed=3)
    other = workspace.fit(XOR, "mlp", epochs=4, seed=4)
    assert list(first.history.columns) == list(other.history.columns)
    assert not first.history["train_loss"].equals(other.history["train_loss"])


def test_events_arrive_in_order(workspace) -> None:
    recorder = Recorder()
    workspace.fit(XOR, "mlp", epochs=3, listeners=[recorder])
    events = recorder.events
    assert (
        isinstance(events[0], RunStarted) and events[0].epochs == 3 and events[0].start_epoch == 0
    )
    assert isinstance(events[-1], RunFinished) and events[-1].epochs_done == 3
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [1, 2, 3]
    assert events[-2].type == "CheckpointSaved" and events[-2].epoch == 3  # the last epoch always
    assert all(e.run_id == events[0].run_id for e in events)


def test_early_stopping_stops_and_restores_the_best_epoch(workspace) -> None:
    run = workspace.fit(XOR, "mlp", lr=0.05, epochs=1000, early_stopping=2, seed=0)
    history = run.history
    best_epoch = int(history["val_loss"].idxmin())
    best = history["val_loss"].min()
    assert run.status == "finished"
    assert len(history) == best_epoch + 2 < 1000  # patience 2: two epochs without improvement
    assert run.record.epoch == len(history)
    assert (run.record.best_epoch, run.record.best_metric) == (best_epoch, best)
    assert history["val_loss"].iloc[-1] > best + 1e-3  # the last weights are not the best ...
    # ... yet the saved model is the best epoch's: its validation loss is the best one
    x, y = val_split(workspace, run)
    proba = run.predict(x)
    val_loss = -np.log(proba[np.arange(len(y)), y]).mean()
    assert val_loss == pytest.approx(best, abs=1e-6)
    assert run.metrics["val"]["log_loss"] == pytest.approx(best, abs=1e-6)
    finished = [e for e in workspace.store.events(run.id) if e.type == "RunFinished"][0]
    assert finished.payload["best_epoch"] == best_epoch


def test_early_stopping_needs_a_validation_split(workspace) -> None:
    with pytest.raises(lernwerk.SpecError, match="early stopping needs a validation split"):
        workspace.fit(XOR, "mlp", early_stopping=2, val_split=0)
    assert workspace.runs() == []


class StopWhen(lernwerk.Listener):
    """Sets a stop signal from inside the run, as the web page's Stop button does."""

    def __init__(
        self, signal: lernwerk.StopSignal, *, batch_in_epoch: int = 0, epoch: int = 0
    ) -> None:
        self.signal, self.batch_in_epoch, self.epoch = signal, batch_in_epoch, epoch
        self.stopped_in: int | None = None

    def on_batch_end(self, event) -> None:
        if self.batch_in_epoch and event.epoch >= self.batch_in_epoch and self.stopped_in is None:
            self.stopped_in = event.epoch
            self.signal.set("stopped by the test")

    def on_epoch_end(self, event) -> None:
        if self.epoch and event.epoch == self.epoch:
            self.signal.set("stopped by the test")


def test_a_stop_signal_mid_epoch_stops_the_run_and_keeps_a_model(workspace) -> None:
    signal = lernwerk.StopSignal()
    # batch events come at most every 0.2 s; the first one in epoch 2 or later stops the run
    listener = StopWhen(signal, batch_in_epoch=2)
    run = workspace.fit(XOR, "mlp", epochs=10_000, stop_signal=signal, listeners=[listener])
    assert run.status == "stopped"
    assert listener.stopped_in is not None
    assert (
        run.record.epoch == len(run.history) == listener.stopped_in - 1
    )  # the cut epoch is dropped
    assert (run.dir / "model.safetensors").is_file() and (run.dir / "model.json").is_file()
    assert Predictor.load(run.dir).predict(np.zeros((3, 2), dtype=np.float32)).shape == (3, 2)
    stopped = [e for e in workspace.store.events(run.id) if e.type == "RunStopped"]
    assert stopped and stopped[0].payload["reason"] == "stopped by the test"
    assert "test" in run.metrics  # a stopped run is still evaluated


def test_a_stop_signal_at_an_epoch_end_keeps_that_epoch(workspace) -> None:
    signal = lernwerk.StopSignal()
    run = workspace.fit(
        XOR, "mlp", epochs=50, stop_signal=signal, listeners=[StopWhen(signal, epoch=3)]
    )
    assert run.status == "stopped"
    assert run.record.epoch == 3 and list(run.history.index) == [1, 2, 3]


def test_a_diverging_run_fails_with_run_failed(workspace, regression_dataset) -> None:
    linear = {"name": "linear", "layers": [{"Dense": {"units": "auto"}}]}
    with pytest.raises(lernwerk.RunFailed, match="try a lower learning rate") as info:
        workspace.fit(regression_dataset, linear, optimizer="sgd", lr=10, momentum=0.9, epochs=50)
    assert "training loss became" in str(info.value)
    [run] = workspace.runs()
    assert run.status == "failed"
    assert "training loss became" in run.record.error
    assert run.record.epoch == len(run.history) < 50
    assert [e.type for e in workspace.store.events(run.id)][-1] == "RunFailed"


def test_resume_continues_exactly_where_the_run_stopped(workspace) -> None:
    whole = workspace.fit(XOR, DROPOUT_MLP, epochs=6, seed=2)
    part = workspace.fit(XOR, DROPOUT_MLP, epochs=3, seed=2)
    assert part.status == "finished" and len(part.history) == 3
    assert (part.dir / "checkpoint.safetensors").is_file()
    resumed = workspace.resume(part.id, epochs=6)
    assert resumed.id == part.id
    assert resumed.status == "finished" and resumed.record.epoch == 6
    assert resumed.config["train"]["epochs"] == 6
    pd.testing.assert_frame_equal(whole.history, resumed.history, check_exact=True)
    assert whole.metrics == resumed.metrics
    x, _ = val_split(workspace, whole)
    np.testing.assert_array_equal(whole.predict(x), resumed.predict(x))
    started = [e for e in workspace.store.events(part.id) if e.type == "RunStarted"]
    assert [e.payload["start_epoch"] for e in started] == [0, 3]


def test_resume_refuses_what_it_cannot_do(workspace) -> None:
    run = workspace.fit(XOR, "mlp", epochs=2)
    with pytest.raises(lernwerk.Conflict, match="already finished its 2 epochs"):
        workspace.resume(run.id)
    with pytest.raises(lernwerk.SpecError, match="less than the run's 2"):
        workspace.resume(run.id, epochs=1)
    # a checkpoint from other settings (here: another learning rate) is not loaded
    config = run.config
    workspace.store.update_run(run.id, config={**config, "train": {**config["train"], "lr": 0.5}})
    with pytest.raises(lernwerk.Conflict, match="different model spec or training config"):
        workspace.resume(run.id, epochs=4)


@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"])
def test_training_loss_and_accuracy_average_over_every_sample(workspace, loss: str) -> None:
    # a learning rate too small to move the weights: every batch sees the same model, so
    # the epoch's training loss and accuracy are those of the final model on the training
    # split; 120 rows at batch 16 end in a short batch of 8, which weighs by its size
    run = workspace.fit(
        XOR, "mlp", optimizer="sgd", lr=1e-12, batch_size=16, epochs=1, seed=0, loss=loss
    )
    train = run.config["train"]
    ds = workspace.load_dataset(run.record.dataset)
    x, y = ds.subset(ds.split(train["val_split"], train["test_split"], train["split_seed"]).train)
    assert len(y) % 16 == 8
    proba = run.predict(x.numpy())
    y = y.numpy()
    first = run.history.iloc[0]
    assert first["train_accuracy"] == pytest.approx((proba.argmax(1) == y).mean(), abs=1e-9)
    log_loss = -np.log(proba[np.arange(len(y)), y]).mean()
    assert first["train_loss"] == pytest.approx(log_loss, rel=1e-5)
