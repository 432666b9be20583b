"""Splits: stratified, seeded, disjoint, covering, with a fixed test split honoured."""

import numpy as np
import pytest
import torch

from lernwerk.data import make_splits
from lernwerk.errors import DataError, SpecError


def _labels(counts: list[int], seed: int = 0) -> torch.Tensor:
    y = np.concatenate([np.full(n, c) for c, n in enumerate(counts)])
    return torch.from_numpy(np.random.default_rng(seed).permutation(y)).long()  # (N,)


def _assert_partition(splits, n: int) -> None:
    parts = [splits.train, splits.val, splits.test]
    joined = torch.cat(parts)
    assert len(joined) == n
    assert torch.equal(torch.sort(joined).values, torch.arange(n))  # disjoint and covering
    for part in parts:
        assert part.dtype == torch.int64
        assert torch.equal(part, torch.sort(part).values)


@pytest.mark.parametrize("counts", [[500, 500], [700, 200, 100], [37, 5, 3, 1001, 12]])
@pytest.mark.parametrize(("val", "test"), [(0.2, 0.2), (0.1, 0.3), (0.0, 0.25), (0.15, 0.0)])
def test_stratified_within_one_sample_per_class(counts, val, test):
    y = _labels(counts)
    splits = make_splits(y, "classification", val, test, seed=3)
    _assert_partition(splits, len(y))
    for part, fraction in ((splits.val, val), (splits.test, test)):
        per_class = torch.bincount(y[part], minlength=len(counts))
        for c, n in enumerate(counts):
            expected = n * fraction
            if fraction > 0 and n >= 3:
                expected = max(expected, 1)
            assert abs(int(per_class[c]) - expected) <= 1, (c, int(per_class[c]), expected)


def test_sizes_add_up_and_follow_the_fractions():
    splits = make_splits(_labels([600, 400]), "classification", 0.2, 0.1, seed=0)
    assert splits.sizes() == {"train": 700, "val": 200, "test": 100}


def test_small_classes_appear_in_every_split():
    y = _labels([3, 4, 200])
    splits = make_splits(y, "classification", 0.1, 0.1, seed=1)
    _assert_partition(splits, len(y))
    for part in (splits.train, splits.val, splits.test):
        assert set(y[part].tolist()) == {0, 1, 2}


def test_a_class_of_one_sample_stays_in_train():
    y = _labels([1, 2, 100])
    splits = make_splits(y, "classification", 0.3, 0.3, seed=0)
    _assert_partition(splits, len(y))
    assert set(y[splits.train].tolist()) == {0, 1, 2}


def test_same_seed_same_splits_other_seed_other_splits():
    y = _labels([300, 200])
    a = make_splits(y, "classification", seed=7)
    b = make_splits(y, "classification", seed=7)
    c = make_splits(y, "classification", seed=8)
    for name in ("train", "val", "test"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert not torch.equal(a.test, c.test)


def test_regression_split_is_a_seeded_partition():
    y = torch.randn(103)
    splits = make_splits(y, "regression", 0.2, 0.2, seed=0)
    _assert_partition(splits, 103)
    assert splits.sizes() == {"train": 61, "val": 21, "test": 21}


def test_fixed_test_index_is_the_test_split():
    y = _labels([100, 100])
    test_index = torch.arange(150, 200)
    splits = make_splits(y, "classification", 0.25, 0.4, seed=0, test_index=test_index)
    _assert_partition(splits, 200)
    assert torch.equal(splits.test, test_index)
    assert len(splits.val) == 38  # a quarter of the 150 samples outside the test split
    rest_counts = torch.bincount(y[:150], minlength=2)
    val_counts = torch.bincount(y[splits.val], minlength=2)
    for c in range(2):
        assert abs(int(val_counts[c]) - int(rest_counts[c]) * 38 / 150) <= 1


def test_bad_test_index_is_a_data_error():
    y = _labels([10, 10])
    with pytest.raises(DataError, match="test_index must lie in"):
        make_splits(y, "classification", test_index=torch.tensor([0, 25]))
    with pytest.raises(DataError, match="duplicate"):
        make_splits(y, "classification", test_index=torch.tensor([1, 1]))


@pytest.mark.parametrize(
    ("val", "test", "field", "message"),
    [
        (-0.1, 0.2, "val_split", "val_split must be at least 0 and less than 1; received: -0.1"),
        (0.2, 1.0, "test_split", "test_split must be at least 0 and less than 1; received: 1.0"),
        (0.6, 0.4, "val_split", "val_split + test_split must be less than 1"),
    ],
)
def test_fraction_errors_name_the_field(val, test, field, message):
    with pytest.raises(SpecError) as info:
        make_splits(_labels([10, 10]), "classification", val, test)
    assert info.value.where == field
    assert message in str(info.value)
