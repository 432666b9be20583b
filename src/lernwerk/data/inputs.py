"""Reading the files a user hands to `predict`: images, CSV rows and `.npy` arrays.

Each file becomes one or more samples of the run's input shape, with a label per
sample for display ("part.png", "rows.csv:3", "batch.npy[7]"). CSV row numbers
count as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lernwerk.data.csv_text import detect_dialect, parse_number, read_records
from lernwerk.data.images.formats import IMAGE_SUFFIXES
from lernwerk.errors import DataError, NotFound

if TYPE_CHECKING:
    import torch

__all__ = ["read_inputs"]

# The kind names a run may use, singular or plural, mapped to the suffixes it accepts.
_KINDS = {
    "image": "images",
    "images": "images",
    "table": "table",
    "tables": "table",
    "sequence": "sequences",
    "sequences": "sequences",
}
_SUFFIXES = {
    "images": (*IMAGE_SUFFIXES, ".npy"),
    "table": (".csv", ".parquet", ".pq", ".npy"),
    "sequences": (".csv", ".npy"),
}


def read_inputs(
    paths: list[Path],
    *,
    kind: str,
    input_shape: tuple[int, ...],
    feature_names: list[str],
    image_resize: str = "fit",
    table_encoding: dict | None = None,
) -> tuple[torch.Tensor, list[str]]:
    """Read input files into one float32 batch of shape (N, *input_shape) and N labels.

    Args:
        paths: Image, CSV or `.npy` files, in any mix the run's kind accepts.
        kind: The run's data kind: "images", "table" or "sequences".
        input_shape: The shape of one sample, e.g. (C, H, W) for images.
        feature_names: The table columns the run was trained on, in order.
        image_resize: How images are brought to the input size: "fit" (pad) or "crop",
            as the run's dataset did.
        table_encoding: The encoding of an imported table (`TableEncoding.to_dict()`):
            CSV and Parquet files are then read and encoded as the training data was.

    Returns:
        The samples, shape (N, *input_shape), and a display label per sample.
        Images are resized and scaled to [0, 1]; `.npy` values are taken as given.

    Raises:
        NotFound: A file does not exist.
        DataError: A file is unreadable, too large, of an unsupported type, or does
            not fit the input shape; the message names the file (and row, column).
    """
    import torch  # here: the readers below serve the torch-free inspect path too

    if kind not in _KINDS:
        raise DataError(f"unknown data kind {kind!r}; expected one of images, table, sequences")
    kind = _KINDS[kind]
    input_shape = tuple(int(d) for d in input_shape)
    batches: list[np.ndarray] = []
    labels: list[str] = []
    for path in paths:
        path = Path(path)
        if kind == "table" and table_encoding and path.suffix.lower() != ".npy":
            array, names = _read_encoded_table(path, table_encoding)
        else:
            array, names = _read_one(path, kind, input_shape, list(feature_names), image_resize)
        batches.append(array)
        labels.extend(names)
    if not labels:
        shown = ", ".join(str(p) for p in paths) or "no files"
        raise DataError(f"no samples to predict in {shown}")
    x = torch.from_numpy(np.concatenate(batches).astype(np.float32, copy=False))
    return x, labels  # (N, *input_shape)


def _read_one(
    path: Path, kind: str, input_shape: tuple[int, ...], feature_names: list[str], resize: str
) -> tuple[np.ndarray, list[str]]:
    if not path.exists():
        raise NotFound(f"{path} does not exist", where=str(path))
    if path.is_dir():
        raise DataError(f"{path} is a folder; pass the files inside it", where=str(path))
    suffix = path.suffix.lower()
    supported = _SUFFIXES[kind]
    if suffix not in supported:
        known = suffix in IMAGE_SUFFIXES or suffix in (".csv", ".npy")
        reason = f"a run on {kind} does not take {suffix} files" if known else "unsupported type"
        raise DataError(f"{path}: {reason}; supported: {', '.join(supported)}", where=str(path))
    if suffix == ".npy":
        return _read_npy(path, kind, input_shape)
    if suffix == ".csv":
        return _read_csv(path, kind, input_shape, feature_names)
    return _read_image(path, input_shape, resize)


def _read_encoded_table(path: Path, encoding: dict) -> tuple[np.ndarray, list[str]]:
    from lernwerk.data.tables.encoding import TableEncoding
    from lernwerk.data.tables.reader import read_table_file

    frame = read_table_file(path)  # NotFound, DataError name the file
    x = TableEncoding.from_dict(encoding).transform(frame, str(path))  # (N, F)
    return x, [f"{path.name}:{line}" for line in frame.index]


def _read_npy(path: Path, kind: str, input_shape: tuple[int, ...]) -> tuple[np.ndarray, list[str]]:
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise DataError(
                f"{path} holds Python objects, which are not loaded (no pickles); "
                "save a numeric array instead",
                where=str(path),
            ) from None
        raise DataError(f"{path} is not a readable .npy file: {error}", where=str(path)) from None
    except (OSError, EOFError) as error:
        raise DataError(f"{path} is not a readable .npy file: {error}", where=str(path)) from None
    if not isinstance(array, np.ndarray) or not (
        np.issubdtype(array.dtype, np.integer)
        or np.issubdtype(array.dtype, np.floating)
        or array.dtype == np.bool_
    ):
        dtype = getattr(array, "dtype", type(array).__name__)
        raise DataError(f"{path} holds {dtype} values; expected a numeric array", where=str(path))
    if array.shape == input_shape:
        array = array[None]
    elif kind == "sequences" and array.ndim in (1, 2) and _fits_flat(array, input_shape):
        # A series stored flat, (T,) or (N, T), for a model that takes (1, T) or (T, 1).
        array = array.reshape(-1, *input_shape)
    elif array.shape[1:] != input_shape:
        raise DataError(
            f"{path} has shape {array.shape}; expected (N, {_dims(input_shape)}) "
            f"or ({_dims(input_shape)}) for one sample",
            where=str(path),
        )
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise DataError(f"{path} contains NaN or infinite values", where=str(path))
    if len(array) == 1:
        return array, [str(path)]
    return array, [f"{path}[{i}]" for i in range(len(array))]


def _read_csv(
    path: Path, kind: str, input_shape: tuple[int, ...], feature_names: list[str]
) -> tuple[np.ndarray, list[str]]:
    dialect = detect_dialect(path)  # the one CSV reader: what imports also predicts
    rows = list(read_records(path, dialect))  # [(spreadsheet row number, cells)]
    if not rows:
        raise DataError(f"{path} is empty", where=str(path))
    decimal = dialect.decimal
    if kind == "table":
        header_row, header = rows[0]
        columns = _table_columns(path, header, rows[1:], feature_names, decimal)
        data = rows[1:]
        names = [header[c] for c in columns]
    else:
        width = math.prod(input_shape)
        # An optional header row of names (t0, t1, …) is recognised by holding no numbers.
        has_header = not any(_is_number(cell, decimal) for cell in rows[0][1])
        data = rows[1:] if has_header else rows
        for number, cells in data:
            if len(cells) != width:
                raise DataError(
                    f"{path}: row {number} has {len(cells)} values; expected {width}, "
                    f"one series per row for input shape ({_dims(input_shape)})",
                    where=str(path),
                )
        columns = list(range(width))
        names = [f"column {c + 1}" for c in columns]
    if not data:
        raise DataError(f"{path} has no data rows below its header", where=str(path))
    array = np.empty((len(data), len(columns)), dtype=np.float32)  # (N, F)
    for i, (number, cells) in enumerate(data):
        for j, c in enumerate(columns):
            cell = cells[c] if c < len(cells) else ""
            value = parse_number(cell, decimal)
            if value is None:
                shown = repr(cell) if cell.strip() else "an empty cell"
                raise DataError(
                    f"{path}: row {number}, column {names[j]!r} holds {shown}; "
                    "expected a finite number",
                    where=str(path),
                )
            array[i, j] = value
    labels = [f"{path}:{number}" for number, _ in data]
    return array.reshape(len(data), *input_shape), labels


def _table_columns(
    path: Path,
    header: list[str],
    data: list[tuple[int, list[str]]],
    feature_names: list[str],
    decimal: str,
) -> list[int]:
    """The column indices holding the run's features, by name or else by position."""
    names = [name.strip() for name in header]
    if all(feature in names for feature in feature_names):
        return [names.index(feature) for feature in feature_names]
    if names and all(_is_number(name, decimal) for name in names):
        raise DataError(
            f"{path}: row 1 holds numbers, not column names; add a header row naming "
            f"the columns ({', '.join(feature_names)})",
            where=str(path),
        )
    # Columns with at least one number; a stray text cell in one is reported by row later.
    numeric = [
        c
        for c in range(len(names))
        if any(c < len(cells) and _is_number(cells[c], decimal) for _, cells in data)
    ]
    if len(numeric) == len(feature_names):
        return numeric
    missing = [feature for feature in feature_names if feature not in names]
    raise DataError(
        f"{path}: missing columns {', '.join(missing)}; the file has "
        f"{', '.join(names) or 'no columns'}. Expected the {len(feature_names)} feature "
        f"columns by name, or exactly {len(feature_names)} numeric columns "
        f"(found {len(numeric)})",
        where=str(path),
    )


def _is_number(cell: str, decimal: str) -> bool:
    return parse_number(cell, decimal) is not None


def _read_image(
    path: Path, input_shape: tuple[int, ...], resize: str
) -> tuple[np.ndarray, list[str]]:
    from lernwerk.data.images.formats import ImageFormat, decode_image

    if len(input_shape) != 3 or input_shape[0] not in (1, 3):
        raise DataError(
            f"{path}: the run takes inputs of shape ({_dims(input_shape)}), "
            "not images of shape (1, H, W) or (3, H, W)",
            where=str(path),
        )
    channels, height, width = input_shape
    fmt = ImageFormat(size=(height, width), channels=channels, resize=resize)  # type: ignore[arg-type]
    pixels = decode_image(path, fmt, where=str(path))  # (C, H, W) uint8, limits checked
    return (pixels.astype(np.float32) / 255.0)[None], [str(path)]  # (1, C, H, W)


def _fits_flat(array: np.ndarray, input_shape: tuple[int, ...]) -> bool:
    length = math.prod(input_shape)
    return max(input_shape) == length and array.shape[-1] == length


def _dims(shape: tuple[int, ...]) -> str:
    return ", ".join(str(d) for d in shape)
