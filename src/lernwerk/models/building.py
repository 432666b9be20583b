"""Building layers from their specs: each layer's type and parameters checked, its input
shape carried to the next, a misfit named by the layer's index.

Blocks (`Residual`, `Parallel`) build their inner layers with the same builder, handed to
them in the `BuildContext`, so no layer module needs to import this one.
"""

from __future__ import annotations

from typing import Any

from lernwerk.errors import SpecError
from lernwerk.models.catalog import LAYERS
from lernwerk.models.registry import (
    BuildContext,
    Built,
    LayerMisfit,
    Shape,
    fmt_shape,
    validate_params,
)


def build_layers(
    layers: list[dict[str, Any]] | tuple[dict[str, Any], ...],
    input_shape: Shape,
    num_outputs: int | None,
    *,
    prefix: str = "",
    last_is_output: bool = True,
    context: dict[str, str] | None = None,
    first: int = 1,
) -> list[tuple[str, str, Built]]:
    """Build each layer in turn; a misfit raises `SpecError` naming the layer.

    Returns (index, type, built) per layer; indices are 1-based, "5.2" inside block 5.
    `context`, when given, receives the folded output activation of the last layer.
    `first` is the index of the first layer (a branch of a `Parallel` block counts on).
    """
    built: list[tuple[str, str, Built]] = []
    shape = input_shape
    for i, raw in enumerate(layers):
        index = f"{prefix}.{i + first}" if prefix else str(i + first)
        type_name, layer_type, p = _typed_params(raw, index)
        is_last = last_is_output and i == len(layers) - 1
        ctx = BuildContext(
            num_outputs=num_outputs, is_last=is_last, index=index, build_layers=build_layers
        )
        try:
            b = layer_type.build(p, shape, ctx)
        except LayerMisfit as exc:
            raise SpecError(f"layer {index} ({type_name}): {exc}", where=f"layer {index}") from None
        except SpecError:
            raise
        if any(d < 1 for d in b.out_shape):
            raise SpecError(
                f"layer {index} ({type_name}): the {fmt_shape(shape)} input shrinks to "
                f"{fmt_shape(b.out_shape)}; use padding='same' or smaller windows",
                where=f"layer {index}",
            )
        if is_last and context is not None:
            context["output_activation"] = ctx.output_activation
        built.append((index, type_name, b))
        shape = b.out_shape
    return built


def check_layers(
    layers: list[dict[str, Any]] | tuple[dict[str, Any], ...], prefix: str = ""
) -> None:
    """Check each layer's type and parameters, blocks' inner layers too, without an input
    shape: what can be known of a spec before it meets data.

    Raises:
        SpecError: an unknown type or a bad parameter; the message names the layer.
    """
    for i, raw in enumerate(layers):
        index = f"{prefix}.{i + 1}" if prefix else str(i + 1)
        _typed_params(raw, index)
        for key in ("layers", "shortcut"):
            inner = raw.get(key)
            if isinstance(inner, list) and all(isinstance(x, dict) for x in inner):
                check_layers(inner, index)


def _typed_params(raw: dict[str, Any], index: str) -> tuple[str, Any, Any]:
    """A layer's type name, its `LayerType` and its validated parameters.

    Raises:
        SpecError: an unknown type or a bad parameter; the message names the layer.
    """
    type_name = raw.get("type", "?")
    layer_type = LAYERS.get(type_name)
    if layer_type is None:
        known = ", ".join(sorted(LAYERS))
        raise SpecError(
            f"layer {index}: unknown layer type '{type_name}'; expected one of: {known}",
            where=f"layer {index}",
        )
    try:
        params = validate_params(layer_type, {k: v for k, v in raw.items() if k != "type"})
    except LayerMisfit as exc:
        raise SpecError(f"layer {index} ({type_name}): {exc}", where=f"layer {index}") from None
    return type_name, layer_type, params
