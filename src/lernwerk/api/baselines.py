"""Classical baselines stored as runs, beside the networks trained on the same split.

`ws.baselines("digits")` fits logistic regression (ridge for regression), histogram
gradient boosting, XGBoost (when installed) and, for series, ROCKET on the split a network run with the same
`val_split`, `test_split` and `split_seed` trains on, and stores each as a finished run:
its task, metrics per split (confusion matrix included), fit seconds and a config that
says it is a baseline and on which features. The fitted estimators are not stored (no
pickles): a baseline run cannot predict, export or resume.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from lernwerk.config import SCHEMA_VERSION, TrainConfig
from lernwerk.data import Dataset
from lernwerk.store import RunRecord, WorkspaceStore
from lernwerk.training.baselines import BaselineReport, fit_baselines

if TYPE_CHECKING:
    from lernwerk.api.run import Run

SPLIT_KEYS = ("val_split", "test_split", "split_seed")


def is_baseline(record: RunRecord) -> bool:
    """Whether a run is a classical baseline (metrics only, no network bundle)."""
    return isinstance(record.config.get("baseline"), dict)


def same_split(record: RunRecord, dataset_hash: str, split: dict[str, Any]) -> bool:
    """Whether a run trained on the same data and the same train/val/test split."""
    train = record.config.get("train", {})
    return record.dataset_hash == dataset_hash and all(train.get(k) == split[k] for k in SPLIT_KEYS)


@dataclass
class BaselineComparison:
    """The baselines just fitted (stored as runs), the finished networks on the same split,
    and what was left out (why)."""

    dataset: str
    task: str
    splits: dict[str, int]  # samples in train, val, test
    runs: list[Run] = field(default_factory=list)
    networks: list[Run] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        """The lecture's table: one row per model (baselines first, then networks) with its
        features, test score(s) and fit seconds."""
        return [_table_row(r) for r in [*self.runs, *self.networks]]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows())

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "task": self.task,
            "splits": self.splits,
            "runs": [r.row() for r in self.runs],
            "networks": [r.row() for r in self.networks],
            "table": self.rows(),
            "notes": list(self.notes),
        }

    def _repr_html_(self) -> str:
        return self.frame().to_html(index=False)


def _table_row(run: Run) -> dict[str, Any]:
    baseline = run.config.get("baseline") or {}
    test = run.metrics.get("test", {})
    row: dict[str, Any] = {
        "id": run.id,
        "model": baseline.get("estimator") or run.record.model,
        "features": baseline.get("features") or "network",
    }
    for key in ("accuracy", "f1_macro", "r2", "mae"):
        if isinstance(test.get(key), int | float):
            row[f"test_{key}"] = test[key]
    row["seconds"] = round(run.record.seconds or 0.0, 2)
    return row


class BaselineMethods:
    """The baseline half of `Workspace`."""

    store: WorkspaceStore

    if TYPE_CHECKING:  # provided by Workspace and DatasetMethods

        def load_dataset(self, ref: str | Dataset) -> Dataset: ...
        def _as_stored(self, ds: Dataset) -> Dataset: ...
        def _ensure_findable(self, ds: Dataset) -> None: ...
        def runs(self, status: str | None = None) -> list[Run]: ...
        def run(self, ref: str) -> Run: ...

    def baselines(
        self,
        dataset: str | Dataset,
        *,
        val_split: float = 0.2,
        test_split: float = 0.2,
        split_seed: int = 0,
        task: str | None = None,
        seed: int = 0,
        estimators: Sequence[str] | None = None,
    ) -> BaselineComparison:
        """Fit the classical baselines on a dataset's split and store each as a run.

        Tables use their encoded features; images their pixels (average-pooled to at most
        16×16 per channel) and, from 32×32 up, the pretrained backbone's embeddings (the
        linear probe is logistic regression on them); sequences their values and summary
        statistics per channel, and ROCKET: MiniRocket's random convolutional kernels with
        a ridge classifier (or regressor). The split is the one a network run with the same
        `val_split`, `test_split` and `split_seed` uses (a run's defaults by default).
        `estimators` names the ones to fit (e.g. `["rocket"]`); None: all that suit.

        Returns:
            The baseline runs, the finished networks on the same split, and notes on what
            was left out.

        Raises:
            SpecError: the dataset's task is not classification or regression; an unknown
                estimator, or one that does not suit the data (rocket on a table).
            DataError, NotFound: no such dataset, or an empty split; nothing is stored.
        """
        cfg = TrainConfig.from_dict(
            {
                "val_split": val_split,
                "test_split": test_split,
                "split_seed": split_seed,
                "task": task,
                "seed": seed,
            }
        )
        ds = self._as_stored(self.load_dataset(dataset))
        report = fit_baselines(
            ds, cfg, estimators
        )  # everything is fitted before anything is written
        self._ensure_findable(ds)
        split = {k: getattr(cfg, k) for k in SPLIT_KEYS}
        records = self._baseline_records(ds, report, {**split, "task": report.task, "seed": seed})
        self.store.add_runs(records)
        networks = [
            r
            for r in self.runs("finished")
            if not is_baseline(r.record) and same_split(r.record, ds.content_hash, split)
        ]
        return BaselineComparison(
            dataset=ds.name,
            task=report.task,
            splits=report.splits,
            runs=[self.run(rec.id) for rec in records],
            networks=networks,
            notes=report.notes,
        )

    def _baseline_records(
        self, ds: Dataset, report: BaselineReport, train: dict[str, Any]
    ) -> list[RunRecord]:
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        taken = {rec.name for rec in self.store.list_runs()}
        records = []
        for result in report.results:
            name = _free_name(f"{result.model} on {ds.name}", taken)
            taken.add(name)
            config = {
                "schema_version": SCHEMA_VERSION,
                "dataset": ds.name,
                "baseline": {
                    "estimator": result.estimator,
                    "features": result.features,
                    "feature_note": result.feature_note,
                    "library": result.library,
                    "settings": result.settings,
                    "feature_seconds": round(result.feature_seconds, 3),
                    "estimator_stored": False,  # no pickles: only the results are kept
                },
                "train": train,
            }
            records.append(
                RunRecord(
                    id=secrets.token_hex(4),
                    name=name,
                    status="finished",
                    created_at=now,
                    started_at=now,
                    finished_at=now,
                    config=config,
                    model=result.model,
                    dataset=ds.name,
                    dataset_hash=ds.content_hash,
                    device="cpu",
                    metrics=result.metrics,
                    seconds=result.seconds,
                    pid=os.getpid(),
                    host=socket.gethostname(),
                )
            )
        return records


def _free_name(base: str, taken: set[str]) -> str:
    """`base`, then `base #2`, … (as `Workspace._numbered_run_name`)."""
    if base not in taken:
        return base
    n = 2
    while f"{base} #{n}" in taken:
        n += 1
    return f"{base} #{n}"
