"""The Ensemble block and the inceptiontime preset: members, averaging, sizes, misfits."""

import pytest
import torch

from lernwerk.errors import SpecError
from lernwerk.models import build_network, load_preset
from lernwerk.models.ensemble import EnsembleBlock, combine, member_count, member_outputs

TINY_MEMBER = [
    {"Conv1D": {"filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"}},
    "GlobalAveragePooling1D",
    {"Dense": {"units": "auto", "activation": "softmax"}},
]


def ensemble_spec(members: int = 3, member: list | None = None, before: list | None = None):
    from lernwerk.config import ModelSpec

    layers = [*(before or []), {"Ensemble": {"members": members, "layers": member or TINY_MEMBER}}]
    return ModelSpec.from_dict({"name": "tiny-ensemble", "layers": layers})


def test_inceptiontime_is_five_inception1d_networks() -> None:
    single, ensemble = load_preset("inception1d"), load_preset("inceptiontime")
    (block,) = ensemble.layers
    assert block["type"] == "Ensemble" and block["members"] == 5
    assert block["layers"] == list(single.layers)  # layer for layer, so they cannot drift
    one = build_network(single, (1, 150), 2)
    five = build_network(ensemble, (1, 150), 2)
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    assert count(five) == 5 * count(one) == 5 * 473_538
    assert five.output_activation == "softmax" and member_count(five) == 5
    assert member_count(one) == 0


def test_members_start_from_different_weights() -> None:
    torch.manual_seed(0)
    network = build_network(ensemble_spec(3), (2, 16), 3)
    block = network.layers[0]
    assert isinstance(block, EnsembleBlock)
    first = [next(m.parameters()) for m in block.members]  # each member's Conv1D weights
    assert not torch.equal(first[0], first[1]) and not torch.equal(first[1], first[2])


def test_the_softmax_of_the_output_is_the_members_mean_probability() -> None:
    torch.manual_seed(0)
    network = build_network(ensemble_spec(4), (2, 16), 3).eval()
    x = torch.randn(5, 2, 16)
    members = member_outputs(network, x)  # (M, N, K)
    assert members.shape == (4, 5, 3)
    expected = torch.softmax(members, dim=2).mean(dim=0)
    torch.testing.assert_close(torch.softmax(network(x), dim=1), expected)
    assert network.layers[0].last_members is None  # kept in training mode only


def test_sigmoid_and_linear_members_average_too() -> None:
    z = torch.tensor([[[2.0]], [[-1.0]]])  # (M=2, N=1, K=1)
    p = torch.sigmoid(combine(z, "sigmoid"))
    torch.testing.assert_close(p, torch.sigmoid(z).mean(dim=0))
    torch.testing.assert_close(combine(z, "linear"), torch.tensor([[0.5]]))


def test_layers_before_the_block_feed_every_member() -> None:
    before = [{"Conv1D": {"filters": 3, "kernel_size": 1}}]
    network = build_network(ensemble_spec(2, before=before), (2, 16), 2).eval()
    x = torch.randn(3, 2, 16)
    members = member_outputs(network, x)
    torch.testing.assert_close(
        torch.softmax(network(x), 1), torch.softmax(members, dim=2).mean(dim=0)
    )


def test_an_ensemble_must_be_the_last_layer() -> None:
    from lernwerk.config import ModelSpec

    spec = ModelSpec.from_dict(
        {
            "layers": [
                {"Ensemble": {"members": 2, "layers": TINY_MEMBER[:2]}},
                {"Dense": {"units": 2}},
            ]
        }
    )
    with pytest.raises(SpecError, match=r"layer 1 \(Ensemble\): an Ensemble must be the network"):
        build_network(spec, (2, 16), 2)


def test_an_ensemble_of_one_is_refused() -> None:
    with pytest.raises(SpecError, match="members"):
        build_network(ensemble_spec(1), (2, 16), 2)


@pytest.mark.parametrize("shape", [(2,), (1, 8, 8)])
def test_inceptiontime_on_a_table_or_an_image_names_the_misfit(shape: tuple[int, ...]) -> None:
    with pytest.raises(SpecError, match=r"\(Conv1D\): expects a sequence input \(C, T\)"):
        build_network(load_preset("inceptiontime"), shape, 2)
