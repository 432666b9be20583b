"""Sequences in memory: `to_array` stacks, pads and resamples a `SequenceSet`."""

import numpy as np
import pytest

from lernwerk.data.sequences.series import SequenceSet, to_array
from lernwerk.errors import DataError, SpecError


def _sequences(*lengths: int) -> SequenceSet:
    series = [np.arange(t, dtype=np.float32).reshape(1, t) + i for i, t in enumerate(lengths)]
    return SequenceSet(
        series=series,
        labels=["a"] * len(lengths),
        task="classification",
        classes=["a"],
        channel_names=["value"],
        series_ids=[f"s{i}" for i in range(len(lengths))],
    )


def test_to_array_error_names_the_first_differing_series():
    with pytest.raises(DataError) as err:
        to_array(_sequences(4, 4, 3, 2))
    assert err.value.where == "series 2 (s2)"
    assert "Expected every series to have 4 steps like series 0 (s0); received 3" in str(err.value)
    assert "--length pad or --length resample" in str(err.value)
    x, lengths = to_array(_sequences(3, 3))
    assert x.shape == (2, 1, 3) and lengths.tolist() == [3, 3]


def test_to_array_pad_repeats_the_last_value():
    x, lengths = to_array(_sequences(2, 4), "pad")
    assert x.shape == (2, 1, 4) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, 0], [0, 1, 1, 1])
    np.testing.assert_array_equal(x[1, 0], [1, 2, 3, 4])
    assert lengths.dtype == np.int64 and lengths.tolist() == [2, 4]
    assert to_array(_sequences(2, 4), "pad", length=6)[0].shape == (2, 1, 6)
    with pytest.raises(DataError, match="received 4; use a larger length") as err:
        to_array(_sequences(2, 4), "pad", length=3)
    assert err.value.where == "series 1 (s1)"


def test_to_array_resample_matches_numpy_interp():
    data = _sequences(5, 9, 1)
    x, lengths = to_array(data, "resample")  # default: the longest, 9
    assert x.shape == (3, 1, 9) and lengths.tolist() == [9, 9, 9]
    for row, s in zip(x, data.series, strict=True):
        t = s.shape[1]
        expected = np.interp(np.linspace(0, t - 1, 9), np.arange(t), s[0])
        np.testing.assert_allclose(row[0], expected, rtol=0, atol=1e-6)
    shrunk, _ = to_array(data, "resample", length=3)
    np.testing.assert_allclose(shrunk[1, 0], [1, 5, 9])


def test_to_array_refuses_bad_arguments_and_infinity():
    with pytest.raises(SpecError):
        to_array(_sequences(2), "truncate")
    with pytest.raises(SpecError):
        to_array(_sequences(2), "pad", length=0)
    data = _sequences(3)
    data.series[0][0, 2] = np.inf
    with pytest.raises(DataError, match="received inf in channel 'value' at step 2"):
        to_array(data)
