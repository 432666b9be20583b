"""Fixing what the model got wrong, on a workspace's stored datasets: relabel, delete and
mark samples as checked by id, undo the last edit, and read the data version.

Each edit is all or none and checked before anything changes (an unknown class or id is
NotFound); the store keeps what the edit replaced, so `undo` restores the dataset exactly,
data version included (see `lernwerk.store.edits`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lernwerk.api.listing import data_version
from lernwerk.errors import DataError
from lernwerk.store import WorkspaceStore


class DatasetEdits:
    """The editing half of `Workspace` (mixed into it, beside `DatasetMethods`)."""

    store: WorkspaceStore

    def relabel_samples(self, name: str, ids: list[int], label: str) -> None:
        raise NotImplementedError  # DatasetMethods'

    def delete_samples(self, name: str, ids: list[int]) -> None:
        raise NotImplementedError  # DatasetMethods'

    def relabel(self, name: str, ids: int | list[int], to: str) -> dict[str, Any]:
        """Move samples (one id or a list) to the class `to`, all or none; undo with `undo`.

        Returns:
            `{"dataset", "ids", "to", "data_version"}`: the new data version included.

        Raises:
            NotFound: no such dataset, class or sample id (the message names it).
            DataError: no ids, or the dataset has no classes.
        """
        wanted = _id_list(ids, name)
        self.relabel_samples(name, wanted, to)
        return {"dataset": name, "ids": wanted, "to": to, **self.data_version(name)}

    def delete(self, name: str, ids: int | list[int]) -> dict[str, Any]:
        """Delete samples (one id or a list), all or none; undo with `undo`."""
        wanted = _id_list(ids, name)
        self.delete_samples(name, wanted)
        return {"dataset": name, "ids": wanted, **self.data_version(name)}

    def mark_checked(self, name: str, ids: int | list[int], checked: bool = True) -> dict[str, Any]:
        """Mark samples as checked by a person ("the label is right"), or unmark them; the
        data version stays. Undo with `undo`."""
        wanted = _id_list(ids, name)
        with self.store.dataset_lock(name):
            self.store.set_checked(name, wanted, checked)
        return {"dataset": name, "ids": wanted, "checked": bool(checked), **self.data_version(name)}

    def checked(self, name: str) -> list[int]:
        """The ids of the samples marked as checked, sorted."""
        self.store.get_dataset(name)
        return sorted(self.store.checked_ids(name))

    def undo(self, name: str) -> dict[str, Any]:
        """Undo the dataset's last edit of samples (add, delete, relabel, check): it is
        again exactly as before, data version included.

        Returns:
            `{"dataset", "undone": {"action", "ids", ...}, "data_version"}`.

        Raises:
            Conflict: nothing to undo (the message says why).
        """
        with self.store.dataset_lock(name):
            undone = self.store.undo_edit(name)
        return {"dataset": name, "undone": undone, **self.data_version(name)}

    def data_version(self, name: str) -> dict[str, Any]:
        """A stored dataset's data version (short content hash, new with every edit) and
        its last edit that `undo` would revert (None: nothing to undo)."""
        from lernwerk.store.edits import summary

        rec = self.store.get_dataset(name)
        return {
            "data_version": data_version(rec.content_hash),
            "undo": summary(rec.last_edit) if rec.last_edit else None,
        }


def _id_list(ids: int | list[int], dataset: str) -> list[int]:
    wanted = [ids] if isinstance(ids, int | np.integer) else list(ids)
    if not wanted:
        raise DataError("give at least one sample id", where=f"dataset '{dataset}'")
    for i in wanted:
        if isinstance(i, bool) or not isinstance(i, int | np.integer):
            raise DataError(
                f"sample ids are whole numbers; received {i!r}", where=f"dataset '{dataset}'"
            )
    return [int(i) for i in wanted]
