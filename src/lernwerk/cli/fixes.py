"""Fixing what the model got wrong: `lernwerk datasets relabel|confirm|undo`, `lernwerk runs
mistakes|retrain`."""

from __future__ import annotations

from typing import Any

import typer

from lernwerk.cli.common import (
    JsonOption,
    datasets_app,
    err,
    open_workspace,
    out,
    print_json,
    runs_app,
)

NameArg = typer.Argument(..., help="A stored dataset.")
IdsArg = typer.Argument(..., help="Sample ids (see `lernwerk runs mistakes RUN`).")


def _done(result: dict[str, Any], as_json: bool, text: str) -> None:
    if as_json:
        print_json(result)
    else:
        out.print(f"{text}; data version {result['data_version']}", highlight=False)


@datasets_app.command("relabel")
def datasets_relabel(
    name: str = NameArg,
    ids: list[int] = IdsArg,
    to: str = typer.Option(..., "--to", help="The class they belong to."),
    as_json: bool = JsonOption,
) -> None:
    """Move samples to another class (all or none); `lernwerk datasets undo` reverts it."""
    result = open_workspace().relabel(name, list(ids), to)
    _done(result, as_json, f"moved {len(ids)} sample(s) of {name} to {to}")


@datasets_app.command("confirm")
def datasets_confirm(
    name: str = NameArg,
    ids: list[int] = IdsArg,
    uncheck: bool = typer.Option(False, "--uncheck", help="Take the mark away again."),
    as_json: bool = JsonOption,
) -> None:
    """Mark samples as checked by a person: their label is right (the data stays as it is).
    (`lernwerk datasets check NAME` runs the data checks.)"""
    result = open_workspace().mark_checked(name, list(ids), not uncheck)
    verb = "unmarked" if uncheck else "marked"
    _done(result, as_json, f"{verb} {len(ids)} sample(s) of {name} as checked")


@datasets_app.command("undo")
def datasets_undo(name: str = NameArg, as_json: bool = JsonOption) -> None:
    """Undo the last edit of a dataset's samples (add, delete, relabel, check): the data is
    again exactly what it was."""
    result = open_workspace().undo(name)
    undone = result["undone"]
    ids = ", ".join(str(i) for i in undone["ids"][:10]) + (" …" if len(undone["ids"]) > 10 else "")
    _done(result, as_json, f"undid {undone['action']} of sample(s) {ids} in {name}")


@runs_app.command("mistakes")
def runs_mistakes(
    run: str = typer.Argument(...),
    split: str = typer.Option("val", "--split", help="train, val or test."),
    as_json: bool = JsonOption,
) -> None:
    """The ids of the samples a classifier gets wrong on a split, the most confident first."""
    r = open_workspace().run(run)
    ids = r.mistakes(split=split)
    if as_json:
        print_json({"run": r.id, "split": split, "ids": ids, **r.data_state()})
        return
    for i in ids:
        out.print(i)
    err.print(f"{len(ids)} mistake(s) on {split} of run {r.id}", highlight=False)


@runs_app.command("retrain")
def runs_retrain(
    run: str = typer.Argument(...),
    name: str | None = typer.Option(None, "--name", help="A name for the new run."),
    as_json: bool = JsonOption,
) -> None:
    """Train a new run with a run's settings on its dataset as it is now."""
    from lernwerk.cli.progress import ProgressBar

    r = open_workspace().run(run)
    r.retrain_plan()  # a baseline is refused before anything is trained
    again = r.retrain(name=name, listeners=[] if as_json else [ProgressBar(err)])
    if as_json:
        print_json(again.row())
        return
    out.print(
        f"run {again.id} ({again.name}): data version {again.data_version} "
        f"(run {r.id} had {r.data_version})",
        highlight=False,
    )
