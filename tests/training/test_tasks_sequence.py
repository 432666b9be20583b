"""Forecasting and anomaly tasks: registry, thresholds, scores and metrics."""

import json

import numpy as np
import pytest
import torch

from lernwerk.config import ModelSpec
from lernwerk.data.preprocessing import Standardizer
from lernwerk.errors import SpecError
from lernwerk.export import Predictor, save_bundle
from lernwerk.models import build_network
from lernwerk.training import make_task, task_from_dict
from lernwerk.training.tasks import TASKS
from lernwerk.training.tasks_sequence import AnomalyTask, ForecastingTask

CLASSES = ["ok", "dent", "crack"]


def anomaly_task(**options: object) -> AnomalyTask:
    task = make_task("anomaly", None, classes=CLASSES, input_shape=(2, 8), **options)
    assert isinstance(task, AnomalyTask)
    return task


def test_tasks_are_registered_and_round_trip() -> None:
    assert {"classification", "regression", "forecasting", "anomaly"} <= set(TASKS)
    forecast = make_task("forecasting", "mae", classes=[], y_train=torch.randn(50, 4))
    assert isinstance(forecast, ForecastingTask) and forecast.num_outputs == 4
    anomaly = anomaly_task(normal_class="ok")
    anomaly.threshold, anomaly.threshold_rule = 0.25, "by hand"
    for task in (forecast, anomaly):
        again = task_from_dict(json.loads(json.dumps(task.to_dict())))
        assert again == task


def test_unknown_task_lists_the_known_ones() -> None:
    with pytest.raises(SpecError, match="unknown task 'clustering'; expected one of: .*anomaly"):
        make_task("clustering", None, classes=[])


def test_anomaly_task_needs_a_normal_class_and_an_autoencoder() -> None:
    with pytest.raises(SpecError, match="no class 'ok' to take as normal.*--normal-class"):
        make_task("anomaly", None, classes=["good", "bad"], input_shape=(1, 8))
    with pytest.raises(SpecError, match="needs a dataset with classes"):
        make_task("anomaly", None, classes=[], input_shape=(1, 8))
    with pytest.raises(SpecError, match="loss 'cross_entropy' does not suit anomaly"):
        make_task("anomaly", "cross_entropy", classes=CLASSES, input_shape=(1, 8))
    task = anomaly_task()
    assert task.num_outputs == 2 and task.normal_class == "ok"
    with pytest.raises(SpecError, match="must output its shape 2×8; this one gives 3"):
        task.check_output((3,), (2, 8))
    task.check_output((2, 8), (2, 8))


def test_anomaly_trains_on_normal_samples_and_rebuilds_the_input() -> None:
    task = anomaly_task(normal_class="dent")
    y = torch.tensor([0, 1, 2, 1])
    assert task.select(y).tolist() == [False, True, False, True]
    x = torch.randn(4, 2, 8)
    inputs, targets = task.pairs(x, y)
    assert inputs is x and targets is x
    outputs = x + 0.5
    assert torch.allclose(task.predict(outputs, x), torch.full((4, 1), 0.25))


class Shift(torch.nn.Module):
    """A stand-in autoencoder: rebuilds channel 1, zero for channel 0 (whose energy is the score)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.tensor([0.0, 1.0]).view(1, 2, 1)  # channel 0 -> 0


def test_threshold_is_the_best_balanced_accuracy_or_a_quantile() -> None:
    torch.manual_seed(0)
    normal = 0.1 * torch.randn(40, 2, 8)  # small channel 0: small error
    anomalous = 1.0 + torch.randn(10, 2, 8)
    x, y = torch.cat([normal, anomalous]), torch.tensor([0] * 40 + [1] * 10)
    task = anomaly_task()
    task.calibrate(Shift(), x, y)
    scores = task.predict(Shift()(x), x)[:, 0]
    assert scores[:40].max() < task.threshold < scores[40:].min()
    assert task.threshold_rule == "best balanced accuracy on 50 validation samples (10 anomalous)"
    quantile = anomaly_task(threshold_quantile=0.9)
    quantile.calibrate(Shift(), x, y)
    assert quantile.threshold == pytest.approx(float(np.quantile(scores[:40].numpy(), 0.9)))
    assert quantile.threshold_rule == "0.9 quantile of 40 normal validation scores"
    only_normal = anomaly_task()
    only_normal.calibrate(Shift(), normal, torch.zeros(40, dtype=torch.long))
    assert only_normal.threshold == pytest.approx(float(np.quantile(scores[:40].numpy(), 0.99)))


def test_error_scale_scores_the_excess_over_normal_errors_step_by_step() -> None:
    torch.manual_seed(0)
    # normal curves: channel 0 (not rebuilt) is noisy at steps 0-1 and quiet elsewhere
    spread = torch.tensor([1.0, 1.0, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05])
    normal = torch.randn(60, 2, 8) * spread
    task = anomaly_task()
    task.calibrate(Shift(), normal[:20], torch.zeros(20, dtype=torch.long), x_fit=normal[20:])
    errors = (normal[20:, 0] ** 2 / 2).numpy()  # squared error, averaged over 2 channels
    mean, std = errors.mean(0), errors.std(0, ddof=1)
    std = np.maximum(std, np.median(std) * 0.05 + 1e-12)
    np.testing.assert_allclose(task.error_mean, mean, rtol=1e-5)
    np.testing.assert_allclose(task.error_std, std, rtol=1e-4)
    # a burst of 0.5 on a quiet step: a small part of the whole curve's error, far above
    # what normal curves have there
    burst = normal[:1].clone()
    burst[0, 0, 5] = 0.5
    loud = normal[1:2].clone()
    loud[0, 0, :2] *= 1.2  # a normal curve, a little noisier where curves are noisy anyway
    scores = task.predict(Shift()(torch.cat([burst, loud])), torch.cat([burst, loud]))[:, 0]
    plain = (torch.cat([burst, loud])[:, 0] ** 2).mean(dim=1) / 2
    z = np.clip((np.stack([burst[0, 0] ** 2 / 2, loud[0, 0] ** 2 / 2]) - mean) / std, 0, None)
    np.testing.assert_allclose(scores.numpy(), np.sqrt((z**2).mean(1)), rtol=1e-4)
    assert scores[0] > scores[1]  # the burst stands out
    assert plain[0] < plain[1] or plain[0] / plain[1] < scores[0] / scores[1]
    again = task_from_dict(json.loads(json.dumps(task.to_dict())))
    assert again.error_mean == task.error_mean and again.error_std == task.error_std


def test_a_sequence_error_is_averaged_over_a_32nd_of_its_length() -> None:
    torch.manual_seed(0)
    task = make_task("anomaly", None, classes=CLASSES, input_shape=(2, 64))
    assert isinstance(task, AnomalyTask)
    normal = torch.randn(30, 2, 64) * 0.1
    task.calibrate(Shift(), normal[:10], torch.zeros(10, dtype=torch.long), x_fit=normal[10:])
    assert task.error_window == 2
    errors = (normal[10:, 0] ** 2 / 2).numpy()  # (20, 64)
    padded = np.pad(errors, ((0, 0), (1, 0)), constant_values=np.nan)  # window 2, as pooled
    local = np.nanmean(np.stack([padded[:, :-1], padded[:, 1:]]), axis=0)
    np.testing.assert_allclose(task.error_mean, local.mean(0), rtol=1e-5)
    assert len(task.error_mean) == 64


def test_threshold_travels_with_the_model_and_flags_at_predict(tmp_path) -> None:
    spec = ModelSpec.from_dict(
        {"layers": [{"Conv1DTranspose": {"filters": "auto", "kernel_size": 1}}]}
    )
    task = anomaly_task()
    network = build_network(spec, (2, 8), task.num_outputs)
    with torch.no_grad():  # the identity on channel 1, zero on channel 0
        network.layers[0].weight.copy_(torch.tensor([[[0.0], [0.0]], [[0.0], [1.0]]]))
        network.layers[0].bias.zero_()
    task.threshold = 0.5
    standardizer = Standardizer(torch.zeros(2), torch.ones(2), "sequences")
    save_bundle(tmp_path, network, task, standardizer, {"kind": "sequences"})
    assert json.loads((tmp_path / "model.json").read_text())["task"]["threshold"] == 0.5
    predictor = Predictor.load(tmp_path)
    x = torch.zeros(2, 2, 8)
    x[1, 0] = 2.0  # error 4 on half the values: score 2
    details = predictor.predict_details(x)
    assert details["score"].tolist() == [0.0, 2.0]
    assert details["threshold"].tolist() == [0.5, 0.5]
    assert details["is_anomaly"].tolist() == [False, True]
    assert details["reconstruction"].shape == (2, 2, 8)
    assert predictor.predict(x).tolist() == [[0.0], [2.0]]


def test_forecasting_task_measures_against_the_last_value() -> None:
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    task = make_task("forecasting", None, classes=[], y_train=torch.tensor(y, dtype=torch.float32))
    inputs = np.array([[[0.0, 1.5]], [[0.0, 2.5]]])  # (N, C, window): last values 1.5, 2.5
    metrics = task.metrics(y, y, inputs)
    assert metrics["mae"] == 0.0 and metrics["naive_mae"] == pytest.approx((3 * 0.5 + 1.5) / 4)
