"""Preset networks, shipped as spec files beside this module, and model references."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from lernwerk.config import ModelSpec, read_spec_file
from lernwerk.errors import NotFound, SpecError

_PRESET_DIR = "presets"


def _preset_files() -> dict[str, Any]:
    root = resources.files("lernwerk.models").joinpath(_PRESET_DIR)
    return {f.name.removesuffix(".yaml"): f for f in root.iterdir() if f.name.endswith(".yaml")}


def preset_names() -> list[str]:
    """The names of the shipped presets, sorted."""
    return sorted(_preset_files())


def load_preset(name: str) -> ModelSpec:
    """A shipped preset by name."""
    files = _preset_files()
    if name not in files:
        raise NotFound(
            f"model '{name}' is neither a preset nor a spec file; presets: {', '.join(sorted(files))}",
            where="model",
        )
    with resources.as_file(files[name]) as path:
        return ModelSpec.from_dict(read_spec_file(path), what=f"preset {name}")


def list_presets() -> list[dict[str, str]]:
    """Name and description of every preset."""
    return [{"name": n, "description": load_preset(n).description} for n in preset_names()]


def resolve_model(model: str | dict[str, Any] | ModelSpec) -> ModelSpec:
    """A preset name, a path to a YAML/JSON spec file, an inline dict, or a spec."""
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, dict):
        return ModelSpec.from_dict(model)
    if not isinstance(model, str) or not model:
        raise SpecError(
            f"model: expected a preset name, a spec file or a spec; received: {model!r}"
        )
    path = Path(model)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.is_file():
        spec = ModelSpec.from_dict(read_spec_file(path), what=str(path))
        if spec.name == "custom":
            spec = spec.model_copy(update={"name": path.stem})
        return spec
    return load_preset(model)
