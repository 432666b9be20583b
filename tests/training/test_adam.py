"""Adam and AdamW are torch's own, fused where torch has the kernel (public API only, issue 12)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lernwerk.config import TrainConfig
from lernwerk.training.optim import make_optimizer


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 2))


def _train(net: nn.Module, opt: torch.optim.Optimizer, steps: int, seed: int = 1) -> None:
    gen = torch.Generator().manual_seed(seed)
    for i in range(steps):
        x = torch.randn(8, 3, 6, 6, generator=gen)
        y = torch.randint(0, 2, (8,), generator=gen)
        for group in opt.param_groups:
            group["lr"] = 0.01 / (1 + i)  # the trainer sets the learning rate like this
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


@pytest.mark.parametrize(
    ("name", "cls"), [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW)]
)
def test_adam_is_torchs_own_class_with_the_fused_kernel(name: str, cls: type) -> None:
    opt = make_optimizer(_net().parameters(), TrainConfig(optimizer=name, lr=0.01))
    assert type(opt) is cls  # no subclass that reaches into torch's private step
    assert opt.param_groups[0]["fused"] is True


@pytest.mark.parametrize(
    ("name", "cls"), [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW)]
)
def test_the_step_is_the_one_of_torchs_fused_optimizer(name: str, cls: type) -> None:
    a, b = _net(), _net()
    config = TrainConfig(optimizer=name, lr=0.01, weight_decay=0.001)
    _train(a, make_optimizer(a.parameters(), config), 5)
    _train(b, cls(b.parameters(), lr=0.01, weight_decay=0.001, fused=True), 5)
    for wa, wb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(wa, wb)


def test_step_hooks_are_called_once_per_step() -> None:
    net = _net()
    opt = make_optimizer(net.parameters(), TrainConfig(optimizer="adam", lr=0.01))
    seen = []
    handle = opt.register_step_post_hook(lambda o, args, kwargs: seen.append(1))
    _train(net, opt, 3)
    handle.remove()
    _train(net, opt, 2)
    assert len(seen) == 3
