"""A dataset from the arrays a scikit-learn user holds: `X` and `y` (`lw.fit(X, y)`).

`X` is a NumPy array or a pandas DataFrame; its shape says the kind:

- (N, F), or a DataFrame: a table; a DataFrame's text columns are one-hot encoded as an
  imported CSV's are, and the encoding travels with the model;
- (N, C, T): sequences, C channels of T steps;
- (N, C, H, W): images, pixels in [0, 1] (or 8-bit integers, divided by 255).

`y` is a 1-D array, list or Series of N labels: text or few whole numbers make it
classification, other numbers regression (as for a CSV's target); `task` decides instead.
The dataset is named `arrays-<first 10 hex digits of its content hash>`: the same data
gets the same name, so fitting it again reuses the stored copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from lernwerk.data.dataset import Dataset
from lernwerk.data.tables.encoding import TableEncoding, _encode_target
from lernwerk.errors import DataError, SpecError

__all__ = ["ARRAYS_PREFIX", "dataset_from_arrays", "is_array_like"]

ARRAYS_PREFIX = "arrays-"
_KINDS = {2: "table", 3: "sequences", 4: "images"}
_TARGET = "__target__"  # the target's column while it is encoded (no input is named so)


def is_array_like(data: Any) -> bool:
    """Whether `data` is samples rather than a dataset reference: an array or a frame."""
    return isinstance(data, np.ndarray | pd.DataFrame | torch.Tensor | list | tuple)


def dataset_from_arrays(x: Any, y: Any, *, task: str | None = None) -> Dataset:
    """A dataset of the samples `x` with the labels `y` (see the module's docstring).

    Raises:
        DataError: `x` or `y` has a shape that fits no kind, their lengths differ, or a
            value is missing, not a number, or an image pixel outside [0, 1].
        SpecError: `task` is neither classification nor regression.
    """
    if task is not None and task not in ("classification", "regression"):
        raise SpecError(
            f"task must be 'classification' or 'regression' for arrays; received: {task!r}",
            "task",
        )
    labels = _labels(y)
    if isinstance(x, pd.DataFrame):
        return _named(_from_frame(x, labels, task))
    values = _samples(x)
    if len(values) != len(labels):
        raise DataError(
            f"X has {len(values)} samples but y has {len(labels)} labels; "
            "expected one label per sample (row of X)",
            "y",
        )
    kind = _KINDS[values.ndim]
    if kind == "images" and values.dtype == np.uint8:
        values = values.astype(np.float32) / 255
    target, classes, resolved, _ = _encode_target(pd.Series(labels), "y", task, "y")
    feature_names = [f"x{i}" for i in range(values.shape[1])] if kind == "table" else []
    ds = Dataset(
        name="arrays",
        kind=kind,  # type: ignore[arg-type]
        task=resolved,
        x=torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32)),
        y=_y_tensor(target, resolved),
        classes=[str(c) for c in classes],
        feature_names=feature_names,
        source={"arrays": True},
        description=f"From arrays: X {tuple(values.shape)}, y ({len(labels)},)",
    )
    return _named(ds)


def _labels(y: Any) -> np.ndarray:
    if y is None:
        raise DataError("y is missing: give the labels, lw.fit(X, y)", "y")
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise DataError(
                f"y must be one column of labels; received a DataFrame of {y.shape[1]} columns",
                "y",
            )
        y = y.iloc[:, 0]
    arr = y.to_numpy() if isinstance(y, pd.Series) else np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"y must be shaped (N,), one label per sample; received {arr.shape}", "y")
    if len(arr) == 0:
        raise DataError("y is empty; expected one label per sample", "y")
    return arr


def _samples(x: Any) -> np.ndarray:
    arr = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if arr.ndim not in _KINDS:
        raise DataError(
            f"X must be shaped (N, F) for a table, (N, C, T) for sequences or (N, C, H, W) "
            f"for images; received {arr.shape}",
            "X",
        )
    if arr.dtype == np.uint8:
        return arr
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise DataError(
            f"X must hold numbers; received values of type {arr.dtype}; pass a DataFrame "
            "to have text columns one-hot encoded",
            "X",
        )
    return arr.astype(np.float32)


def _from_frame(frame: pd.DataFrame, labels: np.ndarray, task: str | None) -> Dataset:
    if len(frame) != len(labels):
        raise DataError(
            f"X has {len(frame)} rows but y has {len(labels)} labels; expected one label per row",
            "y",
        )
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    if _TARGET in frame.columns or len(set(frame.columns)) != len(frame.columns):
        raise DataError("the columns of X must have distinct names", "X")
    target, classes, resolved, _ = _encode_target(pd.Series(labels), "y", task, "y")
    encoding = TableEncoding.fit(frame, None, None, None, source="X")
    values = encoding.transform(frame, "X")  # (N, F)
    return Dataset(
        name="arrays",
        kind="table",
        task=resolved,
        x=torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32)),
        y=_y_tensor(target, resolved),
        classes=[str(c) for c in classes],
        feature_names=list(encoding.feature_names),
        source={"arrays": True},
        description=f"From a DataFrame: {frame.shape[0]} rows, {frame.shape[1]} columns",
        meta={"table_encoding": encoding.to_dict(), "target": "y"},
    )


def _y_tensor(target: np.ndarray, task: str) -> torch.Tensor:
    if task == "regression":
        return torch.from_numpy(np.ascontiguousarray(target, dtype=np.float32))
    return torch.from_numpy(np.ascontiguousarray(target, dtype=np.int64))


def _named(ds: Dataset) -> Dataset:
    """`ds` under its content's name, `arrays-<hash>`."""
    ds.name = ARRAYS_PREFIX + ds.content_hash.removeprefix("sha256:")[:10]
    return ds
