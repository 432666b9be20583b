"""Encoding table columns as float features, and the target column as labels.

A `TableEncoding` turns the raw columns `tables.read_table_file` returns into features
(numbers as they are, categories one-hot, gaps filled if asked) and is stored with the
trained model. `_encode_target` turns the target column into class indices or regression
values, inferring the task when it is not given.

Errors carry the file and row in `where` ("messwerte.csv:14") and name the column in the
message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from lernwerk.data.dataset import Task
from lernwerk.data.tables.cells import (
    _SHOWN,
    _category_keys,
    _check_names,
    _natural_key,
    _rows,
    _show,
    _split_cells,
    _unknown_column,
    _where,
)
from lernwerk.errors import DataError, SpecError

__all__ = ["IMPUTE_STRATEGIES", "MAX_CATEGORIES", "ColumnEncoding", "TableEncoding"]

MAX_CATEGORIES = 1000  # per column; more distinct values usually mean an id or free text
MAX_CLASS_VALUES = 20  # a whole-number target with at most this many values may be classes

IMPUTE_STRATEGIES = ("mean", "median", "most_frequent")
ENCODING_SCHEMA_VERSION = 1


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
        f"{_rows(rows[any_gap])}; in columns {columns}; fill or delete them, or import "
        f"with impute mean, median or most_frequent (--impute mean; impute='mean' in Python)",
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


# --- the target ------------------------------------------------------------------


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
    # one class is a dataset still (training a classifier asks for two: see api.workspace)
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
