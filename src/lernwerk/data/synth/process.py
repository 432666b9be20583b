"""Press-fit curves: the force a press needs to push a pin into a bore, over time.

A good curve is flat while the ram approaches, rises as the pin enters, peaks, settles
on a plateau while the pin slides in, and climbs steeply when the pin reaches its stop.
Four faults change one part of that shape:

- late_peak: the pin enters askew, so the force builds slowly and peaks late;
- no_plateau: the bore is too wide, the force falls away after the entry peak;
- noise_burst: stick-slip chatter, a short burst of oscillation on the plateau;
- drift: the force sensor drifts: its zero is off, it creeps and wanders slowly.

Every curve draws its own amplitudes, timing, ripple and noise, so no single value
such as the peak force tells the classes apart. Further channels are the ram's
displacement, the motor current (which follows the true force, drift-free, with a lag)
and the ram's speed. The quality target is the pin's retention: the plateau force
just before the stop, with a few percent of scatter.
"""

from __future__ import annotations

import numpy as np

from lernwerk.data.synth import balanced_labels

CLASSES = ["ok", "late_peak", "no_plateau", "noise_burst", "drift"]
CHANNELS = ["force_kN", "displacement_mm", "current_A", "speed_mm_s"]


def draw_process(
    per_class: int, length: int, channels: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`per_class` curves of each class in a random order.

    Returns:
        x: (N, channels, length) float32; y: (N,) int64 class; quality: (N,) float32 in kN.
    """
    rng = np.random.default_rng(seed)
    y = balanced_labels(per_class, len(CLASSES), rng)
    n = len(y)
    t = np.linspace(0.0, 1.0, length)[None]  # (1, T) stroke time, 0..1
    steps = np.arange(length)[None]

    def draw(low: float, high: float) -> np.ndarray:
        return rng.uniform(low, high, (n, 1))

    late, loose, chatter, drifting = (y[:, None] == k for k in (1, 2, 3, 4))

    # Entry: contact, a smooth rise to the peak, then a settling onto the plateau.
    peak = draw(2.0, 4.0)  # kN
    contact = draw(0.06, 0.2)
    rise = np.where(late, draw(0.12, 0.24), draw(0.035, 0.085))
    top = contact + rise  # time of the entry peak
    ratio = np.where(loose, draw(0.15, 0.5), draw(0.58, 0.9))  # plateau / peak
    slope = np.where(loose, draw(-0.9, -0.2), draw(-0.1, 0.15))  # plateau trend per unit time
    stop = draw(0.8, 0.92)
    plateau = peak * ratio * np.clip(1 + slope * (t - top), 0.05, None)  # (N, T)
    settle = np.exp(-np.clip(t - top, 0, None) / draw(0.015, 0.05))
    entry = _smoothstep((t - contact) / rise)
    force = entry * np.where(t < top, peak, plateau + (peak - plateau) * settle)
    # The stop: the pin bottoms out and the force climbs by a factor 1.3..1.9.
    at_stop = peak * ratio * np.clip(1 + slope * (stop - top), 0.05, None)  # (N, 1)
    force = force + at_stop * draw(0.3, 0.9) * _smoothstep((t - stop) / draw(0.02, 0.05))
    quality = at_stop[:, 0] * rng.normal(1.0, 0.03, n)

    # Machine ripple and, for chatter, a windowed burst of fast oscillation.
    ripple = peak * draw(0.0, 0.015) * np.sin(2 * np.pi * steps / draw(15, 40) + draw(0, 6.3))
    start = top + draw(0.05, 0.1) + (stop - top - 0.25) * draw(0, 1)
    width = draw(0.04, 0.12)
    window = np.sin(np.pi * np.clip((t - start) / width, 0, 1)) ** 2
    burst = np.where(chatter, peak * ratio * draw(0.12, 0.3), 0.0) * window
    burst = burst * np.sin(2 * np.pi * steps / draw(3, 6) + draw(0, 6.3))
    true_force = force + ripple + burst  # what the pin feels; the motor follows it

    # The force sensor: an offset and a slow creep, both small unless it drifts; a drifting
    # sensor also wanders (slow waves of 8..20 % of the stroke); white noise.
    bend = draw(-1, 1)  # creep shape: straight (0) to curved
    path = (1 - np.abs(bend)) * t + np.abs(bend) * np.where(bend > 0, t**2, np.sqrt(t))
    sign = np.where(rng.random((n, 1)) < 0.5, -1.0, 1.0)
    creep = sign * np.where(drifting, draw(0.2, 0.4), draw(0.0, 0.03)) * peak * path
    offset = np.where(drifting, sign * draw(0.05, 0.2), rng.normal(0, 0.02, (n, 1))) * peak
    waves = sum(
        np.sin(2 * np.pi * t / draw(0.08, 0.2) + draw(0, 6.3)) * draw(0.5, 1) for _ in range(3)
    )
    wander = np.where(drifting, draw(0.03, 0.07), 0.0) * peak * waves
    drift = offset + creep + wander
    noise = rng.normal(0, 1, (n, length)) * draw(0.004, 0.02) * peak
    measured = true_force + drift + noise

    # The ram: constant speed until the stop, less the frame's give under load.
    travel = draw(8, 12)  # mm
    stall = _smoothstep((t - stop) / 0.04)
    position = travel * (t - (t - stop) * stall) - true_force / draw(15, 25)
    position = position + rng.normal(0, 0.003, (n, length))
    speed = np.gradient(position, axis=1) * length / draw(1.5, 2.5)  # mm/s, a 2 s stroke
    current = draw(0.3, 0.6) + draw(1.0, 1.4) * _lag(true_force, draw(0.02, 0.05) * length)
    current = current + rng.normal(0, 0.03, (n, length))

    x = np.stack([measured, position, current, speed], 1)[:, :channels]  # (N, C, T)
    return x.astype(np.float32), y, quality.astype(np.float32)


def _smoothstep(z: np.ndarray) -> np.ndarray:
    z = np.clip(z, 0.0, 1.0)
    return z * z * (3 - 2 * z)


def _lag(signal: np.ndarray, steps: np.ndarray) -> np.ndarray:
    # A first-order low-pass (the motor's inertia) with time constant `steps`, (N, 1).
    keep = np.exp(-1.0 / steps)[:, 0]  # (N,)
    out = np.empty_like(signal)
    out[:, 0] = signal[:, 0]
    for i in range(1, signal.shape[1]):
        out[:, i] = keep * out[:, i - 1] + (1 - keep) * signal[:, i]
    return out
