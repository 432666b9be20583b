"""The defaults of sequence classification (docs/sequences.md): hold-out, recipe per
network, the plateau schedule, the time budget, and a resume under them."""

from types import SimpleNamespace

import pandas as pd
import pytest
import torch

import lernwerk
from lernwerk.cli import main
from lernwerk.config import TrainConfig
from lernwerk.events import EpochEnded
from lernwerk.models import load_preset
from lernwerk.training.callbacks import Plateau, format_seconds
from lernwerk.training.checkpoint import TrainerState
from lernwerk.training.defaults import (
    SEQUENCE_HOLDOUT_MIN,
    default_val_split,
    resolve_train_config,
)
from lernwerk.training.run import RunPlan

TINY_CONV = {
    "name": "tiny-conv",
    "layers": [
        {"Conv1D": {"filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"}},
        "GlobalAveragePooling1D",
        {"Dense": {"units": "auto", "activation": "softmax"}},
    ],
}


def series(n: int, length: int = 8, task: str = "classification") -> lernwerk.Dataset:
    """n two-class series; the classes differ in their mean."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    x = torch.randn(n, 1, length, generator=g) + y.view(-1, 1, 1).float()
    return lernwerk.Dataset(
        name=f"series{n}",
        kind="sequences",
        task=task,
        x=x,
        y=y if task == "classification" else y.float(),
        classes=["a", "b"] if task == "classification" else [],
        feature_names=[],
        source={},
    )


def test_the_hold_out_rule_follows_the_pool_size() -> None:
    small, rule = default_val_split("sequences", "classification", SEQUENCE_HOLDOUT_MIN - 1)
    assert small == 0.0 and "none held out" in rule
    large, rule = default_val_split("sequences", "classification", SEQUENCE_HOLDOUT_MIN)
    assert large == 0.2 and "20 %" in rule
    # other kinds and tasks keep the 20 % of before
    assert default_val_split("images", "classification", 50)[0] == 0.2
    assert default_val_split("sequences", "regression", 50)[0] == 0.2


def test_a_small_set_trains_on_all_its_series_with_the_plateau_schedule() -> None:
    plan = RunPlan(series(100), load_preset("fcn1d"), TrainConfig())
    cfg = plan.config
    assert len(plan.splits.val) == 0 and len(plan.splits.train) == 80  # 20 % test, no val
    assert cfg.val_split == 0.0 and cfg.monitor == "train_loss"
    assert (cfg.schedule, cfg.lr_min, cfg.plateau_factor, cfg.plateau_patience) == (
        "plateau",
        1e-4,
        0.5,
        50,
    )
    assert cfg.keep_best is True and cfg.early_stopping == 0
    assert (cfg.epochs, cfg.batch_size, cfg.lr) == (2000, 8, 1e-3)  # batch: a tenth of 80
    assert cfg.time_budget_s == 480
    for key in ("val_split", "epochs", "batch_size", "schedule", "monitor", "time_budget_s"):
        assert key in cfg.rules, key
    assert "none held out" in cfg.rules["val_split"]
    assert "FCN" in cfg.rules["epochs"]


def test_a_large_set_holds_out_20_percent_and_stops_on_it() -> None:
    ds = series(1400)  # 1 120 series outside the test split
    plan = RunPlan(ds, load_preset("fcn1d"), TrainConfig())
    cfg = plan.config
    assert cfg.val_split == 0.2 and len(plan.splits.val) == 280
    assert cfg.monitor == "val_loss" and cfg.schedule == "plateau"
    assert cfg.early_stopping == 100 and cfg.keep_best is True
    assert cfg.batch_size == 16


@pytest.mark.parametrize(
    ("model", "epochs", "batch"),
    [("fcn1d", 2000, 16), ("resnet1d", 1500, 64), ("inception1d", 1500, 64),
     ("inceptiontime", 1500, 64), ("lstm1d", 2000, 16)],
)  # fmt: skip
def test_each_network_gets_its_papers_epochs_and_batch(model: str, epochs: int, batch: int) -> None:
    cfg = resolve_train_config(
        TrainConfig(), n_train=900, loss="x", kind="sequences", task="classification", model=model
    )
    assert (cfg.epochs, cfg.batch_size) == (epochs, batch)
    small = resolve_train_config(
        TrainConfig(), n_train=50, loss="x", kind="sequences", task="classification", model=model
    )
    assert small.batch_size == 5  # at most a tenth of the training series


def test_what_the_user_gives_stands_and_other_kinds_are_unchanged() -> None:
    given = TrainConfig(
        val_split=0.3, schedule="cosine", epochs=7, batch_size=4, lr=0.01, time_budget_s=0
    )
    plan = RunPlan(series(100), load_preset("fcn1d"), given)
    cfg = plan.config
    assert (cfg.val_split, cfg.schedule, cfg.epochs, cfg.batch_size, cfg.lr) == (
        0.3,
        "cosine",
        7,
        4,
        0.01,
    )
    assert cfg.time_budget_s == 0 and cfg.monitor == "val_loss"
    # sequence regression keeps the cosine rule and its 20 % validation split
    other = RunPlan(
        series(100, task="regression"), load_preset("fcn1d"), TrainConfig(task="regression")
    )
    assert other.config.val_split == 0.2 and other.config.schedule == "cosine"
    assert not other.config.time_budget_s and not other.config.keep_best


def _plateau(patience: int = 3, lr_min: float = 1e-4) -> tuple[Plateau, SimpleNamespace]:
    cfg = TrainConfig(
        lr=1e-3, lr_min=lr_min, monitor="train_loss", plateau_patience=patience, schedule="plateau"
    )
    listener = Plateau(cfg)
    trainer = SimpleNamespace(state=TrainerState())
    listener.trainer = trainer  # type: ignore[assignment]
    return listener, trainer


def _epoch(listener: Plateau, epoch: int, loss: float) -> None:
    listener.on_epoch_end(EpochEnded("r", epoch, 100, {"train_loss": loss}, 0.0))


def test_the_plateau_schedule_halves_after_patience_epochs_down_to_its_floor() -> None:
    listener, trainer = _plateau(patience=3)
    _epoch(listener, 1, 1.0)
    for epoch in (2, 3):
        _epoch(listener, epoch, 1.0)  # no lower loss: waiting
    assert trainer.state.lr_scale == 1.0
    _epoch(listener, 4, 1.0)  # the third epoch without a lower loss: halve
    assert trainer.state.lr_scale == 0.5
    _epoch(listener, 5, 0.5)  # a lower loss resets the wait
    for epoch in range(6, 8):
        _epoch(listener, epoch, 0.5)
    assert trainer.state.lr_scale == 0.5
    for epoch in range(8, 30):
        _epoch(listener, epoch, 0.5)
    assert trainer.state.lr_scale == pytest.approx(0.1)  # the floor: lr_min 1e-4 of 1e-3


def test_the_time_budget_stops_the_run_and_says_so(workspace: lernwerk.Workspace) -> None:
    run = workspace.fit(series(60), TINY_CONV, epochs=20, time_budget_s=0.01, seed=0)
    assert run.status == "finished" and run.record.epoch == 1
    assert run.config["train"]["time_budget_s"] == 0.01
    [finished] = [e for e in workspace.store.events(run.id) if e.type == "RunFinished"]
    assert finished.payload["reason"].startswith("time budget: 0.01 s of training reached after ")
    assert "epoch 1 of 20" in finished.payload["reason"]
    assert "test" in run.metrics
    # a resume with a larger budget (0: none) trains on to the run's epochs
    resumed = workspace.resume(run.id, time_budget_s=0)
    assert resumed.status == "finished" and resumed.record.epoch == 20
    assert resumed.config["train"]["time_budget_s"] == 0


def test_the_cli_takes_a_time_budget_and_the_bar_shows_it(
    capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    args = ["--workspace", str(tmp_path / "ws"), "train", "--dataset", "italypowerdemand"]
    code = main([*args, "--model", "fcn1d", "--time-budget", "0.01s", "--seed", "1"])
    assert code == 0
    err = capsys.readouterr().err
    assert "of 0.01 s budget" in err and "time budget: 0.01 s of training reached" in err
    assert main([*args, "--model", "fcn1d", "--time-budget", "ten minutes"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--time-budget" in err and "'ten minutes'" in err


def test_durations_read_and_print_as_people_write_them() -> None:
    from lernwerk.cli.train import parse_duration

    assert [parse_duration(t, "--x") for t in ("300", "90s", "10m", "1.5h", "0", "none")] == [
        300,
        90,
        600,
        5400,
        0,
        0,
    ]
    assert [format_seconds(s) for s in (300, 90, 5400, 3600, 61, 0.5)] == [
        "5 min",
        "90 s",
        "1 h 30 min",
        "1 h",
        "61 s",
        "0.5 s",
    ]


def test_a_plateau_run_resumes_exactly_where_it_stopped(workspace: lernwerk.Workspace) -> None:
    # a rate too small to lower the loss by 1e-4: the rate halves every second epoch, so
    # the resumed half only matches if the checkpoint carried the schedule's state
    train = {"lr": 1e-6, "lr_min": 1e-9, "plateau_patience": 2, "seed": 3}
    whole = workspace.fit(series(60), TINY_CONV, epochs=8, **train)
    part = workspace.fit(series(60), TINY_CONV, epochs=4, **train)
    resumed = workspace.resume(part.id, epochs=8)
    assert resumed.status == "finished" and resumed.record.epoch == 8
    lrs = whole.history["lr"].tolist()
    assert lrs[-1] < lrs[0] / 4  # it did cut, more than twice
    pd.testing.assert_frame_equal(whole.history, resumed.history, check_exact=True)
    assert whole.metrics == resumed.metrics
