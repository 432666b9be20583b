"""Networks: the layer registry, building from specs, presets and summaries."""

from lernwerk.models.layers import LAYERS
from lernwerk.models.network import Network, build_network
from lernwerk.models.presets import list_presets, load_preset, preset_names, resolve_model
from lernwerk.models.summary import LayerRow, ModelSummary, summarize

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
