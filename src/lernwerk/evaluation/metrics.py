"""Metrics of a trained model on held-out data, as scikit-learn defines them.

Every function returns plain Python values (floats, ints, lists, dicts), so a result
goes into JSON, the store or a table as it is.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from lernwerk.errors import DataError

__all__ = ["classification_metrics", "headline", "misclassified", "regression_metrics"]


def classification_metrics(
    y_true: np.ndarray, proba: np.ndarray, classes: list[str]
) -> dict[str, Any]:
    """Accuracy, macro and per-class precision/recall/F1, log loss and confusion matrix.

    Args:
        y_true: True class indices, shape (N,).
        proba: Predicted class probabilities, shape (N, C), rows summing to 1.
        classes: The C class names, in index order.

    Returns:
        A JSON-able dict. Macro averages run over the classes that occur in `y_true`
        or in the predictions (scikit-learn's default), so a class absent from a small
        test split does not count as a zero; `per_class` and `confusion_matrix`
        (rows = true, columns = predicted) always cover all C classes. With two
        classes, `roc_auc` is added when both occur in `y_true`.

    Raises:
        DataError: The shapes do not match or a label is outside 0..C-1.
    """
    y_true, proba = _check_classification(y_true, proba, classes)
    num_classes = len(classes)
    labels = list(range(num_classes))
    y_pred = proba.argmax(axis=1)  # (N,)

    # the counting metrics from the confusion matrix, as scikit-learn defines them (its
    # oracle tests: tests/evaluation); five calls into scikit-learn took ~10 ms per split
    cm = np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(
        num_classes, num_classes
    )  # (true, predicted)
    tp, support, predicted = np.diag(cm), cm.sum(axis=1), cm.sum(axis=0)
    per_p = _ratio(tp, predicted)
    per_r = _ratio(tp, support)
    per_f = _ratio(2 * tp, 2 * tp + (predicted - tp) + (support - tp))
    seen = (support + predicted) > 0  # macro averages run over the classes that occur
    result: dict[str, Any] = {
        "accuracy": float(tp.sum() / len(y_true)),
        "precision_macro": float(per_p[seen].mean()),
        "recall_macro": float(per_r[seen].mean()),
        "f1_macro": float(per_f[seen].mean()),
        "log_loss": float(skm.log_loss(y_true, proba, labels=labels)),
    }
    if num_classes == 2 and len(np.unique(y_true)) == 2:
        result["roc_auc"] = float(skm.roc_auc_score(y_true, proba[:, 1]))
    result["per_class"] = {
        name: {
            "precision": float(per_p[i]),
            "recall": float(per_r[i]),
            "f1": float(per_f[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(classes)
    }
    result["confusion_matrix"] = cm.tolist()
    result["classes"] = list(classes)
    result["num_samples"] = int(len(y_true))
    return result


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """Mean squared error, mean absolute error and R² (averaged over outputs when K > 1).

    Args:
        y_true: True targets, shape (N,) or (N, K).
        y_pred: Predictions, the same shape as `y_true`.

    Returns:
        `{"mse", "mae", "r2", "num_samples"}`; `r2` is None with fewer than two
        samples, where it is undefined.

    Raises:
        DataError: The shapes differ or there are no samples.
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape or y_true.ndim not in (1, 2):
        raise DataError(
            f"expected targets and predictions of the same shape (N,) or (N, K); "
            f"received {y_true.shape} and {y_pred.shape}"
        )
    if len(y_true) == 0:
        raise DataError("no samples to evaluate; the split is empty")
    r2: float | None = None
    if len(y_true) >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            r2 = float(skm.r2_score(y_true, y_pred))
    return {
        "mse": float(skm.mean_squared_error(y_true, y_pred)),
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "r2": r2,
        "num_samples": int(len(y_true)),
    }


def headline(metrics: dict[str, Any]) -> dict[str, float]:
    """The scalar metrics of a result (accuracy, f1_macro, log_loss, … or mse, mae, r2)."""
    return {
        key: float(value)
        for key, value in metrics.items()
        if isinstance(value, float | np.floating) and key != "num_samples"
    }


def misclassified(
    y_true: np.ndarray, proba: np.ndarray, limit: int | None = None
) -> list[dict[str, Any]]:
    """The wrongly predicted samples, most confident first.

    Returns:
        `[{"index", "true", "predicted", "confidence"}]`, where `confidence` is the
        probability of the predicted class; at most `limit` entries when given.
    """
    y_true = np.asarray(y_true).astype(np.int64).reshape(-1)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or len(proba) != len(y_true):
        raise DataError(
            f"expected probabilities of shape (N, C) with N = {len(y_true)}; received {proba.shape}"
        )
    y_pred = proba.argmax(axis=1)  # (N,)
    wrong = np.flatnonzero(y_pred != y_true)
    confidence = proba[wrong, y_pred[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")]  # ties keep index order
    if limit is not None:
        order = order[: max(limit, 0)]
    return [
        {
            "index": int(i),
            "true": int(y_true[i]),
            "predicted": int(y_pred[i]),
            "confidence": float(proba[i, y_pred[i]]),
        }
        for i in order
    ]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den per class, 0 where den is 0 (scikit-learn's zero_division=0)."""
    out = np.zeros(len(num), dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _check_classification(
    y_true: np.ndarray, proba: np.ndarray, classes: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true).reshape(-1)
    proba = np.asarray(proba, dtype=np.float64)
    num_classes = len(classes)
    if proba.ndim != 2 or proba.shape != (len(y_true), num_classes):
        raise DataError(
            f"expected probabilities of shape (N, C) = ({len(y_true)}, {num_classes}); "
            f"received {proba.shape}"
        )
    if len(y_true) == 0:
        raise DataError("no samples to evaluate; the split is empty")
    if not np.issubdtype(y_true.dtype, np.integer) or y_true.min() < 0:
        raise DataError(f"expected class indices 0..{num_classes - 1}; received {y_true[:5]}")
    if y_true.max() >= num_classes:
        raise DataError(f"label {int(y_true.max())} is outside the {num_classes} classes {classes}")
    # Float32 softmax rows miss 1 by ~1e-7, which scikit-learn's log_loss warns about.
    proba = proba / proba.sum(axis=1, keepdims=True)
    return y_true.astype(np.int64), proba
