"""MiniRocket random convolutional kernels and a ridge model on their features, in PyTorch.

After Dempster, Schmidt & Webb (2021), "MiniRocket: a very fast (almost) deterministic
transform for time series classification" (KDD), itself a refinement of ROCKET (Dempster,
Petitjean & Webb 2020, Data Mining and Knowledge Discovery 34). Written for lernwerk from
the paper's description: the 84 fixed kernels of length 9 (weights -1, three of them 2),
dilations spaced exponentially up to the series' length, biases drawn from quantiles of
the convolution output of random training series, and one feature per bias: the
proportion of positive values (PPV). Multivariate series: each kernel and dilation sums
its convolution over a random subset of the channels (as the paper's multivariate
variant). Variable lengths: a series counts only its real steps (see `real_lengths`).

The features feed scikit-learn's `RidgeClassifierCV` (`RidgeCV` for regression) with
standardised inputs and alpha chosen by leave-one-out over `ALPHAS`, as the papers do.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lernwerk.errors import DataError

KERNEL_LENGTH = 9
# the 84 kernels: weight -1 everywhere and 2 at three of the nine positions
KERNEL_INDICES = tuple(itertools.combinations(range(KERNEL_LENGTH), 3))
NUM_KERNELS = len(KERNEL_INDICES)  # 84
NUM_FEATURES = 10_000  # asked for; 84 × (features per kernel) are made (9 996)
MAX_DILATIONS = 32  # per kernel
ALPHAS = np.logspace(-3, 3, 10)  # the ridge penalties leave-one-out chooses from
CHUNK_VALUES = 20_000_000  # convolution outputs per batch (N × C × 84 × T), for memory


def _weights() -> torch.Tensor:
    w = torch.full((NUM_KERNELS, 1, KERNEL_LENGTH), -1.0)
    for k, positions in enumerate(KERNEL_INDICES):
        w[k, 0, list(positions)] = 2.0
    return w  # (84, 1, 9); each kernel sums to 0


def real_lengths(x: torch.Tensor) -> torch.Tensor:
    """Each series' real steps (N,): the steps before its padding, where padding is the
    trailing run of steps equal (in every channel) to the last one, as lernwerk pads
    series of unequal length (`--length pad`: the last value repeated). A series that
    really ends on repeated values loses them, which changes a kernel's features little."""
    n, _, t = x.shape
    same = (x == x[..., -1:]).all(dim=1)  # (N, T): the step equals the last one
    differs = ~same
    # the last step that differs from the last one, +1 for it, +1 for the last step itself
    last = torch.where(
        differs.any(dim=1),
        t - 1 - torch.flip(differs, dims=[1]).int().argmax(dim=1),
        torch.full((n,), -1, dtype=torch.long),
    )
    return (last + 2).clamp(min=1, max=t)  # (N,)


def _dilations(length: int, num_features: int) -> tuple[list[int], list[int]]:
    """Dilations spaced exponentially so that a kernel spans up to the whole series, and
    how many features (biases) each one gets per kernel."""
    per_kernel = max(num_features // NUM_KERNELS, 1)
    most = min(per_kernel, MAX_DILATIONS)
    multiplier = per_kernel / most
    top = math.log2(max(length - 1, 1) / (KERNEL_LENGTH - 1))
    spaced = np.floor(np.logspace(0, max(top, 0.0), most, base=2)).astype(np.int64)
    dilations, counts = np.unique(spaced, return_counts=True)
    features = (counts * multiplier).astype(np.int64)
    remainder, i = per_kernel - int(features.sum()), 0
    while remainder > 0:
        features[i] += 1
        remainder -= 1
        i = (i + 1) % len(features)
    return [int(d) for d in dilations], [int(f) for f in features]


def _quantiles(n: int) -> torch.Tensor:
    """A low-discrepancy sequence in (0, 1): the golden-ratio multiples mod 1."""
    phi = (math.sqrt(5) + 1) / 2
    return torch.tensor([(i * phi) % 1 for i in range(1, n + 1)], dtype=torch.float32)


@dataclass
class MiniRocket:
    """The fitted transform: dilations, per-dilation channel choices and biases."""

    channels: int
    length: int  # the padded length it was fitted on (T)
    dilations: list[int]
    features_per_dilation: list[int]
    channel_masks: list[torch.Tensor] = field(repr=False)  # per dilation (84, C) 0/1
    biases: list[torch.Tensor] = field(repr=False)  # per dilation (84, f)

    @property
    def num_features(self) -> int:
        return NUM_KERNELS * sum(self.features_per_dilation)

    @classmethod
    def fit(
        cls,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        *,
        num_features: int = NUM_FEATURES,
        seed: int = 0,
    ) -> MiniRocket:
        """Choose dilations from the series' length, channel subsets and biases from the
        training series `x` (N, C, T), whose real steps are `lengths` (N,)."""
        if x.ndim != 3 or len(x) == 0:
            raise DataError(
                f"MiniRocket takes series shaped (N, channels, steps); received {tuple(x.shape)}",
                where="x",
            )
        n, c, t = x.shape
        x = x.float()
        lengths = real_lengths(x) if lengths is None else lengths
        x = _zero_after(x, lengths)
        rng = np.random.default_rng(seed)
        dilations, per_dilation = _dilations(t, num_features)
        quantiles = _quantiles(NUM_KERNELS * sum(per_dilation))
        weights = _weights()
        masks, biases, start = [], [], 0
        most = min(c, KERNEL_LENGTH)
        for dilation, f in zip(dilations, per_dilation, strict=True):
            # channels per kernel: 2^U(0, log2(most + 1)), floored, as the paper's variant
            counts = np.floor(2 ** rng.uniform(0, math.log2(most + 1), NUM_KERNELS))
            mask = torch.zeros(NUM_KERNELS, c)
            for k, m in enumerate(counts.astype(int)):
                mask[k, rng.choice(c, size=max(1, min(m, c)), replace=False)] = 1.0
            examples = rng.integers(0, n, NUM_KERNELS)  # a random training series per kernel
            # kernel k on its own example's channels: one group per (kernel, channel)
            pad = (KERNEL_LENGTH - 1) * dilation // 2
            picked = F.conv1d(
                x[examples].reshape(1, NUM_KERNELS * c, t),
                weights.repeat_interleave(c, dim=0),  # (84 C, 1, 9)
                padding=pad,
                dilation=dilation,
                groups=NUM_KERNELS * c,
            ).reshape(NUM_KERNELS, c, -1)[..., :t]  # (84, C, T)
            summed = (picked * mask[:, :, None]).sum(1)  # (84, T)
            q = quantiles[start : start + NUM_KERNELS * f].reshape(NUM_KERNELS, f)
            b = torch.empty(NUM_KERNELS, f)
            for k in range(NUM_KERNELS):
                real = summed[k, : int(lengths[examples[k]])]
                b[k] = torch.quantile(real, q[k])
            masks.append(mask)
            biases.append(b)
            start += NUM_KERNELS * f
        return cls(c, t, dilations, per_dilation, masks, biases)

    def transform(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> np.ndarray:
        """The PPV features (N, 84 × Σ f) of series `x` (N, C, T) with real steps `lengths`."""
        if x.ndim != 3 or x.shape[1] != self.channels:
            raise DataError(
                f"expected series shaped (N, {self.channels}, steps) as the kernels were fitted "
                f"on; received {tuple(x.shape)}",
                where="x",
            )
        x = x.float()
        lengths = real_lengths(x) if lengths is None else lengths
        x = _zero_after(x, lengths)
        t = x.shape[-1]
        steps = torch.arange(t)
        weights = _weights()
        parts = []
        for d_index, (dilation, mask, b) in enumerate(
            zip(self.dilations, self.channel_masks, self.biases, strict=True)
        ):
            pad = (KERNEL_LENGTH - 1) * dilation // 2
            full = steps[None, :] < lengths[:, None]  # (N, T)
            inner = full & (steps[None, :] >= pad) & (steps[None, :] < lengths[:, None] - pad)
            inner = torch.where(inner.any(1, keepdim=True), inner, full)  # too short: all
            # alternate kernels count only the steps the padding does not reach (the paper's)
            unpadded = (torch.arange(NUM_KERNELS) + d_index) % 2 == 1  # (84,)
            counts = torch.where(unpadded[None, :], inner.sum(1, keepdim=True), lengths[:, None])
            batch = max(1, CHUNK_VALUES // (NUM_KERNELS * t * self.channels))
            out = []
            for i in range(0, len(x), batch):
                conv = _convolve(x[i : i + batch], weights, dilation)  # (n, C, 84, T)
                summed = torch.einsum("nckt,kc->nkt", conv, mask)  # (n, 84, T)
                valid = torch.where(
                    unpadded[None, :, None], inner[i : i + batch, None], full[i : i + batch, None]
                )  # (n, 84, T)
                # PPV by counting: the steps above each bias in the sorted outputs
                masked = summed.masked_fill(~valid, -math.inf).numpy()
                ranked = torch.from_numpy(np.sort(masked, axis=-1))  # NumPy's: 5x torch's here
                above = t - torch.searchsorted(
                    ranked, b.expand(len(ranked), -1, -1).contiguous(), right=True
                )  # (n, 84, f)
                out.append(above / counts[i : i + batch, :, None])  # (n, 84, f)
            parts.append(torch.cat(out).reshape(len(x), -1))
        return torch.cat(parts, dim=1).numpy()  # (N, F)


def _zero_after(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Zeros beyond each series' real steps (the kernels sum to 0: zero padding)."""
    keep = torch.arange(x.shape[-1])[None, :] < lengths[:, None]  # (N, T)
    return x * keep[:, None, :]


def _convolve(x: torch.Tensor, weights: torch.Tensor, dilation: int) -> torch.Tensor:
    """Each channel with each kernel, zero-padded to the same length: (N, C, T) -> (N, C, 84, T)."""
    n, c, t = x.shape
    pad = (KERNEL_LENGTH - 1) * dilation // 2
    out = F.conv1d(x.reshape(n * c, 1, t), weights, padding=pad, dilation=dilation)
    return out.reshape(n, c, NUM_KERNELS, -1)[..., :t]


@dataclass
class RocketModel:
    """MiniRocket features and the ridge model fitted on them; `predict` takes raw series."""

    transform: MiniRocket
    model: Any  # scikit-learn pipeline: StandardScaler, RidgeClassifierCV or RidgeCV
    classify: bool
    classes: np.ndarray | None  # the class indices seen in training (classification)
    n_classes: int

    def predict(self, x: torch.Tensor) -> np.ndarray:
        """(N, C) class probabilities (a softmax of the ridge scores) or (N,) values."""
        return self.predict_features(self.transform.transform(x))

    def predict_features(self, features: np.ndarray) -> np.ndarray:
        if not self.classify:
            return self.model.predict(features)
        scores = self.model.decision_function(features)
        if scores.ndim == 1:  # two classes: the score of the second
            scores = np.stack([np.zeros_like(scores), scores], axis=1)
        scores = scores - scores.max(1, keepdims=True)
        exp = np.exp(scores)
        probs = exp / exp.sum(1, keepdims=True)  # (N, seen)
        assert self.classes is not None
        out = np.zeros((len(features), self.n_classes), dtype=np.float64)
        out[:, self.classes] = probs
        return out

    @property
    def alpha(self) -> float:
        return float(self.model[-1].alpha_)


def fit_rocket(
    x: torch.Tensor,
    y: np.ndarray,
    *,
    classify: bool,
    n_classes: int = 0,
    seed: int = 0,
    num_features: int = NUM_FEATURES,
    features: np.ndarray | None = None,
    transform: MiniRocket | None = None,
) -> RocketModel:
    """Fit MiniRocket on the training series `x` (N, C, T) and a ridge model with
    leave-one-out alpha on their features against `y` (class indices or values).

    Raises:
        DataError: fewer than two classes to tell apart, or no series.
    """
    from sklearn.linear_model import RidgeClassifierCV, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if transform is None:
        transform = MiniRocket.fit(x, num_features=num_features, seed=seed)
    if features is None:
        features = transform.transform(x)
    seen = None
    if classify:
        seen = np.unique(y)
        if len(seen) < 2:
            raise DataError("the ridge classifier needs two classes in the training series")
        ridge = RidgeClassifierCV(alphas=ALPHAS)
    else:
        ridge = RidgeCV(alphas=ALPHAS)
    model = make_pipeline(StandardScaler(), ridge).fit(features, y)
    return RocketModel(transform, model, classify, seen, n_classes)
