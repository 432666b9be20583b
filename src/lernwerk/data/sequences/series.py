"""Sequences in memory: a `SequenceSet` of series that may differ in length, and `to_array`.

numpy in, numpy out. A `SequenceSet` keeps one (C, T_i) float32 array per series, so
series may differ in length; `to_array` makes the (N, C, T) block a model takes, padding
or resampling when asked. The readers live beside it: `ts_format` (UCR/UEA `.ts`),
`sequence_csv` (wide and long CSV) and `ucr` (the vendored sets); the helpers at the end
are shared by them. Every reader error is a `DataError` whose `where` names the file and
line ("X_TRAIN.ts:17").
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from lernwerk.errors import DataError, SpecError

if TYPE_CHECKING:
    from lernwerk.data.dataset import Task

LengthPolicy = Literal["error", "pad", "resample"]


@dataclass(eq=False)
class SequenceSet:
    """Series of possibly different lengths with their labels, as read from a file.

    Args:
        series: One (C, T_i) float32 array per series; NaN marks a missing value inside.
        labels: Class names (str) per series, or (N,) float32 targets for regression;
            None for an unlabelled `.ts` file (`@classLabel false`).
        task: "classification" or "regression".
        classes: Class names in index order (the file's `@classLabel` order, else natural
            sort); [] for regression.
        channel_names: One name per channel.
        series_ids: Where each series came from ("file.ts:17", "file.csv:5") or the long
            CSV's series id; defaults to the index.
        meta: Problem name, source path, format, whether lengths are equal, ...
    """

    series: list[np.ndarray]
    labels: list[str] | np.ndarray | None
    task: Task
    classes: list[str]
    channel_names: list[str]
    series_ids: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = str(self.meta.get("source", "sequence set"))
        if not self.series:
            raise DataError("Expected at least one series; received none", where)
        self.series = [np.asarray(s, dtype=np.float32) for s in self.series]
        channels = len(self.channel_names)
        for i, s in enumerate(self.series):
            if s.ndim != 2 or s.shape[0] != channels or s.shape[1] < 1:
                raise DataError(
                    f"Expected series shaped ({channels}, T) with T >= 1 for channels "
                    f"{self.channel_names}; received {s.shape} at series {i}",
                    where,
                )
        if not self.series_ids:
            self.series_ids = [str(i) for i in range(len(self.series))]
        if len(self.series_ids) != len(self.series):
            raise DataError(f"{len(self.series_ids)} series ids for {len(self)} series", where)
        if self.task not in ("classification", "regression"):
            raise DataError(
                f"Expected task classification or regression; received {self.task!r}", where
            )
        if self.labels is None:
            return
        if len(self.labels) != len(self.series):
            raise DataError(f"{len(self.labels)} labels for {len(self)} series", where)
        if self.task == "regression":
            self.labels = np.asarray(self.labels, dtype=np.float32)
            if self.classes:
                raise DataError("a regression set has no classes", where)
            return
        unknown = sorted(set(self.labels) - set(self.classes))
        if unknown:
            raise DataError(
                f"Expected labels among the classes {self.classes}; received {unknown}", where
            )

    def __len__(self) -> int:
        return len(self.series)

    @property
    def lengths(self) -> np.ndarray:
        """(N,) int64 number of time steps of each series."""
        return np.array([s.shape[1] for s in self.series], dtype=np.int64)

    @property
    def num_channels(self) -> int:
        return len(self.channel_names)


# ---------------------------------------------------------------- to (N, C, T)


def to_array(
    seqset: SequenceSet, length_policy: LengthPolicy = "error", length: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Stack the series into one (N, C, T) float32 array.

    Args:
        seqset: The series.
        length_policy: What to do with unequal lengths. "error": refuse them. "pad": pad
            each series at the end by repeating its last value (no artificial step, no
            value outside the series' range; use the returned lengths to mask the padding).
            "resample": linear interpolation of every series onto `length` evenly spaced
            points spanning its first to last step.
        length: T. Default: the longest series for "pad" and "resample" (nothing is lost
            by downsampling), the common length for "error".

    Returns:
        x: (N, C, T) float32.
        lengths: (N,) int64 real (not padded) steps in each row of x: the original lengths
            for "pad", T for "error" and "resample".

    Raises:
        DataError: A series holds NaN or infinity; lengths differ ("error"); a series is
            longer than `length` ("pad").
        SpecError: An unknown policy or a length below 1.
    """
    if length_policy not in ("error", "pad", "resample"):
        raise SpecError(
            f"Expected length policy error, pad or resample; received {length_policy!r}",
            "length_policy",
        )
    if length is not None and length < 1:
        raise SpecError(f"Expected a length of at least 1; received {length}", "length")
    for i, s in enumerate(seqset.series):
        bad = np.argwhere(~np.isfinite(s))  # (M, 2) channel, step
        if len(bad):
            c, t = (int(v) for v in bad[0])
            raise DataError(
                f"Expected finite values; received {s[c, t]} in channel "
                f"{seqset.channel_names[c]!r} at step {t} (0-based) of {s.shape[1]}; "
                "fill or drop missing values inside a series",
                f"series {i} ({seqset.series_ids[i]})",
            )
    lengths = seqset.lengths  # (N,)
    channels = seqset.num_channels
    if length_policy == "error":
        expected = length if length is not None else int(lengths[0])
        differ = np.flatnonzero(lengths != expected)
        if len(differ):
            i = int(differ[0])
            like = "" if length is not None else f" like series 0 ({seqset.series_ids[0]})"
            raise DataError(
                f"Expected every series to have {expected} steps{like}; received {lengths[i]}; "
                "pad or resample them (--length pad or --length resample)",
                f"series {i} ({seqset.series_ids[i]})",
            )
        return np.stack(seqset.series), np.full(len(seqset), expected, dtype=np.int64)
    steps = length if length is not None else int(lengths.max())
    x = np.empty((len(seqset), channels, steps), dtype=np.float32)  # (N, C, T)
    if length_policy == "resample":
        for i, s in enumerate(seqset.series):
            x[i] = _resample(s, steps)
        return x, np.full(len(seqset), steps, dtype=np.int64)
    longer = np.flatnonzero(lengths > steps)
    if len(longer):
        i = int(longer[0])
        raise DataError(
            f"Expected at most {steps} steps (length={steps}); received {lengths[i]}; "
            "use a larger length or resample (--length resample)",
            f"series {i} ({seqset.series_ids[i]})",
        )
    for i, s in enumerate(seqset.series):
        x[i, :, : s.shape[1]] = s
        x[i, :, s.shape[1] :] = s[:, -1:]
    return x, lengths


def _resample(s: np.ndarray, steps: int) -> np.ndarray:
    """(C, T) -> (C, steps) by linear interpolation; the ends stay where they are."""
    t = s.shape[1]
    if t == 1:
        return np.repeat(s, steps, axis=1)
    position = np.linspace(0.0, t - 1, steps)  # (steps,)
    left = np.minimum(position.astype(np.int64), t - 2)
    frac = (position - left).astype(np.float32)
    return s[:, left] * (1 - frac) + s[:, left + 1] * frac


# ---------------------------------------------------------------- helpers shared by the readers


def _decode(data: bytes, name: str) -> str:
    """UTF-8 text, with or without BOM, from plain or gzip-compressed bytes."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise DataError(
                f"Expected a complete gzip file; received one that fails: {error}", name
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DataError(
            f"Expected UTF-8 text; received byte 0x{data[error.start]:02x}; save the file as UTF-8",
            f"{name}:{line}",
        ) from None


def _trim_missing_end(block: np.ndarray, where: str) -> np.ndarray:
    """(C, T) -> (C, T_i) float32 without trailing steps where every channel is missing."""
    present = np.flatnonzero(~np.isnan(block).all(axis=0))
    if not len(present):
        raise DataError("Expected at least one value in the series; received none", where)
    return block[:, : present[-1] + 1].astype(np.float32)


def _match_pair(train: SequenceSet, test: SequenceSet, where: str) -> SequenceSet:
    """The test set checked against the training set, in the training set's class order."""
    if test.num_channels != train.num_channels or test.task != train.task:
        raise DataError(
            f"Expected {train.num_channels} channel(s) and task {train.task} like the training "
            f"set; received {test.num_channels} and {test.task}",
            where,
        )
    if train.task == "classification" and test.labels is not None:
        unknown = sorted(set(test.labels) - set(train.classes), key=_natural_key)
        if unknown:
            raise DataError(
                f"Expected test labels among the training classes {train.classes}; "
                f"received {unknown}",
                where,
            )
        test.classes = list(train.classes)
    return test


def _natural_key(text: str) -> tuple[list[Any], str]:
    """ "item2" before "item10"."""
    parts = re.split(r"(\d+)", text.lower())
    return [int(p) if i % 2 else p for i, p in enumerate(parts)], text


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
