"""What every command shares: the app and its groups, the consoles, the workspace option, helpers."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from lernwerk.api import Workspace

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130

app = typer.Typer(
    name="lernwerk",
    help="lernwerk: build, train, compare and deploy neural networks on one laptop, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Model presets and summaries.", no_args_is_help=True)
datasets_app = typer.Typer(help="Built-in and stored datasets.", no_args_is_help=True)
runs_app = typer.Typer(help="Stored runs: list, show, compare, delete.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(datasets_app, name="datasets")
app.add_typer(runs_app, name="runs")

out = Console()
err = Console(stderr=True)
state: dict[str, Any] = {"workspace": None}

JsonOption = typer.Option(False, "--json", help="Print one JSON document on stdout.")


@app.callback()
def _root(
    workspace: Path | None = typer.Option(
        None,
        "--workspace",
        "-w",
        help="Workspace directory (default $LERNWERK_HOME or ./lernwerk-workspace).",
    ),
) -> None:
    state["workspace"] = workspace


def open_workspace() -> Workspace:
    """The workspace the command works on (--workspace, else the default); loads PyTorch."""
    from lernwerk.api import Workspace

    return Workspace(state["workspace"])


def print_json(obj: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(obj, indent=2, default=str, allow_nan=False) + "\n")


def format_value(value: Any) -> str:
    """A table cell: 4 significant digits for floats, blank for None."""
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return "" if value is None else str(value)


def rows_table(
    rows: list[dict[str, Any]], title: str | None = None, columns: list[str] | None = None
) -> Table:
    """A Rich table of dicts, one row each; columns default to every key in order."""
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    table = Table(title=title, show_lines=False)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*(format_value(r.get(c)) for c in columns))
    return table
