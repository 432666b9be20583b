"""`lernwerk datasets check NAME`: the data checks, in plain language, before training."""

from __future__ import annotations

from typing import Any

import typer

from lernwerk.cli.common import (
    EXIT_FAILED,
    JsonOption,
    datasets_app,
    open_workspace,
    out,
    print_json,
)

_STYLE = {"blocker": "bold red", "warning": "yellow", "hint": "cyan"}


@datasets_app.command("check")
def datasets_check(
    name: str = typer.Argument(..., help="A stored dataset or a built-in reference."),
    val_split: float = typer.Option(0.2, "--val-split", help="The run's validation share."),
    test_split: float = typer.Option(0.2, "--test-split", help="The run's test share."),
    split_seed: int = typer.Option(0, "--split-seed", help="The run's split seed."),
    task: str | None = typer.Option(
        None, "--task", help="The run's task if not the dataset's: anomaly, forecasting, …"
    ),
    as_json: bool = JsonOption,
) -> None:
    """What is wrong with the data before training: each finding with its severity, the
    numbers, why it matters and what to do. Exit code 1 when a blocker would stop training."""
    report = open_workspace().check(
        name, val_split=val_split, test_split=test_split, split_seed=split_seed, task=task
    )
    if as_json:
        print_json(report)
    else:
        _print(report)
    if report["counts"]["blocker"]:
        raise typer.Exit(EXIT_FAILED)


def _print(report: dict[str, Any]) -> None:
    counts = report["counts"]
    looked = (
        f", {report['samples_checked']} of them looked at (a seeded sample)"
        if report["sampled"]
        else ""
    )
    summary = ", ".join(f"{counts[s]} {s}{'' if counts[s] == 1 else 's'}" for s in counts)
    out.print(
        f"[bold]{report['dataset']}[/]: {report['num_samples']} samples{looked}; {summary}",
        highlight=False,
    )
    if not report["findings"]:
        out.print("no findings: nothing in the data stands in the way of training", highlight=False)
    for f in report["findings"]:
        style = _STYLE[f["severity"]]
        out.print(
            f"[{style}]{f['severity'].upper()}[/] {f['message']}", highlight=False, soft_wrap=True
        )
        out.print(f"  why: {f['why']}", highlight=False, soft_wrap=True)
        out.print(f"  do:  {f['action']}", highlight=False, soft_wrap=True)
