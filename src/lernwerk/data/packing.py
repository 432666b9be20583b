"""A dataset as tensors on disk and back: images as 8-bit pixels, the rest as float32.

A stored dataset is one safetensors file (`x`, `y`, `ids`, `is_test`) plus the record
that the workspace keeps in its database (kind, task, classes, meta). Images are kept as
uint8, a quarter of the float size; `pack` rounds them first, so the dataset it returns
is exactly what `unpack` will give back, and its content hash is the stored one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from lernwerk.data.dataset import Dataset
from lernwerk.errors import DataError


def quantize_images(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) float in [0, 1] -> uint8 0..255, rounded."""
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


def dequantize_images(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) uint8 -> float32 in [0, 1]."""
    return x.to(torch.float32) / 255.0


def pack(ds: Dataset) -> tuple[Dataset, dict[str, torch.Tensor]]:
    """The dataset as it will be stored (images rounded to 8 bits) and its tensors."""
    if ds.kind == "images":
        x_stored = quantize_images(ds.x)
        ds = replace(ds, x=dequantize_images(x_stored), sample_ids=ds.ids)
    else:
        x_stored = ds.x.contiguous()
        ds = replace(ds, sample_ids=ds.ids)
    tensors = {
        "x": x_stored,
        "y": ds.y.contiguous(),
        "ids": ds.ids.contiguous(),
        "is_test": ds.is_test.to(torch.uint8),
    }
    return ds, tensors


def unpack(tensors: dict[str, torch.Tensor], record: dict[str, Any]) -> Dataset:
    """A Dataset from stored tensors and the fields of its record.

    Raises:
        DataError: The file lacks a tensor the record needs.
    """
    for key in ("x", "y"):
        if key not in tensors:
            raise DataError(
                f"the stored dataset has no '{key}' tensor; it is damaged, import it again",
                where=f"dataset '{record['name']}'",
            )
    x = tensors["x"]
    if x.dtype == torch.uint8:
        x = dequantize_images(x)
    is_test = tensors.get("is_test")
    test_index = None
    if is_test is not None and bool(is_test.any()):
        test_index = is_test.bool().nonzero().flatten()  # (N_test,)
    elif "test_index" in tensors:  # files written before is_test existed
        test_index = tensors["test_index"]
    return Dataset(
        name=record["name"],
        kind=record["kind"],
        task=record["task"],
        x=x,
        y=tensors["y"],
        classes=list(record["classes"]),
        feature_names=list(record.get("feature_names") or []),
        source=record["source"],
        test_index=test_index,
        description=record.get("description", ""),
        meta=record.get("meta") or {},
        sample_ids=tensors.get("ids"),
    )
