"""The command line as a user runs it: exit codes, one-line errors, JSON output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lernwerk.cli import main

XOR = "xor:samples=200"


def run_cli(capsys: pytest.CaptureFixture[str], ws: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--workspace", str(ws), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return tmp_path / "ws"


def test_train_json_prints_one_object_with_metrics(
    capsys: pytest.CaptureFixture[str], ws: Path
) -> None:
    code, out, _ = run_cli(capsys, ws, "train", "-d", XOR, "-m", "mlp", "--epochs", "3", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["status"] == "finished" and result["epochs"] == 3
    assert set(result["metrics"]) == {"val", "test"}
    assert 0 <= result["metrics"]["test"]["accuracy"] <= 1


def test_train_twice_with_seed_gives_same_metrics(
    capsys: pytest.CaptureFixture[str], ws: Path
) -> None:
    args = ("train", "-d", XOR, "-m", "mlp", "--epochs", "4", "--seed", "3", "--json")
    first = json.loads(run_cli(capsys, ws, *args)[1])
    second = json.loads(run_cli(capsys, ws, *args)[1])
    assert first["run_id"] != second["run_id"]
    assert first["metrics"] == second["metrics"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "-d", "nope", "-m", "mlp"], "dataset 'nope' not found"),
        (
            ["train", "-d", XOR, "-m", "nomodel"],
            "model 'nomodel' is neither a preset nor a spec file",
        ),
        (["train", "-d", XOR, "-m", "mlp", "--lr", "-0.1"], "lr: Input should be greater than 0"),
        (["train", "-d", XOR, "-m", "mlp", "--optimizer", "adamx"], "optimizer"),
        (
            ["train", "-d", XOR, "-m", "mlp", "--threads", "0"],
            "threads: Input should be greater than or equal to 1",
        ),
        (["train", "-d", "digits", "-m", "smiley-cnn"], "layer 4 (MaxPooling2D)"),
        (["train", "-d", "xor:noise=3", "-m", "mlp"], "noise"),
        (["train", "--bogus"], "--bogus"),
        (["models", "summary", "mlp"], "either --dataset or --input-shape"),
        (["models", "summary", "mlp", "--input-shape", "a,b"], "--input-shape"),
        (["runs", "show", "zzzzzz"], "run 'zzzzzz' not found"),
        (["train", "--resume", "zzzzzz"], "not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], ws: Path, args: list[str], message: str
) -> None:
    code, out, err = run_cli(capsys, ws, *args)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "Traceback" not in err


def test_bad_spec_files_exit_2(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("layers:\n  - Dense: {units: 3\n")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("layers:\n  - Densse: {units: 3}\n")
    misfit = tmp_path / "misfit.yaml"
    misfit.write_text("layers:\n  - Flatten\n  - Conv2D: {filters: 2, kernel_size: 3}\n")
    for path, message in [
        (broken, "invalid YAML at line 3"),
        (unknown, "layer 1: unknown layer type 'Densse'"),
        (misfit, "layer 2 (Conv2D)"),
    ]:
        code, _, err = run_cli(capsys, ws, "train", "-d", XOR, "-m", str(path))
        assert code == 2, err
        assert message in err
    assert run_cli(capsys, ws, "runs", "list", "--json")[1].strip() == "[]"  # nothing half-written


def test_summary_by_input_shape_and_dataset(capsys: pytest.CaptureFixture[str], ws: Path) -> None:
    code, out, _ = run_cli(
        capsys,
        ws,
        "models",
        "summary",
        "smiley-cnn",
        "--input-shape",
        "1,28,28",
        "--outputs",
        "4",
        "--json",
    )
    assert code == 0
    summary = json.loads(out)
    assert [r["params"] for r in summary["rows"]] == [320, 0, 18496, 0, 36928, 0, 36928, 260]
    assert summary["total_params"] == 92932
    code, _, err = run_cli(capsys, ws, "models", "summary", "smiley-cnn", "--dataset", "digits")
    assert code == 2 and "does not fit the 1×1 input" in err


def test_runs_evaluate_predict_export_delete(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    run_id = json.loads(
        run_cli(
            capsys,
            ws,
            "train",
            "-d",
            XOR,
            "-m",
            "mlp",
            "--epochs",
            "2",
            "--name",
            "first",
            "--json",
        )[1]
    )["run_id"]
    rows = json.loads(run_cli(capsys, ws, "runs", "list", "--json")[1])
    assert [r["id"] for r in rows] == [run_id]
    evaluation = json.loads(run_cli(capsys, ws, "evaluate", "first", "--split", "val", "--json")[1])
    assert len(evaluation["metrics"]["confusion_matrix"]) == 2
    csv = tmp_path / "points.csv"
    csv.write_text("x1,x2\n3,3\n-3,3\n")
    code, out, err = run_cli(capsys, ws, "predict", run_id[:4], str(csv), "--json")
    assert code == 0, err
    predictions = json.loads(out)
    assert [p["input"] for p in predictions] == [f"{csv}:2", f"{csv}:3"]
    assert all(abs(sum(p["probabilities"].values()) - 1) < 1e-5 for p in predictions)
    code, out, _ = run_cli(capsys, ws, "export", run_id, "--out", str(tmp_path / "exp"), "--json")
    assert code == 0 and {Path(f).name for f in json.loads(out)["files"]} == {
        "model.safetensors",
        "model.json",
    }
    code, _, _ = run_cli(capsys, ws, "runs", "delete", run_id)
    assert code == 0
    assert json.loads(run_cli(capsys, ws, "runs", "list", "--json")[1]) == []


def _lernwerk(ws: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "lernwerk.cli", "--workspace", str(ws), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_epoch(
    capsys: pytest.CaptureFixture[str], ws: Path, epochs: int, timeout_s: float = 60
) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ws.exists():
            code, out, _ = run_cli(capsys, ws, "runs", "list", "--json")
            rows = json.loads(out) if code == 0 else []
            if rows and int(rows[0]["epochs"].split("/")[0]) >= epochs:
                return rows[0]
        time.sleep(0.2)
    raise AssertionError("training did not get going")


def test_kill_9_leaves_run_interrupted_and_resume_finishes_it(
    capsys: pytest.CaptureFixture[str], ws: Path
) -> None:
    proc = _lernwerk(
        ws, "train", "-d", "xor:samples=2000", "-m", "mlp", "--epochs", "400", "--json"
    )
    try:
        _wait_for_epoch(capsys, ws, 2)
        time.sleep(2.5)  # let a checkpoint past epoch 1 be written
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    rows = json.loads(run_cli(capsys, ws, "runs", "list", "--json")[1])
    assert rows[0]["status"] == "interrupted"
    done_before = int(rows[0]["epochs"].split("/")[0])
    code, out, err = run_cli(
        capsys, ws, "train", "--resume", rows[0]["id"], "--epochs", "400", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "finished" and result["epochs"] == 400
    history = json.loads(run_cli(capsys, ws, "runs", "show", rows[0]["id"], "--json")[1])["history"]
    assert [h["epoch"] for h in history] == list(range(1, 401))
    assert done_before >= 2


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_ctrl_c_stops_the_run_and_exits_130(capsys: pytest.CaptureFixture[str], ws: Path) -> None:
    proc = _lernwerk(
        ws, "train", "-d", "xor:samples=2000", "-m", "mlp", "--epochs", "1000", "--json"
    )
    _wait_for_epoch(capsys, ws, 1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert json.loads(out)["status"] == "stopped"
    row = json.loads(run_cli(capsys, ws, "runs", "list", "--json")[1])[0]
    assert row["status"] == "stopped"
    assert (ws / "runs" / row["id"] / "model.safetensors").is_file()


def _assert_one_line(code: int, err: str, message: str) -> None:
    assert code == 2, err
    assert message in err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"dataset: xor\nmodel: mlp\ntrain: [1, 2]\n", ["train", "--config"], "train: expected a mapping"),
        (b"dataset: xor\nmodel: mlp\ntrain: 5\n", ["train", "--config"], "received: int"),
        (b"\xff\xfe\x00garbage", ["train", "--config"], "expected UTF-8 text; received byte 0xff"),
        (b"\xff\xfe\x00garbage", ["train", "-d", XOR, "-m"], "expected UTF-8 text"),
        (b"\xff\xfe\x00garbage", ["models", "summary", "--input-shape", "2"], "expected UTF-8"),
    ],
)  # fmt: skip
def test_a_bad_file_is_one_line(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path, content, args, message
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    args = (
        [*args, str(path)] if args[-1] in ("--config", "-m") else [*args[:2], str(path), *args[2:]]
    )
    _assert_one_line(*run_cli(capsys, ws, *args)[::2], message)


def test_paths_that_cannot_be_written_are_one_line(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for args, message in [
        (["datasets", "export", "xor", str(a_file)], f"{a_file}: "),
        (["datasets", "export", "xor", str(a_file / "below")], "Not a directory"),
        (["datasets", "preview", "digits", "--out", str(a_file / "x.png")], f"{a_file}: "),
    ]:
        _assert_one_line(*run_cli(capsys, ws, *args)[::2], message)


def test_a_workspace_that_is_a_file_or_not_a_database_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    _assert_one_line(*run_cli(capsys, a_file, "runs", "list")[::2], "is not a directory")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "lernwerk.db").write_text("garbage, not SQLite")
    _assert_one_line(*run_cli(capsys, broken, "runs", "list")[::2], "not a readable lernwerk")


def test_a_network_too_large_for_memory_is_refused_before_it_is_built(
    capsys: pytest.CaptureFixture[str], ws: Path, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_text("layers:\n  - Flatten\n  - Dense: {units: 2000000000}\n")
    _assert_one_line(
        *run_cli(capsys, ws, "train", "-d", XOR, "-m", str(huge))[::2], "layer 2 (Dense)"
    )
    summary = ["models", "summary", "smiley-cnn", "--input-shape", "1,100000,100000"]
    _assert_one_line(*run_cli(capsys, ws, *summary)[::2], "parameters; training takes 16 bytes")


def test_runs_show_lists_what_makes_a_run_repeatable(
    capsys: pytest.CaptureFixture[str], ws: Path
) -> None:
    code, out, _ = run_cli(capsys, ws, "train", "-d", XOR, "-m", "mlp", "--epochs", "1", "--json")
    run_id = json.loads(out)["run_id"]
    code, out, _ = run_cli(capsys, ws, "runs", "show", run_id)
    assert code == 0
    for setting in ("seed", "device", "precision", "threads"):
        assert f"│ {setting} " in out
    assert "│ auto " in out  # threads left to the trainer


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_learning_rate_that_is_not_finite_is_named_so(
    capsys: pytest.CaptureFixture[str], ws: Path, value: str
) -> None:
    args = ("train", "-d", XOR, "-m", "mlp", "--lr", value)
    _assert_one_line(*run_cli(capsys, ws, *args)[::2], "lr: Input should be a finite number")


def test_a_training_writes_nothing_on_stderr(tmp_path: Path) -> None:
    """No library warning on stderr (torch's is_fx_tracing notice was on every training):
    nothing at all with --json, only the progress line without."""
    import os
    import sys

    for extra in ((), ("--json",)):
        done = subprocess.run(
            [sys.executable, "-m", "lernwerk.cli", "--workspace", str(tmp_path / "ws")]
            + ["train", "-d", "xor", "-m", "mlp", "--epochs", "1", *extra],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert done.returncode == 0, done.stderr
        if extra:
            assert done.stderr == ""
        else:  # the progress line only
            assert all(line.startswith("epoch 1/1") for line in done.stderr.splitlines())


def test_the_help_says_resume_epochs_is_the_total() -> None:
    import os
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "lernwerk.cli", "train", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "COLUMNS": "400"},
    )
    text = " ".join(done.stdout.split())
    assert "With --resume: the total number of epochs the run will have (not how many more)" in (
        text
    )
    assert "--epochs N raises that to N in all" in text
