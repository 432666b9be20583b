"""From a path on disk to a Dataset: which reader, which settings, and what was skipped.

The kind is taken from the path when not given: a folder or a `.zip` holds images, a
`.ts` file sequences, a `.csv`/`.parquet` file a table (or sequences with
`kind="sequences"`). Readers refuse broken input with the file and line named; nothing
here writes anything, so an import that fails leaves no trace.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lernwerk.data.dataset import Dataset
from lernwerk.data.rows import StoredRows, array_reader
from lernwerk.errors import DataError, NotFound, SpecError

Progress = Callable[[int, int], None]  # (done, total)

KINDS = ("images", "table", "sequences")
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
_OPTIONS = {
    "images": {"image_size", "channels", "resize", "skip_bad"},
    "table": {"target", "task", "delimiter", "decimal", "impute", "categorical", "drop"},
    "sequences": {"target", "task", "delimiter", "decimal", "layout", "length", "length_steps"},
}


def detect_kind(path: Path) -> str:
    """images for a folder or .zip, sequences for .ts, table for .csv/.parquet."""
    name = path.name.lower()
    if path.is_dir() or name.endswith(".zip"):
        return "images"
    if name.endswith((".ts", ".ts.gz")):
        return "sequences"
    if name.endswith(_TABLE_SUFFIXES):
        return "table"
    if name.endswith(_IMAGE_SUFFIXES):
        raise SpecError(
            f"{path.name} is a single image; import a folder with one sub-folder per class, "
            "or add it to a dataset with `lernwerk datasets add-sample NAME --label L FILE`",
            where=str(path),
        )
    raise SpecError(
        f"cannot tell what {path.name} holds; expected a folder or .zip of images, a .csv or "
        ".parquet table, or a .ts file; give --kind images|table|sequences",
        where=str(path),
    )


def import_path(
    name: str,
    path: Path,
    kind: str | None = None,
    *,
    progress: Progress | None = None,
    **options: Any,
) -> tuple[Dataset, dict[str, Any]]:
    """Read `path` into a Dataset called `name`, with a report of what was done.

    `progress(done, total)` is called as images are decoded (other kinds read at once).

    Raises:
        NotFound: The path does not exist.
        SpecError: An option does not fit the kind.
        DataError: The data is broken; the message names the file and line.
    """
    if not path.exists():
        raise NotFound(f"{path} does not exist", where=str(path))
    kind = kind or detect_kind(path)
    if kind not in KINDS:
        raise SpecError(f"kind must be one of {', '.join(KINDS)}; received: {kind!r}", "kind")
    given = {k: v for k, v in options.items() if v is not None and v is not False}
    unknown = sorted(set(given) - _OPTIONS[kind])
    if unknown:
        raise SpecError(
            f"option {unknown[0]!r} does not apply to {kind}; options for {kind}: "
            f"{', '.join(sorted(_OPTIONS[kind]))}",
            where=unknown[0],
        )
    if kind == "images":
        return _images(name, path, progress=progress, **given)
    reader = {"table": _table, "sequences": _sequences}[kind]
    return reader(name, path, **given)


def _images(
    name: str,
    path: Path,
    image_size: int = 64,
    channels: int = 3,
    resize: str = "fit",
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> tuple[Dataset, dict[str, Any]]:
    from lernwerk.data.images.folders import read_image_tree
    from lernwerk.data.images.formats import ImageFormat

    fmt = ImageFormat(size=image_size, channels=channels, resize=resize)  # type: ignore[arg-type]
    result = read_image_tree(path, fmt, skip_bad=skip_bad, progress=progress)
    is_test = torch.from_numpy(np.asarray(result.is_test, dtype=bool))
    pixels = result.x  # (N, C, H, W) uint8: kept so, a quarter of float32's memory
    ds = Dataset(
        name=name,
        kind="images",
        task="classification",
        x=StoredRows(array_reader(pixels), np.arange(len(pixels)), fmt.shape, images=True),
        y=torch.from_numpy(result.y.astype(np.int64)),
        classes=list(result.classes),
        feature_names=[],
        source={"imported": str(path)},
        test_index=is_test.nonzero().flatten() if bool(is_test.any()) else None,
        description=f"Imported from {path.name}",
        meta={"image_format": fmt.to_dict(), "import_facts": {"image_sizes": result.sizes}},
    )
    report = {
        "kind": "images",
        "imported": len(ds),
        "skipped": [{"path": p, "reason": r} for p, r in result.skipped],
        "image_format": fmt.to_dict(),
        "fixed_test_split": ds.test_index is not None,
    }
    return ds, report


def _table(name: str, path: Path, **options: Any) -> tuple[Dataset, dict[str, Any]]:
    from lernwerk.data.tables.reader import read_table

    data = read_table(path, **options)
    ds = Dataset(
        name=name,
        kind="table",
        task=data.task,  # type: ignore[arg-type]
        x=torch.from_numpy(np.ascontiguousarray(data.x, dtype=np.float32)),
        y=_labels_tensor(data.y, data.task),
        classes=list(data.classes),
        feature_names=list(data.feature_names),
        source={"imported": str(path)},
        description=f"Imported from {path.name}",
        meta={
            "table_encoding": data.encoding.to_dict(),
            "target": data.target,
            "import_facts": {"rows": len(data.x), "missing": data.missing},
        },
    )
    report = {
        "kind": "table",
        "imported": len(ds),
        "task": data.task,
        "target": data.target,
        "features": list(data.feature_names),
        "skipped": [],
    }
    return ds, report


def _sequences(
    name: str,
    path: Path,
    target: str | None = None,
    task: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    layout: str | None = None,
    length: str = "error",
    length_steps: int | None = None,
) -> tuple[Dataset, dict[str, Any]]:
    from lernwerk.data.sequences.csv_reader import read_sequence_csv
    from lernwerk.data.sequences.ts_format import read_ts_pair

    if path.name.lower().endswith((".ts", ".ts.gz")):
        if target or delimiter or decimal or layout:
            raise SpecError(
                "a .ts file names its own labels; --target, --layout, --delimiter and "
                "--decimal are for CSV files",
                where="options",
            )
        train, test = read_ts_pair(path)
        if task is not None and task != train.task:
            raise SpecError(f"{path.name} holds a {train.task} problem, not {task}", "task")
    else:
        train = read_sequence_csv(
            path,
            layout or "wide",  # type: ignore[arg-type]
            target,
            task=task,  # type: ignore[arg-type]
            delimiter=delimiter,
            decimal=decimal,
        )
        test = None
    ds = sequences_dataset(name, train, test, length, length_steps)
    ds.source = {"imported": str(path)}
    report = {
        "kind": "sequences",
        "imported": len(ds),
        "task": ds.task,
        "channels": ds.input_shape[0],
        "length": ds.input_shape[1],
        "length_policy": length,
        "fixed_test_split": ds.test_index is not None,
        "skipped": [],
    }
    return ds, report


def sequences_dataset(
    name: str,
    train: Any,
    test: Any | None,
    length: str = "error",
    length_steps: int | None = None,
) -> Dataset:
    """One Dataset from a train SequenceSet and an optional fixed test SequenceSet."""
    from lernwerk.data.sequences.series import to_array

    if length not in ("error", "pad", "resample"):
        raise SpecError(
            f"length must be error, pad or resample; received: {length!r}", where="length"
        )
    if train.labels is None:
        raise DataError("the series carry no labels; a dataset needs them", where=name)
    parts = [train] if test is None else [train, test]
    if test is not None and length_steps is None and length != "error":
        # both parts on one length: the longest series of either
        length_steps = max(s.shape[1] for part in parts for s in part.series)
    arrays = [to_array(part, length, length_steps)[0] for part in parts]
    if test is not None and arrays[0].shape[1:] != arrays[1].shape[1:]:
        raise DataError(
            f"train series are shaped {arrays[0].shape[1:]} (channels, steps) but test "
            f"series {arrays[1].shape[1:]}; use --length pad or resample",
            where=name,
        )
    x = np.concatenate(arrays)
    classes = list(train.classes)
    labels = [_encode_labels(part, classes) for part in parts]
    y = np.concatenate(labels)
    test_index = None
    if test is not None:
        test_index = torch.arange(len(arrays[0]), len(x), dtype=torch.int64)
    return Dataset(
        name=name,
        kind="sequences",
        task=train.task,
        x=torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
        y=_labels_tensor(y, train.task),
        classes=classes,
        feature_names=[],
        source={},
        test_index=test_index,
        description=str(train.meta.get("description", "")),
        meta={
            "channel_names": list(train.channel_names),
            "length_policy": length,
            "steps": int(x.shape[2]),
            "import_facts": _length_facts(parts),
        },
    )


def _length_facts(parts: list[Any]) -> dict[str, Any]:
    """The series' lengths before padding or resampling (the data checks report them)."""
    lengths = [s.shape[1] for part in parts for s in part.series]
    return {"lengths": {"min": min(lengths), "max": max(lengths)}} if lengths else {}


def _encode_labels(part: Any, classes: list[str]) -> np.ndarray:
    if part.task != "classification":
        return np.asarray(part.labels, dtype=np.float32)
    unknown = sorted(set(part.labels) - set(classes))
    if unknown:
        raise DataError(
            f"label '{unknown[0]}' of the test file is not among the train classes "
            f"({', '.join(classes)})",
            where=str(part.meta.get("source", "test")),
        )
    index = {c: i for i, c in enumerate(classes)}
    return np.asarray([index[label] for label in part.labels], dtype=np.int64)


def _labels_tensor(y: np.ndarray, task: str) -> torch.Tensor:
    dtype = np.int64 if task == "classification" else np.float32
    return torch.from_numpy(np.ascontiguousarray(y, dtype=dtype))
