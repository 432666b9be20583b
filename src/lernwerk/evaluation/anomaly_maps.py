"""An anomaly map over its photo, as a PNG: what `lernwerk predict RUN photo --map` writes."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

MIN_SIDE = 256  # small images are enlarged (pixel by pixel) to at least this side


def heat_colours(v: np.ndarray) -> np.ndarray:
    """(H, W) values in [0, 1] -> (H, W, 3) colours from black over red and yellow to white."""
    return np.stack([np.clip(3 * v, 0, 1), np.clip(3 * v - 1, 0, 1), np.clip(3 * v - 2, 0, 1)], -1)


def overlay_png(image: np.ndarray, amap: np.ndarray, threshold: float | None) -> bytes:
    """The photo (C, H, W) in [0, 1] with its anomaly map (H, W) laid over it: the colour
    scale ends at twice the threshold (the threshold is orange), and the map is the more
    opaque the hotter it is."""
    photo = np.asarray(image, dtype=np.float64)
    photo = np.repeat(photo, 3, axis=0) if photo.shape[0] == 1 else photo[:3]
    photo = np.clip(photo.transpose(1, 2, 0), 0, 1)  # (H, W, 3)
    top = 2 * threshold if threshold and threshold > 0 else float(np.max(amap)) or 1.0
    v = np.clip(np.asarray(amap, dtype=np.float64) / top, 0, 1)
    alpha = (0.25 + 0.5 * v)[..., None]
    out = (1 - alpha) * photo + alpha * heat_colours(v)
    img = Image.fromarray(np.round(out * 255).astype(np.uint8), "RGB")
    side = min(img.size)
    if side < MIN_SIDE:
        f = -(-MIN_SIDE // side)
        img = img.resize((img.size[0] * f, img.size[1] * f), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
