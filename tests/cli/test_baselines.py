"""`lernwerk baselines`: the lecture's table beside the networks, runs stored, bad input one line."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from lernwerk.cli import main

XOR = "xor:samples=200"


def run_cli(capsys: pytest.CaptureFixture[str], ws: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--workspace", str(ws), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_table_lists_baselines_and_the_network_on_the_same_split(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    code, out, _ = run_cli(capsys, ws, "train", "-d", XOR, "-m", "mlp", "--epochs", "2", "--json")
    assert code == 0
    net = json.loads(out)["run_id"]
    # a network on another split is not listed beside them
    assert run_cli(capsys, ws, "train", "-d", XOR, "-m", "mlp", "--epochs", "1", "--val-split",
                   "0.3")[0] == 0  # fmt: skip
    code, out, err = run_cli(capsys, ws, "baselines", XOR)
    assert code == 0, err
    lines = out.splitlines()
    assert any("model" in ln and "features" in ln and "test_accuracy" in ln for ln in lines)
    xgb = ("xgboost",) if importlib.util.find_spec("xgboost") else ()  # when installed
    for model in ("logistic-regression", "hist-gradient-boosting", *xgb):
        assert any(model in ln and "features" in ln for ln in lines), out
    assert sum(net in ln and "network" in ln for ln in lines) == 1
    assert "train 120, val 40, test 40" in " ".join(out.split())
    code, out, _ = run_cli(capsys, ws, "runs", "list", "--json")
    rows = json.loads(out)
    baselines = [r for r in rows if r.get("features")]
    assert len(baselines) == 2 + len(xgb) and all(r["status"] == "finished" for r in baselines)
    assert all(isinstance(r["test_accuracy"], float) for r in baselines)
    code, out, _ = run_cli(capsys, ws, "runs", "compare", baselines[0]["id"], net, "--json")
    assert code == 0 and set(json.loads(out)) == {baselines[0]["id"], net}


def test_json_and_images(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, tmp_path / "ws", "baselines", "smileys:per_class=8", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["task"] == "classification" and result["networks"] == []
    assert {r["features"] for r in result["table"]} == {"pixels 16×16"}
    assert any("28×28" in note for note in result["notes"])


def test_rocket_alone_on_a_series_set(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ("baselines", "basicmotions", "--estimator", "rocket", "--seed", "1")
    code, out, err = run_cli(capsys, tmp_path / "ws", *args)
    assert code == 0, err
    rows = [ln for ln in out.splitlines() if "minirocket" in ln]
    assert len(rows) == 1 and "rocket" in rows[0], out
    code, out, _ = run_cli(capsys, tmp_path / "ws", "runs", "list", "--json")
    (row,) = json.loads(out)
    assert row["features"] == "minirocket" and row["test_accuracy"] >= 0.9


def test_a_baseline_run_cannot_predict_or_export_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    code, out, _ = run_cli(capsys, ws, "baselines", "process:per_class=6", "--json")
    assert code == 0
    run_id = json.loads(out)["runs"][0]["id"]
    sample = tmp_path / "x.npy"
    sample.write_bytes(b"")
    for args in (
        ("predict", run_id, str(sample)),
        ("export", run_id, "--out", str(tmp_path / "out")),
        ("train", "--resume", run_id),
    ):
        code, out, err = run_cli(capsys, ws, *args)
        assert code == 2 and "error" not in out, args  # `train --resume` says what it tries
        assert err.count("\n") == 1 and "is a baseline" in err, err
    assert not (tmp_path / "out").exists()
    code, out, _ = run_cli(capsys, ws, "evaluate", run_id, "--json")  # the stored metrics
    assert code == 0 and "confusion_matrix" in json.loads(out)["metrics"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--test-split", "0"), "the test split of dataset 'xor:samples=200'"),
        (("--val-split", "0"), "the val split"),
        (("--task", "anomaly"), "baselines cover classification and regression"),
        (("--test-split", "0.9"), "val_split + test_split must be less than 1"),
        (("--estimator", "rocket"), "rocket is the baseline for series"),
        (("--estimator", "svm"), "unknown baseline estimator 'svm'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_stores_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    ws = tmp_path / "ws"
    code, out, err = run_cli(capsys, ws, "baselines", XOR, *args)
    assert code == 2 and out == ""
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], err
    code, out, _ = run_cli(capsys, ws, "runs", "list", "--json")
    assert json.loads(out) == []
