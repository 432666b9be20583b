"""Class-balanced sampling and the defaults for sequence data."""

import pytest
import torch

from lernwerk.config import TrainConfig
from lernwerk.training import resolve_train_config
from lernwerk.training.sampling import balanced_weights, epoch_order, is_skewed

SKEWED = torch.tensor([0] * 90 + [1] * 9 + [2] * 1)  # 90 : 9 : 1


def test_balanced_draws_give_every_class_the_same_share() -> None:
    weights = balanced_weights(SKEWED, 3)
    assert weights.sum().item() == pytest.approx(1.0)
    drawn = torch.cat(
        [epoch_order(100, torch.Generator().manual_seed(s), weights) for s in range(200)]
    )
    shares = torch.bincount(SKEWED[drawn], minlength=3).double() / len(drawn)  # (3,)
    assert torch.allclose(shares, torch.full((3,), 1 / 3, dtype=torch.float64), atol=0.01)


def test_draws_are_seeded_and_a_plain_shuffle_is_a_permutation() -> None:
    weights = balanced_weights(SKEWED, 3)
    a = epoch_order(100, torch.Generator().manual_seed(3), weights)
    assert torch.equal(a, epoch_order(100, torch.Generator().manual_seed(3), weights))
    perm = epoch_order(100, torch.Generator().manual_seed(3))
    assert torch.equal(perm.sort().values, torch.arange(100))


def test_skew_rule() -> None:
    assert is_skewed(SKEWED, 3)
    assert not is_skewed(torch.tensor([0] * 10 + [1] * 14), 2)  # 1.4x
    assert is_skewed(torch.tensor([0] * 10 + [1] * 15), 2)  # 1.5x
    assert not is_skewed(torch.tensor([0] * 10 + [2] * 10), 3)  # an absent class is no skew


def test_balanced_sampling_default_follows_the_skew() -> None:
    def resolved(y: torch.Tensor, **given: object) -> bool:
        config = TrainConfig(**given)
        out = resolve_train_config(config, n_train=len(y), loss="x", y_train=y, num_classes=3)
        return out.balanced_sampling

    assert resolved(SKEWED) is True
    assert resolved(torch.tensor([0, 1, 2] * 10)) is False
    assert resolved(SKEWED, balanced_sampling=False) is False  # the user's word stands
    no_classes = resolve_train_config(TrainConfig(), n_train=10, loss="mse")
    assert no_classes.balanced_sampling is False


@pytest.mark.parametrize(
    ("kind", "n_val", "schedule", "patience"),
    [
        ("sequences", 200, "cosine", 50),  # 200 epochs -> a quarter
        ("sequences", 10, "cosine", 0),  # too few validation samples to stop on
        ("sequences", 0, "cosine", 0),
        ("images", 200, "constant", 0),
        ("table", 4_999, "constant", 0),  # below 5 000 validation samples: off
        ("table", 5_000, "constant", 3),  # a large validation split: patience 3
        ("images", 10_000, "constant", 3),
    ],
)
def test_sequence_defaults(kind: str, n_val: int, schedule: str, patience: int) -> None:
    out = resolve_train_config(
        TrainConfig(epochs=200, lr=0.01), n_train=100, loss="mse", kind=kind, n_val=n_val
    )
    assert (out.schedule, out.early_stopping) == (schedule, patience)
    assert out.lr_min == (pytest.approx(1e-4) if schedule == "cosine" else 0.0)
    given = resolve_train_config(
        TrainConfig(schedule="onecycle", early_stopping=0),
        n_train=100,
        loss="mse",
        kind=kind,
        n_val=n_val,
    )
    assert (given.schedule, given.early_stopping) == ("onecycle", 0)
