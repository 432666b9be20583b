"""`Workspace.check`, and the data checks before every training: a blocker stops `fit`
before anything is written; warnings are stored with the run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lernwerk.api import Workspace
from lernwerk.errors import DataError, NotFound, SpecError


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def id_table(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(size=80)})
    frame["nr"] = np.arange(80)
    path = tmp_path / "teile.csv"
    frame.to_csv(path, index=False)
    return path


def test_check_reports_findings_with_the_runs_split_settings(ws: Workspace) -> None:
    report = ws.check("basicmotions")
    assert [f["code"] for f in report["findings"]] == ["small_test"]
    assert report["counts"] == {"blocker": 0, "warning": 1, "hint": 0}
    assert report["splits"]["test"] == 40  # the official test file
    clean = ws.check("xor")
    assert clean["findings"] == [] and clean["samples_checked"] == 500
    small = ws.check("xor", test_split=0.05)  # 25 test samples
    assert [f["code"] for f in small["findings"]] == ["small_test"]


def test_check_of_a_missing_dataset_or_a_bad_task_is_a_clear_error(ws: Workspace) -> None:
    with pytest.raises(NotFound, match="dataset 'nope' not found; built-in: "):
        ws.check("nope")
    with pytest.raises(SpecError, match="task must be one of classification, regression"):
        ws.check("xor", task="clustering")
    with pytest.raises(SpecError, match="val_split \\+ test_split must be less than 1"):
        ws.check("xor", val_split=0.5, test_split=0.5)


def test_a_blocker_stops_training_and_leaves_nothing(ws: Workspace, tmp_path: Path) -> None:
    ws.import_dataset("teile", id_table(tmp_path), target="nr")
    assert ws.check("teile")["counts"]["blocker"] == 1
    with pytest.raises(DataError) as caught:
        ws.fit("teile", "mlp", epochs=1)
    message = str(caught.value)
    assert message.startswith("data check failed for dataset 'teile': the target nr is different")
    assert "`lernwerk datasets check teile` lists every finding" in message
    assert "\n" not in message
    assert ws.runs() == []  # refused before a run is made
    with pytest.raises(DataError, match="data check failed"):
        ws.check_fit("teile", "mlp")


def test_warnings_are_stored_with_the_run(ws: Workspace) -> None:
    run = ws.fit("spiral", "mlp", epochs=1)
    stored = {f["code"]: f["severity"] for f in run.config["checks"]}
    assert stored == {
        "duplicate_conflicts": "warning",
        "split_leak": "warning",
        "duplicates": "hint",
    }
    again = ws.run(run.id)  # read back from the store
    assert again.config["checks"] == run.config["checks"]
    assert "checks" not in ws.fit("xor", "mlp", epochs=1).config  # clean data: nothing stored


def test_training_checks_the_split_it_trains_on(ws: Workspace) -> None:
    run = ws.fit("xor", "mlp", epochs=1, test_split=0.05)
    assert [f["code"] for f in run.config["checks"]] == ["small_test"]
    assert run.config["checks"][0]["numbers"]["n"] == 25
