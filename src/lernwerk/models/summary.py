"""A model summary like Keras's `model.summary()`, as data: layers, shapes, parameters, FLOPs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from lernwerk.models.network import Network
from lernwerk.models.registry import Built, fmt_shape


@dataclass(frozen=True)
class LayerRow:
    index: str  # "3", or "5.2" inside block 5
    type: str
    output_shape: tuple[int, ...]
    params: int
    flops: int
    depth: int  # 0 for top-level layers


@dataclass(frozen=True)
class ModelSummary:
    """What a network is: one row per layer plus totals. Render it as you like."""

    name: str
    input_shape: tuple[int, ...]
    rows: list[LayerRow] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    flops_per_sample: int = 0
    output_activation: str = "linear"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format_text(self) -> str:
        """A fixed-width table, for `print` in a notebook or a log."""
        lines = [f'Model: "{self.name}"   input {fmt_shape(self.input_shape)}']
        header = f"{'#':<6}{'Layer':<24}{'Output shape':<18}{'Param #':>12}{'FLOPs':>14}"
        rule = "─" * len(header)
        lines += [rule, header, rule]
        for r in self.rows:
            name = "  " * r.depth + r.type
            lines.append(
                f"{r.index:<6}{name:<24}{fmt_shape(r.output_shape):<18}{r.params:>12,}{r.flops:>14,}"
            )
        lines += [
            rule,
            f"Total params: {self.total_params:,}   trainable: {self.trainable_params:,}",
            f"FLOPs per sample (forward): {self.flops_per_sample:,}",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format_text()


def _rows(table: list[tuple[str, str, Built]], depth: int) -> list[LayerRow]:
    rows = []
    for index, type_name, built in table:
        params = sum(p.numel() for p in built.module.parameters())
        rows.append(LayerRow(index, type_name, built.out_shape, params, built.flops, depth))
        rows += _rows(built.children, depth + 1)
    return rows


def summarize(network: Network) -> ModelSummary:
    """The summary of a built network."""
    return ModelSummary(
        name=network.spec.name,
        input_shape=network.input_shape,
        rows=_rows(network.layer_table, 0),
        total_params=sum(p.numel() for p in network.parameters()),
        trainable_params=sum(p.numel() for p in network.parameters() if p.requires_grad),
        flops_per_sample=sum(b.flops for _, _, b in network.layer_table),
        output_activation=network.output_activation,
    )
