"""Request and response bodies of the web API, apart from the internal specs and records.

Requests: unknown fields are errors (422 naming the field), as in every lernwerk spec.
Training settings (`train`) and model specs (`spec`) are passed on as dicts and validated
by `TrainConfig` and `ModelSpec` themselves, so their messages are the CLI's.

Responses: the fields every answer has, for `/openapi.json` and `/docs`; answers may carry
more (per task, per dataset kind), so response models allow extra fields.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from lernwerk.data.builtin import BUILTINS
from lernwerk.data.images.formats import MAX_CLASS_NAME, validate_class_name
from lernwerk.errors import DataError

# What `/openapi.json` says of a name is what the validators below enforce: the same
# patterns, in a form that means the same in Python and in JSON Schema (ECMA-262).
NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_NAME = re.compile(NAME_PATTERN)

# A class name: no space at either end, no control character, '/', '\\' or '..', not
# starting with a dot, at most MAX_CLASS_NAME characters (the core's rules, stripping aside).
_NO = "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029/\\\\"  # never in a class name
_SPACE = " \\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000\\ufeff"
_N = f"[^.{_NO}]"  # any but a dot
_E = f"[^.{_NO}{_SPACE}]"  # nor a space: first and last
# E, then characters with each dot followed by a non-dot, ending in a non-space or a dot
CLASS_PATTERN = f"^{_E}(?:(?:{_N}|\\.{_N})*(?:\\.|\\.?{_E}))?$"
_CLASS = re.compile(CLASS_PATTERN)


def check_name(name: str) -> str:
    """`name` if `NAME_PATTERN` allows it as a stored name (ValueError saying the rule)."""
    if not _NAME.fullmatch(name):
        raise ValueError(
            "use letters, digits, '.', '_' and '-', starting with a letter or digit "
            "(at most 128 characters)"
        )
    return name


def check_class_name(name: str) -> str:
    """`name` if it is a class name `CLASS_PATTERN` allows (ValueError naming the rule)."""
    try:
        validate_class_name(name)
    except DataError as exc:  # the answer adds what it received
        raise ValueError(exc.message.split("; received: ")[0]) from None
    if len(name) > MAX_CLASS_NAME:
        raise ValueError(f"class name has {len(name)} characters; at most {MAX_CLASS_NAME}")
    if not _CLASS.fullmatch(name):
        raise ValueError("class name has a space at its start or end")
    return name


# A dataset's or model's name: it becomes a folder or file name in the workspace.
StoredName = Annotated[
    str,
    AfterValidator(check_name),
    WithJsonSchema({"type": "string", "pattern": NAME_PATTERN, "maxLength": 128}),
]
# A class name: it becomes a folder name when the dataset is exported.
ClassLabel = Annotated[
    str,
    AfterValidator(check_class_name),
    WithJsonSchema(
        {"type": "string", "pattern": CLASS_PATTERN, "minLength": 1, "maxLength": MAX_CLASS_NAME}
    ),
]


def _json_int(value: Any) -> Any:
    """An integer as JSON Schema has it: 3 and 3.0, not true nor "3"."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expected an integer")
    return value


# An integer in a request body
JsonInt = Annotated[int, BeforeValidator(_json_int)]
# A built-in dataset generator's name
BuiltinName = Literal[tuple(sorted(BUILTINS))]  # type: ignore[valid-type]


def _model_ref(value: Any) -> Any:
    if isinstance(value, dict) or (isinstance(value, str) and _NAME.fullmatch(value)):
        return value
    raise ValueError(
        "expected the name of a preset or a saved model (letters, digits, '.', '_' and '-'), "
        "or a spec (an object)"
    )


# A preset's or saved model's name, or a model spec, as a request gives it
ModelRef = Annotated[
    Any,
    AfterValidator(_model_ref),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": NAME_PATTERN}, {"type": "object"}]}),
]


class _Body(BaseModel):
    # strict: no true for 1 nor "1" for 1, as in JSON Schema
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)


class EmptyDataset(_Body):
    classes: list[ClassLabel] = Field(default_factory=list, max_length=200)
    image_size: JsonInt = Field(28, ge=4, le=512)
    channels: Literal[1, 3] = 1
    resize: Literal["fit", "crop"] = "fit"

    @field_validator("channels", mode="before")
    @classmethod
    def _not_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):  # True == 1 in Python, not in JSON
            raise ValueError("expected 1 or 3")
        return value


class CreateDataset(_Body):
    """A stored dataset from a built-in generator, or an empty image dataset to draw into:
    exactly one of `from` and `empty`."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["from"]}, {"required": ["empty"]}]}
    )

    name: StoredName = Field(description="letters, digits, '.', '_' and '-'")
    source: BuiltinName = Field(None, alias="from", description="a built-in, e.g. smileys")  # type: ignore[assignment]
    params: dict[str, Any] = Field(default_factory=dict, description="the built-in's parameters")
    empty: EmptyDataset = Field(None)  # type: ignore[assignment]

    @model_validator(mode="after")
    def _one_way(self) -> CreateDataset:
        if (self.source is None) == (self.empty is None):
            raise ValueError("give either 'from' (a built-in) or 'empty' (classes, image size)")
        return self


class AddSample(_Body):
    """One drawn or photographed image for a class."""

    label: ClassLabel
    pixels: list[Any] | None = Field(None, description="H×W or H×W×C values in [0, 1]")
    image: str | None = Field(None, description="a data URL: data:image/png;base64,…")


class ClassName(_Body):
    name: ClassLabel


class SaveModel(_Body):
    name: StoredName
    spec: dict[str, Any]


class SummaryRequest(_Body):
    spec: ModelRef = Field(description="a spec, or a preset's or saved model's name")
    dataset: str | None = None
    input_shape: list[JsonInt] | None = Field(None, min_length=1, max_length=4)
    outputs: Annotated[int, Field(ge=1, le=100_000), BeforeValidator(_json_int)] | None = None


class StartRun(_Body):
    dataset: str = Field(max_length=300)
    model: ModelRef = Field(description="a preset's or saved model's name, or a spec")
    name: str | None = Field(None, max_length=200)
    train: dict[str, Any] = Field(default_factory=dict, description="a TrainConfig")


class PredictRequest(_Body):
    pixels: list[Any] | None = None
    image: str | None = None
    values: dict[str, Any] | None = None
    series: list[Any] | None = None
    sample: JsonInt | None = Field(None, description="the id of a sample of the run's dataset")


class ExplainRequest(PredictRequest):
    target: str | None = Field(None, description="the class to explain; default the predicted")


class JoinRequest(_Body):
    name: str = Field(description="the participant's name: 1 to 32 letters, digits, spaces, . _ -")


class PushRequest(_Body):
    dataset: str | None = Field(None, description="a dataset of the trainer's workspace")
    model: str | None = Field(None, description="a saved model of the trainer's workspace")


# -- responses ------------------------------------------------------------------------------


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class Health(_Answer):
    status: Literal["ok"]
    version: str
    workspace: str = Field(description="the workspace folder")


class DatasetItem(_Answer):
    """A built-in (with its parameters) or a dataset stored in the workspace."""

    name: str
    source: Literal["builtin", "workspace"]
    kind: str | None = None
    task: str | None = None
    description: str | None = None


class DatasetView(_Answer):
    """A dataset's counts per class and split, shape and hash; a table's first rows."""

    name: str
    kind: str
    task: str | None
    num_samples: int
    input_shape: list[int]
    classes: list[str]
    content_hash: str
    stored: bool
    splits: dict[str, Any]


class ImportedDataset(DatasetView):
    report: dict[str, Any] = Field(description="skipped files, detected settings")


class SampleRef(_Answer):
    id: int
    label: Any = Field(description="a class name, or a target value")
    test: bool = Field(description="in the test split")


class SamplePage(_Answer):
    total: int
    samples: list[SampleRef]


class SkippedEntry(_Answer):
    path: str = Field(description="the zip entry")
    reason: str
    code: str = Field(description="unsafe, hidden or not_image")


class SampleIds(_Answer):
    ids: list[int]
    skipped: list[SkippedEntry] = Field(
        default_factory=list, description="zip entries passed over, with the reason"
    )


class ClassList(_Answer):
    classes: list[str]


class ModelItem(_Answer):
    name: str
    description: str | None
    source: Literal["preset", "workspace"]
    spec: dict[str, Any] | None = Field(description="null: a saved file that is not valid")


class SummaryLayer(_Answer):
    index: int
    name: str
    type: str
    output_shape: list[int]
    params: int
    flops: int
    depth: int


class ModelSummaryView(_Answer):
    name: str
    input_shape: list[int]
    layers: list[SummaryLayer]
    total_params: int
    trainable_params: int
    total_flops: int
    output_shape: list[int]
    output_activation: str | None


class LayerType(_Answer):
    type: str
    description: str
    params: list[dict[str, Any]]


class JobView(_Answer):
    """A training job: queued, running or ended; its run once started."""

    job_id: str
    status: str
    run_id: str | None
    name: str | None
    dataset: str
    model: str
    error: dict[str, Any] | None = Field(description="why it failed: an error body")
    queue_position: int | None


class RunRow(_Answer):
    """A run's key facts (or a job that has no run yet: `id` null)."""

    id: str | None
    name: str | None
    status: str
    dataset: str
    model: str
    job_id: str | None


class RunView(_Answer):
    """A run's record, its history per epoch and what its prediction takes."""

    id: str
    name: str
    status: str
    config: dict[str, Any]
    model: str
    dataset: str
    epoch: int
    metrics: dict[str, Any]
    error: str | None
    history: list[dict[str, Any]]
    input: dict[str, Any] | None
    job_id: str | None


class StopAnswer(_Answer):
    job_id: str
    run_id: str | None
    status: Literal["stopped", "stopping"]


class EvaluationView(_Answer):
    split: str
    task: str
    num_samples: int
    metrics: dict[str, Any]
    samples: list[dict[str, Any]] = Field(description="each sample's prediction")


class Prediction(_Answer):
    """`{predicted, confidence, probabilities}`, `{value}` or an anomaly score; `results`
    for an upload of several samples; `ms` the time it took."""

    ms: float


class TrainDefaults(BaseModel):
    """What a run on a dataset uses for the settings left out (GET .../train-defaults)."""

    dataset: str = Field(description="the dataset's name")
    model: str = Field(description="the preset the dataset starts with")
    optimizer: str = Field(description="the optimizer the learning rate is for")
    n_train: int = Field(description="samples in the training split")
    n_val: int = Field(description="samples in the validation split")
    n_test: int = Field(description="samples in the test split")
    batch_size: int = Field(description="the batch size used when none is given")
    lr: float = Field(description="the learning rate used when none is given")
    epochs: int = Field(description="the epochs the server would choose")
    fixed_test: bool = Field(description="the dataset brings its own test split")


# -- an anomaly detector's threshold ------------------------------------------------------


class ThresholdRequest(_Body):
    threshold: float = Field(
        allow_inf_nan=False, description="scores above it are flagged as anomalies"
    )


class ThresholdView(_Answer):
    """The threshold saved with the run's model and the validation and test metrics under it."""

    threshold: float
    threshold_rule: str
    metrics: dict[str, Any]


# -- ONNX export ---------------------------------------------------------------------------


class ParityReport(_Answer):
    """How the ONNX file compares with PyTorch on the run's test split."""

    samples: int
    agreement: float | None
    max_abs_diff: float | None
    tolerance: float
    compared: str
    passed: bool
    reason: str


class ExportFile(_Answer):
    name: str
    url: str


class OnnxExport(_Answer):
    """A run's checked ONNX export: the parity figures and the files to download."""

    run_id: str
    parity: ParityReport
    files: list[ExportFile]


class FeatureMapsView(_Answer):
    layer: str
    type: str
    channels: int = Field(description="the layer's channels; `maps` holds the first 32")
    maps: list[Any] = Field(description="(C', h, w) values")


class ExplanationView(_Answer):
    """Why the model decided so for one input (see `lernwerk explain`)."""

    kind: Literal["images", "sequences", "table"]
    target: int
    target_name: str | None
    outputs: list[float]
    attribution: list[Any] = Field(description="integrated gradients, the sample's shape")
    saliency: list[Any] = Field(
        description="per pixel (H×W) or time step in [0, 1]; per feature (signed) for tables"
    )
    convergence: float
    gradcam: list[Any] | None = Field(description="H×W in [0, 1] (2-D convolutional networks)")
    feature_maps: list[FeatureMapsView]
    names: list[str]
    ms: float


class CodeView(_Answer):
    """A network (or a whole run) as one plain PyTorch file."""

    filename: str
    code: str


# -- inspections ----------------------------------------------------------------------------


class InspectionView(_Answer):
    """An inspection job: its progress, then its summary and rows (`result`)."""

    inspection_id: str
    run_id: str
    dataset: str
    status: str = Field(description="queued, running, finished or failed")
    done: int
    total: int | None
    error: dict[str, Any] | None = Field(description="why it failed: an error body")
    report_html: str | None = Field(description="the HTML report, once finished")
    report_csv: str | None = Field(description="the CSV report, once finished")
    result: dict[str, Any] | None = Field(
        description="counts per class, flagged, unreadable, the rule, and every row"
    )


# -- baselines ------------------------------------------------------------------------------


class RunBaselines(_Body):
    """Which split the baselines fit on: the one a run with these settings uses."""

    val_split: float = Field(0.2, ge=0, lt=1, description="as the runs to compare with")
    test_split: float = Field(0.2, ge=0, lt=1, description="as the runs to compare with")
    split_seed: JsonInt = Field(0, ge=0, le=2**31 - 1, description="as the runs to compare with")
    task: Literal["classification", "regression"] | None = Field(
        None, description="default: the dataset's own"
    )
    seed: JsonInt = Field(0, ge=0, le=2**31 - 1, description="seeds the estimators")
    estimators: (
        list[Literal["logistic-regression", "ridge", "hist-gradient-boosting", "xgboost", "rocket"]]
        | None
    ) = Field(None, description="only these (rocket: series only); default: all that suit")


class BaselinesView(_Answer):
    """The baselines just stored as runs, the networks on the same split, and the table."""

    dataset: str
    task: str
    splits: dict[str, int] = Field(description="samples in train, val and test")
    runs: list[dict[str, Any]] = Field(description="the baseline runs, as /api/runs lists them")
    networks: list[dict[str, Any]] = Field(description="finished networks on the same split")
    table: list[dict[str, Any]] = Field(description="model, features, test score, seconds")
    notes: list[str] = Field(description="what was left out, and why")


# -- workshop -------------------------------------------------------------------------------


class Joined(_Answer):
    name: str
    token: str = Field(description="opens this participant's workspace and nothing else")
    url: str = Field(description="the page with the token")


class WhoView(_Answer):
    workshop: bool
    participant: str | None
    trainer: bool


class RoomView(_Answer):
    """Every participant, their datasets, runs and trainings, and the leaderboard."""

    participants: list[dict[str, Any]]
    leaderboard: list[dict[str, Any]]
    task: str = Field(description="the leaderboard's dataset (best test accuracy on it)")


class PushView(_Answer):
    dataset: str | None
    model: str | None
    pushed: list[str]
    skipped: list[dict[str, Any]]


# -- fixing what the model got wrong -----------------------------------------------------

SampleIdList = Annotated[
    list[JsonInt], Field(min_length=1, max_length=10_000, description="sample ids")
]


class RelabelRequest(_Body):
    ids: SampleIdList
    to: ClassLabel = Field(description="the class the samples belong to")


class CheckedRequest(_Body):
    ids: SampleIdList
    checked: bool = Field(True, description="false takes the mark away")


class DeleteRequest(_Body):
    ids: SampleIdList


class DataEdit(_Answer):
    """A dataset's data version after an edit, and the edit `undo` would revert (null:
    none); `undone`: what an undo reverted."""

    dataset: str
    data_version: str
    undo: dict[str, Any] | None


class Mistakes(_Answer):
    """The ids a classifier gets wrong on a split, the most confident first."""

    run: str
    split: str
    ids: list[int]
    data_version: str
    dataset_changed: bool


# -- data checks --------------------------------------------------------------------------


class CheckFinding(_Answer):
    """One finding of the data checks; the page renders `check.<code>.*` with `numbers`."""

    code: str = Field(description="the check, e.g. few_per_class, imbalance, split_leak")
    severity: Literal["blocker", "warning", "hint"] = Field(
        description="a blocker stops training; warnings and hints are stored with the run"
    )
    numbers: dict[str, Any] = Field(description="the facts behind it")
    message: str = Field(description="what was found, in English")
    why: str = Field(description="why it matters, one sentence")
    action: str = Field(description="what to do, or what lernwerk does about it")


class DatasetChecksView(_Answer):
    """The data checks of a dataset with a run's split settings (GET .../checks)."""

    dataset: str
    num_samples: int
    samples_checked: int = Field(description="samples looked at; fewer when sampled")
    sampled: bool = Field(description="a large set was looked at through a seeded sample")
    seconds: float
    splits: dict[str, int] = Field(description="samples in train, val and test")
    counts: dict[str, int] = Field(description="findings per severity")
    findings: list[CheckFinding] = Field(description="blockers first, then warnings, hints")


class GeneratedSamples(_Answer):
    """The pictures a generative run drew (task generate); empty for other runs."""

    epochs: list[int] = Field(description="the epochs whose grid of fixed latent points is stored")
    latent_map: bool = Field(description="whether the latent map is drawn (at the run's end)")
    interpolation: bool = Field(description="whether the interpolation is drawn")
