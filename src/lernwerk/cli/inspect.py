"""`lernwerk inspect`: run a trained model over a batch and write a report to review."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lernwerk.cli.common import JsonOption, app, err, open_workspace, out, print_json


@app.command()
def inspect(
    run: str = typer.Argument(..., help="Run id, id prefix or name."),
    source: Path = typer.Argument(
        ..., help="A folder of images (read recursively), a zip, a CSV of rows or series, a .ts."
    ),
    out_dir: Path = typer.Option(..., "--out", help="Folder for report.csv and report.html."),
    review_below: float | None = typer.Option(
        None, "--review-below", help="Flag items whose top probability lies below this (0-1)."
    ),
    review_rate: str | None = typer.Option(
        None, "--review-rate", help="Flag the least confident share of the batch, e.g. 5%."
    ),
    force: bool = typer.Option(False, "--force", help="Replace the report in a non-empty --out."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, max=4096, help="Items per batch."),
    onnx: Path | None = typer.Option(
        None,
        "--onnx",
        help="An ONNX export folder to run with onnxruntime instead (RUN: its run id).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Predict every item of a batch, flag the doubtful ones for review, write a report.

    By default an item is flagged when its top probability lies below the run's review
    threshold (chosen on its validation split to catch 90 % of the model's errors there).
    """
    from lernwerk.evaluation.inspection import (
        InspectModel,
        inspect_batch,
        parse_rate,
        resolve_rule,
    )

    rate = parse_rate(review_rate) if review_rate is not None else None
    if onnx is not None:
        # onnxruntime alone: the workspace (and with it PyTorch) stays unloaded
        model = InspectModel.from_onnx(onnx, run=run)
    else:
        model = open_workspace().run(run).inspect_model()
    rule = resolve_rule(model, review_below, rate)
    bar = Progress(
        TextColumn("[bold]inspect"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=as_json,
    )
    task = bar.add_task("inspect", total=None)

    def progress(done: int, total: int | None) -> None:
        if not bar.live.is_started:  # shown once the batch runs: a refusal stays one line
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        result = inspect_batch(
            model,
            source,
            out_dir,
            rule=rule,
            force=force,
            batch_size=batch_size,
            progress=progress,
            title=source.name or str(source),
        )
    finally:
        if bar.live.is_started:
            bar.stop()
    if as_json:
        print_json(result.to_dict())
        return
    out.print(result.summary_line())
    out.print(f"review rule: {result.rule}")
    for f in result.files:
        out.print(f"wrote {f}")
