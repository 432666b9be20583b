"""Forecast and anomaly metrics, with scikit-learn as the oracle."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from lernwerk.errors import DataError
from lernwerk.evaluation.sequence_metrics import (
    anomaly_metrics,
    best_threshold,
    forecast_metrics,
)


def test_anomaly_metrics_on_an_easy_case_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    truth = np.r_[np.zeros(50, bool), np.ones(20, bool)]
    scores = np.r_[rng.uniform(0, 1, 50), rng.uniform(0.8, 2, 20)]
    m = anomaly_metrics(truth, scores, threshold=1.0)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(truth, scores))
    assert m["roc_auc"] > 0.95
    flagged = scores > 1.0
    assert m["recall"] == pytest.approx(flagged[truth].mean())
    assert m["precision"] == pytest.approx(truth[flagged].mean())
    assert m["confusion_matrix"][0][1] == int(flagged[~truth].sum())
    separable = np.r_[rng.uniform(0, 1, 50), rng.uniform(3, 4, 20)]
    t = best_threshold(truth, separable)
    assert separable[:50].max() < t < separable[50:].min()
    assert anomaly_metrics(truth, separable, t)["f1"] == 1.0


def test_forecast_metrics_compare_with_the_naive_forecast() -> None:
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    m = forecast_metrics(y, y + 0.5, naive=y + 1.0)
    assert m["mae"] == 0.5 and m["naive_mae"] == 1.0 and m["skill"] == pytest.approx(0.5)
    assert m["rmse"] == pytest.approx(0.5) and m["mae_per_step"] == [0.5, 0.5]


def test_bad_input_is_a_data_error() -> None:
    with pytest.raises(DataError, match="shaped like the targets"):
        forecast_metrics(np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(DataError, match="needs both normal and anomalous"):
        best_threshold(np.zeros(4, bool), np.arange(4.0))
    assert anomaly_metrics(np.array([0, 1]), np.array([0.1, 0.2]), np.inf)["threshold"] is None


def test_best_threshold_weighs_both_kinds_alike() -> None:
    # 4 normal, 16 anomalous, one anomaly hidden among the normal scores: recall 15/16 on
    # anomalies and 4/4 on normal samples beats flagging everything (16/16 and 0/4)
    truth = np.r_[np.zeros(4, bool), np.ones(16, bool)]
    scores = np.r_[[0.1, 0.2, 0.3, 0.4], [0.25], np.linspace(1, 2, 15)]
    t = best_threshold(truth, scores)
    assert 0.4 < t < 1.0
    m = anomaly_metrics(truth, scores, t)
    assert m["confusion_matrix"] == [[4, 0], [1, 15]]
