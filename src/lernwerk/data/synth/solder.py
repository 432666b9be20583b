"""Solder joints on a circuit board, as an inspection camera above the board sees them.

Each image shows a gull-wing lead coming out of a component body onto a copper pad,
with the neighbouring pad and lead beside it. The solder is a height field (a concave
fillet, a thin partial fillet, a convex ball, a bridge to the neighbour, or none),
shaded with a diffuse and a specular term under a light from a random direction.
Position, turn, mirror, colours, lighting, blur and sensor noise vary per image.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lernwerk.data.synth import balanced_labels

CLASSES = ["good", "bridge", "insufficient", "excess", "missing"]
SIZE = 64  # image side in pixels

_CHUNK = 256  # images rendered at once
_RELIEF = 5.0  # pixels of height per unit of the height field, for the surface normals
_CENTRES = np.arange(SIZE, dtype=np.float64) - (SIZE - 1) / 2
_GX, _GY = _CENTRES[None, None, :], _CENTRES[None, :, None]  # pixel grid, (1, 1, W), (1, H, 1)


def draw_solder(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`per_class` joints of each class in a random order.

    Returns:
        x: (N, 3, 64, 64) float32 RGB in [0, 1]; y: (N,) int64.
    """
    rng = np.random.default_rng(seed)
    y = balanced_labels(per_class, len(CLASSES), rng)
    x = np.empty((len(y), 3, SIZE, SIZE), np.float32)
    for i in range(0, len(y), _CHUNK):
        part = y[i : i + _CHUNK]
        scene = _layout(len(part), rng)
        solder = _solder_height(part, scene, rng)
        x[i : i + _CHUNK] = _photograph(scene, solder, rng)
    return x, y


class _Scene(NamedTuple):
    """Where things are, per image: scene coordinates and soft masks, all (N, H, W)."""

    u: np.ndarray  # across, in pixels, the inspected pad's centre at 0
    v: np.ndarray  # down the lead, in pixels
    pad: np.ndarray  # both pads
    lead: np.ndarray  # both leads
    body: np.ndarray  # the component's body at the top
    geometry: dict[str, np.ndarray]  # sizes, each (N, 1, 1)


def _layout(n: int, rng: np.random.Generator) -> _Scene:
    def draw(low: float, high: float) -> np.ndarray:
        return rng.uniform(low, high, (n, 1, 1))

    # Scene coordinates, reached from the pixel grid by a random shift, turn and mirror.
    turn = draw(-0.15, 0.15)
    sx, sy = _GX - draw(-4, 4), _GY - draw(-4, 3)
    u = np.cos(turn) * sx + np.sin(turn) * sy  # (N, H, W)
    v = -np.sin(turn) * sx + np.cos(turn) * sy
    u = u * np.where(rng.random((n, 1, 1)) < 0.5, -1.0, 1.0)  # neighbour left or right

    pad_half_w, pad_top, pad_bottom = draw(7.5, 10), draw(-14, -10), draw(19, 24)
    pitch = 2 * pad_half_w + draw(9, 14)  # the neighbour's centre
    body_edge = draw(-26, -20)
    lead_half_w, lead_end = draw(3, 4.5), draw(5, 11)
    lead_start = pad_top + draw(0, 3)  # where the lead touches the pad
    pad = _box(u, pad_half_w, v, pad_top, pad_bottom)
    pad = pad + _box(u - pitch, pad_half_w, v, pad_top, pad_bottom)
    lead = _box(u, lead_half_w, v, body_edge, lead_end)
    lead = lead + _box(u - pitch, lead_half_w, v, body_edge, lead_end)
    body = _sigmoid((body_edge - v) / 0.5)
    geometry = dict(
        pad_half_w=pad_half_w,
        pad_top=pad_top,
        pad_bottom=pad_bottom,
        pitch=pitch,
        lead_half_w=lead_half_w,
        lead_start=lead_start,
        lead_end=lead_end,
    )
    return _Scene(u, v, pad, lead, body, geometry)


def _solder_height(y: np.ndarray, scene: _Scene, rng: np.random.Generator) -> np.ndarray:
    """The solder's height field, (N, H, W); the top of a lead is at 1."""
    n, u, v, g = len(y), scene.u, scene.v, scene.geometry

    def draw(low: float, high: float) -> np.ndarray:
        return rng.uniform(low, high, (n, 1, 1))

    near = _dist_to_lead(u, v, g["lead_half_w"], g["lead_start"], g["lead_end"])
    near_next = _dist_to_lead(u - g["pitch"], v, g["lead_half_w"], g["lead_start"], g["lead_end"])
    neighbour = _fillet(near_next, draw(6, 9), draw(0.75, 0.95)) * _sigmoid(scene.pad * 8 - 4)
    good = _fillet(near, draw(6.5, 9.5), draw(0.75, 0.95))
    # Too little: a low, narrow fillet, sometimes on one side of the lead or at its toe only.
    side = rng.choice(3, size=(n, 1, 1))
    half_w = g["lead_half_w"]
    partial = np.select([side == 0, side == 1], [u > -half_w, u < half_w], v > g["lead_end"] - 2)
    thin = _fillet(near, draw(3.5, 5.5), draw(0.45, 0.65))
    thin = thin * np.where(rng.random((n, 1, 1)) < 0.3, partial, 1.0)
    # Too much: a ball over the lead's end that hides it.
    ball_r = draw(10, 14)
    ball = 1 - (u**2 + (v - g["lead_end"] + draw(0, 4)) ** 2) / ball_r**2
    ball = np.sqrt(np.clip(ball, 0, None)) * draw(1.4, 2.0)
    # A bridge: a fillet plus a ridge of solder across the gap to the neighbour.
    across = ((u - g["pitch"] / 2) / (g["pitch"] / 2 + 1)) ** 2
    across = across + ((v - g["lead_end"] + draw(-4, 6)) / draw(3, 6)) ** 2
    bridge = np.maximum(good, np.sqrt(np.clip(1 - across, 0, None)) * draw(0.45, 0.7))

    on_pad = _box(u, g["pad_half_w"] + 1, v, g["pad_top"], g["pad_bottom"] + 1)
    on_pad = _sigmoid(on_pad * 8 - 4)
    label = y[:, None, None]  # (N, 1, 1)
    joint = np.select(
        [label == 0, label == 1, label == 2, label == 3],
        [good * on_pad, bridge, thin * on_pad, ball],
        0.0,  # missing: a bare pad
    )
    return np.maximum(neighbour, joint)


def _photograph(scene: _Scene, solder: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light, colour and camera: the scene as an RGB image, (N, 3, H, W) in [0, 1]."""
    n = len(solder)

    def draw(low: float, high: float) -> np.ndarray:
        return rng.uniform(low, high, (n, 1, 1, 1))

    lead = scene.lead * (1 - scene.body)
    height = np.maximum(solder, lead)  # (N, H, W)
    is_solder = _sigmoid((solder - scene.lead - 0.02) * 40) * _sigmoid((solder - 0.03) * 60)
    is_lead = lead * (1 - is_solder)

    # One lamp at a random azimuth and elevation, the camera straight above (Blinn-Phong).
    azimuth, elevation = draw(0, 2 * np.pi), draw(0.6, 1.3)
    light = np.concatenate(
        [
            np.cos(elevation) * np.cos(azimuth),
            np.cos(elevation) * np.sin(azimuth),
            np.sin(elevation),
        ],
        axis=1,
    )  # (N, 3, 1, 1)
    dy, dx = np.gradient(height * _RELIEF, axis=(1, 2))
    normal = np.stack([-dx, -dy, np.ones_like(dx)], 1)  # (N, 3, H, W)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    diffuse = np.clip((normal * light).sum(1, keepdims=True), 0, None)  # (N, 1, H, W)
    half = light + np.array([0, 0, 1.0])[None, :, None, None]
    half /= np.linalg.norm(half, axis=1, keepdims=True)
    gloss = np.clip((normal * half).sum(1, keepdims=True), 0, None) ** draw(20, 60)

    # Materials, each an RGB colour (N, 3, 1, 1) with a little variation.
    def colour(rgb: tuple[float, float, float], spread: float) -> np.ndarray:
        base = np.array(rgb)[None, :, None, None]
        return np.clip(base * rng.uniform(1 - spread, 1 + spread, (n, 3, 1, 1)), 0, 1)

    board = colour((0.1, 0.38, 0.16), 0.25) * (1 + 0.06 * _texture(n, rng))[:, None]
    copper = np.where(
        rng.random((n, 1, 1, 1)) < 0.5,
        colour((0.85, 0.55, 0.3), 0.1),  # bare copper
        colour((0.9, 0.75, 0.4), 0.1),  # gold finish
    )
    metal = colour((0.7, 0.7, 0.72), 0.08)
    tin = colour((0.6, 0.62, 0.64), 0.1)
    dark = colour((0.12, 0.12, 0.13), 0.3)

    ambient = draw(0.25, 0.45)
    shade = ambient + (1 - ambient) * diffuse  # (N, 1, H, W): curved surfaces
    flat = ambient + (1 - ambient) * light[:, 2:3]  # (N, 1, 1, 1): board, pads, body
    image = board * flat
    image = _over(image, copper * flat, scene.pad[:, None])
    image = _over(image, metal * shade + 0.35 * gloss, is_lead[:, None])
    image = _over(image, tin * shade + 0.9 * gloss, is_solder[:, None])
    image = _over(image, dark * flat, scene.body[:, None])

    # Camera: an uneven field, exposure, a slight blur, sensor noise.
    slope = rng.normal(0, 0.004, (n, 2, 1, 1))
    field = 1 + slope[:, :1] * _GX[None] + slope[:, 1:] * _GY[None]
    image = image * draw(0.7, 1.25) * field
    image = _blur(image, rng)
    image = image + rng.normal(0, 1, image.shape) * draw(0.01, 0.035)
    return np.clip(image, 0, 1).astype(np.float32)


def _over(under: np.ndarray, top: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return under * (1 - alpha) + top * alpha


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * z))


def _box(
    u: np.ndarray, half_w: np.ndarray, v: np.ndarray, top: np.ndarray, bottom: np.ndarray
) -> np.ndarray:
    # A rectangle with edges soft over about a pixel, for antialiasing.
    across = _sigmoid((half_w - np.abs(u)) / 0.4)
    return across * _sigmoid((v - top) / 0.4) * _sigmoid((bottom - v) / 0.4)


def _dist_to_lead(
    u: np.ndarray, v: np.ndarray, half_w: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    # Distance from the part of the lead that lies on the pad; 0 under it.
    du = np.clip(np.abs(u) - half_w, 0, None)
    dv = np.clip(np.maximum(v - end, start - v), 0, None)
    return np.sqrt(du**2 + dv**2)


def _fillet(dist: np.ndarray, reach: np.ndarray, top: np.ndarray) -> np.ndarray:
    # A meniscus: highest at the lead, falling off concavely to nothing at `reach`.
    return top * np.clip(1 - dist / reach, 0, None) ** 2


def _texture(n: int, rng: np.random.Generator) -> np.ndarray:
    # Smooth blotches: white noise on a 9x9 grid, interpolated bilinearly to the image.
    knots = np.linspace(0, SIZE - 1, 9)
    pixels = np.arange(SIZE)
    spread = np.stack([np.interp(pixels, knots, np.eye(9)[k]) for k in range(9)], 1)  # (W, 9)
    coarse = rng.normal(0, 1, (n, 9, 9))
    return np.einsum("hk,nkl,wl->nhw", spread, coarse, spread)


def _blur(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # A 3x3 binomial blur mixed in by a random amount (focus varies).
    padded = np.pad(image, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    rows = (padded[:, :, :-2] + 2 * padded[:, :, 1:-1] + padded[:, :, 2:]) / 4
    blurred = (rows[..., :-2] + 2 * rows[..., 1:-1] + rows[..., 2:]) / 4
    amount = rng.uniform(0, 1, (len(image), 1, 1, 1))
    return image * (1 - amount) + blurred * amount
