"""`lernwerk runs …`: list, show, compare and delete stored runs."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from lernwerk.cli.common import (
    JsonOption,
    err,
    format_value,
    open_workspace,
    out,
    print_json,
    rows_table,
    runs_app,
    state,
)

# -- runs ---------------------------------------------------------------------------------

RUN_COLUMNS = [
    "id",
    "name",
    "status",
    "dataset",
    "data_version",
    "model",
    "epochs",
    "val_accuracy",
    "test_accuracy",
    "test_r2",
    "seconds",
    "created",
]


@runs_app.command("list")
def runs_list(
    status: str | None = typer.Option(None, "--status", help="Only runs with this status."),
    as_json: bool = JsonOption,
) -> None:
    """Every run in the workspace, newest first."""
    from lernwerk.api.listing import open_store, run_row  # no PyTorch: this answers at once

    rows = [run_row(r) for r in open_store(state["workspace"]).list_runs(status)]
    if as_json:
        print_json(rows)
        return
    present = [c for c in RUN_COLUMNS if any(c in r for r in rows)]
    out.print(rows_table(rows, "Runs", present or RUN_COLUMNS))


@runs_app.command("show")
def runs_show(run: str = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """One run: settings, final metrics and history."""
    r = open_workspace().run(run)
    if as_json:
        print_json(r.to_dict())
        return
    train = r.config.get("train", {})
    settings: dict[str, Any] = {}
    for key, value in r.row().items():
        settings[key] = value
        if key == "batch_size":  # the rest of what makes the run repeatable
            settings["seed"] = train.get("seed")
            settings["device"] = r.record.device
            settings["precision"] = train.get("precision", "float32")
            settings["threads"] = train.get("threads") or "auto"
    out.print(rows_table([{"setting": k, "value": v} for k, v in settings.items()], f"run {r.id}"))
    if r.record.error:
        err.print(f"[red]error:[/] {r.record.error}")
    history = r.workspace.store.epochs(r.id)
    if history:
        out.print(rows_table(history[-10:], "History (last 10 epochs)"))


@runs_app.command("compare")
def runs_compare(
    runs: list[str] = typer.Argument(..., help="Two or more runs."), as_json: bool = JsonOption
) -> None:
    """Runs side by side: settings and final metrics."""
    frame = open_workspace().compare(runs)
    if as_json:  # a fact one run lacks (a baseline's features, a network's epochs): null
        print_json(frame.astype(object).where(frame.notna(), None).to_dict())
        return
    table = Table(title="Runs compared")
    table.add_column("")
    for c in frame.columns:
        table.add_column(str(c))
    for key, row in frame.iterrows():
        table.add_row(str(key), *(format_value(v) for v in row.tolist()))
    out.print(table)


@runs_app.command("delete")
def runs_delete(run: str = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """Delete a run with its files."""
    ws = open_workspace()
    r = ws.run(run)
    ws.delete_run(r.id)
    if as_json:
        print_json({"deleted": r.id})
    else:
        out.print(f"deleted run {r.id} ({r.name})")
