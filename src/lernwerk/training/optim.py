"""Optimizers and learning-rate schedules, in registries keyed by the names users write."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch

from lernwerk.config import TrainConfig

DEFAULT_LR = {"sgd": 0.01, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 0.01}


def _fused(params: list[torch.nn.Parameter]) -> bool | None:
    """True where torch has a fused Adam/AdamW step for these parameters: float, CPU or CUDA.

    One kernel for all parameters instead of one per tensor: 0.72-0.73x the training-step
    time of the default for an MLP and LeNet on the CPU, 0.96x for the Smiley CNN, the same
    test accuracy (bench/RESULTS.md, Log). Results stay reproducible, but are not
    bit-identical to runs made with the default implementation.
    """
    ok = bool(params) and all(
        p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params
    )
    return True if ok else None


OptimizerFactory = Callable[
    [Iterable[torch.nn.Parameter], TrainConfig, float], torch.optim.Optimizer
]

OPTIMIZERS: dict[str, OptimizerFactory] = {
    "sgd": lambda p, c, lr: torch.optim.SGD(
        p,
        lr=lr,
        momentum=c.momentum,
        nesterov=c.nesterov and c.momentum > 0,
        weight_decay=c.weight_decay,
    ),
    "adam": lambda p, c, lr: torch.optim.Adam(
        p, lr=lr, weight_decay=c.weight_decay, fused=_fused(p)
    ),
    "adamw": lambda p, c, lr: torch.optim.AdamW(
        p, lr=lr, weight_decay=c.weight_decay, fused=_fused(p)
    ),
    "rmsprop": lambda p, c, lr: torch.optim.RMSprop(
        p, lr=lr, momentum=c.momentum, weight_decay=c.weight_decay
    ),
    "adagrad": lambda p, c, lr: torch.optim.Adagrad(p, lr=lr, weight_decay=c.weight_decay),
}


def make_optimizer(
    params: Iterable[torch.nn.Parameter], config: TrainConfig
) -> torch.optim.Optimizer:
    """The optimizer a (resolved) config names, at its peak learning rate, over the
    parameters that train (frozen ones, `requires_grad` False, are left out)."""
    assert config.lr is not None, "resolve the config first"
    return OPTIMIZERS[config.optimizer]([p for p in params if p.requires_grad], config, config.lr)


# A schedule maps (step, total_steps, steps_per_epoch, config) to a factor of the peak lr.
Schedule = Callable[[int, int, int, TrainConfig], float]


def _step(step: int, total: int, per_epoch: int, c: TrainConfig) -> float:
    return c.gamma ** (step // (per_epoch * c.step_size_epochs))


def _cosine(step: int, total: int, per_epoch: int, c: TrainConfig) -> float:
    assert c.lr is not None
    floor = min(c.lr_min / c.lr, 1.0)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(step / max(total, 1), 1.0)))


def _onecycle(step: int, total: int, per_epoch: int, c: TrainConfig) -> float:
    # Smith & Topin 2017 ("super-convergence"), step for step as torch's OneCycleLR with its
    # defaults: a cosine from lr/25 up to lr at step 0.3·total − 1, then a cosine down to
    # lr/(25·1e4) at the last step (total − 1)
    start, end = 1 / 25, 1 / 25e4
    peak = 0.3 * total - 1
    if step <= peak:
        return _cosine_between(start, 1.0, step / peak if peak > 0 else 1.0)
    return _cosine_between(1.0, end, min((step - peak) / (total - 1 - peak), 1.0))


def _cosine_between(start: float, end: float, t: float) -> float:
    """From `start` at t=0 to `end` at t=1 along half a cosine."""
    return end + (start - end) * 0.5 * (1 + math.cos(math.pi * t))


SCHEDULES: dict[str, Schedule] = {
    "constant": lambda step, total, per_epoch, c: 1.0,
    "step": _step,
    "cosine": _cosine,
    "onecycle": _onecycle,
    # the rate changes between epochs, by the monitored loss (callbacks.Plateau)
    "plateau": lambda step, total, per_epoch, c: 1.0,
}


def lr_at(step: int, total_steps: int, steps_per_epoch: int, config: TrainConfig) -> float:
    """The learning rate for a global step under the config's schedule."""
    assert config.lr is not None
    schedule = SCHEDULES[config.schedule or "constant"]  # unresolved: constant
    return config.lr * schedule(step, total_steps, steps_per_epoch, config)
