"""The order the loop visits training samples in: a shuffle, or class-balanced draws.

Both index the tensors already on the device (no DataLoader) and draw from the trainer's
seeded generator, so a run and its resume see the same batches.
"""

from __future__ import annotations

import torch

# When the largest class has at least this many times the samples of the smallest, the
# default is to balance (the rule `defaults.default_balanced_sampling` states).
SKEW_RATIO = 1.5


def balanced_weights(y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(N,) float64 draw probabilities that give every present class the same share."""
    y = y.detach().cpu().long()
    counts = torch.bincount(y, minlength=num_classes).double()  # (K,)
    present = int((counts > 0).sum())
    weights = 1.0 / counts.clamp(min=1)[y]  # (N,) each class sums to 1
    return weights / max(present, 1)


def is_skewed(y: torch.Tensor, num_classes: int) -> bool:
    """Whether the largest class holds at least `SKEW_RATIO` times the smallest present one."""
    counts = torch.bincount(y.detach().cpu().long(), minlength=num_classes)
    counts = counts[counts > 0]
    return len(counts) > 1 and int(counts.max()) >= SKEW_RATIO * int(counts.min())


def epoch_order(
    n: int, generator: torch.Generator, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """(n,) int64 sample indices for one epoch: a permutation, or n draws with replacement
    in proportion to `weights` (class-balanced sampling)."""
    if weights is None:
        return torch.randperm(n, generator=generator)
    return torch.multinomial(weights, n, replacement=True, generator=generator)
