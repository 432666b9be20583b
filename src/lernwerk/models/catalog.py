"""Every layer type, registered: importing this module fills `registry.LAYERS`.

Layer types live in modules by family (`layers`: the core ones, `branches`: blocks with
parallel paths, `sequence_layers`: layers for series, `pretrained`: EfficientNet-Lite0 with
its ImageNet weights, `patchcore`: the anomaly detector on it, `ensemble`: copies of a network averaged); each registers itself when it is imported, and this is the one place
that imports them all.
"""

from lernwerk.models import (  # noqa: F401
    branches,
    ensemble,
    generative,
    layers,
    patchcore,
    pretrained,
    sequence_layers,
)
from lernwerk.models.registry import LAYERS

__all__ = ["LAYERS"]
