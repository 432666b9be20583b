"""Trained models on disk: the safetensors + JSON bundle, the predictor, exports."""

from lernwerk.export.bundle import (
    META_FILE,
    WEIGHTS_FILE,
    Predictor,
    export_safetensors,
    save_bundle,
)

__all__ = ["META_FILE", "WEIGHTS_FILE", "Predictor", "export_safetensors", "save_bundle"]
