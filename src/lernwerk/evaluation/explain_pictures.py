"""An explanation as PNG files: what `lernwerk explain RUN INPUT --out DIR` writes.

Images: the input, the integrated-gradients saliency and Grad-CAM laid over it, and a grid
of each convolution layer's feature maps. Sequences: the series with the attribution of
each time step drawn under it. Tables: one bar per feature (positive pushes towards the
explained output, negative away).
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw

from lernwerk.evaluation.anomaly_maps import MIN_SIDE, overlay_png
from lernwerk.evaluation.explain import Explanation

POSITIVE, NEGATIVE, LINE = (15, 118, 110), (180, 35, 24), (31, 41, 51)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _enlarged(img: Image.Image) -> Image.Image:
    side = min(img.size)
    if side >= MIN_SIDE:
        return img
    f = -(-MIN_SIDE // side)
    return img.resize((img.size[0] * f, img.size[1] * f), Image.Resampling.NEAREST)


def input_png(x: np.ndarray) -> bytes:
    """The image (C, H, W) in [0, 1] as it went in."""
    a = np.clip(np.asarray(x, dtype=np.float64), 0, 1)
    a = np.repeat(a, 3, axis=0) if a.shape[0] == 1 else a[:3]
    img = Image.fromarray(np.round(a.transpose(1, 2, 0) * 255).astype(np.uint8), "RGB")
    return _png(_enlarged(img))


def feature_grid_png(maps: np.ndarray) -> bytes:
    """Feature maps (C, h, w) side by side in a grid, each scaled to its own range
    (white high, black low), one pixel of grey between them."""
    c, h, w = maps.shape
    cols = math.ceil(math.sqrt(c))
    rows = math.ceil(c / cols)
    grid = np.full((rows * (h + 1) + 1, cols * (w + 1) + 1), 0.5)
    for k in range(c):
        m = maps[k].astype(np.float64)
        span = m.max() - m.min()
        m = (m - m.min()) / span if span > 0 else np.zeros_like(m)
        r, q = divmod(k, cols)
        grid[1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + q * (w + 1) : 1 + q * (w + 1) + w] = m
    img = Image.fromarray(np.round(grid * 255).astype(np.uint8), "L")
    return _png(_enlarged(img))


def series_png(x: np.ndarray, saliency: np.ndarray, width: int = 720) -> bytes:
    """The series (C, T), up to three channels, above the attribution per time step."""
    c, t = x.shape
    top_h, bar_h, pad = 180, 80, 10
    img = Image.new("RGB", (width, top_h + bar_h + 3 * pad), "white")
    draw = ImageDraw.Draw(img)
    xs = [pad + i * (width - 2 * pad) / max(t - 1, 1) for i in range(t)]
    shades = [LINE, (37, 99, 235), (217, 119, 6)]
    for ch in range(min(c, 3)):
        v = x[ch].astype(np.float64)
        lo, hi = float(v.min()), float(v.max())
        span = hi - lo or 1.0
        points = [(xs[i], pad + (1 - (v[i] - lo) / span) * top_h) for i in range(t)]
        draw.line(points, fill=shades[ch], width=2)
    base = top_h + bar_h + 2 * pad
    step = (width - 2 * pad) / t
    for i in range(t):
        height = float(saliency[i]) * bar_h
        x0 = pad + i * step
        draw.rectangle([x0, base - height, x0 + max(step - 1, 1), base], fill=NEGATIVE)
    return _png(img)


def table_png(names: list[str], values: np.ndarray, width: int = 560) -> bytes:
    """One horizontal bar per feature, from the middle: right positive, left negative."""
    row, pad, label_w = 22, 10, 200
    img = Image.new("RGB", (width, pad * 2 + row * len(names)), "white")
    draw = ImageDraw.Draw(img)
    middle = label_w + (width - label_w - pad) / 2
    half = (width - label_w - pad) / 2 - 2
    top = float(np.abs(values).max()) or 1.0
    for i, (name, v) in enumerate(zip(names, values, strict=True)):
        y = pad + i * row
        draw.text((pad, y + 4), str(name)[:28], fill=LINE)
        length = float(v) / top * half
        box = [middle, y + 3, middle + length, y + row - 3]
        if length < 0:
            box = [middle + length, y + 3, middle, y + row - 3]
        draw.rectangle(box, fill=POSITIVE if v >= 0 else NEGATIVE)
    draw.line([(middle, pad), (middle, pad + row * len(names))], fill=LINE)
    return _png(img)


def pictures(e: Explanation, x: np.ndarray) -> dict[str, bytes]:
    """File name -> PNG bytes for an explanation of the raw input `x`."""
    if e.kind == "images":
        files = {
            "input.png": input_png(x),
            "saliency.png": overlay_png(x, e.saliency(), None),
        }
        if e.gradcam is not None:
            files["gradcam.png"] = overlay_png(x, e.gradcam, None)
        for m in e.feature_maps:
            files[f"feature-maps-layer{m['layer']}.png"] = feature_grid_png(m["maps"])
        return files
    if e.kind == "sequences":
        return {"saliency.png": series_png(np.asarray(x), e.saliency())}
    return {"attribution.png": table_png(e.names, e.attribution)}
