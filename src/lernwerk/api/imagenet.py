"""The pretrained backbone's own ImageNet classifier, usable without training: the check
that the shipped weights are sound (`lernwerk predict efficientnet-lite0 photo.jpg`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from lernwerk.data.inputs import read_inputs

# model names that `predict` answers with the ImageNet classes when no run is so named
PRETRAINED_CLASSIFIERS = ("efficientnet-lite0",)


def classify_imagenet(paths: Iterable[str | Path], top: int = 5) -> list[dict[str, Any]]:
    """The `top` ImageNet classes of each photograph, most probable first.

    Each image is cropped to its centre square and scaled to 224×224, as ImageNet models
    are evaluated. Returns one `{"input", "top": [{"class", "probability"}, ...]}` per file.

    Raises:
        NotFound, DataError: a file is missing or not a readable image (named).
    """
    from lernwerk.models.pretrained import (
        IMAGENET_SIZE,
        imagenet_classes,
        imagenet_network,
        imagenet_scale,
    )

    size = IMAGENET_SIZE
    x, labels = read_inputs(
        [Path(p) for p in paths],
        kind="images",
        input_shape=(3, size, size),
        feature_names=[],
        image_resize="crop",
    )
    with torch.inference_mode():
        probs = imagenet_network()(imagenet_scale(x)).softmax(dim=1)
    names = imagenet_classes()
    values, indices = probs.topk(min(top, probs.shape[1]), dim=1)
    return [
        {
            "input": label,
            "top": [
                {"class": names[int(i)], "probability": round(float(v), 4)}
                for v, i in zip(vs, idx, strict=True)
            ],
        }
        for label, vs, idx in zip(labels, values, indices, strict=True)
    ]
