"""Input standardisation: the one definition that training, prediction and export share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from lernwerk.data.rows import StoredRows
from lernwerk.errors import DataError

# Batch dimensions the statistics are taken over, and the shape they broadcast as.
_REDUCE_DIMS: dict[str, tuple[int, ...]] = {"table": (0,), "images": (0, 2, 3), "sequences": (0, 2)}
_SAMPLE_DIMS: dict[str, int] = {"table": 1, "images": 3, "sequences": 2}
_MIN_STD = 1e-8  # a constant feature is left unscaled (std 1) instead of divided by ~0


@dataclass(eq=False)
class Standardizer:
    """Subtracts a mean and divides by a std per feature (tables) or per channel.

    Args:
        mean: (F,) for tables, (C,) for images and sequences.
        std: Same shape as `mean`, every value positive.
        kind: "table", "images" or "sequences".
    """

    mean: torch.Tensor
    std: torch.Tensor
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in _REDUCE_DIMS:
            raise DataError(
                f"kind must be one of table, images, sequences; received: {self.kind!r}",
                where="standardizer",
            )
        if self.mean.shape != self.std.shape or self.mean.dim() != 1:
            raise DataError(
                f"mean and std must be 1-D of the same length; received shapes "
                f"{tuple(self.mean.shape)} and {tuple(self.std.shape)}",
                where="standardizer",
            )
        if not bool((self.std > 0).all()):
            raise DataError("std must be positive everywhere", where="standardizer")

    @classmethod
    def fit(cls, x_train: torch.Tensor | StoredRows, kind: str) -> Standardizer:
        """Statistics of the training samples: per feature for tables, else per channel."""
        if kind not in _REDUCE_DIMS:
            raise DataError(
                f"kind must be one of table, images, sequences; received: {kind!r}",
                where="standardizer",
            )
        if x_train.dim() != _SAMPLE_DIMS[kind] + 1 or len(x_train) == 0:
            raise DataError(
                f"cannot fit {kind} statistics on samples of shape {tuple(x_train.shape)}",
                where="standardizer",
            )
        if isinstance(x_train, StoredRows):
            mean, std = _streamed_mean_std(x_train, _REDUCE_DIMS[kind])
        else:
            # float64 keeps the sums exact enough for millions of rows.
            std, mean = torch.std_mean(x_train.double(), dim=_REDUCE_DIMS[kind], correction=0)
        std = torch.where(std < _MIN_STD, torch.ones_like(std), std)  # (F,) or (C,)
        return cls(mean=mean.float(), std=std.float(), kind=kind)

    @property
    def _stat_shape(self) -> tuple[int, ...]:
        # (F,) for a row; (C, 1, 1) for an image; (C, 1) for a sequence; this broadcasts
        # over a batch (N, ...) and over a single sample alike.
        return (-1,) + (1,) * (_SAMPLE_DIMS[self.kind] - 1)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """(x - mean) / std on x's device (and float dtype); x is a batch or one sample."""
        channels = x.shape[-1] if self.kind == "table" else x.shape[-_SAMPLE_DIMS[self.kind]]
        if x.dim() < _SAMPLE_DIMS[self.kind] or channels != len(self.mean):
            unit = "features" if self.kind == "table" else "channels"
            raise DataError(
                f"expected {len(self.mean)} {unit}; received input of shape {tuple(x.shape)}",
                where="standardizer",
            )
        if not x.is_floating_point():
            x = x.float()
        mean = self.mean.to(x.device, x.dtype).view(self._stat_shape)
        std = self.std.to(x.device, x.dtype).view(self._stat_shape)
        return (x - mean) / std

    def inverse_transform(self, x: torch.Tensor) -> torch.Tensor:
        """x · std + mean: standardised values back in the input's own units."""
        mean = self.mean.to(x.device, x.dtype).view(self._stat_shape)
        std = self.std.to(x.device, x.dtype).view(self._stat_shape)
        return x * std + mean

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, as stored with a trained model."""
        return {"kind": self.kind, "mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Standardizer:
        """The inverse of `to_dict`."""
        missing = {"kind", "mean", "std"} - set(d)
        if missing:
            raise DataError(
                f"standardizer is missing {', '.join(sorted(missing))}", where="standardizer"
            )
        return cls(
            mean=torch.tensor(d["mean"], dtype=torch.float32),
            std=torch.tensor(d["std"], dtype=torch.float32),
            kind=d["kind"],
        )

    def as_module(self) -> nn.Module:
        """A module with the statistics as buffers, doing the same transform (for export)."""
        return StandardizeModule(self.mean.view(self._stat_shape), self.std.view(self._stat_shape))


def _streamed_mean_std(
    x: StoredRows, dims: tuple[int, ...], chunk: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and std (no correction) over `dims` of samples read from disk a chunk at a
    time: sums and sums of squares in float64, about centred on the first chunk's mean so
    that the difference of the two stays exact."""
    total = shift = sum_ = sum_sq = None
    for xb in x.chunks(chunk):
        xb = xb.double()
        if shift is None:
            shift = xb.mean(dim=dims, keepdim=True)  # (1, C, 1, 1) or (1, F)
            sum_ = torch.zeros(shift.flatten().shape, dtype=torch.float64)
            sum_sq = torch.zeros_like(sum_)
            total = 0
        centred = xb - shift
        sum_ += centred.sum(dim=dims)
        sum_sq += (centred * centred).sum(dim=dims)
        total += xb.numel() // sum_.numel()
    mean_c = sum_ / total
    var = (sum_sq / total - mean_c * mean_c).clamp_min(0)
    return mean_c + shift.flatten(), var.sqrt()


class StandardizeModule(nn.Module):
    """(x - mean) / std with the statistics as buffers, so they export with the model."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean.detach().clone())
        self.register_buffer("std", std.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std
