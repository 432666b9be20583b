"""The curves a results page plots: ROC and precision–recall for two classes, predicted
against true values and residuals for regression.

The curves come from scikit-learn (`roc_curve`, `precision_recall_curve`); this module
only thins them to a page's worth of points and marks the operating point, the decision
threshold the model's predictions use. Every value is a plain float (JSON as it is).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as skm

from lernwerk.errors import DataError

__all__ = ["MAX_CURVE_POINTS", "MAX_SCATTER_POINTS", "binary_curves", "regression_points"]

MAX_CURVE_POINTS = 400  # a curve drawn 400 px wide shows no more
MAX_SCATTER_POINTS = 2000  # beyond that a scatter plot is a blot; the sample is even


def binary_curves(y_true: np.ndarray, score: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
    """ROC and precision–recall curves of a two-class classifier, with its operating point.

    Args:
        y_true: (N,) true classes, 0 or 1 (1 is the positive class).
        score: (N,) the predicted probability of class 1.
        threshold: The decision threshold: a sample is predicted 1 when score > threshold
            (0.5: the class with the larger probability).

    Returns:
        `{"roc": {"fpr", "tpr", "auc"}, "pr": {"recall", "precision", "average_precision",
        "base_rate"}, "threshold", "operating_point": {"fpr", "tpr", "precision",
        "recall"}}`, each curve at most MAX_CURVE_POINTS points, ends kept.

    Raises:
        DataError: the shapes differ, a label is not 0 or 1, or one class is missing
            (a curve needs both).
    """
    y_true = np.asarray(y_true).reshape(-1)
    score = np.asarray(score, dtype=np.float64).reshape(-1)
    if y_true.shape != score.shape:
        raise DataError(
            f"expected labels and scores of the same length; received {len(y_true)} and "
            f"{len(score)}"
        )
    if not np.isin(y_true, (0, 1)).all():
        raise DataError("expected two-class labels 0 and 1")
    positives = int((y_true == 1).sum())
    if positives == 0 or positives == len(y_true):
        raise DataError("ROC and precision–recall curves need samples of both classes")
    y_true = y_true.astype(np.int64)
    fpr, tpr, _ = skm.roc_curve(y_true, score)
    precision, recall, _ = skm.precision_recall_curve(y_true, score)
    predicted = score > threshold  # (N,) as the model decides
    tp = int((predicted & (y_true == 1)).sum())
    fp = int((predicted & (y_true == 0)).sum())
    negatives = len(y_true) - positives
    return {
        "roc": {
            "fpr": _thin(fpr),
            "tpr": _thin(tpr),
            "auc": float(skm.roc_auc_score(y_true, score)),
        },
        "pr": {
            # scikit-learn lists recall falling; the page draws it rising
            "recall": _thin(recall[::-1]),
            "precision": _thin(precision[::-1]),
            "average_precision": float(skm.average_precision_score(y_true, score)),
            "base_rate": positives / len(y_true),
        },
        "threshold": float(threshold),
        "operating_point": {
            "fpr": fp / negatives,
            "tpr": tp / positives,
            "recall": tp / positives,
            "precision": tp / (tp + fp) if tp + fp else 1.0,  # nothing flagged: sklearn's end
        },
    }


def regression_points(
    y_true: np.ndarray, y_pred: np.ndarray, limit: int = MAX_SCATTER_POINTS
) -> dict[str, Any]:
    """Predicted against true values and their residuals (predicted − true), for plots.

    Args:
        y_true: (N,) or (N, 1) true values.
        y_pred: predictions of the same shape.
        limit: At most this many points, evenly spaced over the samples.

    Returns:
        `{"true", "predicted", "residual", "num_samples", "shown"}`.

    Raises:
        DataError: the shapes differ, hold several values per sample, or are empty.
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        y_true = y_true[:, 0]
    if y_pred.ndim == 2 and y_pred.shape[1] == 1:
        y_pred = y_pred[:, 0]
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise DataError(
            f"expected one true and one predicted value per sample, shapes (N,); received "
            f"{y_true.shape} and {y_pred.shape}"
        )
    if len(y_true) == 0:
        raise DataError("no samples to plot; the split is empty")
    keep = _even(len(y_true), limit)
    t, p = y_true[keep], y_pred[keep]
    return {
        "true": t.tolist(),
        "predicted": p.tolist(),
        "residual": (p - t).tolist(),
        "num_samples": len(y_true),
        "shown": len(keep),
    }


def _even(n: int, limit: int) -> np.ndarray:
    """Indices of at most `limit` of n items, evenly spaced, first and last kept."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max(limit, 2)).round().astype(np.int64))


def _thin(values: np.ndarray) -> list[float]:
    keep = _even(len(values), MAX_CURVE_POINTS)
    return [float(v) for v in np.asarray(values, dtype=np.float64)[keep]]
