"""Augmenter: torch ops as the oracle for the geometry, determinism, ranges, and errors."""

import io
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from lernwerk.config import AugmentConfig, TrainConfig
from lernwerk.data.images.augment import Augmenter, affine_theta, preview_grid, preview_png
from lernwerk.errors import DataError, SpecError

ALL_ON = AugmentConfig(
    rotation_deg=30,
    shift=0.1,
    zoom=0.2,
    flip_horizontal=True,
    flip_vertical=True,
    brightness=0.2,
    contrast=0.3,
    noise_std=0.1,
)


def _images(shape: tuple[int, ...] = (16, 3, 10, 12)) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(0))  # (N, C, H, W)


def _warp(x: torch.Tensor, angle=0.0, scale=1.0, shift=(0.0, 0.0), flip=(1.0, 1.0)):
    """x resampled under one transform, the same for every sample."""
    b = len(x)
    theta = affine_theta(
        torch.full((b,), angle),
        torch.full((b,), scale),
        torch.tensor([shift] * b),
        torch.tensor([flip] * b),
        height=x.shape[2],
        width=x.shape[3],
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)


# ---------------------------------------------------------------------------- config


def test_config_off_by_default_and_round_trips_in_train_config():
    assert not AugmentConfig().enabled
    assert AugmentConfig(zoom=0.1).active == ("zoom",)
    config = TrainConfig.from_dict({"augment": {"rotation_deg": 15, "flip_horizontal": True}})
    assert config.augment.enabled
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert TrainConfig().to_dict()["augment"]["rotation_deg"] == 0.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"augment": {"rotation": 15}}, "augment.rotation: unknown key"),
        ({"augment": {"zoom": 0.9}}, "augment.zoom: Input should be less than or equal to 0.5"),
    ],
)
def test_config_errors_name_the_field(data, message):
    with pytest.raises(SpecError, match=message):
        TrainConfig.from_dict(data)


# ---------------------------------------------------------------------------- geometry


def test_matrix_rotation_by_90_degrees_is_rot90_clockwise():
    x = _images((2, 1, 5, 5))
    torch.testing.assert_close(
        _warp(x, angle=math.pi / 2), torch.rot90(x, -1, (2, 3)), atol=1e-5, rtol=0
    )


def test_matrix_rotation_keeps_right_angles_on_non_square_images():
    x = torch.zeros(1, 1, 6, 8)
    x[..., 1:5, 2:6] = _images((1, 1, 4, 4))  # a 4×4 patch around the centre
    expected = torch.zeros_like(x)
    expected[..., 1:5, 2:6] = torch.rot90(x[..., 1:5, 2:6], -1, (2, 3))
    torch.testing.assert_close(_warp(x, angle=math.pi / 2), expected, atol=1e-5, rtol=0)


def test_matrix_shift_moves_right_and_down_with_zero_fill():
    x = _images((2, 1, 5, 5))
    expected = torch.zeros_like(x)
    expected[..., 2:, 1:] = x[..., :-2, :-1]
    torch.testing.assert_close(_warp(x, shift=(1 / 5, 2 / 5)), expected, atol=1e-6, rtol=0)


def test_matrix_zoom_out_keeps_a_quarter_of_the_mass():
    x = torch.ones(1, 1, 8, 8)
    assert float(_warp(x, scale=0.5).sum()) == pytest.approx(16.0, rel=1e-5)
    torch.testing.assert_close(_warp(x, scale=2.0), x)  # zoom in: no background shows


# ---------------------------------------------------------------------------- the augmenter


def test_disabled_is_identity():
    x = _images()
    assert Augmenter(AugmentConfig(), seed=0)(x) is x


def test_keeps_shape_dtype_and_raw_range():
    x = _images()
    for dtype in (torch.float32, torch.float64):
        out = Augmenter(ALL_ON, seed=1)(x.to(dtype))
        assert out.shape == x.shape and out.dtype == dtype
        assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
        assert not torch.equal(out, x.to(dtype))


def test_same_seed_same_stream_other_seed_differs():
    x = _images()
    a, b = Augmenter(ALL_ON, seed=3), Augmenter(ALL_ON, seed=3)
    first, second = a(x), a(x)
    assert torch.equal(first, b(x)) and torch.equal(second, b(x))
    assert not torch.equal(first, second)  # the stream moves on
    assert not torch.equal(first, Augmenter(ALL_ON, seed=4)(x))


def test_global_rng_untouched():
    before = torch.random.get_rng_state()
    Augmenter(ALL_ON, seed=0)(_images())
    assert torch.equal(torch.random.get_rng_state(), before)


def test_flip_only_gives_the_sample_or_its_mirror_half_the_time():
    x = _images((200, 1, 6, 6))
    out = Augmenter(AugmentConfig(flip_horizontal=True), seed=0)(x)
    same = (out == x).flatten(1).all(1)
    flipped = (out == x.flip(-1)).flatten(1).all(1)
    assert bool((same | flipped).all())
    assert 70 < int(flipped.sum()) < 130


def test_flip_composed_into_the_matrix_matches_torch_flip():
    # a negligible rotation sends the flip through affine_grid + grid_sample
    x = _images((64, 1, 7, 7))
    config = AugmentConfig(rotation_deg=1e-6, flip_horizontal=True, flip_vertical=True)
    out = Augmenter(config, seed=0)(x)
    candidates = [x, x.flip(-1), x.flip(-2), x.flip(-1).flip(-2)]
    errors = torch.stack([(out - c).abs().flatten(1).amax(1) for c in candidates])  # (4, N)
    assert float(errors.min(0).values.max()) < 1e-5
    assert len(set(errors.argmin(0).tolist())) == 4  # all four cases occur


def test_rotation_keeps_the_mass_of_a_centred_drawing():
    x = torch.zeros(32, 1, 16, 16)
    x[:, :, 6:10, 4:12] = 1.0  # a bar through the centre, inside the inscribed circle
    out = Augmenter(AugmentConfig(rotation_deg=90), seed=0)(x)
    torch.testing.assert_close(out.sum((1, 2, 3)), x.sum((1, 2, 3)), rtol=0.05, atol=0)
    assert not torch.equal(out, x)


def test_standardised_round_trip_and_range():
    x = _images((8, 3, 6, 6))
    mean, std = x.mean((0, 2, 3)), x.std((0, 2, 3))
    z = (x - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)
    identity_ish = Augmenter(AugmentConfig(rotation_deg=1e-6), seed=0, mean=mean, std=std)
    torch.testing.assert_close(identity_ish(z), z, atol=1e-5, rtol=0)
    out = Augmenter(ALL_ON, seed=0, mean=mean, std=std)(z)
    raw = out * std.view(1, -1, 1, 1) + mean.view(1, -1, 1, 1)
    assert float(raw.min()) >= -1e-5 and float(raw.max()) <= 1 + 1e-5


def test_state_dict_continues_the_stream():
    x = _images()
    a = Augmenter(ALL_ON, seed=5)
    a(x)
    state = a.state_dict()
    expected = a(x)
    resumed = Augmenter(ALL_ON, seed=5)
    resumed.load_state_dict(state)
    assert torch.equal(resumed(x), expected)


@pytest.mark.parametrize("kind", ["table", "sequences"])
def test_not_applicable_to_tables_and_sequences(kind):
    Augmenter(AugmentConfig(), seed=0).check_applicable(kind)  # off: fine anywhere
    Augmenter(ALL_ON, seed=0).check_applicable("images")
    with pytest.raises(SpecError, match=f"images only; received a dataset of kind '{kind}'"):
        Augmenter(AugmentConfig(zoom=0.1), seed=0).check_applicable(kind)


def test_errors_on_wrong_input():
    with pytest.raises(DataError, match=r"batch of images \(B, C, H, W\); received shape \(4, 3\)"):
        Augmenter(ALL_ON, seed=0)(torch.rand(4, 3))
    with pytest.raises(DataError, match="expected 2 channels"):
        Augmenter(ALL_ON, seed=0, mean=torch.zeros(2), std=torch.ones(2))(_images())
    with pytest.raises(DataError, match="mean and std together"):
        Augmenter(ALL_ON, seed=0, mean=torch.zeros(3))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_the_batch_device():
    x = _images().cuda()
    out = Augmenter(ALL_ON, seed=0)(x)
    assert out.device == x.device and torch.equal(out, Augmenter(ALL_ON, seed=0)(x))


# ---------------------------------------------------------------------------- preview


def test_preview_grid_layout_and_png():
    x = _images((3, 1, 8, 8))
    grid = preview_grid(x, AugmentConfig(rotation_deg=15), seed=0, copies=4)
    assert grid.dtype == np.uint8 and grid.ndim == 2  # grey
    # 8×8 tiles upscaled 8× to 64 px; 2 px separators, and 2 more after the originals
    assert grid.shape == (3 * 64 + 4 * 2, 5 * 64 + 7 * 2)
    np.testing.assert_array_equal(grid[2:66:8, 2:66:8], np.round(x[0, 0].numpy() * 255))
    rgb = preview_grid(_images((2, 3, 8, 8)), AugmentConfig(), seed=0, copies=1)
    assert rgb.shape[-1] == 3
    png = Image.open(io.BytesIO(preview_png(x, AugmentConfig(zoom=0.1), seed=0, copies=2)))
    assert png.size == (3 * 64 + 5 * 2, 3 * 64 + 4 * 2)
