"""A dataset's sample file (fixed-size records, read and written by slot) and the
sample rows' arrays; numpy is imported here, so the store opens without it (see
`samples`, which loads this module when samples are touched)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lernwerk.store.files import _fsync_dir

# One pread/pwrite moves at most this much (Linux caps a call a little below 2 GiB).
_MAX_IO_BYTES = 1 << 30


class SampleFile:
    """Fixed-size records of one dataset's samples, written and read by slot.

    Args:
        path: The file; it may not exist yet (nothing stored).
        shape: One sample's shape, e.g. (C, H, W).
        dtype: uint8 for images (8-bit pixels), float32 for the other kinds.
    """

    def __init__(self, path: Path, shape: Sequence[int], dtype: np.dtype | str) -> None:
        self.path = Path(path)
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.record_bytes = int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize
        self._fd: int | None = None  # kept open by `open` for reading

    def __repr__(self) -> str:
        return f"SampleFile({str(self.path)!r}, {self.shape}, {self.dtype})"

    def write_new(self, x: np.ndarray) -> None:
        """Write `x` (N, *shape) as the whole file, durably; the file must not exist."""
        data = self._as_records(x)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            _write_all(fd, data, 0)
            os.fsync(fd)
        finally:
            os.close(fd)
        _fsync_dir(self.path.parent)

    def write_at(self, slot: int, x: np.ndarray) -> None:
        """Write `x` (n, *shape) into slots slot..slot+n-1 (creating the file), durably."""
        data = self._as_records(x)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _write_all(fd, data, slot * self.record_bytes)
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self, slots: np.ndarray) -> np.ndarray:
        """The samples at `slots` (n,), in that order: (n, *shape) of the file's dtype."""
        slots = np.asarray(slots, dtype=np.int64).reshape(-1)
        out = np.empty((len(slots), *self.shape), dtype=self.dtype)
        if len(slots) == 0 or self.record_bytes == 0:
            return out
        flat = out.reshape(len(slots), -1).view(np.uint8)  # (n, record_bytes)
        fd = self.open()
        if bool(np.all(np.diff(slots) == 1)):  # one run in order: read straight in
            _read_all(fd, memoryview(flat).cast("B"), int(slots[0]) * self.record_bytes)
            return out
        order = np.argsort(slots, kind="stable")
        ordered = slots[order]
        staged = np.empty_like(flat)  # rows in slot order, scattered back below
        # runs of consecutive slots: one read each
        breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
        for start, end in zip(
            np.concatenate(([0], breaks)), np.concatenate((breaks, [len(ordered)])), strict=True
        ):
            view = memoryview(staged[start:end]).cast("B")
            _read_all(fd, view, int(ordered[start]) * self.record_bytes)
        flat[order] = staged
        return out

    def open(self) -> int:
        """Open the file for reading and keep it open while this object lives (returns the
        descriptor): reads go on even after a new version of the dataset replaces the
        file, as a training that streams it needs. Closed when the object is collected."""
        if self._fd is None:
            fd = os.open(self.path, os.O_RDONLY)
            self._fd = fd
            weakref.finalize(self, os.close, fd)
        return self._fd

    def _as_records(self, x: np.ndarray) -> memoryview:
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if tuple(x.shape[1:]) != self.shape:
            raise ValueError(f"samples of shape {tuple(x.shape[1:])} for a file of {self.shape}")
        return memoryview(x.reshape(-1).view(np.uint8))  # the records' bytes, flat


def _write_all(fd: int, data: memoryview, offset: int) -> None:
    done = 0
    while done < len(data):
        done += os.pwrite(fd, data[done : done + _MAX_IO_BYTES], offset + done)


def _read_all(fd: int, into: memoryview, offset: int) -> None:
    done = 0
    while done < len(into):
        got = os.preadv(fd, [into[done : done + _MAX_IO_BYTES]], offset + done)
        if got == 0:
            raise OSError(f"sample file ends {len(into) - done} bytes early")
        done += got


@dataclass
class SampleIndex:
    """Who the stored samples are, in their order: everything but the pixels.

    `ids`, `slots` and `test` are (N,) arrays; `labels` (N,) int64 class indices for a
    classification dataset, else None; `targets` (N,) or (N, K) float32 values for a
    regression dataset, else None.
    """

    ids: np.ndarray
    slots: np.ndarray
    test: np.ndarray
    labels: np.ndarray | None
    targets: np.ndarray | None

    def __len__(self) -> int:
        return len(self.ids)


def insert_rows(
    con: sqlite3.Connection,
    dataset: str,
    ids: np.ndarray,
    slots: np.ndarray,
    labels: np.ndarray | None,
    targets: np.ndarray | None,
    test: np.ndarray,
) -> None:
    """Insert one row per sample (the caller holds the write transaction)."""
    n = len(ids)
    label_col = labels.tolist() if labels is not None else [None] * n
    if targets is not None:
        t = np.ascontiguousarray(targets, dtype=np.float32).reshape(n, -1)
        target_col = [row.tobytes() for row in t]
    else:
        target_col = [None] * n
    con.executemany(
        "INSERT INTO samples (dataset, id, slot, label, target, test) VALUES (?, ?, ?, ?, ?, ?)",
        zip(
            [dataset] * n,
            ids.tolist(),
            slots.tolist(),
            label_col,
            target_col,
            np.asarray(test, dtype=np.int64).tolist(),
            strict=True,
        ),
    )


def read_index(
    con: sqlite3.Connection, dataset: str, *, regression: bool, target_shape: Sequence[int] = ()
) -> SampleIndex:
    """The sample rows of `dataset` in slot order (the order the samples were added)."""
    if regression:
        rows = con.execute(
            "SELECT id, slot, test, target FROM samples WHERE dataset = ? ORDER BY slot",
            (dataset,),
        ).fetchall()
        blob = b"".join(r[3] for r in rows)
        targets = np.frombuffer(blob, dtype=np.float32).copy()
        if target_shape:  # (N, K) targets, K = 1 included (a forecast of one step)
            targets = targets.reshape(len(rows), *target_shape)
        labels = None
    else:
        rows = con.execute(
            "SELECT id, slot, test, label FROM samples WHERE dataset = ? ORDER BY slot",
            (dataset,),
        ).fetchall()
        labels = np.fromiter((r[3] for r in rows), dtype=np.int64, count=len(rows))
        targets = None
    return SampleIndex(
        ids=np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
        slots=np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows)),
        test=np.fromiter((r[2] for r in rows), dtype=np.bool_, count=len(rows)),
        labels=labels,
        targets=targets,
    )


def chain_hash(previous: str, change: str, *parts: bytes) -> str:
    """The content hash after a change: the previous hash, what changed, and its bytes.

    A whole dataset's hash is computed from all its samples when it is written whole;
    each later edit moves it on by hashing only the edit, so a hash still names exactly
    one content history and costs what the edit costs.
    """
    digest = hashlib.sha256(previous.encode())
    digest.update(change.encode())
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return f"sha256:{digest.hexdigest()}"
