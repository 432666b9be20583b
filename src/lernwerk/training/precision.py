"""The number format of training: float32, or bfloat16 autocast.

bfloat16 autocast runs the matrix products and convolutions in bfloat16 while weights,
gradients and the optimizer stay in float32, and the saved model predicts in float32.
On a CPU with bfloat16 instructions (`avx512_bf16`, `amx_bf16`) it trains convolutional
networks faster: measured through `Workspace.fit` on this project's CPU (bench/RESULTS.md,
log), 1D convolutions 1.3-1.9x. It is not the default, because the accuracy did not hold
everywhere: the same seeds lost 0.7-1.3 points on GunPoint and 5 on the solder joints,
and LeNet fell below 98 % on the digits.

A Conv2D network trains on the CPU in channels_last (NHWC) memory, in either format: its
weights while it trains, and its training and validation images from the start (the layout
oneDNN's convolutions want, so no batch is converted). Measured through `Workspace.fit`
(bench/RESULTS.md, log), float32: LeNet on the digits 1.15x faster, the Smiley CNN on
smileys 1.2-1.3x and on 3x64x64 solder joints 1.3-1.7x. On CUDA the layout stays as it is
(not measured here).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext

import torch
from torch import nn


def has_conv2d(network: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in network.modules())


def autocast(precision: str, device: torch.device) -> AbstractContextManager:
    """The context a training step's forward pass and loss run in."""
    if precision == "bfloat16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


def uses_channels_last(network: nn.Module, device: torch.device) -> bool:
    """Whether `network` trains in channels_last memory on `device`."""
    return device.type == "cpu" and has_conv2d(network)


def to_training_layout(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """Image batches (N, C, H, W) in the layout the network trains in; other data as is."""
    if channels_last and x.dim() == 4:
        return x.contiguous(memory_format=torch.channels_last)
    return x


def rows(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """The samples `idx` of `x`, in `x`'s memory layout.

    `index_select` hands channels_last images back as plain NCHW, and `x[idx]` keeps the
    layout but copies 5x slower (3x64x64 images, batch 16: 121 us against 23 us); an NHWC
    view of the same memory selects at `index_select`'s speed. Samples that stream from
    disk (`StreamedRows`) read and prepare just the batch.
    """
    if not isinstance(x, torch.Tensor):
        return x.index_select(0, idx)
    if (
        x.dim() == 4
        and not x.is_contiguous()
        and x.is_contiguous(memory_format=torch.channels_last)
    ):
        return x.permute(0, 2, 3, 1).index_select(0, idx).permute(0, 3, 1, 2)  # (B, C, H, W)
    return x.index_select(0, idx)


@contextmanager
def channels_last(
    network: nn.Module,
    optimizers: torch.optim.Optimizer | Sequence[torch.optim.Optimizer] = (),
) -> Iterator[bool]:
    """Keep a Conv2D network's weights in channels_last memory for a block (yields whether
    it did), and give them back in the usual layout after it.

    Each optimizer's per-weight state (Adam's moments) follows its weight: a fused optimizer
    walks a weight, its gradient and its state as flat memory, so a state left in the
    other layout (a fresh run's, or one loaded from a checkpoint) would pair the wrong
    elements.
    """
    if not has_conv2d(network):
        yield False
        return
    if isinstance(optimizers, torch.optim.Optimizer):
        optimizers = [optimizers]
    network.to(memory_format=torch.channels_last)
    for optimizer in optimizers:
        _match_state_layout(optimizer)
    try:
        yield True
    finally:
        network.to(memory_format=torch.contiguous_format)
        for optimizer in optimizers:
            _match_state_layout(optimizer)


def _match_state_layout(optimizer: torch.optim.Optimizer) -> None:
    """Give each state tensor the memory layout of the weight it belongs to."""
    for weight, state in optimizer.state.items():
        for key, value in state.items():
            if (
                isinstance(value, torch.Tensor)
                and value.shape == weight.shape
                and value.stride() != weight.stride()
            ):
                state[key] = torch.empty_like(weight, dtype=value.dtype).copy_(value)
