"""The number format training computes in: float32, or bfloat16 autocast on the CPU.

Measured on the solder CNN (bench/RESULTS.md, images): bfloat16 autocast with
channels_last memory took 1.6 s where float32 took 3.6 s, at the same test accuracy, on a
CPU with `avx512_bf16`; a small MLP gains nothing (its steps are Python overhead, not
arithmetic). So the default is bfloat16 for convolutional networks on a CPU that has
bfloat16 instructions, float32 otherwise. Weights, gradients and the optimizer stay in
float32 (autocast only runs the matrix products and convolutions in bfloat16), and the
saved model predicts in float32.

Networks with Conv2D layers also keep their weights and inputs in channels_last (NHWC)
memory while they train: the same numbers, in the layout the CPU's convolution kernels
prefer.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import torch
from torch import nn

BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.cache
def cpu_has_bf16() -> bool:
    """Whether this CPU has native bfloat16 instructions (Linux: /proc/cpuinfo flags)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[-1].split())
            break
    return any(f in flags for f in BF16_FLAGS)


def has_conv(network: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv1d | nn.Conv2d) for m in network.modules())


def has_conv2d(network: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in network.modules())


def default_precision(network: nn.Module, device: torch.device) -> str:
    if device.type == "cpu" and cpu_has_bf16() and has_conv(network):
        return "bfloat16"
    return "float32"


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
