"""`lernwerk generate RUN --n 16 --out grid.png`: new images from a generative run."""

from __future__ import annotations

from pathlib import Path

import typer

from lernwerk.cli.common import JsonOption, app, open_workspace, out, print_json
from lernwerk.store import atomic_write_bytes


@app.command()
def generate(
    run: str = typer.Argument(..., help="Run id, id prefix or name (a vae or dcgan run)."),
    n: int = typer.Option(16, "--n", help="How many images (1 to 1024)."),
    out_file: Path = typer.Option(..., "--out", help="The PNG to write: a grid of the images."),
    seed: int | None = typer.Option(None, "--seed", help="The same seed draws the same images."),
    as_json: bool = JsonOption,
) -> None:
    """Draw new images from a run trained with --task generate, as one PNG grid."""
    r = open_workspace().run(run)
    png = r.generate_png(n, seed=seed)
    if out_file.is_dir():
        raise typer.BadParameter(f"{out_file} is a folder; name a .png file", param_hint="--out")
    atomic_write_bytes(out_file, png)
    if as_json:
        print_json({"run_id": r.id, "n": n, "out": str(out_file)})
        return
    out.print(f"wrote {n} images of run {r.id} to {out_file}")
