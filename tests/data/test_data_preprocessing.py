"""Standardizer against a numpy oracle, for each kind of data."""

import json

import numpy as np
import pytest
import torch

from lernwerk.data import Standardizer
from lernwerk.errors import DataError

# kind -> (batch shape, numpy axes the statistics are taken over)
CASES = {
    "table": ((64, 5), (0,)),
    "images": ((16, 3, 6, 7), (0, 2, 3)),
    "sequences": ((12, 4, 30), (0, 2)),
}


def _sample(shape: tuple[int, ...]) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=g) * 3 + 2  # (N, ...)
    x[:, 1] = 7.0  # a constant feature / channel
    return x


@pytest.mark.parametrize("kind", list(CASES))
def test_matches_numpy(kind):
    shape, axes = CASES[kind]
    x = _sample(shape)
    standardizer = Standardizer.fit(x, kind)
    xn = x.double().numpy()
    mean = xn.mean(axis=axes, keepdims=True)
    std = xn.std(axis=axes, keepdims=True)
    std[std < 1e-8] = 1.0
    expected = (xn - mean) / std
    np.testing.assert_allclose(standardizer.mean.numpy(), mean.reshape(-1), rtol=1e-6)
    np.testing.assert_allclose(standardizer.std.numpy(), std.reshape(-1), rtol=1e-6)
    np.testing.assert_allclose(standardizer.transform(x).numpy(), expected, atol=1e-5)
    assert float(standardizer.std[1]) == 1.0  # constant column is left unscaled


@pytest.mark.parametrize("kind", list(CASES))
def test_round_trip_and_module_agree(kind):
    shape, _ = CASES[kind]
    x = _sample(shape)
    standardizer = Standardizer.fit(x, kind)
    restored = Standardizer.from_dict(json.loads(json.dumps(standardizer.to_dict())))
    assert restored.kind == kind
    torch.testing.assert_close(restored.transform(x), standardizer.transform(x))
    module = standardizer.as_module()
    assert {name for name, _ in module.named_buffers()} == {"mean", "std"}
    torch.testing.assert_close(module(x), standardizer.transform(x))
    # One sample without the batch dimension broadcasts the same way.
    torch.testing.assert_close(standardizer.transform(x[0]), standardizer.transform(x)[0])


def test_wrong_width_is_a_data_error():
    standardizer = Standardizer.fit(torch.randn(10, 3), "table")
    with pytest.raises(DataError, match=r"expected 3 features; received input of shape \(10, 4\)"):
        standardizer.transform(torch.randn(10, 4))


def test_unknown_kind_is_a_data_error():
    with pytest.raises(DataError, match="kind must be one of"):
        Standardizer.fit(torch.randn(10, 3), "audio")
