"""Reading sequences from CSV files into a `SequenceSet`: one series per row, or per id.

A wide file holds a label column and one column per time step; a long file holds a
series id, an optional time column, a label and one column per channel. Errors name the
file and line ("motion.csv:5") and the column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from lernwerk.data.csv_text import detect_dialect, read_records
from lernwerk.data.dataset import Task
from lernwerk.data.sequences.series import (
    SequenceSet,
    _clip,
    _natural_key,
    _trim_missing_end,
)
from lernwerk.errors import DataError, NotFound, SpecError

Layout = Literal["wide", "long"]

_LABEL_COLUMNS = ("label", "class", "target")
_ID_COLUMNS = ("series_id", "id", "series")
_TIME_COLUMNS = ("time", "t", "step", "timestamp")
_MISSING = {"", "?", "na", "n/a", "nan", "null"}  # CSV cells read as a missing value
_MAX_INFERRED_CLASSES = 20  # numeric labels: at most this many distinct integers = classes


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
        dialect = detect_dialect(path, delimiter, decimal)  # the one CSV reader's
        header: list[str] | None = None
        rows: list[tuple[int, dict[str, str]]] = []
        for line, raw in read_records(path, dialect):
            cells = [cell.strip() for cell in raw]
            if header is None:
                while cells and not cells[-1]:  # a trailing delimiter names no column
                    cells.pop()
                header = cells
                repeated = {c for c in header if header.count(c) > 1 or not c}
                if repeated:
                    raise DataError(
                        f"Expected unique, non-empty column names; received {sorted(repeated)}",
                        f"{path.name}:{line}",
                    )
                continue
            if len(cells) > len(header) and any(cells[len(header) :]):
                raise DataError(
                    f"Expected at most {len(header)} cells like the header; received {len(cells)}",
                    f"{path.name}:{line}",
                )
            cells += [""] * (len(header) - len(cells))
            rows.append((line, dict(zip(header, cells, strict=False))))
        if header is None or not rows:
            raise DataError("Expected a header line and at least one row; received none", path.name)
        return cls(path.name, header, rows, dialect.delimiter, dialect.decimal)

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
