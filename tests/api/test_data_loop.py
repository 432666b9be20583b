"""Fixing what the model got wrong: relabel, delete, add, mark as checked, undo; the data
version each run trained on; a run's mistakes; retraining on the new data version."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from lernwerk.api import Workspace
from lernwerk.data import Dataset
from lernwerk.errors import Conflict, DataError, NotFound


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def stripes(n: int = 40) -> Dataset:
    """Two classes a tiny network tells apart at once: bright top half or bright bottom."""
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    x = torch.rand((n, 1, 8, 8), generator=gen) * 0.2
    for i in range(n):
        if y[i] == 0:
            x[i, 0, :4] += 0.8
        else:
            x[i, 0, 4:] += 0.8
    return Dataset(
        name="stripes",
        kind="images",
        task="classification",
        x=x,
        y=y,
        classes=["top", "bottom"],
        feature_names=[],
        source={"test": True},
    )


def state(ws: Workspace, name: str = "stripes") -> tuple:
    """Everything an edit may change: the record's counts and hash, and every row."""
    rec, index = ws.store.sample_index(name)
    rows = ws.store.page_samples(name, limit=10_000)
    return rec.content_hash, rec.num_samples, index.ids.tolist(), rows, ws.checked(name)


def test_relabel_changes_the_data_version_and_undo_restores_exactly_the_state_before(ws) -> None:
    ws.save_dataset(stripes(6))
    before = state(ws)
    version = ws.data_version("stripes")["data_version"]
    answer = ws.relabel("stripes", [0, 2], "bottom")
    assert answer["data_version"] != version
    assert answer["undo"] == {"action": "relabel", "ids": [0, 2], "label": 1}
    assert ws.load_dataset("stripes").y[[0, 2]].tolist() == [1, 1]
    undone = ws.undo("stripes")
    assert undone["undone"]["action"] == "relabel" and undone["data_version"] == version
    assert state(ws) == before
    assert ws.data_version("stripes")["undo"] is None  # one step: nothing left to undo


def test_delete_add_and_check_each_undo_exactly(ws) -> None:
    ws.save_dataset(stripes(6))
    before = state(ws)
    ws.delete("stripes", 3)
    assert 3 not in ws.load_dataset("stripes").ids.tolist()
    ws.undo("stripes")
    assert state(ws) == before
    [new] = ws.add_samples("stripes", np.full((1, 8, 8), 0.5, np.float32), ["top"])
    assert len(ws.load_dataset("stripes")) == 7
    assert ws.data_version("stripes")["undo"] == {"action": "add", "ids": [new]}
    ws.undo("stripes")
    assert state(ws) == before
    answer = ws.mark_checked("stripes", [1, 4])
    assert answer["data_version"] == ws.data_version("stripes")["data_version"]  # same data
    assert ws.checked("stripes") == [1, 4]
    ws.undo("stripes")
    assert state(ws) == before and ws.checked("stripes") == []


def test_a_deleted_checked_sample_comes_back_checked(ws) -> None:
    ws.save_dataset(stripes(6))
    ws.mark_checked("stripes", 2)
    before = state(ws)
    ws.delete("stripes", [2])
    ws.undo("stripes")
    assert state(ws) == before and ws.checked("stripes") == [2]


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (lambda ws: ws.relabel("stripes", [1], "sideways"), NotFound, "no class 'sideways'"),
        (lambda ws: ws.relabel("stripes", [1, 99], "top"), NotFound, "no sample with id 99"),
        (lambda ws: ws.relabel("stripes", [], "top"), DataError, "at least one sample id"),
        (lambda ws: ws.delete("stripes", [99]), NotFound, "no sample with id 99"),
        (lambda ws: ws.mark_checked("stripes", [99]), NotFound, "no sample with id 99"),
        (lambda ws: ws.undo("stripes"), Conflict, "nothing to undo in dataset 'stripes'"),
        (lambda ws: ws.relabel("nope", [1], "top"), NotFound, "dataset 'nope' not found"),
    ],
)
def test_a_refused_edit_names_what_is_wrong_and_changes_nothing(ws, edit, error, message) -> None:
    ws.save_dataset(stripes(6))
    other = ws.save_dataset(stripes(12), "other")  # ids 6..11 are only there
    assert 9 in other.ids.tolist()
    before = state(ws)
    with pytest.raises(error, match=message):
        edit(ws)
    assert state(ws) == before


def test_a_sample_of_another_dataset_is_not_relabelled(ws) -> None:
    ws.save_dataset(stripes(6))
    ws.save_dataset(stripes(12), "other")
    before, other = state(ws), state(ws, "other")
    with pytest.raises(NotFound, match="dataset 'stripes': no sample with id 9$"):
        ws.relabel("stripes", [9], "top")
    assert state(ws) == before and state(ws, "other") == other


def test_changing_classes_forgets_the_edit_to_undo(ws) -> None:
    ws.save_dataset(stripes(6))
    ws.relabel("stripes", 0, "bottom")
    ws.add_class("stripes", "middle")
    with pytest.raises(Conflict, match="nothing to undo"):
        ws.undo("stripes")


def test_mislabelled_samples_show_as_mistakes_and_retraining_on_the_fix_removes_them(ws) -> None:
    ds = stripes(40)
    ds.y[[4, 6]] = 1  # two 'top' samples labelled 'bottom'
    ws.save_dataset(ds)
    run = ws.fit("stripes", "mlp", epochs=30, lr=0.05, val_split=0.5, test_split=0.0, seed=0)
    assert run.record.dataset_hash == ws.store.get_dataset("stripes").content_hash
    wrong = run.mistakes(split="train") + run.mistakes(split="val")
    assert {4, 6} <= set(wrong)
    assert not run.dataset_changed()
    shown = run.evaluation("val")
    run.evaluation("val", limit=2)  # a shorter look (Try-it's list) keeps the longer view
    ws.relabel("stripes", [4, 6], "top")
    assert run.dataset_changed() and run.data_state()["dataset_version"] != run.data_version
    kept = run.evaluation("val")  # the view as it was, with what the edits made of it
    assert kept["dataset_changed"] is True
    assert kept["metrics"] == shown["metrics"] and len(kept["samples"]) == len(shown["samples"])
    assert len(run.evaluation("val", limit=3)["samples"]) == 3
    moved = [s for s in kept["samples"] if s["id"] in (4, 6)]
    assert all(s["now"] == "top" for s in moved)
    again = run.retrain()
    assert again.id != run.id and again.data_version != run.data_version
    assert again.config["train"] == run.config["train"]
    assert not again.dataset_changed()
    assert not {4, 6} & set(again.mistakes(split="train") + again.mistakes(split="val"))
    assert again.row()["data_version"] == again.data_version
