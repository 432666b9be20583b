"""Table cells, shared by `tables` and `table_encoding`: how a text cell is read.

A cell is a number, missing (empty or a marker such as NA, #NV or ?) or text; a category
is named by its text, so 1, 1.0 and "1" are one category. Column names are checked for
count and duplicates here, and messages name rows and cells in one way.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lernwerk.errors import DataError

MAX_TABLE_COLUMNS = 10_000

# Cells read as missing, compared case-insensitively; "#NV" is German Excel's "#N/A".
_MISSING = frozenset({"", "na", "n/a", "#n/a", "#nv", "nan", "null", "?"})
_SHOWN = 5  # rows or categories listed in a message before "…"


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
