"""Sequence layers that upsample and crop, and the sequence presets' sizes by hand."""

import pytest
import torch
import torch.nn.functional as F

from lernwerk.config import ModelSpec
from lernwerk.errors import SpecError
from lernwerk.models import build_network, load_preset, summarize
from lernwerk.models.network import Network


def build(layers: list, input_shape: tuple[int, ...], num_outputs: int | None = None) -> Network:
    torch.manual_seed(0)
    return build_network(ModelSpec.from_dict({"layers": layers}), input_shape, num_outputs)


def test_upsampling_repeats_each_step() -> None:
    network = build([{"UpSampling1D": {"size": 3}}], (2, 4))
    assert network.output_shape == (2, 12)
    x = torch.randn(5, 2, 4)
    assert torch.equal(network(x), x.repeat_interleave(3, dim=2))


@pytest.mark.parametrize(
    ("kernel", "strides", "padding", "length"),
    [(7, 2, "same", 32), (3, 1, "same", 16), (2, 4, "same", 64), (5, 2, "valid", 35)],
)
def test_conv1d_transpose_gives_keras_lengths(
    kernel: int, strides: int, padding: str, length: int
) -> None:
    # Keras: 'same' T·strides, 'valid' (T − 1)·strides + kernel_size, for T = 16
    params = {"filters": 3, "kernel_size": kernel, "strides": strides, "padding": padding}
    network = build([{"Conv1DTranspose": params}], (2, 16))
    assert network.output_shape == (3, length)
    assert network(torch.randn(4, 2, 16)).shape == (4, 3, length)
    assert summarize(network).total_params == 2 * kernel * 3 + 3


def test_conv1d_transpose_valid_equals_torch() -> None:
    network = build([{"Conv1DTranspose": {"filters": 3, "kernel_size": 4, "strides": 2}}], (2, 9))
    conv = network.layers[0]
    x = torch.randn(2, 2, 9)
    assert torch.allclose(network(x), F.conv_transpose1d(x, conv.weight, conv.bias, stride=2))


def test_filters_auto_is_the_number_of_outputs() -> None:
    layer = {"Conv1DTranspose": {"filters": "auto", "kernel_size": 3, "padding": "same"}}
    assert build([layer], (2, 8), num_outputs=5).output_shape == (5, 8)
    with pytest.raises(SpecError, match=r"layer 1 \(Conv1DTranspose\): filters: auto needs"):
        build([layer], (2, 8))


def test_cropping_cuts_both_ends() -> None:
    network = build([{"Cropping1D": {"cropping": [1, 2]}}], (2, 8))
    x = torch.randn(3, 2, 8)
    assert network.output_shape == (2, 5) and torch.equal(network(x), x[:, :, 1:6])
    with pytest.raises(SpecError, match="leaves nothing of the length-8 input"):
        build([{"Cropping1D": {"cropping": 4}}], (2, 8))


def test_reshape_gives_a_dense_output_back_its_steps() -> None:
    network = build(["Flatten", {"Reshape": {"target_shape": [4, -1]}}], (2, 8))
    x = torch.randn(3, 2, 8)
    assert network.output_shape == (4, 4)
    assert torch.equal(network(x), x.reshape(3, 4, 4))
    assert build([{"Reshape": {"target_shape": [16]}}], (2, 8)).output_shape == (16,)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ([5, -1], "16 values do not divide into 5×-1: 16 is not a multiple of 5"),
        ([3, 5], r"16 values \(the input 2×8\) do not fit 3×5 \(15 values\)"),
        ([-1, -1], r"target_shape takes positive sizes and at most one -1; received: \[-1, -1\]"),
        ([0, 16], r"target_shape takes positive sizes and at most one -1; received: \[0, 16\]"),
    ],
)
def test_reshape_names_a_shape_that_does_not_fit(target: list[int], message: str) -> None:
    with pytest.raises(SpecError, match=r"layer 1 \(Reshape\): " + message):
        build([{"Reshape": {"target_shape": target}}], (2, 8))


def test_sequence_layers_refuse_images() -> None:
    with pytest.raises(SpecError, match=r"layer 1 \(UpSampling1D\): expects a sequence input"):
        build(["UpSampling1D"], (1, 8, 8))


# ---------------------------------------------------------------------------- presets by hand


def params(name: str, shape: tuple[int, ...], outputs: int) -> int:
    return summarize(build_network(load_preset(name), shape, outputs)).total_params


def conv_bn(c_in: int, filters: int, kernel: int) -> int:
    return c_in * kernel * filters + filters + 2 * filters  # weights, bias, batch norm γ β


def test_fcn1d_matches_wang_et_al() -> None:
    # Conv1D 128/8 -> 256/5 -> 128/3, each with batch norm, then a dense head
    hand = conv_bn(1, 128, 8) + conv_bn(128, 256, 5) + conv_bn(256, 128, 3) + 128 * 2 + 2
    assert params("fcn1d", (1, 150), 2) == hand == 264_962


def test_resnet1d_matches_wang_et_al() -> None:
    def block(c_in: int, f: int) -> int:
        main = conv_bn(c_in, f, 8) + conv_bn(f, f, 5) + conv_bn(f, f, 3)
        projection = c_in * f if c_in != f else 0  # 1×1, no bias
        return main + projection + 2 * f  # the shortcut's batch norm

    hand = block(1, 64) + block(64, 128) + block(128, 128) + 128 * 2 + 2
    assert params("resnet1d", (1, 150), 2) == hand == 504_066


def test_inception1d_modules_and_shortcuts() -> None:
    def module(c_in: int) -> int:
        bottleneck = c_in * 32
        convs = 32 * (40 + 20 + 10) * 32
        pool_branch = c_in * 32
        return bottleneck + convs + pool_branch + 2 * 128

    first = module(1) + 2 * module(128) + 1 * 128 + 2 * 128  # projection 1->128, its norm
    second = 3 * module(128) + 2 * 128  # same shape: batch norm only
    assert params("inception1d", (1, 64), 3) == first + second + 128 * 3 + 3
    network = build_network(load_preset("inception1d"), (1, 64), 3)
    assert network.layer_table[0][2].out_shape == (128, 64)


def test_bidirectional_presets_and_lstm_fcn() -> None:
    lstm = 4 * 64 * (3 + 64) + 2 * 4 * 64  # torch keeps two bias vectors per gate
    assert params("lstm-bi", (3, 20), 5) == 2 * lstm + 128 * 5 + 5
    gru = 3 * 64 * (3 + 64) + 2 * 3 * 64
    assert params("gru-bi", (3, 20), 5) == 2 * gru + 128 * 5 + 5
    lstm32 = 4 * 32 * (1 + 32) + 2 * 4 * 32
    fcn = conv_bn(1, 128, 8) + conv_bn(128, 256, 5) + conv_bn(256, 128, 3)
    assert params("lstm-fcn", (1, 24), 2) == lstm32 + fcn + (32 + 128) * 2 + 2


def test_autoencoder1d_rebuilds_its_input_shape() -> None:
    network = build_network(load_preset("autoencoder1d"), (2, 64), num_outputs=2)
    shapes = [b.out_shape for _, _, b in network.layer_table]
    assert shapes == [(16, 32), (16, 16), (8, 8), (4, 4), (8, 8), (16, 16), (16, 32), (16, 64)] + [
        (2, 64)
    ]
    assert network(torch.randn(3, 2, 64)).shape == (3, 2, 64)
