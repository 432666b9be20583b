"""`lernwerk watch` as a user runs it: killed with -9 in a stream of 200 files and started
again, every file has one verdict in the log and reaches the broker; bad input is one line
and exit 2 with nothing written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from tests.api.watch_helpers import (
    Broker,
    Subscriber,
    free_port,
    read_log,
    smiley_png,
    train_smiley_run,
    wait_for,
    write_slowly,
)

import lernwerk
from lernwerk.api.watch import LOG_COLUMNS, Watcher
from lernwerk.cli import main

TOPIC = "line/7/verdicts"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    ws = tmp_path_factory.mktemp("cli-watch") / "ws"
    return ws, train_smiley_run(ws)


def start_watch(ws: Path, run_id: str, *args: str, stderr: Path) -> subprocess.Popen[bytes]:
    with open(stderr, "ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "lernwerk.cli", "--workspace", str(ws), "watch", run_id]
            + [*args, "--interval", "0.1", "--settle", "0.3", "--quiet"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )


def test_kill_9_in_a_stream_of_200_files_loses_and_repeats_no_verdict(
    trained: tuple[Path, str], tmp_path: Path
) -> None:
    ws, run_id = trained
    hot, log, stderr = tmp_path / "hot", tmp_path / "verdicts.csv", tmp_path / "stderr.txt"
    hot.mkdir()
    broker = Broker(tmp_path / "broker")
    broker.start()
    subscriber = Subscriber(broker.port, TOPIC)
    args = (str(hot), "--log", str(log), "--mqtt", f"127.0.0.1:{broker.port}/{TOPIC}")
    names = [f"part-{i:03d}.png" for i in range(200)]

    def stream() -> None:
        for i, name in enumerate(names):
            if i % 4 == 0:  # a camera that writes in two goes
                write_slowly(hot / name, smiley_png(i), pause=0.05)
            else:
                (hot / name).write_bytes(smiley_png(i))
            time.sleep(0.02)

    def logged() -> int:
        return len(read_log(log)) if log.exists() else 0

    watcher = start_watch(ws, run_id, *args, stderr=stderr)
    writer = threading.Thread(target=stream)
    try:
        wait_for(lambda: b"watching" in stderr.read_bytes(), 60, "the watcher to start")
        writer.start()
        wait_for(lambda: logged() >= 40, 60, "40 verdicts")
        watcher.send_signal(signal.SIGKILL)
        watcher.wait(10)
        assert logged() < 200, "the kill came too late to test anything"
        writer.join()
        watcher = start_watch(ws, run_id, *args, stderr=stderr)
        wait_for(lambda: logged() >= 200, 120, "200 verdicts")
        wait_for(lambda: len(set(subscriber.ids())) >= 200, 30, "200 distinct messages")
        watcher.send_signal(signal.SIGINT)  # Ctrl-C
        assert watcher.wait(30) == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()
        writer.join()
        subscriber.stop()
        broker.stop()

    rows = read_log(log)
    assert Counter(r["file"] for r in rows) == Counter(names)  # each file exactly once
    assert all(r["verdict"] != "unreadable" for r in rows), "a file was read half-written"
    ids = subscriber.ids()
    assert set(ids) == {r["file_id"] for r in rows}  # every verdict reached the broker
    repeats = len(ids) - len(set(ids))
    print(f"{len(ids)} MQTT messages for {len(set(ids))} verdicts: {repeats} repeats")
    assert repeats <= 10, f"{repeats} repeated messages"
    assert "stopped: " in stderr.read_text()


def run_cli(capsys: pytest.CaptureFixture[str], ws: Path, *args: str) -> tuple[int, str]:
    code = main(["--workspace", str(ws), *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--webhook", "ftp://example.com/in"], "--webhook 'ftp://example.com/in' is not an http"),
        (["--webhook", "localhost:8000"], "is not an http(s) URL"),
        (["--mqtt", "127.0.0.1:1883"], "lacks a topic"),
        (["--mqtt", "127.0.0.1:99999/t"], "port '99999' is not 1..65535"),
        (["--mqtt", "127.0.0.1:1883/line/#"], "takes no wildcards"),
        (["--mqtt", "127.0.0.1:{free}/line"], "cannot reach the MQTT broker at 127.0.0.1:"),
        (["--interval", "0"], "--interval must be above 0"),
    ],
)
def test_bad_options_exit_2_with_one_line_and_write_nothing(
    capsys: pytest.CaptureFixture[str],
    trained: tuple[Path, str],
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    ws, run_id = trained
    hot, log = tmp_path / "hot", tmp_path / "verdicts.csv"
    hot.mkdir()
    args = [a.replace("{free}", str(free_port())) for a in args]
    before = sorted((ws / "watch").rglob("*")) if (ws / "watch").exists() else []
    code, err = run_cli(capsys, ws, "watch", run_id, str(hot), "--log", str(log), *args)
    assert code == 2
    assert message in err and err.count("\n") == 1, err
    assert not log.exists()
    assert (sorted((ws / "watch").rglob("*")) if (ws / "watch").exists() else []) == before


def test_a_missing_folder_a_foreign_log_and_a_run_without_a_model_are_refused(
    capsys: pytest.CaptureFixture[str], trained: tuple[Path, str], tmp_path: Path
) -> None:
    ws, run_id = trained
    code, err = run_cli(capsys, ws, "watch", run_id, str(tmp_path / "nope"))
    assert code == 2 and f"folder {tmp_path / 'nope'} does not exist" in err
    (tmp_path / "hot").mkdir()
    foreign = tmp_path / "notes.csv"
    foreign.write_text("a,b\n1,2\n")
    code, err = run_cli(capsys, ws, "watch", run_id, str(tmp_path / "hot"), "--log", str(foreign))
    assert code == 2 and "is not a lernwerk verdict log" in err
    assert foreign.read_text() == "a,b\n1,2\n"

    store = lernwerk.Workspace(ws).store
    store.mark_running(run_id)  # this process "trains" it
    try:
        code, err = run_cli(capsys, ws, "watch", run_id, str(tmp_path / "hot"))
    finally:
        store.update_run(run_id, status="finished")
    assert code == 2 and f"run {run_id} is still training (status running)" in err
    assert err.count("\n") == 1

    source = store.get_run(run_id)
    failed = store.create_run(
        name="failed",
        config=source.config,
        model=source.model,
        dataset=source.dataset,
        dataset_hash=source.dataset_hash,
        device="cpu",
    )
    store.update_run(failed.id, status="failed")
    code, err = run_cli(capsys, ws, "watch", failed.id, str(tmp_path / "hot"))
    assert code == 2 and f"run {failed.id} has no trained model (status failed)" in err
    assert not (ws / "watch").exists() or not any((ws / "watch").glob(f"{failed.id}-*"))


def test_a_second_watcher_on_the_same_folder_is_refused(
    capsys: pytest.CaptureFixture[str], trained: tuple[Path, str], tmp_path: Path
) -> None:
    ws, run_id = trained
    hot = tmp_path / "hot"
    hot.mkdir()
    first = Watcher(lernwerk.Workspace(ws).run(run_id), hot)
    first.start()  # holds the watch's lock, as a running `lernwerk watch` does
    try:
        code, err = run_cli(capsys, ws, "watch", run_id, str(hot))
        assert code == 2 and f"{hot} is already watched with run {run_id}" in err
    finally:
        first.close()
    log = ws / "watch" / first.state_dir.name / "verdicts.csv"
    assert log.read_text().splitlines() == [",".join(LOG_COLUMNS)]  # untouched by the second
