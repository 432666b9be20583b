"""Sequences from files: UCR/UEA `.ts`, wide and long CSV, and the vendored UCR sets.

numpy in, numpy out. A `SequenceSet` keeps one (C, T_i) float32 array per series, so
series may differ in length; `to_array` makes the (N, C, T) block a model takes. Every
reader error is a `DataError` whose `where` names the file and line ("X_TRAIN.ts:17").
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

from lernwerk.data.dataset import Task
from lernwerk.errors import DataError, NotFound, SpecError

Layout = Literal["wide", "long"]
LengthPolicy = Literal["error", "pad", "resample"]

_LABEL_COLUMNS = ("label", "class", "target")
_ID_COLUMNS = ("series_id", "id", "series")
_TIME_COLUMNS = ("time", "t", "step", "timestamp")
_MISSING = {"", "?", "na", "n/a", "nan", "null"}  # CSV cells read as a missing value
_MAX_INFERRED_CLASSES = 20  # numeric labels: at most this many distinct integers = classes


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


# ---------------------------------------------------------------- .ts (UCR / UEA)


def read_ts(path: str | Path) -> SequenceSet:
    """Read a UCR/UEA `.ts` file (or `.ts.gz`): univariate or multivariate, equal or not.

    Trailing missing values (`?`, NaN) end a series, as in the padded UCR files; missing
    values inside a series stay NaN, and `to_array` refuses them.

    Raises:
        NotFound: The file does not exist.
        DataError: A malformed header or data line, named by its 1-based line number.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"Expected a .ts file; received {path}, which does not exist", str(path))
    return _parse_ts(_decode(path.read_bytes(), path.name), path.name, str(path))


def read_ts_pair(train_path: str | Path) -> tuple[SequenceSet, SequenceSet | None]:
    """Read `X_TRAIN.ts` and the `X_TEST.ts` (or `.ts.gz`) beside it, if there is one.

    The test set takes the training set's class order, so class indices agree.

    Returns:
        (train, test); test is None when the name does not end in `_TRAIN.ts[.gz]` or no
        test file lies beside it.

    Raises:
        DataError: Either file is malformed, or the two differ in channels or task, or the
            test set has a label the training set lacks.
    """
    path = Path(train_path)
    train = read_ts(path)
    match = re.fullmatch(r"(.+)_(train)(\.ts(?:\.gz)?)", path.name, flags=re.IGNORECASE)
    if match is None:
        return train, None
    stem, tag, suffix = match.groups()
    test_tag = "test" if tag.islower() else "TEST"
    for candidate in dict.fromkeys((suffix, ".ts", ".ts.gz")):
        test_path = path.with_name(f"{stem}_{test_tag}{candidate}")
        if test_path.is_file():
            return train, _match_pair(train, read_ts(test_path), test_path.name)
    return train, None


def _parse_ts(text: str, name: str, source: str) -> SequenceSet:
    lines = text.splitlines()
    header: dict[str, tuple[list[str], int, str]] = {}  # key -> (values, line, tag as written)
    comments: list[str] = []
    data_start = None
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if line.startswith("#"):
            comments.append(line[1:].strip())
        if not line or line.startswith("#"):
            continue
        if not line.startswith("@"):
            raise DataError(
                f"Expected a header line (@tag value) or @data before the series; received "
                f"{_clip(line)!r}; add the '@data' line above the first series",
                f"{name}:{number}",
            )
        tag, *values = line.split()
        if tag.lower() == "@data":
            if values:
                raise DataError(f"Expected '@data' alone; received {line!r}", f"{name}:{number}")
            data_start = number
            break
        header[tag[1:].lower()] = (values, number, tag)
    if data_start is None:
        raise DataError(
            f"Expected a '@data' line after the header; received none in {len(lines)} lines",
            name,
        )

    def flag(key: str, default: bool) -> bool:
        if key not in header:
            return default
        values, number, tag = header[key]
        if not values or values[0].lower() not in ("true", "false"):
            raise DataError(
                f"Expected '{tag} true' or '{tag} false'; received {' '.join(values)!r}",
                f"{name}:{number}",
            )
        return values[0].lower() == "true"

    def integer(key: str) -> int | None:
        if key not in header:
            return None
        values, number, tag = header[key]
        if len(values) != 1 or not values[0].isdigit() or int(values[0]) < 1:
            raise DataError(
                f"Expected '{tag}' with a positive whole number; received {' '.join(values)!r}",
                f"{name}:{number}",
            )
        return int(values[0])

    if flag("timestamps", False):
        raise DataError(
            "Expected series without timestamps; received '@timeStamps true', which "
            "lernwerk does not read; write the values as equally spaced steps",
            f"{name}:{header['timestamps'][1]}",
        )
    has_classes, is_regression = flag("classlabel", False), flag("targetlabel", False)
    if has_classes and is_regression:
        raise DataError(
            "Expected either '@classLabel true' or '@targetLabel true'; received both",
            f"{name}:{header['targetlabel'][1]}",
        )
    classes = header["classlabel"][0][1:] if has_classes else []
    if has_classes and not classes:
        raise DataError(
            "Expected class names after '@classLabel true'; received none, e.g. "
            "'@classLabel true walk run'",
            f"{name}:{header['classlabel'][1]}",
        )
    channels = integer("dimensions") or (1 if flag("univariate", False) else None)
    series_length = integer("serieslength") if flag("equallength", False) else None
    has_label = has_classes or is_regression

    series: list[np.ndarray] = []
    labels: list[str] = []
    ids: list[str] = []
    for number in range(data_start + 1, len(lines) + 1):
        line = lines[number - 1].strip()
        if not line or line.startswith("#"):
            continue
        where = f"{name}:{number}"
        if "(" in line:
            raise DataError(
                "Expected comma-separated values; received timestamped '(t,v)' pairs, which "
                "lernwerk does not read; write the values as equally spaced steps",
                where,
            )
        parts = line.split(":")
        if channels is None:
            channels = len(parts) - has_label
            if channels < 1:
                raise DataError(
                    f"Expected channel values, then ':' and the label; received {_clip(line)!r}",
                    where,
                )
        if len(parts) != channels + has_label:
            what = f"{channels} channel(s)" + (" and the label last" if has_label else "")
            raise DataError(
                f"Expected {channels + has_label} ':'-separated parts ({what}); "
                f"received {len(parts)}",
                where,
            )
        if has_label:
            labels.append(_ts_label(parts[-1].strip(), classes, is_regression, where))
        rows = [_ts_values(part, c, where) for c, part in enumerate(parts[:channels])]
        for c, row in enumerate(rows):
            expected = series_length or len(rows[0])
            if len(row) != expected:
                reason = f"@seriesLength {series_length}" if series_length else "as channel 0"
                raise DataError(
                    f"channel {c}: Expected {expected} values ({reason}); received {len(row)}",
                    where,
                )
        series.append(_trim_missing_end(np.stack(rows), where))  # (C, T_i)
        ids.append(where)
    if not series:
        raise DataError("Expected series after '@data'; received none", f"{name}:{data_start}")
    lengths = {s.shape[1] for s in series}
    problem = " ".join(header["problemname"][0]) if "problemname" in header else name.split(".")[0]
    return SequenceSet(
        series=series,
        labels=(np.array(labels, np.float32) if is_regression else labels) if has_label else None,
        task="regression" if is_regression else "classification",
        classes=list(classes),
        channel_names=[f"dim_{c}" for c in range(channels)],
        series_ids=ids,
        meta={
            "problem_name": problem,
            "source": source,
            "format": "ts",
            "equal_length": len(lengths) == 1,
            "min_length": min(lengths),
            "max_length": max(lengths),
            "declared_missing": flag("missing", False),
            "comments": "\n".join(comments).strip(),
        },
    )


def _ts_label(label: str, classes: list[str], is_regression: bool, where: str) -> Any:
    if is_regression:
        try:
            value = float(label)
        except ValueError:
            value = float("nan")
        if not math.isfinite(value):
            raise DataError(
                f"Expected a finite number as the target last (@targetLabel true); received {_clip(label)!r}",
                where,
            )
        return value
    if label not in classes:
        raise DataError(
            f"Expected a class label among the @classLabel values {' '.join(classes)}; "
            f"received {_clip(label)!r}; fix the label or add it to the @classLabel line",
            where,
        )
    return label


def _ts_values(text: str, channel: int, where: str) -> np.ndarray:
    tokens = text.split(",")
    try:
        return np.array([t.replace("?", "nan") for t in tokens], dtype=np.float64)
    except ValueError:
        pass
    values = []
    for i, token in enumerate(tokens):  # the slow path finds the culprit
        try:
            values.append(float(token.replace("?", "nan")))
        except ValueError:
            shown = repr(_clip(token.strip())) if token.strip() else "an empty value"
            raise DataError(
                f"channel {channel}, value {i + 1}: Expected a number or '?'; received {shown}",
                where,
            ) from None
    return np.array(values)


# ---------------------------------------------------------------- CSV


def read_sequence_csv(
    path: str | Path,
    layout: Layout,
    target: str | None = None,
    *,
    task: Task | None = None,
    series_id: str | None = None,
    time: str | None = None,
    channels: list[str] | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
) -> SequenceSet:
    """Read sequences from a CSV file, one series per row (wide) or per id (long).

    wide: a label column, an optional `series_id`/`id` column, every other column one time
    step in column order; empty trailing cells end a shorter series. long: a series id
    column, an optional time column (rows sorted by it within a series), a label column
    constant within a series, and one column per channel.

    Args:
        path: The file; UTF-8 with or without BOM, optionally gzip-compressed.
        layout: "wide" or "long".
        target: The label column; default the first named label, class or target.
        task: Default: classification when a label is not a number or the labels are at
            most 20 distinct integers, else regression.
        series_id: long: the id column; default series_id, id or series.
        time: long: the time column; default time, t, step or timestamp, else file order.
        channels: long: the value columns; default all the others.
        delimiter: Default: ';', tab or ',', whichever the header line has most of.
        decimal: Default: ',' in a ';' file that has a cell like "1,5", else '.'.

    Raises:
        NotFound: The file does not exist.
        DataError: A missing column, text in a numeric cell (named by line and column), a
            label that changes within a series, ...
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"Expected a CSV file; received {path}, which does not exist", str(path))
    if layout not in ("wide", "long"):
        raise SpecError(f"Expected layout 'wide' or 'long'; received {layout!r}", "layout")
    if task not in (None, "classification", "regression"):
        raise SpecError(f"Expected task classification or regression; received {task!r}", "task")
    table = _CsvTable.read(path, delimiter, decimal)
    label_column = table.find(target, _LABEL_COLUMNS, "label", "target")
    if layout == "wide":
        id_column = table.find(series_id, _ID_COLUMNS, None, "series_id")
        steps = [c for c in table.header if c not in (label_column, id_column)]
        if not steps:
            raise DataError(
                "Expected time-step columns besides the label; received none", path.name
            )
        series, ids, raw_labels, channel_names = [], [], [], ["value"]
        for number, row in table.rows:
            where = f"{path.name}:{number}"
            values = [table.number(row[c], c, where) for c in steps]
            series.append(_trim_missing_end(np.array([values]), where))  # (1, T_i)
            ids.append(row[id_column] if id_column else where)
            raw_labels.append((row[label_column], where))
    else:
        id_column = table.find(series_id, _ID_COLUMNS, "series id", "series_id")
        time_column = table.find(time, _TIME_COLUMNS, None, "time")
        used = (id_column, time_column, label_column)
        channel_names = channels or [c for c in table.header if c not in used]
        for name in channel_names:
            table.find(name, (), "channel", "channels")
        if not channel_names:
            raise DataError(
                "Expected value columns besides id, time and label; received none", path.name
            )
        series, ids, raw_labels = _long_series(
            table, id_column, time_column, label_column, channel_names
        )
    labels, task, classes = _labels(raw_labels, task, table.decimal, label_column)
    lengths = {s.shape[1] for s in series}
    return SequenceSet(
        series=series,
        labels=labels,
        task=task,
        classes=classes,
        channel_names=list(channel_names),
        series_ids=ids,
        meta={
            "problem_name": path.name.split(".")[0],
            "source": str(path),
            "format": f"csv-{layout}",
            "equal_length": len(lengths) == 1,
            "min_length": min(lengths),
            "max_length": max(lengths),
            "label_column": label_column,
            "delimiter": table.delimiter,
            "decimal": table.decimal,
        },
    )


@dataclass
class _CsvTable:
    name: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (1-based line number, column -> cell)
    delimiter: str
    decimal: str

    @classmethod
    def read(cls, path: Path, delimiter: str | None, decimal: str | None) -> _CsvTable:
        text = _decode(path.read_bytes(), path.name)
        first = next((line for line in text.splitlines() if line.strip()), "")
        if delimiter is None:
            delimiter = max((";", "\t", ","), key=lambda d: (first.count(d), d == ","))
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header: list[str] | None = None
        rows: list[tuple[int, dict[str, str]]] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            cells = [cell.strip() for cell in cells]
            if header is None:
                while cells and not cells[-1]:  # a trailing delimiter names no column
                    cells.pop()
                header = cells
                repeated = {c for c in header if header.count(c) > 1 or not c}
                if repeated:
                    raise DataError(
                        f"Expected unique, non-empty column names; received {sorted(repeated)}",
                        f"{path.name}:{reader.line_num}",
                    )
                continue
            if len(cells) > len(header) and any(cells[len(header) :]):
                raise DataError(
                    f"Expected at most {len(header)} cells like the header; received {len(cells)}",
                    f"{path.name}:{reader.line_num}",
                )
            cells += [""] * (len(header) - len(cells))
            rows.append((reader.line_num, dict(zip(header, cells, strict=False))))
        if header is None or not rows:
            raise DataError("Expected a header line and at least one row; received none", path.name)
        if decimal is None:
            comma = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
            decimal = "."
            if delimiter == ";" and any(comma.fullmatch(v) for _, r in rows for v in r.values()):
                decimal = ","
        return cls(path.name, header, rows, delimiter, decimal)

    def find(self, given: str | None, defaults: tuple[str, ...], role: str | None, arg: str) -> Any:
        """The column `given`, else the first of `defaults`; None when optional (no role)."""
        if given is not None:
            if given not in self.header:
                raise DataError(
                    f"Expected a column named {given!r}; received columns {self.header}", self.name
                )
            return given
        lowered = {c.lower(): c for c in self.header}
        found = next((lowered[d] for d in defaults if d in lowered), None)
        if found is None and role is not None:
            raise DataError(
                f"Expected a {role} column named {' or '.join(defaults)}; received columns "
                f"{self.header}; name it with {arg}=...",
                self.name,
            )
        return found

    def number(self, cell: str, column: str, where: str) -> float:
        if cell.lower() in _MISSING:
            return float("nan")
        try:
            return float(cell.replace(",", ".") if self.decimal == "," else cell)
        except ValueError:
            raise DataError(
                f"column {column!r}: Expected a number; received {_clip(cell)!r}",
                where,
            ) from None


def _long_series(
    table: _CsvTable,
    id_column: str,
    time_column: str | None,
    label_column: str,
    channels: list[str],
) -> tuple[list[np.ndarray], list[str], list[tuple[str, str]]]:
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in table.rows:
        if not row[id_column]:
            raise DataError(
                f"Expected a series id in column {id_column!r}; received an empty cell",
                f"{table.name}:{number}",
            )
        groups.setdefault(row[id_column], []).append((number, row))
    series, raw_labels = [], []
    for sid, rows in groups.items():
        first_line, first = rows[0]
        for number, row in rows[1:]:
            if row[label_column] != first[label_column]:
                raise DataError(
                    f"series {sid!r}: Expected one label per series; received "
                    f"{first[label_column]!r} (line {first_line}) and {row[label_column]!r} "
                    f"(line {number})",
                    f"{table.name}:{number}",
                )
        if time_column is not None:
            rows = _sort_by_time(table, rows, time_column, sid)
        values = [
            [table.number(row[c], c, f"{table.name}:{n}") for c in channels] for n, row in rows
        ]
        where = f"series {sid!r} ({table.name}:{first_line})"
        series.append(_trim_missing_end(np.array(values).T, where))  # (C, T_i)
        raw_labels.append((first[label_column], f"{table.name}:{first_line}"))
    return series, list(groups), raw_labels


def _sort_by_time(
    table: _CsvTable, rows: list[tuple[int, dict[str, str]]], column: str, sid: str
) -> list[tuple[int, dict[str, str]]]:
    keys: list[Any] = []
    for number, row in rows:
        key = _time_key(row[column], table.decimal)
        if key is None:
            raise DataError(
                f"column {column!r}: Expected a number or an ISO date/time; "
                f"received {_clip(row[column])!r}",
                f"{table.name}:{number}",
            )
        keys.append(key)
    try:
        order = sorted(range(len(rows)), key=keys.__getitem__)
    except TypeError:  # numbers and dates, or naive and zoned dates, in one series
        raise DataError(
            f"series {sid!r}: Expected times all numbers or all dates in column {column!r}",
            f"{table.name}:{rows[0][0]}",
        ) from None
    for a, b in zip(order, order[1:], strict=False):
        if keys[a] == keys[b]:
            raise DataError(
                f"series {sid!r}: Expected one row per time; received time "
                f"{rows[b][1][column]!r} on lines {rows[a][0]} and {rows[b][0]}",
                f"{table.name}:{rows[b][0]}",
            )
    return [rows[i] for i in order]


def _time_key(cell: str, decimal: str) -> float | datetime | None:
    try:
        value = float(cell.replace(",", ".") if decimal == "," else cell)
        return value if math.isfinite(value) else None
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(cell)
    except ValueError:
        return None


def _labels(
    raw: list[tuple[str, str]], task: Task | None, decimal: str, column: str
) -> tuple[list[str] | np.ndarray, Task, list[str]]:
    for label, where in raw:
        if not label:
            raise DataError(f"Expected a label in column {column!r}; received an empty cell", where)
    numbers: list[float | None] = []
    for label, _ in raw:
        try:
            number = float(label.replace(",", ".") if decimal == "," else label)
        except ValueError:
            number = float("nan")
        numbers.append(number if math.isfinite(number) else None)
    if task is None:
        distinct = set(numbers)
        few_integers = len(distinct) <= _MAX_INFERRED_CLASSES and all(
            n is not None and n.is_integer() for n in distinct
        )
        task = "classification" if None in distinct or few_integers else "regression"
    if task == "classification":
        labels = [label for label, _ in raw]
        return labels, task, sorted(set(labels), key=_natural_key)
    for (label, where), number in zip(raw, numbers, strict=True):
        if number is None:
            raise DataError(
                f"column {column!r}: Expected a numeric target (task regression); "
                f"received {_clip(label)!r}",
                where,
            )
    return np.array(numbers, dtype=np.float32), task, []


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


# ---------------------------------------------------------------- vendored UCR sets

_UCR = "Dau et al. (2019), The UCR Time Series Archive, IEEE/CAA J. Autom. Sinica 6(6)"
_UEA = "Bagnall et al. (2018), The UEA multivariate time series classification archive, 2018, arXiv:1811.00075"

UCR_SETS: dict[str, dict[str, Any]] = {
    "GunPoint": {
        "description": "x-coordinate of an actor's hand drawing a gun vs pointing a finger",
        "citation": f"Ratanamahatana & Keogh (2005), Three myths about dynamic time warping data mining, SDM; {_UCR}",
        "channels": 1,
        "lengths": (150, 150),
        "train_size": 50,
        "test_size": 150,
        "classes": ["1", "2"],
    },
    "ItalyPowerDemand": {
        "description": "24 hourly electricity demand values of a day in Italy: Oct-Mar vs Apr-Sep",
        "citation": f"Keogh et al. (2006), Intelligent Icons: integrating lite-weight data mining and visualization into GUI operating systems, ICDM; {_UCR}",
        "channels": 1,
        "lengths": (24, 24),
        "train_size": 67,
        "test_size": 1029,
        "classes": ["1", "2"],
    },
    "BasicMotions": {
        "description": "smart-watch 3D accelerometer and gyroscope, 10 s at 10 Hz: four activities",
        "citation": f"Clements, UEA student project, published in {_UEA}",
        "channels": 6,
        "lengths": (100, 100),
        "train_size": 40,
        "test_size": 40,
        "classes": ["Standing", "Running", "Walking", "Badminton"],
    },
    "PickupGestureWiimoteZ": {
        "description": "Wiimote z-axis acceleration of a pick-up gesture: which of 10 people made it",
        "citation": f"Guna, Humar & Pogačnik (2012), Intuitive gesture based user identification system, TSP; {_UCR}",
        "channels": 1,
        "lengths": (29, 361),
        "train_size": 50,
        "test_size": 50,
        "classes": [str(k) for k in range(1, 11)],
    },
    "JapaneseVowels": {
        "description": "12 LPC cepstrum coefficients of the vowel /ae/: which of 9 male speakers said it",
        "citation": f"Kudo, Toyama & Shimbo (1999), Multidimensional curve classification using passing-through regions, Pattern Recognition Letters 20(11-13); {_UEA}",
        "channels": 12,
        "lengths": (7, 29),
        "train_size": 270,
        "test_size": 370,
        "classes": [str(k) for k in range(1, 10)],
    },
}


def load_ucr(name: str) -> tuple[SequenceSet, SequenceSet]:
    """The vendored UCR/UEA set `name` (see `UCR_SETS`) as (train, test).

    Raises:
        NotFound: No vendored set of that name.
    """
    known = {key.lower(): key for key in UCR_SETS}
    if name.lower() not in known:
        raise NotFound(
            f"Expected one of the vendored UCR sets {', '.join(UCR_SETS)}; received {name!r}",
            "ucr",
        )
    name = known[name.lower()]
    folder = resources.files("lernwerk.data").joinpath("ucr")
    pair = []
    for split in ("TRAIN", "TEST"):
        resource = folder.joinpath(f"{name}_{split}.ts.gz")
        seqset = _parse_ts(
            _decode(resource.read_bytes(), resource.name), resource.name, str(resource)
        )
        seqset.meta.update(ucr=name, description=UCR_SETS[name]["description"])
        pair.append(seqset)
    return pair[0], _match_pair(pair[0], pair[1], pair[1].meta["source"])


# ---------------------------------------------------------------- helpers


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
