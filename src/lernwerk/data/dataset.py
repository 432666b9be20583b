"""The in-memory dataset: samples and labels as tensors, with what they mean."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from lernwerk.data.rows import StoredRows, in_chunks
from lernwerk.data.splits import Splits, make_splits, make_time_splits
from lernwerk.errors import DataError

Kind = Literal["table", "images", "sequences"]
Task = Literal["classification", "regression"]

# Sample dimensions per kind: a table row (F,), an image (C, H, W), a sequence (C, T).
_SAMPLE_DIMS: dict[str, int] = {"table": 1, "images": 3, "sequences": 2}
_SAMPLE_LAYOUT: dict[str, str] = {
    "table": "(N, F)",
    "images": "(N, C, H, W)",
    "sequences": "(N, C, T)",
}


@dataclass(eq=False)
class Dataset:
    """Samples `x` and labels `y` of one kind and task, with class and feature names.

    Args:
        name: The reference it was loaded by, e.g. "xor" or "tabular:features=30".
        kind: "table", "images" or "sequences".
        task: "classification" or "regression".
        x: float32 samples: (N, F) tables, (N, C, H, W) images in [0, 1], (N, C, T) sequences;
            or `StoredRows`, the samples of a stored dataset too large for memory, read
            from disk when indexed.
        y: (N,) int64 class indices for classification, float32 values for regression,
            or (N, K) float32 for K targets per sample (a forecast's next K steps).
        classes: Class names in index order; [] for regression.
        feature_names: Table columns; [] for other kinds.
        source: Where it came from, e.g. {"builtin": "xor", "params": {...}}.
        test_index: A fixed test split that ships with the data, (N_test,) int64.
        description: One line for people.
        meta: Kind-specific facts that prediction needs too: an image format, a table
            encoding, a sequence length policy, forecast windows (`meta["forecast"]`:
            the samples follow each other in time and split by time). JSON-able.
        sample_ids: (N,) int64 ids that stay with a sample when others are added or
            deleted; None means 0..N-1.

    Raises:
        DataError: The tensors do not fit each other, the kind or the task.
    """

    name: str
    kind: Kind
    task: Task
    x: torch.Tensor | StoredRows
    y: torch.Tensor
    classes: list[str]
    feature_names: list[str]
    source: dict[str, Any]
    test_index: torch.Tensor | None = None
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    sample_ids: torch.Tensor | None = None
    _content_hash: str | None = field(default=None, init=False, repr=False)

    def __repr__(self) -> str:  # the facts, not the tensors (a notebook prints this)
        shape = "×".join(map(str, self.x.shape[1:]))
        classes = f", classes={self.classes!r}" if self.classes else ""
        return (
            f"Dataset({self.name!r}, {self.kind}, {self.task}, {len(self.x)} samples of "
            f"{shape}{classes})"
        )

    def __post_init__(self) -> None:
        self._check_shapes()
        self._check_labels()
        if not self.on_disk:  # stored samples were checked when they were written
            self._check_values()
        if self.test_index is not None:
            self._check_test_index()
        if self.sample_ids is not None:
            self._check_sample_ids()

    @property
    def on_disk(self) -> bool:
        """Whether the samples stay on disk (`x` is `StoredRows`) rather than in memory."""
        return isinstance(self.x, StoredRows)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample: (F,), (C, H, W) or (C, T)."""
        return tuple(self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        """Number of classes; 0 for regression."""
        return len(self.classes)

    @property
    def content_hash(self) -> str:
        """ "sha256:<hex>" of the samples, labels, classes, kind, task and fixed test split."""
        if self._content_hash is None:
            digest = hashlib.sha256()
            header = {
                "kind": self.kind,
                "task": self.task,
                "classes": self.classes,
                "x_shape": list(self.x.shape),
                "y_dtype": str(self.y.dtype),
            }
            digest.update(json.dumps(header, sort_keys=True).encode())
            # a chunk of about 32 MiB at a time: the hash of a dataset on disk stays small
            rows = max(1, (32 << 20) // (4 * max(1, math.prod(self.input_shape))))
            for chunk in in_chunks(self.x, rows):
                digest.update(chunk.detach().cpu().contiguous().numpy().data)
            digest.update(self.y.detach().cpu().contiguous().numpy().data)
            if self.test_index is not None:
                digest.update(b"test_index")
                digest.update(self.test_index.detach().cpu().contiguous().numpy().tobytes())
            self._content_hash = f"sha256:{digest.hexdigest()}"
        return self._content_hash

    @property
    def ids(self) -> torch.Tensor:
        """(N,) int64 sample ids: `sample_ids`, or 0..N-1 when none are kept."""
        if self.sample_ids is None:
            return torch.arange(len(self), dtype=torch.int64)
        return self.sample_ids

    @property
    def is_test(self) -> torch.Tensor:
        """(N,) bool: True for samples of the fixed test split (all False without one)."""
        mask = torch.zeros(len(self), dtype=torch.bool)
        if self.test_index is not None:
            mask[self.test_index] = True
        return mask

    def __len__(self) -> int:
        return self.x.shape[0]

    def split(self, val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0) -> Splits:
        """Stratified, seeded train/val/test indices; honours a fixed `test_index`.

        Forecast windows (`meta["forecast"]`) split by time instead: train, then val,
        then test, with the windows whose targets would overlap the next split dropped.
        """
        forecast = self.meta.get("forecast")
        if forecast:
            gap = -(-(int(forecast["horizon"]) - 1) // int(forecast.get("stride", 1)))
            return make_time_splits(len(self), val_fraction, test_fraction, gap)
        return make_splits(
            self.y, self.task, val_fraction, test_fraction, seed, test_index=self.test_index
        )

    def subset(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Samples and labels at `index`: (x[index], y[index])."""
        return self.x[index], self.y[index]

    def info(self) -> dict[str, Any]:
        """A JSON-able summary for listings and the web page."""
        class_counts: dict[str, int] = {}
        if self.task == "classification":
            counts = torch.bincount(self.y, minlength=self.num_classes).tolist()  # (K,)
            class_counts = dict(zip(self.classes, counts, strict=True))
        return {
            "name": self.name,
            "kind": self.kind,
            "task": self.task,
            "num_samples": len(self),
            "input_shape": list(self.input_shape),
            "classes": list(self.classes),
            "class_counts": class_counts,
            "feature_names": list(self.feature_names),
            "has_test_split": self.test_index is not None,
            "meta": self.meta,
            "content_hash": self.content_hash,
            "description": self.description,
        }

    def _check_shapes(self) -> None:
        where = f"dataset '{self.name}'"
        if self.kind not in _SAMPLE_DIMS:
            raise DataError(
                f"kind must be one of table, images, sequences; received: {self.kind!r}", where
            )
        if self.task not in ("classification", "regression"):
            raise DataError(
                f"task must be classification or regression; received: {self.task!r}", where
            )
        if not isinstance(self.x, torch.Tensor | StoredRows) or not isinstance(
            self.y, torch.Tensor
        ):
            raise DataError("x and y must be torch tensors", where)
        if self.x.dtype != torch.float32:
            raise DataError(f"x must be float32; received: {self.x.dtype}", where)
        if self.x.dim() != _SAMPLE_DIMS[self.kind] + 1:
            raise DataError(
                f"{self.kind} samples must be shaped {_SAMPLE_LAYOUT[self.kind]}; "
                f"received x of shape {tuple(self.x.shape)}",
                where,
            )
        multi = self.y.dim() == 2 and self.task == "regression"  # (N, K) targets
        if (self.y.dim() != 1 and not multi) or len(self.y) != len(self.x):
            raise DataError(
                f"y must be shaped ({len(self.x)},) to match x; received: {tuple(self.y.shape)}",
                where,
            )
        if self.feature_names and len(self.feature_names) != self.x.shape[1]:
            raise DataError(
                f"{len(self.feature_names)} feature names for {self.x.shape[1]} features", where
            )

    def _check_labels(self) -> None:
        where = f"dataset '{self.name}'"
        if self.task == "regression":
            if self.y.dtype != torch.float32:
                raise DataError(f"regression y must be float32; received: {self.y.dtype}", where)
            if self.classes:
                raise DataError("a regression dataset has no classes", where)
            return
        if self.y.dtype != torch.int64:
            raise DataError(f"class labels y must be int64; received: {self.y.dtype}", where)
        if not self.classes:
            raise DataError("a classification dataset needs class names", where)
        bad = ((self.y < 0) | (self.y >= self.num_classes)).nonzero()  # (M, 1)
        if len(bad):
            row = int(bad[0, 0])
            raise DataError(
                f"row {row}: class index {int(self.y[row])} is outside 0..{self.num_classes - 1} "
                f"for {self.num_classes} classes",
                where,
            )

    def _check_values(self) -> None:
        where = f"dataset '{self.name}'"
        flat = self.x.reshape(len(self.x), math.prod(self.x.shape[1:]))  # (N, D)
        bad = (~torch.isfinite(flat).all(dim=1)).nonzero()  # (M, 1)
        if len(bad):
            raise DataError(
                f"row {int(bad[0, 0])}: x contains NaN or infinite values "
                f"({len(bad)} rows in all); drop or fill them",
                where,
            )
        if self.kind == "images" and len(flat):
            bad = ((flat < 0) | (flat > 1)).any(dim=1).nonzero()  # (M, 1)
            if len(bad):
                raise DataError(
                    f"row {int(bad[0, 0])}: image pixel values must lie in [0, 1]; "
                    f"received values in [{float(flat.min())}, {float(flat.max())}]; "
                    "divide by 255 for 8-bit images",
                    where,
                )
        if self.task == "regression":
            bad = (~torch.isfinite(self.y.reshape(len(self.y), -1)).all(dim=1)).nonzero()
            if len(bad):
                raise DataError(f"row {int(bad[0, 0])}: y is NaN or infinite", where)

    def _check_test_index(self) -> None:
        where = f"dataset '{self.name}'"
        index = self.test_index
        if index.dtype != torch.int64 or index.dim() != 1:
            raise DataError(
                f"test_index must be a 1-D int64 tensor; received {index.dtype} "
                f"of shape {tuple(index.shape)}",
                where,
            )
        if len(index) and (int(index.min()) < 0 or int(index.max()) >= len(self)):
            raise DataError(f"test_index must lie in [0, {len(self)})", where)
        if len(torch.unique(index)) != len(index):
            raise DataError("test_index contains duplicate sample indices", where)

    def _check_sample_ids(self) -> None:
        where = f"dataset '{self.name}'"
        ids = self.sample_ids
        if ids.dtype != torch.int64 or ids.shape != (len(self),):
            raise DataError(
                f"sample_ids must be int64 shaped ({len(self)},); received {ids.dtype} "
                f"of shape {tuple(ids.shape)}",
                where,
            )
        if len(torch.unique(ids)) != len(ids):
            raise DataError("sample_ids contains duplicates", where)
