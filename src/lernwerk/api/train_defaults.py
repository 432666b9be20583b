"""What a run on a dataset would use for the settings left out, before it starts."""

from __future__ import annotations

from typing import Any

from lernwerk.config import TrainConfig
from lernwerk.data import Dataset
from lernwerk.training.defaults import (
    default_batch_size,
    default_epochs,
    default_lr,
    default_model,
)


def resolved_train_defaults(
    ds: Dataset,
    *,
    optimizer: str = "adam",
    val_split: float = 0.2,
    test_split: float = 0.2,
    split_seed: int = 0,
    task: str = "",
) -> dict[str, Any]:
    """The preset, batch size, learning rate and epochs a run on `ds` starts with when
    they are left out (the rules of `training.defaults`, on the training split's size).

    Raises:
        SpecError: An unknown optimizer or split fractions out of range.
    """
    cfg = TrainConfig.from_dict(
        {"optimizer": optimizer, "val_split": val_split, "test_split": test_split}, "train"
    )
    splits = ds.split(cfg.val_split, cfg.test_split, split_seed) if len(ds) else None
    n_train, n_val, n_test = (
        (len(splits.train), len(splits.val), len(splits.test)) if splits else (0, 0, 0)
    )
    batch_size = default_batch_size(n_train)
    if n_train > 0:
        batch_size = min(batch_size, n_train)  # as resolve_train_config does
    return {
        "dataset": ds.name,
        "model": default_model(ds.kind, list(ds.input_shape or ()), task),
        "optimizer": cfg.optimizer,
        "n_train": n_train,
        "n_val": n_val,
        "n_test": n_test,
        "batch_size": batch_size,
        "lr": default_lr(cfg.optimizer, batch_size),
        "epochs": default_epochs(n_train, batch_size),
        "fixed_test": ds.test_index is not None,
    }
