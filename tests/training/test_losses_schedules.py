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
from lernwerk.config import TrainConfig
from lernwerk.errors import SpecError
from lernwerk.training.optim import plateau_update
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


def test_plateau_equals_torch_reduce_lr_on_plateau() -> None:
    values = [1.0, 0.8, 0.8, 0.79995, 0.81, 0.7, 0.7, 0.7, 0.7, 0.69, 0.71, 0.72, 0.73, 0.74]
    config = TrainConfig(lr=0.1, schedule="plateau", step_size_epochs=2, gamma=0.5)
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1)
    oracle = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2)
    best, wait, scale = None, 0, 1.0
    for value in values:
        oracle.step(value)
        best, wait, decay = plateau_update(value, best, wait, True, config)
        scale *= config.gamma if decay else 1.0
        assert 0.1 * scale == pytest.approx(optimizer.param_groups[0]["lr"])
    assert scale < 1  # the sequence does decay


def test_a_plateau_run_lowers_the_rate_when_validation_stalls(workspace) -> None:
    run = workspace.fit(
        "xor:samples=200",
        "mlp",
        schedule="plateau",
        step_size_epochs=1,
        gamma=0.5,
        lr=0.05,
        epochs=12,
        seed=0,
    )
    config = TrainConfig(lr=0.05, schedule="plateau", step_size_epochs=1, gamma=0.5)
    history = run.history
    best, wait, scale = None, 0, 1.0
    for i, value in enumerate(history["val_loss"]):
        assert history["lr"].iloc[i] == pytest.approx(0.05 * scale)  # the rate it trained at
        best, wait, decay = plateau_update(value, best, wait, True, config)
        scale *= 0.5 if decay else 1.0
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
    flags = ["--loss", "focal", "--schedule", "plateau", "--gamma", "0.5"]
    code = main([*args, *flags, "--step-size-epochs", "2", "--epochs", "2", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    run = json.loads(out)["run_id"]
    code = main(["--workspace", str(tmp_path / "ws"), "runs", "show", run, "--json"])
    train = json.loads(capsys.readouterr().out)["config"]["train"]
    assert (train["loss"], train["schedule"], train["gamma"], train["step_size_epochs"]) == (
        "focal",
        "plateau",
        0.5,
        2,
    )
    code = main([*args, "--loss", "huber", "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "loss 'huber' does not suit classification" in err
    assert len(err.strip().splitlines()) == 1


def test_a_resumed_plateau_run_keeps_its_decays(workspace) -> None:
    settings = {"schedule": "plateau", "step_size_epochs": 1, "gamma": 0.5, "lr": 0.05, "seed": 0}
    whole = workspace.fit("xor:samples=200", "mlp", epochs=12, **settings)
    part = workspace.fit("xor:samples=200", "mlp", epochs=7, **settings)
    assert part.history["lr"].iloc[-1] < 0.05  # decayed before the break
    resumed = workspace.resume(part.id, epochs=12)
    assert resumed.history["lr"].tolist() == pytest.approx(whole.history["lr"].tolist())
    assert resumed.history["val_loss"].tolist() == pytest.approx(
        whole.history["val_loss"].tolist(), rel=1e-5
    )
