"""Patches of real photographs: the two that scikit-learn ships (`china.jpg`, a pagoda at
the Summer Palace over a lake, and `flower.jpg`, a dahlia), cut into seven kinds of scene.

Each class is a set of boxes in one photograph. Training and validation patches come from
the left 60 % of every box, test patches from the right 40 %, so no test pixel was seen in
training: what a model learns must carry over to another part of the scene. A patch is a
square of random size inside its part, turned over left to right half of the time and
scaled to `size` pixels. The boxes are fixed, so the same parameters give the same data.
"""

from __future__ import annotations

import numpy as np

SOURCE = "scikit-learn's sample images china.jpg and flower.jpg (640×427 each)"
# class -> (photograph, (x0, y0, x1, y1)) boxes, in pixels of the 640×427 photographs
REGIONS: dict[str, list[tuple[str, tuple[int, int, int, int]]]] = {
    "sky": [("china.jpg", (330, 0, 640, 110))],
    "lake": [("china.jpg", (345, 240, 545, 300))],
    "trees": [("china.jpg", (0, 345, 200, 427)), ("china.jpg", (560, 160, 640, 420))],
    "pagoda": [("china.jpg", (95, 180, 320, 235)), ("china.jpg", (85, 275, 330, 330))],
    "roof": [("china.jpg", (140, 78, 280, 112))],
    "dahlia": [("flower.jpg", (195, 110, 430, 340))],
    "leaves": [("flower.jpg", (0, 0, 170, 427)), ("flower.jpg", (460, 0, 640, 260))],
}
CLASSES = list(REGIONS)
_TRAIN_SHARE = 0.6  # of each box's width, from the left
_MIN_SIDE = 32  # pixels of the photograph in the smallest patch


def _photographs() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_sample_image

    return {name: load_sample_image(name) for name in ("china.jpg", "flower.jpg")}


def _part(box: tuple[int, int, int, int], test: bool) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    cut = x0 + round((x1 - x0) * _TRAIN_SHARE)
    return (cut, y0, x1, y1) if test else (x0, y0, cut, y1)


def draw_photos(
    per_class: int, test_per_class: int, size: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`per_class` patches of each class for training and validation, then
    `test_per_class` for testing, in a random order.

    Returns:
        x: (N, 3, size, size) float32 RGB in [0, 1]; y: (N,) int64; the test indices.
    """
    from PIL import Image

    photos = _photographs()
    rng = np.random.default_rng(seed)
    images, labels, is_test = [], [], []
    for label, name in enumerate(CLASSES):
        for test, count in ((False, per_class), (True, test_per_class)):
            parts = [(photo, _part(box, test)) for photo, box in REGIONS[name]]
            for _ in range(count):
                photo, (x0, y0, x1, y1) = parts[rng.integers(len(parts))]
                side = int(rng.integers(_MIN_SIDE, min(x1 - x0, y1 - y0) + 1))
                left = int(rng.integers(x0, x1 - side + 1))
                top = int(rng.integers(y0, y1 - side + 1))
                patch = Image.fromarray(photos[photo][top : top + side, left : left + side])
                patch = patch.resize((size, size), Image.Resampling.BICUBIC)
                if rng.random() < 0.5:
                    patch = patch.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
                images.append(np.asarray(patch, np.float32).transpose(2, 0, 1) / 255)
                labels.append(label)
                is_test.append(test)
    order = rng.permutation(len(labels))
    x = np.clip(np.stack(images)[order], 0, 1).astype(np.float32)  # (N, 3, size, size)
    y = np.asarray(labels, np.int64)[order]
    test_index = np.flatnonzero(np.asarray(is_test)[order])
    return x, y, test_index
