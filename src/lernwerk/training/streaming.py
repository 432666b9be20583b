"""Training data that streams from disk: a split of a stored dataset too large for memory.

The loop batches in-memory data by `index_select` on a tensor (see `precision.rows`).
`StreamedRows` answers the same calls for samples left on disk: selecting a batch reads
just those samples and prepares them (standardised, on the device, in the training
layout), so the loop does not know the difference and memory holds one batch at a time.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from lernwerk.data.rows import StoredRows


class StreamedRows:
    """The samples `index` of stored rows, prepared batch by batch as they are selected.

    Args:
        source: the dataset's stored rows.
        index: (N,) int64 positions in `source` that make up this split.
        prepare: raw float32 batch (B, *shape) -> the batch the network sees.
    """

    def __init__(
        self,
        source: StoredRows,
        index: torch.Tensor,
        prepare: Callable[[torch.Tensor], torch.Tensor],
    ) -> None:
        self.rows = source.take(index)
        self.prepare = prepare

    def __repr__(self) -> str:
        return f"StreamedRows({len(self)} samples of {self.rows.sample_shape}, on disk)"

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def shape(self) -> torch.Size:
        return self.rows.shape

    def dim(self) -> int:
        return self.rows.dim()

    def index_select(self, dim: int, idx: torch.Tensor) -> torch.Tensor:
        """The prepared samples `idx` (B,): what `Tensor.index_select(0, idx)` gives."""
        if dim != 0:
            raise ValueError("streamed samples are selected along the batch dimension only")
        return self.prepare(self.rows[idx])

    def __getitem__(self, index: slice) -> torch.Tensor:
        """A slice of the split, prepared (validation runs over it in slices)."""
        return self.prepare(self.rows[index])
