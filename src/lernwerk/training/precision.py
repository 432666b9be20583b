"""The number format of training: float32, or bfloat16 autocast.

bfloat16 autocast runs the matrix products and convolutions in bfloat16 while weights,
gradients and the optimizer stay in float32, and the saved model predicts in float32.
On a CPU with bfloat16 instructions (`avx512_bf16`, `amx_bf16`) it trains convolutional
networks faster: measured through `Workspace.fit` on this project's CPU (bench/RESULTS.md,
log), 1D convolutions 1.3-1.8x. It is not the default, because the accuracy did not hold
everywhere: the same seeds lost 0.7-1.3 points on GunPoint and 5 on the solder joints,
and LeNet fell below 98 % on the digits. A Conv2D network trained in bfloat16 keeps its
weights in channels_last (NHWC) memory while it trains, the layout the CPU's bfloat16
convolution kernels want.
"""

from __future__ import annotations

from collections.abc import Iterator
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


@contextmanager
def channels_last(network: nn.Module) -> Iterator[bool]:
    """Keep a Conv2D network's weights in channels_last memory for a block (yields whether
    it did), and give them back in the usual layout after it."""
    if not has_conv2d(network):
        yield False
        return
    network.to(memory_format=torch.channels_last)
    try:
        yield True
    finally:
        network.to(memory_format=torch.contiguous_format)
