"""ROC, precision-recall and regression plot points, against scikit-learn and by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from lernwerk.errors import DataError
from lernwerk.evaluation.curves import MAX_CURVE_POINTS, binary_curves, regression_points


def _case(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    score = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.2 * (2 * y - 1))))
    return y, score


def test_a_perfect_ranking_has_auc_one_and_an_ideal_corner() -> None:
    curves = binary_curves(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.6, 0.9]))
    assert curves["roc"]["auc"] == 1.0
    assert curves["pr"]["average_precision"] == 1.0
    assert (0.0, 1.0) in zip(curves["roc"]["fpr"], curves["roc"]["tpr"], strict=True)
    assert curves["operating_point"] == {"fpr": 0.0, "tpr": 1.0, "recall": 1.0, "precision": 1.0}


def test_worked_by_hand_operating_point() -> None:
    # at 0.5: samples 2, 3 and 4 are flagged; 2 of 3 positives found, 1 of 3 negatives
    y = np.array([0, 0, 1, 0, 1, 1])
    score = np.array([0.2, 0.3, 0.7, 0.6, 0.9, 0.4])
    op = binary_curves(y, score)["operating_point"]
    assert op["tpr"] == pytest.approx(2 / 3) and op["fpr"] == pytest.approx(1 / 3)
    assert op["precision"] == pytest.approx(2 / 3) and op["recall"] == op["tpr"]
    assert binary_curves(y, score, threshold=0.8)["operating_point"]["fpr"] == 0.0


def test_curves_match_scikit_learn() -> None:
    y, score = _case(300)
    curves = binary_curves(y, score)
    fpr, tpr, _ = skm.roc_curve(y, score)
    precision, recall, _ = skm.precision_recall_curve(y, score)
    assert len(fpr) <= MAX_CURVE_POINTS  # not thinned: the same points
    np.testing.assert_allclose(curves["roc"]["fpr"], fpr)
    np.testing.assert_allclose(curves["roc"]["tpr"], tpr)
    np.testing.assert_allclose(curves["pr"]["recall"], recall[::-1])
    np.testing.assert_allclose(curves["pr"]["precision"], precision[::-1])
    assert curves["roc"]["auc"] == pytest.approx(skm.roc_auc_score(y, score))
    assert curves["pr"]["average_precision"] == pytest.approx(skm.average_precision_score(y, score))
    assert curves["pr"]["base_rate"] == pytest.approx(y.mean())
    json.dumps(curves)  # plain values only


def test_long_curves_are_thinned_with_their_ends_kept() -> None:
    y, score = _case(5000, seed=1)
    roc = binary_curves(y, score)["roc"]
    assert len(roc["fpr"]) <= MAX_CURVE_POINTS and len(roc["fpr"]) == len(roc["tpr"])
    assert (roc["fpr"][0], roc["tpr"][0]) == (0.0, 0.0)
    assert (roc["fpr"][-1], roc["tpr"][-1]) == (1.0, 1.0)
    assert roc["fpr"] == sorted(roc["fpr"]) and roc["tpr"] == sorted(roc["tpr"])


@pytest.mark.parametrize(
    ("y", "score", "message"),
    [
        ([0, 1, 1], [0.2, 0.5], "same length"),
        ([0, 2, 1], [0.2, 0.5, 0.1], "0 and 1"),
        ([1, 1, 1], [0.2, 0.5, 0.1], "both classes"),
    ],
)
def test_curves_refuse_what_has_none(y, score, message) -> None:
    with pytest.raises(DataError, match=message):
        binary_curves(np.array(y), np.array(score))


def test_regression_points_pair_truth_prediction_and_residual() -> None:
    y = np.array([1.0, 2.0, 3.0])
    pred = np.array([[1.5], [1.0], [3.0]])  # (N, 1), as a predictor gives them
    points = regression_points(y, pred)
    assert points["true"] == [1.0, 2.0, 3.0] and points["predicted"] == [1.5, 1.0, 3.0]
    assert points["residual"] == [0.5, -1.0, 0.0]
    assert points["num_samples"] == points["shown"] == 3


def test_regression_points_are_sampled_evenly_beyond_the_limit() -> None:
    y = np.arange(10_000, dtype=float)
    points = regression_points(y, y + 1, limit=100)
    assert points["shown"] == len(points["true"]) == 100 and points["num_samples"] == 10_000
    assert points["true"][0] == 0 and points["true"][-1] == 9999
    assert set(points["residual"]) == {1.0}


def test_regression_points_refuse_several_values_per_sample() -> None:
    with pytest.raises(DataError, match=r"one true and one predicted value"):
        regression_points(np.zeros((4, 3)), np.zeros((4, 3)))
    with pytest.raises(DataError, match="empty"):
        regression_points(np.zeros(0), np.zeros(0))
