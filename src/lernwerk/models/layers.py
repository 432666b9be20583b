"""The core layer types: Dense, convolutions, pooling, dropout, normalisation,
recurrent layers and the Residual block, each registered under the name a spec writes.

Shapes exclude the batch dimension and are channels-first, as PyTorch has them:
(features,) for tables, (C, H, W) for images, (C, T) for sequences. Each layer type
checks that its input fits and says so in words when it does not; the network builder
adds "layer 3 (Conv2D): " in front. FLOPs count a multiply-add as 2, forward pass only.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import torch
from pydantic import Field
from torch import nn

from lernwerk.models.activations import ActivationName
from lernwerk.models.registry import (  # noqa: F401  (shared with the other layer modules)
    LAYERS,
    BuildContext,
    Built,
    IntOrPair,
    LayerMisfit,
    LayerType,
    Shape,
    _count,
    _describe_field,
    _expect_dims,
    _pair,
    _Params,
    _type_name,
    _window_out,
    _with_activation,
    fmt_shape,
    register,
    validate_params,
)


class DenseParams(_Params):
    units: int | Literal["auto"] = Field(
        description="outputs; 'auto' = number of classes, or 1 for regression"
    )
    activation: ActivationName = "linear"
    use_bias: bool = True


@register
class Dense(LayerType):
    name = "Dense"
    Params = DenseParams
    description = "fully connected layer"

    def build(self, p: DenseParams, shape: Shape, ctx: BuildContext) -> Built:
        _expect_dims(
            shape, 1, "a flat input (features,)", "add Flatten or a global pooling layer before it"
        )
        if p.units == "auto":
            if ctx.num_outputs is None:
                raise LayerMisfit(
                    "units: auto needs the number of outputs; give a dataset or a number"
                )
            units = ctx.num_outputs
        else:
            if p.units < 1:
                raise LayerMisfit(f"units must be at least 1; received: {p.units}")
            units = p.units
        linear = nn.Linear(shape[0], units, bias=p.use_bias)
        return Built(_with_activation(linear, p.activation, ctx), (units,), 2 * shape[0] * units)


class NoParams(_Params):
    pass


class _Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)  # (N, ...) -> (N, prod)


@register
class Flatten(LayerType):
    name = "Flatten"
    Params = NoParams
    description = "reshape to a flat vector"

    def build(self, p: NoParams, shape: Shape, ctx: BuildContext) -> Built:
        return Built(_Flatten(), (_count(shape),), 0)


class DropoutParams(_Params):
    rate: float = Field(0.5, ge=0, lt=1, description="fraction of inputs zeroed in training")


@register
class Dropout(LayerType):
    name = "Dropout"
    Params = DropoutParams
    description = "randomly zero inputs while training"

    def build(self, p: DropoutParams, shape: Shape, ctx: BuildContext) -> Built:
        return Built(nn.Dropout(p.rate), shape, 0)


class BatchNormParams(_Params):
    momentum: float = Field(
        0.99, gt=0, lt=1, description="Keras-style: weight of the old running mean"
    )
    epsilon: float = Field(1e-3, gt=0)


@register
class BatchNormalization(LayerType):
    name = "BatchNormalization"
    Params = BatchNormParams
    description = "normalise each channel over the batch"

    def build(self, p: BatchNormParams, shape: Shape, ctx: BuildContext) -> Built:
        torch_momentum = 1 - p.momentum  # PyTorch weighs the new value
        if len(shape) in (1, 2):
            module: nn.Module = nn.BatchNorm1d(shape[0], eps=p.epsilon, momentum=torch_momentum)
        elif len(shape) == 3:
            module = nn.BatchNorm2d(shape[0], eps=p.epsilon, momentum=torch_momentum)
        else:
            raise LayerMisfit(f"expects 1 to 3 dimensions; received {fmt_shape(shape)}")
        return Built(module, shape, 2 * _count(shape))


class ActivationParams(_Params):
    activation: ActivationName


class _Identity(nn.Identity):
    pass


@register
class Activation(LayerType):
    name = "Activation"
    Params = ActivationParams
    description = "an activation function on its own"

    def build(self, p: ActivationParams, shape: Shape, ctx: BuildContext) -> Built:
        module = _with_activation(_Identity(), p.activation, ctx)
        return Built(module, shape, _count(shape))


# ---------------------------------------------------------------------------- convolutions


class Conv2DParams(_Params):
    filters: int | Literal["auto"] = Field(
        description="output channels; 'auto' = the input's channels (an autoencoder's output)"
    )
    kernel_size: IntOrPair = Field(3, description="window size, one number or [height, width]")
    strides: IntOrPair = 1
    padding: Literal["valid", "same"] = "valid"
    activation: ActivationName = "linear"
    use_bias: bool = True


@register
class Conv2D(LayerType):
    name = "Conv2D"
    Params = Conv2DParams
    description = "2D convolution over images"

    def build(self, p: Conv2DParams, shape: Shape, ctx: BuildContext) -> Built:
        _expect_dims(shape, 3, "an image input (C, H, W)", "Conv2D works on images")
        c, h, w = shape
        filters = _filters(p.filters, ctx)
        (kh, kw), (sh, sw) = _pair(p.kernel_size), _pair(p.strides)
        if min(kh, kw, sh, sw) < 1:
            raise LayerMisfit("kernel_size and strides must be positive")
        dim = f"{h}×{w}"
        oh, top, bottom = _window_out(h, kh, sh, p.padding, "kernel_size", dim)
        ow, left, right = _window_out(w, kw, sw, p.padding, "kernel_size", dim)
        if top == bottom and left == right:
            conv: nn.Module = nn.Conv2d(
                c, filters, (kh, kw), (sh, sw), (top, left), bias=p.use_bias
            )
        else:  # asymmetric 'same' padding (even kernel or stride > 1), as Keras pads
            conv = nn.Sequential(
                nn.ZeroPad2d((left, right, top, bottom)),
                nn.Conv2d(c, filters, (kh, kw), (sh, sw), 0, bias=p.use_bias),
            )
        flops = 2 * c * kh * kw * filters * oh * ow
        return Built(_with_activation(conv, p.activation, ctx), (filters, oh, ow), flops)


def _filters(filters: int | str, ctx: BuildContext) -> int:
    """A convolution's output channels; 'auto' is the network's number of outputs."""
    if filters == "auto":
        if ctx.num_outputs is None:
            raise LayerMisfit(
                "filters: auto needs the number of outputs; give a dataset or a number"
            )
        return ctx.num_outputs
    assert isinstance(filters, int)
    if filters < 1:
        raise LayerMisfit(f"filters must be at least 1; received: {filters}")
    return filters


class UpSampling2DParams(_Params):
    size: IntOrPair = Field(
        2, description="the factor rows and columns grow by, or [rows, columns]"
    )
    interpolation: Literal["nearest", "bilinear"] = "nearest"


@register
class UpSampling2D(LayerType):
    name = "UpSampling2D"
    Params = UpSampling2DParams
    description = "repeat (or interpolate) each pixel, making the image larger"

    def build(self, p: UpSampling2DParams, shape: Shape, ctx: BuildContext) -> Built:
        _expect_dims(shape, 3, "an image input (C, H, W)", "UpSampling2D works on images")
        c, h, w = shape
        fh, fw = _pair(p.size)
        if min(fh, fw) < 1:
            raise LayerMisfit(f"size must be at least 1; received: {p.size}")
        out = (c, h * fh, w * fw)
        if p.interpolation == "nearest":
            module: nn.Module = nn.Upsample(scale_factor=(fh, fw), mode="nearest")
            flops = 0  # a copy
        else:  # each output value weighs its 4 nearest inputs: 4 multiply-adds
            module = nn.Upsample(scale_factor=(fh, fw), mode="bilinear", align_corners=False)
            flops = 8 * _count(out)
        return Built(module, out, flops)


class Conv1DParams(_Params):
    filters: int = Field(ge=1, description="output channels")
    kernel_size: int = Field(3, ge=1)
    strides: int = Field(1, ge=1)
    dilation_rate: int = Field(1, ge=1)
    padding: Literal["valid", "same"] = "valid"
    activation: ActivationName = "linear"
    use_bias: bool = True


@register
class Conv1D(LayerType):
    name = "Conv1D"
    Params = Conv1DParams
    description = "1D convolution over sequences"

    def build(self, p: Conv1DParams, shape: Shape, ctx: BuildContext) -> Built:
        _expect_dims(shape, 2, "a sequence input (C, T)", "Conv1D works on sequences")
        c, t = shape
        span = p.dilation_rate * (p.kernel_size - 1) + 1
        ot, before, after = _window_out(t, span, p.strides, p.padding, "kernel_size", f"length-{t}")
        conv: nn.Module = nn.Conv1d(
            c,
            p.filters,
            p.kernel_size,
            p.strides,
            padding=0,
            dilation=p.dilation_rate,
            bias=p.use_bias,
        )
        if before or after:
            conv = nn.Sequential(nn.ConstantPad1d((before, after), 0.0), conv)
        flops = 2 * c * p.kernel_size * p.filters * ot
        return Built(_with_activation(conv, p.activation, ctx), (p.filters, ot), flops)


# ---------------------------------------------------------------------------- pooling


class Pool2DParams(_Params):
    pool_size: IntOrPair = 2
    strides: IntOrPair | None = Field(None, description="defaults to pool_size")
    padding: Literal["valid", "same"] = "valid"


class _Pool2D(LayerType):
    Params = Pool2DParams
    mode: ClassVar[str]

    def build(self, p: Pool2DParams, shape: Shape, ctx: BuildContext) -> Built:
        _expect_dims(shape, 3, "an image input (C, H, W)", "pooling 2D works on images")
        c, h, w = shape
        kh, kw = _pair(p.pool_size)
        sh, sw = _pair(p.strides if p.strides is not None else p.pool_size)
        dim = f"{h}×{w}"
        oh, top, bottom = _window_out(h, kh, sh, p.padding, "pool_size", dim)
        ow, left, right = _window_out(w, kw, sw, p.padding, "pool_size", dim)
        pad_value = float("-inf") if self.mode == "max" else 0.0
        if self.mode == "max":
            pool: nn.Module = nn.MaxPool2d((kh, kw), (sh, sw))
        else:
            pool = nn.AvgPool2d((kh, kw), (sh, sw))
        if top or bottom or left or right:
            pool = nn.Sequential(nn.ConstantPad2d((left, right, top, bottom), pad_value), pool)
        return Built(pool, (c, oh, ow), c * oh * ow * kh * kw)


@register
class MaxPooling2D(_Pool2D):
    name = "MaxPooling2D"
    mode = "max"
    description = "maximum over windows of an image"


@register
class AveragePooling2D(_Pool2D):
    name = "AveragePooling2D"
    mode = "avg"
    description = "mean over windows of an image"


class Pool1DParams(_Params):
    pool_size: int = Field(2, ge=1)
    strides: int | None = Field(None, ge=1, description="defaults to pool_size")
    padding: Literal["valid", "same"] = "valid"


class _Pool1D(LayerType):
    Params = Pool1DParams
    mode: ClassVar[str]

    def build(self, p: Pool1DParams, shape: Shape, ctx: BuildContext) -> Built:
        _expect_dims(shape, 2, "a sequence input (C, T)", "pooling 1D works on sequences")
        c, t = shape
        stride = p.strides or p.pool_size
        ot, before, after = _window_out(
            t, p.pool_size, stride, p.padding, "pool_size", f"length-{t}"
        )
        pool: nn.Module = (
            nn.MaxPool1d(p.pool_size, stride)
            if self.mode == "max"
            else nn.AvgPool1d(p.pool_size, stride)
        )
        if before or after:
            pad_value = float("-inf") if self.mode == "max" else 0.0
            pool = nn.Sequential(nn.ConstantPad1d((before, after), pad_value), pool)
        return Built(pool, (c, ot), c * ot * p.pool_size)


@register
class MaxPooling1D(_Pool1D):
    name = "MaxPooling1D"
    mode = "max"
    description = "maximum over windows of a sequence"


@register
class AveragePooling1D(_Pool1D):
    name = "AveragePooling1D"
    mode = "avg"
    description = "mean over windows of a sequence"


class _GlobalPool(nn.Module):
    def __init__(self, dims: tuple[int, ...], mode: str) -> None:
        super().__init__()
        self.dims, self.mode = dims, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "max":
            return x.amax(dim=self.dims)
        return x.mean(dim=self.dims)  # (N, C, ...) -> (N, C)


class _GlobalPoolType(LayerType):
    Params = NoParams
    dims: ClassVar[int]
    mode: ClassVar[str]

    def build(self, p: NoParams, shape: Shape, ctx: BuildContext) -> Built:
        what = "an image input (C, H, W)" if self.dims == 3 else "a sequence input (C, T)"
        _expect_dims(shape, self.dims, what, f"{self.name} pools over its spatial axes")
        return Built(
            _GlobalPool(tuple(range(2, self.dims + 1)), self.mode), (shape[0],), _count(shape)
        )


@register
class GlobalAveragePooling2D(_GlobalPoolType):
    name, dims, mode = "GlobalAveragePooling2D", 3, "avg"
    description = "mean of each channel over the image"


@register
class GlobalMaxPooling2D(_GlobalPoolType):
    name, dims, mode = "GlobalMaxPooling2D", 3, "max"
    description = "maximum of each channel over the image"


@register
class GlobalAveragePooling1D(_GlobalPoolType):
    name, dims, mode = "GlobalAveragePooling1D", 2, "avg"
    description = "mean of each channel over time"


@register
class GlobalMaxPooling1D(_GlobalPoolType):
    name, dims, mode = "GlobalMaxPooling1D", 2, "max"
    description = "maximum of each channel over time"


# ---------------------------------------------------------------------------- recurrent


class RecurrentParams(_Params):
    units: int = Field(ge=1, description="size of the hidden state")
    return_sequences: bool = Field(
        False, description="output every step (C, T) instead of the last"
    )
    bidirectional: bool = False


class _Recurrent(nn.Module):
    def __init__(self, cell: str, channels: int, p: RecurrentParams) -> None:
        super().__init__()
        rnn_class = nn.LSTM if cell == "LSTM" else nn.GRU
        self.rnn = rnn_class(channels, p.units, batch_first=True, bidirectional=p.bidirectional)
        self.units, self.return_sequences, self.bidirectional = (
            p.units,
            p.return_sequences,
            p.bidirectional,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x.transpose(1, 2))  # (N, C, T) -> (N, T, D*H)
        if self.return_sequences:
            return out.transpose(1, 2)  # (N, D*H, T)
        if not self.bidirectional:
            return out[:, -1]  # (N, H)
        # the forward direction ends at the last step, the backward one at the first
        return torch.cat([out[:, -1, : self.units], out[:, 0, self.units :]], dim=1)  # (N, 2H)


class _RecurrentType(LayerType):
    Params = RecurrentParams
    gates: ClassVar[int]

    def build(self, p: RecurrentParams, shape: Shape, ctx: BuildContext) -> Built:
        _expect_dims(shape, 2, "a sequence input (C, T)", f"{self.name} works on sequences")
        c, t = shape
        directions = 2 if p.bidirectional else 1
        out_shape = (directions * p.units, t) if p.return_sequences else (directions * p.units,)
        flops = directions * t * 2 * self.gates * p.units * (c + p.units)
        return Built(_Recurrent(self.name, c, p), out_shape, flops)


@register
class LSTM(_RecurrentType):
    name, gates = "LSTM", 4
    description = "long short-term memory over a sequence"


@register
class GRU(_RecurrentType):
    name, gates = "GRU", 3
    description = "gated recurrent unit over a sequence"


# ---------------------------------------------------------------------------- residual block
