"""Blocks for networks that are not a single chain: `Sequential`, `Parallel`, `Residual`.

`Parallel` feeds one input to several branches and joins their outputs, concatenated on
the channel axis (InceptionTime's modules, LSTM-FCN's two paths) or added. A branch is
one layer, or a `Sequential` block of several. Shapes are checked when the network is
built and a misfit names the branch: "layer 5 (Parallel): branch 5.3 gives 32×75 …".
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from pydantic import Field
from torch import nn

from lernwerk.models.activations import ActivationName, make_activation
from lernwerk.models.registry import (
    BuildContext,
    Built,
    LayerMisfit,
    LayerType,
    Shape,
    _count,
    _Params,
    fmt_shape,
    register,
)


class SequentialParams(_Params):
    layers: list[dict[str, Any]] = Field(min_length=1, description="layers, in order")


@register
class Sequential(LayerType):
    """Several layers as one, e.g. one branch of a `Parallel` block."""

    name = "Sequential"
    Params = SequentialParams
    description = "several layers in a row, as one layer (a branch of Parallel)"

    def build(self, p: SequentialParams, shape: Shape, ctx: BuildContext) -> Built:
        inner = ctx.build_inner(p.layers, shape)
        module = nn.Sequential(*(b.module for _, _, b in inner))
        return Built(module, inner[-1][2].out_shape, sum(b.flops for _, _, b in inner), inner)


class ParallelParams(_Params):
    layers: list[dict[str, Any]] = Field(
        min_length=2,
        description="the branches, each a layer or a Sequential block; all get the same input",
    )
    merge: Literal["concatenate", "add"] = Field(
        "concatenate",
        description="join the branches: concatenate on channels (features when flat) or add",
    )


class _ParallelBlock(nn.Module):
    def __init__(self, branches: list[nn.Module], merge: str) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.merge = merge

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [branch(x) for branch in self.branches]
        if self.merge == "add":
            total = outs[0]
            for out in outs[1:]:
                total = total + out
            return total
        return torch.cat(outs, dim=1)  # (N, C1 + C2 + …, …)


@register
class Parallel(LayerType):
    """Branches side by side on the same input, joined by concatenation or addition.

    Concatenation needs every branch to give the same number of axes and the same size
    on every axis but the channels (the first); addition needs equal shapes.
    """

    name = "Parallel"
    Params = ParallelParams
    description = "branches on the same input, concatenated on channels or added"

    def build(self, p: ParallelParams, shape: Shape, ctx: BuildContext) -> Built:
        branches: list[tuple[str, str, Built]] = []
        for i, raw in enumerate(p.layers):
            branches += ctx.build_inner([raw], shape, first=i + 1)
        shapes = [(index, b.out_shape) for index, _, b in branches]
        out_shape = self._merged_shape(shapes, p.merge)
        module = _ParallelBlock([b.module for _, _, b in branches], p.merge)
        flops = sum(b.flops for _, _, b in branches)
        if p.merge == "add":
            flops += (len(branches) - 1) * math.prod(out_shape)
        return Built(module, out_shape, flops, children=branches)

    @staticmethod
    def _merged_shape(shapes: list[tuple[str, Shape]], merge: str) -> Shape:
        first_index, first = shapes[0]
        for index, out in shapes[1:]:
            if merge == "add":
                if out != first:
                    raise LayerMisfit(
                        f"branch {index} gives {fmt_shape(out)} but branch {first_index} gives "
                        f"{fmt_shape(first)}; adding needs the same shape in every branch"
                    )
                continue
            if len(out) != len(first):
                raise LayerMisfit(
                    f"branch {index} gives {fmt_shape(out)} but branch {first_index} gives "
                    f"{fmt_shape(first)}; concatenating needs the same number of axes; "
                    "add Flatten or a global pooling layer to the branch that has more"
                )
            if out[1:] != first[1:]:
                raise LayerMisfit(
                    f"branch {index} gives {fmt_shape(out)} but branch {first_index} gives "
                    f"{fmt_shape(first)}; concatenating on channels needs the same size on "
                    "the other axes; use padding='same' and strides 1 in every branch"
                )
        if merge == "add":
            return first
        return (sum(out[0] for _, out in shapes), *first[1:])


class ResidualParams(_Params):
    layers: list[dict[str, Any]] = Field(min_length=1, description="the block's main path")
    activation: ActivationName = Field("relu", description="applied after the addition")
    shortcut: list[dict[str, Any]] = Field(
        default_factory=list,
        description="layers on the shortcut, after the projection when the shape changes "
        "(e.g. BatchNormalization, as Wang et al. 2017's time-series ResNet)",
    )


class _ResidualBlock(nn.Module):
    def __init__(
        self, body: nn.Sequential, shortcut: nn.Module, activation: nn.Module | None
    ) -> None:
        super().__init__()
        self.body, self.shortcut = body, shortcut
        self.activation = activation if activation is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.body(x) + self.shortcut(x))


@register
class Residual(LayerType):
    """A block whose output is its layers' output plus its input (He et al. 2016).

    When the layers change the shape, the shortcut is a 1×1 convolution (or a Dense
    layer for flat input) with the stride that matches, as in ResNet's projection.
    """

    name = "Residual"
    Params = ResidualParams
    description = "layers plus a shortcut connection"

    def build(self, p: ResidualParams, shape: Shape, ctx: BuildContext) -> Built:
        inner = ctx.build_inner(p.layers, shape)
        out_shape = inner[-1][2].out_shape if inner else shape
        shortcut, flops = self._shortcut(shape, out_shape)
        if p.shortcut:
            side = ctx.build_inner(p.shortcut, out_shape, prefix=f"{ctx.index}.shortcut")
            if side[-1][2].out_shape != out_shape:
                raise LayerMisfit(
                    f"the shortcut's layers turn {fmt_shape(out_shape)} into "
                    f"{fmt_shape(side[-1][2].out_shape)}; they must keep the block's output shape"
                )
            shortcut = nn.Sequential(shortcut, *(b.module for _, _, b in side))
            flops += sum(b.flops for _, _, b in side)
        act = make_activation(p.activation)
        module = _ResidualBlock(nn.Sequential(*(b.module for _, _, b in inner)), shortcut, act)
        flops += sum(b.flops for _, _, b in inner) + _count(out_shape)
        return Built(module, out_shape, flops, children=inner)

    @staticmethod
    def _shortcut(shape: Shape, out_shape: Shape) -> tuple[nn.Module, int]:
        if shape == out_shape:
            return nn.Identity(), 0
        if len(shape) != len(out_shape):
            raise LayerMisfit(
                f"the block turns {fmt_shape(shape)} into {fmt_shape(out_shape)}; "
                "a shortcut can only change channels and size, not the number of axes"
            )
        if len(shape) == 1:
            return nn.Linear(shape[0], out_shape[0]), 2 * shape[0] * out_shape[0]
        strides = []
        for size, out in zip(shape[1:], out_shape[1:], strict=True):
            stride = max(1, round(size / out))
            if (size - 1) // stride + 1 != out:
                raise LayerMisfit(
                    f"the block turns {fmt_shape(shape)} into {fmt_shape(out_shape)}; "
                    "the shortcut needs the size divided by a whole stride (use padding='same')"
                )
            strides.append(stride)
        conv_class = nn.Conv2d if len(shape) == 3 else nn.Conv1d
        conv = conv_class(shape[0], out_shape[0], 1, tuple(strides), bias=False)
        return conv, 2 * shape[0] * _count(out_shape)
