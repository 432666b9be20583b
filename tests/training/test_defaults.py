"""Defaults that depend on the data: the rules in `training/defaults.py`, worked by hand."""

import pytest
import torch

from lernwerk.config import TrainConfig
from lernwerk.errors import SpecError
from lernwerk.training import resolve_device, resolve_train_config


@pytest.mark.parametrize(
    ("n_train", "optimizer", "batch_size", "epochs", "lr"),
    [
        # N/100 = 1.2 -> 2^0, raised to 16; 8 steps/epoch -> 250 epochs, capped at 200
        (120, "adam", 16, 200, 1e-3),
        # N/100 = 50 -> 2^6 = 64; 79 steps -> ceil(2000/79) = 26; adam lr × sqrt(64/32)
        (5_000, "adam", 64, 26, 1e-3 * 2**0.5),
        # N/100 = 500 -> 2^9 = 512; 98 steps -> 21 epochs; sqrt(512/32) = 4, the cap
        (50_000, "adamw", 512, 21, 4e-3),
        # N/100 = 10 000 -> 2^13, capped at 512; 1954 steps -> 2 epochs, raised to 3
        # (the floor above 100 000 samples)
        (1_000_000, "rmsprop", 512, 3, 4e-3),
        # 200 000 -> 391 steps -> 6 epochs: above the floor of 3
        (200_000, "adam", 512, 6, 4e-3),
        # 100 000 (not above the limit) -> 196 steps -> ceil(10.2) = 11 epochs
        (100_000, "adam", 512, 11, 4e-3),
        # sgd and adagrad keep their rate whatever the batch
        (50_000, "sgd", 512, 21, 0.01),
        (50_000, "adagrad", 512, 21, 0.01),
        # an empty split still resolves (the trainer reports it)
        (0, "adam", 16, 200, 1e-3),
    ],
)
def test_defaults_follow_the_stated_rules(
    n_train: int, optimizer: str, batch_size: int, epochs: int, lr: float
) -> None:
    resolved = resolve_train_config(TrainConfig(optimizer=optimizer), n_train=n_train, loss="mse")
    assert (resolved.batch_size, resolved.epochs) == (batch_size, epochs)
    assert resolved.lr == pytest.approx(lr, rel=1e-12)
    assert resolved.loss == "mse"


def test_what_the_user_gave_is_kept() -> None:
    config = TrainConfig(batch_size=7, epochs=3, lr=0.5, optimizer="adam", seed=4)
    resolved = resolve_train_config(config, n_train=100_000, loss="cross_entropy")
    assert (resolved.batch_size, resolved.epochs, resolved.lr) == (7, 3, 0.5)
    assert resolved.seed == 4 and resolved.loss == "cross_entropy"
    assert config.batch_size == 7 and config.loss is None  # the input is not changed


def test_epochs_default_uses_the_given_batch_size() -> None:
    resolved = resolve_train_config(TrainConfig(batch_size=1000), n_train=100_000, loss="mse")
    assert resolved.epochs == 20  # 100 steps per epoch -> 2000 / 100


def test_a_batch_larger_than_the_data_is_the_whole_split() -> None:
    # stored as what runs, and the default learning rate scaled by that, not the request
    resolved = resolve_train_config(TrainConfig(batch_size=100_000), n_train=300, loss="mse")
    assert resolved.batch_size == 300
    assert resolved.lr == pytest.approx(0.001 * (300 / 32) ** 0.5)


def test_cuda_without_a_gpu_is_a_spec_error() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present, so 'cuda' is valid here")
    with pytest.raises(SpecError, match="no CUDA device"):
        resolve_device("cuda")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("lr", -0.1, "greater than 0"),
        ("epochs", 0, "greater than or equal to 1"),
        ("optimizer", "lbfgs", "'sgd', 'adam', 'adamw', 'rmsprop' or 'adagrad'"),
        ("monitor", "loss", "validation metric"),
        ("batchsize", 32, "unknown key"),
    ],
)
def test_bad_training_configs_name_the_field(field: str, value: object, expected: str) -> None:
    with pytest.raises(SpecError) as info:
        TrainConfig.from_dict({field: value})
    message = str(info.value)
    assert message.startswith(f"training config: {field}: ")
    assert expected in message
    assert info.value.where == field
