"""What the tasks show: the pieces of an evaluation view and of a prediction's answer.

A task's `evaluation_view` and `prediction_rows` (in `tasks` and `tasks_sequence`) put
these together; the results page and `Run.predict*` only call the task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch

from lernwerk.evaluation.metrics import misclassified

if TYPE_CHECKING:
    from lernwerk.data import Dataset

SERIES_SHOWN = 12  # samples listed first that carry their series, for the plots


class Predicts(Protocol):
    """What a view needs of a trained model (`lernwerk.export.Predictor` is one)."""

    def predict(self, x: np.ndarray | torch.Tensor) -> np.ndarray: ...

    def predict_details(self, x: np.ndarray | torch.Tensor) -> dict[str, np.ndarray]: ...


@dataclass
class SplitSamples:
    """Samples of one split of a run's dataset, for its evaluation view."""

    ds: Dataset
    x: torch.Tensor  # raw inputs, as the dataset holds them
    y: np.ndarray  # (N,) class indices or (N,) / (N, K) values
    ids: list[int]  # the samples' ids
    train_idx: torch.Tensor  # the run's training split (each class's typical shape)
    _rows: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rows = {sample_id: row for row, sample_id in enumerate(self.ids)}

    def row(self, sample_id: int) -> int:
        """The row of `x` that holds a sample, by id."""
        return self._rows[sample_id]


def classified_samples(
    classes: list[str], y: np.ndarray, out: np.ndarray, ids: list[int], limit: int
) -> list[dict[str, Any]]:
    """The misclassified first (most confident first), then the rest, least confident first."""
    true = y.astype(np.int64)
    order = [m["index"] for m in misclassified(true, out)]
    wrong = set(order)
    right = [int(i) for i in np.argsort(out.max(axis=1), kind="stable") if int(i) not in wrong]
    samples = []
    for i in (order + right)[:limit]:
        best = int(out[i].argmax())
        samples.append(
            {
                "id": ids[i],
                "label": classes[int(true[i])],
                "predicted": classes[best],
                "confidence": float(out[i, best]),
                "probabilities": {c: float(p) for c, p in zip(classes, out[i], strict=True)},
            }
        )
    return samples


def regressed_samples(
    y: np.ndarray, out: np.ndarray, ids: list[int], limit: int
) -> list[dict[str, Any]]:
    """The largest errors first."""
    values = out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out
    error = np.abs(np.asarray(values, dtype=np.float64) - y).reshape(len(y), -1)
    return [  # by the mean absolute error over the sample's values (a forecast's steps)
        {"id": ids[i], "label": y[i].tolist(), "predicted": values[i].tolist()}
        for i in np.argsort(-error.mean(axis=1), kind="stable")[:limit].tolist()
    ]


def samples_apart(samples: list[dict[str, Any]], spacing: int) -> list[dict[str, Any]]:
    """The first samples, in their order, whose ids lie at least `spacing` apart: forecast
    windows one step apart show nearly the same series, so show ones further apart."""
    chosen: list[dict[str, Any]] = []
    for s in samples:
        if all(abs(s["id"] - c["id"]) >= spacing for c in chosen):
            chosen.append(s)
            if len(chosen) == SERIES_SHOWN:
                break
    return chosen


def typical_series(ds: Dataset, train_idx: torch.Tensor) -> dict[str, list]:
    """Each class's mean training series (C×T), in the dataset's own units."""
    x, y = ds.subset(train_idx)
    return {
        c: plain_values(x[y == k].float().mean(dim=0))
        for k, c in enumerate(ds.classes)
        if bool((y == k).any())
    }


def plain_values(a: torch.Tensor | np.ndarray) -> list:
    """Plain lists with 5 significant digits: smaller JSON, the same plot."""
    arr = a.detach().cpu().numpy() if torch.is_tensor(a) else np.asarray(a)
    return np.vectorize(lambda v: float(f"{v:.5g}"), otypes=[float])(arr).tolist()


def class_answer(classes: list[str], row: np.ndarray) -> dict[str, Any]:
    """One sample's class, its confidence and every class's probability."""
    best = int(row.argmax())
    return {
        "predicted": classes[best],
        "confidence": float(row[best]),
        "probabilities": {c: float(v) for c, v in zip(classes, row, strict=True)},
    }


def value_answer(row: np.ndarray) -> dict[str, Any]:
    """One sample's value, or its values when the model gives several."""
    if len(row) == 1:
        return {"value": float(row[0])}
    return {"values": [float(v) for v in row]}


def finite(v: float) -> float | None:
    """`v`, or None when it is not finite (JSON has no infinity)."""
    return float(v) if np.isfinite(v) else None
