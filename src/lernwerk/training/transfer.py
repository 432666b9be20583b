"""Transfer learning: start a network from another's weights, freeze layers, unfreeze later.

`load_fitting_layers` copies every layer of a stored network whose type and weight shapes
still fit (a new head stays freshly initialised where the classes differ);
`frozen_layers` turns a config's `freeze` into layer positions; `Freezer` switches those
layers off for the optimizer and back on, at a lower learning rate, after some epochs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from lernwerk.config import PRETRAINED_INITS, ModelSpec
from lernwerk.errors import SpecError
from lernwerk.models.network import Network

PRETRAINED_NAMES = PRETRAINED_INITS  # what `init` says to start from ImageNet's weights
PRETRAINED_LAYER = "EfficientNetLite0"


def _has_weights(module: nn.Module) -> bool:
    return any(True for _ in module.parameters())


def _layer_tensors(state: Mapping[str, torch.Tensor], position: int) -> dict[str, torch.Tensor]:
    """A layer's entries of a network's state dict, by their name inside the layer."""
    prefix = f"layers.{position}."
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


def _describe(network: Network) -> str:
    names = ", ".join(f"{index} {type_name}" for index, type_name, _ in network.layer_table)
    return f"model '{network.spec.name}' has layers {names}"


def load_fitting_layers(
    network: Network, source_spec: dict[str, Any], weights: Mapping[str, torch.Tensor]
) -> tuple[list[str], list[str]]:
    """Copy each layer of a stored network into `network` where its type and every weight
    shape match, position for position.

    Returns:
        The indices ("1", "2", …) of the layers loaded, and of those with weights that
        start fresh (a head for other classes, a changed layer).
    """
    source_types = [str(layer.get("type", "")) for layer in source_spec.get("layers", [])]
    loaded, fresh = [], []
    target_state = network.state_dict()
    with torch.no_grad():
        for position, (index, type_name, _) in enumerate(network.layer_table):
            mine = _layer_tensors(target_state, position)
            if not mine:
                continue  # no weights, no statistics: nothing to load
            theirs = _layer_tensors(weights, position)
            same_type = (
                position < len(source_types)
                and source_types[position].casefold() == type_name.casefold()
            )
            fits = (
                same_type
                and set(theirs) == set(mine)
                and all(theirs[k].shape == mine[k].shape for k in mine)
            )
            if not fits:
                fresh.append(index)
                continue
            for key, value in mine.items():
                value.copy_(theirs[key])
            loaded.append(index)
    return loaded, fresh


def pretrained_layers(network: Network) -> list[str]:
    """The indices of the layers that hold pretrained (ImageNet) weights when built."""
    return [
        index
        for (index, type_name, _), raw in zip(network.layer_table, network.spec.layers, strict=True)
        if type_name == PRETRAINED_LAYER and str(raw.get("weights", "imagenet")) != "none"
    ]


def starts_pretrained(spec: ModelSpec, init: str | None) -> bool:
    """Whether a run starts from trained weights: another run's, or a pretrained layer's
    (known from the spec, before the network is built)."""
    return init is not None or any(
        raw.get("type") == PRETRAINED_LAYER and str(raw.get("weights", "imagenet")) != "none"
        for raw in spec.layers
    )


def frozen_layers(network: Network, freeze: str | int | Sequence[str] | None) -> list[int]:
    """The positions (0-based) of the layers a config's `freeze` names.

    Raises:
        SpecError: `freeze` names no layer, a layer without weights only, or every layer
            with weights (nothing would train); the message names the field.
    """
    if freeze is None:
        return []
    table = network.layer_table
    with_weights = [i for i, module in enumerate(network.layers) if _has_weights(module)]
    if not with_weights:
        raise SpecError(
            f"freeze: model '{network.spec.name}' has no layer with weights to freeze",
            where="freeze",
        )
    if freeze == "features":
        positions = list(range(with_weights[-1]))
    elif isinstance(freeze, int):
        if freeze > len(table):
            raise SpecError(
                f"freeze: {freeze} layers, but model '{network.spec.name}' has only {len(table)}",
                where="freeze",
            )
        positions = list(range(freeze))
    else:
        positions = []
        for name in freeze:
            hits = [
                i
                for i, (index, type_name, _) in enumerate(table)
                if name == index or name.casefold() == type_name.casefold()
            ]
            if not hits:
                raise SpecError(
                    f"freeze: '{name}' names no layer; {_describe(network)}", where="freeze"
                )
            positions.extend(i for i in hits if i not in positions)
        positions.sort()
    frozen = [i for i in positions if i in with_weights]
    if not frozen:
        raise SpecError(
            f"freeze: the layers it names hold no weights; {_describe(network)}", where="freeze"
        )
    if set(with_weights) <= set(frozen):
        raise SpecError(
            "freeze: it freezes every layer with weights, so nothing would train; "
            f"keep at least the last one trainable ({_describe(network)})",
            where="freeze",
        )
    return frozen


@dataclass
class Freezer:
    """Keeps some layers of a network out of training, and lets them in after
    `unfreeze_after` epochs at `lr_factor` times the learning rate."""

    modules: list[nn.Module]
    unfreeze_after: int | None = None
    lr_factor: float = 0.1
    frozen: bool = field(default=False, init=False)

    @property
    def parameters(self) -> list[nn.Parameter]:
        return [p for m in self.modules for p in m.parameters()]

    def freeze(self) -> None:
        """Stop gradients to the layers (before the optimizer is made: it skips them)."""
        for p in self.parameters:
            p.requires_grad_(False)
        self.frozen = True

    def due(self, epochs_done: int) -> bool:
        """Whether the layers unfreeze before the next epoch."""
        return (
            self.frozen and self.unfreeze_after is not None and epochs_done >= self.unfreeze_after
        )

    def unfreeze(self, optimizer: torch.optim.Optimizer) -> None:
        """Let the layers train again, as a param group of their own at the lower rate."""
        params = self.parameters
        for p in params:
            p.requires_grad_(True)
        optimizer.add_param_group({"params": params, "lr_factor": self.lr_factor})
        self.frozen = False

    def hold_statistics(self) -> None:
        """Keep the frozen layers' batch norms in eval mode: their running statistics do
        not drift while the rest trains (call after `model.train()`)."""
        if not self.frozen:
            return
        for module in self.modules:
            for sub in module.modules():
                if isinstance(sub, nn.modules.batchnorm._BatchNorm):
                    sub.eval()


@dataclass
class InitSource:
    """Weights to start a run from: a stored run's network (or a pretrained one's name)."""

    name: str  # what the run's config records: the run's id, or 'efficientnet-lite0'
    spec: dict[str, Any] = field(default_factory=dict)  # the stored network's spec
    input_shape: tuple[int, ...] | None = None
    weights: Mapping[str, torch.Tensor] = field(default_factory=dict)
    run_name: str | None = None
