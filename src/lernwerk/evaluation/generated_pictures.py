"""Pictures of generated images: a grid of samples as a PNG, and reading one back."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

GRID_SCALE = 2  # each pixel drawn as a square this many pixels a side


def image_grid_png(
    images: np.ndarray, columns: int | None = None, scale: int = GRID_SCALE
) -> bytes:
    """Images (N, C, H, W) in [0, 1] as one PNG, `columns` a row (default: a square),
    a pixel's gap between them; grey for one channel, RGB for three."""
    a = np.clip(np.asarray(images, dtype=np.float64), 0, 1)
    n, c, h, w = a.shape
    cols = columns or max(1, int(np.ceil(np.sqrt(n))))
    rows = max(1, -(-n // cols))
    a = np.repeat(a, 3, axis=1) if c == 1 else a[:, :3]
    canvas = np.full((3, rows * (h + 1) + 1, cols * (w + 1) + 1), 0.35)
    for i in range(n):
        r, k = divmod(i, cols)
        canvas[:, 1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + k * (w + 1) : 1 + k * (w + 1) + w] = a[
            i
        ]
    img = Image.fromarray(np.round(canvas.transpose(1, 2, 0) * 255).astype(np.uint8), "RGB")
    if scale > 1:
        img = img.resize((img.size[0] * scale, img.size[1] * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
