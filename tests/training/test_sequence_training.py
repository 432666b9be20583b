"""Short training runs of the sequence tasks through the workspace and the command line."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import lernwerk
from lernwerk.cli import main
from lernwerk.config import TrainConfig
from lernwerk.data.importing import sequences_dataset
from lernwerk.data.sequences.forecasting import load_seasonal
from lernwerk.data.sequences.ucr import load_ucr
from lernwerk.errors import DataError, SpecError
from lernwerk.models import load_preset
from lernwerk.training.run import RunPlan as _Plan

PROCESS = "process:per_class=10"  # 50 curves of 256 steps, 10 of them ok
TINY_CONV = {
    "name": "tiny-conv",
    "layers": [
        {"Conv1D": {"filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"}},
        "GlobalAveragePooling1D",
        {"Dense": {"units": "auto", "activation": "softmax"}},
    ],
}


def test_anomaly_trains_on_normal_curves_and_stores_its_threshold(
    workspace: lernwerk.Workspace,
) -> None:
    ds = workspace.load_dataset(PROCESS)
    plan = _Plan(ds, load_preset("autoencoder1d"), TrainConfig(task="anomaly"))
    ok = ds.classes.index("ok")
    assert (ds.y[plan.train_index] == ok).all() and (ds.y[plan.val_index] == ok).all()
    assert len(plan.splits.val) > len(plan.val_index)  # the threshold sees the faults too

    run = workspace.fit(PROCESS, "autoencoder1d", task="anomaly", epochs=2, seed=0)
    assert run.status == "finished"
    test = run.metrics["test"]
    assert {"roc_auc", "precision", "recall", "threshold", "threshold_rule"} <= set(test)
    assert test["normal_class"] == "ok" and test["num_anomalies"] == 8
    saved = json.loads((run.dir / "model.json").read_text())["task"]
    assert saved["task"] == "anomaly" and saved["threshold"] == test["threshold"]
    details = run.predictor.predict_details(ds.x[:3])
    assert details["reconstruction"].shape == (3, 1, 256)
    assert details["is_anomaly"].tolist() == (details["score"] > saved["threshold"]).tolist()


def test_anomaly_with_a_classifier_says_what_to_use(workspace: lernwerk.Workspace) -> None:
    with pytest.raises(SpecError, match="must output its shape 1×256; this one gives 1;"):
        workspace.fit(PROCESS, "fcn1d", task="anomaly", epochs=1)
    with pytest.raises(SpecError, match="no class 'good'.*classes: ok, late_peak"):
        workspace.fit(PROCESS, "autoencoder1d", task="anomaly", normal_class="good")


def test_forecasting_reports_the_naive_baseline(
    workspace: lernwerk.Workspace,
) -> None:
    ds = load_seasonal(name="seasonal-small", length=400, window=24, horizon=4)
    run = workspace.fit(ds, "mlp", epochs=2, seed=0)  # the task follows from the windows
    assert json.loads((run.dir / "model.json").read_text())["task"]["task"] == "forecasting"
    test = run.metrics["test"]
    assert {"mae", "rmse", "naive_mae", "skill", "mae_per_step"} <= set(test)
    assert len(test["mae_per_step"]) == 4
    assert run.predict(ds.x[:2]).shape == (2, 4)
    with pytest.raises(SpecError, match="holds no forecast windows"):
        workspace.fit(PROCESS, "mlp", task="forecasting", epochs=1)


def test_sequences_get_their_defaults_and_skewed_classes_balance(
    workspace: lernwerk.Workspace,
) -> None:
    g = torch.Generator().manual_seed(0)
    y = torch.tensor([0] * 60 + [1] * 12)
    x = torch.randn(72, 1, 16, generator=g) + y.view(-1, 1, 1).float()
    ds = lernwerk.Dataset(
        name="skewed",
        kind="sequences",
        task="classification",
        x=x,
        y=y,
        classes=["ok", "nok"],
        feature_names=[],
        source={},
    )
    run = workspace.fit(ds, TINY_CONV, epochs=2, seed=0)
    train = run.config["train"]
    assert train["balanced_sampling"] is True
    # 58 series outside the test split: none held out, the plateau schedule on the
    # training loss, no early stopping (docs/sequences.md)
    assert train["val_split"] == 0.0 and train["monitor"] == "train_loss"
    assert train["schedule"] == "plateau" and train["early_stopping"] == 0


def test_unequal_lengths_error_naming_the_series_or_train_padded(
    workspace: lernwerk.Workspace,
) -> None:
    train, test = load_ucr("PickupGestureWiimoteZ")
    with pytest.raises(DataError) as info:
        sequences_dataset("pickup", train, test)
    assert "series 1 (" in str(info.value) and "pad or resample" in str(info.value)
    for policy in ("pad", "resample"):
        ds = sequences_dataset(f"pickup-{policy}", train, test, policy)
        assert ds.input_shape == (1, 361)
        run = workspace.fit(ds, TINY_CONV, epochs=1, seed=0)
        assert run.status == "finished" and run.metrics["test"]["num_samples"] == 50


def test_cli_trains_an_anomaly_detector(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["--workspace", str(tmp_path / "ws"), "train", "--dataset", "process:per_class=5"]
    args += ["--task", "anomaly", "--model", "autoencoder1d", "--epochs", "1", "--json"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "finished"
    assert 0 <= result["metrics"]["test"]["roc_auc"] <= 1
    assert np.isfinite(result["metrics"]["test"]["threshold"])
