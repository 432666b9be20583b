"""The trainer's thread count: 1 for small steps, else the cores that are idle now."""

import pytest
import torch

import lernwerk
from lernwerk.config import ModelSpec
from lernwerk.models import build_network
from lernwerk.training import threads
from lernwerk.training.trainer import intra_op_threads


@pytest.mark.parametrize(
    ("idle", "available", "expected"),
    [
        (2.0, 2, 2),  # a quiet machine: every core
        (1.6, 2, 2),
        (1.4, 2, 1),  # one core busy with others' work: a second thread would wait on it
        (0.0, 2, 1),  # all busy: still one
        (7.9, 4, 4),  # never more than available
        (None, 4, 4),  # the system does not say: as before
    ],
)
def test_free_threads_rounds_the_idle_cores(monkeypatch, idle, available, expected) -> None:
    monkeypatch.setattr(threads, "idle_cores", lambda window_s=0.1: idle)
    assert threads.free_threads(available) == expected


def test_one_available_thread_needs_no_probe(monkeypatch) -> None:
    monkeypatch.setattr(threads, "idle_cores", lambda window_s=0.1: pytest.fail("probed"))
    assert threads.free_threads(1) == 1


def test_idle_cores_is_a_share_of_this_process_cores() -> None:
    idle = threads.idle_cores(0.05)
    if idle is None:
        pytest.skip("no /proc/stat here")
    import os

    assert 0.0 <= idle <= len(os.sched_getaffinity(0)) + 1e-9


def _net(spec: dict, shape: tuple[int, ...]):
    return build_network(ModelSpec.from_dict(spec), shape, 2)


def test_small_steps_take_one_thread_without_probing(monkeypatch) -> None:
    monkeypatch.setattr(threads, "idle_cores", lambda window_s=0.1: pytest.fail("probed"))
    mlp = _net({"layers": [{"Dense": {"units": 16}}, {"Dense": {"units": "auto"}}]}, (2,))
    assert intra_op_threads(mlp, 32, available=2) == 1


def test_large_steps_take_the_idle_cores(monkeypatch) -> None:
    cnn = _net(
        {
            "layers": [
                {"Conv2D": {"filters": 64, "kernel_size": 3}},
                "Flatten",
                {"Dense": {"units": "auto"}},
            ]
        },
        (3, 64, 64),
    )
    for idle, expected in ((2.0, 2), (0.3, 1)):
        monkeypatch.setattr(threads, "idle_cores", lambda window_s=0.1, idle=idle: idle)
        assert intra_op_threads(cnn, 64, available=2) == expected


class ThreadsSeen(lernwerk.Listener):
    """The intra-op threads torch has while each epoch of a run ends."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def on_epoch_end(self, event) -> None:
        self.seen.append(torch.get_num_threads())


# LeNet on the 8x8 digits at batch 64: ~99 MFLOP a step, above the one-thread size
LENET = {"seed": 1, "batch_size": 64, "early_stopping": 0}


@pytest.mark.parametrize("count", [1, 2])
def test_a_thread_count_in_the_config_is_the_count(tmp_path, monkeypatch, count) -> None:
    monkeypatch.setattr(threads, "idle_cores", lambda window_s=0.1: pytest.fail("probed"))
    before = torch.get_num_threads()
    seen = ThreadsSeen()
    ws = lernwerk.Workspace(tmp_path / "ws")
    run = ws.fit("digits", "lenet", epochs=2, threads=count, listeners=[seen], **LENET)
    assert run.config["train"]["threads"] == count
    assert seen.seen == [count, count]
    assert torch.get_num_threads() == before  # given back after the run


def test_a_resume_keeps_the_thread_count_its_run_started_with(tmp_path, monkeypatch) -> None:
    ws = lernwerk.Workspace(tmp_path / "ws")
    monkeypatch.setattr(threads, "idle_cores", lambda window_s=0.1: 2.0)  # a quiet machine
    first = ThreadsSeen()
    run = ws.fit("digits", "lenet", epochs=1, listeners=[first], **LENET)
    assert run.config["train"]["threads"] is None and first.seen == [
        min(2, torch.get_num_threads())
    ]
    monkeypatch.setattr(threads, "idle_cores", lambda window_s=0.1: 0.0)  # now a busy one
    later = ThreadsSeen()
    ws.resume(run.id, epochs=2, listeners=[later])
    assert later.seen == first.seen
