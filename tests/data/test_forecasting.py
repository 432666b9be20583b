"""Forecast windows from one long series, split by time with no leakage."""

import numpy as np
import pytest
import torch

from lernwerk.data.sequences.forecasting import (
    SeasonalParams,
    generate_seasonal,
    load_seasonal,
    make_windows,
    windows_dataset,
)
from lernwerk.data.splits import make_time_splits
from lernwerk.data.synth.seasonal import draw_seasonal
from lernwerk.errors import DataError, SpecError


def test_windows_hold_the_past_and_the_next_steps() -> None:
    series = np.arange(20, dtype=np.float32)[None].repeat(2, 0) * [[1], [10]]  # (2, 20)
    x, y = make_windows(series, window=5, horizon=3, stride=2, target_channel=1)
    assert x.shape == (7, 2, 5) and y.shape == (7, 3)  # starts 0, 2, …, 12
    assert x[1].tolist() == [[2, 3, 4, 5, 6], [20, 30, 40, 50, 60]]
    assert y[1].tolist() == [70, 80, 90]  # channel 1, right after the window


def test_windows_refuse_what_does_not_fit() -> None:
    with pytest.raises(DataError, match="window 8 \\+ horizon 4 need at least 12"):
        make_windows(np.zeros(10), window=8, horizon=4)
    with pytest.raises(SpecError, match="horizon must be at least 1"):
        make_windows(np.zeros(10), window=2, horizon=0)
    with pytest.raises(SpecError, match="target_channel must be one of 0..0"):
        make_windows(np.zeros(10), window=2, horizon=1, target_channel=1)
    series = np.zeros(10)
    series[4] = np.nan
    with pytest.raises(DataError, match="step 4 of channel 0 is NaN"):
        make_windows(series, window=2, horizon=1)


def test_time_splits_keep_order_and_gaps() -> None:
    splits = make_time_splits(100, 0.2, 0.1, gap=3)
    assert splits.test.tolist() == list(range(90, 100))
    assert splits.val.tolist() == list(range(67, 87))  # 3 dropped before test
    assert splits.train.tolist() == list(range(0, 64))  # 3 dropped before val
    with pytest.raises(DataError, match="no samples left for training out of 10"):
        make_time_splits(10, 0.4, 0.4, gap=2)


@pytest.mark.parametrize("horizon", [1, 5])
def test_forecast_dataset_splits_by_time_without_leakage(horizon: int) -> None:
    steps = np.arange(300, dtype=np.float32)  # the value is the time step: leakage shows
    ds = windows_dataset("t", steps, window=10, horizon=horizon)
    splits = ds.split(0.2, 0.2, seed=7)
    assert splits.sizes() == ds.split(0.2, 0.2, seed=0).sizes()  # the seed does not shuffle
    times = {part: ds.y[getattr(splits, part)] for part in ("train", "val", "test")}
    # every training target lies before every validation target, and those before test
    assert times["train"].max() < times["val"].min()
    assert times["val"].max() < times["test"].min()
    assert torch.equal(splits.train, torch.arange(len(splits.train)))
    assert ds.task == "regression" and ds.y.shape == (len(ds), horizon)
    assert ds.meta["forecast"]["horizon"] == horizon


def test_seasonal_series_is_seeded_and_validated() -> None:
    a = draw_seasonal(500, 24, 0.3, seed=1)
    assert a.shape == (1, 500) and np.array_equal(a, draw_seasonal(500, 24, 0.3, seed=1))
    ds = load_seasonal(length=600, window=24, horizon=6)
    assert ds.input_shape == (1, 24) and ds.y.shape == (600 - 30 + 1, 6)
    assert ds.source["builtin"] == "seasonal"
    with pytest.raises(SpecError, match="must be at most half the length"):
        load_seasonal(length=100, window=48, horizon=12)
    with pytest.raises(SpecError, match="seasonal: colour"):
        load_seasonal(colour=1)


def test_the_builtin_hook_gives_the_same_windows() -> None:
    # what `data/builtin.py` wraps as the `seasonal` built-in (arrays and meta)
    x, y, meta = generate_seasonal(SeasonalParams(length=600, window=24, horizon=6, seed=2))
    ds = load_seasonal(length=600, window=24, horizon=6, seed=2)
    assert np.array_equal(x, ds.x.numpy()) and np.array_equal(y, ds.y.numpy())
    assert meta == ds.meta
