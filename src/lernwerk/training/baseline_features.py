"""The features classical baselines see, per kind of data.

Tables: their encoded columns, as the dataset stores them. Images: their pixels, flattened
(average-pooled to at most `PIXEL_SIDE`×`PIXEL_SIDE` per channel, so that gradient boosting
stays fast), and the pretrained backbone's pooled embeddings (images of at least 32×32,
one or three channels). Sequences: their values, flattened (average-pooled to at most
`SEQUENCE_VALUES` per sample), and a few summary statistics per channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

PIXEL_SIDE = 16  # images larger than this per side are average-pooled down to it
SEQUENCE_VALUES = 1024  # longer samples are average-pooled in time down to about this
EMBED_MIN_SIDE = 32  # the backbone's smallest input (pretrained.MIN_SIZE)
SUMMARY_NAMES = ("mean", "std", "min", "max", "slope", "first", "last", "argmax", "argmin")


@dataclass(frozen=True)
class FeatureSet:
    """A named way to turn a dataset's samples (N, ...) into a matrix (N, F)."""

    name: str  # as the runs table shows it: "pixels 16×16", "embeddings", …
    transform: Callable[[torch.Tensor], np.ndarray]
    note: str = ""  # what was done to the data, for the run's config


def feature_sets(kind: str, input_shape: tuple[int, ...]) -> tuple[list[FeatureSet], list[str]]:
    """The feature sets for samples of `kind` and `input_shape`, and a note for each one
    left out (why)."""
    if kind == "table":
        return [FeatureSet("features", _flat, "the encoded columns as stored")], []
    if kind == "images":
        return _image_sets(input_shape)
    return _sequence_sets(input_shape), []


def _flat(x: torch.Tensor) -> np.ndarray:
    return x.reshape(len(x), -1).numpy().astype(np.float32)  # (N, F)


def _image_sets(shape: tuple[int, ...]) -> tuple[list[FeatureSet], list[str]]:
    c, h, w = shape
    side_h, side_w = min(h, PIXEL_SIDE), min(w, PIXEL_SIDE)
    if (side_h, side_w) == (h, w):
        pixels = FeatureSet("pixels", _flat, f"{c}×{h}×{w} pixels, flattened")
    else:

        def pooled(x: torch.Tensor) -> np.ndarray:
            return _flat(F.adaptive_avg_pool2d(x, (side_h, side_w)))  # (N, C, h', w')

        note = f"{c}×{h}×{w} pixels average-pooled to {c}×{side_h}×{side_w}, flattened"
        pixels = FeatureSet(f"pixels {side_h}×{side_w}", pooled, note)
    sets, notes = [pixels], []
    if min(h, w) < EMBED_MIN_SIDE:
        notes.append(
            f"no embedding baseline: the pretrained backbone takes images of at least "
            f"{EMBED_MIN_SIDE}×{EMBED_MIN_SIDE}; these are {h}×{w}"
        )
    elif c not in (1, 3):
        notes.append(
            f"no embedding baseline: the pretrained backbone takes 1 or 3 channels; these "
            f"images have {c}"
        )
    else:
        embed = _backbone()
        if embed is None:
            notes.append("no embedding baseline: this lernwerk has no pretrained backbone")
        else:
            note = "EfficientNet-Lite0 (ImageNet) pooled features, 1280 per image"
            sets.append(FeatureSet("embeddings", _embedded(embed), note))
    return sets, notes


def _backbone() -> Callable[[torch.Tensor], torch.Tensor] | None:
    try:
        from lernwerk.models.pretrained import embed
    except ImportError:
        return None
    return embed


def _embedded(embed: Callable[[torch.Tensor], torch.Tensor]) -> Callable:
    def transform(x: torch.Tensor) -> np.ndarray:
        return embed(x).numpy().astype(np.float32)  # (N, 1280), a batch at a time

    return transform


def _sequence_sets(shape: tuple[int, ...]) -> list[FeatureSet]:
    c, t = shape
    factor = -(-(c * t) // SEQUENCE_VALUES)  # ceil: pool by this many steps
    if factor <= 1:
        values = FeatureSet("values", _flat, f"{c}×{t} values, flattened")
    else:

        def pooled(x: torch.Tensor) -> np.ndarray:
            return _flat(F.avg_pool1d(x, factor, ceil_mode=True))  # (N, C, ceil(T / factor))

        steps = -(-t // factor)
        note = f"{c}×{t} values average-pooled to {c}×{steps}, flattened"
        values = FeatureSet(f"values /{factor}", pooled, note)
    note = f"{len(SUMMARY_NAMES)} per channel: {', '.join(SUMMARY_NAMES)}"
    return [values, FeatureSet("summary", summary_features, note)]


def summary_features(x: torch.Tensor) -> np.ndarray:
    """Per channel: mean, std, min, max, least-squares slope per step, first and last
    value, and where the maximum and minimum lie (0..1); (N, C, T) -> (N, 9 C)."""
    x = x.double()
    t = x.shape[-1]
    steps = torch.arange(t, dtype=torch.float64)
    centred = steps - steps.mean()  # (T,)
    denom = float((centred**2).sum()) or 1.0
    where = max(t - 1, 1)
    columns = [
        x.mean(-1),
        x.std(-1, correction=0),
        x.amin(-1),
        x.amax(-1),
        (x * centred).sum(-1) / denom,
        x[..., 0],
        x[..., -1],
        x.argmax(-1).double() / where,
        x.argmin(-1).double() / where,
    ]  # each (N, C)
    return torch.stack(columns, dim=-1).reshape(len(x), -1).numpy().astype(np.float32)
