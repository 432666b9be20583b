"""Optimizers and learning-rate schedules, with torch's own schedulers as the oracle.

Our schedules are pure functions of the global step (`lr_at(step, total, per_epoch, cfg)`,
the rate used for optimizer step `step`, counted from 0); torch's schedulers are stateful
and give the rate for step k after k calls of `scheduler.step()`. Where the two are meant
to agree they agree step for step:
- cosine  = CosineAnnealingLR(T_max=total_steps, eta_min=lr_min);
- onecycle = OneCycleLR(max_lr=lr, total_steps, pct_start=0.3, div_factor=25,
  final_div_factor=1e4, anneal_strategy='cos'), torch's defaults;
- step    = StepLR(step_size=steps_per_epoch * step_size_epochs, gamma).
"""

from typing import get_args

import pytest
import torch

from lernwerk.config import OptimizerName, ScheduleName, TrainConfig
from lernwerk.training import OPTIMIZERS, SCHEDULES
from lernwerk.training.optim import DEFAULT_LR, lr_at, make_optimizer


def torch_lrs(make_scheduler, total: int, lr: float) -> list[float]:
    """The learning rate torch's scheduler gives each of `total` steps."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for _ in range(total):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def our_lrs(config: TrainConfig, total: int, per_epoch: int = 5) -> list[float]:
    return [lr_at(step, total, per_epoch, config) for step in range(total)]


def test_registries_cover_every_name_a_config_accepts() -> None:
    assert set(OPTIMIZERS) == set(get_args(OptimizerName))
    assert set(SCHEDULES) == set(get_args(ScheduleName))
    assert set(DEFAULT_LR) == set(OPTIMIZERS)


@pytest.mark.parametrize("total", [1, 7, 50, 333])
@pytest.mark.parametrize("lr_min", [0.0, 0.002])
def test_cosine_equals_torch_cosine_annealing(total: int, lr_min: float) -> None:
    config = TrainConfig(lr=0.1, schedule="cosine", lr_min=lr_min)
    expected = torch_lrs(
        lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total, eta_min=lr_min),
        total,
        0.1,
    )
    assert our_lrs(config, total) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("total", [1, 2, 3, 7, 10, 33, 100, 1001])
def test_onecycle_equals_torch_one_cycle(total: int) -> None:
    config = TrainConfig(lr=0.4, schedule="onecycle")
    expected = torch_lrs(
        lambda opt: torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=0.4, total_steps=total, cycle_momentum=False
        ),
        total,
        0.4,
    )
    ours = our_lrs(config, total)
    assert ours == pytest.approx(expected, rel=1e-6)
    if total >= 10:  # the shape in words: from lr/25 up to lr, then down to lr/(25·1e4)
        assert ours[0] == pytest.approx(0.4 / 25)
        assert max(ours) == pytest.approx(0.4, rel=1e-3)  # the peak may fall between steps
        assert ours[-1] == pytest.approx(0.4 / 25e4)


def test_step_schedule_equals_torch_step_lr() -> None:
    per_epoch, total = 4, 40
    config = TrainConfig(lr=0.1, schedule="step", step_size_epochs=3, gamma=0.5)
    expected = torch_lrs(
        lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=per_epoch * 3, gamma=0.5),
        total,
        0.1,
    )
    assert our_lrs(config, total, per_epoch) == pytest.approx(expected, rel=1e-6)


def test_constant_schedule_keeps_the_peak_rate() -> None:
    assert set(our_lrs(TrainConfig(lr=0.03), 20)) == {0.03}


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("sgd", torch.optim.SGD),
        ("adam", torch.optim.Adam),
        ("adamw", torch.optim.AdamW),
        ("rmsprop", torch.optim.RMSprop),
        ("adagrad", torch.optim.Adagrad),
    ],
)
def test_make_optimizer_builds_the_named_torch_optimizer(name: str, cls: type) -> None:
    config = TrainConfig(optimizer=name, lr=0.05, weight_decay=0.01)
    optimizer = make_optimizer([torch.nn.Parameter(torch.zeros(2))], config)
    assert type(optimizer) is cls  # torch's own class
    group = optimizer.param_groups[0]
    assert group["lr"] == 0.05 and group["weight_decay"] == 0.01


def test_sgd_momentum_and_nesterov_reach_torch() -> None:
    params = [torch.nn.Parameter(torch.zeros(2))]
    group = make_optimizer(
        params, TrainConfig(optimizer="sgd", lr=0.1, momentum=0.8, nesterov=True)
    ).param_groups[0]
    assert group["momentum"] == 0.8 and group["nesterov"] is True
    # Nesterov without momentum is meaningless (torch refuses it): it is dropped
    group = make_optimizer(
        params, TrainConfig(optimizer="sgd", lr=0.1, momentum=0.0, nesterov=True)
    ).param_groups[0]
    assert group["momentum"] == 0.0 and group["nesterov"] is False


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_trains_xor(workspace, name: str) -> None:
    run = workspace.fit("xor:samples=200", "mlp", optimizer=name, epochs=3, seed=0)
    assert run.status == "finished"
    assert run.config["train"]["optimizer"] == name
    assert run.config["train"]["lr"] == DEFAULT_LR[name]  # batch 16: no square-root scaling
    losses = run.history["train_loss"]
    assert losses.notna().all() and losses.iloc[-1] < losses.iloc[0]


def test_the_trainer_follows_the_schedule(workspace) -> None:
    run = workspace.fit("xor:samples=200", "mlp", schedule="onecycle", lr=0.01, epochs=4, seed=0)
    started = [e for e in workspace.store.events(run.id) if e.type == "RunStarted"][0]
    per_epoch = started.payload["steps_per_epoch"]
    expected = torch_lrs(
        lambda opt: torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=0.01, total_steps=4 * per_epoch, cycle_momentum=False
        ),
        4 * per_epoch,
        0.01,
    )
    # the history's lr is the rate of each epoch's last step
    last_steps = [expected[epoch * per_epoch - 1] for epoch in range(1, 5)]
    assert run.history["lr"].tolist() == pytest.approx(last_steps, rel=1e-6)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_adam_steps_are_fused_on_the_cpu(name: str) -> None:
    # fused: one kernel for all parameters, 0.72x the step time (bench/RESULTS.md, Log)
    config = TrainConfig(optimizer=name, lr=0.05)
    optimizer = make_optimizer(iter([torch.nn.Parameter(torch.zeros(2))]), config)
    assert optimizer.defaults["fused"] is True
    reference = torch.nn.Parameter(torch.ones(3))
    ours = torch.nn.Parameter(torch.ones(3))
    cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    torch_opt = cls([reference], lr=0.05, weight_decay=config.weight_decay)  # the default way
    our_opt = make_optimizer([ours], config)
    for step in range(3):
        for p, opt in ((reference, torch_opt), (ours, our_opt)):
            p.grad = torch.tensor([1.0, -2.0, 0.5]) * (step + 1)
            opt.step()
    torch.testing.assert_close(ours.detach(), reference.detach(), rtol=1e-6, atol=1e-7)
