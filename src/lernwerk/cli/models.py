"""`lernwerk models …`: the shipped presets and a model's summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from lernwerk import api
from lernwerk.cli.common import JsonOption, models_app, out, print_json, rows_table, state
from lernwerk.errors import SpecError

if TYPE_CHECKING:
    from lernwerk.models import ModelSummary

# -- models -------------------------------------------------------------------------------


@models_app.command("list")
def models_list(as_json: bool = JsonOption) -> None:
    """The shipped model presets."""
    from lernwerk.models.presets import list_presets

    presets = list_presets()
    if as_json:
        print_json(presets)
    else:
        out.print(rows_table(presets, "Model presets"))


def _parse_shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        raise SpecError(
            f"--input-shape: expected numbers like 1,28,28; received: {text!r}"
        ) from None
    if not shape or min(shape) < 1:
        raise SpecError(
            f"--input-shape: expected positive numbers like 1,28,28; received: {text!r}"
        )
    return shape


def render_summary(summary: ModelSummary) -> Table:
    """A Keras-style summary as a Rich table."""
    table = Table(title=f"Model: {summary.name}   input {'×'.join(map(str, summary.input_shape))}")
    for name, justify in (
        ("#", "left"),
        ("Layer", "left"),
        ("Output shape", "left"),
        ("Params", "right"),
        ("FLOPs", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in summary.rows:
        table.add_row(
            r.index,
            "  " * r.depth + r.type,
            "×".join(map(str, r.output_shape)),
            f"{r.params:,}",
            f"{r.flops:,}",
        )
    table.caption = (
        f"Total params: {summary.total_params:,} (trainable {summary.trainable_params:,})   "
        f"FLOPs per sample: {summary.flops_per_sample:,}"
    )
    return table


@models_app.command("summary")
def models_summary(
    model: str = typer.Argument(..., help="A preset name or a YAML/JSON spec file."),
    dataset: str | None = typer.Option(
        None, "--dataset", "-d", help="Take the input shape and classes from a dataset."
    ),
    input_shape: str | None = typer.Option(
        None, "--input-shape", help="Input shape without batch, e.g. 1,28,28."
    ),
    outputs: int | None = typer.Option(
        None, "--outputs", min=1, help="What 'units: auto' means without a dataset (default 10)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Layers, output shapes, parameters and FLOPs of a model, like Keras's model.summary()."""
    if (dataset is None) == (input_shape is None):
        raise SpecError("give either --dataset or --input-shape")
    shape = _parse_shape(input_shape) if input_shape else None
    summary = api.model_summary(
        model,
        dataset=dataset,
        input_shape=shape,
        outputs=outputs if outputs or dataset else 10,
        workspace=state["workspace"],
    )
    if as_json:
        print_json(summary.to_dict())
    else:
        out.print(render_summary(summary))
