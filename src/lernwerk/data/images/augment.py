"""Image augmentation as configuration: random transforms of a whole batch on its device.

Rotation, shift, zoom and flips are composed into one 2×3 matrix per sample and applied with
one `affine_grid` + `grid_sample`; brightness, contrast and noise follow, and the result is
clamped to [0, 1]. Randomness comes from a seeded generator per device, never the global RNG.
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn.functional as F

from lernwerk.config import AugmentConfig
from lernwerk.errors import DataError, SpecError

# Uniform draws per sample and call, one column each, drawn whether or not a transform is on,
# so switching one transform on or changing its magnitude leaves the others' draws as they were.
_ANGLE, _SHIFT_X, _SHIFT_Y, _ZOOM, _FLIP_H, _FLIP_V, _BRIGHTNESS, _CONTRAST = range(8)
_DRAWS = 8

_PREVIEW_TILE_PX = 64  # tiles are upscaled (nearest) to at least this size
_PREVIEW_SEPARATOR = 128  # grey between tiles: neither background (0) nor stroke (255)


class Augmenter:
    """Applies an `AugmentConfig` to batches of images, reproducibly from a seed.

    Args:
        config: which transforms, and how strong.
        seed: seeds the augmenter's own generator (one per device, made on first use).
        mean: (C,) per-channel mean when batches come standardised; None for raw [0, 1] pixels.
        std: (C,) per-channel std, given together with `mean`.

    Raises:
        DataError: mean and std are not both given, not 1-D of one length, or std is not > 0.
    """

    def __init__(
        self,
        config: AugmentConfig,
        seed: int,
        mean: torch.Tensor | None = None,
        std: torch.Tensor | None = None,
    ) -> None:
        if (mean is None) != (std is None):
            raise DataError("give mean and std together, or neither", where="augment")
        if mean is not None and std is not None:
            if mean.dim() != 1 or mean.shape != std.shape:
                raise DataError(
                    f"mean and std must be 1-D of one length (C,); received shapes "
                    f"{tuple(mean.shape)} and {tuple(std.shape)}",
                    where="augment",
                )
            if not bool((std > 0).all()):
                raise DataError("std must be positive everywhere", where="augment")
        self.config = config
        self.seed = seed
        self.mean, self.std = mean, std
        self._generators: dict[str, torch.Generator] = {}
        self._pending_states: dict[str, torch.Tensor] = {}  # loaded before first use

    @property
    def enabled(self) -> bool:
        """Whether any transform is on; when not, calling returns the batch itself."""
        return self.config.enabled

    def check_applicable(self, kind: str) -> None:
        """Raise `SpecError` when augmentation is on for data that are not images.

        Args:
            kind: the dataset's kind: "table", "images" or "sequences".
        """
        if self.enabled and kind != "images":
            raise SpecError(
                f"augment: augmentation works on images only; received a dataset of kind "
                f"'{kind}' with {', '.join(self.config.active)} set; "
                "remove the augment settings for tables and sequences",
                where="augment",
            )

    # -- the transform ---------------------------------------------------------------------

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Augment a batch (B, C, H, W) on its device; returns a new batch of the same shape.

        Raises:
            DataError: x is not a 4-D floating-point batch, or its channels do not match
                the mean and std.
        """
        if not self.enabled:
            return x
        if x.dim() != 4 or not x.is_floating_point():
            raise DataError(
                f"augmentation expects a floating-point batch of images (B, C, H, W); "
                f"received shape {tuple(x.shape)} of {x.dtype}",
                where="augment",
            )
        if self.mean is not None and len(self.mean) != x.shape[1]:
            raise DataError(
                f"expected {len(self.mean)} channels; received a batch of shape {tuple(x.shape)}",
                where="augment",
            )
        if len(x) == 0:
            return x.clone()
        generator = self._generator(x.device)
        u = torch.rand(len(x), _DRAWS, generator=generator, device=x.device)  # (B, 8)
        u = u.to(x.dtype)
        if self.mean is not None and self.std is not None:
            mean = self.mean.to(x.device, x.dtype).view(1, -1, 1, 1)
            std = self.std.to(x.device, x.dtype).view(1, -1, 1, 1)
            raw = x * std + mean  # (B, C, H, W) in [0, 1]
        else:
            raw = x
        raw = self._geometric(raw, u)
        raw = self._photometric(raw, u, generator)
        raw = raw.clamp(0.0, 1.0)
        if self.mean is not None:
            return (raw - mean) / std
        return raw

    def _geometric(self, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        c = self.config
        flip = torch.ones(len(x), 2, dtype=x.dtype, device=x.device)  # (B, 2): ±1 for x, y
        if c.flip_horizontal:
            flip[:, 0] = torch.where(u[:, _FLIP_H] < 0.5, -1.0, 1.0)
        if c.flip_vertical:
            flip[:, 1] = torch.where(u[:, _FLIP_V] < 0.5, -1.0, 1.0)
        if not (c.rotation_deg or c.shift or c.zoom):
            # flips alone are exact index reversals: no resampling needed
            if c.flip_horizontal:
                x = torch.where((flip[:, 0] < 0).view(-1, 1, 1, 1), x.flip(-1), x)
            if c.flip_vertical:
                x = torch.where((flip[:, 1] < 0).view(-1, 1, 1, 1), x.flip(-2), x)
            return x
        angle = (2 * u[:, _ANGLE] - 1) * math.radians(c.rotation_deg)  # (B,) radians
        scale = 1 + (2 * u[:, _ZOOM] - 1) * c.zoom  # (B,)
        shift = (2 * u[:, [_SHIFT_X, _SHIFT_Y]] - 1) * c.shift  # (B, 2) fractions of W, H
        theta = affine_theta(angle, scale, shift, flip, height=x.shape[2], width=x.shape[3])
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, H, W, 2)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def _photometric(
        self, x: torch.Tensor, u: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        c = self.config
        if c.brightness:
            x = x + ((2 * u[:, _BRIGHTNESS] - 1) * c.brightness).view(-1, 1, 1, 1)
        if c.contrast:
            factor = (1 + (2 * u[:, _CONTRAST] - 1) * c.contrast).view(-1, 1, 1, 1)  # (B,1,1,1)
            mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
            x = (x - mean) * factor + mean
        if c.noise_std:
            noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
            x = x + noise * c.noise_std
        return x

    # -- the random stream -----------------------------------------------------------------

    def _generator(self, device: torch.device) -> torch.Generator:
        key = str(device)
        generator = self._generators.get(key)
        if generator is None:
            generator = torch.Generator(device=device).manual_seed(self.seed)
            if key in self._pending_states:
                generator.set_state(self._pending_states.pop(key))
            self._generators[key] = generator
        return generator

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The generators' states by device ("cpu", "cuda:0"), for a checkpoint."""
        states = dict(self._pending_states)
        states.update({key: g.get_state() for key, g in self._generators.items()})
        return states

    def load_state_dict(self, states: dict[str, torch.Tensor]) -> None:
        """Continue the random streams saved by `state_dict` (a resumed run)."""
        for key, state in states.items():
            if key in self._generators:
                self._generators[key].set_state(state)
            else:
                self._pending_states[key] = state.clone()


def affine_theta(
    angle: torch.Tensor,
    scale: torch.Tensor,
    shift: torch.Tensor,
    flip: torch.Tensor,
    *,
    height: int,
    width: int,
) -> torch.Tensor:
    """The (B, 2, 3) matrices for `affine_grid` that flip, zoom, rotate, then shift the content.

    Composed in pixel units around the image centre, so a rotation keeps right angles on
    non-square images; `affine_grid` maps output to input, hence the inverse transform.

    Args:
        angle: (B,) radians, positive turning clockwise on screen (y points down).
        scale: (B,) content size factor; above 1 zooms in.
        shift: (B, 2) content offset in fractions of (width, height); positive is right, down.
        flip: (B, 2) ±1 for mirroring x and y.
    """
    cos, sin = torch.cos(angle), torch.sin(angle)  # (B,)
    # content moves as p_out = R(angle)·scale·flip·p_in + t (pixels from the centre); the
    # sampler needs the inverse: p_in = flip·R(-angle)/scale·(p_out - t)
    rows = [torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)]
    inv = torch.stack(rows, -2)  # (B, 2, 2): R(-angle)
    inv = flip.unsqueeze(-1) * inv / scale.view(-1, 1, 1)
    half = torch.tensor([width / 2, height / 2], dtype=inv.dtype, device=inv.device)  # (2,)
    # in normalised coords n = p / half: theta = half⁻¹·inv·half, offset = -half⁻¹·inv·t
    linear = inv * half.view(1, 1, 2) / half.view(1, 2, 1)  # (B, 2, 2)
    offset = -(inv @ (shift * 2 * half).unsqueeze(-1)) / half.view(1, 2, 1)  # (B, 2, 1)
    return torch.cat([linear, offset], dim=-1)  # (B, 2, 3)


# ---------------------------------------------------------------------------- preview


def preview_grid(x: torch.Tensor, config: AugmentConfig, seed: int, copies: int = 8) -> np.ndarray:
    """One row per sample: the original, then `copies` augmented versions, as a uint8 image.

    Tiles are upscaled (nearest) to at least 64 pixels and separated by a grey line.

    Args:
        x: (N, C, H, W) raw images in [0, 1], C being 1 (grey) or 3 (RGB).
        config: the augmentation to show.
        seed: seeds the augmentation, so a preview can be reproduced.
        copies: augmented versions per sample.

    Returns:
        (rows, cols) uint8 for grey images, (rows, cols, 3) for RGB.

    Raises:
        DataError: x is not a batch of grey or RGB images, or copies < 1.
    """
    if x.dim() != 4 or x.shape[1] not in (1, 3) or len(x) == 0:
        raise DataError(
            f"preview expects a non-empty batch (N, C, H, W) with 1 or 3 channels; "
            f"received shape {tuple(x.shape)}",
            where="augment",
        )
    if copies < 1:
        raise DataError(f"copies must be at least 1; received {copies}", where="augment")
    x = x.detach().float().cpu()
    n, c, h, w = x.shape
    augmented = Augmenter(config, seed)(x.repeat_interleave(copies, dim=0))  # (N*copies, C, H, W)
    tiles = torch.cat([x.unsqueeze(1), augmented.view(n, copies, c, h, w)], dim=1)
    factor = max(1, math.ceil(_PREVIEW_TILE_PX / max(h, w)))
    tiles = tiles.repeat_interleave(factor, dim=3).repeat_interleave(factor, dim=4)
    tiles = (tiles.clamp(0, 1) * 255).round().to(torch.uint8)  # (N, K, C, h', w')
    sep = 2 if factor > 1 else 1
    th, tw = h * factor, w * factor
    k = copies + 1
    # an extra separator after the original column sets it apart from its copies
    canvas = np.full(
        (n * th + (n + 1) * sep, k * tw + (k + 2) * sep, c), _PREVIEW_SEPARATOR, dtype=np.uint8
    )
    for row in range(n):
        top = sep + row * (th + sep)
        for col in range(k):
            left = sep + col * (tw + sep) + (sep if col > 0 else 0)
            canvas[top : top + th, left : left + tw] = tiles[row, col].permute(1, 2, 0).numpy()
    return canvas[..., 0] if c == 1 else canvas


def preview_png(x: torch.Tensor, config: AugmentConfig, seed: int, copies: int = 8) -> bytes:
    """`preview_grid` encoded as PNG bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(preview_grid(x, config, seed, copies)).save(buffer, format="PNG")
    return buffer.getvalue()
