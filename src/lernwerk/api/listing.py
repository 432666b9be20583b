"""What a workspace lists without loading PyTorch: its store, its runs as table rows, and
the datasets (built-in and stored).

`lernwerk runs list` and `datasets list` use this directly; `Workspace` and `Run` give the
same answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lernwerk.store import RunRecord, WorkspaceStore


def open_store(path: str | Path | None = None) -> WorkspaceStore:
    """A workspace's store, runs whose process died marked interrupted (as `Workspace` does)."""
    store = WorkspaceStore(path)
    store.reconcile()
    return store


def dataset_items(store: WorkspaceStore) -> list[dict[str, Any]]:
    """Built-in datasets (with their parameters) and those stored in the workspace."""
    from lernwerk.data.registry import list_builtins

    items = [{**b, "source": "builtin"} for b in list_builtins()]
    for rec in store.list_datasets():
        item = {**rec.to_dict(), "origin": rec.source, "source": "workspace"}
        item.pop("last_edit", None)  # the rows an undo needs; `Workspace.data_version` says it
        items.append({**item, "data_version": data_version(rec.content_hash)})
    return items


def data_version(content_hash: str) -> str:
    """A data version as people read it: the first 8 hex digits of the content hash."""
    return content_hash.rpartition(":")[2][:8]


def run_row(record: RunRecord) -> dict[str, Any]:
    """A run's key facts in one flat dict, for tables."""
    train = record.config.get("train", {})
    row: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "status": record.status,
        "dataset": record.dataset,
        "model": record.model,
        "epochs": f"{record.epoch}/{train.get('epochs')}",
        "task": train.get("task"),  # None: the dataset's own
        "optimizer": train.get("optimizer"),
        "lr": train.get("lr"),
        "batch_size": train.get("batch_size"),
        "seconds": round(record.seconds or 0.0, 2),
        "created": record.created_at[:16].replace("T", " "),
        "data_version": data_version(record.dataset_hash),
    }
    if isinstance(record.config.get("baseline"), dict):  # no epochs; its features instead
        row["epochs"] = None
        row["features"] = record.config["baseline"].get("features")
    for split in ("val", "test"):
        for key, value in _scalars(record.metrics.get(split, {})).items():
            row[f"{split}_{key}"] = value
    return row


def _scalars(metrics: dict[str, Any]) -> dict[str, float]:
    keys = ("accuracy", "f1_macro", "log_loss", "mse", "mae", "r2", "roc_auc")
    return {k: metrics[k] for k in keys if isinstance(metrics.get(k), int | float)}
