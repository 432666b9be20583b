"""Forecast windows: one long series cut into (past `window` steps, next `horizon` steps).

`windows_dataset` makes a `Dataset` whose samples are the windows in time order: x the
past (N, C, window), y the future of one channel (N, horizon). Its `meta["forecast"]`
makes `Dataset.split` split by time (train, then val, then test, never shuffled across
the split) and drops the windows whose targets would reach into the next split.
`load_seasonal` does this for the generated seasonal series (`synth.seasonal`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lernwerk.data.dataset import Dataset
from lernwerk.data.registry import SEASONAL_DESCRIPTION, SeasonalParams
from lernwerk.data.synth import seasonal
from lernwerk.errors import DataError, SpecError


def make_windows(
    series: np.ndarray, window: int, horizon: int, stride: int = 1, target_channel: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Sliding windows over a (C, T) series (or (T,) for one channel).

    Window i starts at step i·stride: x[i] = series[:, s : s + window] and
    y[i] = series[target_channel, s + window : s + window + horizon].

    Returns:
        x: (N, C, window) float32; y: (N, horizon) float32, N = (T − window − horizon) //
        stride + 1.

    Raises:
        SpecError: window, horizon or stride below 1, or no such channel.
        DataError: The series is shorter than window + horizon, or holds NaN/infinity.
    """
    series = np.asarray(series, dtype=np.float32)
    series = series[None] if series.ndim == 1 else series
    if series.ndim != 2:
        raise DataError(f"expected a series shaped (C, T) or (T,); received {series.shape}")
    for name, value in (("window", window), ("horizon", horizon), ("stride", stride)):
        if value < 1:
            raise SpecError(f"{name} must be at least 1; received: {value}", where=name)
    channels, steps = series.shape
    if not 0 <= target_channel < channels:
        raise SpecError(
            f"target_channel must be one of 0..{channels - 1}; received: {target_channel}",
            where="target_channel",
        )
    bad = np.argwhere(~np.isfinite(series))
    if len(bad):
        raise DataError(f"step {int(bad[0, 1])} of channel {int(bad[0, 0])} is NaN or infinite")
    if steps < window + horizon:
        raise DataError(
            f"the series has {steps} steps; window {window} + horizon {horizon} need at least "
            f"{window + horizon}"
        )
    starts = np.arange(0, steps - window - horizon + 1, stride)  # (N,)
    x = series[:, starts[:, None] + np.arange(window)]  # (C, N, window)
    y = series[target_channel, starts[:, None] + window + np.arange(horizon)]  # (N, horizon)
    return np.ascontiguousarray(x.transpose(1, 0, 2)), np.ascontiguousarray(y)


def windows_dataset(
    name: str,
    series: np.ndarray,
    *,
    window: int,
    horizon: int,
    stride: int = 1,
    target_channel: int = 0,
    channel_names: list[str] | None = None,
    description: str = "",
    source: dict[str, Any] | None = None,
) -> Dataset:
    """A forecasting dataset from one long (C, T) series: windows in time order.

    The task is regression on (N, horizon) targets; `meta["forecast"]` marks it as
    forecast windows, which `Dataset.split` splits by time and training takes as the
    forecasting task by default.
    """
    x, y = make_windows(series, window, horizon, stride, target_channel)
    names = channel_names or [f"channel_{c}" for c in range(x.shape[1])]
    if len(names) != x.shape[1]:
        raise DataError(f"{len(names)} channel names for {x.shape[1]} channels", where=name)
    meta = windows_meta(
        window, horizon, stride, target_channel, int(np.asarray(series).shape[-1]), names
    )
    return Dataset(
        name=name,
        kind="sequences",
        task="regression",
        x=torch.from_numpy(x),
        y=torch.from_numpy(y),
        classes=[],
        feature_names=[],
        source=source or {"windows": name},
        description=description,
        meta=meta,
    )


def windows_meta(
    window: int,
    horizon: int,
    stride: int,
    target_channel: int,
    series_steps: int,
    channel_names: list[str],
) -> dict[str, Any]:
    """The `Dataset.meta` of forecast windows: what makes `split` go by time."""
    return {
        "channel_names": list(channel_names),
        "steps": window,
        "forecast": {
            "window": window,
            "horizon": horizon,
            "stride": stride,
            "target_channel": target_channel,
            "series_steps": series_steps,
        },
    }


def generate_seasonal(p: SeasonalParams) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The seasonal series as windows: x (N, 1, window), y (N, horizon), and the meta."""
    series = seasonal.draw_seasonal(p.length, p.period, p.noise, p.seed)
    x, y = make_windows(series, p.window, p.horizon)
    return x, y, windows_meta(p.window, p.horizon, 1, 0, p.length, list(seasonal.CHANNELS))


def load_seasonal(name: str = "seasonal", **params: Any) -> Dataset:
    """The generated seasonal series as forecast windows (see `SeasonalParams`).

    Raises:
        SpecError: A parameter is unknown or out of range.
    """
    from pydantic import ValidationError

    try:
        p = SeasonalParams.model_validate(params)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(part) for part in err["loc"]) or "params"
        raise SpecError(f"seasonal: {field}: {err['msg']}", where=field) from None
    series = seasonal.draw_seasonal(p.length, p.period, p.noise, p.seed)
    return windows_dataset(
        name,
        series,
        window=p.window,
        horizon=p.horizon,
        channel_names=list(seasonal.CHANNELS),
        description=SEASONAL_DESCRIPTION,
        source={"builtin": "seasonal", "params": p.model_dump()},
    )
