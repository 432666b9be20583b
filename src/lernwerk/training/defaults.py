"""Defaults that depend on the data: batch size, epochs, learning rate, device.

The rules, stated so people can reason about them:
- batch size: the power of two nearest to N/100, between 16 and 512 (small sets get
  many small steps, large sets few large ones that keep the CPU's cores busy);
- epochs: enough for about 2 000 optimizer steps, between 10 and 200;
- learning rate: the optimizer's usual default (adam 1e-3, sgd 1e-2, ...), scaled up
  with the square root of the batch size over 32 for adaptive optimizers, at most 4x.
"""

from __future__ import annotations

import math

import torch

from lernwerk.config import TrainConfig
from lernwerk.errors import SpecError
from lernwerk.training.optim import DEFAULT_LR

TARGET_STEPS = 2000


def default_batch_size(n_train: int) -> int:
    return int(min(512, max(16, 2 ** round(math.log2(max(n_train, 1) / 100)))))


def default_epochs(n_train: int, batch_size: int) -> int:
    steps_per_epoch = max(1, math.ceil(n_train / batch_size))
    return int(min(200, max(10, math.ceil(TARGET_STEPS / steps_per_epoch))))


def default_lr(optimizer: str, batch_size: int) -> float:
    lr = DEFAULT_LR[optimizer]
    if optimizer in ("adam", "adamw", "rmsprop"):
        lr *= min(4.0, max(1.0, math.sqrt(batch_size / 32)))
    return lr


def resolve_train_config(config: TrainConfig, *, n_train: int, loss: str) -> TrainConfig:
    """Fill in what the user left out; the result is what the run stores."""
    batch_size = config.batch_size or default_batch_size(n_train)
    epochs = config.epochs or default_epochs(n_train, batch_size)
    lr = config.lr or default_lr(config.optimizer, batch_size)
    return config.model_copy(
        update={"batch_size": batch_size, "epochs": epochs, "lr": lr, "loss": loss}
    )


def resolve_device(name: str) -> torch.device:
    """cpu, cuda or auto (cuda when available, else cpu).

    Raises:
        SpecError: cuda asked for and none is available.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SpecError(
            "device cuda: no CUDA device is available here; use --device cpu or auto",
            where="device",
        )
    return torch.device(name)
