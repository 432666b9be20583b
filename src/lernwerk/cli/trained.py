"""Commands on a trained run: `lernwerk evaluate`, `predict` and `export`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from lernwerk.cli.common import (
    EXIT_FAILED,
    JsonOption,
    app,
    open_workspace,
    out,
    print_json,
    rows_table,
)

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
    map_out: Path | None = typer.Option(
        None,
        "--map",
        help="An image anomaly detector: write each image's anomaly map over the image to "
        "this PNG (several inputs: <name>-<input>.png beside it).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Predict with a trained run: the class and its probability per input; an anomaly
    detector's score and verdict (normal or anomaly, against the run's threshold).

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
    written = _write_maps(trained, inputs, map_out) if map_out is not None else []
    results = [{k: v for k, v in r.items() if k != "map"} for r in results]  # in the PNG
    if as_json:
        print_json(results)
        return
    rows = [{k: v for k, v in r.items() if k != "probabilities"} for r in results]
    out.print(rows_table(rows, "Predictions"))
    for path in written:
        out.print(f"wrote {path}")


def _write_maps(trained: Any, inputs: list[Path], map_out: Path) -> list[Path]:
    """Write the anomaly maps as PNGs; all are made before the first is written."""
    if map_out.suffix.lower() != ".png":
        raise typer.BadParameter(f"--map writes a PNG; name a .png file, not {map_out}")
    if not map_out.parent.is_dir():
        raise typer.BadParameter(f"--map: the folder {map_out.parent} does not exist")
    pngs = trained.anomaly_maps(inputs)
    if len(inputs) == 1:
        paths = [map_out]
    else:
        paths = [map_out.with_name(f"{map_out.stem}-{p.stem}.png") for p in inputs]
    for path, png in zip(paths, pngs, strict=True):
        path.write_bytes(png)
    return paths


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
        "safetensors",
        "--format",
        help="safetensors (weights + model.json), onnx (model.onnx + model.json, checked "
        "against PyTorch on the test split), all (both), or pytorch (model.py: the network "
        "and the training loop as plain PyTorch code, with the weights and the run's data).",
    ),
    out_dir: Path = typer.Option(..., "--out", help="Directory to write to (new or empty)."),
    force: bool = typer.Option(
        False, "--force", help="Write into a folder that holds files (replaces model files)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Write a trained model to a directory: safetensors weights and/or an ONNX file, with
    a JSON description, or the PyTorch code behind it; an ONNX export is refused (exit 1)
    unless it matches PyTorch."""
    from lernwerk.errors import ExportFailed

    try:
        report = open_workspace().run(run).export(out_dir, format, force=force)
    except ExportFailed as exc:
        typer.echo(f"error: {exc}; nothing was written to {out_dir}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    if as_json:
        print_json(report)
        return
    for f in report["files"]:
        out.print(f"wrote {f}")
    parity = report["parity"]
    if parity is not None:
        agreement = parity["agreement"]
        agreed = "" if agreement is None else f", {agreement:.0%} same {_unit(parity)}"
        out.print(
            f"parity on {parity['samples']} test samples: ONNX matches PyTorch{agreed}, "
            f"largest difference {parity['max_abs_diff']:.2g} (tolerance {parity['tolerance']:g})"
        )


def _unit(parity: dict) -> str:
    return "class" if parity["compared"] == "probabilities" else "anomaly flag"
