"""Train / validation / test splits: stratified, seeded, disjoint and covering."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lernwerk.errors import DataError, SpecError


@dataclass(frozen=True, eq=False)
class Splits:
    """Sample indices of the three splits, each an int64 tensor sorted ascending."""

    train: torch.Tensor  # (N_train,) int64
    val: torch.Tensor  # (N_val,) int64, may be empty
    test: torch.Tensor  # (N_test,) int64, may be empty

    def sizes(self) -> dict[str, int]:
        """Number of samples in each split."""
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def make_splits(
    y: torch.Tensor,
    task: str,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    seed: int = 0,
    test_index: torch.Tensor | None = None,
) -> Splits:
    """Split sample indices into train, validation and test.

    Classification splits are stratified: every class gets its share of each split,
    rounded to within one sample, and a class with at least 3 samples appears in every
    non-empty split. Regression splits are a seeded random partition.

    Args:
        y: Labels, (N,). Class indices for classification, values for regression.
        task: "classification" or "regression".
        val_fraction: Share of all samples for validation, 0 <= f < 1; with a fixed
            `test_index`, the share of the samples outside it.
        test_fraction: Share of all samples for test, 0 <= f < 1; ignored when
            `test_index` is given.
        seed: Seed of the shuffle; the same seed gives the same splits.
        test_index: A fixed test split that ships with the data; validation is then
            carved from the remaining samples.

    Raises:
        SpecError: A fraction is out of range, or they sum to 1 or more.
        DataError: `test_index` is not a set of valid sample indices.
    """
    _check_fraction("val_split", val_fraction)
    _check_fraction("test_split", test_fraction)
    if test_index is None and val_fraction + test_fraction >= 1:
        raise SpecError(
            f"val_split + test_split must be less than 1 to leave samples for training; "
            f"received: {val_fraction} + {test_fraction}",
            where="val_split",
        )
    labels = y.detach().cpu().numpy()  # (N,), or (N, K) regression targets
    labels = labels[:, 0] if labels.ndim == 2 else labels.reshape(-1)
    n = len(labels)
    if test_index is None:
        pool, fixed_test = np.arange(n), None
    else:
        fixed_test = _check_test_index(test_index, n)
        pool = np.setdiff1d(np.arange(n), fixed_test)  # (N - N_test,) sorted
    # One group per class when stratified, else a single group of all samples.
    if task == "classification":
        groups = [pool[labels[pool] == c] for c in np.unique(labels[pool])]
    else:
        groups = [pool]
    counts = np.array([len(g) for g in groups], dtype=np.int64)  # (K,)
    rng = np.random.default_rng(seed)
    test_sizes = _allocate(counts, 0 if fixed_test is not None else _round(n * test_fraction), rng)
    # With a fixed test split, validation is a share of the samples left for training:
    # GunPoint's 50 + 150 at val_split 0.2 gives 10 for validation, not 40 of the 50.
    val_sizes = _allocate(counts, _round(len(pool) * val_fraction), rng)
    train, val, test = [pool[:0]], [pool[:0]], [pool[:0]]
    for members, n_test, n_val in zip(groups, test_sizes, val_sizes, strict=True):
        members = rng.permutation(members)
        # Keep at least one sample of every group for training.
        while n_test + n_val > max(len(members) - 1, 0):
            if n_test >= n_val:
                n_test -= 1
            else:
                n_val -= 1
        test.append(members[:n_test])
        val.append(members[n_test : n_test + n_val])
        train.append(members[n_test + n_val :])
    if fixed_test is not None:
        test = [fixed_test]
    splits = Splits(train=_as_index(train), val=_as_index(val), test=_as_index(test))
    if len(splits.train) == 0:
        raise DataError(f"no samples left for training out of {n}; use more data", where="split")
    return splits


def make_time_splits(
    n: int, val_fraction: float = 0.2, test_fraction: float = 0.2, gap: int = 0
) -> Splits:
    """Split samples that follow each other in time: train first, then val, then test.

    Nothing is shuffled. `gap` samples are dropped before the validation and before the
    test split, so that no training target reaches into the time that validation or
    test predict (for forecast windows: horizon − 1 windows at a stride of one).

    Raises:
        SpecError: A fraction is out of range, or they sum to 1 or more.
        DataError: Nothing is left for training.
    """
    _check_fraction("val_split", val_fraction)
    _check_fraction("test_split", test_fraction)
    if val_fraction + test_fraction >= 1:
        raise SpecError(
            f"val_split + test_split must be less than 1 to leave samples for training; "
            f"received: {val_fraction} + {test_fraction}",
            where="val_split",
        )
    n_test, n_val = _round(n * test_fraction), _round(n * val_fraction)
    test_start = n - n_test
    val_end = test_start - gap if n_test else n
    val_start = val_end - n_val
    train_end = val_start - gap if n_val else val_start
    if train_end < 1 or val_start < 0:
        raise DataError(
            f"no samples left for training out of {n} (with gaps of {gap}); use a longer "
            "series, a shorter horizon or smaller val_split/test_split",
            where="split",
        )
    return Splits(
        train=torch.arange(0, train_end, dtype=torch.int64),
        val=torch.arange(val_start, val_end, dtype=torch.int64),
        test=torch.arange(test_start, n, dtype=torch.int64),
    )


def _round(value: float) -> int:
    # Half up, unlike round()'s half to even, so 0.5 * 5 gives 3 as a reader expects.
    return int(np.floor(value + 0.5))


def _allocate(counts: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Share `total` samples among groups of `counts` samples, in proportion to their size."""
    if total == 0 or counts.sum() == 0:
        return np.zeros_like(counts)
    # Largest-remainder rounding: every group gets the floor or ceil of its exact share
    # and the sizes add up to `total`; ties are broken at random (seeded).
    exact = counts * (total / counts.sum())  # (K,)
    sizes = np.floor(exact).astype(np.int64)
    order = np.lexsort((rng.permutation(len(counts)), sizes - exact))
    sizes[order[: total - sizes.sum()]] += 1
    # A class of 3 or more samples shows up in every split that is not empty.
    sizes[(sizes == 0) & (counts >= 3)] = 1
    return sizes


def _check_fraction(field: str, value: float) -> None:
    if not 0 <= value < 1:
        raise SpecError(
            f"{field} must be at least 0 and less than 1; received: {value}", where=field
        )


def _check_test_index(test_index: torch.Tensor, n: int) -> np.ndarray:
    index = test_index.detach().cpu().numpy().reshape(-1).astype(np.int64)
    if len(index) and (index.min() < 0 or index.max() >= n):
        raise DataError(f"test_index must lie in [0, {n}); received values up to {index.max()}")
    unique = np.unique(index)  # sorted
    if len(unique) != len(index):
        raise DataError("test_index contains duplicate sample indices", where="test_index")
    return unique


def _as_index(parts: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.sort(np.concatenate(parts)).astype(np.int64))
