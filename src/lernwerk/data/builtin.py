"""Built-in datasets, all generated or shipped with scikit-learn, none downloaded.

A built-in is named by a reference such as "xor" or "tabular:rows=500000,features=30":
the name, then its parameters. Each has a pydantic params model with a default, a
range and a description per field; unknown or invalid parameters are `SpecError`s.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, get_args, get_origin

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lernwerk.data.dataset import Dataset, Kind, Task
from lernwerk.data.sequences import forecasting
from lernwerk.data.sequences.ucr import UCR_SETS, load_ucr
from lernwerk.data.synth import process, smileys, solder
from lernwerk.errors import NotFound, SpecError

_MAX_SEED = 2**32 - 1  # scikit-learn's random_state limit
_RADIUS = 5.0  # the 2D sets fill about [-5, 5]^2, as in the TensorFlow Playground
_TWO_CLASSES = ["negative", "positive"]


class _Generated(NamedTuple):
    x: np.ndarray  # (N, ...) float32
    y: np.ndarray  # (N,) int64
    classes: list[str]
    feature_names: list[str]
    test_index: np.ndarray | None = None
    task: Task | None = None  # overrides the built-in's task, e.g. process:target=quality
    meta: dict[str, Any] | None = None  # kind-specific facts, e.g. forecast window and horizon


@dataclass(frozen=True)
class Builtin:
    """A built-in dataset: its name, what it is, its parameters and its generator."""

    name: str
    description: str
    kind: Kind
    task: Task
    params_model: type[BaseModel]
    generate: Callable[[Any], _Generated]

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
                f"{int(np.ceil(np.log2(2 * self.classes)))}; received: {self.informative}"
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


# --- generators ------------------------------------------------------------------


def _toy(
    points: np.ndarray, y: np.ndarray, noise: float, rng: np.random.Generator, classes: list[str]
) -> _Generated:
    """Jitter and shuffle 2D points; the jitter is drawn even at noise 0 so that noise
    changes the positions only, not which points are drawn or their order."""
    points = points + rng.standard_normal(points.shape) * (noise * _RADIUS)  # (N, 2)
    order = rng.permutation(len(points))
    return _Generated(
        x=points[order].astype(np.float32),
        y=y[order].astype(np.int64),
        classes=classes,
        feature_names=["x1", "x2"],
    )


def _polar(r: np.ndarray, angle: np.ndarray) -> np.ndarray:
    return np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)  # (N, 2)


def _xor(p: _ToyParams) -> _Generated:
    # Playground: uniform in [-5, 5]^2, pushed 0.3 away from both axes; label by quadrant.
    # The four quadrants get equal shares of the points (as equal as N allows), so no
    # chance surplus in one corner lets a linear model beat a coin flip by luck.
    rng = np.random.default_rng(p.seed)
    magnitudes = rng.uniform(0, _RADIUS, size=(p.samples, 2))  # (N, 2)
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]])[np.arange(p.samples) % 4]  # (N, 2)
    points = signs * (magnitudes + 0.3)
    y = points[:, 0] * points[:, 1] >= 0
    return _toy(points, y, p.noise, rng, _TWO_CLASSES)


def _circles(p: _ToyParams) -> _Generated:
    # Playground: positive disc r in [0, 2.5], negative ring r in [3.5, 5].
    rng = np.random.default_rng(p.seed)
    n_inner = (p.samples + 1) // 2
    n_outer = p.samples - n_inner
    r = np.concatenate(
        [rng.uniform(0, 0.5 * _RADIUS, n_inner), rng.uniform(0.7 * _RADIUS, _RADIUS, n_outer)]
    )
    angle = rng.uniform(0, 2 * np.pi, p.samples)
    y = np.concatenate([np.ones(n_inner), np.zeros(n_outer)])
    return _toy(_polar(r, angle), y, p.noise, rng, _TWO_CLASSES)


def _spiral(p: _ToyParams) -> _Generated:
    # Playground: two arms of 1.75 turns growing to radius 5, the second turned by pi.
    rng = np.random.default_rng(p.seed)
    arms, labels = [], []
    for size, turn, label in (((p.samples + 1) // 2, 0.0, 1), (p.samples // 2, np.pi, 0)):
        t = np.arange(size) / size  # (n,) in [0, 1)
        arms.append(_polar(t * _RADIUS, 1.75 * 2 * np.pi * t + turn))
        labels.append(np.full(size, label))
    return _toy(np.concatenate(arms), np.concatenate(labels), p.noise, rng, _TWO_CLASSES)


def _moons(p: _ToyParams) -> _Generated:
    from sklearn.datasets import make_moons

    points, y = make_moons(n_samples=p.samples, noise=None, random_state=p.seed)  # (N, 2)
    # make_moons spans [-1, 2] x [-0.5, 1]; centre it and stretch to [-5, 5] x [-2.5, 2.5].
    points = (points - np.array([0.5, 0.25])) * (_RADIUS / 1.5)
    return _toy(points, y, p.noise, np.random.default_rng(p.seed), ["0", "1"])


def _blobs(p: _BlobsParams) -> _Generated:
    from sklearn.datasets import make_blobs

    # Centres evenly on a circle, so that no two blobs overlap at noise 0; two blobs
    # sit at (2.5, 2.5) and (-2.5, -2.5) as the Playground's gaussian set does.
    angle = np.pi / 4 + 2 * np.pi * np.arange(p.centers) / p.centers
    centers = _polar(np.full(p.centers, 0.7 * _RADIUS), angle)[:, ::-1]  # (K, 2)
    points, y = make_blobs(
        n_samples=p.samples, centers=centers, cluster_std=0.5, random_state=p.seed
    )
    classes = [str(k) for k in range(p.centers)]
    return _toy(points, y, p.noise, np.random.default_rng(p.seed), classes)


def _tabular(p: _TabularParams) -> _Generated:
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=p.rows,
        n_features=p.features,
        n_informative=p.informative,
        n_redundant=p.redundant,
        n_classes=p.classes,
        class_sep=p.class_sep,
        flip_y=p.flip_y,
        random_state=p.seed,
    )  # (N, F) float64, (N,)
    return _Generated(
        x=x.astype(np.float32),
        y=y.astype(np.int64),
        classes=[str(k) for k in range(p.classes)],
        feature_names=[f"f{i + 1}" for i in range(p.features)],
    )


def _digits(p: _NoParams) -> _Generated:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]  # (1797, 1, 8, 8) in [0, 1]
    return _Generated(
        x=x,
        y=digits.target.astype(np.int64),
        classes=[str(k) for k in range(10)],
        feature_names=[],
    )


def _smileys(p: _SmileysParams) -> _Generated:
    x, y = smileys.draw_smileys(p.per_class, p.seed)
    return _Generated(x=x, y=y, classes=list(smileys.CLASSES), feature_names=[])


def _solder(p: _SolderParams) -> _Generated:
    x, y = solder.draw_solder(p.per_class, p.seed)
    return _Generated(x=x, y=y, classes=list(solder.CLASSES), feature_names=[])


def _process(p: _ProcessParams) -> _Generated:
    x, y, quality = process.draw_process(p.per_class, p.length, p.channels, p.seed)
    if p.target == "quality":
        return _Generated(x=x, y=quality, classes=[], feature_names=[], task="regression")
    return _Generated(x=x, y=y, classes=list(process.CLASSES), feature_names=[])


def _seasonal(p: Any) -> _Generated:
    x, y, meta = forecasting.generate_seasonal(p)
    return _Generated(x=x, y=y, classes=[], feature_names=[], task="regression", meta=meta)


class _UcrParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    length: Literal["error", "pad", "resample"] = Field(
        "pad",
        description="Series of unequal length: refuse, pad with the last value, or resample.",
    )
    steps: int | None = Field(
        None, ge=2, le=100_000, description="Length after pad or resample (default: longest)."
    )


def _ucr(name: str) -> Callable[[_UcrParams], _Generated]:
    """A generator that reads the vendored UCR set `name`, its test file as the test split."""

    def read(p: _UcrParams) -> _Generated:
        from lernwerk.data.importing import sequences_dataset

        train, test = load_ucr(name)
        ds = sequences_dataset(name, train, test, p.length, p.steps)
        assert ds.test_index is not None
        return _Generated(
            x=ds.x.numpy(),
            y=ds.y.numpy(),
            classes=ds.classes,
            feature_names=[],
            test_index=ds.test_index.numpy(),
        )

    return read


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
            generate=_xor,
        ),
        Builtin(
            name="circles",
            description=f"A disc inside a ring ({_PLAYGROUND}).",
            kind="table",
            task="classification",
            params_model=_ToyParams,
            generate=_circles,
        ),
        Builtin(
            name="spiral",
            description=f"Two interleaved spirals ({_PLAYGROUND}).",
            kind="table",
            task="classification",
            params_model=_ToyParams,
            generate=_spiral,
        ),
        Builtin(
            name="moons",
            description="Two interleaving half circles (scikit-learn's make_moons), 2D.",
            kind="table",
            task="classification",
            params_model=_ToyParams,
            generate=_moons,
        ),
        Builtin(
            name="blobs",
            description="Gaussian blobs, one class each (scikit-learn's make_blobs), 2D.",
            kind="table",
            task="classification",
            params_model=_BlobsParams,
            generate=_blobs,
        ),
        Builtin(
            name="tabular",
            description="Synthetic tabular classification, the lecture benchmark "
            "(scikit-learn's make_classification).",
            kind="table",
            task="classification",
            params_model=_TabularParams,
            generate=_tabular,
        ),
        Builtin(
            name="digits",
            description="Handwritten digits, 1797 images of 8x8 pixels (shipped with "
            "scikit-learn).",
            kind="images",
            task="classification",
            params_model=_NoParams,
            generate=_digits,
        ),
        Builtin(
            name="smileys",
            description="Hand-drawn smileys, 28x28 grayscale: smile, sad, neutral, upside-down "
            "(the Smiley app's categories), generated.",
            kind="images",
            task="classification",
            params_model=_SmileysParams,
            generate=_smileys,
        ),
        Builtin(
            name="solder",
            description="Solder joints under an inspection camera, 64x64 RGB: good, bridge, "
            "insufficient, excess, missing, generated.",
            kind="images",
            task="classification",
            params_model=_SolderParams,
            generate=_solder,
        ),
        Builtin(
            name="process",
            description="Press-fit force curves: ok or one of four faults, generated; "
            "target=quality makes it a regression on the retention force.",
            kind="sequences",
            task="classification",
            params_model=_ProcessParams,
            generate=_process,
        ),
        Builtin(
            name="seasonal",
            description=forecasting.SEASONAL_DESCRIPTION,
            kind="sequences",
            task="regression",
            params_model=forecasting.SeasonalParams,
            generate=_seasonal,
        ),
        *(
            Builtin(
                name=name.lower(),
                description=f"{info['description']} (UCR/UEA archive, official test split).",
                kind="sequences",
                task="classification",
                params_model=_UcrParams,
                generate=_ucr(name),
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


def load_builtin(name: str, **params: Any) -> Dataset:
    """Generate (or load) a built-in dataset; the same params give identical tensors.

    Raises:
        NotFound: No built-in of that name.
        SpecError: A parameter is unknown or out of range.
    """
    builtin = _find(name)
    resolved = _resolve(builtin, params)
    data = builtin.generate(resolved)
    return Dataset(
        name=_canonical_ref(builtin, resolved),
        kind=builtin.kind,
        task=data.task or builtin.task,
        x=torch.from_numpy(np.ascontiguousarray(data.x)),
        y=torch.from_numpy(np.ascontiguousarray(data.y)),
        classes=data.classes,
        feature_names=data.feature_names,
        source={"builtin": builtin.name, "params": resolved.model_dump()},
        test_index=None if data.test_index is None else torch.from_numpy(data.test_index),
        description=builtin.description,
        meta=data.meta or {},
    )


def load_dataset_ref(ref: str) -> Dataset:
    """Load a built-in by reference, e.g. "tabular:rows=500000,features=30"."""
    name, params = parse_dataset_ref(ref)
    return load_builtin(name, **params)


# --- helpers ---------------------------------------------------------------------


def _find(name: str) -> Builtin:
    key = name.strip().lower()
    if key in BUILTINS:
        return BUILTINS[key]
    close = difflib.get_close_matches(key, BUILTINS, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise NotFound(
        f"no built-in dataset of that name; {hint}expected one of {', '.join(sorted(BUILTINS))}",
        where=f"dataset '{name}'",
    )


def _resolve(builtin: Builtin, params: dict[str, Any]) -> BaseModel:
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


def _canonical_ref(builtin: Builtin, resolved: BaseModel) -> str:
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
