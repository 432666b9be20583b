"""Small image files for the image tests: PNG bytes and folder trees of them."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from lernwerk.data.images.formats import ImageFormat

GREY = ImageFormat(size=8)


def _png(array: np.ndarray) -> bytes:
    """(H, W) or (H, W, 3|4) uint8 as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def _flat(value: int, size: tuple[int, int] = (8, 8)) -> bytes:
    return _png(np.full(size, value, dtype=np.uint8))


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root
