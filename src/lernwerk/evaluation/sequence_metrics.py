"""Metrics of forecasts and of anomaly scores, computed by scikit-learn.

Like `metrics`, every function returns plain Python values, ready for JSON and tables.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from lernwerk.errors import DataError

__all__ = ["anomaly_metrics", "best_threshold", "forecast_metrics"]


def forecast_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, naive: np.ndarray | None = None
) -> dict[str, Any]:
    """MAE, RMSE and R² of forecasts, per horizon step too, and the naive forecast's.

    Args:
        y_true: True future values, (N, H) for H steps ahead (or (N,) for one).
        y_pred: Forecasts, the same shape.
        naive: The naive forecast (the last value seen, repeated), the same shape; None
            leaves out `naive_mae`, `naive_rmse` and `skill`.

    Returns:
        `{"mae", "rmse", "mse", "r2", "mae_per_step", "num_samples"}`, plus `naive_mae`,
        `naive_rmse` and `skill` (1 − mae / naive_mae: 0.3 means 30 % lower error than
        the naive forecast) when `naive` is given.

    Raises:
        DataError: The shapes differ or there are no samples.
    """
    y_true = _as_2d(y_true)
    y_pred = _as_2d(y_pred)
    if y_true.shape != y_pred.shape:
        raise DataError(
            f"expected forecasts shaped like the targets {y_true.shape}; received {y_pred.shape}"
        )
    if len(y_true) == 0:
        raise DataError("no samples to evaluate; the split is empty")
    mse = float(skm.mean_squared_error(y_true, y_pred))
    mae = float(skm.mean_absolute_error(y_true, y_pred))
    r2: float | None = None
    if len(y_true) >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            r2 = float(skm.r2_score(y_true, y_pred))
    per_step = skm.mean_absolute_error(y_true, y_pred, multioutput="raw_values")  # (H,)
    result: dict[str, Any] = {
        "mae": mae,
        "rmse": mse**0.5,
        "mse": mse,
        "r2": r2,
        "mae_per_step": [float(v) for v in per_step],
    }
    if naive is not None:
        naive = _as_2d(naive)
        if naive.shape != y_true.shape:
            raise DataError(
                f"expected a naive forecast shaped {y_true.shape}; received {naive.shape}"
            )
        naive_mae = float(skm.mean_absolute_error(y_true, naive))
        result["naive_mae"] = naive_mae
        result["naive_rmse"] = float(skm.mean_squared_error(y_true, naive)) ** 0.5
        result["skill"] = 1 - mae / naive_mae if naive_mae > 0 else None
    result["num_samples"] = int(len(y_true))
    return result


def anomaly_metrics(is_anomaly: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """ROC AUC, average precision, and precision/recall/F1 of flagging `score > threshold`.

    Args:
        is_anomaly: (N,) bool, the truth.
        scores: (N,) anomaly scores, higher = more anomalous.
        threshold: Scores above it are flagged (infinite: none; reported as None).

    Returns:
        `{"roc_auc", "average_precision", "precision", "recall", "f1", "accuracy",
        "threshold", "confusion_matrix", "num_samples", "num_anomalies"}`; the matrix has
        rows = true (normal, anomaly) and columns = flagged (no, yes). `roc_auc` and
        `average_precision` are None unless both kinds occur.
    """
    truth, scores = _check_scores(is_anomaly, scores)
    flagged = scores > threshold
    both = 0 < truth.sum() < len(truth)
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        truth, flagged, average="binary", zero_division=0
    )
    return {
        "roc_auc": float(skm.roc_auc_score(truth, scores)) if both else None,
        "average_precision": float(skm.average_precision_score(truth, scores)) if both else None,
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "accuracy": float(skm.accuracy_score(truth, flagged)),
        "threshold": float(threshold) if np.isfinite(threshold) else None,
        "confusion_matrix": skm.confusion_matrix(truth, flagged, labels=[False, True]).tolist(),
        "num_samples": int(len(truth)),
        "num_anomalies": int(truth.sum()),
    }


def best_threshold(is_anomaly: np.ndarray, scores: np.ndarray) -> float:
    """The threshold whose flags (`score > threshold`) have the best balanced accuracy.

    Balanced accuracy (the mean of the recall on anomalies and on normal samples, i.e.
    Youden's J = TPR − FPR shifted) does not depend on the share of anomalies in the
    samples; F1 does: with 160 faulty and 40 good curves the best F1 flags every curve.
    The threshold lies halfway between the lowest flagged score and the next lower one.

    Raises:
        DataError: Not both normal and anomalous samples are given.
    """
    truth, scores = _check_scores(is_anomaly, scores)
    if not 0 < truth.sum() < len(truth):
        raise DataError("the best threshold needs both normal and anomalous samples")
    fpr, tpr, cuts = skm.roc_curve(truth, scores)  # flags: score >= cut
    best = cuts[1:][int(np.argmax((tpr - fpr)[1:]))]  # cuts[0] flags nothing
    below = scores[scores < best]
    return float((best + below.max()) / 2) if len(below) else float(best - 1e-12)


def _as_2d(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return values[:, None] if values.ndim == 1 else values.reshape(len(values), -1)


def _check_scores(is_anomaly: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    truth = np.asarray(is_anomaly).astype(bool).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if truth.shape != scores.shape:
        raise DataError(f"{len(truth)} labels for {len(scores)} anomaly scores")
    if len(truth) == 0:
        raise DataError("no samples to evaluate; the split is empty")
    return truth, scores
