"""`lernwerk train --nproc 2`: two processes, gloo on 127.0.0.1 at a free port (issue 18).

The distributed run is stored as a single-process run is (the same files, keys and curve
lengths), and since the two ranks' batches together are the single process's batches
(`distributed.epoch_share`), its curve is the single process's within rounding.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lernwerk.cli import main

TRAIN = ["train", "-d", "xor", "-m", "mlp", "--json"]


def _cli(workspace: Path, *args: str, timeout: float = 420) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lernwerk", "-w", str(workspace), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _stored(workspace: Path, run_id: str) -> dict[str, Any]:
    """What the store holds of a run: its files, record, epochs and event types."""
    from lernwerk.api import Workspace

    ws = Workspace(workspace)
    rec = ws.store.get_run(run_id)
    return {
        "files": sorted(p.name for p in ws.store.run_dir(run_id).iterdir()),
        "record": rec,
        "epochs": ws.store.epochs(run_id),
        "events": {e.type for e in ws.store.events(run_id)},
    }


def _assert_same_shape(one: dict[str, Any], two: dict[str, Any]) -> None:
    assert two["files"] == one["files"]
    a, b = one["record"], two["record"]
    assert b.status == a.status and b.epoch == a.epoch
    assert sorted(b.to_dict()) == sorted(a.to_dict())
    assert b.config == a.config  # the same resolved settings, the global batch included
    assert {s: sorted(m) for s, m in b.metrics.items()} == {
        s: sorted(m) for s, m in a.metrics.items()
    }
    assert [sorted(e) for e in two["epochs"]] == [sorted(e) for e in one["epochs"]]
    assert two["events"] == one["events"]
    for e1, e2 in zip(one["epochs"], two["epochs"], strict=True):  # the same batches
        for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
            assert e2[key] == pytest.approx(e1[key], rel=1e-4, abs=1e-6), (e1["epoch"], key)


@pytest.mark.parametrize("args", [["--nproc", "0"], ["--nproc", "-3"], ["--nnodes", "0"]])
def test_a_count_below_one_is_one_line_exit_2_and_nothing_written(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = tmp_path / "ws"
    assert main(["-w", str(workspace), *TRAIN, *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expected a number of processes of at least 1" in err, err
    assert args[0] in err
    assert not workspace.exists()  # not even the workspace


def test_two_processes_store_the_run_one_process_would_and_resume_it(tmp_path: Path) -> None:
    from lernwerk.api import Workspace

    workspace = tmp_path / "ws"
    single = Workspace(workspace).fit("xor", "mlp", epochs=2, batch_size=16)
    done = _cli(workspace, *TRAIN, "--epochs", "2", "--batch-size", "16", "--nproc", "2")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # the other rank prints nothing; --json has no progress bar
    result = json.loads(done.stdout)  # one document: rank 0's
    assert result["status"] == "finished" and result["epochs"] == 2
    _assert_same_shape(_stored(workspace, single.id), _stored(workspace, result["run_id"]))

    # resume both to 3 epochs: the distributed one in two processes again
    Workspace(workspace).resume(single.id, epochs=3)
    done = _cli(workspace, "train", "--resume", result["run_id"], "--epochs", "3", "--nproc", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"resuming run {result['run_id']} …")  # rank 0's line only
    assert done.stdout.count("resuming run") == 1
    _assert_same_shape(_stored(workspace, single.id), _stored(workspace, result["run_id"]))


def test_a_cnn_in_two_processes_takes_one_process_steps(tmp_path: Path) -> None:
    """channels_last weights: DDP must be built after the layout changes (else it warns of
    grad strides on stderr and the curve drifts by ~1 %)."""
    from lernwerk.api import Workspace

    workspace = tmp_path / "ws"
    args = ["train", "-d", "digits", "-m", "lenet", "--epochs", "1", "--seed", "1", "--json"]
    single = Workspace(workspace).fit("digits", "lenet", epochs=1, seed=1)
    done = _cli(workspace, *args, "--nproc", "2")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    run_id = json.loads(done.stdout)["run_id"]
    (one,), (two,) = _stored(workspace, single.id)["epochs"], _stored(workspace, run_id)["epochs"]
    # the same batches but one (1079 samples: rank 1's last share repeats a sample)
    assert two["train_loss"] == pytest.approx(one["train_loss"], rel=3e-3)
    assert two["val_accuracy"] == pytest.approx(one["val_accuracy"], abs=0.02)


def _wait_for_epoch(workspace: Path, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(workspace / "lernwerk.db") as con:
                row = con.execute("SELECT epoch FROM runs").fetchone()
            if row and row[0] and row[0] >= 1:
                return
        except sqlite3.Error:
            pass  # not created yet
        time.sleep(0.2)
    raise AssertionError(f"no epoch stored; exit {proc.poll()}: {proc.stderr.read()}")  # type: ignore[union-attr]


def test_ctrl_c_stops_every_rank_after_the_same_step_and_the_run_resumes(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    epochs = ["--epochs", "15", "--batch-size", "2"]  # ~150 steps an epoch: time to stop
    proc = subprocess.Popen(
        [sys.executable, "-m", "lernwerk", "-w", str(workspace), *TRAIN, *epochs, "--nproc", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_epoch(workspace, proc)
    proc.send_signal(signal.SIGINT)  # what a Ctrl-C in the terminal sends the launcher
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip() == "stopping after the current step (Ctrl-C again to abort)…"  # rank 0
    result = json.loads(out)
    assert result["status"] == "stopped" and 1 <= result["epochs"] < 15
    stored = _stored(workspace, result["run_id"])
    assert "checkpoint.safetensors" in stored["files"] and "RunStopped" in stored["events"]
    assert len(stored["epochs"]) == result["epochs"]

    done = _cli(workspace, "train", "--resume", result["run_id"], "--nproc", "2", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "finished"
    stored = _stored(workspace, result["run_id"])
    assert [e["epoch"] for e in stored["epochs"]] == list(range(1, 16))


@pytest.mark.slow
def test_bad_input_found_by_rank_0_is_its_one_line_and_the_others_end(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    done = _cli(workspace, "train", "-d", "no-such-set", "-m", "mlp", "--nproc", "2", "--json")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "dataset 'no-such-set' not found" in done.stderr
    assert done.stdout == ""
    from lernwerk.api import Workspace

    assert Workspace(workspace).runs() == []  # nothing of the run was stored
