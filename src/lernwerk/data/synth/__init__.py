"""Procedural datasets drawn with numpy: seeded, any size, nothing downloaded.

Each module draws one set and returns plain arrays (x, y); `lernwerk.data.builtin`
wraps them as built-ins with validated parameters.
"""

from __future__ import annotations

import numpy as np


def balanced_labels(per_class: int, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """`per_class` labels of each class in a random order, (N,) int64."""
    return rng.permutation(np.repeat(np.arange(num_classes, dtype=np.int64), per_class))
