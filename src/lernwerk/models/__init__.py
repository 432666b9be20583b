"""Networks: the layer registry, building from specs, presets and summaries.

The names load on first use (PEP 562): listing the presets needs no PyTorch.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# public name -> the module that defines it
_EXPORTS = {
    "LAYERS": "lernwerk.models.layers",
    "LayerRow": "lernwerk.models.summary",
    "ModelSummary": "lernwerk.models.summary",
    "Network": "lernwerk.models.network",
    "build_network": "lernwerk.models.network",
    "list_presets": "lernwerk.models.presets",
    "load_preset": "lernwerk.models.presets",
    "preset_names": "lernwerk.models.presets",
    "resolve_model": "lernwerk.models.presets",
    "summarize": "lernwerk.models.summary",
}

if TYPE_CHECKING:
    from lernwerk.models.catalog import LAYERS
    from lernwerk.models.network import Network, build_network
    from lernwerk.models.presets import list_presets, load_preset, preset_names, resolve_model
    from lernwerk.models.summary import LayerRow, ModelSummary, summarize


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "LAYERS",
    "LayerRow",
    "ModelSummary",
    "Network",
    "build_network",
    "list_presets",
    "load_preset",
    "preset_names",
    "resolve_model",
    "summarize",
]
