"""What built-in datasets there are: names, descriptions, parameters; nothing is generated here.

A built-in is named by a reference such as "xor" or "tabular:rows=500000,features=30":
the name, then its parameters. Each has a pydantic params model with a default, a
range and a description per field; unknown or invalid parameters are `SpecError`s.
This registry loads neither PyTorch nor a generator, so that `lernwerk datasets list`
answers at once; `lernwerk.data.builtin` makes a dataset from an entry.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lernwerk.data.sequences.ucr_sets import UCR_SETS
from lernwerk.errors import NotFound, SpecError

if TYPE_CHECKING:
    from lernwerk.data.dataset import Kind, Task

_MAX_SEED = 2**32 - 1  # scikit-learn's random_state limit


@dataclass(frozen=True)
class Builtin:
    """A built-in dataset: its name, what it is, its parameters and which generator makes it.

    `generator` names a function of `lernwerk.data.builtin` (loaded only to make the data);
    `argument`, if any, goes to it after the parameters (the UCR set's name).
    """

    name: str
    description: str
    kind: Kind
    task: Task
    params_model: type[BaseModel]
    generator: str
    argument: str | None = None

    def describe(self) -> dict[str, Any]:
        """JSON-able description with each parameter's default, range and meaning."""
        params = []
        for key, info in self.params_model.model_fields.items():
            low, high = _bounds(info.metadata)
            param = {
                "name": key,
                "type": _type_name(info.annotation),
                "default": info.default,
                "min": low,
                "max": high,
                "description": info.description or "",
            }
            if get_origin(info.annotation) is Literal:  # a choice among a few words
                param.update(type="str", choices=list(get_args(info.annotation)))
            params.append(param)
        return {
            "name": self.name,
            "kind": self.kind,
            "task": self.task,
            "description": self.description,
            "params": params,
        }


def _type_name(annotation: Any) -> str:
    """'int' for int, 'int' for int | None (an optional number), 'str' for a Literal."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is not Literal and len(args) == 1:
        annotation = args[0]
    return getattr(annotation, "__name__", "str")


# --- parameters ------------------------------------------------------------------


class _NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _ToyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    samples: int = Field(500, ge=10, le=100_000, description="Number of points.")
    noise: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Std of the gaussian jitter, as a fraction of the set's radius (5).",
    )
    seed: int = Field(0, ge=0, le=_MAX_SEED, description="Random seed.")


class _BlobsParams(_ToyParams):
    centers: int = Field(3, ge=2, le=10, description="Number of blobs, one class each.")


class _TabularParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: int = Field(50_000, ge=100, le=2_000_000, description="Number of samples.")
    features: int = Field(20, ge=2, le=1000, description="Number of features in all.")
    informative: int = Field(10, ge=1, le=1000, description="Features that carry the class.")
    redundant: int = Field(
        5, ge=0, le=1000, description="Features that are linear mixes of the informative ones."
    )
    classes: int = Field(2, ge=2, le=20, description="Number of classes.")
    class_sep: float = Field(2.5, ge=0.0, le=100.0, description="Distance between the classes.")
    flip_y: float = Field(
        0.06, ge=0.0, le=1.0, description="Share of labels replaced at random (label noise)."
    )
    seed: int = Field(0, ge=0, le=_MAX_SEED, description="Random seed.")

    @model_validator(mode="after")
    def _fits(self) -> _TabularParams:
        if self.informative + self.redundant > self.features:
            raise ValueError(
                f"informative + redundant must be at most features ({self.features}); "
                f"received: {self.informative} + {self.redundant}; "
                "lower them or raise features"
            )
        # make_classification puts 2 clusters per class on corners of a hypercube.
        if 2 * self.classes > 2**self.informative:
            raise ValueError(
                f"{self.classes} classes need informative >= "
                f"{math.ceil(math.log2(2 * self.classes))}; received: {self.informative}"
            )
        return self


class _SmileysParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_class: int = Field(200, ge=5, le=20_000, description="Drawings of each face.")
    seed: int = Field(0, ge=0, le=_MAX_SEED, description="Random seed.")


class _SolderParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_class: int = Field(200, ge=5, le=2000, description="Images of each kind of joint.")
    seed: int = Field(0, ge=0, le=_MAX_SEED, description="Random seed.")


class _PhotosParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_class: int = Field(
        20, ge=5, le=500, description="Patches of each scene for training and validation."
    )
    test_per_class: int = Field(
        20, ge=1, le=500, description="Test patches of each scene, from parts never trained on."
    )
    size: int = Field(64, ge=8, le=224, description="Image side in pixels.")
    seed: int = Field(0, ge=0, le=_MAX_SEED, description="Random seed.")


class _ProcessParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_class: int = Field(200, ge=5, le=10_000, description="Curves of each class.")
    length: int = Field(256, ge=200, le=500, description="Time steps per curve.")
    channels: int = Field(
        1, ge=1, le=4, description="Signals: force, then displacement, motor current, speed."
    )
    target: Literal["class", "quality"] = Field(
        "class",
        description="'class': the fault (classification); 'quality': the retention force "
        "in kN (regression).",
    )
    seed: int = Field(0, ge=0, le=_MAX_SEED, description="Random seed.")


class SeasonalParams(BaseModel):
    """The parameters of the `seasonal` built-in."""

    model_config = ConfigDict(extra="forbid")

    length: int = Field(2400, ge=100, le=1_000_000, description="Time steps of the series.")
    period: int = Field(24, ge=2, le=10_000, description="Steps per daily cycle.")
    noise: float = Field(0.3, ge=0, le=5, description="Noise std, relative to the daily wave.")
    window: int = Field(48, ge=1, le=10_000, description="Past steps the model sees.")
    horizon: int = Field(12, ge=1, le=10_000, description="Future steps it forecasts.")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Random seed.")

    @model_validator(mode="after")
    def _fits(self) -> SeasonalParams:
        if self.window + self.horizon > self.length // 2:
            raise ValueError(
                f"window {self.window} + horizon {self.horizon} must be at most half the "
                f"length {self.length}"
            )
        return self


SEASONAL_DESCRIPTION = (
    "Hourly load with a daily and a weekly cycle, a trend and noise, generated: "
    "forecast the next steps from a window of the past."
)


class _UcrParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    length: Literal["error", "pad", "resample"] = Field(
        "pad",
        description="Series of unequal length: refuse, pad with the last value, or resample.",
    )
    steps: int | None = Field(
        None, ge=2, le=100_000, description="Length after pad or resample (default: longest)."
    )


# --- the built-ins -------------------------------------------------------------------

_PLAYGROUND = "2D, as in the TensorFlow Playground"
BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in [
        Builtin(
            name="xor",
            description=f"Four quadrants, opposite ones alike ({_PLAYGROUND}).",
            kind="table",
            task="classification",
            params_model=_ToyParams,
            generator="xor",
        ),
        Builtin(
            name="circles",
            description=f"A disc inside a ring ({_PLAYGROUND}).",
            kind="table",
            task="classification",
            params_model=_ToyParams,
            generator="circles",
        ),
        Builtin(
            name="spiral",
            description=f"Two interleaved spirals ({_PLAYGROUND}).",
            kind="table",
            task="classification",
            params_model=_ToyParams,
            generator="spiral",
        ),
        Builtin(
            name="moons",
            description="Two interleaving half circles (scikit-learn's make_moons), 2D.",
            kind="table",
            task="classification",
            params_model=_ToyParams,
            generator="moons",
        ),
        Builtin(
            name="blobs",
            description="Gaussian blobs, one class each (scikit-learn's make_blobs), 2D.",
            kind="table",
            task="classification",
            params_model=_BlobsParams,
            generator="blobs",
        ),
        Builtin(
            name="tabular",
            description="Synthetic tabular classification, the lecture benchmark "
            "(scikit-learn's make_classification).",
            kind="table",
            task="classification",
            params_model=_TabularParams,
            generator="tabular",
        ),
        Builtin(
            name="digits",
            description="Handwritten digits, 1797 images of 8x8 pixels (shipped with "
            "scikit-learn).",
            kind="images",
            task="classification",
            params_model=_NoParams,
            generator="digits",
        ),
        Builtin(
            name="smileys",
            description="Hand-drawn smileys, 28x28 grayscale: smile, sad, neutral, upside-down "
            "(the Smiley app's categories), generated.",
            kind="images",
            task="classification",
            params_model=_SmileysParams,
            generator="smileys",
        ),
        Builtin(
            name="solder",
            description="Solder joints under an inspection camera, 64x64 RGB: good, bridge, "
            "insufficient, excess, missing, generated.",
            kind="images",
            task="classification",
            params_model=_SolderParams,
            generator="solder",
        ),
        Builtin(
            name="photos",
            description="Patches of real photographs (the two scikit-learn ships): sky, lake, "
            "trees, pagoda, roof, dahlia, leaves; 64x64 RGB, few per class, the test split "
            "cut from parts of each scene never trained on.",
            kind="images",
            task="classification",
            params_model=_PhotosParams,
            generator="photos",
        ),
        Builtin(
            name="process",
            description="Press-fit force curves: ok or one of four faults, generated; "
            "target=quality makes it a regression on the retention force.",
            kind="sequences",
            task="classification",
            params_model=_ProcessParams,
            generator="process",
        ),
        Builtin(
            name="seasonal",
            description=SEASONAL_DESCRIPTION,
            kind="sequences",
            task="regression",
            params_model=SeasonalParams,
            generator="seasonal",
        ),
        *(
            Builtin(
                name=name.lower(),
                description=f"{info['description']} (UCR/UEA archive, official test split).",
                kind="sequences",
                task="classification",
                params_model=_UcrParams,
                generator="ucr",
                argument=name,
            )
            for name, info in UCR_SETS.items()
        ),
    ]
}


# --- public functions ------------------------------------------------------------


def list_builtins() -> list[dict[str, Any]]:
    """Every built-in dataset with its kind, task, description and parameters."""
    return [b.describe() for b in BUILTINS.values()]


_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_dataset_ref(ref: str) -> tuple[str, dict[str, str]]:
    """Split "name:key=value,key=value" into the name and its parameters (as strings).

    Raises:
        SpecError: The reference does not follow that syntax.
    """
    where = f"dataset ref {ref!r}"
    expected = "expected 'name' or 'name:key=value,key=value'"
    name, colon, rest = ref.strip().partition(":")
    name = name.strip()
    if not _NAME_RE.fullmatch(name):
        raise SpecError(f"{expected}; the name {name!r} is not valid", where)
    params: dict[str, str] = {}
    if not colon:
        return name, params
    if not rest.strip():
        raise SpecError(f"{expected}; nothing follows ':'", where)
    for pair in rest.split(","):
        key, equals, value = (part.strip() for part in pair.partition("="))
        if not equals or not _KEY_RE.fullmatch(key) or not value:
            raise SpecError(f"{expected}; received the parameter {pair.strip()!r}", where)
        if key in params:
            raise SpecError(f"parameter {key!r} is given twice", where)
        params[key] = value
    return name, params


def find_builtin(name: str) -> Builtin:
    """The built-in of that name (any case).

    Raises:
        NotFound: No built-in of that name; the closest one is suggested.
    """
    key = name.strip().lower()
    if key in BUILTINS:
        return BUILTINS[key]
    close = difflib.get_close_matches(key, BUILTINS, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise NotFound(
        f"no built-in dataset of that name; {hint}expected one of {', '.join(sorted(BUILTINS))}",
        where=f"dataset '{name}'",
    )


def resolve_params(builtin: Builtin, params: dict[str, Any]) -> BaseModel:
    """The built-in's parameters, validated, defaults filled in; SpecError naming a bad one."""
    try:
        return builtin.params_model.model_validate(params)
    except ValidationError as exc:
        raise SpecError(
            _describe_error(builtin.params_model, exc.errors()[0]),
            where=f"dataset '{builtin.name}'",
        ) from None


def _describe_error(model: type[BaseModel], error: dict[str, Any]) -> str:
    """One pydantic error as "what is wrong; received: what"."""
    key = str(error["loc"][0]) if error["loc"] else ""
    received = _show(error.get("input"))
    kind = error["type"]
    fields = list(model.model_fields)
    if kind == "extra_forbidden":
        if not fields:
            return f"unknown parameter '{key}'; this dataset takes no parameters"
        return f"unknown parameter '{key}'; expected one of {', '.join(fields)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        low, high = _bounds(model.model_fields[key].metadata)
        if low is None or high is None:
            limit = f"at least {_show(low)}" if high is None else f"at most {_show(high)}"
            return f"{key} must be {limit}; received: {received}"
        return f"{key} must be between {_show(low)} and {_show(high)}; received: {received}"
    if kind.startswith("int_"):
        return f"{key} must be a whole number; received: {received}"
    if kind.startswith("float_"):
        return f"{key} must be a number; received: {received}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return f"{key}: {error['msg']}; received: {received}" if key else str(error["msg"])


def _bounds(metadata: list[Any]) -> tuple[Any, Any]:
    # pydantic keeps Field(ge=..., le=...) as annotated_types.Ge / Le objects.
    low = next((m.ge for m in metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in metadata if hasattr(m, "le")), None)
    return low, high


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and not value:
        return "''"
    return str(value)


def canonical_ref(builtin: Builtin, resolved: BaseModel) -> str:
    """The name plus the parameters that differ from their defaults, sorted by key."""
    changed = {
        key: value
        for key, value in resolved.model_dump().items()
        if value != builtin.params_model.model_fields[key].default
    }
    if not changed:
        return builtin.name
    return builtin.name + ":" + ",".join(f"{k}={_ref_value(changed[k])}" for k in sorted(changed))


def _ref_value(value: Any) -> str:
    # Words go in bare (target=quality), so the name parses back to the same dataset.
    return value if isinstance(value, str) else repr(value)
