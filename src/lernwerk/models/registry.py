"""The layer registry: what a layer type is, how its parameters are checked, and the
table of types by the name a spec writes (`Dense`, `Conv2D`). The types themselves live in
`layers`, `branches` and `sequence_layers`, and `catalog` imports them all."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError
from torch import nn

from lernwerk.models.activations import OUTPUT_ACTIVATIONS, make_activation

Shape = tuple[int, ...]
IntOrPair = int | tuple[int, int]


class LayerMisfit(Exception):
    """A layer's parameters or input do not fit; the builder names the layer."""


def fmt_shape(shape: Shape) -> str:
    """(32, 5, 5) -> '32×5×5'."""
    return "×".join(str(d) for d in shape)


@dataclass
class BuildContext:
    """What a layer needs to know beyond its own input."""

    num_outputs: int | None  # what 'units: auto' resolves to; None when unknown
    is_last: bool  # the network's output layer
    index: str  # "3" or "5.2" inside a block, for messages
    output_activation: str = "linear"  # set by the last layer when it folds softmax/sigmoid
    # builds a block's inner layers (the builder of `building`, handed down so that a block
    # type needs no import of it): (layers, input shape, **options) -> built layers
    build_layers: Callable[..., list[tuple[str, str, Built]]] | None = None

    def build_inner(
        self,
        layers: list[dict[str, Any]],
        shape: Shape,
        *,
        prefix: str | None = None,
        first: int = 1,
    ) -> list[tuple[str, str, Built]]:
        """A block's inner layers, built on `shape` and numbered under this layer's index
        (or `prefix`); none of them is the network's output."""
        assert self.build_layers is not None, "built through lernwerk.models.building"
        return self.build_layers(
            layers,
            shape,
            self.num_outputs,
            prefix=self.index if prefix is None else prefix,
            last_is_output=False,
            first=first,
        )


@dataclass
class Built:
    """A built layer: its module, output shape, FLOPs per sample and nested layers."""

    module: nn.Module
    out_shape: Shape
    flops: int
    children: list[tuple[str, str, Built]] = field(default_factory=list)  # (index, type, built)


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerType:
    """One entry of the registry. Subclasses set `name`, `Params` and `build`."""

    name: ClassVar[str]
    Params: ClassVar[type[_Params]]
    description: ClassVar[str] = ""

    def build(self, p: Any, shape: Shape, ctx: BuildContext) -> Built:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """JSON-able: the type, what it does, and each parameter with its type and default."""
        return {
            "type": self.name,
            "description": self.description,
            "params": [_describe_field(k, f) for k, f in self.Params.model_fields.items()],
        }


def _type_name(annotation: Any) -> tuple[str, list[Any] | None]:
    """A parameter's type for a form: ('int', None), ('str', ['valid', 'same']), …"""
    if get_origin(annotation) is Literal:
        return "str", list(get_args(annotation))
    if annotation is IntOrPair or annotation == IntOrPair | None:
        return "int_or_pair", None
    if get_origin(annotation) in (list, tuple):
        return "list", None
    args = [a for a in get_args(annotation) if a is not type(None)]
    if args and any(get_origin(a) is Literal for a in args):  # int | Literal["auto"]
        choices = [c for a in args if get_origin(a) is Literal for c in get_args(a)]
        base = [a.__name__ for a in args if isinstance(a, type)]
        return "|".join(base + ["str"]), choices
    if args:
        return "|".join(getattr(a, "__name__", str(a)) for a in args), None
    return getattr(annotation, "__name__", str(annotation)), None


def _describe_field(name: str, info: Any) -> dict[str, Any]:
    type_name, choices = _type_name(info.annotation)
    required = info.is_required()
    param: dict[str, Any] = {
        "name": name,
        "type": type_name,
        "default": None if required else info.get_default(call_default_factory=True),
        "required": required,
        "description": info.description or "",
    }
    if choices is not None:
        param["choices"] = choices
    for bound in info.metadata:
        for key in ("ge", "gt", "le", "lt"):
            if getattr(bound, key, None) is not None:
                param[key] = getattr(bound, key)
    return param


LAYERS: dict[str, LayerType] = {}


def register(cls: type[LayerType]) -> type[LayerType]:
    LAYERS[cls.name] = cls()
    return cls


_BRANCH = re.compile(
    r"int|float|str|bool|none|(list|tuple|literal|dict)\[.*\]|function-\w+\[.*\]", re.I
)


def validate_params(layer_type: LayerType, params: dict[str, Any]) -> Any:
    """Validate a layer's parameters; raise LayerMisfit naming the field."""
    try:
        return layer_type.Params.model_validate(params)
    except ValidationError as exc:
        err = exc.errors()[0]
        # a union's branch shows in the path ("kernel_size.int"): the field is what is meant
        loc = ".".join(str(p) for p in err["loc"] if not _BRANCH.fullmatch(str(p))) or "value"
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(layer_type.Params.model_fields) or "none"
            raise LayerMisfit(f"unknown parameter '{loc}'; expected one of: {allowed}") from None
        if err["type"] == "missing":
            raise LayerMisfit(f"{loc} is required") from None
        raise LayerMisfit(f"{loc}: {err['msg']}; received: {err.get('input')!r}") from None


def _pair(v: IntOrPair) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def _with_activation(module: nn.Module, activation: str, ctx: BuildContext) -> nn.Module:
    if ctx.is_last and activation in OUTPUT_ACTIVATIONS:
        ctx.output_activation = activation  # the task applies it; the loss wants logits
        return module
    act = make_activation(activation)
    return nn.Sequential(module, act) if act is not None else module


def _count(shape: Shape) -> int:
    return math.prod(shape)


def _expect_dims(shape: Shape, dims: int, what: str, hint: str) -> None:
    if len(shape) != dims:
        raise LayerMisfit(f"expects {what}; received {fmt_shape(shape)}; {hint}")


def _window_out(
    size: int, kernel: int, stride: int, padding: str, what: str, dim: str
) -> tuple[int, int, int]:
    """Output length and (before, after) padding of a sliding window along one axis."""
    if padding == "same":
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + kernel - size, 0)
        return out, total // 2, total - total // 2
    if kernel > size:
        raise LayerMisfit(
            f"{what} {kernel} does not fit the {dim} input; use padding='same' or a smaller {what}"
        )
    return (size - kernel) // stride + 1, 0, 0


# ---------------------------------------------------------------------------- dense & friends
