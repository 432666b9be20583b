"""The direct fused Adam/AdamW step: bit-identical to torch's, with torch's state format."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from lernwerk.training import adam

PAIRS = [(adam.Adam, torch.optim.Adam), (adam.AdamW, torch.optim.AdamW)]


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


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_the_step_is_bit_identical_to_torchs(ours, theirs) -> None:
    a, b = _net(), _net()
    opt_a = ours(a.parameters(), lr=0.01, weight_decay=0.05, fused=True)
    opt_b = theirs(b.parameters(), lr=0.01, weight_decay=0.05, fused=True)
    _train(a, opt_a, 12)
    _train(b, opt_b, 12)
    for wa, wb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(wa, wb)
    state_a, state_b = opt_a.state_dict(), opt_b.state_dict()
    assert state_a["param_groups"] == state_b["param_groups"]
    for sa, sb in zip(state_a["state"].values(), state_b["state"].values(), strict=True):
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_a_state_moves_between_torchs_optimizer_and_ours(ours, theirs) -> None:
    a, b = _net(), _net()
    opt_a = theirs(a.parameters(), lr=0.01, fused=True)
    _train(a, opt_a, 3)
    b.load_state_dict(a.state_dict())
    opt_b = ours(b.parameters(), lr=0.01, fused=True)
    # a checkpoint of either loads into the other (a copy: state_dict() hands out its tensors)
    opt_b.load_state_dict(copy.deepcopy(opt_a.state_dict()))
    _train(a, opt_a, 4, seed=2)
    _train(b, opt_b, 4, seed=2)
    for wa, wb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(wa, wb)


def test_weights_without_a_gradient_and_torchs_own_paths() -> None:
    a, b = _net(), _net()
    for net in (a, b):
        net[0].bias.requires_grad_(False)  # never gets a gradient: left out of the step
    opt_a = adam.Adam(a.parameters(), lr=0.01, amsgrad=True, fused=True)  # torch's step
    opt_b = torch.optim.Adam(b.parameters(), lr=0.01, amsgrad=True, fused=True)
    _train(a, opt_a, 5)
    _train(b, opt_b, 5)
    for wa, wb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(wa, wb)
    assert torch.equal(a[0].bias, _net()[0].bias)  # untouched
    opt_a.zero_grad(set_to_none=False)  # zeroes instead of dropping: torch's own
    assert all(p.grad is None or not p.grad.any() for p in a.parameters())


def test_unfused_settings_step_as_torch() -> None:
    a, b = _net(), _net()
    opt_a = adam.Adam(a.parameters(), lr=0.01)  # fused=None: torch's default implementation
    opt_b = torch.optim.Adam(b.parameters(), lr=0.01)
    _train(a, opt_a, 4)
    _train(b, opt_b, 4)
    for wa, wb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(wa, wb)


def test_only_the_first_step_goes_through_torch(monkeypatch) -> None:
    calls = []
    torchs = torch.optim.Adam.step

    def counted(self, closure=None):
        calls.append(1)
        return torchs(self, closure)

    monkeypatch.setattr(torch.optim.Adam, "step", counted)
    net = _net()
    _train(net, adam.Adam(net.parameters(), lr=0.01, fused=True), 5)
    assert len(calls) == 1  # it made the state; the direct path did the rest


def test_step_hooks_are_called_through_torchs_step() -> None:
    net = _net()
    opt = adam.Adam(net.parameters(), lr=0.01, fused=True)
    _train(net, opt, 2)
    seen = []
    handle = opt.register_step_post_hook(lambda o, args, kwargs: seen.append(1))
    torch_net = _net()
    torch.optim.Adam(torch_net.parameters(), lr=0.01)  # torch wraps its Adam.step now
    _train(net, opt, 3)
    assert len(seen) == 3  # once per step, not twice
    handle.remove()
    _train(net, opt, 2)
    assert len(seen) == 3


def test_a_grad_scaler_gets_torchs_step() -> None:
    # GradScaler hands a fused optimizer its scale and inf flag as attributes: the step
    # must unscale, and skip the update when a gradient is infinite
    a, b = _net(), _net()
    opt_a = adam.Adam(a.parameters(), lr=0.01, fused=True)
    opt_b = torch.optim.Adam(b.parameters(), lr=0.01, fused=True)
    gen = torch.Generator().manual_seed(0)
    batches = [(torch.randn(8, 3, 6, 6, generator=gen), torch.randint(0, 2, (8,), generator=gen))]
    batches = batches * 4
    for net, opt in ((a, opt_a), (b, opt_b)):
        scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
        for i, (x, y) in enumerate(batches):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(x), y)
            scaler.scale(loss * (float("inf") if i == 2 else 1.0)).backward()
            scaler.step(opt)
            scaler.update()
    for wa, wb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.isfinite(wa).all() and torch.equal(wa, wb)
