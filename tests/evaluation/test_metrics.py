"""Metrics against scikit-learn as the oracle and against tiny cases worked by hand."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from lernwerk.errors import DataError
from lernwerk.evaluation import (
    classification_metrics,
    headline,
    misclassified,
    regression_metrics,
)


def _proba_for(predicted: list[int], num_classes: int, top: float = 0.6) -> np.ndarray:
    """Rows that put `top` on the predicted class and share the rest evenly."""
    rest = (1.0 - top) / (num_classes - 1)
    proba = np.full((len(predicted), num_classes), rest)
    proba[np.arange(len(predicted)), predicted] = top
    return proba


def _random_case(seed: int, n: int, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, num_classes, size=n)
    logits = rng.normal(size=(n, num_classes)) + 1.5 * np.eye(num_classes)[y_true]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y_true, proba


def _plain(value: object) -> bool:
    """True when a nested result holds only built-in Python types."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (int, float, str, bool)


def test_three_classes_worked_by_hand() -> None:
    # true:      0  0  1  1  2  2
    # predicted: 0  1  1  2  2  0   -> each class: 1 of 2 right, 1 of 2 predictions right
    y_true = np.array([0, 0, 1, 1, 2, 2])
    proba = _proba_for([0, 1, 1, 2, 2, 0], 3)  # 0.6 on the prediction, 0.2 elsewhere

    result = classification_metrics(y_true, proba, ["a", "b", "c"])

    assert result["confusion_matrix"] == [[1, 1, 0], [0, 1, 1], [1, 0, 1]]
    assert result["accuracy"] == pytest.approx(0.5)
    assert result["precision_macro"] == pytest.approx(0.5)
    assert result["recall_macro"] == pytest.approx(0.5)
    assert result["f1_macro"] == pytest.approx(0.5)
    # Three right with p = 0.6, three wrong with p(true) = 0.2.
    assert result["log_loss"] == pytest.approx(-(math.log(0.6) + math.log(0.2)) / 2)
    assert result["per_class"]["b"] == {
        "precision": pytest.approx(0.5),
        "recall": pytest.approx(0.5),
        "f1": pytest.approx(0.5),
        "support": 2,
    }
    assert result["classes"] == ["a", "b", "c"]
    assert result["num_samples"] == 6
    assert "roc_auc" not in result


@pytest.mark.parametrize("num_classes", [3, 5])
def test_classification_matches_sklearn(num_classes: int) -> None:
    y_true, proba = _random_case(seed=num_classes, n=200, num_classes=num_classes)
    y_pred = proba.argmax(axis=1)
    classes = [f"class{i}" for i in range(num_classes)]

    result = classification_metrics(y_true, proba, classes)

    labels = list(range(num_classes))
    assert result["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred), abs=1e-12)
    assert result["f1_macro"] == pytest.approx(
        skm.f1_score(y_true, y_pred, average="macro", zero_division=0), abs=1e-12
    )
    assert result["precision_macro"] == pytest.approx(
        skm.precision_score(y_true, y_pred, average="macro", zero_division=0), abs=1e-12
    )
    assert result["recall_macro"] == pytest.approx(
        skm.recall_score(y_true, y_pred, average="macro", zero_division=0), abs=1e-12
    )
    assert result["log_loss"] == pytest.approx(skm.log_loss(y_true, proba), abs=1e-9)
    assert result["confusion_matrix"] == skm.confusion_matrix(y_true, y_pred).tolist()
    per_f1 = skm.f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    assert [result["per_class"][c]["f1"] for c in classes] == pytest.approx(per_f1, abs=1e-12)
    supports = [result["per_class"][c]["support"] for c in classes]
    assert supports == np.bincount(y_true, minlength=num_classes).tolist()


def test_binary_adds_roc_auc() -> None:
    y_true, proba = _random_case(seed=7, n=100, num_classes=2)

    result = classification_metrics(y_true, proba, ["ok", "not ok"])

    assert result["roc_auc"] == pytest.approx(skm.roc_auc_score(y_true, proba[:, 1]), abs=1e-12)


def test_binary_with_one_class_present_has_no_roc_auc() -> None:
    y_true = np.array([1, 1, 1])
    proba = np.array([[0.2, 0.8], [0.7, 0.3], [0.1, 0.9]])

    result = classification_metrics(y_true, proba, ["ok", "not ok"])

    assert "roc_auc" not in result
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["confusion_matrix"] == [[0, 0], [1, 2]]


def test_class_absent_from_y_true() -> None:
    # Class "c" occurs neither in the truth nor in the predictions.
    y_true = np.array([0, 0, 1, 1])
    proba = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1]])

    result = classification_metrics(y_true, proba, ["a", "b", "c"])

    assert result["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [0, 0, 0]]
    assert result["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    # Macro averages over the classes that occur (a: f1 2/3, b: f1 0.8), as scikit-learn does.
    assert result["f1_macro"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert result["log_loss"] == pytest.approx(
        skm.log_loss(y_true, proba, labels=[0, 1, 2]), abs=1e-12
    )


def test_float32_probabilities_raise_no_warning() -> None:
    y_true, proba = _random_case(seed=3, n=50, num_classes=4)
    proba32 = proba.astype(np.float32)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = classification_metrics(y_true, proba32, list("abcd"))

    assert result["log_loss"] == pytest.approx(skm.log_loss(y_true, proba), abs=1e-5)


def test_classification_result_is_json_with_plain_types() -> None:
    y_true, proba = _random_case(seed=1, n=30, num_classes=2)

    result = classification_metrics(y_true.astype(np.int32), proba, ["x", "y"])

    assert _plain(result)
    assert json.loads(json.dumps(result)) == result


@pytest.mark.parametrize(
    ("y_true", "proba", "message"),
    [
        (np.array([0, 1]), np.full((3, 2), 0.5), r"shape \(N, C\) = \(2, 2\); received \(3, 2\)"),
        (np.array([0, 1]), np.full((2, 3), 1 / 3), r"\(2, 2\); received \(2, 3\)"),
        (np.array([0, 2]), np.full((2, 2), 0.5), "label 2 is outside the 2 classes"),
        (np.array([], dtype=int), np.zeros((0, 2)), "no samples"),
    ],
)
def test_classification_rejects_bad_input(
    y_true: np.ndarray, proba: np.ndarray, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        classification_metrics(y_true, proba, ["a", "b"])


def test_regression_matches_sklearn() -> None:
    rng = np.random.default_rng(0)
    y_true = rng.normal(size=40)
    y_pred = y_true + rng.normal(scale=0.3, size=40)

    result = regression_metrics(y_true, y_pred)

    assert result["mse"] == pytest.approx(skm.mean_squared_error(y_true, y_pred), abs=1e-12)
    assert result["mae"] == pytest.approx(skm.mean_absolute_error(y_true, y_pred), abs=1e-12)
    assert result["r2"] == pytest.approx(skm.r2_score(y_true, y_pred), abs=1e-12)
    assert result["num_samples"] == 40
    assert _plain(result)


def test_regression_worked_by_hand() -> None:
    # errors 1, -1, 2 -> mse (1 + 1 + 4) / 3 = 2, mae 4 / 3; var(y) = 2/3 -> r2 = 1 - 6 / 2 = -2
    result = regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([2.0, 1.0, 5.0]))

    assert result == {"mse": 2.0, "mae": pytest.approx(4 / 3), "r2": -2.0, "num_samples": 3}


def test_regression_with_several_outputs() -> None:
    rng = np.random.default_rng(1)
    y_true = rng.normal(size=(25, 3))
    y_pred = y_true + rng.normal(scale=0.5, size=(25, 3))

    result = regression_metrics(y_true, y_pred)

    assert result["mse"] == pytest.approx(skm.mean_squared_error(y_true, y_pred), abs=1e-12)
    assert result["r2"] == pytest.approx(skm.r2_score(y_true, y_pred), abs=1e-12)
    assert result["num_samples"] == 25


def test_regression_with_one_sample_has_no_r2() -> None:
    result = regression_metrics(np.array([1.0]), np.array([1.5]))

    assert result["r2"] is None
    assert json.dumps(result)


def test_regression_rejects_mismatched_shapes() -> None:
    with pytest.raises(DataError, match=r"received \(3,\) and \(3, 1\)"):
        regression_metrics(np.zeros(3), np.zeros((3, 1)))


def test_headline_keeps_the_scalars() -> None:
    y_true, proba = _random_case(seed=2, n=40, num_classes=2)

    scalars = headline(classification_metrics(y_true, proba, ["a", "b"]))

    assert list(scalars) == [
        "accuracy",
        "precision_macro",
        "recall_macro",
        "f1_macro",
        "log_loss",
        "roc_auc",
    ]
    assert all(type(v) is float for v in scalars.values())
    assert list(headline(regression_metrics(np.zeros(1), np.ones(1)))) == ["mse", "mae"]
    assert list(headline(regression_metrics(np.arange(3.0), np.ones(3)))) == ["mse", "mae", "r2"]


def test_misclassified_sorted_by_confidence() -> None:
    y_true = np.array([0, 1, 2, 0, 1])
    proba = np.array(
        [
            [0.9, 0.05, 0.05],  # right
            [0.6, 0.3, 0.1],  # wrong, 0.6
            [0.05, 0.9, 0.05],  # wrong, 0.9
            [0.2, 0.2, 0.6],  # wrong, 0.6 (ties keep index order)
            [0.1, 0.8, 0.1],  # right
        ]
    )

    wrong = misclassified(y_true, proba)

    assert wrong == [
        {"index": 2, "true": 2, "predicted": 1, "confidence": 0.9},
        {"index": 1, "true": 1, "predicted": 0, "confidence": 0.6},
        {"index": 3, "true": 0, "predicted": 2, "confidence": 0.6},
    ]
    assert all(type(v) in (int, float) for row in wrong for v in row.values())
    assert misclassified(y_true, proba, limit=1) == wrong[:1]
    assert misclassified(y_true, proba, limit=0) == []


def test_misclassified_when_all_right() -> None:
    assert misclassified(np.array([0, 1]), np.array([[0.8, 0.2], [0.4, 0.6]])) == []
