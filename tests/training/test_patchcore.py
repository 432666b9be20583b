"""PatchCore's parts: the greedy coreset, the nearest-patch distances, the memory bank."""

import torch
import torch.nn.functional as F

from lernwerk.models.patchcore import PatchCoreModule, greedy_coreset, nearest_distances


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
