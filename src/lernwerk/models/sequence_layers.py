"""Layers that make sequences longer or shorter again: the decoder half of an autoencoder.

`UpSampling1D` repeats each step, `Conv1DTranspose` learns the upsampling (Keras's
shapes: 'same' gives T·strides, 'valid' (T−1)·strides + kernel_size), `Cropping1D`
cuts steps off the ends. Shapes are (C, T), as for every sequence layer.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import Field
from torch import nn

from lernwerk.models.activations import ActivationName
from lernwerk.models.layers import (
    BuildContext,
    Built,
    IntOrPair,
    LayerMisfit,
    LayerType,
    Shape,
    _expect_dims,
    _Params,
    _with_activation,
    fmt_shape,
    register,
)


class UpSamplingParams(_Params):
    size: int = Field(2, ge=1, description="how often each time step is repeated")


@register
class UpSampling1D(LayerType):
    name = "UpSampling1D"
    Params = UpSamplingParams
    description = "repeat each time step, making the sequence longer"

    def build(self, p: UpSamplingParams, shape: Shape, ctx: BuildContext) -> Built:
        _expect_dims(shape, 2, "a sequence input (C, T)", "UpSampling1D works on sequences")
        c, t = shape
        return Built(nn.Upsample(scale_factor=p.size, mode="nearest"), (c, t * p.size), 0)


class Conv1DTransposeParams(_Params):
    filters: int | Literal["auto"] = Field(
        description="output channels; 'auto' = the input's channels (an autoencoder's output)"
    )
    kernel_size: int = Field(3, ge=1)
    strides: int = Field(1, ge=1, description="the factor the sequence grows by")
    padding: Literal["valid", "same"] = "valid"
    activation: ActivationName = "linear"
    use_bias: bool = True


class _Crop1D(nn.Module):
    def __init__(self, before: int, after: int) -> None:
        super().__init__()
        self.before, self.after = before, after

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, self.before : x.shape[2] - self.after]  # (N, C, T - before - after)


@register
class Conv1DTranspose(LayerType):
    name = "Conv1DTranspose"
    Params = Conv1DTransposeParams
    description = "transposed 1D convolution: learnt upsampling of a sequence"

    def build(self, p: Conv1DTransposeParams, shape: Shape, ctx: BuildContext) -> Built:
        _expect_dims(shape, 2, "a sequence input (C, T)", "Conv1DTranspose works on sequences")
        c, t = shape
        if p.filters == "auto":
            if ctx.num_outputs is None:
                raise LayerMisfit(
                    "filters: auto needs the number of outputs; give a dataset or a number"
                )
            filters = ctx.num_outputs
        else:
            if p.filters < 1:
                raise LayerMisfit(f"filters must be at least 1; received: {p.filters}")
            filters = p.filters
        k, s = p.kernel_size, p.strides
        full = (t - 1) * s + k  # what the transposed convolution gives without cropping
        conv: nn.Module = nn.ConvTranspose1d(c, filters, k, s, bias=p.use_bias)
        if p.padding == "valid":
            out = full
        else:  # 'same': T·strides steps, cropped from the full output as Keras does
            out = t * s
            if full >= out:
                crop = full - out
                conv = nn.Sequential(conv, _Crop1D(crop // 2, crop - crop // 2))
            else:  # a kernel shorter than the stride leaves a gap at the end
                conv = nn.Sequential(conv, nn.ConstantPad1d((0, out - full), 0.0))
        flops = 2 * c * k * filters * t
        return Built(_with_activation(conv, p.activation, ctx), (filters, out), flops)


class CroppingParams(_Params):
    cropping: IntOrPair = Field(
        1, description="steps cut off both ends, one number or [start, end]"
    )


@register
class Cropping1D(LayerType):
    name = "Cropping1D"
    Params = CroppingParams
    description = "cut time steps off the start and end of a sequence"

    def build(self, p: CroppingParams, shape: Shape, ctx: BuildContext) -> Built:
        _expect_dims(shape, 2, "a sequence input (C, T)", "Cropping1D works on sequences")
        before, after = (p.cropping, p.cropping) if isinstance(p.cropping, int) else p.cropping
        if before < 0 or after < 0:
            raise LayerMisfit(f"cropping must not be negative; received: {p.cropping}")
        c, t = shape
        if before + after >= t:
            raise LayerMisfit(
                f"cropping {before}+{after} steps leaves nothing of the length-{t} input"
            )
        return Built(_Crop1D(before, after), (c, t - before - after), 0)


class ReshapeParams(_Params):
    target_shape: list[int] = Field(
        min_length=1,
        max_length=3,
        description="the shape of one sample after the layer, e.g. [8, 16] for 8 channels "
        "of 16 steps; one entry may be -1 (whatever is left)",
    )


class _Reshape(nn.Module):
    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)  # (N, *target_shape)


@register
class Reshape(LayerType):
    name = "Reshape"
    Params = ReshapeParams
    description = "give the same values another shape, e.g. a Dense output back as a sequence"

    def build(self, p: ReshapeParams, shape: Shape, ctx: BuildContext) -> Built:
        size = math.prod(shape)
        target = list(p.target_shape)
        if any(d == 0 or d < -1 for d in target) or target.count(-1) > 1:
            raise LayerMisfit(
                f"target_shape takes positive sizes and at most one -1; received: {target}"
            )
        known = math.prod(d for d in target if d != -1)
        if -1 in target:
            if size % known:
                raise LayerMisfit(
                    f"{size} values do not divide into {fmt_shape(target)}: {size} is not a "
                    f"multiple of {known}"
                )
            target[target.index(-1)] = size // known
        elif known != size:
            raise LayerMisfit(
                f"{size} values (the input {fmt_shape(shape)}) do not fit {fmt_shape(target)} "
                f"({known} values)"
            )
        return Built(_Reshape(tuple(target)), tuple(target), 0)
