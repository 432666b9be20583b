"""A sweep's search space: which settings vary, over which range, read from a YAML file.

One line per setting, keyed by the name a user writes elsewhere:

    lr: {low: 1.0e-4, high: 0.1, log: true}     # a float range (log-uniform)
    batch_size: [32, 64, 128]                   # choices
    optimizer: [adam, sgd]
    augment.rotation_deg: {low: 0, high: 15}    # an augmentation strength
    model.layers.1.units: {low: 16, high: 128, step: 16}   # an int range: a layer's width
    epochs: 5                                   # a fixed value

Training settings are `TrainConfig`'s fields, augmentation strengths `augment.<field>`,
model parameters `model.layers.<index>.<parameter>` (the index counts the spec's layers
from 0, as `lernwerk models show` lists them).
"""

from __future__ import annotations

import copy
import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lernwerk.config import AugmentConfig, ModelSpec, TrainConfig, read_spec_file
from lernwerk.errors import SpecError

_RANGE_KEYS = {"low", "high", "log", "step"}
_NOT_SWEPT = {"augment", "init", "freeze"}  # augment varies field by field; the rest is fixed


@dataclass(frozen=True)
class Param:
    """One setting of the space: a float or int range, a list of choices, or a fixed value."""

    name: str
    kind: str  # "float", "int", "choice" or "fixed"
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = field(default=())
    value: Any = None

    def suggest(self, trial: Any) -> Any:
        """The value an Optuna trial draws for this setting."""
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, log=self.log, step=self.step)
        if self.kind == "int":
            step = int(self.step or 1)
            return trial.suggest_int(
                self.name, int(self.low), int(self.high), step=step, log=self.log
            )
        if self.kind == "choice":
            return trial.suggest_categorical(self.name, list(self.choices))
        return self.value

    def corner(self, high: bool) -> Any:
        """The lowest (or highest) value of the range: what a check before the sweep tries."""
        if self.kind in ("float", "int"):
            value = self.high if high else self.low
            return int(value) if self.kind == "int" else value  # type: ignore[arg-type]
        if self.kind == "choice":
            return self.choices[-1] if high else self.choices[0]
        return self.value

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "choice":
            return {"name": self.name, "kind": "choice", "choices": list(self.choices)}
        if self.kind == "fixed":
            return {"name": self.name, "kind": "fixed", "value": self.value}
        return {
            "name": self.name,
            "kind": self.kind,
            "low": self.low,
            "high": self.high,
            "log": self.log,
            **({"step": self.step} if self.step is not None else {}),
        }


class SearchSpace:
    """The settings a sweep varies (and fixes), checked against a model spec."""

    def __init__(self, params: tuple[Param, ...], source: str = "space") -> None:
        self.params, self.source = params, source

    @property
    def varied(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.kind != "fixed")

    @classmethod
    def load(cls, space: str | Path | dict[str, Any], spec: ModelSpec) -> SearchSpace:
        """A space from a YAML/JSON file or a dict, every key and range checked.

        Raises:
            SpecError: an unknown setting, an empty or malformed range, no varying setting.
            NotFound: the file does not exist.
        """
        if isinstance(space, dict):
            data, source = space, "space"
        else:
            data, source = read_spec_file(space), str(space)
        if not isinstance(data, dict) or not data:
            raise SpecError(
                f"{source}: expected a mapping of settings to ranges, e.g. "
                "'lr: {low: 1.0e-4, high: 0.1, log: true}'; received: "
                f"{type(data).__name__ if data else 'nothing'}",
                where=source,
            )
        params = tuple(_param(str(k), v, source, spec) for k, v in data.items())
        space_ = cls(params, source)
        if not space_.varied:
            raise SpecError(
                f"{source}: no setting varies; give at least one a range or choices",
                where=source,
            )
        return space_

    @classmethod
    def from_dicts(cls, params: list[dict[str, Any]]) -> SearchSpace:
        """A space as `to_dicts` wrote it (a study's record)."""
        out = []
        for p in params:
            p = dict(p)
            if "choices" in p:
                p["choices"] = tuple(p["choices"])
            out.append(Param(**p))
        return cls(tuple(out))

    def to_dicts(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.params]

    def apply(
        self, values: dict[str, Any], model: dict[str, Any], train: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The model spec and training settings of one trial: `values` set over the bases."""
        model, train = copy.deepcopy(model), copy.deepcopy(train)
        for name, value in values.items():
            if name.startswith("model.layers."):
                _, _, index, key = name.split(".", 3)
                model["layers"][int(index)][key] = value
            elif name.startswith("augment."):
                train.setdefault("augment", {})[name.split(".", 1)[1]] = value
            else:
                train[name] = value
        return model, train

    def corner_values(self, high: bool) -> dict[str, Any]:
        return {p.name: p.corner(high) for p in self.params}


def _param(key: str, value: Any, source: str, spec: ModelSpec) -> Param:
    _check_key(key, source, spec)
    where = f"{source}: {key}"
    if isinstance(value, dict):
        value = {k: _number(v) for k, v in value.items()}
        unknown = set(value) - _RANGE_KEYS
        if unknown:
            raise SpecError(
                f"{where}: unknown range key {sorted(unknown)[0]!r}; expected low, high, "
                "and optionally log or step",
                where=key,
            )
        if "low" not in value or "high" not in value:
            raise SpecError(f"{where}: a range needs both low and high", where=key)
        low, high = value["low"], value["high"]
        for bound in (low, high):
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                raise SpecError(
                    f"{where}: low and high must be numbers; received {bound!r}", where=key
                )
            if not math.isfinite(bound):
                raise SpecError(f"{where}: low and high must be finite numbers", where=key)
        if low > high:
            raise SpecError(
                f"{where}: empty range: low {low} is above high {high}; swap them", where=key
            )
        log = bool(value.get("log", False))
        if log and low <= 0:
            raise SpecError(f"{where}: a log range needs low > 0; received low {low}", where=key)
        step = value.get("step")
        if step is not None and (isinstance(step, bool) or not isinstance(step, int | float)):
            raise SpecError(f"{where}: step must be a number; received {step!r}", where=key)
        if step is not None and (step <= 0 or log):
            raise SpecError(f"{where}: step must be positive, and not with log", where=key)
        is_int = all(isinstance(b, int) for b in (low, high)) and (
            step is None or isinstance(step, int)
        )
        return Param(key, "int" if is_int else "float", low, high, log, step)
    if isinstance(value, list):
        value = [_number(v) for v in value]
        if not value:
            raise SpecError(f"{where}: empty range: the list of choices is empty", where=key)
        for choice in value:
            if choice is not None and not isinstance(choice, str | int | float | bool):
                raise SpecError(
                    f"{where}: a choice must be a number, a string or true/false; "
                    f"received {choice!r}",
                    where=key,
                )
        return Param(key, "choice", choices=tuple(value))
    return Param(key, "fixed", value=value)


def _number(value: Any) -> Any:
    """A number YAML read as a string (YAML 1.1 wants `1.0e-6`, not `1e-6`), as a number."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _check_key(key: str, source: str, spec: ModelSpec) -> None:
    train_fields = sorted(set(TrainConfig.model_fields) - _NOT_SWEPT)
    if key in train_fields:
        return
    if key.startswith("augment."):
        name = key.split(".", 1)[1]
        if name in AugmentConfig.model_fields:
            return
        raise SpecError(
            f"{source}: unknown setting '{key}'{_close(name, list(AugmentConfig.model_fields))}"
            f"; augmentation settings: {', '.join(AugmentConfig.model_fields)}",
            where=key,
        )
    if key.startswith("model."):
        parts = key.split(".")
        n = len(spec.layers)
        if len(parts) != 4 or parts[1] != "layers" or not parts[2].isdigit() or parts[3] == "type":
            raise SpecError(
                f"{source}: unknown setting '{key}'; a model parameter is written "
                "model.layers.<index>.<parameter>, e.g. model.layers.1.units",
                where=key,
            )
        if int(parts[2]) >= n:
            raise SpecError(
                f"{source}: unknown setting '{key}': model '{spec.name}' has {n} layers "
                f"(indices 0 to {n - 1})",
                where=key,
            )
        return
    raise SpecError(
        f"{source}: unknown setting '{key}'{_close(key, train_fields)}; expected a training "
        "setting (lr, batch_size, optimizer, …), augment.<strength> or "
        "model.layers.<index>.<parameter>",
        where=key,
    )


def _close(name: str, options: list[str]) -> str:
    match = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean '{match[0]}'?)" if match else ""
