"""`lernwerk train --from-run/--freeze/--unfreeze-after`: transfer learning on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lernwerk.cli import main

THREE = "blobs:samples=200,centers=3"
FOUR = "blobs:samples=200,centers=4"


def run_cli(capsys: pytest.CaptureFixture[str], ws: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--workspace", str(ws), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def runs(capsys: pytest.CaptureFixture[str], ws: Path) -> list[dict]:
    code, out, _ = run_cli(capsys, ws, "runs", "list", "--json")
    assert code == 0
    return json.loads(out)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def source(capsys: pytest.CaptureFixture[str], ws: Path) -> str:
    args = ("train", "-d", THREE, "-m", "mlp", "--epochs", "2", "--json")
    code, out, err = run_cli(capsys, ws, *args)
    assert code == 0, err
    return json.loads(out)["run_id"]


def test_from_run_with_freeze_and_unfreeze(capsys: pytest.CaptureFixture[str], ws, source) -> None:
    code, out, err = run_cli(
        capsys,
        ws,
        "train",
        "-d",
        FOUR,
        "--from-run",
        source,
        "--freeze",
        "features",
        "--unfreeze-after",
        "1",
        "--backbone-lr-factor",
        "0.2",
        "--epochs",
        "2",
    )
    assert code == 0, err
    assert f"training the network of run '{source}' on {FOUR}" in out
    run = runs(capsys, ws)[0]
    code, out, _ = run_cli(capsys, ws, "runs", "show", run["id"], "--json")
    config = json.loads(out)["config"]
    assert config["train"]["init"] == source
    assert config["train"]["freeze"] == "features"
    assert config["train"]["backbone_lr_factor"] == 0.2
    assert config["transfer"]["loaded_layers"] == ["2", "3"]  # the head has 4 classes now
    assert config["transfer"]["new_layers"] == ["4"]
    assert config["transfer"]["frozen_layers"] == ["2", "3"]


def test_freeze_by_numbers_and_resume(capsys: pytest.CaptureFixture[str], ws, source) -> None:
    args = ("train", "-d", THREE, "-m", "mlp", "--from-run", source, "--freeze", "2,3")
    code, out, err = run_cli(capsys, ws, *args, "--unfreeze-after", "1", "--epochs", "1")
    assert code == 0, err
    run_id = runs(capsys, ws)[0]["id"]
    code, out, err = run_cli(capsys, ws, "train", "--resume", run_id, "--epochs", "3", "--json")
    assert code == 0, err
    assert json.loads(out)["epochs"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-d", "tabular:rows=200,features=3,informative=2,redundant=0", "-m", "mlp"],
            "init: run {source} was trained on inputs of shape 2; dataset",
        ),
        (["-d", THREE, "--freeze", "Conv2D"], "freeze: 'Conv2D' names no layer"),
        (["-d", THREE, "--freeze", "12"], "freeze: 12 layers, but model 'mlp' has only 4"),
        (["-d", THREE, "--freeze", "1"], "freeze: the layers it names hold no weights"),
        (["-d", THREE, "--freeze", "0"], "freeze: Value error, the number of layers"),
        (["-d", THREE, "--unfreeze-after", "2"], "unfreeze_after: nothing is frozen"),
    ],
)
def test_bad_transfer_input_is_one_line_and_leaves_no_run(
    capsys: pytest.CaptureFixture[str], ws, source, args, message
) -> None:
    code, out, err = run_cli(capsys, ws, "train", "--from-run", source, *args, "--epochs", "1")
    assert code == 2, err
    assert message.format(source=source) in err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    assert [r["id"] for r in runs(capsys, ws)] == [source]  # no run row left behind


def test_an_unknown_run_and_a_missing_model(capsys: pytest.CaptureFixture[str], ws) -> None:
    code, _, err = run_cli(capsys, ws, "train", "-d", THREE, "--from-run", "nope")
    assert code == 2 and "init: no run 'nope'" in err and err.count("\n") == 1
    code, _, err = run_cli(capsys, ws, "train", "-d", THREE, "--freeze", "features")
    assert code == 2 and "model: Field required" in err and err.count("\n") == 1
    assert runs(capsys, ws) == []


def test_resume_takes_no_transfer_options(capsys: pytest.CaptureFixture[str], ws, source) -> None:
    code, _, err = run_cli(capsys, ws, "train", "--resume", source, "--freeze", "features")
    assert code == 2 and "only --epochs and --time-budget may be given (received: freeze)" in err
