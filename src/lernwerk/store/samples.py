"""A stored dataset's samples: one file of fixed-size records and one database row each.

The pixels (or feature values) of sample k live at byte `slot * record_bytes` of the
dataset's sample file, written in place; its id, slot, label and test flag are a row of
the `samples` table. Adding a sample writes its bytes at the next free slot and inserts
one row; deleting or relabelling one changes one row. Nothing is rewritten, so an edit
costs the same at 100 and at 100 000 samples, and a dataset larger than memory is read
a batch of slots at a time. Slots of deleted samples stay unused until the dataset is
written whole again. Numpy only: no torch here.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lernwerk.errors import Conflict, NotFound
from lernwerk.store.edits import edit_record, restore, rows_before, summary
from lernwerk.store.files import _fsync_dir

if TYPE_CHECKING:
    import numpy as np

    from lernwerk.store.records import DatasetRecord
    from lernwerk.store.sample_file import SampleFile, SampleIndex

_SQL_VARIABLES = 900  # ids per statement, below SQLite's oldest limit of 999


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SampleRows:
    """The sample half of `WorkspaceStore`: a dataset's samples written whole, added,
    deleted and relabelled one by one, and read by slot."""

    def _connect(self, write: bool = False) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError  # WorkspaceStore's

    def _subdir(self, kind: str, name: str, create: bool) -> Path:
        raise NotImplementedError  # WorkspaceStore's

    def get_dataset(self, name: str) -> DatasetRecord:
        raise NotImplementedError  # WorkspaceStore's

    def staging(self, prefix: str = "stage") -> AbstractContextManager[Path]:
        raise NotImplementedError  # WorkspaceStore's

    def dataset_lock(self, name: str) -> AbstractContextManager[None]:
        raise NotImplementedError  # WorkspaceStore's

    def sample_file(self, rec: DatasetRecord) -> SampleFile:
        """The file holding `rec`'s samples: uint8 pixels for images, float32 otherwise."""
        import numpy as np

        from lernwerk.store.sample_file import SampleFile

        folder = self._subdir("datasets", rec.name, create=False)
        dtype = np.uint8 if rec.kind == "images" else np.float32
        return SampleFile(folder / (rec.data_file or "samples.bin"), rec.input_shape, dtype)

    def write_dataset(
        self,
        rec: DatasetRecord,
        x: np.ndarray,
        ids: np.ndarray,
        y: np.ndarray,
        test: np.ndarray,
    ) -> DatasetRecord:
        """Store a dataset whole (replacing one of the same name): a new sample file, a
        row per sample, its record; returns the record as stored.

        Args:
            x: (N, *input_shape) uint8 pixels for images, float32 for the other kinds.
            ids: (N,) int64 sample ids; y: (N,) int64 class indices or (N,)/(N, K) float32
            targets; test: (N,) bool, the fixed test split.
        """
        folder = self._subdir("datasets", rec.name, create=False)
        if folder.is_dir():  # a stored dataset: the new file counts once its rows commit
            with self.dataset_lock(rec.name), self._connect(write=True) as con:
                self._write_samples(con, rec, folder, x, ids, y, test)
            for stale in folder.glob("samples-*.bin"):  # the replaced one, a crash's leftover
                if stale.name != rec.data_file:
                    stale.unlink(missing_ok=True)
            (folder / "data.safetensors").unlink(missing_ok=True)
            return rec
        with self.staging("dataset") as staged:  # a new one appears in one rename
            with self._connect(write=True) as con:
                self._write_samples(con, rec, staged, x, ids, y, test)
                os.rename(staged, folder)
                _fsync_dir(folder.parent)
        return rec

    def _write_samples(
        self,
        con: sqlite3.Connection,
        rec: DatasetRecord,
        folder: Path,
        x: np.ndarray,
        ids: np.ndarray,
        y: np.ndarray,
        test: np.ndarray,
    ) -> None:
        import numpy as np

        from lernwerk.store.records import _DATASET_JSON, _insert
        from lernwerk.store.sample_file import SampleFile, insert_rows

        rec.data_file = f"samples-{secrets.token_hex(4)}.bin"
        rec.last_edit = {}  # the rows an edit kept are gone
        SampleFile(folder / rec.data_file, x.shape[1:], x.dtype).write_new(x)
        ids = np.asarray(ids, dtype=np.int64)
        rec.num_samples = rec.slots = len(x)
        rec.next_id = int(ids.max()) + 1 if len(ids) else 0
        classification = np.asarray(y).dtype.kind in "iu"
        rec.target_shape = [] if classification or np.ndim(y) == 1 else list(np.shape(y)[1:])
        con.execute("DELETE FROM samples WHERE dataset = ?", (rec.name,))
        insert_rows(
            con,
            rec.name,
            ids,
            np.arange(len(x), dtype=np.int64),
            np.asarray(y, dtype=np.int64) if classification else None,
            None if classification else np.asarray(y, dtype=np.float32),
            np.asarray(test, dtype=np.bool_),
        )
        _insert(con, "datasets", rec, _DATASET_JSON, replace=True)

    def sample_index(self, name: str) -> tuple[DatasetRecord, SampleIndex]:
        """A dataset's record and its sample rows, read in one transaction."""

        from lernwerk.store.records import _DATASET_JSON, DatasetRecord, _decode
        from lernwerk.store.sample_file import read_index

        with self._connect(write=True) as con:  # one snapshot of record and rows
            row = con.execute("SELECT * FROM datasets WHERE name = ?", (name,)).fetchone()
            if row is None:
                return self.get_dataset(name), None  # type: ignore[return-value]  # NotFound
            rec = _decode(DatasetRecord, row, _DATASET_JSON)
            index = read_index(
                con,
                name,
                regression=rec.task == "regression",
                target_shape=rec.target_shape,
            )
        return rec, index

    def read_samples(self, rec: DatasetRecord, slots: np.ndarray) -> np.ndarray:
        """The stored samples at `slots`: (n, *input_shape) in the file's dtype."""
        return self.sample_file(rec).read(slots)

    def count_samples(self, name: str, label: int | None = None) -> int:
        """How many samples a dataset holds (of one class when `label` is given)."""
        with self._connect() as con:
            if label is None:
                sql, args = "SELECT COUNT(*) FROM samples WHERE dataset = ?", (name,)
            else:
                sql = "SELECT COUNT(*) FROM samples WHERE dataset = ? AND label = ?"
                args = (name, label)
            return int(con.execute(sql, args).fetchone()[0])

    def page_samples(
        self, name: str, *, label: int | None = None, offset: int = 0, limit: int = 100
    ) -> list[tuple[int, int, int | None, bytes | None, bool]]:
        """A page of sample rows in slot order: (id, slot, label, target, test) each."""
        where, args = "dataset = ?", [name]
        if label is not None:
            where, args = where + " AND label = ?", [*args, label]
        with self._connect() as con:
            rows = con.execute(
                f"SELECT id, slot, label, target, test FROM samples WHERE {where} "
                "ORDER BY slot LIMIT ? OFFSET ?",
                (*args, max(limit, 0), max(offset, 0)),
            ).fetchall()
        return [(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    def sample_rows(self, name: str, ids: Sequence[int]) -> dict[int, int]:
        """The slots of the given sample ids that exist: {id: slot}."""
        found: dict[int, int] = {}
        with self._connect() as con:
            for chunk in _chunks([int(i) for i in ids]):
                marks = ", ".join("?" * len(chunk))
                found.update(
                    con.execute(
                        f"SELECT id, slot FROM samples WHERE dataset = ? AND id IN ({marks})",
                        (name, *chunk),
                    ).fetchall()
                )
        return found

    def append_samples(
        self, name: str, x: np.ndarray, labels: np.ndarray | None, targets: np.ndarray | None
    ) -> np.ndarray:
        """Add samples at the end of a dataset; returns their new (n,) ids.

        The caller holds the dataset's lock (`dataset_lock`): the bytes go to the next
        free slots first, then one transaction adds the rows, so a crash between the two
        leaves unused bytes past the last slot and nothing else.
        """
        import numpy as np

        from lernwerk.store.sample_file import chain_hash, insert_rows

        rec = self.get_dataset(name)
        n = len(x)
        ids = np.arange(rec.next_id, rec.next_id + n, dtype=np.int64)
        slots = np.arange(rec.slots, rec.slots + n, dtype=np.int64)
        file = self.sample_file(rec)
        file.write_at(rec.slots, x)
        label_bytes = b"" if labels is None else np.asarray(labels, np.int64).tobytes()
        target_bytes = b"" if targets is None else np.asarray(targets, np.float32).tobytes()
        digest = chain_hash(
            rec.content_hash,
            "add",
            ids.tobytes(),
            label_bytes,
            target_bytes,
            np.ascontiguousarray(x, file.dtype).tobytes(),
        )
        with self._connect(write=True) as con:
            now = con.execute(
                "SELECT data_file, slots FROM datasets WHERE name = ?", (name,)
            ).fetchone()
            if now is None or tuple(now) != (rec.data_file, rec.slots):
                raise Conflict(  # written whole or deleted meanwhile (without the lock)
                    f"dataset '{name}' was replaced or deleted while samples were added; "
                    "add them again",
                    where="dataset",
                )
            insert_rows(con, name, ids, slots, labels, targets, np.zeros(n, dtype=np.bool_))
            edit = edit_record("add", rec.content_hash, ids=ids.tolist())
            con.execute(
                "UPDATE datasets SET num_samples = num_samples + ?, slots = ?, next_id = ?, "
                "content_hash = ?, updated_at = ?, last_edit = ? WHERE name = ?",
                (n, rec.slots + n, rec.next_id + n, digest, _now(), json.dumps(edit), name),
            )
        return ids

    def remove_samples(self, name: str, ids: Sequence[int]) -> None:
        """Delete samples by id, all or none.

        Raises:
            NotFound: an id that the dataset does not hold (names the first).
        """
        self._change_rows(name, ids, "DELETE FROM samples", (), "delete", edit="delete")

    def relabel_samples(self, name: str, ids: Sequence[int], label: int) -> None:
        """Give samples another class index, all or none.

        Raises:
            NotFound: an id that the dataset does not hold (names the first).
        """
        self._change_rows(
            name, ids, "UPDATE samples SET label = ?", (label,), f"relabel:{label}", edit="relabel"
        )

    def set_checked(self, name: str, ids: Sequence[int], checked: bool = True) -> None:
        """Mark samples as checked by a person (their label is right), or unmark them; the
        data version stays (training sees no difference).

        Raises:
            NotFound: an id that the dataset does not hold (names the first).
        """
        self._change_rows(
            name, ids, "UPDATE samples SET checked = ?", (int(checked),), "", edit="check"
        )

    def checked_ids(self, name: str, ids: Sequence[int] | None = None) -> set[int]:
        """The ids of the samples marked as checked (among `ids` when given)."""
        sql = "SELECT id FROM samples WHERE dataset = ? AND checked = 1"
        with self._connect() as con:
            if ids is None:
                return {r[0] for r in con.execute(sql, (name,))}
            found: set[int] = set()
            for chunk in _chunks([int(i) for i in ids]):
                marks = ", ".join("?" * len(chunk))
                found.update(
                    r[0] for r in con.execute(f"{sql} AND id IN ({marks})", (name, *chunk))
                )
            return found

    def sample_states(self, name: str, ids: Sequence[int]) -> dict[int, tuple[int | None, bool]]:
        """The class index and checked mark of the given ids that exist: {id: (label, checked)}."""
        found: dict[int, tuple[int | None, bool]] = {}
        with self._connect() as con:
            for chunk in _chunks([int(i) for i in ids]):
                marks = ", ".join("?" * len(chunk))
                for i, label, checked in con.execute(
                    f"SELECT id, label, checked FROM samples WHERE dataset = ? AND id IN ({marks})",
                    (name, *chunk),
                ):
                    found[i] = (label, bool(checked))
        return found

    def undo_edit(self, name: str) -> dict[str, Any]:
        """Undo the dataset's last edit of samples: its rows and content hash are again
        exactly what they were before it. Returns what was undone (action, ids).

        Raises:
            Conflict: there is nothing to undo (no edit since the dataset was written whole,
                its classes changed, or the last edit was undone already).
        """
        with self._connect(write=True) as con:
            rec = self.get_dataset(name)
            edit = rec.last_edit
            if not edit:
                raise Conflict(
                    f"nothing to undo in dataset '{name}': no sample was added, deleted, "
                    "relabelled or checked since it was stored or its classes changed",
                    where=f"dataset '{name}'",
                )
            change = restore(con, name, edit)
            con.execute(
                "UPDATE datasets SET num_samples = num_samples + ?, content_hash = ?, "
                "updated_at = ?, last_edit = '{}' WHERE name = ?",
                (change, edit["content_hash"], _now(), name),
            )
        return summary(edit)

    def _change_rows(
        self,
        name: str,
        ids: Sequence[int],
        statement: str,
        args: tuple[int, ...],
        change: str,
        *,
        edit: str,
    ) -> None:
        """Apply `statement` (DELETE or UPDATE … SET) to the rows of `ids` in one transaction,
        after checking that every id is there; move the dataset's hash on by `change` (kept
        where it is '') and keep the rows as they were, for `undo_edit`."""
        import numpy as np

        from lernwerk.store.sample_file import chain_hash

        wanted = sorted({int(i) for i in ids})
        with self._connect(write=True) as con:
            rec = self.get_dataset(name)
            self._require_ids(con, name, wanted)
            before = edit_record(edit, rec.content_hash, rows=rows_before(con, name, wanted))
            if edit == "check":
                before["checked"] = bool(args[0])
            elif edit == "relabel":
                before["label"] = int(args[0])
            for chunk in _chunks(wanted):
                marks = ", ".join("?" * len(chunk))
                con.execute(
                    f"{statement} WHERE dataset = ? AND id IN ({marks})", (*args, name, *chunk)
                )
            digest = rec.content_hash
            if change:
                digest = chain_hash(digest, change, np.asarray(wanted, np.int64).tobytes())
            con.execute(
                "UPDATE datasets SET num_samples = num_samples - ?, content_hash = ?, "
                "updated_at = ?, last_edit = ? WHERE name = ?",
                (len(wanted) if edit == "delete" else 0, digest, _now(), json.dumps(before), name),
            )

    @staticmethod
    def _require_ids(con: sqlite3.Connection, name: str, wanted: list[int]) -> None:
        present: set[int] = set()
        for chunk in _chunks(wanted):
            marks = ", ".join("?" * len(chunk))
            present.update(
                r[0]
                for r in con.execute(
                    f"SELECT id FROM samples WHERE dataset = ? AND id IN ({marks})",
                    (name, *chunk),
                )
            )
        missing = [i for i in wanted if i not in present]
        if missing:
            raise NotFound(f"no sample with id {missing[0]}", where=f"dataset '{name}'")

    def set_classes(self, name: str, classes: list[str], *, dropped: int | None = None) -> None:
        """Store a dataset's new class list; `dropped`: the index of a deleted class,
        whose samples go and whose later indices move down by one. The last edit can no
        longer be undone (its class indices may mean other classes now)."""
        from lernwerk.store.sample_file import chain_hash

        with self._connect(write=True) as con:
            rec = self.get_dataset(name)
            gone = 0
            if dropped is not None:
                gone = con.execute(
                    "DELETE FROM samples WHERE dataset = ? AND label = ?", (name, dropped)
                ).rowcount
                con.execute(
                    "UPDATE samples SET label = label - 1 WHERE dataset = ? AND label > ?",
                    (name, dropped),
                )
            digest = chain_hash(rec.content_hash, "classes", json.dumps(classes).encode())
            con.execute(
                "UPDATE datasets SET classes = ?, num_samples = num_samples - ?, "
                "content_hash = ?, updated_at = ?, last_edit = '{}' WHERE name = ?",
                (json.dumps(classes), gone, digest, _now(), name),
            )


def _chunks(values: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(values), _SQL_VARIABLES):
        yield values[start : start + _SQL_VARIABLES]
