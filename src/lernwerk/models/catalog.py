"""Every layer type, registered: importing this module fills `registry.LAYERS`.

Layer types live in modules by family (`layers`: the core ones, `branches`: blocks with
parallel paths, `sequence_layers`: layers for series, `pretrained`: EfficientNet-Lite0 with
its ImageNet weights); each registers itself when it is imported, and this is the one place
that imports them all.
"""

from lernwerk.models import branches, layers, pretrained, sequence_layers  # noqa: F401
from lernwerk.models.registry import LAYERS

__all__ = ["LAYERS"]
