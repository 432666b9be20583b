"""The records the workspace keeps in its database, and how they go in and out of a row.

JSON columns hold lists and mappings; every other field is a plain column.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from typing import Any

from lernwerk.store.files import json_default

RUN_STATUSES = ("created", "running", "finished", "stopped", "failed", "interrupted")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, default=json_default)


@dataclass
class DatasetRecord:
    """A dataset stored in the workspace; its arrays live in `dataset_dir(name)`."""

    name: str
    kind: str  # images, table or sequences
    task: str
    source: dict[str, Any]
    content_hash: str
    num_samples: int
    classes: list[str]
    input_shape: list[int]  # one sample, without the batch dimension
    created_at: str = field(default_factory=_now)
    description: str = ""
    feature_names: list[str] = field(default_factory=list)  # table columns, [] otherwise
    meta: dict[str, Any] = field(default_factory=dict)  # kind-specific: image format, encoding…
    updated_at: str | None = None  # last change of its samples or classes
    data_file: str = ""  # the sample file in its folder ('' while nothing is stored)
    slots: int = 0  # records written to the sample file, deleted samples' included
    next_id: int = 0  # the id the next added sample gets (ids are never reused)
    target_shape: list[int] = field(default_factory=list)  # [] scalar targets, [K] K each
    last_edit: dict[str, Any] = field(default_factory=dict)  # what `undo_edit` reverts; {} none

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(kw_only=True)
class RunRecord:
    """One training run: its config, state and final metrics."""

    id: str
    name: str
    status: str = "created"  # one of RUN_STATUSES
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    config: dict[str, Any]  # the fully resolved run config
    model: str  # preset name or 'custom'
    dataset: str  # dataset reference, e.g. "xor" or "tabular:rows=50000"
    dataset_hash: str
    device: str
    epoch: int = 0  # epochs completed so far
    best_metric: float | None = None
    best_epoch: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)  # per split: {"val": {...}, ...}
    seconds: float = 0.0  # training wall time, summed over resumes
    error: str | None = None
    pid: int | None = None  # the training process; host and start ticks detect pid reuse
    host: str | None = None
    proc_start: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EventRecord:
    """One stored event of a run, in the order it was added."""

    id: int
    run_id: str
    ts: str
    type: str
    payload: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_RUN_COLUMNS = tuple(f.name for f in dataclass_fields(RunRecord))
_RUN_JSON = frozenset({"config", "metrics"})
_DATASET_JSON = frozenset(
    {"source", "classes", "input_shape", "feature_names", "meta", "target_shape", "last_edit"}
)
_EVENT_JSON = frozenset({"payload"})


def _decode(cls: type, row: sqlite3.Row, json_columns: frozenset[str]) -> Any:
    return cls(**{k: json.loads(row[k]) if k in json_columns else row[k] for k in row.keys()})


def _insert(
    con: sqlite3.Connection,
    table: str,
    rec: Any,
    json_columns: frozenset[str],
    replace: bool = False,
) -> None:
    row = {k: _dumps(v) if k in json_columns else v for k, v in asdict(rec).items()}
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    con.execute(
        f"{verb} INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
