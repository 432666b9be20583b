"""Model summaries: shapes, parameters and FLOPs per layer, checked by hand and by torch."""

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from lernwerk.config import ModelSpec
from lernwerk.models import build_network, load_preset, summarize


@pytest.fixture
def smiley():
    torch.manual_seed(0)
    return build_network(load_preset("smiley-cnn"), (1, 28, 28), num_outputs=4)


# smiley-cnn on a 1×28×28 drawing with 4 classes, counted by hand:
# Conv2D k×k×C_in×C_out + C_out; Dense in×out + out; FLOPs = 2 × multiply-adds.
SMILEY_ROWS = [
    # index, type, output shape, parameters, FLOPs
    ("1", "Conv2D", (32, 26, 26), 3 * 3 * 1 * 32 + 32, 2 * (3 * 3 * 1) * 32 * 26 * 26),  # 320
    ("2", "MaxPooling2D", (32, 13, 13), 0, 32 * 13 * 13 * 2 * 2),
    ("3", "Conv2D", (64, 11, 11), 3 * 3 * 32 * 64 + 64, 2 * (3 * 3 * 32) * 64 * 11 * 11),  # 18 496
    ("4", "MaxPooling2D", (64, 5, 5), 0, 64 * 5 * 5 * 2 * 2),
    ("5", "Conv2D", (64, 3, 3), 3 * 3 * 64 * 64 + 64, 2 * (3 * 3 * 64) * 64 * 3 * 3),  # 36 928
    ("6", "Flatten", (576,), 0, 0),
    ("7", "Dense", (64,), 576 * 64 + 64, 2 * 576 * 64),  # 36 928
    ("8", "Dense", (4,), 4 * 64 + 4, 2 * 64 * 4),  # 260
]


def test_smiley_cnn_rows_equal_the_hand_count(smiley) -> None:
    summary = summarize(smiley)
    rows = [(r.index, r.type, r.output_shape, r.params, r.flops) for r in summary.rows]
    assert rows == SMILEY_ROWS
    assert [r[3] for r in SMILEY_ROWS] == [320, 0, 18496, 0, 36928, 0, 36928, 260]
    assert summary.total_params == summary.trainable_params == 92_932
    assert summary.flops_per_sample == sum(r[4] for r in SMILEY_ROWS)
    assert summary.input_shape == (1, 28, 28)
    assert summary.output_activation == "softmax"


def _hand_built_smiley() -> list[nn.Module]:
    """The same network written in plain PyTorch, one entry per spec layer."""
    return [
        nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU()),
        nn.MaxPool2d(2),
        nn.Sequential(nn.Conv2d(32, 64, 3), nn.ReLU()),
        nn.MaxPool2d(2),
        nn.Sequential(nn.Conv2d(64, 64, 3), nn.ReLU()),
        nn.Flatten(),
        nn.Sequential(nn.Linear(576, 64), nn.ReLU()),
        nn.Linear(64, 4),  # softmax is left to the task, as in ours
    ]


def test_smiley_cnn_params_and_outputs_equal_a_hand_built_torch_model(smiley) -> None:
    reference = _hand_built_smiley()
    summary = summarize(smiley)
    assert [r.params for r in summary.rows] == [
        sum(p.numel() for p in m.parameters()) for m in reference
    ]
    oracle = nn.Sequential(*reference)
    with torch.no_grad():
        for ours, theirs in zip(smiley.parameters(), oracle.parameters(), strict=True):
            theirs.copy_(ours)
    x = torch.rand(3, 1, 28, 28)  # (N, C, H, W)
    smiley.eval()
    with torch.no_grad():
        torch.testing.assert_close(smiley(x), oracle(x))


def test_conv_and_dense_flops_equal_torch_flop_counter(smiley) -> None:
    # torch counts 2 FLOPs per multiply-add of convolutions and matmuls, without bias or
    # activation; our Conv2D and Dense rows count the same
    shape = smiley.input_shape
    for (_, type_name, built), module in zip(smiley.layer_table, smiley.layers, strict=True):
        x = torch.rand(1, *shape)
        if type_name in ("Conv2D", "Dense"):
            counter = FlopCounterMode(display=False)
            with counter, torch.no_grad():
                module(x)
            assert built.flops == counter.get_total_flops(), type_name
        shape = built.out_shape


def test_total_flops_and_params_are_sums_of_top_level_rows() -> None:
    torch.manual_seed(0)
    network = build_network(load_preset("resnet-small"), (3, 16, 16), num_outputs=10)
    summary = summarize(network)
    top = [r for r in summary.rows if r.depth == 0]
    nested = [r for r in summary.rows if r.depth == 1]
    assert len(nested) == 15  # three blocks of five layers, listed under their block
    assert summary.flops_per_sample == sum(r.flops for r in top)
    assert (
        summary.total_params
        == sum(r.params for r in top)
        == sum(p.numel() for p in network.parameters())
    )
    # the nested rows add up to their block, except the projection shortcut of block 5
    blocks = {r.index: r for r in top if r.type == "Residual"}
    for index, block in blocks.items():
        inner = [r for r in nested if r.index.startswith(index + ".")]
        projection = 32 * 64 if index == "5" else 0  # 1×1 conv 32 -> 64, no bias
        assert block.params == sum(r.params for r in inner) + projection
        assert block.flops > sum(r.flops for r in inner)  # plus the addition (and projection)


def test_summary_as_text_and_dict(smiley) -> None:
    summary = summarize(smiley)
    text = summary.format_text()
    assert 'Model: "smiley-cnn"' in text and "input 1×28×28" in text
    assert "Total params: 92,932" in text
    assert "32×26×26" in text and "MaxPooling2D" in text
    assert str(summary) == text
    data = summary.to_dict()
    assert data["total_params"] == 92_932 and len(data["rows"]) == 8


def test_trainable_params_exclude_frozen_ones() -> None:
    spec = ModelSpec.from_dict({"layers": [{"Dense": {"units": 3}}, {"Dense": {"units": 2}}]})
    network = build_network(spec, (4,))
    for p in network.layers[0].parameters():
        p.requires_grad_(False)
    summary = summarize(network)
    assert summary.total_params == 4 * 3 + 3 + 3 * 2 + 2
    assert summary.trainable_params == 3 * 2 + 2
