"""Reading tables from CSV and Parquet files, for training and for prediction.

`read_table_file` reads a file into a DataFrame of raw values; `read_table` encodes its
columns as features with a `TableEncoding` (see `table_encoding`) and picks target and
task, for training; `read_table_inputs` applies a stored encoding to new rows at prediction.

Rows are numbered by their line in the file, the header being line 1 (a quoted cell that
spans lines takes the number of its first line); Parquet rows count the same way, as if
the table were written out with a header. Errors carry the file and row in `where`
("messwerte.csv:14") and name the column in the message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from lernwerk.data.csv_text import detect_dialect, empty_message, read_records
from lernwerk.data.dataset import Task
from lernwerk.data.tables.cells import (
    MAX_TABLE_COLUMNS,
    _check_names,
    _parse_text,
    _split_cells,
    _unknown_column,
)
from lernwerk.data.tables.encoding import TableEncoding, _check_impute, _encode_target
from lernwerk.errors import DataError, NotFound, SpecError

__all__ = [
    "MAX_TABLE_BYTES",
    "MAX_TABLE_COLUMNS",
    "TableData",
    "read_table",
    "read_table_file",
    "read_table_inputs",
]

MAX_TABLE_BYTES = 2_000_000_000  # 2 GB: larger files are refused before reading

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
_CHUNK_ROWS = 50_000  # CSV rows parsed per batch, so memory stays near the parsed size


# --- reading files ------------------------------------------------------------------


def read_table_file(
    path: str | Path,
    delimiter: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame of raw, not yet encoded values.

    CSV cells become floats where they are numbers (in the file's decimal mark), NaN
    where empty or a missing marker (NA, N/A, #N/A, #NV, NaN, null, ?), and stripped
    text otherwise; a column without text is float64, one with text holds objects.
    Parquet columns keep their types, except that text cells are parsed the same way;
    the CSV options do not apply to them. The index holds each row's number in the
    file, the header being row 1.

    Args:
        path: A `.csv`, `.tsv` or `.txt` file, or a `.parquet`/`.pq` file.
        delimiter: The CSV field separator; detected among , ; tab | when None.
        decimal: "." or ","; when None, "," if the delimiter is not "," and the file's
            numbers are written like 1,5 (a German or French spreadsheet export).
        encoding: The CSV text encoding; when None: UTF-8 (with or without BOM),
            UTF-16 with BOM, else Windows-1252, else Latin-1.

    Returns:
        The table, with `attrs` naming the format, delimiter, decimal mark, encoding and
        any notes on how the file was read.

    Raises:
        NotFound: The file does not exist.
        SpecError: An option is invalid.
        DataError: The file is empty, too large, unreadable, or its header is missing,
            has duplicate names or too many columns.
    """
    path = Path(path)
    where = str(path)
    if not path.exists():
        raise NotFound(f"{path} does not exist", where)
    if path.is_dir():
        raise DataError(f"{path} is a folder; pass a CSV or Parquet file", where)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        raise DataError(
            f"{path} is a spreadsheet workbook, which is not read directly; "
            "save it as CSV (UTF-8) or Parquet",
            where,
        )
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        supported = ", ".join(CSV_SUFFIXES + PARQUET_SUFFIXES)
        raise DataError(f"{path}: unsupported file type {suffix!r}; supported: {supported}", where)
    size = path.stat().st_size
    if size > MAX_TABLE_BYTES:
        raise DataError(
            f"{path} is {size / 1e9:.1f} GB; tables above {MAX_TABLE_BYTES / 1e9:.0f} GB "
            "are refused; sample or split it",
            where,
        )
    if size == 0:
        raise DataError(empty_message(path), where)
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path)
    return _read_csv(path, delimiter, decimal, encoding)


def _read_csv(
    path: Path, delimiter: str | None, decimal: str | None, encoding: str | None
) -> pd.DataFrame:
    dialect = detect_dialect(path, delimiter, decimal, encoding)
    frame = _parse_csv(read_records(path, dialect), path, dialect.delimiter, dialect.decimal)
    frame.attrs = {
        "format": "csv",
        "delimiter": dialect.delimiter,
        "decimal": dialect.decimal,
        "encoding": dialect.encoding,
        "notes": list(dialect.notes),
    }
    return frame


def _parse_csv(
    records: Iterable[tuple[int, list[str]]], path: Path, delimiter: str, decimal: str
) -> pd.DataFrame:
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    frames: list[pd.DataFrame] = []
    for line, cells in records:
        if header is None:
            header = _check_header(cells, path, line, decimal)
            continue
        if len(cells) > len(header):
            if any(cell.strip() for cell in cells[len(header) :]):
                raise DataError(
                    f"the row has {len(cells)} values but the header names "
                    f"{len(header)} columns; quote cells that contain {delimiter!r}",
                    f"{path}:{line}",
                )
            cells = cells[: len(header)]
        rows.append(cells + [""] * (len(header) - len(cells)))
        lines.append(line)
        if len(rows) == _CHUNK_ROWS:
            frames.append(_parse_rows(rows, len(header), decimal))
            rows = []
    if header is None:
        raise DataError(empty_message(path), str(path))
    if not lines:
        raise DataError(f"{path} has a header but no data rows", str(path))
    if rows:
        frames.append(_parse_rows(rows, len(header), decimal))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    frame.index = pd.Index(lines, name="row")
    return _name_columns(frame, header, path)


def _check_header(cells: list[str], path: Path, line: int, decimal: str) -> list[str]:
    names = [cell.strip() for cell in cells]
    names[0] = names[0].lstrip("\ufeff")  # a BOM left by an explicit encoding="utf-8"
    _check_names([name for name in names if name], path)  # before reading the rows
    parsed = _parse_text(names, decimal)
    if parsed.dtype == np.float64 and not np.isnan(parsed).any():
        raise DataError(
            f"{path}: line {line} holds numbers, not column names; add a header line "
            "naming the columns",
            f"{path}:{line}",
        )
    return names


def _name_columns(frame: pd.DataFrame, names: list[str], path: Path) -> pd.DataFrame:
    """Header names on the columns; unnamed empty columns (a trailing delimiter) dropped."""
    keep = []
    for position, name in enumerate(names):
        if name:
            keep.append(position)
        elif frame[position].notna().any():
            first = frame.index[frame[position].notna().to_numpy()][0]
            raise DataError(
                f"column {position + 1} has no name in the header but holds values "
                f"(first in row {first}); name it in the header",
                str(path),
            )
    frame = frame[keep]
    frame.columns = [names[position] for position in keep]
    return frame


def _parse_rows(rows: list[list[str]], width: int, decimal: str) -> pd.DataFrame:
    grid = np.array(rows, dtype=object).reshape(len(rows), width)  # (N, W) of str
    return pd.DataFrame({c: _parse_text(grid[:, c], decimal) for c in range(width)})


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        names = [name for name in pq.read_schema(path).names if not name.startswith("__")]
        _check_names(names, path)  # before reading: too many columns, or duplicates
        frame = pq.read_table(path).to_pandas().reset_index(drop=True)  # a stored index
    except (pa.ArrowException, OSError) as error:
        raise DataError(f"{path} is not a readable Parquet file: {error}", str(path)) from None
    frame.columns = [str(name) for name in frame.columns]
    _check_names(list(frame.columns), path)
    if not len(frame):
        raise DataError(f"{path} has no rows", str(path))
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            frame[name] = _parse_objects(column, path)
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
    frame.attrs = {"format": "parquet", "notes": []}
    return frame


def _parse_objects(column: pd.Series, path: Path) -> pd.Series:
    """Text parsed as in a CSV, decimals as floats; lists and other values refused."""
    values = column.to_numpy(dtype=object).copy()
    values[np.asarray(pd.isna(values), dtype=bool)] = np.nan
    is_text = np.array([isinstance(value, str) for value in values], dtype=bool)
    if is_text.any():
        values[is_text] = _parse_text(values[is_text], ".").astype(object)
    for i, value in enumerate(values):
        if isinstance(value, Decimal):
            values[i] = float(value)
        elif not isinstance(value, (str, int, float, np.number, np.bool_)):
            raise DataError(
                f"column {column.name!r} holds {type(value).__name__} values; a table "
                "cell must hold a number or text",
                f"{path}:{i + 2}",
            )
    if not any(isinstance(value, str) for value in values):
        return pd.Series(values.astype(np.float64), index=column.index)
    return pd.Series(values, index=column.index, dtype=object)


# --- training and prediction ----------------------------------------------------------


@dataclass
class TableData:
    """A table read for training: features, labels, and the encoding that made them.

    Args:
        x: (N, F) float32 features.
        y: (N,) int64 class indices for classification, float32 values for regression.
        task: "classification" or "regression".
        classes: Class names in index order; [] for regression.
        feature_names: One name per feature, e.g. "Farbe=rot".
        encoding: The column encoding, to store with the model.
        target: The target column's name.
        notes: How the file was read and the task chosen, for people.
    """

    x: np.ndarray
    y: np.ndarray
    task: Task
    classes: list[str]
    feature_names: list[str]
    encoding: TableEncoding
    target: str
    notes: list[str] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)  # empty cells per input column


def read_table(
    path: str | Path,
    target: str | None = None,
    task: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    categorical: Iterable[str] | None = None,
    impute: str | None = None,
    drop: Iterable[str] | None = None,
    *,
    file_encoding: str | None = None,
) -> TableData:
    """Read a CSV or Parquet file for training: encode its columns, pick target and task.

    The task, unless given, is classification when the target holds text, or holds
    whole numbers with at most 2 distinct values, or at most MAX_CLASS_VALUES (20)
    distinct values with 5 rows or more per value on average; regression otherwise.
    Classes sort naturally, numbers by value ("2" before "10").

    Args:
        path: The file; see `read_table_file`.
        target: The column to predict; the last column when None.
        task: "classification" or "regression"; inferred when None.
        delimiter, decimal: CSV dialect; detected when None.
        categorical: Columns to one-hot even if they hold numbers (codes, ratings).
        impute: None (missing cells are errors), "mean", "median" or "most_frequent".
        drop: Columns to leave out (ids, free text, dates).
        file_encoding: The CSV text encoding; detected when None.

    Raises:
        NotFound, SpecError, DataError: as `read_table_file` and `TableEncoding`, and
            for an unknown target, a missing target value, or text in a regression target.
    """
    if task is not None and task not in ("classification", "regression"):
        raise SpecError(
            f"task must be 'classification', 'regression' or None; received: {task!r}", "task"
        )
    _check_impute(impute)
    frame = read_table_file(path, delimiter, decimal, file_encoding)
    source, notes = str(path), list(frame.attrs.get("notes", []))
    names = list(frame.columns)
    target = names[-1] if target is None else target
    if target not in names:
        raise _unknown_column(target, names, "target")
    drop = [drop] if isinstance(drop, str) else list(drop or [])
    for name in drop:
        if name not in names:
            raise _unknown_column(name, names, "drop")
        if name == target:
            raise SpecError(f"drop: {name!r} is the target; choose another target", "drop")
    frame = frame.drop(columns=drop)
    y, classes, task, note = _encode_target(frame[target], target, task, source)
    encoding = TableEncoding.fit(frame, target, categorical, impute, source=source)
    x = encoding.transform(frame, source)  # (N, F)
    notes += [note] if note else []
    missing = {name: int(_split_cells(frame[name])[2].sum()) for name in encoding.input_columns}
    missing = {name: n for name, n in missing.items() if n}
    return TableData(x, y, task, classes, encoding.feature_names, encoding, target, notes, missing)


def read_table_inputs(
    path: str | Path,
    encoding: TableEncoding,
    *,
    delimiter: str | None = None,
    decimal: str | None = None,
    file_encoding: str | None = None,
) -> np.ndarray:
    """Read a CSV or Parquet file for prediction and encode it as the model was trained.

    Columns the encoding does not name (the target, ids) are ignored.

    Returns:
        (N, F) float32 features, in file order.

    Raises:
        NotFound, SpecError, DataError: as `read_table_file` and `TableEncoding.transform`.
    """
    frame = read_table_file(path, delimiter, decimal, file_encoding)
    return encoding.transform(frame, str(path))
