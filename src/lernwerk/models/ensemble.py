"""`Ensemble`: several copies of one network, each from its own random start, side by side
on the same input; their predictions are averaged (InceptionTime: Ismail Fawaz et al. 2020,
five Inception networks whose softmax probabilities are averaged).

The block is the network's last layer and its members end in the output layer. Its
output is what a softmax (or sigmoid) turns into the members' mean probability:
`log(mean_m softmax(z_m))` (the logit of the mean sigmoid; the plain mean of linear
outputs), so the task's prediction, loss and exports treat the ensemble as any network.
Training optimises each member on its own loss (the task sums them, `member_outputs`):
the members' weights are disjoint, so each member gets exactly the gradient it would get
trained alone.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from pydantic import Field
from torch import nn

from lernwerk.models.registry import (
    BuildContext,
    Built,
    LayerMisfit,
    LayerType,
    Shape,
    _Params,
    register,
)

MAX_MEMBERS = 20
PROBABILITY_FLOOR = 1e-7  # a sigmoid ensemble's mean probability, kept off 0 and 1


class EnsembleParams(_Params):
    members: int = Field(
        5, ge=2, le=MAX_MEMBERS, description="copies of the network, each from its own start"
    )
    layers: list[dict[str, Any]] = Field(
        min_length=1, description="one member's layers; the last is the output layer"
    )


def combine(members: torch.Tensor, activation: str) -> torch.Tensor:
    """(M, N, K) members' outputs -> (N, K): what `activation` turns into their mean
    prediction (log of the mean softmax, logit of the mean sigmoid, or the mean)."""
    if activation == "softmax":
        logp = torch.log_softmax(members.float(), dim=2)  # (M, N, K)
        return torch.logsumexp(logp, dim=0) - math.log(members.shape[0])
    if activation == "sigmoid":
        p = torch.sigmoid(members.float()).mean(dim=0)
        p = p.clamp(PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
        return torch.log(p) - torch.log1p(-p)
    return members.mean(dim=0)


class EnsembleBlock(nn.Module):
    """The members and how their outputs are joined. In training mode `forward` keeps
    the members' outputs of its last call (`last_members`) for the task's losses."""

    def __init__(self, members: list[nn.Module], activation: str) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.activation = activation
        self.last_members: torch.Tensor | None = None

    def member_forward(self, x: torch.Tensor) -> torch.Tensor:
        """(M, N, K): each member's output (logits) for the block's input."""
        return torch.stack([member(x) for member in self.members])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        members = self.member_forward(x)  # (M, N, K)
        self.last_members = members if self.training else None
        return combine(members, self.activation)  # (N, K)


@register
class Ensemble(LayerType):
    """Several copies of a network, their predictions averaged; the network's last layer."""

    name = "Ensemble"
    Params = EnsembleParams
    description = "copies of a network from different random starts, predictions averaged"

    def build(self, p: EnsembleParams, shape: Shape, ctx: BuildContext) -> Built:
        if not ctx.is_last:
            raise LayerMisfit(
                "an Ensemble must be the network's last layer (its members end in the output layer)"
            )
        assert ctx.build_layers is not None, "built through lernwerk.models.building"
        members: list[nn.Module] = []
        activation = "linear"
        inner: list[Any] = []
        for _ in range(p.members):  # each draws its own initial weights
            context: dict[str, str] = {}
            inner = ctx.build_layers(
                p.layers, shape, ctx.num_outputs, prefix=ctx.index, context=context
            )
            members.append(nn.Sequential(*(b.module for _, _, b in inner)))
            activation = context.get("output_activation", "linear")
        ctx.output_activation = activation
        out_shape = inner[-1][2].out_shape
        if activation in ("softmax", "sigmoid") and len(out_shape) != 1:
            raise LayerMisfit(
                f"the members give {'×'.join(map(str, out_shape))} {activation} outputs; "
                "averaging probabilities needs flat outputs (end with a Dense layer)"
            )
        flops = p.members * sum(b.flops for _, _, b in inner)
        return Built(EnsembleBlock(members, activation), out_shape, flops, children=inner)


def ensemble_block(model: nn.Module) -> EnsembleBlock | None:
    """The network's ensemble block, or None for a single network."""
    return next((m for m in model.modules() if isinstance(m, EnsembleBlock)), None)


def member_count(model: nn.Module) -> int:
    """How many members the network averages; 0 for a single network."""
    block = ensemble_block(model)
    return len(block.members) if block is not None else 0


def member_outputs(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(M, N, K): each member's output for network inputs `x`, through the layers before
    the block (its caller sets the mode and grad)."""
    block = ensemble_block(model)
    assert block is not None, "not an ensemble"
    for layer in getattr(model, "layers", ()):
        if layer is block:
            return block.member_forward(x)
        x = layer(x)
    return block.member_forward(x)
