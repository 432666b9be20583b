"""`lernwerk sweep`: a sweep, its table, the best trained longer; bad input one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lernwerk.cli import main

DATA = "tabular:rows=300,features=6,informative=3,redundant=1"


def run_cli(capsys: pytest.CaptureFixture[str], ws: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--workspace", str(ws), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_sweep_show_list_and_train_best(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    space = tmp_path / "space.yaml"
    space.write_text("lr: {low: 1e-3, high: 0.1, log: true}\nbatch_size: [16, 32]\n")
    args = ["sweep", DATA, "mlp", "--space", str(space), "--trials", "2", "--epochs", "2"]
    code, out, err = run_cli(capsys, ws, *args, "--study", "cli")
    assert code == 0, err
    assert err.count("trial ") == 2 and "complete" in err  # one line per finished trial
    assert "sweep cli: mlp on" in out and "best: trial" in out
    assert "lernwerk sweep train-best cli" in out
    code, out, _ = run_cli(capsys, ws, "sweep", "show", "cli", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["counts"] == {"COMPLETE": 2}
    assert {t["params"]["batch_size"] for t in summary["trials"]} <= {16, 32}
    code, out, _ = run_cli(capsys, ws, "sweep", "list", "--json")
    assert [s["name"] for s in json.loads(out)] == ["cli"]
    code, out, err = run_cli(capsys, ws, "sweep", "train-best", "cli", "--epochs", "3", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "finished" and result["epochs"] == 3
    assert "best trial #" in result["name"]


@pytest.mark.parametrize(
    ("space", "extra", "expected"),
    [
        ("lrate: [0.1, 0.2]\n", [], "unknown setting 'lrate'"),
        ("lr: {low: 0.1, high: 0.001}\n", [], "empty range: low 0.1 is above high 0.001"),
        ("dropout: []\n", [], "unknown setting 'dropout'"),
        ("batch_size: []\n", [], "empty range: the list of choices is empty"),
        (
            "lr: [0.1, 0.2]\n",
            ["--storage", "postgresql://me:secret@127.0.0.1:9/sweeps"],
            "cannot open the sweep database",
        ),
        ("lr: [0.1, 0.2]\n", ["--storage", "mysql://x/y"], "expected a sqlite:///PATH"),
        ("lr: [0.1, 0.2]\n", ["--metric", "val_mae"], "--metric val_mae"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, space: str, extra: list[str], expected: str
) -> None:
    ws = tmp_path / "ws"
    path = tmp_path / "space.yaml"
    path.write_text(space)
    code, out, err = run_cli(
        capsys, ws, "sweep", DATA, "mlp", "--space", str(path), "--trials", "2", *extra
    )
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err, err
    assert "secret" not in err  # a password never shows
    assert not (ws / "sweeps.db").exists() and not list((ws / "runs").glob("*"))


def test_missing_parts_and_unknown_sweeps(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    for args, expected in [
        (["sweep", DATA, "mlp"], "a sweep needs --space FILE and --trials N"),
        (["sweep", "show"], "give the sweep's name"),
        (["sweep", "show", "nope"], "no sweep 'nope'"),
        (["sweep", "train-best", "nope"], "no sweep 'nope'"),
        (["sweep-worker", "--study", "nope"], "no sweep database"),
    ]:
        code, _, err = run_cli(capsys, ws, *args)
        assert code == 2 and err.count("\n") == 1 and expected in err, (args, err)
