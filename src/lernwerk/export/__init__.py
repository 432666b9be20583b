"""Trained models on disk: the safetensors + JSON bundle, the predictor, exports.

The names load on first use (PEP 562), so that `lernwerk.export.onnx_runner` runs an
exported model without importing PyTorch.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "META_FILE": "lernwerk.export.bundle",
    "WEIGHTS_FILE": "lernwerk.export.bundle",
    "Predictor": "lernwerk.export.bundle",
    "export_safetensors": "lernwerk.export.bundle",
    "save_bundle": "lernwerk.export.bundle",
}

if TYPE_CHECKING:
    from lernwerk.export.bundle import (
        META_FILE,
        WEIGHTS_FILE,
        Predictor,
        export_safetensors,
        save_bundle,
    )


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lernwerk.export' has no attribute {name!r}")
    return getattr(import_module(module), name)


__all__ = ["META_FILE", "WEIGHTS_FILE", "Predictor", "export_safetensors", "save_bundle"]
