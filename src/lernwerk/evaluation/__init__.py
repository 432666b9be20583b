"""Evaluation of trained models: metrics, confusion matrix, misclassified samples; the
quality-control assistant (`inspection`) and its review threshold (`review`).

The metric names load on first use (PEP 562): `inspection` and `review` need neither
scikit-learn nor PyTorch, so the ONNX route of `lernwerk inspect` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_METRICS = ("classification_metrics", "headline", "misclassified", "regression_metrics")

if TYPE_CHECKING:
    from lernwerk.evaluation.metrics import (
        classification_metrics,
        headline,
        misclassified,
        regression_metrics,
    )


def __getattr__(name: str) -> Any:
    if name in _METRICS:
        value = getattr(import_module("lernwerk.evaluation.metrics"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["classification_metrics", "headline", "misclassified", "regression_metrics"]
