"""`lernwerk train --model inceptiontime`: one run that trains, stops on Ctrl-C, resumes,
predicts and exports; on a table it exits 2 with one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lernwerk.cli import main

SERIES = "italypowerdemand"  # 24 steps: an epoch of inceptiontime takes a moment
EPOCHS = 6  # GunPoint's epochs (3 steps of 150-step series): Ctrl-C comes after the first


def run_cli(capsys: pytest.CaptureFixture[str], ws: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--workspace", str(ws), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_inceptiontime_trains_predicts_and_exports_as_one_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    code, out, err = run_cli(
        capsys, ws, "train", "-d", SERIES, "-m", "inceptiontime", "--epochs", "1", "--json"
    )
    assert code == 0, err
    run_id = json.loads(out)["run_id"]
    shown = json.loads(run_cli(capsys, ws, "runs", "show", run_id, "--json")[1])
    (epoch,) = shown["history"]
    assert {f"member{i}_train_accuracy" for i in range(1, 6)} <= set(epoch)  # no hold-out here
    x = tmp_path / "x.npy"
    np.save(x, np.random.default_rng(0).normal(size=(2, 1, 24)).astype("float32"))
    code, out, err = run_cli(capsys, ws, "predict", run_id, str(x), "--json")
    assert code == 0, err
    predictions = json.loads(out)
    assert len(predictions) == 2
    assert all(abs(sum(p["probabilities"].values()) - 1) < 1e-5 for p in predictions)
    code, out, err = run_cli(capsys, ws, "export", run_id, "--out", str(tmp_path / "exp"), "--json")
    assert code == 0, err
    assert {Path(f).name for f in json.loads(out)["files"]} == {"model.safetensors", "model.json"}


@pytest.mark.slow  # 30 s; an ensemble's stop and resume as one run: tests/training
@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_ctrl_c_stops_inceptiontime_and_resume_finishes_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    proc = subprocess.Popen(
        [sys.executable, "-m", "lernwerk.cli", "--workspace", str(ws), "train", "-d", "gunpoint"]
        + ["-m", "inceptiontime", "--epochs", str(EPOCHS), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        code, out, _ = run_cli(capsys, ws, "runs", "list", "--json") if ws.exists() else (1, "", "")
        rows = json.loads(out) if code == 0 else []
        if rows and int(rows[0]["epochs"].split("/")[0]) >= 1:
            break
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert json.loads(out)["status"] == "stopped"
    row = json.loads(run_cli(capsys, ws, "runs", "list", "--json")[1])[0]
    done = int(row["epochs"].split("/")[0])
    assert row["status"] == "stopped" and done >= 1
    assert done < EPOCHS
    code, out, err = run_cli(capsys, ws, "train", "--resume", row["id"], "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["run_id"] == row["id"]
    assert result["status"] == "finished" and result["epochs"] == EPOCHS
    history = json.loads(run_cli(capsys, ws, "runs", "show", row["id"], "--json")[1])["history"]
    assert [h["epoch"] for h in history] == list(range(1, EPOCHS + 1))
    assert all("member5_train_loss" in h for h in history)


@pytest.mark.parametrize("dataset", ["xor:samples=60", "digits"])
def test_inceptiontime_on_a_table_or_images_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, dataset: str
) -> None:
    ws = tmp_path / "ws"
    code, _, err = run_cli(capsys, ws, "train", "-d", dataset, "-m", "inceptiontime")
    assert code == 2, err
    assert "(Conv1D): expects a sequence input (C, T)" in err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    assert json.loads(run_cli(capsys, ws, "runs", "list", "--json")[1]) == []
