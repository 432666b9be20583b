"""Samples stored one by one: the record file, edits that touch only themselves, the
migration of a version-2 workspace, and datasets that stay on disk while they train."""

from __future__ import annotations

import hashlib
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

import lernwerk
from lernwerk.data import Dataset
from lernwerk.data.rows import StoredRows
from lernwerk.errors import NotFound
from lernwerk.store.sample_file import SampleFile

FIXTURE = Path(__file__).parent / "fixtures" / "workspace-v2.tar.gz"


def images(n: int, classes: tuple[str, ...] = ("a", "b"), size: int = 8) -> Dataset:
    gen = torch.Generator().manual_seed(0)
    return Dataset(
        name="drawn",
        kind="images",
        task="classification",
        x=torch.rand((n, 1, size, size), generator=gen),
        y=torch.arange(n) % len(classes),
        classes=list(classes),
        feature_names=[],
        source={"test": True},
    )


def test_a_sample_file_reads_any_slots_in_the_order_asked(tmp_path: Path) -> None:
    file = SampleFile(tmp_path / "s.bin", (2, 3), np.float32)
    x = np.arange(10 * 6, dtype=np.float32).reshape(10, 2, 3)
    file.write_new(x)
    for slots in ([0, 1, 2], [7, 2, 3, 9, 0], [4], [9, 8, 7, 6], []):
        np.testing.assert_array_equal(file.read(np.array(slots)), x[slots])
    file.write_at(10, x[:2] + 100)  # appends after the last record
    np.testing.assert_array_equal(file.read(np.array([11, 10])), x[[1, 0]] + 100)


def test_a_sample_file_past_its_end_says_so(tmp_path: Path) -> None:
    file = SampleFile(tmp_path / "s.bin", (4,), np.uint8)
    file.write_new(np.zeros((2, 4), np.uint8))
    with pytest.raises(OSError, match="ends"):
        file.read(np.array([5]))


def _digest(path: Path, length: int) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read(length)).hexdigest()


def test_adding_a_sample_writes_only_that_sample(workspace) -> None:
    workspace.save_dataset(images(200))
    rec = workspace.store.get_dataset("drawn")
    path = workspace.store.sample_file(rec).path
    before_size, before_inode = path.stat().st_size, path.stat().st_ino
    before = _digest(path, before_size)

    [new_id] = workspace.add_samples("drawn", np.full((1, 8, 8), 0.5, np.float32), ["b"])

    after = workspace.store.get_dataset("drawn")
    assert path.stat().st_ino == before_inode  # the same file, not a rewritten one
    assert path.stat().st_size == before_size + 64  # one 8×8 record of 8-bit pixels
    assert _digest(path, before_size) == before  # every earlier byte as it was
    assert after.num_samples == 201 and new_id == 200
    assert after.content_hash != rec.content_hash
    ds = workspace.load_dataset("drawn")
    assert int(ds.ids[-1]) == new_id and ds.classes[int(ds.y[-1])] == "b"
    assert torch.allclose(ds.x[-1], torch.full((1, 8, 8), 128 / 255))


def test_edits_keep_ids_order_and_labels(workspace) -> None:
    workspace.save_dataset(images(6, ("a", "b", "c")))  # labels a b c a b c
    workspace.delete_samples("drawn", [1, 4])
    workspace.relabel_samples("drawn", [0], "c")
    workspace.delete_class("drawn", "b")  # nothing of b left; c becomes index 1
    ds = workspace.load_dataset("drawn")
    assert ds.ids.tolist() == [0, 2, 3, 5]
    assert [ds.classes[k] for k in ds.y.tolist()] == ["c", "c", "a", "c"]
    ids = workspace.add_samples("drawn", np.zeros((2, 1, 8, 8), np.float32), ["a", "a"])
    assert ids == [6, 7]  # ids are never given twice, also after deletions


def test_an_edit_naming_an_unknown_sample_changes_nothing(workspace) -> None:
    workspace.save_dataset(images(4))
    rec = workspace.store.get_dataset("drawn")
    with pytest.raises(NotFound, match="no sample with id 99"):
        workspace.delete_samples("drawn", [0, 99])
    with pytest.raises(NotFound, match="no sample with id 42"):
        workspace.relabel_samples("drawn", [42], "a")
    assert workspace.store.get_dataset("drawn") == rec
    assert workspace.load_dataset("drawn").ids.tolist() == [0, 1, 2, 3]


def test_a_page_of_samples_reads_no_pixels(workspace, monkeypatch) -> None:
    workspace.save_dataset(images(50))

    def no_reads(*_args, **_kwargs):
        raise AssertionError("a page of samples read the sample file")

    monkeypatch.setattr(SampleFile, "read", no_reads)
    page = workspace.list_samples("drawn", label="b", offset=2, limit=3)
    assert page == {
        "total": 25,
        "samples": [{"id": i, "label": "b", "test": False} for i in (5, 7, 9)],
    }
    info = workspace.dataset_info("drawn")
    assert info["class_counts"] == {"a": 25, "b": 25}


def test_a_regression_dataset_keeps_its_targets(workspace, regression_dataset) -> None:
    stored = workspace.save_dataset(regression_dataset)
    loaded = workspace.load_dataset("linear")
    assert torch.equal(loaded.y, stored.y) and torch.equal(loaded.x, stored.x)
    page = workspace.list_samples("linear", limit=2)["samples"]
    assert [s["label"] for s in page] == pytest.approx(stored.y[:2].tolist())


def test_a_version_2_workspace_opens_migrates_and_trains(tmp_path: Path) -> None:
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(tmp_path, filter="data")
    root = tmp_path / "ws-v2"
    ws = lernwerk.Workspace(root)

    records = {r.name: r for r in ws.store.list_datasets()}
    assert sorted(records) == ["drawn", "faces", "proc", "xor2"]
    assert not list(root.glob("datasets/*/data.safetensors"))  # moved over, then removed
    faces = ws.load_dataset("faces")
    # the hash the old version stored, so its runs still know their data
    assert faces.content_hash == (
        "sha256:70eeb6f06931bb1fa0e06b7e98260f042dca5a7faad41139e8ff27bd66531913"
    )
    assert len(faces) == 25 and 3 not in faces.ids.tolist()  # its deletion kept
    assert records["drawn"].num_samples == 0

    [old_run] = ws.runs()
    assert old_run.status == "finished"
    assert "accuracy" in old_run.evaluate("test")
    ws.add_samples("faces", np.zeros((1, 1, 28, 28), np.float32), ["sad"])
    run = ws.fit("faces", "mlp", epochs=1, seed=0)
    assert run.status == "finished" and "accuracy" in run.metrics["test"]


def test_a_dataset_too_large_for_memory_trains_from_disk_as_it_would_in_memory(
    workspace, monkeypatch
) -> None:
    workspace.create_dataset("faces", "smileys", per_class=30, seed=1)
    in_memory = workspace.fit("faces", "smiley-cnn", epochs=2, seed=0, threads=1)
    monkeypatch.setenv("LERNWERK_MEMORY_MB", "0.01")  # far below the dataset's size
    ds = workspace.load_dataset("faces")
    assert isinstance(ds.x, StoredRows)
    streamed = workspace.fit("faces", "smiley-cnn", epochs=2, seed=0, threads=1)
    np.testing.assert_allclose(
        streamed.history[["train_loss", "val_loss"]].to_numpy(),
        in_memory.history[["train_loss", "val_loss"]].to_numpy(),
        rtol=1e-4,
    )
    assert streamed.metrics["test"]["accuracy"] == in_memory.metrics["test"]["accuracy"]
    assert streamed.evaluate("val") == streamed.metrics["val"]  # chunked from disk as well


def test_anomaly_detection_on_a_dataset_left_on_disk_is_refused(workspace, monkeypatch) -> None:
    workspace.create_dataset("proc", "process", per_class=10, length=200)
    monkeypatch.setenv("LERNWERK_MEMORY_MB", "0.01")
    with pytest.raises(lernwerk.errors.DataError, match="too large to hold in memory"):
        workspace.fit("proc", "autoencoder1d", task="anomaly", normal_class="ok", epochs=1)


def test_a_deleted_dataset_leaves_no_rows(workspace) -> None:
    workspace.save_dataset(images(5))
    workspace.delete_dataset("drawn")
    assert workspace.store.count_samples("drawn") == 0
    workspace.save_dataset(images(3))  # the name again, from nothing
    assert workspace.load_dataset("drawn").ids.tolist() == [0, 1, 2]
    assert len(list((workspace.path / "datasets" / "drawn").glob("samples-*.bin"))) == 1


def test_storing_a_dataset_again_replaces_its_samples(workspace, tmp_path) -> None:
    workspace.save_dataset(images(5))
    workspace.save_dataset(images(3, ("x", "y", "z")))
    ds = workspace.load_dataset("drawn")
    assert len(ds) == 3 and ds.classes == ["x", "y", "z"]
    shutil.rmtree(tmp_path / "unused", ignore_errors=True)


def test_a_preview_and_one_sample_read_only_what_they_show(workspace, monkeypatch) -> None:
    workspace.save_dataset(images(400))
    reads: list[int] = []
    original = SampleFile.read

    def counting(self, slots):
        reads.append(len(slots))
        return original(self, slots)

    monkeypatch.setattr(SampleFile, "read", counting)
    png = workspace.sample_image("drawn", 7, scale=4)
    assert png.startswith(b"\x89PNG") and reads == [1]
    reads.clear()
    workspace.preview_dataset("drawn", per_class=3)
    assert 0 < sum(reads) <= 2 * 3  # three a class, not the 400


def test_an_addition_that_meets_a_replaced_dataset_is_refused_and_breaks_nothing(
    workspace, monkeypatch
) -> None:
    workspace.save_dataset(images(5))
    store = workspace.store
    write_at = SampleFile.write_at

    def replaced_meanwhile(self, slot, x):  # another process stores a new version now
        monkeypatch.setattr(SampleFile, "write_at", write_at)
        workspace.save_dataset(images(2))
        return write_at(self, slot, x)

    monkeypatch.setattr(SampleFile, "write_at", replaced_meanwhile)
    with pytest.raises(lernwerk.errors.Conflict, match="replaced or deleted"):
        store.append_samples("drawn", np.zeros((1, 1, 8, 8), np.uint8), np.array([0]), None)
    ds = workspace.load_dataset("drawn")
    assert len(ds) == 2 and store.get_dataset("drawn").slots == 2


def test_a_dataset_left_on_disk_reads_on_when_a_new_version_replaces_it(
    workspace, monkeypatch
) -> None:
    workspace.save_dataset(images(6))
    monkeypatch.setenv("LERNWERK_MEMORY_MB", "0.0001")
    ds = workspace.load_dataset("drawn")
    first = ds.x[3].clone()
    workspace.save_dataset(images(2, ("x", "y")))  # the old sample file is removed
    assert torch.equal(ds.x[3], first) and len(workspace.load_dataset("drawn")) == 2


def test_targets_of_one_value_a_sample_keep_their_shape(workspace, regression_dataset) -> None:
    from dataclasses import replace

    one_step = replace(regression_dataset, y=regression_dataset.y[:, None])  # (N, 1)
    workspace.save_dataset(one_step)
    assert workspace.load_dataset("linear").y.shape == (200, 1)
