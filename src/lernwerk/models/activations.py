"""Activation functions by the names courses use."""

from __future__ import annotations

from typing import Literal

from torch import nn

ActivationName = Literal["linear", "relu", "tanh", "sigmoid", "softmax", "gelu", "leaky_relu"]

# name -> a constructor of the module (None for linear, i.e. no module at all)
ACTIVATIONS: dict[str, type[nn.Module] | None] = {
    "linear": None,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softmax": None,  # built by make_activation with dim=1
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
}

# activations that turn logits into probabilities; on the last layer the task folds them
# into the loss (cross-entropy wants logits) and applies them at prediction instead
OUTPUT_ACTIVATIONS = ("softmax", "sigmoid")


def make_activation(name: str) -> nn.Module | None:
    """The module for an activation name, or None for 'linear'."""
    if name == "softmax":
        return nn.Softmax(dim=1)
    factory = ACTIVATIONS[name]
    return factory() if factory is not None else None
