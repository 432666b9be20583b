"""A run's evaluation as the results page reads it, for sequences: the typical shape of
each class, anomaly flags with reconstructions, forecasts with their past; and predicting
a stored sample by id."""

import numpy as np
import pytest

import lernwerk
from lernwerk import Workspace
from lernwerk.api.evaluation_view import SERIES_SHOWN

PROCESS = "process:per_class=12,length=208"  # 208 steps: autoencoder1d halves it 4 times


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("views") / "ws")


@pytest.fixture(scope="module")
def classifier(workspace: Workspace) -> lernwerk.Run:
    return workspace.fit(PROCESS, "fcn1d", epochs=2, seed=0)


@pytest.fixture(scope="module")
def detector(workspace: Workspace) -> lernwerk.Run:
    return workspace.fit(PROCESS, "autoencoder1d", task="anomaly", epochs=3, seed=0)


@pytest.fixture(scope="module")
def forecaster(workspace: Workspace) -> lernwerk.Run:
    return workspace.fit("seasonal", "mlp", epochs=2, seed=0)


def stored(run: lernwerk.Run, split: str):
    ds = run.workspace.load_dataset(run.record.dataset)
    train = run.config["train"]
    idx = getattr(ds.split(train["val_split"], train["test_split"], train["split_seed"]), split)
    return ds, idx


def test_sequence_classification_lists_series_over_typical_shapes(classifier) -> None:
    view = classifier.evaluation("test")
    assert view["task"] == "classification"
    ds, train = stored(classifier, "train")
    x, y = ds.subset(train)
    assert set(view["typical"]) == set(ds.classes)
    for k, c in enumerate(ds.classes):  # the mean training curve of the class, (C, T)
        np.testing.assert_allclose(view["typical"][c], x[y == k].mean(dim=0), rtol=1e-4, atol=1e-4)
    samples = view["samples"]
    with_series = [s for s in samples if "series" in s]
    assert len(with_series) == min(SERIES_SHOWN, len(samples))
    assert samples[: len(with_series)] == with_series  # the first ones listed carry them
    first = samples[0]
    row = int(np.flatnonzero(ds.ids.numpy() == first["id"])[0])
    np.testing.assert_allclose(first["series"], ds.x[row], rtol=1e-4, atol=1e-4)
    wrong = [s["label"] != s["predicted"] for s in samples]
    assert wrong == sorted(wrong, reverse=True)  # the misclassified first


def test_anomaly_evaluation_flags_scores_and_reconstructions(detector) -> None:
    view = detector.evaluation("test")
    assert view["task"] == "anomaly" and view["normal_class"] == "ok"
    threshold = view["threshold"]
    assert threshold == detector.predictor.task.threshold
    metrics = view["metrics"]
    assert 0 <= metrics["roc_auc"] <= 1 and metrics["num_samples"] == view["num_samples"]
    samples = view["samples"]
    assert len(samples) == view["num_samples"]
    for s in samples:
        assert s["flagged"] == (s["score"] > threshold)
        assert s["anomaly"] == (s["label"] != "ok")
    wrong = [s["flagged"] != s["anomaly"] for s in samples]
    assert wrong == sorted(wrong, reverse=True)  # missed anomalies and false alarms first
    flagged = sum(s["flagged"] for s in samples)
    assert flagged == sum(metrics["confusion_matrix"][0][1:] + metrics["confusion_matrix"][1][1:])
    first = samples[0]
    assert np.asarray(first["series"]).shape == np.asarray(first["reconstruction"]).shape
    assert np.asarray(first["series"]).shape == detector.predictor.input_shape
    many = detector.evaluation("train")["samples"]
    assert len(many) > SERIES_SHOWN and "series" not in many[SERIES_SHOWN]


def test_forecast_evaluation_carries_the_past_window(forecaster) -> None:
    view = forecaster.evaluation("test", limit=30)
    assert view["task"] == "forecasting" and view["classes"] == []
    assert view["metrics"]["naive_mae"] > 0  # computed from the inputs
    ds, test = stored(forecaster, "test")
    first = view["samples"][0]
    row = int(np.flatnonzero(ds.ids.numpy() == first["id"])[0])
    np.testing.assert_allclose(first["past"], ds.x[row, 0], rtol=1e-4, atol=1e-4)
    assert len(first["label"]) == len(first["predicted"]) == ds.y.shape[1]
    shown = [s["id"] for s in view["samples"] if "past" in s]
    assert 1 < len(shown) <= SERIES_SHOWN
    window = ds.x.shape[-1]
    assert all(abs(a - b) >= window for a in shown for b in shown if a != b)
    errors = [np.abs(np.subtract(s["label"], s["predicted"])).mean() for s in view["samples"]]
    assert errors == sorted(errors, reverse=True)


def test_predict_a_stored_sample_gives_its_truth_and_split(classifier, detector) -> None:
    ds, test = stored(classifier, "test")
    sample = int(ds.ids[test[0]])
    result = classifier.predict_sample(sample=sample)
    assert result["sample"] == sample and result["split"] == "test"
    assert result["truth"] == ds.classes[int(ds.y[test[0]])]
    assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(result["series"], ds.x[test[0]], rtol=1e-5)

    scored = detector.predict_sample(sample=sample)
    assert {"score", "threshold", "is_anomaly", "normal_class", "reconstruction"} <= set(scored)
    assert scored["is_anomaly"] == (scored["score"] > scored["threshold"])
    # the same series sent as values gives the same score
    again = detector.predict_sample(series=scored["series"])
    assert again["score"] == pytest.approx(scored["score"], rel=1e-5)


def test_predict_an_unknown_sample_is_not_found(classifier) -> None:
    with pytest.raises(lernwerk.NotFound, match="has no sample 99999"):
        classifier.predict_sample(sample=99999)
    with pytest.raises(lernwerk.DataError, match="give exactly one of"):
        classifier.predict_sample(sample=1, series=[1.0, 2.0])


def test_forecast_prediction_returns_the_window_it_continues(forecaster) -> None:
    ds, test = stored(forecaster, "test")
    result = forecaster.predict_sample(sample=int(ds.ids[test[0]]))
    assert len(result["values"]) == len(result["truth"]) == ds.y.shape[1]
    assert result["target_channel"] == 0
    assert np.asarray(result["series"]).shape == tuple(ds.x.shape[1:])
