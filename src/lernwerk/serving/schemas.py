"""Request bodies of the web API, apart from the internal specs they are turned into.

Unknown fields are errors (422 naming the field), as in every lernwerk spec. Training
settings (`train`) and model specs (`spec`) are passed on as dicts and validated by
`TrainConfig` and `ModelSpec` themselves, so their messages are the CLI's.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(
            "use letters, digits, '.', '_' and '-', starting with a letter or digit "
            "(at most 128 characters)"
        )
    return name


# A dataset's or model's name: it becomes a folder or file name in the workspace.
StoredName = Annotated[str, AfterValidator(_check_name)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class EmptyDataset(_Body):
    classes: list[str] = Field(default_factory=list, max_length=200)
    image_size: int = Field(28, ge=4, le=512)
    channels: Literal[1, 3] = 1
    resize: Literal["fit", "crop"] = "fit"


class CreateDataset(_Body):
    """A stored dataset from a built-in generator, or an empty image dataset to draw into."""

    name: StoredName = Field(description="letters, digits, '.', '_' and '-'")
    source: str | None = Field(None, alias="from", description="a built-in, e.g. smileys")
    params: dict[str, Any] = Field(default_factory=dict, description="the built-in's parameters")
    empty: EmptyDataset | None = None

    @model_validator(mode="after")
    def _one_way(self) -> CreateDataset:
        if (self.source is None) == (self.empty is None):
            raise ValueError("give either 'from' (a built-in) or 'empty' (classes, image size)")
        return self


class AddSample(_Body):
    """One drawn or photographed image for a class."""

    label: str = Field(max_length=200)
    pixels: list[Any] | None = Field(None, description="H×W or H×W×C values in [0, 1]")
    image: str | None = Field(None, description="a data URL: data:image/png;base64,…")


class ClassName(_Body):
    name: str = Field(max_length=200)


class SaveModel(_Body):
    name: StoredName
    spec: dict[str, Any]


class SummaryRequest(_Body):
    spec: dict[str, Any] | str = Field(description="a spec, or a preset's or saved model's name")
    dataset: str | None = None
    input_shape: list[int] | None = Field(None, min_length=1, max_length=4)
    outputs: int | None = Field(None, ge=1, le=100_000)


class StartRun(_Body):
    dataset: str = Field(max_length=300)
    model: str | dict[str, Any] = Field(description="a preset's or saved model's name, or a spec")
    name: str | None = Field(None, max_length=200)
    train: dict[str, Any] = Field(default_factory=dict, description="a TrainConfig")


class PredictRequest(_Body):
    pixels: list[Any] | None = None
    image: str | None = None
    values: dict[str, Any] | None = None
    series: list[Any] | None = None
    sample: int | None = Field(None, description="the id of a sample of the run's dataset")


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
