"""Samples kept in their stored form: on disk, or as 8-bit pixels, read when indexed.

A dataset larger than memory keeps `x` as `StoredRows` instead of a tensor, and so does
an image import (its 8-bit pixels are a quarter of the float32 size). `StoredRows`
answers what the dataset model asks of `x` (its length, shape, dtype and dimensions), and
indexing it with an int, a slice, or an index tensor reads just those samples and returns
an ordinary float32 tensor, images scaled to [0, 1] as in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

# Datasets up to this many bytes of float32 samples are loaded whole: indexing tensors in
# memory is the fastest way to train. Larger ones stream from disk. LERNWERK_MEMORY_MB
# changes it (a test streams a small dataset with a low value).
_DEFAULT_IN_MEMORY_BYTES = 1 << 30


def in_memory_limit() -> int:
    """The most bytes of float32 samples a dataset may have to be loaded whole."""
    import os

    value = os.environ.get("LERNWERK_MEMORY_MB")
    if value:
        try:
            return int(float(value) * (1 << 20))
        except ValueError:
            pass
    try:  # at most an eighth of this machine's memory
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        return min(_DEFAULT_IN_MEMORY_BYTES, total // 8)
    except (ValueError, OSError, AttributeError):
        return _DEFAULT_IN_MEMORY_BYTES


class StoredRows:
    """(N, *sample_shape) float32 samples read from their stored form by slot when indexed.

    Args:
        read: reads stored samples by slot: (n,) int64 -> (n, *sample_shape) array (from
            a sample file, or from an array of 8-bit pixels in memory).
        slots: (N,) int64, where each sample of the dataset lies, in dataset order.
        sample_shape: one sample's shape.
        images: the stored values are 8-bit pixels, scaled to [0, 1] when read.
    """

    dtype = torch.float32

    def __init__(
        self,
        read: Callable[[np.ndarray], np.ndarray],
        slots: np.ndarray,
        sample_shape: tuple[int, ...],
        *,
        images: bool,
    ) -> None:
        self._read = read
        self.slots = np.asarray(slots, dtype=np.int64)
        self.sample_shape = tuple(sample_shape)
        self.images = images

    def __repr__(self) -> str:
        return f"StoredRows({len(self)} samples of {self.sample_shape}, on disk)"

    def __len__(self) -> int:
        return len(self.slots)

    @property
    def shape(self) -> torch.Size:
        return torch.Size((len(self.slots), *self.sample_shape))

    def dim(self) -> int:
        return 1 + len(self.sample_shape)

    def __getitem__(self, index: Any) -> torch.Tensor:
        if isinstance(index, int | np.integer):
            return self._load(self.slots[[int(index)]])[0]
        if isinstance(index, slice):
            return self._load(self.slots[index])
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        index = np.asarray(index)
        if index.dtype == np.bool_:
            index = np.flatnonzero(index)
        return self._load(self.slots[index.astype(np.int64)])

    def take(self, index: torch.Tensor | np.ndarray) -> StoredRows:
        """The rows at `index`, still on disk."""
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        return StoredRows(self._read, self.slots[index], self.sample_shape, images=self.images)

    def raw(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Rows start..stop as stored (8-bit pixels for images), not converted."""
        return self._read(self.slots[start:stop])

    def chunks(self, size: int) -> Iterator[torch.Tensor]:
        """All rows in order, `size` at a time."""
        for start in range(0, len(self), size):
            yield self[start : start + size]

    def _load(self, slots: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(self._read(slots))
        return x.to(torch.float32) / 255.0 if self.images else x.to(torch.float32)


def array_reader(array: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Reads rows of an array in memory by slot: a view for a run of consecutive slots
    (no copy of a whole import's pixels), a copy otherwise."""

    def read(slots: np.ndarray) -> np.ndarray:
        if len(slots) and int(slots[-1]) - int(slots[0]) + 1 == len(slots):
            if len(slots) == 1 or bool(np.all(np.diff(slots) == 1)):
                return array[int(slots[0]) : int(slots[-1]) + 1]
        return array[slots]

    return read


def in_chunks(x: torch.Tensor | StoredRows, size: int = 1024) -> Iterator[torch.Tensor]:
    """The rows of `x`, `size` at a time (slices of a tensor, reads of stored rows)."""
    for start in range(0, len(x), size):
        yield x[start : start + size]
