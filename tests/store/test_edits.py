"""The last edit kept for undo, and the checked mark, in the store (and in a workspace made
before they existed)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from lernwerk.errors import Conflict
from lernwerk.store import DatasetRecord, WorkspaceStore
from lernwerk.store.workspace import SCHEMA_VERSION


def stored(root: Path) -> WorkspaceStore:
    store = WorkspaceStore(root)
    rec = DatasetRecord(
        name="pts",
        kind="table",
        task="classification",
        source={},
        content_hash="sha256:0",
        num_samples=4,
        classes=["a", "b"],
        input_shape=[2],
    )
    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    store.write_dataset(rec, x, np.arange(4), np.array([0, 1, 0, 1]), np.zeros(4, bool))
    return store


def test_a_version_3_workspace_gains_undo_and_checked_marks(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    stored(root).close()
    con = sqlite3.connect(root / "lernwerk.db")
    con.execute("ALTER TABLE samples DROP COLUMN checked")
    con.execute("ALTER TABLE datasets DROP COLUMN last_edit")
    con.execute("PRAGMA user_version = 3")
    con.commit()
    con.close()
    store = WorkspaceStore(root)
    assert store.get_dataset("pts").last_edit == {}
    store.relabel_samples("pts", [0], 1)
    store.set_checked("pts", [2])
    assert store.checked_ids("pts") == {2}
    assert store.undo_edit("pts") == {"action": "check", "ids": [2], "checked": True}
    assert store.checked_ids("pts") == set()
    with pytest.raises(Conflict, match="nothing to undo"):
        store.undo_edit("pts")  # one step only
    con = sqlite3.connect(root / "lernwerk.db")
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.close()


def test_writing_a_dataset_whole_forgets_the_edit(tmp_path: Path) -> None:
    store = stored(tmp_path / "ws")
    store.remove_samples("pts", [1])
    assert store.get_dataset("pts").last_edit["action"] == "delete"
    rec = store.get_dataset("pts")
    x = np.zeros((2, 2), np.float32)
    store.write_dataset(rec, x, np.arange(2), np.array([0, 1]), np.zeros(2, bool))
    with pytest.raises(Conflict, match="nothing to undo"):
        store.undo_edit("pts")
    assert store.count_samples("pts") == 2
