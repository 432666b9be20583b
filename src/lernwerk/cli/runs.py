"""`lernwerk runs …`: list, show, compare and delete stored runs."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from lernwerk.cli.common import JsonOption, _fmt, _print_json, _table, _ws, err, out, runs_app

# -- runs ---------------------------------------------------------------------------------

RUN_COLUMNS = [
    "id",
    "name",
    "status",
    "dataset",
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
    rows = [r.row() for r in _ws().runs(status)]
    if as_json:
        _print_json(rows)
        return
    present = [c for c in RUN_COLUMNS if any(c in r for r in rows)]
    out.print(_table(rows, "Runs", present or RUN_COLUMNS))


@runs_app.command("show")
def runs_show(run: str = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """One run: settings, final metrics and history."""
    r = _ws().run(run)
    if as_json:
        _print_json(r.to_dict())
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
    out.print(_table([{"setting": k, "value": v} for k, v in settings.items()], f"run {r.id}"))
    if r.record.error:
        err.print(f"[red]error:[/] {r.record.error}")
    history = r.workspace.store.epochs(r.id)
    if history:
        out.print(_table(history[-10:], "History (last 10 epochs)"))


@runs_app.command("compare")
def runs_compare(
    runs: list[str] = typer.Argument(..., help="Two or more runs."), as_json: bool = JsonOption
) -> None:
    """Runs side by side: settings and final metrics."""
    frame = _ws().compare(runs)
    if as_json:
        _print_json(frame.to_dict())
        return
    table = Table(title="Runs compared")
    table.add_column("")
    for c in frame.columns:
        table.add_column(str(c))
    for key, row in frame.iterrows():
        table.add_row(str(key), *(_fmt(v) for v in row.tolist()))
    out.print(table)


@runs_app.command("delete")
def runs_delete(run: str = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """Delete a run with its files."""
    ws = _ws()
    r = ws.run(run)
    ws.delete_run(r.id)
    if as_json:
        _print_json({"deleted": r.id})
    else:
        out.print(f"deleted run {r.id} ({r.name})")
