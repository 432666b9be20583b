"""Data checks before training: what is wrong with a dataset, in plain language.

Each check looks at one thing (samples per class, imbalance, duplicates and leaks
between splits, constant or unscaled features, missing values, image sizes, series
lengths, the test split's size, an id as target) and reports a `Finding`: a code the
page translates, a severity, the numbers behind it, and English text saying what was
found, why it matters and what to do (or what lernwerk does about it).

A `blocker` stops training (`training/run.py` raises it as the run's error); warnings
and hints are stored with the run. The rules are the constants below. Checks run before
every training, so a large dataset is looked at through a seeded sample of it (the
report says how many samples were looked at). The rules live with their checks:
`check_classes` (classes, target, test split) and `check_samples` (duplicates, features,
shapes before conversion); `check_context` holds what they share.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import torch

from lernwerk.data.check_classes import (
    IMBALANCE_WARN_RATIO,
    MIN_PER_CLASS,
    MIN_REGRESSION,
    MIN_TEST,
    MIN_TRAIN_PER_CLASS,
    SKEW_RATIO,
    _class_counts,
    _id_target,
    _imbalance,
    _small_test,
    wilson_interval,
)
from lernwerk.data.check_context import (
    SAMPLE_LIMIT,
    SEVERITIES,
    TABLE_SAMPLE_LIMIT,
    CheckContext,
    Finding,
    Severity,
)
from lernwerk.data.check_samples import (
    ALMOST_CONSTANT_SHARE,
    DUPLICATE_WARN_SHARE,
    LENGTH_WARN_RATIO,
    MISSING_WARN_SHARE,
    NEAR_MAD,
    NEAR_SHARE,
    SCALE_RATIO,
    _constant_features,
    _duplicates,
    _feature_scales,
    _image_sizes,
    _missing_values,
    _series_lengths,
)
from lernwerk.data.dataset import Dataset
from lernwerk.data.splits import Splits

__all__ = [
    "ALMOST_CONSTANT_SHARE",
    "DUPLICATE_WARN_SHARE",
    "IMBALANCE_WARN_RATIO",
    "LENGTH_WARN_RATIO",
    "MIN_PER_CLASS",
    "MIN_REGRESSION",
    "MIN_TEST",
    "MIN_TRAIN_PER_CLASS",
    "MISSING_WARN_SHARE",
    "NEAR_MAD",
    "NEAR_SHARE",
    "SAMPLE_LIMIT",
    "SCALE_RATIO",
    "SEVERITIES",
    "SKEW_RATIO",
    "TABLE_SAMPLE_LIMIT",
    "CheckReport",
    "Finding",
    "Severity",
    "check_dataset",
    "wilson_interval",
]


@dataclass
class CheckReport:
    """Every finding on a dataset, worst first, and how much of it was looked at."""

    dataset: str
    findings: list[Finding]
    num_samples: int
    samples_checked: int
    seconds: float
    splits: dict[str, int] = field(default_factory=dict)

    @property
    def blockers(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "blocker"]

    def to_dict(self) -> dict[str, Any]:
        counts = Counter(f.severity for f in self.findings)
        return {
            "dataset": self.dataset,
            "num_samples": self.num_samples,
            "samples_checked": self.samples_checked,
            "sampled": self.samples_checked < self.num_samples,
            "seconds": round(self.seconds, 3),
            "splits": dict(self.splits),
            "counts": {s: counts.get(s, 0) for s in SEVERITIES},
            "findings": [f.to_dict() for f in self.findings],
        }


def check_dataset(
    ds: Dataset,
    splits: Splits | None = None,
    *,
    task: str | None = None,
    val_split: float = 0.2,
    test_split: float = 0.2,
    split_seed: int = 0,
) -> CheckReport:
    """Run every check on `ds` with the splits a run would use.

    Args:
        ds: The dataset.
        splits: The run's splits; made from the split settings when None.
        task: The run's task (classification, regression, anomaly, forecasting); the
            dataset's own when None. Anomaly detection skips the per-class rules.
        val_split, test_split, split_seed: The split settings when `splits` is None.

    Raises:
        SpecError: The split settings are invalid.
    """
    start = time.perf_counter()
    task = task or ds.task
    if splits is None:
        splits = _splits(ds, val_split, test_split, split_seed)
    ctx = CheckContext(ds, splits, task)
    findings: list[Finding] = []
    for check in (
        _class_counts,
        _imbalance,
        _id_target,
        _duplicates,
        _constant_features,
        _feature_scales,
        _missing_values,
        _image_sizes,
        _series_lengths,
        _small_test,
    ):
        findings.extend(check(ctx))
    findings.sort(key=lambda f: SEVERITIES.index(f.severity))
    return CheckReport(
        dataset=ds.name,
        findings=findings,
        num_samples=len(ds),
        samples_checked=len(ctx.index),
        seconds=time.perf_counter() - start,
        splits=splits.sizes(),
    )


def _splits(ds: Dataset, val_split: float, test_split: float, seed: int) -> Splits:
    if len(ds) == 0:
        none = torch.zeros(0, dtype=torch.int64)
        return Splits(train=none, val=none, test=none)
    return ds.split(val_split, test_split, seed)
