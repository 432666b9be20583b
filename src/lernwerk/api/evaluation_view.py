"""A run's evaluation on one split as a results page shows it: metrics and every sample's
prediction, ordered so that the interesting ones come first, with the series to plot
for sequence data.

The run's task decides the view (`Task.evaluation_view`):

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

import torch

from lernwerk.data import Dataset
from lernwerk.export import Predictor
from lernwerk.training.tasks_views import SERIES_SHOWN, SplitSamples

__all__ = ["SERIES_SHOWN", "evaluation_view"]


def evaluation_view(
    predictor: Predictor,
    ds: Dataset,
    idx: torch.Tensor,
    train_idx: torch.Tensor,
    *,
    split: str,
    limit: int,
) -> dict[str, Any]:
    """`{"split", "task", "num_samples", "metrics", "classes", "samples"}` and what the
    task adds (for sequence classification `typical`, class -> mean training series, C×T;
    for anomaly detection `normal_class` and `threshold`)."""
    x, y = ds.subset(idx)
    samples = SplitSamples(ds=ds, x=x, y=y.numpy(), ids=ds.ids[idx].tolist(), train_idx=train_idx)
    task = predictor.task
    view: dict[str, Any] = {"split": split, "task": task.name, "num_samples": len(idx)}
    view.update(task.evaluation_view(predictor, samples, limit=limit))
    return view
