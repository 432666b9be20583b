"""Commands on a trained run: `lernwerk evaluate`, `predict` and `export`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from lernwerk.cli.common import JsonOption, app, open_workspace, out, print_json, rows_table

# -- evaluate, predict, export ------------------------------------------------------------


@app.command()
def evaluate(
    run: str = typer.Argument(..., help="Run id, id prefix or name."),
    split: str = typer.Option("test", "--split", help="train, val or test."),
    as_json: bool = JsonOption,
) -> None:
    """Metrics of a trained run on a split: accuracy, per-class precision/recall/F1, confusion matrix."""
    from lernwerk.evaluation.metrics import headline

    r = open_workspace().run(run)
    metrics = r.evaluate(split)
    if as_json:
        print_json({"run_id": r.id, "split": split, "metrics": metrics})
        return
    out.print(rows_table([headline(metrics)], f"run {r.id} on the {split} split"))
    if "per_class" in metrics:
        rows = [{"class": c, **v} for c, v in metrics["per_class"].items()]
        out.print(rows_table(rows, "Per class"))
        classes = metrics["classes"]
        cm = Table(title="Confusion matrix (rows: true, columns: predicted)")
        cm.add_column("")
        for c in classes:
            cm.add_column(c, justify="right")
        for c, row in zip(classes, metrics["confusion_matrix"], strict=True):
            cm.add_row(c, *(str(v) for v in row))
        out.print(cm)


@app.command()
def predict(
    run: str = typer.Argument(..., help="Run id, id prefix or name."),
    inputs: list[Path] = typer.Argument(
        ..., help="Image files, CSV files (one sample per row) or .npy arrays."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Predict with a trained run: the class and its probability per input.

    `lernwerk predict efficientnet-lite0 photo.jpg` (no run of that name) shows the
    pretrained network's top-5 ImageNet classes instead."""
    from lernwerk.errors import NotFound

    ws = open_workspace()
    try:
        trained = ws.run(run)
    except NotFound:
        from lernwerk.api.imagenet import PRETRAINED_CLASSIFIERS, classify_imagenet

        if run not in PRETRAINED_CLASSIFIERS:
            raise
        _print_imagenet(classify_imagenet(inputs), as_json)
        return
    results = trained.predict_files(inputs)
    if as_json:
        print_json(results)
        return
    rows = [{k: v for k, v in r.items() if k != "probabilities"} for r in results]
    out.print(rows_table(rows, "Predictions"))


def _print_imagenet(results: list[dict], as_json: bool) -> None:
    if as_json:
        print_json(results)
        return
    for r in results:
        rows = [{"rank": i, **t} for i, t in enumerate(r["top"], start=1)]
        out.print(rows_table(rows, f"{r['input']}: ImageNet classes (EfficientNet-Lite0)"))


@app.command()
def export(
    run: str = typer.Argument(..., help="Run id, id prefix or name."),
    format: str = typer.Option(
        "safetensors", "--format", help="safetensors (weights) + model.json (spec, preprocessing)."
    ),
    out_dir: Path = typer.Option(..., "--out", help="Directory to write to."),
    as_json: bool = JsonOption,
) -> None:
    """Write a trained model to a directory: weights as safetensors and a JSON description."""
    files = open_workspace().run(run).export(out_dir, format)
    if as_json:
        print_json({"files": [str(f) for f in files]})
    else:
        for f in files:
            out.print(f"wrote {f}")
