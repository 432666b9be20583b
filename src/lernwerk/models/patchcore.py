"""PatchCore: anomaly detection on images from normal samples only (Roth et al. 2022,
"Towards Total Recall in Industrial Anomaly Detection").

Each image is resized to the backbone's scale (`input_size`, 224 by default: the scale its
ImageNet weights were trained at) and cut into patches by the backbone's stages: every
position of their feature maps, averaged over its 3×3 neighbourhood and the deeper map
upsampled to the shallower one, is one patch's feature vector. "Training" is one pass over
the normal images that collects their patches; a greedy coreset (k-center greedy on a random
projection) keeps a share of them as the memory bank. A new image's patches are scored by
their distance to the nearest patch(es) of the bank, and the anomaly map is the patch
distances upsampled to the image; the image's score is its most distant patch.

With `image_score`, the whole image's pooled embedding is compared too: its distance to the
nearest training image is added to every patch's. Each distance is divided by its spread on
the normal training images (patches: the mean of each image's largest distance to the bank;
images: the mean distance to the nearest other training image), so neither term swamps the
other. Defects that change a whole part (too much or too little solder) show up more in the
image's embedding than in any one patch.

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

from lernwerk.models.pretrained import (
    FEATURES,
    IMAGENET_SIZE,
    MIN_SIZE,
    STAGE_CHANNELS,
    _flops,
    check_backbone_input,
    embed,
    feature_maps,
)
from lernwerk.models.registry import (
    BuildContext,
    Built,
    LayerMisfit,
    LayerType,
    Shape,
    _Params,
    register,
)

PROJECTION_DIMS = 128  # the coreset's distances are taken on a random projection this wide
DISTANCE_CHUNK = 4096  # query patches compared with the bank at once

FeatureFn = Callable[[torch.Tensor, list[str]], dict[str, torch.Tensor]]
EmbedFn = Callable[[torch.Tensor], torch.Tensor]


def resized_size(h: int, w: int, input_size: int | None) -> tuple[int, int]:
    """(H, W) an h × w image is resized to: its shorter side `input_size`, the aspect kept;
    unchanged for None."""
    if not input_size:
        return h, w
    scale = input_size / min(h, w)
    return max(input_size, round(h * scale)), max(input_size, round(w * scale))


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


def _spread(values: torch.Tensor) -> torch.Tensor:
    """The mean of `values` as a scale, 1 where it is not positive (nothing to divide by)."""
    m = values.float().mean() if len(values) else torch.tensor(0.0)
    return m if m > 1e-8 else torch.tensor(1.0)


class PatchCoreModule(nn.Module):
    """Patch features -> memory bank -> an anomaly map (N, 1, H, W) per image.

    In training mode `memorize` collects patches; the bank is chosen from them (`finish`)
    before the first forward in eval mode or the first save, whichever comes first.
    Inputs are images in [0, 1] (the preset's `preprocessing` leaves them so); they are
    resized to `input_size` (the shorter side) first; the backbone applies its own scaling.
    With `embedding` (images -> (N, E)), the image-level distance is added (module docstring).
    """

    def __init__(
        self,
        stages: list[str],
        dims: int,
        coreset: float,
        neighbours: int,
        features: FeatureFn | None = None,
        seed: int = 0,
        *,
        input_size: int | None = None,
        embedding: EmbedFn | None = None,
        embedding_dims: int = 0,
    ) -> None:
        super().__init__()
        self.stages, self.coreset, self.neighbours, self.seed = (
            list(stages),
            coreset,
            neighbours,
            seed,
        )
        self.features = features or _pretrained_features
        self.input_size, self.embedding = input_size, embedding
        self.register_buffer("bank", torch.zeros(0, dims))  # (M, D) the memory bank
        # (K, E) the training images' embeddings; (2,) the patch and the image distances' spread
        self.register_buffer("images", torch.zeros(0, embedding_dims if embedding else 0))
        self.register_buffer("spread", torch.ones(2))
        self._pending: list[torch.Tensor] = []
        self._pending_images: list[torch.Tensor] = []
        self._grid = 0  # patches per image of the batches collected

    def resize(self, x: torch.Tensor) -> torch.Tensor:
        """The images at the backbone's scale: the shorter side `input_size` (bilinear)."""
        size = resized_size(x.shape[-2], x.shape[-1], self.input_size)
        if size == tuple(x.shape[-2:]):
            return x
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False).clamp(0, 1)

    def patch_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, D, h, w): each patch's features, its 3×3 neighbourhood averaged, the deeper
        stages upsampled to the first stage's grid (x already resized)."""
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
        x = self.resize(x)
        f = self.patch_features(x)
        self._grid = f.shape[-2] * f.shape[-1]
        self._pending.append(f.permute(0, 2, 3, 1).reshape(-1, f.shape[1]).cpu())  # (N·h·w, D)
        if self.embedding is not None:
            self._pending_images.append(self.embedding(x).float().cpu())  # (N, E)

    def finish(self) -> None:
        """Choose the bank from the patches collected: the coreset of `coreset` of them; with
        an embedding, keep the images' embeddings and measure both distances' spread."""
        if not self._pending:
            return
        patches = torch.cat(self._pending)
        self._pending = []
        keep = greedy_coreset(patches, math.ceil(self.coreset * len(patches)), seed=self.seed)
        self.bank = patches[keep].to(self.bank.device)
        if self.embedding is None or not self._pending_images:
            return
        images = torch.cat(self._pending_images)  # (K, E)
        self._pending_images = []
        largest = nearest_distances(patches, self.bank.cpu(), self.neighbours)
        largest = largest.reshape(-1, self._grid).amax(dim=1)  # (K,) each image's worst patch
        others = torch.cdist(images, images).fill_diagonal_(float("inf"))  # (K, K)
        nearest = others.amin(dim=1)
        self.images = images.to(self.bank.device)
        self.spread = torch.stack([_spread(largest), _spread(nearest[nearest.isfinite()])]).to(
            self.bank.device
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            self.finish()
        n, _, height, width = x.shape
        if len(self.bank) == 0:  # nothing memorised yet: no patch stands out
            return x.new_zeros(n, 1, height, width)
        x = self.resize(x)
        f = self.patch_features(x)  # (N, D, h, w)
        h, w = f.shape[-2:]
        queries = f.permute(0, 2, 3, 1).reshape(-1, f.shape[1])
        d = nearest_distances(queries, self.bank, self.neighbours).reshape(n, 1, h, w)
        if self.embedding is not None and len(self.images):
            whole = nearest_distances(self.embedding(x).float(), self.images)  # (N,)
            d = d / self.spread[0] + (whole / self.spread[1]).reshape(n, 1, 1, 1).to(d)
        return F.interpolate(d, size=(height, width), mode="bilinear", align_corners=False)

    def _save_to_state_dict(self, destination, prefix, keep_vars):  # type: ignore[no-untyped-def]
        self.finish()
        super()._save_to_state_dict(destination, prefix, keep_vars)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # type: ignore[no-untyped-def]
        bank = state_dict.get(prefix + "bank")
        if bank is not None:  # the bank's size is the data's, not the spec's
            self.bank = torch.empty_like(bank, device=self.bank.device)
            # a run stored before the image-level distance: patches alone, as it scored then
            state_dict.setdefault(prefix + "images", torch.zeros(0, self.images.shape[1]))
            state_dict.setdefault(prefix + "spread", torch.ones(2))
        images = state_dict.get(prefix + "images")
        if images is not None:
            self.images = torch.empty_like(images, device=self.images.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


# ---------------------------------------------------------------------------- the layer type

STAGE_STRIDES = dict(zip(STAGE_CHANNELS, (2, 4, 8, 16, 16, 32, 32), strict=True))
ANOMALY_MAP = "anomaly_map"  # the output activation that says: the output is an anomaly map


class PatchCoreParams(_Params):
    stages: list[str] = Field(
        default_factory=lambda: ["stage7"],
        description="the backbone's stages whose feature maps make the patches, "
        "stage1 (stride 2) to stage7 (stride 32); the first sets the patch grid",
    )
    coreset: float = Field(
        0.25, gt=0, le=1, description="share of the training patches kept in the memory bank"
    )
    neighbours: int = Field(
        3, ge=1, description="a patch's distance is the mean over this many nearest in the bank"
    )
    input_size: int | None = Field(
        IMAGENET_SIZE,
        ge=MIN_SIZE,
        description="images are resized so their shorter side is this many pixels before the "
        "backbone (224: the scale of its ImageNet weights); null keeps their size",
    )
    image_score: bool = Field(
        True,
        description="add the whole image's embedding distance to the nearest training image "
        "to every patch's distance, each divided by its spread on the training images",
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
        _, h, w = check_backbone_input(shape, self.name)
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
        module = PatchCoreModule(
            p.stages,
            dims,
            p.coreset,
            p.neighbours,
            input_size=p.input_size,
            embedding=embed if p.image_score else None,
            embedding_dims=FEATURES,
        )
        rh, rw = resized_size(h, w, p.input_size)  # what the backbone sees
        stride = STAGE_STRIDES[p.stages[0]]
        patches = math.ceil(rh / stride) * math.ceil(rw / stride)
        flops = _flops(rh, rw) + 2 * dims * patches
        if p.image_score:  # the embedding's own pass and its distance
            flops += _flops(rh, rw) + 2 * FEATURES
        return Built(module, (1, h, w), flops)
