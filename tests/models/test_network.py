"""Building networks from specs: shape inference, Keras conventions, and misfit messages."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lernwerk.config import ModelSpec
from lernwerk.errors import SpecError
from lernwerk.models import LAYERS, build_network, load_preset
from lernwerk.models.network import Network


def build(layers: list, input_shape: tuple[int, ...], num_outputs: int | None = None) -> Network:
    torch.manual_seed(0)
    return build_network(ModelSpec.from_dict({"layers": layers}), input_shape, num_outputs)


def forward(network: nn.Module, x: torch.Tensor) -> torch.Tensor:
    network.eval()
    with torch.no_grad():
        return network(x)


def shapes(network: Network) -> list[tuple[int, ...]]:
    return [built.out_shape for _, _, built in network.layer_table]


# ---------------------------------------------------------------------------- misfits


def test_smiley_cnn_on_8x8_names_the_pooling_layer_that_does_not_fit() -> None:
    # 8 -conv3-> 6 -pool2-> 3 -conv3-> 1 -pool2-> nothing
    with pytest.raises(SpecError) as info:
        build_network(load_preset("smiley-cnn"), (1, 8, 8), num_outputs=4)
    message = str(info.value)
    assert "layer 4 (MaxPooling2D)" in message
    assert "1×1" in message
    assert "padding='same'" in message  # the suggested fix
    assert info.value.where == "layer 4"


def test_unknown_layer_type_lists_the_known_types() -> None:
    with pytest.raises(SpecError) as info:
        build([{"Conv3D": {"filters": 8}}], (1, 8, 8))
    message = str(info.value)
    assert "layer 1" in message and "'Conv3D'" in message
    assert len(LAYERS) > 10
    assert all(name in message for name in LAYERS)


def test_unknown_parameter_names_it_and_the_allowed_ones() -> None:
    with pytest.raises(SpecError) as info:
        build(["Flatten", {"Dense": {"units": 3, "unit": 4}}], (2,))
    message = str(info.value)
    assert "layer 2 (Dense)" in message
    assert "unknown parameter 'unit'" in message
    assert "units, activation, use_bias" in message


def test_bad_parameter_value_shows_what_was_received() -> None:
    with pytest.raises(SpecError, match=r"layer 1 \(Dropout\): rate: .*received: 1\.5"):
        build([{"Dropout": {"rate": 1.5}}], (2,))


def test_a_bad_value_names_the_field_not_the_validators_branch() -> None:
    with pytest.raises(SpecError) as caught:
        build([{"Conv2D": {"filters": 4, "kernel_size": "abc"}}], (1, 8, 8))
    assert "kernel_size: Input should be a valid integer" in str(caught.value)
    assert "kernel_size.int" not in str(caught.value)


def test_units_auto_needs_the_number_of_outputs() -> None:
    with pytest.raises(
        SpecError, match=r"layer 1 \(Dense\): units: auto needs the number of outputs"
    ):
        build([{"Dense": {"units": "auto"}}], (2,), num_outputs=None)
    assert build([{"Dense": {"units": "auto"}}], (2,), num_outputs=7).output_shape == (7,)


def test_dense_after_conv_without_flatten_suggests_flatten() -> None:
    with pytest.raises(SpecError) as info:
        build([{"Conv2D": {"filters": 8}}, {"Dense": {"units": 3}}], (1, 8, 8))
    message = str(info.value)
    assert "layer 2 (Dense)" in message
    assert "8×6×6" in message  # what it received
    assert "Flatten" in message  # the fix


def test_kernel_larger_than_the_image_suggests_same_padding() -> None:
    with pytest.raises(
        SpecError, match=r"kernel_size 9 does not fit the 8×8 input; use padding='same'"
    ):
        build([{"Conv2D": {"filters": 8, "kernel_size": 9}}], (1, 8, 8))


def test_conv2d_on_a_table_says_it_wants_images() -> None:
    with pytest.raises(
        SpecError, match=r"layer 1 \(Conv2D\): expects an image input \(C, H, W\); received 5"
    ):
        build([{"Conv2D": {"filters": 8}}], (5,))


def test_spec_input_must_agree_with_the_data() -> None:
    spec = ModelSpec.from_dict({"input": {"shape": [3]}, "layers": [{"Dense": {"units": 2}}]})
    assert build_network(spec).input_shape == (3,)  # the spec's own input is enough
    with pytest.raises(SpecError, match="expects input 3; the data gives 2") as info:
        build_network(spec, (2,))
    assert info.value.where == "input.shape"
    no_input = ModelSpec.from_dict({"layers": [{"Dense": {"units": 2}}]})
    with pytest.raises(SpecError, match="no input shape"):
        build_network(no_input)


def test_errors_inside_a_block_name_the_inner_layer() -> None:
    layers = [
        "Flatten",
        {"Residual": {"layers": [{"Dense": {"units": 4}}, {"Conv2D": {"filters": 2}}]}},
    ]
    with pytest.raises(SpecError, match=r"layer 2\.2 \(Conv2D\): expects an image input"):
        build(layers, (4,))


# ---------------------------------------------------------------------------- 'same' padding


@pytest.mark.parametrize(
    ("size", "kernel", "stride"),
    [(7, 2, 2), (8, 4, 2), (9, 4, 3), (5, 2, 1), (6, 3, 2), (1, 4, 2)],
)
def test_same_padding_gives_keras_output_sizes(size: int, kernel: int, stride: int) -> None:
    conv = {"filters": 3, "kernel_size": kernel, "strides": stride, "padding": "same"}
    network = build([{"Conv2D": conv}], (2, size, size + 1))
    expected = (3, math.ceil(size / stride), math.ceil((size + 1) / stride))  # as Keras
    assert network.output_shape == expected
    assert forward(network, torch.rand(2, 2, size, size + 1)).shape == (2, *expected)


@pytest.mark.parametrize(("size", "window", "stride"), [(5, 2, 2), (7, 3, 2), (4, 3, 1), (6, 4, 2)])
@pytest.mark.parametrize(
    ("layer", "dims"),
    [
        ("MaxPooling2D", 2),
        ("AveragePooling2D", 2),
        ("MaxPooling1D", 1),
        ("AveragePooling1D", 1),
        ("Conv1D", 1),
    ],
)
def test_same_padding_of_poolings_and_conv1d(
    layer: str, dims: int, size: int, window: int, stride: int
) -> None:
    params = {"strides": stride, "padding": "same"}
    params |= {"filters": 4, "kernel_size": window} if layer == "Conv1D" else {"pool_size": window}
    network = build([{layer: params}], (2, *[size] * dims))
    expected = (4 if layer == "Conv1D" else 2, *[math.ceil(size / stride)] * dims)
    assert network.output_shape == expected
    assert forward(network, torch.rand(3, 2, *[size] * dims)).shape == (3, *expected)


def test_same_padding_pads_the_end_more_as_keras_does() -> None:
    # A 1×2 kernel of ones over [1, 2, 3, 4, 5] with stride 2: one pixel of padding in
    # all, which TensorFlow/Keras put after the row: windows (1,2), (3,4), (5,0).
    conv = {"filters": 1, "kernel_size": [1, 2], "strides": 2, "padding": "same", "use_bias": False}
    network = build([{"Conv2D": conv}], (1, 1, 5))
    (weight,) = network.parameters()
    with torch.no_grad():
        weight.fill_(1.0)
    x = torch.arange(1.0, 6.0).reshape(1, 1, 1, 5)  # (N, C, H, W)
    assert forward(network, x).flatten().tolist() == [3.0, 7.0, 5.0]


def test_same_max_pooling_never_picks_the_padding() -> None:
    network = build([{"MaxPooling2D": {"pool_size": [1, 2], "padding": "same"}}], (1, 1, 5))
    x = -torch.arange(1.0, 6.0).reshape(1, 1, 1, 5)  # all negative: a zero pad would win
    assert forward(network, x).flatten().tolist() == [-1.0, -3.0, -5.0]


# ---------------------------------------------------------------------------- residual blocks


def test_residual_with_the_same_shape_adds_its_input() -> None:
    block = {"Residual": {"layers": [{"Conv2D": {"filters": 4, "padding": "same"}}]}}
    network = build([block], (4, 6, 6))
    assert network.output_shape == (4, 6, 6)
    with torch.no_grad():
        for p in network.layers[0].body.parameters():
            p.zero_()  # the main path now outputs 0: what is left is the shortcut
    x = torch.randn(2, 4, 6, 6)
    torch.testing.assert_close(forward(network, x), torch.relu(x), rtol=0, atol=0)


def test_residual_with_projection_shortcut() -> None:
    # 4×8×8 -> 8×4×4: the shortcut becomes a 1×1 convolution with stride 2 (ResNet's option B)
    block = {
        "Residual": {
            "layers": [
                {"Conv2D": {"filters": 8, "strides": 2, "padding": "same", "activation": "relu"}},
                {"Conv2D": {"filters": 8, "padding": "same"}},
            ]
        }
    }
    network = build([block], (4, 8, 8))
    assert network.output_shape == (8, 4, 4)
    residual = network.layers[0]
    assert isinstance(residual.shortcut, nn.Conv2d)
    assert residual.shortcut.kernel_size == (1, 1) and residual.shortcut.stride == (2, 2)
    x = torch.randn(2, 4, 8, 8)
    assert forward(network, x).shape == (2, 8, 4, 4)
    with torch.no_grad():
        for p in residual.body.parameters():
            p.zero_()
    expected = torch.relu(F.conv2d(x, residual.shortcut.weight, stride=2))
    torch.testing.assert_close(forward(network, x), expected)
    # parameters: two convolutions (4·9·8+8, 8·9·8+8) plus the 4·8 projection (no bias)
    assert sum(p.numel() for p in network.parameters()) == (4 * 9 * 8 + 8) + (8 * 9 * 8 + 8) + 4 * 8


def test_residual_shortcut_needs_a_whole_stride() -> None:
    block = {"Residual": {"layers": [{"Conv2D": {"filters": 4}}]}}  # 8×8 -> 6×6, 'valid'
    with pytest.raises(SpecError, match=r"layer 1 \(Residual\): the block turns 4×8×8 into 4×6×6"):
        build([block], (4, 8, 8))


# ---------------------------------------------------------------------------- recurrent layers


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_shapes_and_states_match_torch(
    cell: str, return_sequences: bool, bidirectional: bool
) -> None:
    channels, steps, units = 3, 7, 5
    params = {"units": units, "return_sequences": return_sequences, "bidirectional": bidirectional}
    network = build([{cell: params}], (channels, steps))
    directions = 2 if bidirectional else 1
    expected = (directions * units, steps) if return_sequences else (directions * units,)
    assert network.output_shape == expected
    x = torch.randn(4, channels, steps)  # (N, C, T)
    out = forward(network, x)
    assert out.shape == (4, *expected)

    rnn = network.layers[0].rnn  # the torch module is the oracle for what comes out
    with torch.no_grad():
        sequence, state = rnn(x.transpose(1, 2))  # (N, T, D*H)
    h_n = state[0] if cell == "LSTM" else state  # (D, N, H)
    if return_sequences:
        torch.testing.assert_close(out, sequence.transpose(1, 2))
    else:  # the final state of each direction: forward at the last step, backward at the first
        torch.testing.assert_close(out, torch.cat(list(h_n), dim=1))

    reference = (nn.LSTM if cell == "LSTM" else nn.GRU)(
        channels, units, bidirectional=bidirectional
    )
    assert sum(p.numel() for p in network.parameters()) == sum(
        p.numel() for p in reference.parameters()
    )


def test_recurrent_layer_wants_a_sequence() -> None:
    with pytest.raises(
        SpecError, match=r"layer 1 \(LSTM\): expects a sequence input \(C, T\); received 1×8×8"
    ):
        build([{"LSTM": {"units": 4}}], (1, 8, 8))


# ---------------------------------------------------------------------------- output activation


def test_last_softmax_is_folded_but_a_hidden_one_is_not() -> None:
    layers = [
        {"Dense": {"units": 4, "activation": "softmax"}},
        {"Dense": {"units": 3, "activation": "softmax"}},
    ]
    network = build(layers, (2,))
    assert network.output_activation == "softmax"
    hidden = forward(network.layers[0], torch.randn(5, 2))
    torch.testing.assert_close(hidden.sum(dim=1), torch.ones(5))  # the hidden softmax is applied
    assert isinstance(network.layers[1], nn.Linear)  # the last one is left to the task


def test_hooks_fire_although_forward_calls_its_parts_directly() -> None:
    # forward skips Module.__call__ while no hook is registered; a hook brings it back
    net = build_network(load_preset("lenet"), (1, 8, 8), 10)
    x = torch.randn(3, 1, 8, 8)
    plain = net(x)
    seen: list[str] = []
    conv = net.layers[0][0]
    handle = conv.register_forward_hook(lambda m, i, o: seen.append("forward"))
    hooked = net(x)
    handle.remove()
    assert seen == ["forward"] and torch.equal(plain, hooked)
    glob = torch.nn.modules.module.register_module_forward_hook(
        lambda m, i, o: seen.append(type(m).__name__)
    )
    try:
        net(x)
    finally:
        glob.remove()
    assert seen[1:] == [
        "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "_Flatten",
        "Linear", "ReLU", "Linear", "ReLU", "Linear", "Network",
    ]  # fmt: skip
    net(x)
    assert len(seen) == 14  # removed: direct again


def test_every_preset_passes_the_check_without_data() -> None:
    from lernwerk.models import preset_names
    from lernwerk.models.network import check_layers

    for name in preset_names():
        check_layers(load_preset(name).layers)


def test_a_layer_replaced_after_a_forward_is_the_one_that_runs() -> None:
    # a new head (transfer learning), a quantised copy: forward must see today's layers
    net = build_network(load_preset("mlp"), (2,), 2)
    x = torch.randn(4, 2)
    net(x)
    net.layers[-1] = nn.Linear(32, 3)
    assert net(x).shape == (4, 3)


def test_fx_tracing_still_records_the_modules() -> None:
    net = build_network(load_preset("mlp"), (2,), 2)
    graph = torch.fx.symbolic_trace(net).graph
    assert any(node.op == "call_module" for node in graph.nodes)


def test_a_trained_network_is_loaded_without_the_training_size_check() -> None:
    from lernwerk.config import ModelSpec

    spec = ModelSpec.from_dict({"layers": ["Flatten", {"Dense": {"units": 3}}]})
    with pytest.raises(SpecError, match="parameters"):
        build_network(spec, (1, 100_000, 100_000), 2)  # 3e10 weights: never allocated
    assert build_network(spec, (1, 4, 4), 2, check_size=False).output_shape == (3,)
