"""Tasks: what differs between classification and regression, kept out of the loop.

The loop calls a task for its loss, its per-batch score and its predictions; a new task
(forecasting, anomaly detection, a GAN's two steps) is a new class here, not a new loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lernwerk.errors import SpecError
from lernwerk.evaluation.metrics import classification_metrics, regression_metrics


@dataclass
class Task:
    """Base: `loss` is resolved (never None) and `num_outputs` is what the network emits."""

    loss: str
    num_outputs: int
    output_activation: str = "linear"

    name = "task"
    score_name = "score"  # the per-epoch training metric next to the loss

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        return y

    def loss_fn(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def batch_score(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Sum over the batch of the score (stays on the device: no sync)."""
        raise NotImplementedError

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        """Network outputs -> probabilities (classification) or values (regression)."""
        raise NotImplementedError

    def metrics(self, y_true: np.ndarray, predictions: np.ndarray) -> dict[str, Any]:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.name,
            "loss": self.loss,
            "num_outputs": self.num_outputs,
            "output_activation": self.output_activation,
        }


@dataclass
class ClassificationTask(Task):
    classes: list[str] = field(default_factory=list)
    name = "classification"
    score_name = "accuracy"

    @property
    def binary_output(self) -> bool:
        return self.loss == "binary_cross_entropy"

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        return y.float().unsqueeze(1) if self.binary_output else y.long()

    def loss_fn(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.binary_output:
            return F.binary_cross_entropy_with_logits(outputs, targets)  # (N, 1) logits
        return F.cross_entropy(outputs, targets)  # (N, C) logits, (N,) class indices

    def batch_score(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.binary_output:
            return ((outputs > 0).float() == targets).sum()
        return (outputs.argmax(dim=1) == targets).sum()

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        if self.binary_output:
            p = torch.sigmoid(outputs[:, 0])  # (N,)
            return torch.stack([1 - p, p], dim=1)  # (N, 2)
        return torch.softmax(outputs.float(), dim=1)  # (N, C)

    def metrics(self, y_true: np.ndarray, predictions: np.ndarray) -> dict[str, Any]:
        return classification_metrics(y_true, predictions, self.classes)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "classes": list(self.classes)}


@dataclass
class RegressionTask(Task):
    """Regression on standardised targets; `y_mean`/`y_std` travel with the model."""

    y_mean: float = 0.0
    y_std: float = 1.0
    name = "regression"
    score_name = "mae"

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        y = y.float()
        y = y.unsqueeze(1) if y.ndim == 1 else y  # (N, K)
        return (y - self.y_mean) / self.y_std

    def _activated(self, outputs: torch.Tensor) -> torch.Tensor:
        if self.output_activation == "sigmoid":
            return torch.sigmoid(outputs)
        return outputs

    def loss_fn(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        outputs = self._activated(outputs)
        if self.loss == "mae":
            return F.l1_loss(outputs, targets)
        return F.mse_loss(outputs, targets)

    def batch_score(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        # mean absolute error in the target's own units, summed over the batch
        return (self._activated(outputs) - targets).abs().mean(dim=1).sum() * self.y_std

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return self._activated(outputs.float()) * self.y_std + self.y_mean  # (N, K)

    def metrics(self, y_true: np.ndarray, predictions: np.ndarray) -> dict[str, Any]:
        if predictions.ndim == 2 and predictions.shape[1] == 1:
            predictions = predictions[:, 0]
        return regression_metrics(y_true, predictions)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "y_mean": self.y_mean, "y_std": self.y_std}


CLASSIFICATION_LOSSES = ("cross_entropy", "binary_cross_entropy")
REGRESSION_LOSSES = ("mse", "mae")


def make_task(
    task: str,
    loss: str | None,
    *,
    classes: list[str],
    y_train: torch.Tensor | None = None,
) -> Task:
    """Resolve the loss for a task and the number of outputs it needs.

    Raises:
        SpecError: the loss does not suit the task (e.g. mse for classification).
    """
    if task == "classification":
        loss = loss or "cross_entropy"
        if loss not in CLASSIFICATION_LOSSES:
            raise SpecError(
                f"loss '{loss}' does not suit classification; use cross_entropy or binary_cross_entropy",
                where="loss",
            )
        if loss == "binary_cross_entropy" and len(classes) != 2:
            raise SpecError(
                f"loss binary_cross_entropy needs 2 classes; the dataset has {len(classes)}; "
                "use cross_entropy",
                where="loss",
            )
        outputs = 1 if loss == "binary_cross_entropy" else len(classes)
        return ClassificationTask(loss=loss, num_outputs=outputs, classes=list(classes))
    if task == "regression":
        loss = loss or "mse"
        if loss not in REGRESSION_LOSSES:
            raise SpecError(f"loss '{loss}' does not suit regression; use mse or mae", where="loss")
        y_mean, y_std = 0.0, 1.0
        if y_train is not None and len(y_train):
            y_mean = float(y_train.float().mean())
            y_std = float(y_train.float().std()) if len(y_train) > 1 else 1.0
            y_std = y_std if y_std > 1e-8 else 1.0
        k = 1 if y_train is None or y_train.ndim == 1 else int(y_train.shape[1])
        return RegressionTask(loss=loss, num_outputs=k, y_mean=y_mean, y_std=y_std)
    raise SpecError(f"unknown task '{task}'; expected classification or regression", where="task")


def task_from_dict(d: dict[str, Any]) -> Task:
    """Rebuild a task saved with a model (`Task.to_dict`)."""
    common = {
        "loss": d["loss"],
        "num_outputs": d["num_outputs"],
        "output_activation": d["output_activation"],
    }
    if d["task"] == "classification":
        return ClassificationTask(**common, classes=list(d["classes"]))
    return RegressionTask(**common, y_mean=d["y_mean"], y_std=d["y_std"])
