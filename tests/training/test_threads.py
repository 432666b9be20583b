"""The trainer's thread count: 1 for small steps, else the cores that are idle now."""

import pytest

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
