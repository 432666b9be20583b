"""A dataset as stored arrays and back: images as 8-bit pixels, the rest as float32.

A stored dataset is a file of fixed-size sample records, a database row per sample (id,
label, test flag) and its record (kind, task, classes, meta); see `lernwerk.store.samples`.
Images are kept as uint8, a quarter of the float size; `pack` rounds them first, so the
dataset it returns is exactly what `unpack` will give back, and its content hash is the
stored one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from lernwerk.data.dataset import Dataset
from lernwerk.data.rows import StoredRows, in_memory_limit


def quantize_images(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) float in [0, 1] -> uint8 0..255, rounded."""
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


def dequantize_images(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) uint8 -> float32 in [0, 1]."""
    return x.to(torch.float32) / 255.0


@dataclass
class Packed:
    """A dataset's arrays as the store keeps them."""

    x: np.ndarray  # (N, *input_shape): uint8 pixels for images, float32 otherwise
    ids: np.ndarray  # (N,) int64
    y: np.ndarray  # (N,) int64 class indices, or (N,) / (N, K) float32 targets
    test: np.ndarray  # (N,) bool: the fixed test split


def pack(ds: Dataset) -> tuple[Dataset, Packed]:
    """The dataset as it will be stored (images rounded to 8 bits) and its arrays."""
    if isinstance(ds.x, StoredRows):  # already in stored form
        x_stored = torch.from_numpy(ds.x.raw())
        ds = replace(ds, sample_ids=ds.ids)
    elif ds.kind == "images":
        x_stored = quantize_images(ds.x)
        ds = replace(ds, x=dequantize_images(x_stored), sample_ids=ds.ids)
    else:
        x_stored = ds.x.contiguous()
        ds = replace(ds, sample_ids=ds.ids)
    return ds, Packed(
        x=x_stored.numpy(),
        ids=ds.ids.numpy(),
        y=ds.y.contiguous().numpy(),
        test=ds.is_test.numpy(),
    )


def stored_x(kind: str, x: torch.Tensor) -> np.ndarray:
    """New samples (n, *input_shape) as the store keeps them for a dataset of `kind`."""
    return quantize_images(x).numpy() if kind == "images" else x.contiguous().numpy()


def unpack(
    record: dict[str, Any],
    index: Any,
    read: Callable[[np.ndarray], np.ndarray],
    *,
    whole: bool | None = None,
) -> Dataset:
    """A Dataset from its stored record, sample index and a reader of its sample file.

    Args:
        record: the dataset record's fields.
        index: its `SampleIndex` (ids, slots, labels or targets, test flags).
        read: reads samples by slot, (n,) -> (n, *input_shape) stored values.
        whole: load every sample into memory (True), leave them on disk as `StoredRows`
            (False), or decide by size (None: whole when it fits `in_memory_limit()`).
    """
    shape = tuple(record["input_shape"])
    images = record["kind"] == "images"
    if whole is None:
        whole = len(index) * int(np.prod(shape, dtype=np.int64)) * 4 <= in_memory_limit()
    if whole:
        raw = torch.from_numpy(read(index.slots))
        x: torch.Tensor | StoredRows = dequantize_images(raw) if images else raw.float()
    else:
        x = StoredRows(read, index.slots, shape, images=images)
    if index.labels is not None:
        y = torch.from_numpy(index.labels)
    else:
        y = torch.from_numpy(index.targets)
    test = torch.from_numpy(index.test)
    ds = Dataset(
        name=record["name"],
        kind=record["kind"],
        task=record["task"],
        x=x,
        y=y,
        classes=list(record["classes"]),
        feature_names=list(record.get("feature_names") or []),
        source=record["source"],
        test_index=test.nonzero().flatten() if bool(test.any()) else None,
        description=record.get("description", ""),
        meta=record.get("meta") or {},
        sample_ids=torch.from_numpy(index.ids),
    )
    ds._content_hash = record["content_hash"]  # what the store keeps up to date per edit
    return ds
