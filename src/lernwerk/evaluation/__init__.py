"""Evaluation of trained models: metrics, confusion matrix, misclassified samples."""

from lernwerk.evaluation.metrics import (
    classification_metrics,
    headline,
    misclassified,
    regression_metrics,
)

__all__ = ["classification_metrics", "headline", "misclassified", "regression_metrics"]
