"""A long seasonal series with noise, for forecasting: hourly load over a few months.

The value is a level with a slow trend, a daily cycle (a main wave and its first
harmonic, so mornings and evenings differ), a weekly cycle (weekends lower) and noise
that remembers its last step a little (AR(1)). The naive forecast (the last value seen)
misses the cycle's next turn; a model that has learnt the cycle does not.
"""

from __future__ import annotations

import numpy as np

CHANNELS = ["value"]


def draw_seasonal(
    length: int, period: int, noise: float, seed: int, weekly: bool = True
) -> np.ndarray:
    """One series of `length` steps with a cycle of `period` steps.

    Args:
        length: Time steps.
        period: Steps per cycle (24 for hourly data with a daily cycle).
        noise: Standard deviation of the noise, relative to the daily wave's amplitude 1.
        seed: Random seed.
        weekly: Add a weekly cycle of 7 periods (weekends 30 % lower).

    Returns:
        (1, length) float32.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(length, dtype=np.float64)
    phase = rng.uniform(0, 2 * np.pi)
    daily = np.sin(2 * np.pi * t / period + phase)
    daily = daily + 0.4 * np.sin(4 * np.pi * t / period + 2 * phase + rng.uniform(0, np.pi))
    level = 5.0 + rng.uniform(-0.5, 0.5) * t / length  # a slow trend
    series = level + daily
    if weekly:
        day = (t // period) % 7
        weekend = (day >= 5).astype(np.float64)
        series = series - 0.3 * weekend * (1 + daily)
    shocks = rng.normal(0.0, noise, length)
    ar = np.empty(length)
    ar[0] = shocks[0]
    for i in range(1, length):  # AR(1) noise, 0.3 of the last step kept
        ar[i] = 0.3 * ar[i - 1] + shocks[i]
    return (series + ar)[None].astype(np.float32)
