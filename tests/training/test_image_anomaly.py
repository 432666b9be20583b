"""Anomaly detection on images from good parts only: PatchCore and autoencoder2d on the
generated solder joints, through the one training entry."""

import json

import numpy as np
import pytest
import torch

import lernwerk
from lernwerk.config import TrainConfig
from lernwerk.data import Dataset
from lernwerk.errors import DataError, SpecError
from lernwerk.export import Predictor
from lernwerk.models import load_preset
from lernwerk.store import load_tensors
from lernwerk.training.run import RunPlan
from lernwerk.training.tasks_sequence import AnomalyTask

SOLDER = "solder:per_class=60"  # 300 joints of 64×64, 60 of them good (36 to train on)


def test_patchcore_learns_good_joints_and_flags_defects(workspace: lernwerk.Workspace) -> None:
    ds = workspace.load_dataset(SOLDER)
    good = ds.classes.index("good")
    plan = RunPlan(ds, load_preset("patchcore"), TrainConfig(task="anomaly", normal_class="good"))
    assert (ds.y[plan.train_index] == good).all()  # the bank sees good joints only
    assert plan.config.epochs == 1 and plan.standardizer.std.tolist() == [1.0, 1.0, 1.0]

    run = workspace.fit(SOLDER, "patchcore", task="anomaly", normal_class="good", epochs=5)
    assert run.status == "finished" and run.record.epoch == 1  # one pass fills the bank
    test = run.metrics["test"]
    assert test["num_anomalies"] > 0 and test["normal_class"] == "good"
    assert test["roc_auc"] >= 0.85, test  # measured 0.93 with 36 good joints (seed 0)

    # the bank is in the run's weights: a fresh load scores as the run did
    weights, _ = load_tensors(run.dir / "model.safetensors")
    patches = len(plan.train_index) * 7 * 7  # stage7 of the image resized to 224: 7×7 patches
    assert weights["layers.0.bank"].shape == (int(np.ceil(0.25 * patches)), 320)
    assert weights["layers.0.images"].shape == (len(plan.train_index), 1280)  # image embeddings
    saved = json.loads((run.dir / "model.json").read_text())["task"]
    assert saved["threshold"] == test["threshold"] and saved["output_activation"] == "anomaly_map"
    x = ds.x[:4]
    fresh = Predictor.load(run.dir).predict_details(x)
    assert fresh["map"].shape == (4, 1, 64, 64)
    assert np.allclose(fresh["score"], run.predictor.predict_details(x)["score"])
    assert np.allclose(fresh["score"], fresh["map"].reshape(4, -1).max(axis=1))
    assert fresh["is_anomaly"].tolist() == (fresh["score"] > saved["threshold"]).tolist()


def test_autoencoder2d_is_the_default_for_image_anomaly(workspace: lernwerk.Workspace) -> None:
    assert AnomalyTask.default_model("images") == "autoencoder2d"
    run = workspace.fit(
        "solder:per_class=8", "autoencoder2d", task="anomaly", normal_class="good", epochs=2
    )
    details = run.predictor.predict_details(torch.rand(2, 3, 64, 64))
    assert details["reconstruction"].shape == (2, 3, 64, 64)
    assert 0 <= run.metrics["test"]["roc_auc"] <= 1


def test_patchcore_on_small_images_says_the_least_size(workspace: lernwerk.Workspace) -> None:
    with pytest.raises(SpecError, match=r"at least 32×32; received 28×28"):
        workspace.fit("smileys:per_class=5", "patchcore", task="anomaly", normal_class="smile")
    assert workspace.runs() == []  # nothing of the rejected run stored


def test_image_anomaly_without_normal_samples_is_one_clear_message(
    workspace: lernwerk.Workspace,
) -> None:
    with pytest.raises(SpecError, match="no class 'ok' to take as normal.*classes: good, bridge"):
        workspace.fit("solder:per_class=5", "patchcore", task="anomaly")
    x = torch.rand(12, 3, 32, 32)
    ds = Dataset(
        name="parts", kind="images", task="classification", x=x,
        y=torch.ones(12, dtype=torch.long), classes=["good", "scratch"], feature_names=[],
        source={},
    )  # fmt: skip
    config = TrainConfig(task="anomaly", normal_class="good")
    with pytest.raises(DataError, match=r"no samples .* normal samples \(class 'good'\)"):
        RunPlan(ds, load_preset("patchcore"), config)
