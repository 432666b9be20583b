"""UpSampling2D and Conv2D's `filters: auto`: the decoder half of an image autoencoder."""

import pytest
import torch

from lernwerk.config import ModelSpec
from lernwerk.errors import SpecError
from lernwerk.models import build_network
from lernwerk.models.catalog import LAYERS


def _net(layers: list, shape: tuple[int, ...], outputs: int | None = None):
    return build_network(ModelSpec.from_dict({"layers": layers}), shape, outputs)


def test_upsampling2d_repeats_each_pixel() -> None:
    net = _net([{"UpSampling2D": {"size": [2, 3]}}], (1, 2, 2))
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])  # (1, 1, 2, 2)
    out = net(x)
    assert net.output_shape == (1, 4, 6) and out.shape == (1, 1, 4, 6)
    assert out[0, 0, :2, :3].eq(1).all() and out[0, 0, 2:, 3:].eq(4).all()
    assert net.layer_table[0][2].flops == 0  # a copy


def test_upsampling2d_bilinear_interpolates_and_counts_flops() -> None:
    net = _net([{"UpSampling2D": {"size": 2, "interpolation": "bilinear"}}], (2, 3, 3))
    out = net(torch.rand(1, 2, 3, 3))
    assert out.shape == (1, 2, 6, 6)
    assert net.layer_table[0][2].flops == 8 * 2 * 6 * 6


def test_upsampling2d_on_a_sequence_says_what_it_expects() -> None:
    with pytest.raises(SpecError, match=r"layer 1 \(UpSampling2D\): expects an image input"):
        _net(["UpSampling2D"], (3, 20))


def test_upsampling2d_is_in_the_registry_the_designer_lists() -> None:
    described = LAYERS["UpSampling2D"].describe()
    assert described["type"] == "UpSampling2D"
    assert [p["name"] for p in described["params"]] == ["size", "interpolation"]


def test_conv2d_filters_auto_takes_the_outputs() -> None:
    net = _net([{"Conv2D": {"filters": "auto", "padding": "same"}}], (1, 8, 8), outputs=3)
    assert net.output_shape == (3, 8, 8)
    with pytest.raises(SpecError, match="filters: auto needs the number of outputs"):
        _net([{"Conv2D": {"filters": "auto"}}], (1, 8, 8))
    with pytest.raises(SpecError, match="filters must be at least 1"):
        _net([{"Conv2D": {"filters": 0}}], (1, 8, 8))
