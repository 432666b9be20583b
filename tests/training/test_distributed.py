"""Distributed training's pieces that need no second process: shares, batch sizes, launch."""

from __future__ import annotations

import sys

import pytest
import torch

from lernwerk.cli.launch import check_launch, strip_launch_options, torchrun_command
from lernwerk.errors import SpecError
from lernwerk.training import distributed
from lernwerk.training.distributed import World, epoch_share, rank_batch_size, share_size


@pytest.mark.parametrize(("n", "size"), [(10, 2), (11, 2), (7, 3), (2, 3), (1, 4)])
def test_shares_cover_the_epoch_equally_as_distributed_sampler_splits(n: int, size: int) -> None:
    order = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    shares = [epoch_share(order, World(rank, size, rank)) for rank in range(size)]
    assert {len(s) for s in shares} == {share_size(n, size)}  # every rank: as many steps
    seen = torch.cat(shares)
    assert set(seen.tolist()) == set(order.tolist())  # each sample in some share
    assert len(seen) - n < size or n < size  # only the last share is filled up
    # torch's DistributedSampler (shuffle off) splits the same positions
    from torch.utils.data.distributed import DistributedSampler

    for rank, share in enumerate(shares):
        positions = list(DistributedSampler(range(n), size, rank, shuffle=False))
        assert share.tolist() == order[positions].tolist()


def test_the_ranks_batches_together_are_the_single_process_batch() -> None:
    order = torch.randperm(64, generator=torch.Generator().manual_seed(3))
    batch, size = 16, 4
    per_rank = rank_batch_size(batch, size)
    shares = [epoch_share(order, World(r, size, r)) for r in range(size)]
    for k in range(64 // batch):
        together = torch.cat([s[k * per_rank : (k + 1) * per_rank] for s in shares])
        assert sorted(together.tolist()) == sorted(order[k * batch : (k + 1) * batch].tolist())


def test_rank_batch_size_splits_the_global_batch_rounding_up() -> None:
    assert rank_batch_size(32, 2) == 16
    assert rank_batch_size(33, 2) == 17
    assert rank_batch_size(1, 4) == 1


def test_outside_a_process_group_nothing_is_distributed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.env_world() is None and distributed.active() is None
    assert distributed.local_device(torch.device("cpu")) == torch.device("cpu")
    distributed.announce("abc")  # a no-op in one process


def test_torchrun_sets_the_world(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("LOCAL_RANK", "0")
    world = distributed.env_world()
    assert world == World(rank=2, size=4, local_rank=0) and not world.is_writer


@pytest.mark.parametrize(
    ("nproc", "nnodes", "endpoint", "needle"),
    [
        (0, None, None, "--nproc: expected a number of processes of at least 1; received 0"),
        (-2, None, None, "received -2"),
        (2, 0, None, "--nnodes: expected"),
        (2, 2, None, "give --rdzv-endpoint HOST:PORT"),
        (2, 2, "nohost", "--rdzv-endpoint: expected host:port"),
    ],
)
def test_bad_launch_options_are_named(
    nproc: int, nnodes: int | None, endpoint: str | None, needle: str
) -> None:
    with pytest.raises(SpecError, match=needle.replace("(", r"\(")):
        check_launch(nproc, nnodes, endpoint)


def test_launch_options_under_torchrun_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(SpecError, match="already started by torchrun"):
        check_launch(2, None, None)
    assert check_launch(None, None, None) is False  # torchrun's own ranks: no launch


def test_the_ranks_get_the_command_line_without_the_launch_options() -> None:
    argv = ["-w", "ws", "train", "--nproc", "2", "-d", "xor", "--nnodes=1", "--epochs", "2"]
    assert strip_launch_options(argv) == ["-w", "ws", "train", "-d", "xor", "--epochs", "2"]
    command = torchrun_command(argv + ["--rdzv-endpoint", "h:29400"], 4, 2, "h:29400")
    assert command[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert command[3:] == [
        *("--nnodes", "2", "--nproc-per-node", "4", "--rdzv-backend", "c10d"),
        *("--rdzv-endpoint", "h:29400", "-m", "lernwerk"),
        *("-w", "ws", "train", "-d", "xor", "--epochs", "2"),
    ]


def test_a_network_with_nothing_to_train_is_refused_by_name() -> None:
    net = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    distributed.check_shareable(net, [optimizer])  # trains: fine
    with pytest.raises(SpecError, match="no weights that train.*leave --nproc out"):
        distributed.check_shareable(net, [])  # a memory bank steps no optimizer
    net.requires_grad_(False)
    with pytest.raises(SpecError, match="model 'Linear' has no weights that train"):
        distributed.check_shareable(net, [optimizer])


def test_cuda_means_the_local_ranks_gpu_and_a_missing_one_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(distributed, "active", lambda: World(rank=3, size=4, local_rank=1))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert distributed.local_device(torch.device("cuda")) == torch.device("cuda", 1)
    assert distributed.local_device(torch.device("cpu")) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(SpecError, match="local rank 1 trains on GPU 1; this machine has 1"):
        distributed.local_device(torch.device("cuda"))
