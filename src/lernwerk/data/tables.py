"""Reading tables from CSV and Parquet files and encoding their columns as float features.

`read_table_file` reads a file into a DataFrame of raw values; a `TableEncoding` turns
those columns into features (numbers as they are, categories one-hot, gaps filled if
asked) and is stored with the trained model; `read_table` does both for training, and
`read_table_inputs` applies a stored encoding to new rows at prediction.

Rows are numbered by their line in the file, the header being line 1 (a quoted cell that
spans lines takes the number of its first line); Parquet rows count the same way, as if
the table were written out with a header. Errors carry the file and row in `where`
("messwerte.csv:14") and name the column in the message.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from lernwerk.data.dataset import Task
from lernwerk.errors import DataError, NotFound, SpecError

__all__ = [
    "MAX_CATEGORIES",
    "MAX_TABLE_BYTES",
    "MAX_TABLE_COLUMNS",
    "ColumnEncoding",
    "TableData",
    "TableEncoding",
    "read_table",
    "read_table_file",
    "read_table_inputs",
]

MAX_TABLE_BYTES = 2_000_000_000  # 2 GB: larger files are refused before reading
MAX_TABLE_COLUMNS = 10_000
MAX_CATEGORIES = 1000  # per column; more distinct values usually mean an id or free text
MAX_CLASS_VALUES = 20  # a whole-number target with at most this many values may be classes

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
DELIMITERS = (",", ";", "\t", "|")
IMPUTE_STRATEGIES = ("mean", "median", "most_frequent")
ENCODING_SCHEMA_VERSION = 1

# Cells read as missing, compared case-insensitively; "#NV" is German Excel's "#N/A".
_MISSING = frozenset({"", "na", "n/a", "#n/a", "#nv", "nan", "null", "?"})
_SNIFF_BYTES = 1024 * 1024  # delimiter and decimal mark are detected from the first MiB …
_SNIFF_LINES = 1000  # … from its first lines at most
_COMMA_DECIMAL = re.compile(r"[+-]?\d*,\d+")
_DOT_DECIMAL = re.compile(r"[+-]?\d*\.\d+")
_CHUNK_ROWS = 50_000  # CSV rows parsed per batch, so memory stays near the parsed size
_SHOWN = 5  # rows or categories listed in a message before "…"


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
        raise DataError(_empty_message(path), where)
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path)
    return _read_csv(path, delimiter, decimal, encoding)


def _read_csv(
    path: Path, delimiter: str | None, decimal: str | None, encoding: str | None
) -> pd.DataFrame:
    notes: list[str] = []
    if encoding is None:
        encoding = _detect_encoding(path)
        if encoding in ("cp1252", "latin-1"):
            notes.append(f"{path} is not UTF-8; read it as {encoding}")
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise SpecError(f"unknown text encoding {encoding!r}", "encoding") from None
    with path.open("rb") as handle:
        sample = handle.read(_SNIFF_BYTES).decode(encoding, errors="replace")
    if path.stat().st_size > _SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rfind("\n") + 1]  # whole lines only
    if not sample.strip():
        raise DataError(_empty_message(path), str(path))
    # Excel reads, and some tools write, a first line "sep=;" that names the delimiter.
    directive = re.match(r"\ufeff?sep=([^\r\n])\r?\n", sample)
    if directive and delimiter is None:
        delimiter = directive.group(1)
    delimiter = _sniff_delimiter(sample) if delimiter is None else _check_delimiter(delimiter)
    if decimal is None:
        decimal = _sniff_decimal(sample, delimiter)
        if decimal == ",":
            notes.append(f"{path} writes decimals with a comma (1,5); read them so")
    elif decimal not in (".", ","):
        raise SpecError(f"decimal must be '.' or ','; received: {decimal!r}", "decimal")
    if decimal == delimiter:
        raise SpecError(f"decimal and delimiter cannot both be {decimal!r}", "decimal")
    try:
        with path.open(encoding=encoding, newline="") as handle:
            frame = _parse_csv(handle, path, delimiter, decimal)
    except UnicodeDecodeError:
        raise DataError(
            f"{path} is not valid {encoding} text; pass the file's encoding, e.g. "
            "encoding='cp1252' for a Windows export",
            str(path),
        ) from None
    frame.attrs = {
        "format": "csv",
        "delimiter": delimiter,
        "decimal": decimal,
        "encoding": encoding,
        "notes": notes,
    }
    return frame


def _detect_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        start = handle.read(4)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text" export
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(_SNIFF_BYTES):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"  # decodes any bytes


def _sniff_delimiter(sample: str) -> str:
    """The candidate that splits the header into most columns and most rows alike."""
    best, best_score = ",", (0.0, 1)
    for candidate in DELIMITERS:
        records = csv.reader(sample.splitlines()[:_SNIFF_LINES], delimiter=candidate)
        counts = [len(cells) for cells in records if cells]
        if not counts or counts[0] < 2:
            continue
        data = counts[1:] or counts
        score = (sum(count == counts[0] for count in data) / len(data), counts[0])
        if score > best_score:
            best, best_score = candidate, score
    return best


def _check_delimiter(delimiter: str) -> str:
    delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise SpecError(
            f"delimiter must be one character such as , ; | or a tab; received: {delimiter!r}",
            "delimiter",
        )
    return delimiter


def _sniff_decimal(sample: str, delimiter: str) -> str:
    if delimiter == ",":
        return "."
    rows = list(csv.reader(sample.splitlines()[:_SNIFF_LINES], delimiter=delimiter))[1:]
    cells = [cell.strip() for row in rows for cell in row]
    comma = sum(bool(_COMMA_DECIMAL.fullmatch(cell)) for cell in cells)
    dot = sum(bool(_DOT_DECIMAL.fullmatch(cell)) for cell in cells)
    return "," if comma > dot else "."


def _parse_csv(handle: Iterable[str], path: Path, delimiter: str, decimal: str) -> pd.DataFrame:
    reader = csv.reader(handle, delimiter=delimiter)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    frames: list[pd.DataFrame] = []
    previous = 0  # the reader's line count after the previous record
    try:
        for cells in reader:
            line, previous = previous + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, and Excel's rows of empty cells
            if header is None and delimiter.join(cells).lower() == f"sep={delimiter}":
                continue
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
    except csv.Error as error:
        raise DataError(
            f"{path} is not a readable CSV file: {error}", f"{path}:{reader.line_num}"
        ) from None
    if header is None:
        raise DataError(_empty_message(path), str(path))
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


def _check_names(names: list[str], path: Path) -> None:
    if len(names) > MAX_TABLE_COLUMNS:
        raise DataError(
            f"{path} has {len(names)} columns; tables with more than {MAX_TABLE_COLUMNS} "
            "are refused",
            str(path),
        )
    seen: dict[str, list[int]] = {}
    for position, name in enumerate(names, start=1):
        seen.setdefault(name, []).append(position)
    twice = {name: positions for name, positions in seen.items() if len(positions) > 1}
    if twice:
        shown = "; ".join(
            f"{name!r} in columns {', '.join(map(str, positions))}"
            for name, positions in twice.items()
        )
        raise DataError(
            f"{path} names a column more than once: {shown}; give each column its own name",
            str(path),
        )


def _parse_rows(rows: list[list[str]], width: int, decimal: str) -> pd.DataFrame:
    grid = np.array(rows, dtype=object).reshape(len(rows), width)  # (N, W) of str
    return pd.DataFrame({c: _parse_text(grid[:, c], decimal) for c in range(width)})


def _parse_text(cells: Sequence[str], decimal: str) -> np.ndarray:
    """Numbers as floats, missing markers as NaN, other text stripped; float64 if no text."""
    if decimal == ",":  # a "." is then no decimal mark: such cells stay text
        cells_for_numbers = ["x" if "." in cell else cell.replace(",", ".") for cell in cells]
    else:
        cells_for_numbers = cells  # "1,5" is no number to pandas either
    numbers = pd.to_numeric(np.array(cells_for_numbers, dtype=object), errors="coerce")
    numbers = np.asarray(numbers, dtype=np.float64)  # (N,); pandas skips surrounding spaces
    other = np.flatnonzero(~np.isfinite(numbers))
    text = [cells[i].strip() for i in other]
    missing = [cell.lower() in _MISSING for cell in text]
    numbers[other] = np.nan
    if all(missing):
        return numbers
    values = numbers.astype(object)
    for i, cell, is_missing in zip(other, text, missing, strict=True):
        if not is_missing:
            values[i] = cell
    return values


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


def _empty_message(path: Path) -> str:
    return f"{path} is empty; expected a header line naming the columns, then one line per sample"


# --- encoding columns as features ---------------------------------------------------


@dataclass
class ColumnEncoding:
    """How one input column becomes features.

    Args:
        name: The column's name in the file.
        kind: "numeric" (one feature) or "categorical" (one-hot, a feature per category).
        categories: Categorical only: the category names, in feature order.
        fill: The value for a missing cell, a number or a category; None when a missing
            cell is an error.
    """

    name: str
    kind: Literal["numeric", "categorical"]
    categories: list[str] = field(default_factory=list)
    fill: float | str | None = None

    @property
    def feature_names(self) -> list[str]:
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}={category}" for category in self.categories]


@dataclass
class TableEncoding:
    """The recipe that turns raw table columns into float features, kept with the model.

    A category not seen in training is an error at prediction, naming the row and
    column, rather than a row of zeros: the model has never seen such input, and a
    typo ("rto" for "rot") should not pass silently.

    Args:
        columns: The input columns, in the order their features appear.
        impute: The strategy that chose the fill values: None, "mean", "median" or
            "most_frequent" (categories always take the most frequent).
    """

    columns: list[ColumnEncoding]
    impute: str | None = None

    @property
    def feature_names(self) -> list[str]:
        """One name per feature, e.g. ["Druck", "Farbe=blau", "Farbe=rot"]."""
        return [name for column in self.columns for name in column.feature_names]

    @property
    def input_columns(self) -> list[str]:
        return [column.name for column in self.columns]

    @classmethod
    def fit(
        cls,
        df: pd.DataFrame,
        target: str | None = None,
        categorical: Iterable[str] | None = None,
        impute: str | None = None,
        *,
        source: str | None = None,
    ) -> TableEncoding:
        """Learn the encoding of every column but `target` from a table.

        A column is categorical when listed in `categorical`, or when most of its
        filled cells are text; numeric otherwise (its text cells are then errors in
        `transform`). Categories sort naturally, numbers by value. `source` names the
        file in errors.

        Raises:
            SpecError: `impute` is not a known strategy.
            DataError: A named column is missing, a column holds no values, holds
                values that cannot be encoded (dates), or has over MAX_CATEGORIES
                categories.
        """
        _check_impute(impute)
        names = list(df.columns)
        if target is not None and target not in names:
            raise _unknown_column(target, names, "target")
        listed = [categorical] if isinstance(categorical, str) else list(categorical or [])
        for name in listed:
            if name not in names or name == target:
                raise _unknown_column(name, [n for n in names if n != target], "categorical")
        inputs = [name for name in names if name != target]
        if not inputs:
            raise DataError(f"the table has no columns besides the target {target!r}", source)
        return cls(
            [_fit_column(df[name], name, name in listed, impute, source) for name in inputs],
            impute,
        )

    def transform(self, df: pd.DataFrame, source: str | None = None) -> np.ndarray:
        """Encode a table's rows as float32 features of shape (N, F).

        Args:
            df: A table as `read_table_file` returns it, numbers parsed and row numbers
                in the index (which errors cite); extra columns are ignored.
            source: The file it came from, for the `where` of errors.

        Raises:
            DataError: A column is missing, a numeric cell holds text, a category was
                not seen in training, or cells are missing without a fill value.
        """
        absent = [name for name in self.input_columns if name not in df.columns]
        if absent:
            raise DataError(
                f"missing column{'s' if len(absent) > 1 else ''} "
                f"{', '.join(map(repr, absent))}; the table has "
                f"{', '.join(map(str, df.columns)) or 'no columns'}; the model takes "
                f"{', '.join(self.input_columns)}",
                source,
            )
        rows = df.index.to_numpy()
        blocks: list[np.ndarray] = []
        gaps: dict[str, np.ndarray] = {}
        for column in self.columns:
            series = df[column.name]
            if isinstance(series, pd.DataFrame):
                raise DataError(f"the table has more than one column {column.name!r}", source)
            if column.kind == "numeric":
                block, missing = _encode_numbers(column, series, rows, source)  # (N, 1)
            else:
                block, missing = _encode_categories(column, series, rows, source)  # (N, K)
            if missing.any():
                gaps[column.name] = missing
            blocks.append(block)
        if gaps:
            raise _gaps_error(gaps, rows, source)
        if not blocks:
            return np.zeros((len(df), 0), dtype=np.float32)
        return np.concatenate(blocks, axis=1)  # (N, F)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form, read back by `from_dict`."""
        return {
            "schema_version": ENCODING_SCHEMA_VERSION,
            "impute": self.impute,
            "columns": [
                {
                    "name": column.name,
                    "kind": column.kind,
                    "categories": list(column.categories),
                    "fill": column.fill,
                }
                for column in self.columns
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableEncoding:
        """Rebuild an encoding from `to_dict` output; anything unexpected is an error."""
        where = "table encoding"
        if not isinstance(data, dict):
            raise DataError(f"expected a dict; received: {type(data).__name__}", where)
        _check_keys(data, {"schema_version", "impute", "columns"}, where)
        if data["schema_version"] != ENCODING_SCHEMA_VERSION:
            raise DataError(
                f"schema_version {data['schema_version']!r} is not supported; "
                f"expected {ENCODING_SCHEMA_VERSION}",
                where,
            )
        if data["impute"] is not None and data["impute"] not in IMPUTE_STRATEGIES:
            raise DataError(f"unknown impute strategy {data['impute']!r}", where)
        if not isinstance(data["columns"], list):
            raise DataError("columns must be a list", where)
        columns = []
        for entry in data["columns"]:
            if not isinstance(entry, dict):
                raise DataError(f"expected a dict per column; received: {entry!r}", where)
            _check_keys(entry, {"name", "kind", "categories", "fill"}, where)
            if not isinstance(entry["categories"], list) or not all(
                isinstance(category, str) for category in entry["categories"]
            ):
                raise DataError(f"column {entry['name']!r}: categories must be strings", where)
            column = ColumnEncoding(
                str(entry["name"]), entry["kind"], list(entry["categories"]), entry["fill"]
            )
            _check_column(column, where)
            columns.append(column)
        _check_names([column.name for column in columns], Path(where))
        return cls(columns, data["impute"])


def _check_impute(impute: str | None) -> None:
    if impute is not None and impute not in IMPUTE_STRATEGIES:
        raise SpecError(
            f"impute must be None or one of {', '.join(IMPUTE_STRATEGIES)}; received: {impute!r}",
            "impute",
        )


def _fit_column(
    series: pd.Series, name: str, categorical: bool, impute: str | None, source: str | None
) -> ColumnEncoding:
    numbers, is_number, missing = _split_cells(series)
    if not categorical:
        categorical = _holds_text(series, name, is_number, missing, source)
    if missing.all():
        raise DataError(f"column {name!r} is empty in every row; drop it", source)
    if not categorical:
        present = numbers[is_number]  # (M,)
        if not len(present):
            raise DataError(f"column {name!r} holds no numbers; drop it", source)
        fill = None if impute is None else _numeric_fill(present, impute)
        return ColumnEncoding(name, "numeric", fill=fill)
    keys = _category_keys(series)
    counts = keys.value_counts()  # missing cells are not counted
    if len(counts) > MAX_CATEGORIES:
        raise DataError(
            f"column {name!r} has {len(counts)} distinct values, more than the "
            f"{MAX_CATEGORIES} categories a column may have; it is probably an id or "
            f"free-text column: drop it (drop=[{name!r}])",
            source,
        )
    categories = sorted(counts.index, key=_natural_key)
    fill = None
    if impute is not None:
        fill = max(categories, key=lambda category: counts[category])  # ties: the first
    return ColumnEncoding(name, "categorical", categories, fill)


def _holds_text(
    series: pd.Series, name: str, is_number: np.ndarray, missing: np.ndarray, source: str | None
) -> bool:
    dtype = series.dtype
    if pd.api.types.is_numeric_dtype(dtype):
        return False
    if not (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    ):
        raise DataError(
            f"column {name!r} holds {dtype} values, which cannot be encoded as features; "
            "drop it, or convert it to numbers or text",
            source,
        )
    text = int((~is_number & ~missing).sum())
    return text >= int(is_number.sum())  # a few stray words in a numeric column are errors


def _numeric_fill(present: np.ndarray, impute: str) -> float:
    if impute == "mean":
        return float(present.mean())
    if impute == "median":
        return float(np.median(present))
    values, counts = np.unique(present, return_counts=True)
    return float(values[np.argmax(counts)])  # ties: the smallest value


def _split_cells(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N,) float values (NaN where not a number), (N,) is-a-number and (N,) is-missing."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(values)
        return values, np.isfinite(values), missing
    objects = series.to_numpy(dtype=object)
    missing = np.asarray(pd.isna(objects), dtype=bool)
    values = np.full(len(objects), np.nan)
    for i, value in enumerate(objects):
        if not missing[i] and isinstance(value, (int, float, np.number, np.bool_)):
            values[i] = float(value)
    return values, np.isfinite(values), missing


def _category_keys(series: pd.Series) -> pd.Series:
    """Each cell's category name; NaN where missing. 1, 1.0 and "1" all name "1"."""
    values = pd.Series(series.to_numpy(dtype=object), index=series.index, dtype=object)
    present = values.notna()
    lookup = {value: _category_key(value) for value in values[present].unique()}
    return values[present].map(lookup).reindex(values.index)


def _category_key(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _natural_key(name: str) -> tuple:
    """Numbers by value first, then text with its digit runs compared as numbers."""
    try:
        return (0, float(name), (), name)
    except ValueError:
        parts = re.split(r"(\d+)", name.casefold())
        natural = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)
        return (1, 0.0, natural, name)


def _encode_numbers(
    column: ColumnEncoding, series: pd.Series, rows: np.ndarray, source: str | None
) -> tuple[np.ndarray, np.ndarray]:
    values, is_number, missing = _split_cells(series)
    bad = ~is_number & ~missing
    if bad.any():
        first = int(np.argmax(bad))
        cell = series.iloc[first]
        more = f" ({int(bad.sum())} such cells in all)" if bad.sum() > 1 else ""
        hint = ""
        if isinstance(cell, str) and re.fullmatch(r"[+-]?\d*[.,]\d+", cell):
            mark = "," if "," in cell else "."
            hint = f"; if the file writes decimals like this, pass decimal={mark!r}"
        raise DataError(
            f"column {column.name!r}: {_show(cell)} is not a number{more}; correct the "
            f"cell, or list {column.name!r} as categorical if it holds categories{hint}",
            _where(source, rows[first]),
        )
    if column.fill is not None:
        values = np.where(missing, float(column.fill), values)
        missing = np.zeros_like(missing)
    return values.astype(np.float32)[:, None], missing  # (N, 1)


def _encode_categories(
    column: ColumnEncoding, series: pd.Series, rows: np.ndarray, source: str | None
) -> tuple[np.ndarray, np.ndarray]:
    keys = _category_keys(series)
    missing = keys.isna().to_numpy()
    index = {category: i for i, category in enumerate(column.categories)}
    codes = keys.map(index).to_numpy(dtype=np.float64)  # NaN: missing or unknown
    unknown = ~missing & np.isnan(codes)
    if unknown.any():
        first = int(np.argmax(unknown))
        known = ", ".join(column.categories[:_SHOWN])
        if len(column.categories) > _SHOWN:
            known += f", … ({len(column.categories)} in all)"
        raise DataError(
            f"column {column.name!r}: {_show(keys.iloc[first])} is not a category the model "
            f"was trained on ({known}); correct the cell, or retrain with data that "
            "includes it",
            _where(source, rows[first]),
        )
    if column.fill is not None:
        codes[missing] = index[str(column.fill)]
        missing = np.zeros_like(missing)
    one_hot = np.zeros((len(codes), len(column.categories)), dtype=np.float32)  # (N, K)
    filled = np.flatnonzero(~missing)
    one_hot[filled, codes[filled].astype(np.int64)] = 1.0
    return one_hot, missing


def _gaps_error(gaps: dict[str, np.ndarray], rows: np.ndarray, source: str | None) -> DataError:
    any_gap = np.logical_or.reduce(list(gaps.values()))
    columns = ", ".join(f"{name!r} ({int(mask.sum())})" for name, mask in gaps.items())
    count = int(any_gap.sum())
    return DataError(
        f"{count} row{'s' if count > 1 else ''} with missing values: "
        f"{_rows(rows[any_gap])}; in columns {columns}; fill or delete them, or train "
        f"with impute='mean' (or 'median', 'most_frequent')",
        _where(source, rows[any_gap][0]),
    )


def _check_column(column: ColumnEncoding, where: str) -> None:
    if column.kind not in ("numeric", "categorical"):
        raise DataError(f"column {column.name!r}: unknown kind {column.kind!r}", where)
    if column.kind == "numeric":
        if column.categories:
            raise DataError(f"numeric column {column.name!r} has categories", where)
        if column.fill is not None and not isinstance(column.fill, (int, float)):
            raise DataError(f"column {column.name!r}: fill must be a number", where)
        return
    if not column.categories or len(set(column.categories)) != len(column.categories):
        raise DataError(f"column {column.name!r}: categories must be distinct, not empty", where)
    if column.fill is not None and column.fill not in column.categories:
        raise DataError(f"column {column.name!r}: fill {column.fill!r} is no category", where)


def _check_keys(data: dict[str, Any], expected: set[str], where: str) -> None:
    unknown, absent = set(data) - expected, expected - set(data)
    if unknown or absent:
        raise DataError(
            f"unknown keys {sorted(unknown)}, missing keys {sorted(absent)}; "
            f"expected {sorted(expected)}",
            where,
        )


def _unknown_column(name: str, names: list[str], option: str) -> DataError:
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return DataError(
        f"{option}: no column {name!r}; the table has {', '.join(names) or 'no columns'}{hint}",
        option,
    )


def _where(source: str | None, row: Any) -> str:
    return f"{source}:{row}" if source else f"row {row}"


def _rows(rows: np.ndarray) -> str:
    shown = ", ".join(str(row) for row in rows[:_SHOWN])
    return f"row{'s' if len(rows) > 1 else ''} {shown}{', …' if len(rows) > _SHOWN else ''}"


def _show(cell: Any) -> str:
    text = repr(cell)
    return text if len(text) <= 40 else text[:37] + "…'"


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
    return TableData(x, y, task, classes, encoding.feature_names, encoding, target, notes)


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


def _encode_target(
    series: pd.Series, name: str, task: str | None, source: str
) -> tuple[np.ndarray, list[str], Task, str | None]:
    rows = series.index.to_numpy()
    values, is_number, missing = _split_cells(series)
    if missing.any():
        raise DataError(
            f"the target {name!r} is missing in {int(missing.sum())} "
            f"{_rows(rows[missing])}; fill or delete those rows",
            _where(source, rows[missing][0]),
        )
    note = None
    if task is None:
        task, reason = _infer_task(values, is_number, name)
        other = "regression" if task == "classification" else "classification"
        note = f"task: {task}, as {reason}; pass task={other!r} to change it"
    if task == "regression":
        if not is_number.all():
            first = int(np.argmax(~is_number))
            raise DataError(
                f"the target {name!r} holds {_show(series.iloc[first])}, which is not a "
                "number; regression needs numbers: correct the cell, or use "
                "task='classification'",
                _where(source, rows[first]),
            )
        return values.astype(np.float32), [], "regression", note
    keys = _category_keys(series)
    classes = sorted(keys.unique(), key=_natural_key)
    if len(classes) < 2:
        raise DataError(
            f"the target {name!r} holds one class only ({classes[0]!r}); "
            "classification needs two or more",
            source,
        )
    if len(classes) > MAX_CATEGORIES:
        raise DataError(
            f"the target {name!r} has {len(classes)} classes, more than {MAX_CATEGORIES}; "
            "if it is a quantity, fix its text cells and use task='regression'",
            source,
        )
    y = keys.map({c: i for i, c in enumerate(classes)}).to_numpy(dtype=np.int64)
    return y, classes, "classification", note


def _infer_task(values: np.ndarray, is_number: np.ndarray, name: str) -> tuple[Task, str]:
    if not is_number.all():
        return "classification", f"the target {name!r} holds text"
    distinct = len(np.unique(values))
    if np.all(values == np.round(values)) and (
        distinct <= 2 or (distinct <= MAX_CLASS_VALUES and distinct * 5 <= len(values))
    ):
        return "classification", f"the target {name!r} holds {distinct} distinct whole numbers"
    return "regression", f"the target {name!r} holds numbers"
