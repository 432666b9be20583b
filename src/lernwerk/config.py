"""Typed specs for everything a user writes: model specs, training configs, run configs.

One place validates user input; everything below trusts it. Every spec loads through
`from_dict` / `from_file`: defaults applied, unknown keys rejected, errors raised as
`SpecError` naming the field, what was received and what was expected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lernwerk.errors import NotFound, SpecError

SCHEMA_VERSION = 1

OptimizerName = Literal["sgd", "adam", "adamw", "rmsprop", "adagrad"]
LossName = Literal[
    "cross_entropy",
    "binary_cross_entropy",
    "label_smoothing",
    "focal",
    "mse",
    "mae",
    "huber",
    "generative",
]
ScheduleName = Literal["constant", "step", "cosine", "onecycle", "plateau"]
# What `init` names to start from the ImageNet weights of the efficientnet-lite0 backbone
PRETRAINED_INITS = ("efficientnet-lite0", "imagenet")
# A run's task: any name registered in `lernwerk.training.tasks` (the four built in, or one
# a user registers), checked against the registry when the run is planned (`make_task`),
# since the registry lives above this layer.
BUILTIN_TASKS = ("classification", "regression", "forecasting", "anomaly")
TaskName = Annotated[str, Field(min_length=1, max_length=100, examples=list(BUILTIN_TASKS))]
DeviceName = Literal["cpu", "cuda", "auto"]
PrecisionName = Literal["float32", "bfloat16"]


# Names Windows keeps for devices: no file or folder may be called so, whatever its extension
WINDOWS_DEVICE_NAMES = frozenset(
    ["con", "prn", "aux", "nul"]
    + [f"com{i}" for i in range(1, 10)]
    + [f"lpt{i}" for i in range(1, 10)]
)


def reserved_name_problem(name: str) -> str | None:
    """Why `name` cannot name a file or folder on Windows (`con`, `nul.txt`, `LPT1`…), or None.

    A workspace, or an exported dataset with a folder per class, must copy to any machine.
    """
    stem = name.split(".", 1)[0].rstrip(" ").casefold()
    if stem in WINDOWS_DEVICE_NAMES:
        return (
            f"'{stem.upper()}' is a reserved device name on Windows (also with an extension); "
            "choose another name"
        )
    return None


def spec_error(exc: ValidationError, what: str) -> SpecError:
    """Turn pydantic's first validation error into one readable `SpecError` line."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or what
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    received = err.get("input")
    text = f"{what}: {field}: {msg}"
    if err["type"] != "missing" and not isinstance(received, dict):
        text += f"; received: {received!r}"
    return SpecError(text, where=field)


class _Spec(BaseModel):
    # allow_inf_nan: a NaN learning rate is "not a finite number", not "greater than 10"
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    what_name: ClassVar[str] = "spec"  # how error messages name this kind of spec

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, what: str | None = None) -> Any:
        """Validate a plain dict; unknown keys and bad values raise `SpecError`."""
        try:
            return cls.model_validate(data or {})
        except ValidationError as exc:
            raise spec_error(exc, what or cls.what_name) from None

    @classmethod
    def from_file(cls, path: str | Path) -> Any:
        """Load a YAML or JSON file and validate it."""
        return cls.from_dict(read_spec_file(path), what=str(path))


def read_spec_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON mapping from a file, with errors naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"file not found: {path}", where=str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{path}: expected UTF-8 text; received byte 0x{exc.object[exc.start]:02x} at "
            f"offset {exc.start}; save the file as UTF-8",
            where=str(path),
        ) from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror}", where=str(path)) from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "could not parse"
        raise SpecError(f"{path}: invalid YAML{line}: {problem}") from None
    if not isinstance(data, dict):
        raise SpecError(
            f"{path}: expected a mapping at the top level; received: {type(data).__name__}"
        )
    return data


# ---------------------------------------------------------------------------- model spec


def normalize_layer(raw: Any, index: str) -> dict[str, Any]:
    """Bring the three ways to write a layer into one form: ``{"type": "Dense", ...}``.

    Accepted: ``{"type": "Dense", "units": 3}``, ``{"Dense": {"units": 3}}`` and ``"Flatten"``.
    """
    if isinstance(raw, str):
        return {"type": raw}
    if isinstance(raw, dict):
        if "type" in raw:
            if not isinstance(raw["type"], str):
                raise SpecError(
                    f"layer {index}: 'type' must be a layer name; received: {raw['type']!r}"
                )
            out = dict(raw)
        elif len(raw) == 1:
            ((name, params),) = raw.items()
            if params is None:
                params = {}
            if not isinstance(params, dict):
                raise SpecError(
                    f"layer {index} ({name}): expected a mapping of parameters; received: {params!r}"
                )
            out = {"type": name, **params}
        else:
            raise SpecError(
                f"layer {index}: expected {{type: Name, ...}} or {{Name: {{...}}}}; "
                f"received keys: {', '.join(map(str, raw))}"
            )
        for key in ("layers", "shortcut"):  # blocks hold layers (a residual's shortcut, too)
            if isinstance(out.get(key), list):
                out[key] = [
                    normalize_layer(sub, f"{index}.{i + 1}") for i, sub in enumerate(out[key])
                ]
        return out
    raise SpecError(f"layer {index}: expected a mapping or a layer name; received: {raw!r}")


class InputSpec(_Spec):
    """The input a model expects, without the batch dimension."""

    shape: tuple[int, ...] = Field(
        description="(features,) for tables, (C, H, W) for images, (C, T) for sequences"
    )

    @field_validator("shape")
    @classmethod
    def _positive(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v or any(d < 1 for d in v):
            raise ValueError("every dimension must be a positive integer")
        return v


class InputScaling(_Spec):
    """A fixed scaling of the inputs, (x - mean) / std per channel, that a pretrained
    network expects instead of the training data's own statistics."""

    mean: tuple[float, ...] = Field(
        min_length=1, description="one value for every channel, or one per channel"
    )
    std: tuple[float, ...] = Field(min_length=1, description="as mean; every value positive")

    @field_validator("std")
    @classmethod
    def _positive_std(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(not s > 0 for s in v):
            raise ValueError("every std must be positive")
        return v

    def per_channel(self, channels: int) -> tuple[list[float], list[float]]:
        """mean and std as `channels` values each (one value repeats)."""
        out = []
        for name, v in (("mean", self.mean), ("std", self.std)):
            if len(v) not in (1, channels):
                raise SpecError(
                    f"preprocessing.{name} has {len(v)} values for {channels} channels; "
                    "give one value or one per channel",
                    where=f"preprocessing.{name}",
                )
            out.append(list(v) * channels if len(v) == 1 else list(v))
        return out[0], out[1]


class ModelSpec(_Spec):
    """A network as a list of layers with the names courses use."""

    name: str = Field("custom", description="a short name for tables and file names")
    description: str = Field("", description="one line on what the network is")
    input: InputSpec | None = Field(None, description="taken from the dataset when omitted")
    preprocessing: InputScaling | None = Field(
        None,
        description="a fixed input scaling (a pretrained network's); when omitted, the "
        "training data's mean and std per channel or feature",
    )
    layers: tuple[dict[str, Any], ...] = Field(min_length=1, description="layers, in order")

    @field_validator("layers", mode="before")
    @classmethod
    def _normalize(cls, v: Any) -> Any:
        if not isinstance(v, list | tuple):
            raise ValueError("expected a list of layers")
        return tuple(normalize_layer(layer, str(i + 1)) for i, layer in enumerate(v))

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, what: str | None = None) -> ModelSpec:
        try:
            return cls.model_validate(data or {})
        except ValidationError as exc:
            raise spec_error(exc, what or "model spec") from None
        except SpecError as exc:  # raised inside normalize_layer
            raise SpecError(f"{what or 'model spec'}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


# ---------------------------------------------------------------------------- augmentation


class AugmentConfig(_Spec):
    """Random image transforms for each training batch; every field's default is off.

    Magnitudes are drawn uniformly per sample from ±the given value; pixels are in [0, 1].
    """

    what_name: ClassVar[str] = "augmentation config"

    rotation_deg: float = Field(
        0.0, ge=0, le=180, description="rotate by a random angle of up to ±this many degrees"
    )
    shift: float = Field(
        0.0, ge=0, le=0.5, description="move by up to ±this fraction of the width and height"
    )
    zoom: float = Field(0.0, ge=0, le=0.5, description="scale by a random factor in 1 ± this")
    flip_horizontal: bool = Field(False, description="mirror left-right with probability 0.5")
    flip_vertical: bool = Field(False, description="mirror top-bottom with probability 0.5")
    brightness: float = Field(
        0.0, ge=0, le=1, description="add a random offset of up to ±this to every pixel"
    )
    contrast: float = Field(
        0.0,
        ge=0,
        le=1,
        description="scale around the image's mean by a random factor in 1 ± this",
    )
    noise_std: float = Field(
        0.0, ge=0, le=0.5, description="add gaussian noise with this std to every pixel"
    )

    @property
    def active(self) -> tuple[str, ...]:
        """The names of the fields that differ from their default (off)."""
        fields = type(self).model_fields
        return tuple(k for k, info in fields.items() if getattr(self, k) != info.default)

    @property
    def enabled(self) -> bool:
        """Whether any transform is switched on."""
        return bool(self.active)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# What `--augment` switches on (a plain dict in its own module, so that the CLI's help
# can name it without loading these models).
from lernwerk.augment_standard import STANDARD_AUGMENT  # noqa: E402, F401

# ---------------------------------------------------------------------------- training config


class TrainConfig(_Spec):
    """How to train: optimizer, schedule, batches, stopping, splits, device, seed."""

    what_name: ClassVar[str] = "training config"

    task: TaskName | None = Field(
        None,
        description="classification, regression, forecasting, anomaly or another registered "
        "task; taken from the dataset when omitted",
    )
    epochs: int | None = Field(
        None, ge=1, le=100_000, description="passes over the training split; auto when omitted"
    )
    batch_size: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="samples per step; auto from the data size when omitted",
    )
    lr: float | None = Field(
        None, gt=0, le=10, description="peak learning rate; the optimizer's default when omitted"
    )
    optimizer: OptimizerName = Field("adam", description="sgd, adam, adamw, rmsprop or adagrad")
    momentum: float = Field(0.9, ge=0, lt=1, description="for sgd and rmsprop")
    nesterov: bool = Field(False, description="Nesterov momentum (sgd)")
    weight_decay: float = Field(0.0, ge=0, le=1, description="L2 penalty (decoupled for adamw)")
    loss: LossName | None = Field(
        None,
        description="classification: cross_entropy, binary_cross_entropy (2 classes), "
        "label_smoothing (cross-entropy against targets smoothed by 0.1) or focal (gamma 2); "
        "regression: mse, mae or huber (delta 1 on standardised targets); "
        "chosen from the task when omitted",
    )
    schedule: ScheduleName | None = Field(
        None,
        description="learning-rate schedule over the run: constant, step, cosine, onecycle or "
        "plateau (multiply the rate by plateau_factor when the monitored loss has not fallen "
        "for plateau_patience epochs, down to lr_min); plateau for sequence classification, "
        "cosine for other sequences, else constant, when omitted",
    )
    step_size_epochs: int = Field(10, ge=1, description="step schedule: epochs between decays")
    gamma: float = Field(0.1, gt=0, le=1, description="step schedule: factor per decay")
    lr_min: float = Field(
        0.0, ge=0, description="cosine schedule: the final learning rate; plateau: the floor"
    )
    plateau_factor: float = Field(
        0.5, gt=0, lt=1, description="plateau schedule: the factor on the rate at a plateau"
    )
    plateau_patience: int = Field(
        50, ge=1, description="plateau schedule: epochs without a lower loss before it cuts"
    )
    grad_clip_norm: float | None = Field(
        None, gt=0, description="clip the gradient norm to this value"
    )
    early_stopping: int | None = Field(
        None,
        ge=0,
        description="stop after this many epochs without improvement and restore the best "
        "weights; 0: never; when omitted, on for sequences with a validation split",
    )
    monitor: str = Field(
        "val_loss",
        description="the metric that early stopping, the plateau schedule and 'best' watch: "
        "a validation metric, or train_loss (sequence classification without a hold-out)",
    )
    keep_best: bool | None = Field(
        None,
        description="end with the weights of the epoch best by the monitored metric; when "
        "omitted, on for sequence classification (and wherever early stopping is on)",
    )
    time_budget_s: float | None = Field(
        None,
        ge=0,
        le=10_000_000,
        description="stop after the epoch that reaches this many seconds of training; 0: no "
        "budget; when omitted, 480 for sequence classification, else none",
    )
    rules: dict[str, str] = Field(
        default_factory=dict,
        description="set when the run is planned: which default rule chose each setting",
    )
    seed: int = Field(
        0, ge=0, le=2**31 - 1, description="seeds initialisation, shuffling and dropout"
    )
    device: DeviceName = Field("cpu", description="cpu, cuda, or auto (cuda when available)")
    precision: PrecisionName = Field(
        "float32",
        description="float32, or bfloat16 (autocast: products and convolutions in bfloat16, "
        "weights in float32): faster convolutions on a CPU with bfloat16 instructions, "
        "at some cost in accuracy (docs/guide.md)",
    )
    threads: int | None = Field(
        None,
        ge=1,
        le=1024,
        description="intra-op CPU threads; when omitted, 1 for a small step, else the cores "
        "idle when the run starts (a resume keeps the count its run started with). "
        "A number makes a convolution network's result repeat to the last digit on a busy "
        "machine too",
    )
    val_split: float | None = Field(
        None,
        ge=0,
        lt=1,
        description="fraction of the data for validation; when omitted, 0.2, or 0 for "
        "sequence classification with fewer than 1 000 training series",
    )
    test_split: float = Field(0.2, ge=0, lt=1, description="fraction held out for the final test")
    split_seed: int = Field(0, ge=0, le=2**31 - 1, description="seeds the train/val/test split")
    balanced_sampling: bool | None = Field(
        None,
        description="draw every class equally often in training; when omitted, on for "
        "classification when the largest class is at least 1.5x the smallest",
    )
    normal_class: str | None = Field(
        None, description="anomaly: the class of normal samples; 'ok' when omitted"
    )
    threshold_quantile: float | None = Field(
        None,
        gt=0,
        le=1,
        description="anomaly: the threshold is this quantile of the normal validation scores; "
        "when omitted, the best F1 on validation (0.99 when it holds no anomalies)",
    )
    augment: AugmentConfig = Field(
        default_factory=AugmentConfig,  # type: ignore[arg-type]
        description="random transforms of each training batch (images only); off by default",
    )
    init: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="where the weights start: a run's id or name (its layers that fit are "
        "loaded, a new head where the classes differ), or 'efficientnet-lite0' / 'imagenet' "
        "(the preset's ImageNet weights); random when omitted",
    )
    freeze: Literal["features"] | int | tuple[str, ...] | None = Field(
        None,
        description="layers that do not train: 'features' (every layer before the last one "
        "with weights), N (the first N layers) or a list of layer numbers, names or types",
    )
    unfreeze_after: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="unfreeze the frozen layers after this many epochs; they then train at "
        "lr x backbone_lr_factor",
    )
    backbone_lr_factor: float = Field(
        0.1, gt=0, le=1, description="the factor on the learning rate of unfrozen layers"
    )

    @field_validator("freeze", mode="before")
    @classmethod
    def _freeze(cls, v: Any) -> Any:
        """'features', a number, '1,2' or a list of numbers, names or layer types."""
        if v is None:
            return None
        if isinstance(v, bool):
            raise ValueError("expected 'features', a number of layers or a list of layers")
        if isinstance(v, str):
            text = v.strip()
            if text.casefold() in ("", "none"):
                return None
            if text.casefold() == "features":
                return "features"
            if text.isdigit():
                return int(text)
            v = text.split(",")
        if isinstance(v, int):
            if v < 1:
                raise ValueError("the number of layers to freeze must be at least 1")
            return v
        if isinstance(v, list | tuple):
            items = [str(x).strip() for x in v if not isinstance(x, bool)]
            if len(items) != len(v) or not items or any(not x for x in items):
                raise ValueError("expected a list of layer numbers, names or types")
            return tuple(items)
        raise ValueError("expected 'features', a number of layers or a list of layers")

    @field_validator("monitor")
    @classmethod
    def _monitor(cls, v: str) -> str:
        if not v.startswith("val_") and v != "train_loss":
            raise ValueError(
                "must name a validation metric such as val_loss or val_accuracy, or train_loss"
            )
        return v

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class RunConfig(_Spec):
    """A whole run as a file: which data, which network, how to train."""

    what_name: ClassVar[str] = "run config"

    dataset: str = Field(description="a dataset reference, e.g. 'xor' or 'tabular:rows=50000'")
    model: str | dict[str, Any] | None = Field(
        None,
        description="a preset name, a spec file path, or an inline spec; with train.init "
        "it may be left out: the network of the run it names (or efficientnet-lite0)",
    )
    name: str | None = Field(None, max_length=200, description="a name for the run")
    train: TrainConfig = Field(default_factory=TrainConfig)  # type: ignore[arg-type]
