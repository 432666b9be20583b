"""PatchCore: anomaly detection on images from normal samples only (Roth et al. 2022,
"Towards Total Recall in Industrial Anomaly Detection").

Each image is cut into patches by a pretrained backbone's middle stages: every position of
their feature maps, averaged over its 3×3 neighbourhood and the deeper map upsampled to the
shallower one, is one patch's feature vector. "Training" is one pass over the normal images
that collects their patches; a greedy coreset (k-center greedy on a random projection) keeps
a share of them as the memory bank. A new image's patches are scored by their distance to
the nearest patch(es) of the bank; the image's score is its most distant patch, and the
anomaly map is the patch distances upsampled to the image.

The bank is a buffer of the module: it travels in the run's safetensors, so a stored run
scores new images after a reload.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from lernwerk.models.pretrained import MIN_SIZE, STAGE_CHANNELS, _flops, feature_maps
from lernwerk.models.registry import (
    BuildContext,
    Built,
    LayerMisfit,
    LayerType,
    Shape,
    _expect_dims,
    _Params,
    register,
)

PROJECTION_DIMS = 128  # the coreset's distances are taken on a random projection this wide
DISTANCE_CHUNK = 4096  # query patches compared with the bank at once

FeatureFn = Callable[[torch.Tensor, list[str]], dict[str, torch.Tensor]]


def greedy_coreset(
    features: torch.Tensor, n: int, *, projection_dims: int = PROJECTION_DIMS, seed: int = 0
) -> torch.Tensor:
    """Indices (n,) of `n` rows of `features` (M, D) chosen by k-center greedy selection:
    each new row is the one farthest from the rows chosen so far, measured on a random
    projection to `projection_dims` dimensions (Johnson-Lindenstrauss), as PatchCore does."""
    m = len(features)
    n = max(1, min(n, m))
    g = torch.Generator().manual_seed(seed)
    x = features.float()
    if x.shape[1] > projection_dims:
        w = torch.randn(x.shape[1], projection_dims, generator=g) / math.sqrt(projection_dims)
        x = x @ w.to(x.device)  # (M, d)
    first = int(torch.randint(m, (1,), generator=g))
    chosen = torch.empty(n, dtype=torch.long)
    chosen[0] = first
    nearest = torch.linalg.vector_norm(x - x[first], dim=1)  # (M,) distance to the chosen set
    for i in range(1, n):
        far = int(torch.argmax(nearest))
        chosen[i] = far
        nearest = torch.minimum(nearest, torch.linalg.vector_norm(x - x[far], dim=1))
    return chosen


def nearest_distances(queries: torch.Tensor, bank: torch.Tensor, k: int = 1) -> torch.Tensor:
    """(Q,) each query row's mean Euclidean distance to its `k` nearest rows of `bank`."""
    k = max(1, min(k, len(bank)))
    out = []
    for i in range(0, len(queries), DISTANCE_CHUNK):
        d = torch.cdist(queries[i : i + DISTANCE_CHUNK].float(), bank.float())  # (q, M)
        out.append(d.topk(k, dim=1, largest=False).values.mean(dim=1))
    return torch.cat(out) if out else torch.empty(0)


def _pretrained_features(x: torch.Tensor, names: list[str]) -> dict[str, torch.Tensor]:
    return feature_maps(x, tuple(names))


class PatchCoreModule(nn.Module):
    """Patch features -> memory bank -> an anomaly map (N, 1, H, W) per image.

    In training mode `memorize` collects patches; the bank is chosen from them (`finish`)
    before the first forward in eval mode or the first save, whichever comes first.
    Inputs are images in [0, 1] (the preset's `preprocessing` leaves them so); the
    backbone applies its own scaling.
    """

    def __init__(
        self,
        stages: list[str],
        dims: int,
        coreset: float,
        neighbours: int,
        features: FeatureFn | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.stages, self.coreset, self.neighbours, self.seed = (
            list(stages),
            coreset,
            neighbours,
            seed,
        )
        self.features = features or _pretrained_features
        self.register_buffer("bank", torch.zeros(0, dims))  # (M, D) the memory bank
        self._pending: list[torch.Tensor] = []

    def patch_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, D, h, w): each patch's features, its 3×3 neighbourhood averaged, the deeper
        stages upsampled to the first stage's grid."""
        maps = self.features(x, self.stages)
        size = maps[self.stages[0]].shape[-2:]
        parts = []
        for name in self.stages:
            m = F.avg_pool2d(maps[name].float(), 3, 1, 1, count_include_pad=False)
            if m.shape[-2:] != size:
                m = F.interpolate(m, size=size, mode="bilinear", align_corners=False)
            parts.append(m)
        return torch.cat(parts, dim=1)

    @torch.no_grad()
    def memorize(self, x: torch.Tensor) -> None:
        """Collect the patches of a batch of normal images for the bank."""
        f = self.patch_features(x)
        self._pending.append(f.permute(0, 2, 3, 1).reshape(-1, f.shape[1]).cpu())  # (N·h·w, D)

    def finish(self) -> None:
        """Choose the bank from the patches collected: the coreset of `coreset` of them."""
        if not self._pending:
            return
        patches = torch.cat(self._pending)
        self._pending = []
        keep = greedy_coreset(patches, math.ceil(self.coreset * len(patches)), seed=self.seed)
        self.bank = patches[keep].to(self.bank.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            self.finish()
        n, _, height, width = x.shape
        if len(self.bank) == 0:  # nothing memorised yet: no patch stands out
            return x.new_zeros(n, 1, height, width)
        f = self.patch_features(x)  # (N, D, h, w)
        h, w = f.shape[-2:]
        queries = f.permute(0, 2, 3, 1).reshape(-1, f.shape[1])
        d = nearest_distances(queries, self.bank, self.neighbours).reshape(n, 1, h, w)
        return F.interpolate(d, size=(height, width), mode="bilinear", align_corners=False)

    def _save_to_state_dict(self, destination, prefix, keep_vars):  # type: ignore[no-untyped-def]
        self.finish()
        super()._save_to_state_dict(destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # type: ignore[no-untyped-def]
        bank = state_dict.get(prefix + "bank")
        if bank is not None:  # the bank's size is the data's, not the spec's
            self.bank = torch.empty_like(bank, device=self.bank.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


# ---------------------------------------------------------------------------- the layer type

STAGE_STRIDES = dict(zip(STAGE_CHANNELS, (2, 4, 8, 16, 16, 32, 32), strict=True))
ANOMALY_MAP = "anomaly_map"  # the output activation that says: the output is an anomaly map


class PatchCoreParams(_Params):
    stages: list[str] = Field(
        default_factory=lambda: ["stage2", "stage3"],
        description="the backbone's stages whose feature maps make the patches, "
        "stage1 (stride 2) to stage7 (stride 32); the first sets the patch grid",
    )
    coreset: float = Field(
        0.1, gt=0, le=1, description="share of the training patches kept in the memory bank"
    )
    neighbours: int = Field(
        1, ge=1, description="a patch's distance is the mean over this many nearest in the bank"
    )


@register
class PatchCore(LayerType):
    name = "PatchCore"
    Params = PatchCoreParams
    description = (
        "anomaly detector: pretrained patch features, a memory bank of normal patches, "
        "an anomaly map of each patch's distance to it"
    )

    def build(self, p: PatchCoreParams, shape: Shape, ctx: BuildContext) -> Built:
        _expect_dims(shape, 3, "an image input (C, H, W)", "PatchCore works on images")
        c, h, w = shape
        if c not in (1, 3):
            raise LayerMisfit(f"expects grayscale or RGB images (1 or 3 channels); received {c}")
        if min(h, w) < MIN_SIZE:
            raise LayerMisfit(
                f"the pretrained backbone needs images of at least {MIN_SIZE}×{MIN_SIZE}; "
                f"received {h}×{w}: use larger images"
            )
        unknown = [s for s in p.stages if s not in STAGE_CHANNELS]
        if unknown or not p.stages:
            raise LayerMisfit(
                f"stages: unknown {', '.join(unknown) or '(none given)'}; "
                f"expected some of {', '.join(STAGE_CHANNELS)}"
            )
        if not ctx.is_last:
            raise LayerMisfit("PatchCore gives the anomaly map: it must be the last layer")
        ctx.output_activation = ANOMALY_MAP
        dims = sum(STAGE_CHANNELS[s] for s in p.stages)
        module = PatchCoreModule(p.stages, dims, p.coreset, p.neighbours)
        stride = STAGE_STRIDES[p.stages[0]]
        patches = math.ceil(h / stride) * math.ceil(w / stride)
        return Built(module, (1, h, w), _flops(h, w) + 2 * dims * patches)
