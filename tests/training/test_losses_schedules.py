"""The losses and the reduce-on-plateau schedule a run can choose beyond the defaults:
label smoothing and focal loss for classification, Huber for regression; each against its
formula or torch as the oracle, and through a run, the CLI and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from lernwerk.cli import main
from lernwerk.errors import SpecError
from lernwerk.training.tasks import (
    FOCAL_GAMMA,
    HUBER_DELTA,
    LABEL_SMOOTHING,
    ClassificationTask,
    RegressionTask,
)


def _logits() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(32, 4, generator=g), torch.randint(0, 4, (32,), generator=g)


def test_label_smoothing_is_cross_entropy_against_smoothed_targets() -> None:
    logits, y = _logits()
    task = ClassificationTask.create("label_smoothing", classes=list("abcd"), y_train=None)
    log_p = torch.log_softmax(logits, dim=1)  # (N, C)
    target = torch.full_like(log_p, LABEL_SMOOTHING / 4)
    target[torch.arange(32), y] += 1 - LABEL_SMOOTHING
    expected = -(target * log_p).sum(dim=1).mean()
    assert float(task.loss_fn(logits, task.targets(y))) == pytest.approx(float(expected), rel=1e-5)


def test_focal_loss_weighs_down_the_confident_right_answers() -> None:
    logits, y = _logits()
    task = ClassificationTask.create("focal", classes=list("abcd"), y_train=None)
    p = torch.softmax(logits, dim=1)[torch.arange(32), y]  # (N,)
    expected = (-((1 - p) ** FOCAL_GAMMA) * torch.log(p)).mean()
    loss = task.loss_fn(logits, task.targets(y))
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    assert float(loss) < float(F.cross_entropy(logits, y))  # never more than cross-entropy


def test_huber_is_quadratic_near_and_linear_far() -> None:
    task = RegressionTask.create("huber", classes=[], y_train=None)
    out = torch.tensor([[0.5], [3.0]])
    targets = torch.zeros(2, 1)
    expected = (0.5 * 0.5**2 + HUBER_DELTA * (3.0 - 0.5 * HUBER_DELTA)) / 2
    assert float(task.loss_fn(out, targets)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("task_class", "loss", "message"),
    [
        (ClassificationTask, "huber", "loss 'huber' does not suit classification"),
        (RegressionTask, "focal", "loss 'focal' does not suit regression; use mse or mae or huber"),
    ],
)
def test_a_loss_of_another_task_is_refused(task_class, loss: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        task_class.create(loss, classes=["a", "b"], y_train=None)


def _keras_plateau(values: list[float], patience: int, factor: float) -> list[float]:
    """The factor on the rate each epoch trains at, by Keras's ReduceLROnPlateau rule (a
    loss lower by at least 1e-4 resets the wait; `patience` epochs without one cut it)."""
    best, wait, scale, scales = None, 0, 1.0, []
    for value in values:
        scales.append(scale)
        if best is None or value < best - 1e-4:
            best, wait = value, 0
            continue
        wait += 1
        if wait >= patience:
            scale, wait = scale * factor, 0
    return scales


def test_a_plateau_run_lowers_the_rate_when_validation_stalls(workspace) -> None:
    run = workspace.fit(
        "xor:samples=200",
        "mlp",
        schedule="plateau",
        plateau_patience=1,
        plateau_factor=0.5,
        lr=0.05,
        epochs=12,
        seed=0,
    )
    history = run.history
    scales = _keras_plateau(history["val_loss"].tolist(), patience=1, factor=0.5)
    assert history["lr"].tolist() == pytest.approx([0.05 * f for f in scales])
    assert history["lr"].iloc[-1] < 0.05  # it did stall here and decay


@pytest.mark.parametrize(
    ("dataset", "loss"),
    [("xor:samples=200", "label_smoothing"), ("xor:samples=200", "focal"), (None, "huber")],
)
def test_each_loss_trains(workspace, regression_dataset, dataset, loss: str) -> None:
    run = workspace.fit(dataset or regression_dataset, "mlp", loss=loss, epochs=4, seed=0)
    assert run.config["train"]["loss"] == loss and run.predictor.task.loss == loss
    losses = run.history["train_loss"]
    assert losses.notna().all() and losses.iloc[-1] < losses.iloc[0]


def test_cli_flags_for_loss_and_schedule(capsys, tmp_path: Path) -> None:
    args = ["--workspace", str(tmp_path / "ws"), "train", "-d", "xor:samples=200", "-m", "mlp"]
    flags = ["--loss", "focal", "--schedule", "plateau", "--plateau-factor", "0.25"]
    code = main([*args, *flags, "--plateau-patience", "2", "--epochs", "2", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    run = json.loads(out)["run_id"]
    code = main(["--workspace", str(tmp_path / "ws"), "runs", "show", run, "--json"])
    train = json.loads(capsys.readouterr().out)["config"]["train"]
    assert (train["loss"], train["schedule"]) == ("focal", "plateau")
    assert (train["plateau_factor"], train["plateau_patience"]) == (0.25, 2)
    code = main([*args, "--loss", "huber", "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "loss 'huber' does not suit classification" in err
    assert len(err.strip().splitlines()) == 1


def test_a_resumed_plateau_run_keeps_its_decays(workspace) -> None:
    settings = {"schedule": "plateau", "plateau_patience": 1, "lr": 0.05, "seed": 0}
    whole = workspace.fit("xor:samples=200", "mlp", epochs=12, **settings)
    part = workspace.fit("xor:samples=200", "mlp", epochs=7, **settings)
    assert part.history["lr"].iloc[-1] < 0.05  # decayed before the break
    resumed = workspace.resume(part.id, epochs=12)
    assert resumed.history["lr"].tolist() == pytest.approx(whole.history["lr"].tolist())
    assert resumed.history["val_loss"].tolist() == pytest.approx(
        whole.history["val_loss"].tolist(), rel=1e-5
    )
