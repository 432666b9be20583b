"""The code behind a design: a trained network written out as one plain PyTorch file.

`network_code` walks a built `Network` and writes an `nn.Module` class a learner could
have typed: one line per layer with its output shape, `forward` step by step, the
attribute names those of lernwerk's state dict so the run's weights load unchanged.
Layers lernwerk made for itself (global pooling, a recurrent layer's last step, blocks
with branches, the EfficientNet backbone) come along as small classes at the top of the
file. A module the writer does not know raises `SpecError` naming it: nothing is guessed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from torch import nn

from lernwerk.errors import SpecError
from lernwerk.models import ensemble, pretrained
from lernwerk.models import layers as core
from lernwerk.models.branches import _ParallelBlock, _ResidualBlock
from lernwerk.models.network import Network
from lernwerk.models.registry import fmt_shape
from lernwerk.models.sequence_layers import _Crop1D, _Reshape

INDENT = "    "

# the helper classes a file needs, by name: each is plain torch, written for this file
HELPERS: dict[str, str] = {
    "GlobalPool": '''
class GlobalPool(nn.Module):
    """Mean (or maximum) of each channel over the plane or the time axis."""

    def __init__(self, dims: tuple[int, ...], mode: str) -> None:
        super().__init__()
        self.dims, self.mode = dims, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "max":
            return x.amax(dim=self.dims)
        return x.mean(dim=self.dims)  # (N, C, ...) -> (N, C)
''',
    "Recurrent": '''
class Recurrent(nn.Module):
    """An LSTM or GRU over (N, C, T): every step's output, or the last step's."""

    def __init__(self, rnn: nn.Module, units: int, return_sequences: bool) -> None:
        super().__init__()
        self.rnn, self.units, self.return_sequences = rnn, units, return_sequences

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x.transpose(1, 2))  # (N, C, T) -> (N, T, D*H)
        if self.return_sequences:
            return out.transpose(1, 2)  # (N, D*H, T)
        if not self.rnn.bidirectional:
            return out[:, -1]  # (N, H)
        # the forward direction ends at the last step, the backward one at the first
        return torch.cat([out[:, -1, : self.units], out[:, 0, self.units :]], dim=1)
''',
    "Parallel": '''
class Parallel(nn.Module):
    """Branches side by side on the same input, concatenated on channels or added."""

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
        return torch.cat(outs, dim=1)  # (N, C1 + C2 + ..., ...)
''',
    "Residual": '''
class Residual(nn.Module):
    """body(x) + shortcut(x), then an activation: the input skips the body."""

    def __init__(self, body: nn.Module, shortcut: nn.Module, activation: nn.Module) -> None:
        super().__init__()
        self.body, self.shortcut, self.activation = body, shortcut, activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.body(x) + self.shortcut(x))
''',
    "Crop1D": '''
class Crop1D(nn.Module):
    """Drop time steps at the start and the end of a sequence."""

    def __init__(self, before: int, after: int) -> None:
        super().__init__()
        self.before, self.after = before, after

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, self.before : x.shape[2] - self.after]
''',
    "Reshape": '''
class Reshape(nn.Module):
    """Give each sample a new shape (the batch axis stays)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)
''',
    "Ensemble": '''
class Ensemble(nn.Module):
    """Several copies of one network (members), each from its own random start; their
    predictions averaged: the log of the mean softmax (or the logit of the mean sigmoid)."""

    def __init__(self, members: list[nn.Module], activation: str) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        members = torch.stack([member(x) for member in self.members])  # (M, N, K)
        if self.activation == "softmax":
            logp = torch.log_softmax(members.float(), dim=2)
            return torch.logsumexp(logp, dim=0) - math.log(members.shape[0])
        if self.activation == "sigmoid":
            p = torch.sigmoid(members.float()).mean(dim=0)
            p = p.clamp(PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
            return torch.log(p) - torch.log1p(-p)
        return members.mean(dim=0)
''',
    "EfficientNetLite0": '''
def same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding along one axis: (before, after), the extra one after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """A convolution padded as TensorFlow's 'same' pads, for whatever size comes in."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = same_pad(x.shape[-2], self.kernel_size[0], self.stride[0])
        left, right = same_pad(x.shape[-1], self.kernel_size[1], self.stride[1])
        return super().forward(F.pad(x, (left, right, top, bottom)))


def bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConv(nn.Module):
    """An inverted residual block: 1x1 expansion, depthwise kxk, 1x1 projection (linear),
    with the input added back when the shape stays."""

    def __init__(self, cin: int, cout: int, expand: int, kernel: int, stride: int) -> None:
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = SameConv2d(cin, mid, 1, bias=False)
            self._bn0 = bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = bn(mid)
        self._project_conv = SameConv2d(mid, cout, 1, bias=False)
        self._bn2 = bn(cout)
        self.expand, self.skip = expand != 1, stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0's convolutional part: (N, 1 or 3, H, W) -> (N, 1280, H/32, W/32).
    A grey image is repeated to three channels."""

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, STEM, 3, 2, bias=False)
        self._bn0 = bn(STEM)
        self._blocks = nn.ModuleList(MBConv(*block) for block in BLOCKS)
        self._conv_head = SameConv2d(BLOCKS[-1][1], 1280, 1, bias=False)
        self._bn1 = bn(1280)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))
''',
}


def _efficientnet_constants() -> str:
    blocks = ",\n".join(f"{INDENT}{tuple(b)}" for b in pretrained._block_plan())
    return (
        f"BN_EPS, BN_MOMENTUM = {pretrained.BN_EPS}, {pretrained.BN_MOMENTUM}\n"
        f"STEM = {pretrained.STEM}\n"
        "# (input channels, output channels, expansion, kernel, stride) of the 16 blocks\n"
        f"BLOCKS = [\n{blocks},\n]\n"
    )


class _Writer:
    """Turns modules into constructor expressions, noting the helpers they need."""

    def __init__(self) -> None:
        self.helpers: list[str] = []

    def need(self, name: str) -> str:
        if name not in self.helpers:
            self.helpers.append(name)
        return name

    def expr(self, m: nn.Module, depth: int) -> str:
        writer = _WRITERS.get(type(m))
        if writer is None:
            for cls, w in _WRITERS.items():  # a subclass lernwerk made of a torch layer
                if isinstance(m, cls) and type(m).__module__.startswith("lernwerk"):
                    writer = w
                    break
        if writer is None:
            raise SpecError(
                f"the PyTorch code export does not know the module {type(m).__name__}",
                where="format",
            )
        return writer(self, m, depth)

    def listing(self, head: str, children: list[nn.Module], depth: int, tail: str = "") -> str:
        pad = INDENT * (depth + 1)
        items = "".join(f"{pad}{self.expr(c, depth + 1)},\n" for c in children)
        return f"{head}(\n{items}{INDENT * depth}{tail})" if items else f"{head}({tail})"


def _lit(value: Any) -> str:
    """A value as Python source (an infinite float as float("-inf"))."""
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    return repr(value)


def _args(*positional: Any, **keywords: Any) -> str:
    parts = [_lit(a) for a in positional]
    parts += [f"{k}={_lit(v)}" for k, v in keywords.items()]
    return ", ".join(parts)


def _changed(m: nn.Module, defaults: dict[str, Any]) -> dict[str, Any]:
    """The constructor arguments whose values differ from PyTorch's defaults."""
    out = {}
    for name, default in defaults.items():
        value = getattr(m, name)
        if isinstance(value, tuple) and len(set(value)) == 1 and not isinstance(default, tuple):
            value = value[0]
        if value != default:
            out[name] = value
    return out


def _conv(w: _Writer, m: nn.Module, depth: int) -> str:
    kind = {nn.Conv1d: "Conv1d", nn.Conv2d: "Conv2d", nn.ConvTranspose1d: "ConvTranspose1d"}
    name = next(v for k, v in kind.items() if isinstance(m, k))
    if isinstance(m, pretrained.SameConv2d):
        w.need("EfficientNetLite0")
        name = "SameConv2d"
    else:
        name = f"nn.{name}"
    kernel = m.kernel_size[0] if len(set(m.kernel_size)) == 1 else m.kernel_size
    extra = _changed(
        m, {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "padding_mode": "zeros"}
    )
    if isinstance(m, nn.ConvTranspose1d):
        extra |= _changed(m, {"output_padding": 0})
    if m.bias is None:
        extra["bias"] = False
    return f"{name}({_args(m.in_channels, m.out_channels, kernel, **extra)})"


def _linear(w: _Writer, m: nn.Linear, depth: int) -> str:
    extra = {} if m.bias is not None else {"bias": False}
    return f"nn.Linear({_args(m.in_features, m.out_features, **extra)})"


def _batchnorm(w: _Writer, m: nn.Module, depth: int) -> str:
    name = "BatchNorm1d" if isinstance(m, nn.BatchNorm1d) else "BatchNorm2d"
    extra = _changed(m, {"eps": 1e-5, "momentum": 0.1, "affine": True})
    return f"nn.{name}({_args(m.num_features, **extra)})"


def _pool(w: _Writer, m: nn.Module, depth: int) -> str:
    name = type(m).__name__
    kernel, stride = _one(m.kernel_size), _one(m.stride)
    extra = _changed(m, {"padding": 0, "ceil_mode": False})
    if stride != kernel:
        extra = {"stride": stride, **extra}
    return f"nn.{name}({_args(kernel, **extra)})"


def _one(value: Any) -> Any:
    """(2, 2) as 2: a window written as PyTorch's own examples write it."""
    if isinstance(value, tuple) and len(set(value)) == 1:
        return value[0]
    return value


def _dropout(w: _Writer, m: nn.Dropout, depth: int) -> str:
    return f"nn.Dropout({m.p!r})"


def _plain(name: str) -> Callable[[_Writer, nn.Module, int], str]:
    return lambda w, m, depth: f"nn.{name}()"


def _leaky(w: _Writer, m: nn.LeakyReLU, depth: int) -> str:
    return "nn.LeakyReLU()" if m.negative_slope == 0.01 else f"nn.LeakyReLU({m.negative_slope})"


def _softmax(w: _Writer, m: nn.Softmax, depth: int) -> str:
    return f"nn.Softmax(dim={m.dim})"


def _upsample(w: _Writer, m: nn.Upsample, depth: int) -> str:
    extra = {} if m.align_corners is None else {"align_corners": m.align_corners}
    return f"nn.Upsample({_args(scale_factor=m.scale_factor, mode=m.mode, **extra)})"


def _pad(w: _Writer, m: nn.Module, depth: int) -> str:
    if isinstance(m, (nn.ZeroPad1d, nn.ZeroPad2d)):
        return f"nn.{type(m).__name__}({_lit(m.padding)})"
    return f"nn.{type(m).__name__}({_args(m.padding, m.value)})"


def _sequential(w: _Writer, m: nn.Sequential, depth: int) -> str:
    return w.listing("nn.Sequential", list(m), depth)


def _flatten(w: _Writer, m: nn.Module, depth: int) -> str:
    return "nn.Flatten()"


def _global_pool(w: _Writer, m: core._GlobalPool, depth: int) -> str:
    return f"{w.need('GlobalPool')}({_args(tuple(m.dims), m.mode)})"


def _recurrent(w: _Writer, m: core._Recurrent, depth: int) -> str:
    rnn = m.rnn
    cell = "LSTM" if isinstance(rnn, nn.LSTM) else "GRU"
    extra = {"batch_first": True, **({"bidirectional": True} if rnn.bidirectional else {})}
    inner = f"nn.{cell}({_args(rnn.input_size, rnn.hidden_size, **extra)})"
    return f"{w.need('Recurrent')}({inner}, units={m.units}, return_sequences={m.return_sequences})"


def _parallel(w: _Writer, m: _ParallelBlock, depth: int) -> str:
    pad = INDENT * (depth + 1)
    branches = "".join(f"{pad}{w.expr(b, depth + 1)},\n" for b in m.branches)
    return f"{w.need('Parallel')}([\n{branches}{INDENT * depth}], merge={m.merge!r})"


def _residual(w: _Writer, m: _ResidualBlock, depth: int) -> str:
    pad = INDENT * (depth + 1)
    name = w.need("Residual")
    return (
        f"{name}(\n{pad}body={w.expr(m.body, depth + 1)},\n"
        f"{pad}shortcut={w.expr(m.shortcut, depth + 1)},\n"
        f"{pad}activation={w.expr(m.activation, depth + 1)},\n{INDENT * depth})"
    )


def _crop(w: _Writer, m: _Crop1D, depth: int) -> str:
    return f"{w.need('Crop1D')}({m.before}, {m.after})"


def _reshape(w: _Writer, m: _Reshape, depth: int) -> str:
    return f"{w.need('Reshape')}({tuple(m.shape)!r})"


def _ensemble(w: _Writer, m: Any, depth: int) -> str:
    pad = INDENT * (depth + 1)
    members = "".join(f"{pad}{w.expr(member, depth + 1)},\n" for member in m.members)
    return f"{w.need('Ensemble')}([\n{members}{INDENT * depth}], activation={m.activation!r})"


def _efficientnet(w: _Writer, m: nn.Module, depth: int) -> str:
    return f"{w.need('EfficientNetLite0')}()"


_WRITERS: dict[type, Callable[[_Writer, Any, int], str]] = {
    nn.Conv1d: _conv,
    nn.Conv2d: _conv,
    nn.ConvTranspose1d: _conv,
    nn.Linear: _linear,
    nn.BatchNorm1d: _batchnorm,
    nn.BatchNorm2d: _batchnorm,
    nn.MaxPool1d: _pool,
    nn.MaxPool2d: _pool,
    nn.AvgPool1d: _pool,
    nn.AvgPool2d: _pool,
    nn.Dropout: _dropout,
    nn.ReLU: _plain("ReLU"),
    nn.ReLU6: _plain("ReLU6"),
    nn.Tanh: _plain("Tanh"),
    nn.Sigmoid: _plain("Sigmoid"),
    nn.GELU: _plain("GELU"),
    nn.Identity: _plain("Identity"),
    nn.LeakyReLU: _leaky,
    nn.Softmax: _softmax,
    nn.Upsample: _upsample,
    nn.Sequential: _sequential,
    nn.ConstantPad1d: _pad,
    nn.ConstantPad2d: _pad,
    nn.ZeroPad1d: _pad,
    nn.ZeroPad2d: _pad,
    core._Flatten: _flatten,
    core._GlobalPool: _global_pool,
    core._Recurrent: _recurrent,
    _ParallelBlock: _parallel,
    _ResidualBlock: _residual,
    _Crop1D: _crop,
    _Reshape: _reshape,
    pretrained.EfficientNetLite0Features: _efficientnet,
    ensemble.EnsembleBlock: _ensemble,
}


def network_code(network: Network, class_name: str = "Net") -> tuple[str, list[str]]:
    """The `nn.Module` class of `network` as source, and the helpers it uses (in order).

    Raises:
        SpecError: a module the writer does not know (named).
    """
    w = _Writer()
    pad2 = INDENT * 2
    lines = [
        f"class {class_name}(nn.Module):",
        f'{INDENT}"""{network.spec.name}: input {fmt_shape(network.input_shape)} per sample, '
        f'{len(network.layer_table)} layers."""',
        "",
        f"{INDENT}def __init__(self) -> None:",
        f"{pad2}super().__init__()",
        f"{pad2}self.layers = nn.ModuleList([",
    ]
    for (index, type_name, built), module in zip(network.layer_table, network.layers, strict=True):
        lines.append(f"{pad2}{INDENT}# {index}: {type_name} -> {fmt_shape(built.out_shape)}")
        lines.append(f"{pad2}{INDENT}{w.expr(module, 3)},")
    lines += [f"{pad2}])", "", f"{INDENT}def forward(self, x: torch.Tensor) -> torch.Tensor:"]
    lines.append(f"{pad2}# x: (N, {', '.join(map(str, network.input_shape))})")
    for i, (_, type_name, built) in enumerate(network.layer_table):
        shape = ", ".join(map(str, built.out_shape))
        lines.append(f"{pad2}x = self.layers[{i}](x)  # {type_name}: (N, {shape})")
    note = {
        "softmax": "logits: softmax(x, dim=1) gives the class probabilities",
        "sigmoid": "logits: sigmoid(x) gives the probabilities",
    }.get(network.output_activation, "the output")
    lines.append(f"{pad2}return x  # {note}")
    return "\n".join(lines) + "\n", w.helpers


def network_source(network: Network) -> str:
    """The network as a file a learner can paste: imports, helper classes, the class."""
    net, helpers = network_code(network)
    head = "import math\n\n" if {"EfficientNetLite0", "Ensemble"} & set(helpers) else ""
    head += "import torch\n"
    head += "import torch.nn.functional as F\n" if "EfficientNetLite0" in helpers else ""
    head += "from torch import nn\n"
    parts = [head, helpers_code(helpers) if helpers else "", net]
    return "\n\n".join(p.rstrip("\n") + "\n" for p in parts if p)


def helpers_code(names: list[str]) -> str:
    """The source of the helper classes `network_code` asked for."""
    parts = []
    if "EfficientNetLite0" in names:
        parts.append(_efficientnet_constants())
    if "Ensemble" in names:
        parts.append(f"PROBABILITY_FLOOR = {ensemble.PROBABILITY_FLOOR!r}\n")
    parts += [HELPERS[n].strip() + "\n" for n in names]
    return "\n\n".join(parts)


# ---------------------------------------------------------------------------- the whole file

SAFETENSORS_READER = '''
DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16,
          "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32,
          "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}


def load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """Read a safetensors file: 8 bytes of header length, a JSON header, the raw bytes."""
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    header.pop("__metadata__", None)
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        raw = bytearray(data[8 + length + start : 8 + length + end])
        dtype = DTYPES[info["dtype"]]
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(info["shape"])
    return tensors


def load_weights(model: nn.Module, path: Path = HERE / "model.safetensors") -> nn.Module:
    """Put the run's trained weights into the network (the names match one by one)."""
    model.load_state_dict(load_safetensors(path))
    return model
'''

_STAT_SHAPE = {"table": "(-1,)", "images": "(-1, 1, 1)", "sequences": "(-1, 1)"}

_OPTIMIZERS = {
    "sgd": "torch.optim.SGD(params, lr=LR, momentum={momentum}, nesterov={nesterov}, "
    "weight_decay={weight_decay})",
    "adam": "torch.optim.Adam(params, lr=LR, weight_decay={weight_decay})",
    "adamw": "torch.optim.AdamW(params, lr=LR, weight_decay={weight_decay})",
    "rmsprop": "torch.optim.RMSprop(params, lr=LR, momentum={momentum}, "
    "weight_decay={weight_decay})",
    "adagrad": "torch.optim.Adagrad(params, lr=LR, weight_decay={weight_decay})",
}

_SCHEDULES = {
    "constant": "    return 1.0  # a constant learning rate\n",
    "step": "    return {gamma} ** (step // (per_epoch * {step_size_epochs}))"
    "  # times {gamma} every {step_size_epochs} epochs\n",
    "cosine": "    floor = {floor}  # the last rate, as a fraction of LR\n"
    "    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(step / max(total, 1), 1.0)))\n",
    "onecycle": "    # up from LR/25 along half a cosine until 30 % of the steps, then down to LR/25e4\n"
    "    def between(start, end, t):\n"
    "        return end + (start - end) * 0.5 * (1 + math.cos(math.pi * t))\n\n"
    "    peak = 0.3 * total - 1\n"
    "    if step <= peak:\n"
    "        return between(1 / 25, 1.0, step / peak if peak > 0 else 1.0)\n"
    "    return between(1.0, 1 / 25e4, min((step - peak) / (total - 1 - peak), 1.0))\n",
}

_CLASSIFICATION = '''
CLASSES = {classes}


def targets(y: torch.Tensor) -> torch.Tensor:
    """Class indices as the loss wants them."""
    return {targets}


def loss_fn(outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return {loss}


def probabilities(outputs: torch.Tensor) -> torch.Tensor:
    """(N, classes): what the network's logits say about each class."""
    return {probabilities}


def score(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[str, float]:
    """Accuracy: the share of samples whose most probable class is the true one."""
    predicted = probabilities(predict(model, x)).argmax(dim=1)
    return "accuracy", (predicted == y.long()).float().mean().item()
'''

_REGRESSION = '''
Y_MEAN, Y_STD = {y_mean!r}, {y_std!r}  # the network learns standardised targets


def targets(y: torch.Tensor) -> torch.Tensor:
    y = y.float()
    y = y.unsqueeze(1) if y.ndim == 1 else y  # (N, K)
    return (y - Y_MEAN) / Y_STD


def loss_fn(outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return {loss}


def values(outputs: torch.Tensor) -> torch.Tensor:
    """(N, K): predictions in the target's own units."""
    return {activated} * Y_STD + Y_MEAN


def score(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[str, float]:
    """Mean absolute error, in the target's own units."""
    predicted = values(predict(model, x))
    return "mae", (predicted - targets(y) * Y_STD - Y_MEAN).abs().mean().item()
'''

_LOOP = '''
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """The network's outputs for raw inputs, in evaluation mode, batch by batch."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(preprocess(x[i : i + batch_size]))
                          for i in range(0, len(x), batch_size)])


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> nn.Module:
    """The run's training loop: shuffled batches, {optimizer_name}, the learning rate set
    every step by the schedule."""
    generator = torch.Generator().manual_seed(SEED)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(params)
    per_epoch = math.ceil(len(x) / BATCH_SIZE)
    total, step = EPOCHS * per_epoch, 0
    for epoch in range(EPOCHS):
        model.train()
        order = {order}
        running = 0.0
        for i in range(0, len(x), BATCH_SIZE):
            batch = order[i : i + BATCH_SIZE]
            for group in optimizer.param_groups:
                group["lr"] = LR * lr_factor(step, total, per_epoch)
            loss = loss_fn(model(preprocess(x[batch])), targets(y[batch]))
            optimizer.zero_grad()
            loss.backward(){clip}
            optimizer.step()
            running += loss.item() * len(batch)
            step += 1
        print(f"epoch {{epoch + 1}}/{{EPOCHS}}  loss {{running / len(x):.4f}}")
    return model


def main() -> None:
    data = load_safetensors(HERE / "data.safetensors")
    model = Net()
    if sys.argv[1:] == ["train"]:
        torch.manual_seed(SEED)
        train(model, data["x_train"], data["y_train"])
        print("trained from scratch with the run's settings")
    else:
        load_weights(model)
        print("the run's trained weights")
    for split in ("val", "test"):
        if len(data[f"x_{{split}}"]):
            name, value = score(model, data[f"x_{{split}}"], data[f"y_{{split}}"])
            print(f"{{split}} {{name}} {{value:.4f}}")


if __name__ == "__main__":
    main()
'''


def pytorch_file(
    network: Network,
    task: Any,
    preprocessing: dict[str, Any],
    train: dict[str, Any],
    *,
    title: str,
) -> str:
    """One Python file, needing only torch: the network class, the preprocessing, a
    safetensors reader with `load_weights`, and the run's training loop and settings.

    Raises:
        SpecError: a task, optimizer, schedule or module the writer does not know (named).
    """
    from lernwerk.training.tasks import ClassificationTask, RegressionTask

    if type(task) is ClassificationTask:
        task_code = _classification_code(task)
    elif type(task) is RegressionTask:
        task_code = _regression_code(task)
    else:
        raise SpecError(
            f"the PyTorch code export writes classification and regression runs; this run "
            f"is {task.name}: export --format safetensors or onnx",
            where="format",
        )
    net, helpers = network_code(network)
    optimizer = _OPTIMIZERS.get(train["optimizer"])
    schedule = _SCHEDULES.get(train.get("schedule") or "constant")
    if optimizer is None or schedule is None:
        raise SpecError(
            f"the PyTorch code export does not write the optimizer {train['optimizer']!r} "
            f"with the schedule {train.get('schedule')!r}",
            where="format",
        )
    lr = float(train["lr"])
    floor = min(float(train.get("lr_min") or 0.0) / lr, 1.0)
    schedule = schedule.format(
        gamma=train.get("gamma"), step_size_epochs=train.get("step_size_epochs"), floor=floor
    )
    optimizer = optimizer.format(
        momentum=train.get("momentum"),
        nesterov=bool(train.get("nesterov")) and float(train.get("momentum") or 0) > 0,
        weight_decay=train.get("weight_decay"),
    )
    clip = train.get("grad_clip_norm")
    clip_code = f"\n            torch.nn.utils.clip_grad_norm_(params, {clip!r})" if clip else ""
    if train.get("balanced_sampling"):
        order = (
            "torch.multinomial(SAMPLE_WEIGHTS(y), len(x), replacement=True, "
            "generator=generator)  # balanced: each class as often"
        )
    else:
        order = "torch.randperm(len(x), generator=generator)"
    stat = _STAT_SHAPE[preprocessing["kind"]]
    sections = [
        _docstring(title, train, helpers),
        "from __future__ import annotations\n\n"
        "import json\nimport math\nimport struct\nimport sys\nfrom pathlib import Path\n\n"
        "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n\n"
        "HERE = Path(__file__).resolve().parent\n",
        helpers_code(helpers) if helpers else "",
        net,
        "# the preprocessing, fitted on the training split: (x - mean) / std per "
        f"{'feature' if preprocessing['kind'] == 'table' else 'channel'}\n"
        f"MEAN = torch.tensor({_floats(preprocessing['mean'])})\n"
        f"STD = torch.tensor({_floats(preprocessing['std'])})\n\n\n"
        "def preprocess(x: torch.Tensor) -> torch.Tensor:\n"
        f"    return (x.float() - MEAN.view{stat}) / STD.view{stat}\n",
        SAFETENSORS_READER.strip() + "\n",
        "# the run's training settings\n"
        f"EPOCHS, BATCH_SIZE, LR, SEED = {int(train['epochs'])}, {int(train['batch_size'])}, "
        f"{lr!r}, {int(train.get('seed') or 0)}\n\n\n"
        "def make_optimizer(params: list[nn.Parameter]) -> torch.optim.Optimizer:\n"
        f"    return {optimizer}\n\n\n"
        "def lr_factor(step: int, total: int, per_epoch: int) -> float:\n"
        f'    """The learning rate at a step, as a fraction of LR ({train.get("schedule") or "constant"})."""\n'
        f"{schedule}",
        task_code.strip() + "\n",
        _balanced_code() if train.get("balanced_sampling") else "",
        _LOOP.format(optimizer_name=train["optimizer"], order=order, clip=clip_code).strip() + "\n",
    ]
    return "\n\n".join(s.rstrip("\n") + "\n" for s in sections if s).replace("\n\n\n\n", "\n\n\n")


def _docstring(title: str, train: dict[str, Any], helpers: list[str]) -> str:
    left_out = []
    if "Ensemble" in helpers:
        left_out.append("each member's own loss (this loop trains the averaged prediction)")
    if any(v for k, v in (train.get("augment") or {}).items() if v):
        left_out.append("augmentation")
    if train.get("early_stopping"):
        left_out.append("early stopping")
    if train.get("freeze") or train.get("init"):
        left_out.append("the start from another run's weights and frozen layers")
    note = (
        f"\nThe loop leaves out what this run also used: {', '.join(left_out)}.\n"
        if left_out
        else ""
    )
    return (
        f'"""{title}: the PyTorch code behind it, written by lernwerk.\n\n'
        "It needs only PyTorch. Beside it: model.safetensors (the run's trained weights) and\n"
        "data.safetensors (the run's split, raw: x_train, y_train, x_val, y_val, x_test, y_test).\n\n"
        "    python model.py          the run's weights, scored on the validation and test split\n"
        "    python model.py train    a new network trained with the run's settings, scored\n"
        f'{note}"""\n'
    )


def _classification_code(task: Any) -> str:
    if task.binary_output:
        return _CLASSIFICATION.format(
            classes=repr(list(task.classes)),
            targets="y.float().unsqueeze(1)  # (N, 1): 0 or 1",
            loss="F.binary_cross_entropy_with_logits(outputs, y)",
            probabilities="torch.cat([1 - torch.sigmoid(outputs), torch.sigmoid(outputs)], dim=1)",
        )
    return _CLASSIFICATION.format(
        classes=repr(list(task.classes)),
        targets="y.long()",
        loss="F.cross_entropy(outputs, y)  # the softmax is in the loss",
        probabilities="torch.softmax(outputs, dim=1)",
    )


def _regression_code(task: Any) -> str:
    activated = "torch.sigmoid(outputs)" if task.output_activation == "sigmoid" else "outputs"
    loss = "F.l1_loss" if task.loss == "mae" else "F.mse_loss"
    return _REGRESSION.format(
        y_mean=float(task.y_mean),
        y_std=float(task.y_std),
        loss=f"{loss}({activated}, y)",
        activated=activated,
    )


def _balanced_code() -> str:
    return (
        "def SAMPLE_WEIGHTS(y: torch.Tensor) -> torch.Tensor:  # noqa: N802\n"
        '    """Each sample weighted by one over its class\'s count: every class drawn as often."""\n'
        "    counts = torch.bincount(y.long(), minlength=len(CLASSES)).clamp(min=1).float()\n"
        "    return 1.0 / counts[y.long()]\n"
    )


def _floats(values: list[float]) -> str:
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"
