"""The hot-folder watcher in process: each file judged once, the log exact across crashes,
half-written files waited for, and verdicts delivered to a real broker and receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.api.watch_helpers import (
    Broker,
    Receiver,
    Subscriber,
    read_log,
    smiley_png,
    train_smiley_run,
    wait_for,
    write_slowly,
)

import lernwerk
from lernwerk.api.watch import Watcher


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> lernwerk.Run:
    ws = tmp_path_factory.mktemp("watch") / "ws"
    return lernwerk.Workspace(ws).run(train_smiley_run(ws))


@pytest.fixture
def hot(tmp_path: Path) -> Path:
    folder = tmp_path / "hot"
    folder.mkdir()
    return folder


@pytest.fixture
def make_watcher(run: lernwerk.Run, hot: Path, tmp_path: Path) -> Iterator:
    started: list[Watcher] = []

    def make(**options: object) -> Watcher:
        options = {"log": tmp_path / "verdicts.csv", "interval": 0.05, "settle": 0.1, **options}
        watcher = Watcher(run, hot, **options)  # type: ignore[arg-type]
        watcher.start()
        started.append(watcher)
        return watcher

    yield make
    for watcher in started:
        watcher.close()


def poll_until(watcher: Watcher, judged: int, timeout: float = 20) -> None:
    """Poll until `judged` files have verdicts in this watcher's life."""
    wait_for(lambda: watcher.poll() >= 0 and watcher.judged >= judged, timeout, f"{judged} files")


def test_each_file_once_unreadable_logged_and_a_restart_judges_only_new_ones(
    make_watcher, hot: Path, tmp_path: Path
) -> None:
    for i in range(3):
        (hot / f"part-{i}.png").write_bytes(smiley_png(i))
    (hot / "broken.png").write_bytes(b"not an image at all")
    (hot / ".hidden.png").write_bytes(smiley_png(9))  # hidden and partial names are skipped
    (hot / "part-9.png.part").write_bytes(smiley_png(9))
    first = make_watcher()
    poll_until(first, 4)
    for _ in range(3):
        first.poll()
    assert first.judged == 4
    first.close()

    rows = read_log(tmp_path / "verdicts.csv")
    assert sorted(r["file"] for r in rows) == [
        "broken.png",
        "part-0.png",
        "part-1.png",
        "part-2.png",
    ]
    by_file = {r["file"]: r for r in rows}
    assert by_file["broken.png"]["verdict"] == "unreadable"
    assert "not a PNG" in by_file["broken.png"]["reason"]
    assert str(hot) not in by_file["broken.png"]["reason"]  # the path as the folder names it
    assert by_file["part-0.png"]["verdict"] in run_classes()
    assert 0 < float(by_file["part-0.png"]["probability"]) <= 1
    assert len({r["file_id"] for r in rows}) == 4

    (hot / "part-3.png").write_bytes(smiley_png(3))  # arrives while no watcher runs
    second = make_watcher()
    poll_until(second, 1)
    for _ in range(3):
        second.poll()
    assert second.judged == 1
    assert [r["file"] for r in read_log(tmp_path / "verdicts.csv")][4:] == ["part-3.png"]


def run_classes() -> list[str]:
    from lernwerk.data.synth import smileys

    return list(smileys.CLASSES)


def test_a_file_still_being_written_is_not_read_half(make_watcher, hot: Path) -> None:
    watcher = make_watcher(settle=0.5)
    data = smiley_png(1)
    writer = threading.Thread(target=write_slowly, args=(hot / "slow.png", data, 0.4))
    writer.start()
    judged_while_writing = 0
    while writer.is_alive():
        judged_while_writing += watcher.poll()
    assert judged_while_writing == 0
    poll_until(watcher, 1)
    assert watcher.state is not None
    (seq, row), *_ = watcher.state.verdicts_after(0)
    assert row["verdict"] != "unreadable", row


class Killed(BaseException):
    """The process dies here."""


def kill_at(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str, *, before: bool = False
) -> None:
    """Die right after `owner.name` has run (or right before): what a kill -9 leaves."""
    real = getattr(owner, name)

    def dying(*args: object) -> None:
        if not before:
            real(*args)
        raise Killed

    monkeypatch.setattr(owner, name, dying)


def judge_until_killed(watcher: Watcher, timeout: float = 20) -> None:
    def killed() -> bool:
        try:
            watcher.poll()
        except Killed:
            return True
        return False

    wait_for(killed, timeout, "the kill")


def test_log_is_exact_when_killed_between_verdict_and_log(
    make_watcher, hot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "verdicts.csv"
    for i in range(3):
        (hot / f"a{i}.png").write_bytes(smiley_png(i))
    # killed after a verdict was committed, before it reached the log
    watcher = make_watcher()
    kill_at(monkeypatch, watcher.state, "record")
    judge_until_killed(watcher)
    watcher.close()
    monkeypatch.undo()
    assert read_log(log) == []
    watcher = make_watcher()
    assert len(read_log(log)) == 1  # the one verdict stored is logged at start
    poll_until(watcher, 2)
    watcher.close()

    # killed after lines reached the log, before the store knew it; then a line cut short
    for i in range(3):
        (hot / f"b{i}.png").write_bytes(smiley_png(i))
    watcher = make_watcher()
    assert watcher.state is not None
    kill_at(monkeypatch, watcher.state, "set_log_seq", before=True)
    judge_until_killed(watcher)
    watcher.close()
    monkeypatch.undo()
    with open(log, "ab") as f:
        f.write(b"2026-01-01T00:00:00.000+00:00,b9.p")  # a line the kill cut short
    watcher = make_watcher()
    wait_for(lambda: watcher.poll() >= 0 and len(read_log(log)) >= 6, 20, "6 lines")
    for _ in range(3):
        watcher.poll()
    files = [r["file"] for r in read_log(log)]
    assert sorted(files) == ["a0.png", "a1.png", "a2.png", "b0.png", "b1.png", "b2.png"]
    assert log.read_bytes().endswith(b"\n")


def test_webhook_down_then_failing_then_up_gets_every_verdict_once(make_watcher, hot: Path) -> None:
    receiver = Receiver()  # not started yet: connections are refused
    watcher = make_watcher(webhook=receiver.url)
    for i in range(5):
        (hot / f"w{i}.png").write_bytes(smiley_png(i))
    poll_until(watcher, 5)
    assert watcher.state is not None
    assert watcher.state.waiting() == {"webhook": 5}
    receiver.status = 503
    receiver.start()
    try:
        wait_for(lambda: receiver.server is not None, 1, "the receiver")
        assert watcher.state.waiting() == {"webhook": 5}
        receiver.status = 200
        wait_for(lambda: len(receiver.bodies) == 5, 30, "5 POSTs")
        wait_for(lambda: watcher.state.waiting() == {}, 5, "an empty outbox")
    finally:
        receiver.stop()
    assert sorted(b["file"] for b in receiver.bodies) == [f"w{i}.png" for i in range(5)]
    assert receiver.keys == [b["file_id"] for b in receiver.bodies]
    assert all(set(b["probabilities"]) == set(run_classes()) for b in receiver.bodies)


def test_broker_down_then_up_gets_every_verdict(make_watcher, hot: Path, tmp_path: Path) -> None:
    broker = Broker(tmp_path / "broker")
    broker.start()
    subscriber = Subscriber(broker.port, "line/1/verdicts")
    try:
        watcher = make_watcher(mqtt=f"127.0.0.1:{broker.port}/line/1/verdicts")
        (hot / "before.png").write_bytes(smiley_png(0))
        poll_until(watcher, 1)
        wait_for(lambda: len(subscriber.ids()) == 1, 10, "the first message")
        broker.stop()
        for i in range(20):
            (hot / f"down-{i}.png").write_bytes(smiley_png(i))
        poll_until(watcher, 21)
        assert watcher.state is not None
        assert watcher.state.waiting() == {"mqtt": 20}  # kept, not lost
        broker.start()
        wait_for(lambda: watcher.state.waiting() == {}, 60, "the outbox to empty")
        wait_for(lambda: len(set(subscriber.ids())) == 21, 20, "21 distinct messages")
    finally:
        subscriber.stop()
        broker.stop()
    log_ids = {r["file_id"] for r in read_log(tmp_path / "verdicts.csv")}
    assert set(subscriber.ids()) == log_ids
    assert len(subscriber.ids()) - len(log_ids) <= 2  # repeats (QoS 1) are rare


def test_a_log_inside_the_folder_is_not_judged_and_subfolders_only_when_recursive(
    make_watcher, hot: Path
) -> None:
    (hot / "line2").mkdir()
    (hot / "top.png").write_bytes(smiley_png(0))
    (hot / "line2" / "deep.png").write_bytes(smiley_png(1))
    flat = make_watcher(log=hot / "verdicts.csv")
    poll_until(flat, 1)
    for _ in range(3):
        flat.poll()
    flat.close()
    assert [r["file"] for r in read_log(hot / "verdicts.csv")] == ["top.png"]

    deep = make_watcher(log=hot / "verdicts.csv", recursive=True)
    poll_until(deep, 1)
    for _ in range(3):
        deep.poll()
    assert [r["file"] for r in read_log(hot / "verdicts.csv")] == ["top.png", "line2/deep.png"]


def test_each_task_words_its_own_verdict() -> None:
    from lernwerk.training.tasks import ClassificationTask, RegressionTask
    from lernwerk.training.tasks_sequence import AnomalyTask

    classifier = ClassificationTask(loss="cross_entropy", num_outputs=2, classes=["ok", "bad"])
    answer = {"predicted": "bad", "confidence": 0.7, "probabilities": {"ok": 0.3, "bad": 0.7}}
    assert classifier.verdict(answer) == {
        "verdict": "bad",
        "probability": 0.7,
        "probabilities": {"ok": 0.3, "bad": 0.7},
    }
    assert RegressionTask(loss="mse", num_outputs=1).verdict({"value": 1.5}) == {
        "verdict": "1.5",
        "value": 1.5,
    }
    detector = AnomalyTask(loss="mse", num_outputs=1, classes=["ok", "bad"])
    flagged = {"score": 3.0, "threshold": 2.0, "is_anomaly": True, "normal_class": "ok"}
    assert detector.verdict(flagged) == {"verdict": "anomaly", "score": 3.0, "threshold": 2.0}
    assert detector.verdict({**flagged, "is_anomaly": False})["verdict"] == "normal"
