"""Hand-drawn smileys on a 28x28 canvas, the Smiley teaching app's four categories.

Each face is a few pen strokes (a wobbly, not quite closed circle, two eyes, a mouth)
placed, scaled, stretched and turned at random, then inked with a round brush whose
coverage falls off over one pixel, which antialiases the strokes as a downsampled
drawing would be.
"""

from __future__ import annotations

import numpy as np

from lernwerk.data.synth import balanced_labels

CLASSES = ["smile", "sad", "neutral", "upside-down"]
SIZE = 28  # canvas side in pixels

_FACE_POINTS = 40
_EYE_POINTS = 6
_MOUTH_POINTS = 14
_CHUNK = 128  # samples rendered at once; bounds the (n, S, H*W) distance arrays


def draw_smileys(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`per_class` drawings of each class in a random order.

    Returns:
        x: (N, 1, 28, 28) float32 in [0, 1], white ink on black; y: (N,) int64.
    """
    rng = np.random.default_rng(seed)
    y = balanced_labels(per_class, len(CLASSES), rng)
    n = len(y)
    strokes = [_face(n, rng), *_eyes(n, rng), *_mouth(y, rng)]  # [(points (N, P, 2), width (N,))]
    shake = [0.025, 0.005, 0.005, 0.01, 0.005]  # the face wobbles most, short strokes little
    strokes = [
        (_wobble(p, size, rng), width) for (p, width), size in zip(strokes, shake, strict=True)
    ]

    # Place each face: radius in pixels, a slight stretch, a turn, a centre that keeps it
    # on the canvas. Upside-down faces are smiles turned by half a circle.
    radius = rng.uniform(8.5, 12.5, n)
    stretch = rng.uniform(0.88, 1.12, (n, 2))
    angle = np.clip(rng.normal(0.0, 0.12, n), -0.35, 0.35) + np.pi * (y == 3)
    margin = np.maximum(0.0, SIZE / 2 - 1.5 - radius * stretch.max(axis=1))
    centre = SIZE / 2 + rng.uniform(-0.7, 0.7, (n, 2)) * margin[:, None]  # (N, 2)
    # Pen widths span the web drawing pad's brushes (1.4, 2.2 and 3.4 pixels wide).
    pen = np.minimum(rng.uniform(1.3, 3.4, n), 0.3 * radius)
    ink = rng.uniform(0.8, 1.0, n)

    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    starts, ends, widths = [], [], []
    for points, width in strokes:
        p = points * stretch[:, None, :] * radius[:, None, None]  # (N, P, 2)
        p = np.stack([cos * p[..., 0] - sin * p[..., 1], sin * p[..., 0] + cos * p[..., 1]], -1)
        p = p + centre[:, None, :]
        starts.append(p[:, :-1])
        ends.append(p[:, 1:])
        widths.append(np.repeat((width * pen)[:, None], p.shape[1] - 1, axis=1))
    a, b = np.concatenate(starts, 1), np.concatenate(ends, 1)  # (N, S, 2)
    w = np.concatenate(widths, 1)  # (N, S); negative: a stroke left out

    x = np.empty((n, SIZE * SIZE), np.float32)
    for i in range(0, n, _CHUNK):
        x[i : i + _CHUNK] = _ink(a[i : i + _CHUNK], b[i : i + _CHUNK], w[i : i + _CHUNK])
    x *= ink[:, None].astype(np.float32)
    return x.reshape(n, 1, SIZE, SIZE), y


def _face(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    # One stroke round the face, from a random start; it stops short (a gap) or overshoots.
    s = np.linspace(0.0, 1.0, _FACE_POINTS)[None]  # (1, P)
    start = rng.uniform(0, 2 * np.pi, (n, 1))
    phi = start + s * (2 * np.pi + rng.uniform(-0.8, 0.35, (n, 1)))  # (N, P)
    lumps = sum(
        rng.uniform(0, 0.05, (n, 1)) * np.cos(k * phi + rng.uniform(0, 2 * np.pi, (n, 1)))
        for k in (2, 3)
    )
    r = 1.0 + lumps + rng.uniform(-0.07, 0.07, (n, 1)) * s  # the pen drifts in or out
    points = np.stack([r * np.cos(phi), r * np.sin(phi)], -1)  # (N, P, 2)
    return points, rng.uniform(0.9, 1.1, n)


def _eyes(n: int, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    # Both eyes in one style: a dot, a short dash, or a small ring. y points down.
    style = rng.choice(3, size=n, p=[0.45, 0.3, 0.25])[:, None, None]  # (N, 1, 1)
    spread = rng.uniform(0.28, 0.45, n)
    height = rng.uniform(0.2, 0.45, n)
    s = np.linspace(0.0, 1.0, _EYE_POINTS)[None, :, None]  # (1, P, 1)
    eyes = []
    for side in (-1.0, 1.0):
        centre = np.stack([side * spread, -height], -1) + rng.normal(0, 0.035, (n, 2))
        centre = centre[:, None, :]  # (N, 1, 2)
        dot = centre + rng.normal(0, 0.015, (n, _EYE_POINTS, 2))
        dash_y = (2 * s - 1) * rng.uniform(0.05, 0.13, (n, 1, 1))  # (N, P, 1)
        dash = centre + np.concatenate([np.zeros_like(dash_y), dash_y], -1)
        ring_r = rng.uniform(0.06, 0.1, (n, 1, 1))
        ring = centre + ring_r * np.concatenate([np.cos(2 * np.pi * s), np.sin(2 * np.pi * s)], -1)
        points = np.where(style == 0, dot, np.where(style == 1, dash, ring))
        eyes.append((points, np.where(style[:, 0, 0] == 0, 1.4, 1.0)))
    return eyes


def _mouth(y: np.ndarray, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    # A parabola from end to end: y = ends + depth * (1 - t^2), y down, so depth > 0 smiles.
    n = len(y)
    smiling = (y == 0) | (y == 3)
    sad = y == 1
    half_width = np.select(
        [smiling, sad],
        [rng.uniform(0.4, 0.65, n), rng.uniform(0.35, 0.6, n)],
        rng.uniform(0.25, 0.55, n),
    )
    ends = np.select(
        [smiling, sad],
        [rng.uniform(0.12, 0.36, n), rng.uniform(0.5, 0.7, n)],
        rng.uniform(0.3, 0.55, n),
    )
    depth = np.select(
        [smiling, sad],
        [rng.uniform(0.2, 0.42, n), rng.uniform(-0.4, -0.2, n)],
        rng.uniform(-0.03, 0.03, n),
    )
    tilt = rng.uniform(-0.06, 0.06, n)
    t = np.linspace(-1.0, 1.0, _MOUTH_POINTS)[None]  # (1, P)
    mx = half_width[:, None] * t
    my = ends[:, None] + depth[:, None] * (1 - t**2) + tilt[:, None] * t
    mouth = np.stack([mx, my], -1)  # (N, P, 2)
    # Some smiles are open: a straight line closes the mouth, a "D" on its side.
    open_mouth = smiling & (rng.random(n) < 0.2)
    lip = mouth[:, [0, -1]]  # (N, 2, 2)
    width = rng.uniform(0.9, 1.1, n)
    return [(mouth, width), (lip, np.where(open_mouth, width, -1e3))]


def _wobble(points: np.ndarray, size: float, rng: np.random.Generator) -> np.ndarray:
    # A shaky hand: two slow waves along the stroke, of random size and phase, per axis.
    n, p, _ = points.shape
    s = np.linspace(0.0, 1.0, p)[None, :, None, None]  # (1, P, 1, 1)
    size = rng.normal(0, size, (n, 1, 2, 2))
    freq = np.array([1.0, 2.5])
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 2, 2))
    return points + (size * np.sin(2 * np.pi * freq * s + phase)).sum(-1)


def _ink(a: np.ndarray, b: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Coverage of a round brush along segments a->b: (n, S, 2) -> (n, H*W)."""
    centres = np.arange(SIZE, dtype=np.float32) + 0.5
    px = np.tile(centres, SIZE)[None, None]  # (1, 1, H*W), row-major
    py = np.repeat(centres, SIZE)[None, None]
    a, b = a.astype(np.float32), b.astype(np.float32)
    ax, ay = a[..., 0:1], a[..., 1:2]  # (n, S, 1)
    abx, aby = b[..., 0:1] - ax, b[..., 1:2] - ay
    apx, apy = px - ax, py - ay  # (n, S, H*W)
    t = (apx * abx + apy * aby) / np.maximum(abx * abx + aby * aby, 1e-9)
    np.clip(t, 0.0, 1.0, out=t)
    apx -= t * abx
    apy -= t * aby
    # The brush edge is where the distance equals half the width: the largest
    # (width/2 - distance) over the segments gives the coverage, ramped over a pixel.
    dist = np.sqrt(apx * apx + apy * apy)
    dist -= width[:, :, None].astype(np.float32) / 2
    return np.clip(0.5 - dist.min(axis=1), 0.0, 1.0)  # (n, H*W)
