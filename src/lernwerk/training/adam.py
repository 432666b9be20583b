"""Adam and AdamW whose step calls torch's fused kernel directly.

`torch.optim.Adam(fused=True)` runs one kernel for all weights, but its `step()` first
spends ~150 us in Python (grouping the tensors by device and dtype, checking each
weight's state and flags) around a ~50 us kernel for LeNet's 10 weights: a tenth of a
training step of a small network. These classes keep torch's optimizer, state and
checkpoint format, and on the common path (one parameter group, every weight's state
made by an earlier step, one device and dtype, no amsgrad, maximize, capturable or
differentiable, no step hooks, no GradScaler) hand the same lists to the same kernel themselves; the
results are bit-identical to torch's (tests/training/test_adam.py). Anything else goes
through torch's own step, hooks and all. Measured (bench/RESULTS.md, log): LeNet on the digits 1.1-1.15x faster
per step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.optim.optimizer import (
    Optimizer,
    _global_optimizer_post_hooks,
    _global_optimizer_pre_hooks,
)


class _DirectFusedStep:
    """The fused step without torch.optim's per-step bookkeeping (a mixin for Adam/AdamW)."""

    param_groups: list[dict[str, Any]]
    state: Any
    _optimizer_step_pre_hooks: dict[int, Any]
    _optimizer_step_post_hooks: dict[int, Any]

    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        groups = self.param_groups
        group = groups[0]
        if (
            closure is not None
            or len(groups) != 1
            or not group["fused"]
            or group["amsgrad"]
            or group["maximize"]
            or group["capturable"]
            or group["differentiable"]
            or isinstance(group["lr"], torch.Tensor)
            # a GradScaler (mixed precision) hands over its scale and inf flag this way
            or getattr(self, "grad_scale", None) is not None
            or getattr(self, "found_inf", None) is not None
            or self._optimizer_step_pre_hooks
            or self._optimizer_step_post_hooks
            or _global_optimizer_pre_hooks
            or _global_optimizer_post_hooks
        ):
            return self._torch_step(closure)
        params = [p for p in group["params"] if p.grad is not None]
        states = [self.state.get(p) for p in params]
        if not params or not all(states) or len({(p.device, p.dtype) for p in params}) != 1:
            return self._torch_step(closure)  # the first step makes the state
        beta1, beta2 = group["betas"]
        fused = torch._fused_adamw_ if group["decoupled_weight_decay"] else torch._fused_adam_
        with torch.no_grad():
            steps = [s["step"] for s in states]
            torch._foreach_add_(steps, 1)
            fused(
                params,
                [p.grad for p in params],
                [s["exp_avg"] for s in states],
                [s["exp_avg_sq"] for s in states],
                [],
                steps,
                amsgrad=False,
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=False,
                grad_scale=None,
                found_inf=None,
            )
        return None

    # torch.optim wraps each optimizer class's step in a profiler range and its hook calls
    # (~40 us a step); this step checks for hooks itself and hands over to torch's when any
    # are registered
    step.hooked = True  # type: ignore[attr-defined]

    def _torch_step(self, closure: Callable[[], float] | None) -> float | None:
        """torch's own step, with its hooks and profiler range."""
        step = super().step  # type: ignore[misc]
        if not getattr(step, "hooked", False):  # torch wraps it when it makes its first Adam
            step = Optimizer.profile_hook_step(step.__func__).__get__(self)
        return step(closure)

    def zero_grad(self, set_to_none: bool = True) -> None:
        if not set_to_none:
            super().zero_grad(set_to_none)  # type: ignore[misc]
            return
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None


class Adam(_DirectFusedStep, torch.optim.Adam):
    """`torch.optim.Adam` with the direct fused step."""


class AdamW(_DirectFusedStep, torch.optim.AdamW):
    """`torch.optim.AdamW` with the direct fused step."""
