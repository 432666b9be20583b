"""PatchCore's parts: the greedy coreset, the nearest-patch distances, the memory bank."""

import torch
import torch.nn.functional as F

from lernwerk.models import build_network, load_preset, summarize
from lernwerk.models.patchcore import (
    PatchCoreModule,
    greedy_coreset,
    nearest_distances,
    resized_size,
)
from lernwerk.models.pretrained import _flops


def test_coreset_keeps_the_farthest_points() -> None:
    # a tight cluster of 200 points and 3 far outliers: a coreset of 4 takes one point of
    # the cluster and each outlier, because each next point is the farthest from those chosen
    g = torch.Generator().manual_seed(0)
    cluster = torch.randn(200, 8, generator=g) * 0.01
    outliers = torch.tensor([[10.0] + [0] * 7, [0, -10.0] + [0] * 6, [0, 0, 10.0] + [0] * 5])
    points = torch.cat([cluster, outliers])
    chosen = set(greedy_coreset(points, 4).tolist())
    assert {200, 201, 202} <= chosen
    assert len(chosen) == 4


def test_coreset_covers_the_data_on_a_projection() -> None:
    # on 300 dimensions (projected to 128) the coreset's covering radius beats a random pick
    g = torch.Generator().manual_seed(1)
    points = torch.cat(
        [torch.randn(50, 300, generator=g) + 8 * torch.randn(1, 300, generator=g) for _ in range(6)]
    )  # 6 clusters
    chosen = greedy_coreset(points, 6)
    radius = torch.cdist(points, points[chosen]).min(dim=1).values.max()
    random = torch.randperm(len(points), generator=g)[:6]
    random_radius = torch.cdist(points, points[random]).min(dim=1).values.max()
    assert radius < random_radius
    assert len(set(chosen.tolist())) == 6


def test_nearest_distances_mean_over_k() -> None:
    bank = torch.tensor([[0.0, 0.0], [1.0, 0.0], [4.0, 0.0]])
    q = torch.tensor([[0.0, 0.0], [3.0, 0.0]])
    assert nearest_distances(q, bank).tolist() == [0.0, 1.0]
    assert nearest_distances(q, bank, k=2).tolist() == [0.5, 1.5]


def _conv_features(x: torch.Tensor, names: list[str]) -> dict[str, torch.Tensor]:
    """A fixed random convolution at two strides: a stand-in for the backbone's stages."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(8, x.shape[1], 3, 3, generator=g)
    a = F.relu(F.conv2d(x, w, stride=4, padding=1))
    return {"a": a, "b": F.avg_pool2d(a, 2)}


def test_bank_is_a_coreset_of_the_patches_and_scores_an_odd_patch_high() -> None:
    torch.manual_seed(0)
    module = PatchCoreModule(["a", "b"], 16, coreset=0.25, neighbours=1, features=_conv_features)
    normal = torch.full((6, 3, 32, 32), 0.5) + 0.01 * torch.randn(6, 3, 32, 32)
    module.train()
    module.memorize(normal[:3])
    module.memorize(normal[3:])
    module.eval()
    odd = normal[:1].clone()
    odd[:, :, 8:16, 8:16] = 1.0  # a bright square in one corner
    maps = module(torch.cat([normal[:1], odd]))  # (2, 1, 32, 32)
    assert maps.shape == (2, 1, 32, 32)
    assert len(module.bank) == 6 * 8 * 8 // 4  # a quarter of the 384 patches
    assert maps[1].amax() > 5 * maps[0].amax()
    hot = maps[1, 0].argmax()
    assert 4 <= int(hot // 32) < 20 and 4 <= int(hot % 32) < 20  # where the square is


def test_bank_travels_in_the_state_dict() -> None:
    module = PatchCoreModule(["a", "b"], 16, coreset=0.5, neighbours=1, features=_conv_features)
    module.memorize(torch.rand(2, 3, 32, 32))
    state = module.state_dict()  # chooses the bank first
    assert state["bank"].shape == (64, 16)
    fresh = PatchCoreModule(["a", "b"], 16, coreset=0.5, neighbours=1, features=_conv_features)
    fresh.load_state_dict(state)
    x = torch.rand(1, 3, 32, 32)
    assert torch.equal(fresh.eval()(x), module.eval()(x))


def test_images_are_resized_to_input_size_before_the_features() -> None:
    module = PatchCoreModule(
        ["a", "b"], 16, coreset=1.0, neighbours=1, features=_conv_features, input_size=64
    )
    module.memorize(torch.rand(2, 3, 32, 32))  # 64×64 at stride 4: 16×16 patches each
    module.finish()
    assert module.bank.shape == (2 * 16 * 16, 16)
    assert module.eval()(torch.rand(1, 3, 32, 32)).shape == (1, 1, 32, 32)  # map at input size
    assert resized_size(64, 128, 224) == (224, 448) and resized_size(64, 48, None) == (64, 48)


def _mean_colour(x: torch.Tensor) -> torch.Tensor:
    return x.mean(dim=(2, 3))  # (N, 3): a stand-in for the backbone's image embedding


def test_image_distance_is_added_to_each_patch_each_divided_by_its_spread() -> None:
    torch.manual_seed(0)
    normal = 0.5 + 0.05 * torch.randn(6, 3, 32, 32)
    plain = PatchCoreModule(["a", "b"], 16, coreset=0.25, neighbours=1, features=_conv_features)
    both = PatchCoreModule(
        ["a", "b"],
        16,
        coreset=0.25,
        neighbours=1,
        features=_conv_features,
        embedding=_mean_colour,
        embedding_dims=3,
    )
    for m in (plain, both):
        m.memorize(normal)
        m.finish()
    assert torch.equal(plain.bank, both.bank) and both.images.shape == (6, 3)
    worst = nearest_distances(_patches(normal), both.bank).reshape(6, -1).amax(dim=1)
    colours = _mean_colour(normal)
    others = torch.cdist(colours, colours).fill_diagonal_(float("inf")).amin(dim=1)
    assert torch.allclose(both.spread, torch.stack([worst.mean(), others.mean()]))

    darker = normal[:1] - 0.2  # the whole image changed: the image distance says so
    whole = torch.cdist(_mean_colour(darker), colours).amin()
    expected = plain.eval()(darker) / both.spread[0] + whole / both.spread[1]
    assert torch.allclose(both.eval()(darker), expected, atol=1e-5)

    # a run stored before the image distance loads and scores by its patches alone
    state = {"bank": plain.state_dict()["bank"]}
    both.load_state_dict(state)
    assert len(both.images) == 0 and torch.equal(both(darker), plain(darker))


def _patches(x: torch.Tensor) -> torch.Tensor:
    f = PatchCoreModule(["a", "b"], 16, 1.0, 1, features=_conv_features).patch_features(x)
    return f.permute(0, 2, 3, 1).reshape(-1, 16)


def test_preset_resizes_to_224_and_counts_the_flops_there() -> None:
    small = summarize(build_network(load_preset("patchcore"), (3, 64, 64), 1))
    large = summarize(build_network(load_preset("patchcore"), (3, 224, 224), 1))
    assert small.flops_per_sample == large.flops_per_sample  # the backbone sees 224×224
    assert small.flops_per_sample > 2 * _flops(224, 224)  # patches and the image embedding
