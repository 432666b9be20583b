"""A run's evaluation on one split as a results page shows it: metrics and every sample's
prediction, ordered so that the interesting ones come first, with the series to plot
for sequence data.

- classification: the misclassified first (most confident first), then the rest; for
  sequences each class's typical shape (the mean of its training series) and the series
  of the first samples listed, to overlay;
- regression and forecasting: the largest errors first; forecasts, the first of them
  lying a window apart, carry the past window they were predicted from;
- anomaly detection: the wrong flags first (missed anomalies and false alarms, furthest
  from the threshold first), then by score; the first samples listed carry their series
  and its reconstruction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lernwerk.data import Dataset
from lernwerk.evaluation.metrics import misclassified
from lernwerk.export import Predictor

SERIES_SHOWN = 12  # samples listed first that carry their series, for the plots


def evaluation_view(
    predictor: Predictor,
    ds: Dataset,
    idx: torch.Tensor,
    train_idx: torch.Tensor,
    *,
    split: str,
    limit: int,
) -> dict[str, Any]:
    """`{"split", "task", "metrics", "classes", "num_samples", "samples"}` and, for sequence
    classification, `typical` (class -> mean training series, C×T)."""
    x, y = ds.subset(idx)
    ids = ds.ids[idx].tolist()
    row_of = {sample_id: row for row, sample_id in enumerate(ids)}
    task = predictor.task.name
    view: dict[str, Any] = {"split": split, "task": task, "num_samples": len(idx)}
    if task == "anomaly":
        view.update(_anomaly(predictor, x, y.numpy(), ids, limit))
        return view
    out = predictor.predict(x)  # (N, C) probabilities or (N, K) values
    view["metrics"] = predictor.task.metrics(y.numpy(), out, x.numpy())
    view["classes"] = list(predictor.classes)
    if predictor.classes:
        samples = _classified(predictor.classes, y.numpy(), out, ids, limit)
        if ds.kind == "sequences":
            view["typical"] = _typical(ds, train_idx)
            for s in samples[:SERIES_SHOWN]:
                s["series"] = _values(x[row_of[s["id"]]])
    else:
        samples = _regressed(y.numpy(), out, ids, limit)
        if task == "forecasting":
            channel = getattr(predictor.task, "target_channel", 0)
            for s in _apart(samples, spacing=int(x.shape[-1])):
                s["past"] = _values(x[row_of[s["id"]], channel])
    view["samples"] = samples
    return view


def _classified(
    classes: list[str], y: np.ndarray, out: np.ndarray, ids: list[int], limit: int
) -> list[dict[str, Any]]:
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


def _regressed(y: np.ndarray, out: np.ndarray, ids: list[int], limit: int) -> list[dict[str, Any]]:
    values = out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out
    error = np.abs(np.asarray(values, dtype=np.float64) - y).reshape(len(y), -1)
    return [  # by the mean absolute error over the sample's values (a forecast's steps)
        {"id": ids[i], "label": y[i].tolist(), "predicted": values[i].tolist()}
        for i in np.argsort(-error.mean(axis=1), kind="stable")[:limit].tolist()
    ]


def _apart(samples: list[dict[str, Any]], spacing: int) -> list[dict[str, Any]]:
    """The first samples, in their order, whose ids lie at least `spacing` apart: forecast
    windows one step apart show nearly the same series, so show ones further apart."""
    chosen: list[dict[str, Any]] = []
    for s in samples:
        if all(abs(s["id"] - c["id"]) >= spacing for c in chosen):
            chosen.append(s)
            if len(chosen) == SERIES_SHOWN:
                break
    return chosen


def _anomaly(
    predictor: Predictor, x: torch.Tensor, y: np.ndarray, ids: list[int], limit: int
) -> dict[str, Any]:
    task = predictor.task
    details = predictor.predict_details(x)
    scores, flagged = details["score"], details["is_anomaly"]
    metrics = task.metrics(y, scores[:, None])
    classes: list[str] = task.classes  # type: ignore[attr-defined]
    normal = task.normal_index  # type: ignore[attr-defined]
    truth = y != normal
    threshold = metrics["threshold"]
    distance = np.abs(scores - threshold) if threshold is not None else scores
    wrong = np.flatnonzero(truth != flagged)
    right = np.flatnonzero(truth == flagged)
    order = [*wrong[np.argsort(-distance[wrong], kind="stable")].tolist()]
    order += right[np.argsort(-scores[right], kind="stable")].tolist()
    samples = []
    for rank, i in enumerate(order[:limit]):
        sample: dict[str, Any] = {
            "id": ids[i],
            "label": classes[int(y[i])],
            "anomaly": bool(truth[i]),
            "flagged": bool(flagged[i]),
            "score": float(scores[i]),
        }
        if rank < SERIES_SHOWN:
            sample["series"] = _values(x[i])
            sample["reconstruction"] = _values(details["reconstruction"][i])
        samples.append(sample)
    return {
        "metrics": metrics,
        "classes": [],
        "normal_class": classes[normal],
        "threshold": threshold,
        "samples": samples,
    }


def _typical(ds: Dataset, train_idx: torch.Tensor) -> dict[str, list]:
    """Each class's mean training series (C×T), in the dataset's own units."""
    x, y = ds.subset(train_idx)
    return {
        c: _values(x[y == k].float().mean(dim=0))
        for k, c in enumerate(ds.classes)
        if bool((y == k).any())
    }


def _values(a: torch.Tensor | np.ndarray) -> list:
    """Plain lists with 5 significant digits: smaller JSON, the same plot."""
    arr = a.detach().cpu().numpy() if torch.is_tensor(a) else np.asarray(a)
    return np.vectorize(lambda v: float(f"{v:.5g}"), otypes=[float])(arr).tolist()
