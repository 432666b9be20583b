"""`lernwerk datasets check` as a user runs it, and `lernwerk train` refusing a blocker."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lernwerk.cli import main


def cli(capsys: pytest.CaptureFixture[str], ws: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--workspace", str(ws), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_check_prints_each_finding_with_why_and_what_to_do(capsys, tmp_path: Path) -> None:
    code, out, err = cli(capsys, tmp_path / "ws", "datasets", "check", "japanesevowels")
    assert code == 0 and err == ""
    assert "japanesevowels: 640 samples; 0 blockers, 1 warning, 0 hints" in out
    assert "WARNING the series are 7 to 29 steps long" in out
    assert "  why: Padded series end in a flat line" in out
    assert "  do:  check that the length is not what tells the classes apart" in out


def test_check_of_clean_data_says_so(capsys, tmp_path: Path) -> None:
    code, out, _ = cli(capsys, tmp_path / "ws", "datasets", "check", "xor")
    assert code == 0 and "no findings" in out


def test_check_json_and_split_options(capsys, tmp_path: Path) -> None:
    code, out, _ = cli(
        capsys, tmp_path / "ws", "datasets", "check", "xor", "--test-split", "0.05", "--json"
    )
    report = json.loads(out)
    assert code == 0 and report["splits"]["test"] == 25
    (finding,) = report["findings"]
    assert finding["code"] == "small_test" and finding["numbers"]["n"] == 25
    assert set(finding) == {"code", "severity", "numbers", "message", "why", "action"}


def test_a_missing_dataset_is_exit_2_with_one_line(capsys, tmp_path: Path) -> None:
    code, out, err = cli(capsys, tmp_path / "ws", "datasets", "check", "nope")
    assert code == 2 and out == ""
    assert err.startswith("error: dataset 'nope' not found; built-in: ")
    assert err.count("\n") == 1


def test_a_blocker_is_exit_1_for_check_and_exit_2_for_train(capsys, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80)})
    frame["id"] = np.arange(80)
    frame.to_csv(tmp_path / "teile.csv", index=False)
    code, _, err = cli(capsys, ws, "datasets", "import", "teile", str(tmp_path / "teile.csv"))
    assert code == 0, err
    code, out, _ = cli(capsys, ws, "datasets", "check", "teile")
    assert code == 1 and "BLOCKER the target id is different in every one of the 80 rows" in out
    code, out, err = cli(capsys, ws, "train", "--dataset", "teile", "--model", "mlp")
    assert code == 2
    assert err.startswith("error: data check failed for dataset 'teile': the target id")
    assert err.count("\n") == 1
    code, out, _ = cli(capsys, ws, "runs", "list", "--json")
    assert code == 0 and json.loads(out) == []


def test_train_prints_the_warnings_it_stores(capsys, tmp_path: Path) -> None:
    code, out, err = cli(
        capsys, tmp_path / "ws", "train", "--dataset", "spiral", "--model", "mlp", "--epochs", "1"
    )
    assert code == 0, err
    assert "data check: 1 sample appears more than once with different labels" in err
    assert "data check: 1 hint more (lernwerk datasets check spiral)" in err
    code, out, _ = cli(capsys, tmp_path / "ws", "runs", "list", "--json")
    (run,) = json.loads(out)
    code, out, _ = cli(capsys, tmp_path / "ws", "runs", "show", run["id"], "--json")
    stored = json.loads(out)
    checks = (stored.get("config") or stored)["checks"]
    assert {f["code"] for f in checks} == {"duplicate_conflicts", "split_leak", "duplicates"}
