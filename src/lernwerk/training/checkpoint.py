"""Checkpoints: model, optimizer, RNG and trainer state in one safetensors file.

Tensors go in as tensors; everything else (the trainer state, the optimizer's
hyper-parameters, the config hash) as JSON in the file's metadata, so one atomic
write holds a consistent checkpoint and loading never unpickles anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from lernwerk.errors import Conflict
from lernwerk.store import load_tensors, save_tensors


@dataclass
class TrainerState:
    """Where a run stands; saved with every checkpoint (nanoGPT keeps the same)."""

    epoch: int = 0  # epochs completed
    global_step: int = 0
    best_metric: float | None = None
    best_epoch: int | None = None
    elapsed_s: float = 0.0
    threads: int | None = None  # the intra-op threads it trains on; a resume keeps them
    lr_scale: float = 1.0  # the plateau schedule's factor on the rate (callbacks.Plateau)
    plateau_best: float | None = None
    plateau_wait: int = 0

    def state_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state_dict(cls, d: dict[str, Any]) -> TrainerState:
        return cls(**d)


def _prefix(i: int) -> str:
    # the first optimizer keeps the name checkpoints had when a run had only one
    return "optim" if i == 0 else f"optim{i}"


def _flatten_optimizer(
    sd: dict[str, Any], prefix: str = "optim"
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, state in sd["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}.{pid}.{key}"] = value
            else:
                scalars.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(
    tensors: dict[str, torch.Tensor], meta: dict[str, Any], prefix: str = "optim"
) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + "."):
            _, pid, key = name.split(".", 2)
            state.setdefault(int(pid), {})[key] = value
    for pid, values in meta["scalars"].items():
        state.setdefault(int(pid), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    path: Path,
    model: torch.nn.Module,
    optimizers: Sequence[torch.optim.Optimizer],
    state: TrainerState,
    *,
    shuffle_generator: torch.Generator,
    best_weights: dict[str, torch.Tensor] | None,
    fingerprint: str,
    extra: dict[str, torch.Tensor] | None = None,
) -> None:
    """Write one checkpoint atomically; `extra` tensors (e.g. augmentation RNG) ride along."""
    tensors = {f"model.{k}": v.detach() for k, v in model.state_dict().items()}
    optim_metas = []
    for i, optimizer in enumerate(optimizers):
        optim_tensors, optim_meta = _flatten_optimizer(optimizer.state_dict(), _prefix(i))
        tensors.update(optim_tensors)
        optim_metas.append(optim_meta)
    tensors["rng.torch"] = torch.get_rng_state()
    tensors["rng.shuffle"] = shuffle_generator.get_state()
    if best_weights is not None:
        tensors.update({f"best.{k}": v for k, v in best_weights.items()})
    tensors.update({f"extra.{k}": v for k, v in (extra or {}).items()})
    meta = {
        "trainer_state": state.state_dict(),
        "optimizer": optim_metas[0] if optim_metas else None,  # None: a task that steps none
        "more_optimizers": optim_metas[1:],  # a task that steps two (a GAN's)
        "fingerprint": fingerprint,
        "has_best": best_weights is not None,
    }
    save_tensors(path, tensors, {"lernwerk": json.dumps(meta)})


def checkpoint_param_groups(path: Path) -> int:
    """How many param groups a checkpoint's first optimizer had (read from its header
    alone): 2 once a run's frozen layers joined it (`transfer.Freezer`); 0 unreadable."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {})["lernwerk"])
        return len(meta["optimizer"]["param_groups"])
    except Exception:  # an unreadable checkpoint: loading it says what is wrong
        return 0


def load_checkpoint(
    path: Path,
    model: torch.nn.Module,
    optimizers: Sequence[torch.optim.Optimizer],
    *,
    shuffle_generator: torch.Generator,
    fingerprint: str,
) -> tuple[TrainerState, dict[str, torch.Tensor] | None, dict[str, torch.Tensor]]:
    """Restore a checkpoint into a freshly built model and its task's optimizers.

    Returns the trainer state, the best weights (or None) and the `extra` tensors.

    Raises:
        Conflict: the checkpoint was written for a different spec or config.
    """
    tensors, metadata = load_tensors(path)
    meta = json.loads(metadata["lernwerk"])
    if meta["fingerprint"] != fingerprint:
        raise Conflict(
            f"checkpoint {path} was written for a different model spec or training config; "
            "resume takes the run's own settings (only --epochs may grow)",
            where=str(path),
        )
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    metas = [m for m in [meta["optimizer"], *meta.get("more_optimizers", [])] if m is not None]
    if len(metas) != len(optimizers):
        raise Conflict(
            f"checkpoint {path} holds {len(metas)} optimizers; this run steps {len(optimizers)}",
            where=str(path),
        )
    for i, (optimizer, optim_meta) in enumerate(zip(optimizers, metas, strict=True)):
        optimizer.load_state_dict(_unflatten_optimizer(tensors, optim_meta, _prefix(i)))
    torch.set_rng_state(tensors["rng.torch"])
    shuffle_generator.set_state(tensors["rng.shuffle"])
    best = (
        {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
        if meta["has_best"]
        else None
    )
    extra = {k[6:]: v for k, v in tensors.items() if k.startswith("extra.")}
    return TrainerState.from_state_dict(meta["trainer_state"]), best, extra
