"""The workspace store: a SQLite database and files in one directory."""

from lernwerk.store.files import (
    atomic_write_bytes,
    atomic_write_json,
    default_workspace_path,
    load_tensors,
    save_tensors,
)
from lernwerk.store.workspace import (
    DatasetRecord,
    EventRecord,
    RunRecord,
    WorkspaceStore,
    process_start_ticks,
)

__all__ = [
    "DatasetRecord",
    "EventRecord",
    "RunRecord",
    "WorkspaceStore",
    "atomic_write_bytes",
    "atomic_write_json",
    "default_workspace_path",
    "load_tensors",
    "process_start_ticks",
    "save_tensors",
]
