"""`lernwerk explain RUN INPUT --out DIR`: why the model decided so, as pictures and numbers."""

from __future__ import annotations

from pathlib import Path

import typer

from lernwerk.cli.common import JsonOption, app, open_workspace, out, print_json


@app.command()
def explain(
    run: str = typer.Argument(..., help="Run id, id prefix or name."),
    input: Path = typer.Argument(
        ..., help="An image, a CSV (its first row or series) or a .npy array of one sample."
    ),
    out_dir: Path = typer.Option(..., "--out", help="Folder for the PNG files and the JSON."),
    target: str | None = typer.Option(
        None, "--target", help="The class to explain (default: the predicted one)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Explain one prediction: integrated gradients over the input (any network), for
    images also Grad-CAM and each convolution layer's feature maps; PNG files and
    explanation.json with the numbers."""
    report = open_workspace().run(run).explain_file(input, out_dir, target=target)
    if as_json:
        print_json({k: v for k, v in report.items() if k != "explanation"})
        return
    e = report["explanation"]
    said = f"class {e['target_name']}" if e["target_name"] is not None else "output 1"
    out.print(f"{report['input']}: explained {said} in {e['ms']:.0f} ms")
    for f in report["files"]:
        out.print(f"wrote {f}")
