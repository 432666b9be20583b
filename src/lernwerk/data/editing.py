"""The rules for changing a stored dataset's classes and samples, checked before the store
changes anything.

The drawing canvas adds one sample at a time; a gallery deletes one; a class is renamed
or removed. Each function takes what the dataset's record says (its name, task, input
shape and class list) and returns what the store should write: a new class list, the
class indices of new samples. Nothing here touches the disk or holds the samples, so an
edit costs the same on a dataset of any size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from lernwerk.data.images.formats import MAX_CLASSES, validate_class_name
from lernwerk.errors import Conflict, DataError, NotFound

__all__ = [
    "add_class",
    "delete_class",
    "label_indices",
    "rename_class",
    "sample_batch",
    "validate_class_name",
]


def add_class(dataset: str, task: str, classes: Sequence[str], name: str) -> list[str]:
    """The class list with a new, empty class `name` at its end."""
    _require_classes(dataset, task)
    name = validate_class_name(name, where="name")
    _check_new_class(dataset, name, classes)
    if len(classes) >= MAX_CLASSES:
        raise DataError(f"a dataset may have at most {MAX_CLASSES} classes", f"dataset '{dataset}'")
    return [*classes, name]


def rename_class(dataset: str, task: str, classes: Sequence[str], old: str, new: str) -> list[str]:
    """The class list with `old` called `new` (its samples keep their index)."""
    index = _class_index(dataset, task, classes, old)
    new = validate_class_name(new, where="name")
    renamed = list(classes)
    if new == old:
        return renamed
    _check_new_class(dataset, new, [c for c in classes if c != old])  # 'sad' -> 'Sad' is fine
    renamed[index] = new
    return renamed


def delete_class(
    dataset: str, task: str, classes: Sequence[str], name: str
) -> tuple[int, list[str]]:
    """The index of class `name` (whose samples go) and the class list without it; later
    class indices move down by one."""
    index = _class_index(dataset, task, classes, name)
    if len(classes) == 1:
        raise Conflict(
            f"class '{name}' is the only class; delete the dataset instead",
            where=f"dataset '{dataset}'",
        )
    return index, [c for i, c in enumerate(classes) if i != index]


def label_indices(
    dataset: str, task: str, classes: Sequence[str], labels: Sequence[str]
) -> np.ndarray:
    """Class names -> (n,) int64 class indices.

    Raises:
        NotFound: a label that is not one of the classes (names the first).
    """
    _require_classes(dataset, task)
    unknown = sorted({label for label in labels if label not in classes})
    if unknown:
        raise NotFound(
            f"no class '{unknown[0]}'; classes: {', '.join(classes) or 'none yet'}",
            f"dataset '{dataset}'",
        )
    position = {c: i for i, c in enumerate(classes)}
    return np.array([position[label] for label in labels], dtype=np.int64)


def sample_batch(
    dataset: str, kind: str, input_shape: Sequence[int], x: torch.Tensor, labels: Sequence[str]
) -> torch.Tensor:
    """New samples as an (n, *input_shape) float32 batch: one sample gets its batch axis.

    Raises:
        DataError: a shape other than the dataset's, or as many labels as samples.
    """
    where = f"dataset '{dataset}'"
    shape = tuple(input_shape)
    x = x.to(torch.float32)
    if x.dim() == len(shape):
        x = x.unsqueeze(0)
    if tuple(x.shape[1:]) != shape:
        raise DataError(f"a sample must be shaped {shape}; received {tuple(x.shape[1:])}", where)
    if len(labels) != len(x):
        raise DataError(f"{len(x)} samples but {len(labels)} labels", where)
    if not bool(torch.isfinite(x).all()):
        raise DataError("a sample contains NaN or infinite values", where)
    if kind == "images" and len(x) and (float(x.min()) < 0 or float(x.max()) > 1):
        raise DataError(
            f"image pixel values must lie in [0, 1]; received values in "
            f"[{float(x.min())}, {float(x.max())}]; divide by 255 for 8-bit images",
            where,
        )
    return x


def _check_new_class(dataset: str, name: str, others: Sequence[str]) -> None:
    """A class name beside `others`: neither the same nor the same but for case (two
    folders that Windows and macOS hold as one, so the dataset could not be exported)."""
    for other in others:
        if other == name:
            raise Conflict(f"class '{name}' already exists", where=f"dataset '{dataset}'")
        if other.casefold() == name.casefold():
            raise Conflict(
                f"class '{name}' differs from the class '{other}' only in case; they would "
                "share one folder on Windows and macOS, choose another name",
                where=f"dataset '{dataset}'",
            )


def _require_classes(dataset: str, task: str) -> None:
    if task != "classification":
        raise DataError(
            "only classification datasets have classes to add samples to",
            where=f"dataset '{dataset}'",
        )


def _class_index(dataset: str, task: str, classes: Sequence[str], name: str) -> int:
    _require_classes(dataset, task)
    if name not in classes:
        raise NotFound(
            f"no class '{name}'; classes: {', '.join(classes)}", where=f"dataset '{dataset}'"
        )
    return list(classes).index(name)
