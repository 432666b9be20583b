"""Models in a workspace: specs saved by name beside the shipped presets, and summaries.

A saved model lives in `<workspace>/models/NAME.yaml` and is found by its name wherever
a preset name is accepted (`fit`, `model_summary`); a name may not shadow a preset.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import yaml

from lernwerk.config import ModelSpec, read_spec_file
from lernwerk.data import Dataset
from lernwerk.errors import Conflict, NotFound, SpecError
from lernwerk.models import (
    LAYERS,
    ModelSummary,
    build_network,
    load_preset,
    preset_names,
    summarize,
)
from lernwerk.models import list_presets as _list_presets
from lernwerk.models import resolve_model as _resolve_model
from lernwerk.models.network import check_layers
from lernwerk.store import WorkspaceStore, atomic_write_bytes
from lernwerk.training import make_task

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class ModelMethods:
    """The model half of `Workspace`: saved specs, name resolution and summaries."""

    store: WorkspaceStore

    if TYPE_CHECKING:  # provided by DatasetMethods

        def load_dataset(self, ref: str | Dataset, **params: Any) -> Dataset: ...

    def resolve_model(
        self, model: str | dict[str, Any] | ModelSpec, *, allow_files: bool = True
    ) -> ModelSpec:
        """A model saved in this workspace, a preset, a spec dict or spec, or a spec file.

        Args:
            allow_files: Whether a string may name a YAML/JSON file; the web server passes
                False, so that a request can never make it read a file.

        Raises:
            NotFound: no saved model, preset (or file) of that name.
            SpecError: the spec is invalid.
        """
        if isinstance(model, str) and _NAME.fullmatch(model):
            if model in self.store.model_names():
                path = self.store.model_file(model)
                return ModelSpec.from_dict(read_spec_file(path), what=f"model {model}")
            if not allow_files or model in preset_names():
                return self._preset(model)
        if isinstance(model, str) and not allow_files:
            raise SpecError(
                f"model: expected the name of a preset or a saved model; received: {model!r}",
                where="model",
            )
        return _resolve_model(model)

    def _preset(self, name: str) -> ModelSpec:
        try:
            return load_preset(name)
        except NotFound:
            saved = ", ".join(self.store.model_names()) or "none"
            raise NotFound(
                f"model '{name}' not found; presets: {', '.join(preset_names())}; "
                f"saved in this workspace: {saved}",
                where="model",
            ) from None

    def save_model(
        self, name: str, spec: dict[str, Any] | ModelSpec, *, replace: bool = True
    ) -> ModelSpec:
        """Save a spec as `models/NAME.yaml`; it is then found by `name`. Returns it as saved.

        Raises:
            SpecError: the name is not a plain name, or the spec is invalid.
            Conflict: the name is a preset's, or taken and `replace` is False.
        """
        self.store.model_file(name)  # validates the name
        if name in preset_names():
            raise Conflict(
                f"'{name}' is the name of a preset; choose another name for your model",
                where="name",
            )
        if not replace and name in self.store.model_names():
            raise Conflict(f"a model named '{name}' is already saved", where="name")
        parsed = spec if isinstance(spec, ModelSpec) else ModelSpec.from_dict(spec)
        parsed = parsed.model_copy(update={"name": name})
        check_layers(parsed.layers)  # a spec that could never be built is not saved
        text = yaml.safe_dump(parsed.to_dict(), sort_keys=False, allow_unicode=True)
        atomic_write_bytes(self.store.model_file(name), text.encode("utf-8"))
        return parsed

    def delete_model(self, name: str) -> None:
        """Delete a saved model spec (runs trained with it keep their copy)."""
        if name not in self.store.model_names():
            raise NotFound(f"no model named '{name}' is saved in this workspace", where="model")
        self.store.model_file(name).unlink()

    def list_models(self) -> list[dict[str, Any]]:
        """Presets and saved models: `{name, description, source, spec}` each."""
        items = [
            {**p, "source": "preset", "spec": load_preset(p["name"]).to_dict()}
            for p in _list_presets()
        ]
        for name in self.store.model_names():
            try:
                spec = self.resolve_model(name, allow_files=False)
            except SpecError:  # edited by hand into something invalid: list it, flagged
                items.append({"name": name, "description": "", "source": "workspace", "spec": None})
                continue
            items.append(
                {
                    "name": name,
                    "description": spec.description,
                    "source": "workspace",
                    "spec": spec.to_dict(),
                }
            )
        return items

    def model_summary(
        self,
        model: str | dict[str, Any] | ModelSpec,
        *,
        dataset: str | Dataset | None = None,
        input_shape: tuple[int, ...] | None = None,
        outputs: int | None = None,
        allow_files: bool = True,
    ) -> ModelSummary:
        """Summarise a model for a dataset's input (and classes) or for a given input shape.

        Without a dataset, 'units: auto' means `outputs`.

        Raises:
            SpecError: the model does not fit the input; `where` names the layer
                ("layer 3", or "layer 5.2" inside block 5).
        """
        spec = self.resolve_model(model, allow_files=allow_files)
        if dataset is not None:
            ds = self.load_dataset(dataset)
            task = make_task(ds.task, None, classes=ds.classes, y_train=ds.y)
            input_shape, outputs = ds.input_shape, outputs or task.num_outputs
        return summarize(build_network(spec, input_shape, outputs))

    def model_code(
        self,
        model: str | dict[str, Any] | ModelSpec,
        *,
        dataset: str | Dataset | None = None,
        input_shape: tuple[int, ...] | None = None,
        outputs: int | None = None,
        allow_files: bool = True,
    ) -> str:
        """The network as plain PyTorch code (imports, helper classes, an `nn.Module`
        class written layer by layer) for a dataset's input or a given input shape.

        Raises:
            SpecError: the model does not fit the input (the layer named), or holds a
                module the code writer does not know.
        """
        import torch

        from lernwerk.export.pytorch_code import network_source

        spec = self.resolve_model(model, allow_files=allow_files)
        if dataset is not None:
            ds = self.load_dataset(dataset)
            task = make_task(ds.task, None, classes=ds.classes, y_train=ds.y)
            input_shape, outputs = ds.input_shape, outputs or task.num_outputs
        with torch.device("meta"):  # the code needs the layers' sizes, not their weights
            network = build_network(spec, input_shape, outputs)
        return network_source(network)


def layer_catalog() -> list[dict[str, Any]]:
    """Every layer type a spec may use, with its parameters, for a network designer."""
    return [layer.describe() for layer in LAYERS.values()]
