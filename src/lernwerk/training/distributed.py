"""Distributed data-parallel training: one process per rank, each training on its share.

`lernwerk train --nproc N` (or `torchrun --nproc-per-node N -m lernwerk train ...`) starts N
processes; each calls `init_from_env` and joins one process group (`gloo` for the CPU,
`nccl` beside it for CUDA tensors). Rank 0 runs the run as a single process would: it
writes the store, the events and the checkpoints, and decides when to stop. The other
ranks build the same network and data, wait for rank 0 to name the run (`wait_for_run`),
and train their share of every epoch; they write nothing.

What a rank does differently from one process lives here: its share of an epoch
(`epoch_share`), the sum of the epoch's metrics over all ranks (`all_sum`) and rank 0's
word on stopping (`rank0_decides`). The trainer asks `active()` whether it runs in a group.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from lernwerk.errors import SpecError

# How long a rank waits in a collective (rank 0 loads and stores the data before it names
# the run, so the others wait that long at first).
TIMEOUT = timedelta(minutes=30)

_announced = {"done": False}  # rank 0 names the run once per process


@dataclass(frozen=True)
class World:
    """This process's place in the group."""

    rank: int
    size: int
    local_rank: int

    @property
    def is_writer(self) -> bool:
        """Whether this rank writes the run (rank 0 only)."""
        return self.rank == 0


def env_world() -> World | None:
    """The rank and world size that torchrun (or `lernwerk train --nproc`) set; None
    outside such a launch or in a world of one."""
    size = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if size <= 1:
        return None
    rank = int(os.environ.get("RANK", "0"))
    return World(rank, size, int(os.environ.get("LOCAL_RANK", str(rank))))


def backend() -> str:
    """gloo for CPU tensors; nccl beside it for CUDA tensors when CUDA is here."""
    return "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"


def init_from_env() -> World | None:
    """Join the process group torchrun's environment describes (MASTER_ADDR, MASTER_PORT,
    RANK, WORLD_SIZE); None when this is not a distributed launch."""
    world = env_world()
    if world is None:
        return None
    if not dist.is_initialized():
        if world.local_rank < torch.cuda.device_count():
            torch.cuda.set_device(world.local_rank)  # cuda means cuda:LOCAL_RANK
        dist.init_process_group(backend(), timeout=TIMEOUT)
    _announced["done"] = False
    return world


def active() -> World | None:
    """This process's place when it runs in an initialised group of more than one."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() <= 1:
        return None
    rank = dist.get_rank()
    return World(rank, dist.get_world_size(), int(os.environ.get("LOCAL_RANK", str(rank))))


def shutdown() -> None:
    """Leave the process group (no-op outside one)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def local_device(device: torch.device) -> torch.device:
    """cuda -> cuda:LOCAL_RANK in a group (one GPU per rank); anything else as it is."""
    world = active()
    if world is None or device.type != "cuda":
        return device
    if world.local_rank >= torch.cuda.device_count():
        raise SpecError(
            f"device cuda: local rank {world.local_rank} trains on GPU {world.local_rank}; this "
            f"machine has {torch.cuda.device_count()}: start at most that many processes on it",
            where="device",
        )
    return torch.device("cuda", world.local_rank)


def check_shareable(model: torch.nn.Module, optimizers: list[torch.optim.Optimizer]) -> None:
    """Refuse a network that DDP cannot train: nothing steps (a memory bank) or no weight
    needs a gradient (all frozen).

    Raises:
        SpecError: naming the model and what to do instead.
    """
    if optimizers and any(p.requires_grad for p in model.parameters()):
        return
    name = getattr(getattr(model, "spec", None), "name", type(model).__name__)
    raise SpecError(
        f"model '{name}' has no weights that train (a memory bank, or every layer frozen); "
        "distributed training has nothing to share: train it in one process (leave --nproc "
        "out)",
        where="model",
    )


# -- rank 0 names the run ---------------------------------------------------------------------


def announce(run_id: str | None, *, resume: bool = False) -> None:
    """Rank 0: tell the other ranks which run to train (None: there is none, they end).

    Only the first call of a process counts, so a caller may announce None in a `finally`
    after the run was named."""
    world = active()
    if world is None or not world.is_writer or _announced["done"]:
        return
    _announced["done"] = True
    dist.broadcast_object_list([run_id, resume], src=0, device=torch.device("cpu"))


def wait_for_run() -> tuple[str, bool] | None:
    """Ranks > 0: the run rank 0 names and whether it resumes; None when it names none."""
    message: list[object] = [None, False]
    dist.broadcast_object_list(message, src=0, device=torch.device("cpu"))
    run_id, resume = message
    return None if run_id is None else (str(run_id), bool(resume))


# -- during training ----------------------------------------------------------------------------


def rank0_decides(flag: bool) -> bool:
    """Rank 0's `flag` on every rank (a stop: rank 0 decides and all stop at the same step)."""
    message = torch.tensor([1 if flag else 0], dtype=torch.int32)
    dist.broadcast(message, src=0)
    return bool(message.item())


def all_sum(values: torch.Tensor) -> torch.Tensor:
    """`values` summed over all ranks (float64, on their device); every rank gets the sum."""
    total = values.to(torch.float64)
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total


def rank_batch_size(batch_size: int, world_size: int) -> int:
    """Each rank's batch: the global `batch_size` split over the ranks (rounded up, so the
    global batch is `world_size` x this, at most world_size - 1 samples more)."""
    return max(1, math.ceil(batch_size / world_size))


def share_size(n: int, world_size: int) -> int:
    """How many samples each rank visits per epoch of `n` (the last share is filled up)."""
    return math.ceil(n / world_size)


def epoch_share(order: torch.Tensor, world: World) -> torch.Tensor:
    """This rank's share of an epoch's global `order` (n,) -> (ceil(n / size),), split as
    torch's `DistributedSampler` splits: padded with the first samples to a multiple of the
    ranks, then every size-th sample from the rank's position.

    The order is the one a single process draws from the run's seeded generator (a
    permutation, or class-balanced draws), the same on every rank; so the ranks' k-th
    batches of batch_size / N samples together are the single process's k-th batch.
    """
    n = len(order)
    total = share_size(n, world.size) * world.size
    padded = order.repeat(math.ceil(total / n))[:total] if total > n else order  # (total,)
    return padded[world.rank : total : world.size]
