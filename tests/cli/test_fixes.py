"""`lernwerk datasets relabel|confirm|undo` and `lernwerk runs mistakes|retrain` as a user runs
them: what they change, and one line with exit 2 (nothing changed) for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lernwerk.api import Workspace
from lernwerk.cli import main


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    Workspace(tmp_path / "ws").create_dataset("faces", "smileys", per_class=5)
    return tmp_path / "ws"


def cli(capsys: pytest.CaptureFixture[str], ws: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--workspace", str(ws), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def snapshot(ws: Path) -> tuple:
    store = Workspace(ws).store
    rec = store.get_dataset("faces")
    return rec.content_hash, rec.num_samples, store.page_samples("faces", limit=1000)


def label_of(ws: Path, sample: int) -> str:
    ds = Workspace(ws).load_dataset("faces")
    return ds.classes[int(ds.y[ds.ids.tolist().index(sample)])]


def test_relabel_then_undo(capsys, ws: Path) -> None:
    before = snapshot(ws)
    assert label_of(ws, 0) == "smile"
    code, out, err = cli(capsys, ws, "datasets", "relabel", "faces", "0", "1", "--to", "sad")
    assert code == 0, err
    assert out.startswith("moved 2 sample(s) of faces to sad; data version ")
    assert label_of(ws, 0) == "sad" and snapshot(ws)[0] != before[0]
    code, out, _ = cli(capsys, ws, "datasets", "undo", "faces", "--json")
    assert code == 0
    assert json.loads(out)["undone"] == {"action": "relabel", "ids": [0, 1], "label": 1}
    assert snapshot(ws) == before


def test_check_marks_samples_and_undo_takes_the_mark_away(capsys, ws: Path) -> None:
    code, out, _ = cli(capsys, ws, "datasets", "confirm", "faces", "3")
    assert code == 0 and "marked 1 sample(s) of faces as checked" in out
    assert Workspace(ws).checked("faces") == [3]
    assert cli(capsys, ws, "datasets", "undo", "faces")[0] == 0
    assert Workspace(ws).checked("faces") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("relabel", "faces", "0", "--to", "angry"), "no class 'angry'; classes: smile, sad"),
        (("relabel", "faces", "0", "999", "--to", "sad"), "dataset 'faces': no sample with id 999"),
        (("relabel", "elsewhere", "0", "--to", "sad"), "dataset 'elsewhere' not found"),
        (("undo", "faces"), "nothing to undo in dataset 'faces'"),
        (("confirm", "faces", "999"), "no sample with id 999"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(capsys, ws: Path, args, message) -> None:
    before = snapshot(ws)
    code, out, err = cli(capsys, ws, "datasets", *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert snapshot(ws) == before


def test_mistakes_lists_the_ids_and_retrain_trains_on_the_new_data_version(
    capsys, ws: Path
) -> None:
    run = Workspace(ws).fit("faces", "mlp", epochs=1, val_split=0.5, test_split=0.0)
    code, out, _ = cli(capsys, ws, "runs", "mistakes", run.id, "--split", "val")
    assert code == 0
    ids = [int(line) for line in out.split()]
    assert ids == run.mistakes(split="val")
    code, out, _ = cli(capsys, ws, "runs", "mistakes", run.id, "--split", "val", "--json")
    assert json.loads(out)["ids"] == ids and json.loads(out)["dataset_changed"] is False
    assert cli(capsys, ws, "datasets", "relabel", "faces", "5", "--to", "smile")[0] == 0
    code, out, err = cli(capsys, ws, "runs", "retrain", run.id, "--json")
    assert code == 0, err
    row = json.loads(out)
    assert row["data_version"] != run.data_version and row["id"] != run.id
    code, out, _ = cli(capsys, ws, "runs", "list", "--json")
    assert {r["id"]: r["data_version"] for r in json.loads(out)} == {
        run.id: run.data_version,
        row["id"]: row["data_version"],
    }
    code, out, err = cli(capsys, ws, "runs", "mistakes", run.id, "--split", "sideways")
    assert code == 2 and "split must be one of train, val, test" in err
