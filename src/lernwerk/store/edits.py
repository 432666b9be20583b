"""The last edit of a dataset, kept so that it can be undone exactly.

Each edit of single samples (add, delete, relabel, mark as checked) stores in the
dataset's `last_edit` column what it replaced: the ids it added, or the rows it changed
as they were (slot, label, target, test flag, checked flag), and the content hash
before it. Undo puts those rows back and the hash with them, so the dataset is again
the data version it was. One edit is kept; writing a dataset whole or changing its
classes forgets it (its indices would no longer mean the same classes).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

_SQL_VARIABLES = 900  # ids per statement, below SQLite's oldest limit of 999
ACTIONS = ("add", "delete", "relabel", "check")


def chunks(values: Sequence[int]) -> Iterator[list[int]]:
    """`values` in lists short enough for one statement's variables."""
    values = list(values)
    for start in range(0, len(values), _SQL_VARIABLES):
        yield values[start : start + _SQL_VARIABLES]


def rows_before(con: sqlite3.Connection, dataset: str, ids: Sequence[int]) -> list[list[Any]]:
    """The rows of `ids` as they are now: [id, slot, label, target (hex), test, checked]."""
    rows: list[list[Any]] = []
    for chunk in chunks(ids):
        marks = ", ".join("?" * len(chunk))
        rows += [
            [r[0], r[1], r[2], None if r[3] is None else bytes(r[3]).hex(), r[4], r[5]]
            for r in con.execute(
                "SELECT id, slot, label, target, test, checked FROM samples "
                f"WHERE dataset = ? AND id IN ({marks}) ORDER BY id",
                (dataset, *chunk),
            )
        ]
    return rows


def edit_record(
    action: str,
    content_hash: str,
    *,
    rows: list[list[Any]] | None = None,
    ids: Sequence[int] = (),
    label: int | None = None,
    checked: bool | None = None,
) -> dict[str, Any]:
    """What `restore` needs to undo an edit, and what a message says of it."""
    assert action in ACTIONS, action
    record: dict[str, Any] = {"action": action, "content_hash": content_hash}
    record["ids"] = [int(i) for i in ids] if rows is None else [r[0] for r in rows]
    if rows is not None:
        record["rows"] = rows
    if label is not None:
        record["label"] = int(label)
    if checked is not None:
        record["checked"] = bool(checked)
    return record


def restore(con: sqlite3.Connection, dataset: str, edit: dict[str, Any]) -> int:
    """Undo `edit` in the open transaction `con`; returns the change in sample count."""
    if edit["action"] == "add":
        for chunk in chunks(edit["ids"]):
            marks = ", ".join("?" * len(chunk))
            con.execute(
                f"DELETE FROM samples WHERE dataset = ? AND id IN ({marks})", (dataset, *chunk)
            )
        return -len(edit["ids"])
    rows = [
        (dataset, i, slot, label, None if target is None else bytes.fromhex(target), test, chk)
        for i, slot, label, target, test, chk in edit["rows"]
    ]
    con.executemany(
        "INSERT OR REPLACE INTO samples (dataset, id, slot, label, target, test, checked) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows) if edit["action"] == "delete" else 0


def summary(edit: dict[str, Any]) -> dict[str, Any]:
    """The edit without its stored rows: its action, ids and target class index."""
    return {k: v for k, v in edit.items() if k not in ("rows", "content_hash")}
