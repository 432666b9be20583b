"""Changing a dataset's samples and classes: each function returns a new Dataset.

The drawing canvas adds one sample at a time; a gallery deletes one; a class is renamed
or removed. Samples keep their ids through all of it, and a sample of the fixed test
split stays there. Nothing here touches the disk: the workspace loads, edits, and stores.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from lernwerk.data.dataset import Dataset
from lernwerk.data.images import MAX_CLASSES, validate_class_name
from lernwerk.errors import Conflict, DataError, NotFound


def add_class(ds: Dataset, name: str) -> Dataset:
    """A new, empty class at the end of the class list."""
    _require_classes(ds)
    name = validate_class_name(name, where="name")
    _check_new_class(ds, name, ds.classes)
    if len(ds.classes) >= MAX_CLASSES:
        raise DataError(
            f"a dataset may have at most {MAX_CLASSES} classes", where=f"dataset '{ds.name}'"
        )
    return replace(ds, classes=[*ds.classes, name], sample_ids=ds.ids)


def rename_class(ds: Dataset, old: str, new: str) -> Dataset:
    """The same samples, the class `old` called `new`."""
    index = _class_index(ds, old)
    new = validate_class_name(new, where="name")
    if new == old:
        return ds
    _check_new_class(ds, new, [c for c in ds.classes if c != old])  # 'sad' -> 'Sad' is fine
    classes = list(ds.classes)
    classes[index] = new
    return replace(ds, classes=classes, sample_ids=ds.ids)


def _check_new_class(ds: Dataset, name: str, others: list[str]) -> None:
    """A class name beside `others`: neither the same nor the same but for case (two
    folders that Windows and macOS hold as one, so the dataset could not be exported)."""
    for other in others:
        if other == name:
            raise Conflict(f"class '{name}' already exists", where=f"dataset '{ds.name}'")
        if other.casefold() == name.casefold():
            raise Conflict(
                f"class '{name}' differs from the class '{other}' only in case; they would "
                "share one folder on Windows and macOS, choose another name",
                where=f"dataset '{ds.name}'",
            )


def delete_class(ds: Dataset, name: str) -> Dataset:
    """Without the class `name` and its samples; later class indices move down by one."""
    index = _class_index(ds, name)
    if len(ds.classes) == 1:
        raise Conflict(
            f"class '{name}' is the only class; delete the dataset instead",
            where=f"dataset '{ds.name}'",
        )
    keep = ds.y != index  # (N,) bool
    y = ds.y[keep]
    y = torch.where(y > index, y - 1, y)
    classes = [c for i, c in enumerate(ds.classes) if i != index]
    return _subset(ds, keep, y=y, classes=classes)


def add_samples(ds: Dataset, x: torch.Tensor, labels: list[str]) -> tuple[Dataset, torch.Tensor]:
    """Append samples (shaped like the dataset's) with class names as labels.

    Returns:
        The new dataset and the (n,) int64 ids given to the new samples.
    """
    _require_classes(ds)
    where = f"dataset '{ds.name}'"
    if x.dim() == len(ds.input_shape):
        x = x.unsqueeze(0)
    if tuple(x.shape[1:]) != ds.input_shape:
        raise DataError(
            f"a sample must be shaped {tuple(ds.input_shape)}; received {tuple(x.shape[1:])}",
            where,
        )
    if len(labels) != len(x):
        raise DataError(f"{len(x)} samples but {len(labels)} labels", where)
    unknown = sorted({label for label in labels if label not in ds.classes})
    if unknown:
        raise NotFound(
            f"no class '{unknown[0]}'; classes: {', '.join(ds.classes) or 'none yet'}", where
        )
    y_new = torch.tensor([ds.classes.index(label) for label in labels], dtype=torch.int64)
    start = int(ds.ids.max()) + 1 if len(ds) else 0
    new_ids = torch.arange(start, start + len(x), dtype=torch.int64)
    test_index = ds.test_index  # new samples join the pool that train/val are drawn from
    grown = replace(
        ds,
        x=torch.cat([ds.x, x.to(torch.float32)]),
        y=torch.cat([ds.y, y_new]),
        sample_ids=torch.cat([ds.ids, new_ids]),
        test_index=test_index,
    )
    return grown, new_ids


def delete_samples(ds: Dataset, ids: list[int]) -> Dataset:
    """Without the samples of the given ids; an unknown id is NotFound."""
    wanted = torch.tensor(sorted(set(ids)), dtype=torch.int64)
    present = torch.isin(wanted, ds.ids)
    if not bool(present.all()):
        missing = int(wanted[~present][0])
        raise NotFound(f"no sample with id {missing}", where=f"dataset '{ds.name}'")
    keep = ~torch.isin(ds.ids, wanted)
    return _subset(ds, keep)


def _subset(ds: Dataset, keep: torch.Tensor, **changes) -> Dataset:
    """The samples where `keep` is True, the fixed test split carried along."""
    is_test = ds.is_test[keep]
    test_index = is_test.nonzero().flatten() if ds.test_index is not None else None
    return replace(
        ds,
        x=ds.x[keep],
        y=changes.pop("y", ds.y[keep]),
        sample_ids=ds.ids[keep],
        test_index=test_index,
        **changes,
    )


def _require_classes(ds: Dataset) -> None:
    if ds.task != "classification":
        raise DataError(
            "only classification datasets have classes to add samples to",
            where=f"dataset '{ds.name}'",
        )


def _class_index(ds: Dataset, name: str) -> int:
    _require_classes(ds)
    if name not in ds.classes:
        raise NotFound(
            f"no class '{name}'; classes: {', '.join(ds.classes)}", where=f"dataset '{ds.name}'"
        )
    return ds.classes.index(name)
