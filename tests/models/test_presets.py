"""Every shipped preset builds for an input that suits it and runs forward."""

import pytest
import torch

from lernwerk.errors import NotFound
from lernwerk.models import build_network, list_presets, load_preset, preset_names, resolve_model

# An input each preset is meant for (no batch dimension): images (C, H, W), tables (F,),
# sequences (C, T). A new preset must be added here, so it gets built at least once.
PRESET_INPUTS = {
    "efficientnet-lite0": (3, 32, 32),
    "fcn1d": (3, 20),
    "gru": (3, 20),
    "gru-bi": (3, 20),
    "inception1d": (3, 20),
    "inceptiontime": (3, 20),
    "lenet": (1, 8, 8),
    "lstm": (3, 20),
    "lstm-bi": (3, 20),
    "lstm-fcn": (3, 20),
    "mlp": (2,),
    "perceptron": (2,),
    "resnet-small": (3, 16, 16),
    "resnet1d": (3, 20),
    "smiley-cnn": (1, 28, 28),
}
# autoencoders: their output has the input's shape ('filters: auto' = the input's channels)
AUTOENCODER_INPUTS = {"autoencoder1d": (3, 32), "autoencoder2d": (3, 16, 24)}

# anomaly detectors that give an anomaly map (1, H, W) of the image
MAP_INPUTS = {"patchcore": (3, 32, 40)}

# generative networks: each sample's two losses (N, 2); `generate` draws images
GENERATIVE_INPUTS = {"dcgan": (1, 28, 28), "vae": (3, 16, 24)}


def test_every_preset_has_an_input_here() -> None:
    shipped = {**PRESET_INPUTS, **AUTOENCODER_INPUTS, **MAP_INPUTS, **GENERATIVE_INPUTS}
    assert preset_names() == sorted(shipped)


@pytest.mark.parametrize("name", sorted(GENERATIVE_INPUTS))
def test_generative_preset_gives_losses_and_draws_images(name: str) -> None:
    from lernwerk.models.generative import generative_module

    shape = GENERATIVE_INPUTS[name]
    network = build_network(load_preset(name), shape, num_outputs=2)
    out = network(torch.rand(4, *shape))
    assert network.output_shape == (2,) and out.shape == (4, 2) and bool((out >= 0).all())
    module = generative_module(network)
    assert module is not None
    module.eval()
    images = module.generate(torch.randn(3, module.latent_dims))
    assert images.shape == (3, *shape) and 0 <= float(images.min()) <= float(images.max()) <= 1


def test_a_generative_network_names_the_image_sizes_it_needs() -> None:
    from lernwerk.errors import SpecError

    with pytest.raises(SpecError, match="divide by 4"):
        build_network(load_preset("vae"), (1, 30, 30), num_outputs=2)


@pytest.mark.parametrize("name", sorted(MAP_INPUTS))
def test_map_preset_gives_an_anomaly_map(name: str) -> None:
    shape = MAP_INPUTS[name]
    network = build_network(load_preset(name), shape, num_outputs=shape[0])
    assert network.output_shape == (1, *shape[1:])
    assert network.output_activation == "anomaly_map"


@pytest.mark.parametrize("name", sorted(AUTOENCODER_INPUTS))
def test_autoencoder_preset_gives_back_the_input_shape(name: str) -> None:
    shape = AUTOENCODER_INPUTS[name]
    network = build_network(load_preset(name), shape, num_outputs=shape[0])
    network.eval()
    with torch.no_grad():
        out = network(torch.rand(2, *shape))
    assert network.output_shape == shape and out.shape == (2, *shape)
    assert network.output_activation == "linear"


@pytest.mark.parametrize("name", sorted(PRESET_INPUTS))
def test_preset_builds_and_runs_forward(name: str) -> None:
    torch.manual_seed(0)
    network = build_network(load_preset(name), PRESET_INPUTS[name], num_outputs=5)
    x = torch.rand(4, *PRESET_INPUTS[name])  # (N, *input_shape)
    network.eval()
    with torch.no_grad():
        out = network(x)
    assert network.output_shape == (5,)
    assert out.shape == (4, 5)
    assert torch.isfinite(out).all()
    # softmax is folded into the loss, so forward returns logits, not rows summing to 1
    assert network.output_activation == "softmax"
    assert not torch.allclose(out.sum(dim=1), torch.ones(4))


def test_presets_have_descriptions() -> None:
    presets = list_presets()
    assert [p["name"] for p in presets] == preset_names()
    assert all(p["description"].strip() for p in presets)


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(NotFound) as info:
        load_preset("alexnet")
    message = str(info.value)
    assert "'alexnet'" in message
    assert all(name in message for name in PRESET_INPUTS)


def test_resolve_model_takes_a_name_a_dict_or_a_file(tmp_path) -> None:
    assert resolve_model("mlp") == load_preset("mlp")
    inline = resolve_model({"layers": ["Flatten", {"Dense": {"units": 3}}]})
    assert inline.name == "custom"
    path = tmp_path / "tiny-net.yaml"
    path.write_text("layers:\n  - Flatten\n  - Dense: {units: 3}\n")
    from_file = resolve_model(str(path))
    assert from_file.name == "tiny-net"  # named after the file when the spec has no name
    assert from_file.layers == inline.layers
