"""Build a `torch.nn.Module` from a `ModelSpec`, layer by layer, with shapes checked."""

from __future__ import annotations

import os

import torch
from torch import nn

from lernwerk.config import ModelSpec
from lernwerk.errors import SpecError
from lernwerk.models.building import build_layers, check_layers  # noqa: F401  (public here too)
from lernwerk.models.registry import Built, Shape, fmt_shape


class Network(nn.Module):
    """A sequential network built from a spec; it remembers the spec and its layer table.

    `forward` returns what the last layer computes before a softmax/sigmoid that the
    spec put on it (logits): the task folds that activation into the loss and applies
    it at prediction (`output_activation`).
    """

    def __init__(
        self,
        spec: ModelSpec,
        input_shape: Shape,
        num_outputs: int | None,
        built: list[tuple[str, str, Built]],
        output_activation: str,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.input_shape = tuple(input_shape)
        self.num_outputs = num_outputs
        self.output_activation = output_activation
        self.layer_table = built
        self.layers = nn.ModuleList(b.module for _, _, b in built)

    @property
    def output_shape(self) -> Shape:
        return self.layer_table[-1][2].out_shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for part in self._parts():
            x = part(x)
        return x

    def _parts(self) -> list[nn.Module]:
        """The modules `forward` runs in order: a layer with its activation (an
        nn.Sequential of the two) counts as its parts. Listed on every call (a microsecond):
        a layer replaced after the first forward (a new head) must be the one that runs."""
        parts: list[nn.Module] = []
        for layer in self.layers:
            parts.extend(layer if type(layer) is nn.Sequential else [layer])
        return parts


BYTES_PER_TRAINED_PARAMETER = 16  # float32 weight, gradient and Adam's two moments


def _memory_bytes() -> int:
    """This machine's physical memory (16 GiB where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 16 * 2**30


def _check_size(built: list[tuple[str, str, Built]]) -> None:
    """Refuse a network whose weights could not be trained in this machine's memory,
    naming the layer that tips it over, before a weight is allocated."""
    memory = _memory_bytes()
    limit = memory // BYTES_PER_TRAINED_PARAMETER
    total = 0
    for index, type_name, b in built:
        total += sum(p.numel() for p in b.module.parameters())
        if total > limit:
            raise SpecError(
                f"layer {index} ({type_name}) brings the network to {total:,} parameters; "
                f"training takes {BYTES_PER_TRAINED_PARAMETER} bytes each, more than this "
                f"machine's {memory / 2**30:.0f} GiB of memory: use fewer units or "
                "filters, or pool the input smaller before Flatten",
                where=f"layer {index}",
            )


def build_network(
    spec: ModelSpec,
    input_shape: Shape | None = None,
    num_outputs: int | None = None,
    *,
    check_size: bool = True,
) -> Network:
    """Build a spec for an input shape (from the dataset or the spec's own `input`).

    `check_size` refuses, before a weight is allocated, a network this machine's memory
    could not train (off for a trained network being loaded).

    Raises:
        SpecError: the spec names no input shape and none is given, the two disagree,
            or a layer does not fit (the message names it).
    """
    if spec.input is not None:
        if input_shape is not None and tuple(input_shape) != tuple(spec.input.shape):
            raise SpecError(
                f"model '{spec.name}' expects input {fmt_shape(spec.input.shape)}; "
                f"the data gives {fmt_shape(tuple(input_shape))}",
                where="input.shape",
            )
        input_shape = tuple(spec.input.shape)
    if input_shape is None:
        raise SpecError(f"model '{spec.name}': no input shape; give a dataset or an input shape")
    if any(int(d) < 1 for d in input_shape):
        raise SpecError(
            f"every size must be at least 1; received {fmt_shape(tuple(input_shape))}",
            where="input_shape",
        )
    context: dict[str, str] = {}
    if check_size:  # a network to train or summarise; a trained one being loaded is not
        with torch.device("meta"):  # shapes and sizes first, without allocating a weight
            sized = build_layers(spec.layers, tuple(input_shape), num_outputs)
        _check_size(sized)
    built = build_layers(spec.layers, tuple(input_shape), num_outputs, context=context)
    return Network(
        spec, tuple(input_shape), num_outputs, built, context.get("output_activation", "linear")
    )


def batched_forward(model: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Run a model in eval mode over `x` in chunks, without autograd; restores the mode."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            outs = [model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    if not outs:
        return torch.empty(0)
    return torch.cat(outs)  # (N, outputs)
