"""Non-sequential blocks: Parallel branches, Sequential blocks, a residual's shortcut layers."""

import pytest
import torch

from lernwerk.config import ModelSpec
from lernwerk.errors import SpecError
from lernwerk.models import build_network, summarize
from lernwerk.models.network import Network


def build(layers: list, input_shape: tuple[int, ...], num_outputs: int | None = None) -> Network:
    torch.manual_seed(0)
    return build_network(ModelSpec.from_dict({"layers": layers}), input_shape, num_outputs)


def conv(filters: int, kernel: int, **more: object) -> dict:
    return {"Conv1D": {"filters": filters, "kernel_size": kernel, "padding": "same", **more}}


def test_parallel_concatenates_branches_on_channels() -> None:
    block = {"Parallel": {"layers": [conv(4, 3), conv(6, 5), {"MaxPooling1D": {"pool_size": 1}}]}}
    network = build([block], (2, 10))
    assert network.output_shape == (4 + 6 + 2, 10)
    # parameters by hand: (C_in · k + 1) · filters per convolution
    assert summarize(network).total_params == (2 * 3 + 1) * 4 + (2 * 5 + 1) * 6
    x = torch.randn(3, 2, 10)
    branches = network.layers[0].branches
    expected = torch.cat([branches[0](x), branches[1](x), x], dim=1)  # (N, 12, T)
    assert torch.allclose(network(x), expected)


def test_parallel_add_and_flat_branches() -> None:
    added = build([{"Parallel": {"merge": "add", "layers": [conv(3, 3), conv(3, 5)]}}], (2, 8))
    assert added.output_shape == (3, 8)
    lstm_fcn = [
        {
            "Parallel": {
                "layers": [
                    {"LSTM": {"units": 5}},
                    {"Sequential": {"layers": [conv(7, 3), "GlobalAveragePooling1D"]}},
                ]
            }
        },
        {"Dense": {"units": "auto", "activation": "softmax"}},
    ]
    network = build(lstm_fcn, (1, 12), num_outputs=3)
    assert network.layer_table[0][2].out_shape == (12,)  # 5 + 7 features
    assert network(torch.randn(2, 1, 12)).shape == (2, 3)
    rows = [(r.index, r.type, r.depth) for r in summarize(network).rows]
    assert rows[:5] == [
        ("1", "Parallel", 0),
        ("1.1", "LSTM", 1),
        ("1.2", "Sequential", 1),
        ("1.2.1", "Conv1D", 2),
        ("1.2.2", "GlobalAveragePooling1D", 2),
    ]


def test_branches_of_different_length_name_the_branch() -> None:
    block = {"Parallel": {"layers": [conv(4, 3), {"Conv1D": {"filters": 4, "kernel_size": 3}}]}}
    with pytest.raises(SpecError) as info:
        build([block], (2, 10))
    message = str(info.value)
    assert "layer 1 (Parallel): branch 1.2 gives 4×8 but branch 1.1 gives 4×10" in message
    assert "padding='same'" in message
    assert info.value.where == "layer 1"


def test_branches_with_different_axes_suggest_pooling() -> None:
    block = {"Parallel": {"layers": [conv(4, 3), {"LSTM": {"units": 4}}]}}
    with pytest.raises(SpecError, match=r"branch 1\.2 gives 4 but branch 1\.1 gives 4×10.*axes"):
        build([block], (2, 10))


def test_adding_branches_needs_equal_shapes() -> None:
    block = {"Parallel": {"merge": "add", "layers": [conv(4, 3), conv(5, 3)]}}
    with pytest.raises(SpecError, match=r"branch 1\.2 gives 5×10 .*adding needs the same shape"):
        build([block], (2, 10))


def test_a_misfit_inside_a_branch_names_its_index() -> None:
    inner = {"Sequential": {"layers": [conv(4, 3), {"Conv2D": {"filters": 2}}]}}
    block = {"Parallel": {"layers": [conv(4, 3), inner]}}
    with pytest.raises(SpecError, match=r"layer 2\.2\.2 \(Conv2D\): expects an image input"):
        build([{"Dropout": {"rate": 0.1}}, block], (2, 10))


def test_parallel_needs_two_branches() -> None:
    with pytest.raises(SpecError, match=r"layer 1 \(Parallel\): layers"):
        build([{"Parallel": {"layers": [conv(4, 3)]}}], (2, 10))


def test_residual_shortcut_layers_run_on_the_projection() -> None:
    block = {
        "Residual": {
            "layers": [conv(8, 3)],
            "shortcut": ["BatchNormalization"],  # normalised like any layer list
        }
    }
    network = build([block], (2, 10))
    shortcut = network.layers[0].shortcut
    assert isinstance(shortcut[0], torch.nn.Conv1d) and shortcut[0].out_channels == 8
    assert isinstance(shortcut[1], torch.nn.BatchNorm1d)
    # conv (2·3 + 1)·8, projection 2·8 without bias, batch norm 2·8
    assert summarize(network).total_params == 7 * 8 + 2 * 8 + 2 * 8
    bad = {"Residual": {"layers": [conv(8, 3)], "shortcut": [conv(3, 1)]}}
    with pytest.raises(SpecError, match="must keep the block's output shape"):
        build([bad], (2, 10))
