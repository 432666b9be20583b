"""Datasets in a workspace: store and load, create, edit by id, export, preview."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lernwerk.api import Workspace
from lernwerk.data import Dataset
from lernwerk.errors import Conflict, DataError, NotFound, SpecError


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def drawings(n: int = 6, classes: tuple[str, ...] = ("a", "b")) -> Dataset:
    gen = torch.Generator().manual_seed(0)
    return Dataset(
        name="drawn",
        kind="images",
        task="classification",
        x=torch.rand((n, 1, 8, 8), generator=gen),
        y=torch.arange(n) % len(classes),
        classes=list(classes),
        feature_names=[],
        source={"test": True},
    )


def test_a_stored_image_dataset_loads_back_with_the_hash_it_was_stored_with(ws) -> None:
    stored = ws.save_dataset(drawings())
    loaded = ws.load_dataset("drawn")
    assert loaded.content_hash == stored.content_hash == ws.store.get_dataset("drawn").content_hash
    assert torch.equal(loaded.x, stored.x)  # 8-bit pixels: exact after the first rounding
    assert (loaded.x * 255 - (loaded.x * 255).round()).abs().max() < 1e-4
    assert loaded.ids.tolist() == list(range(6))


def test_a_stored_dataset_takes_precedence_over_the_builtin_of_its_name(ws) -> None:
    ws.create_dataset("xor", "xor", samples=40)
    assert len(ws.load_dataset("xor")) == 40  # the stored one, not the 500-point generator
    assert len(ws.load_dataset("xor:samples=60")) == 60  # a reference with params: the builtin


def test_create_refuses_an_existing_name_unless_replaced(ws) -> None:
    ws.create_dataset("pts", "moons", samples=30)
    with pytest.raises(Conflict, match="already exists"):
        ws.create_dataset("pts", "moons", samples=30)
    assert len(ws.create_dataset("pts", "moons", samples=50, replace=True)) == 50
    with pytest.raises(SpecError, match="not allowed"):
        ws.create_dataset("../up", "moons")


def test_samples_keep_their_ids_through_adds_and_deletes(ws) -> None:
    ws.save_dataset(drawings(4))
    new = ws.add_samples("drawn", np.ones((2, 1, 8, 8), np.float32), ["b", "a"])
    assert new == [4, 5]
    ws.delete_samples("drawn", [1, 4])
    ds = ws.load_dataset("drawn")
    assert ds.ids.tolist() == [0, 2, 3, 5]
    assert [ds.classes[i] for i in ds.y.tolist()] == ["a", "a", "b", "a"]
    with pytest.raises(NotFound, match="no sample with id 99"):
        ws.delete_samples("drawn", [99])
    with pytest.raises(NotFound, match="no class 'c'"):
        ws.add_samples("drawn", np.zeros((1, 1, 8, 8), np.float32), ["c"])
    with pytest.raises(DataError, match="shaped"):
        ws.add_samples("drawn", np.zeros((1, 1, 9, 9), np.float32), ["a"])


def test_classes_are_added_renamed_and_deleted_with_their_samples(ws) -> None:
    ws.save_dataset(drawings(6, ("a", "b", "c")))
    ws.add_class("drawn", "Lötstelle_gut")
    ws.rename_class("drawn", "a", "alpha")
    ws.delete_class("drawn", "b")
    ds = ws.load_dataset("drawn")
    assert ds.classes == ["alpha", "c", "Lötstelle_gut"]
    assert [ds.classes[i] for i in ds.y.tolist()] == ["alpha", "c", "alpha", "c"]
    assert ds.ids.tolist() == [0, 2, 3, 5]
    for bad in ("../x", "a/b", "", "x" * 300):
        with pytest.raises(DataError):
            ws.add_class("drawn", bad)
    with pytest.raises(Conflict, match="already exists"):
        ws.rename_class("drawn", "c", "alpha")


def test_class_names_that_differ_only_in_case_are_refused_as_export_would(ws, tmp_path) -> None:
    ws.save_dataset(drawings(4, ("smile", "sad")))
    with pytest.raises(Conflict, match="differs from the class 'smile' only in case"):
        ws.add_class("drawn", "SMILE")
    with pytest.raises(Conflict, match="only in case"):
        ws.rename_class("drawn", "sad", "Smile")
    ws.rename_class("drawn", "sad", "Sad")  # its own name in other case: fine
    with pytest.raises(DataError, match="distinct, also in case"):
        ws.create_empty_dataset("canvas", classes=["a", "A"])
    assert ws.export_dataset("drawn", tmp_path / "out")  # what is allowed can be exported


def test_a_class_without_samples_is_named_before_training(ws) -> None:
    ws.create_empty_dataset("canvas", classes=["smile", "sad", "wink"], image_size=8)
    ws.add_samples("canvas", np.ones((4, 1, 8, 8), np.float32), ["smile", "smile", "sad", "sad"])
    with pytest.raises(DataError, match="class 'wink' of dataset 'canvas' has no samples yet"):
        ws.fit("canvas", "mlp", epochs=1)
    assert ws.runs() == []  # nothing half-made
    ws.delete_class("canvas", "wink")
    assert ws.fit("canvas", "mlp", epochs=1).status == "finished"


def test_one_class_is_a_dataset_from_any_source_but_no_classifier(ws, tmp_path) -> None:
    import zipfile

    png = io.BytesIO()
    Image.new("L", (10, 10), 200).save(png, format="PNG")
    with zipfile.ZipFile(tmp_path / "one.zip", "w") as z:
        for i in range(4):
            z.writestr(f"only/{i}.png", png.getvalue())
    (tmp_path / "one.csv").write_text("x,label\n1,a\n2,a\n3,a\n4,a\n5,a\n")
    ws.create_empty_dataset("canvas", classes=["smile"], image_size=8)
    ws.add_samples("canvas", np.ones((5, 1, 8, 8), np.float32), ["smile"] * 5)
    images = ws.import_dataset("images", tmp_path / "one.zip", image_size=8, channels=1)
    table = ws.import_dataset("table", tmp_path / "one.csv", task="classification")
    assert images.classes == ["only"] and table.classes == ["a"]  # the same rule for both
    for name, cls in (("canvas", "smile"), ("images", "only"), ("table", "a")):
        with pytest.raises(DataError, match=f"dataset '{name}' has one class \\('{cls}'\\); "):
            ws.fit(name, "mlp", epochs=1)
    assert ws.runs() == []  # refused before a run is made
    ws.add_class("canvas", "sad")
    ws.add_samples("canvas", np.zeros((5, 1, 8, 8), np.float32), ["sad"] * 5)
    assert ws.fit("canvas", "mlp", epochs=1).status == "finished"


def test_generator_params_in_the_reference_and_on_their_own_merge(ws) -> None:
    ds = ws.create_dataset("few", "smileys:per_class=5", seed=2)
    assert len(ds) == 20 and ds.source["params"]["seed"] == 2
    with pytest.raises(SpecError, match="'per_class' is given in 'smileys:per_class=5' and again"):
        ws.create_dataset("twice", "smileys:per_class=5", per_class=6)


def test_an_empty_image_dataset_takes_drawings_and_trains_once_it_has_them(ws) -> None:
    ws.create_empty_dataset("canvas", classes=["smile", "sad"], image_size=8, channels=1)
    assert ws.dataset_info("canvas")["num_samples"] == 0
    x = torch.zeros((20, 1, 8, 8))
    x[:10, :, 2:4, :] = 1.0  # a bar at the top
    x[10:, :, 5:7, :] = 1.0  # a bar at the bottom
    ws.add_samples("canvas", x, ["smile"] * 10 + ["sad"] * 10)
    run = ws.fit("canvas", "mlp", epochs=3, seed=0)
    assert run.status == "finished"
    assert run.record.dataset_hash == ws.store.get_dataset("canvas").content_hash


def test_add_sample_files_converts_to_the_dataset_format(ws, tmp_path: Path) -> None:
    ws.create_empty_dataset("cam", classes=["ok"], image_size=16, channels=3)
    photo = tmp_path / "shot.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(photo)
    ids = ws.add_sample_files("cam", [photo], "ok")
    ds = ws.load_dataset("cam")
    assert ids == [0] and ds.input_shape == (3, 16, 16)
    png = ws.sample_image("cam", 0, scale=2)
    assert Image.open(io.BytesIO(png)).size == (32, 32)


def test_info_counts_per_class_and_split_and_keeps_a_fixed_test_split(ws) -> None:
    ds = drawings(10)
    ds.test_index = torch.tensor([8, 9])
    ws.save_dataset(ds)
    info = ws.dataset_info("drawn")
    assert info["splits"]["test"]["samples"] == 2
    assert info["split_settings"]["fixed_test"] is True
    assert sum(info["splits"][p]["samples"] for p in ("train", "val", "test")) == 10
    ws.delete_samples("drawn", [0, 9])
    assert ws.load_dataset("drawn").test_index.tolist() == [7]  # sample 8, now at index 7


def test_export_writes_the_layout_the_import_reads(ws, tmp_path: Path) -> None:
    ws.save_dataset(drawings(6))
    result = ws.export_dataset("drawn", tmp_path / "out")
    assert result["files"] == 6
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a", "b"]
    back = ws.import_dataset("again", tmp_path / "out", image_size=8, channels=1)
    assert back.content_hash != "" and len(back) == 6
    assert torch.allclose(back.x.sum(), ws.load_dataset("drawn").x.sum(), atol=1e-3)
    with pytest.raises(Conflict, match="not empty"):
        ws.export_dataset("drawn", tmp_path / "out")


def test_sequences_export_as_ts_and_import_back(ws, tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(1)
    ds = Dataset(
        name="curves",
        kind="sequences",
        task="classification",
        x=torch.randn((6, 2, 12), generator=gen),
        y=torch.tensor([0, 1, 0, 1, 0, 1]),
        classes=["ok", "nok"],
        feature_names=[],
        source={},
        test_index=torch.tensor([4, 5]),
    )
    ws.save_dataset(ds)
    ws.export_dataset("curves", tmp_path / "ts")
    assert sorted(p.name for p in (tmp_path / "ts").iterdir()) == [
        "curves_TEST.ts",
        "curves_TRAIN.ts",
    ]
    back, report = ws.import_dataset_report("back", tmp_path / "ts" / "curves_TRAIN.ts")
    assert report["fixed_test_split"] and back.test_index.tolist() == [4, 5]
    assert torch.allclose(back.x, ds.x, atol=1e-5) and back.classes == ["ok", "nok"]
    png = ws.preview_dataset("curves", per_class=2)
    assert png.startswith(b"\x89PNG")


def test_preview_refuses_tables_and_augmenting_sequences(ws) -> None:
    with pytest.raises(DataError, match="table"):
        ws.preview_dataset("xor")
    png = ws.preview_dataset("digits", per_class=3)
    assert Image.open(io.BytesIO(png)).size[0] > 0
    augmented = ws.preview_dataset("digits", augment={"rotation_deg": 20}, per_class=3)
    assert augmented.startswith(b"\x89PNG")


def test_training_takes_augmentation_for_images_only(ws) -> None:
    straight = ws.fit("digits", "lenet", epochs=2, seed=3, augment={"rotation_deg": 15})
    assert straight.config["train"]["augment"]["rotation_deg"] == 15
    with pytest.raises(SpecError, match="images only"):
        ws.fit("xor", "mlp", epochs=1, augment={"zoom": 0.1})


def test_dataset_view_of_forecast_windows_gives_each_its_next_steps(ws) -> None:
    # regression test: a forecast dataset's (N, K) targets once made this view fail
    info = ws.dataset_view("seasonal", series_per_class=2)
    horizon = info["meta"]["forecast"]["horizon"]
    assert len(info["series"]) == 4
    for s in info["series"]:
        assert isinstance(s["label"], list) and len(s["label"]) == horizon
    quality = ws.dataset_view("process:per_class=5,target=quality", series_per_class=1)
    assert all(isinstance(s["label"], float) for s in quality["series"])


def _leftovers(ws: Workspace) -> list[str]:
    """What lies in the workspace's datasets/ and tmp/ folders (tmp/.lock aside)."""
    found = [f"datasets/{p.name}" for p in (ws.path / "datasets").iterdir()]
    return found + [f"tmp/{p.name}" for p in (ws.path / "tmp").iterdir() if p.name != ".lock"]


def test_a_rejected_create_or_import_leaves_nothing_on_disk(ws, tmp_path) -> None:
    import zipfile

    with pytest.raises(SpecError):
        ws.create_dataset("h36", "smileys", per_class=-5)
    with pytest.raises(SpecError):
        ws.create_empty_dataset("e1", classes=["a"], image_size=-1)
    with pytest.raises(DataError):
        ws.create_empty_dataset("e2", classes=["a", "A"])
    with pytest.raises(SpecError, match="reserved device name"):
        ws.create_dataset("con", "xor")
    archive = tmp_path / "traversal.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a/1.png", b"x")
        z.writestr("../../x/evil.png", b"x")
    with pytest.raises(DataError, match="'..'"):
        ws.import_dataset("z1", archive)
    (tmp_path / "one.csv").write_text("a,label\n1,x\n2,y\n")
    with pytest.raises(DataError):
        ws.import_dataset("t1", tmp_path / "one.csv", target="missing")
    with pytest.raises(NotFound):
        ws.add_samples("nowhere", np.zeros((1, 1, 8, 8), np.float32), ["a"])
    assert _leftovers(ws) == []
    ws.create_dataset("fine", "xor", samples=20)
    assert _leftovers(ws) == ["datasets/fine"]
    [only] = (ws.path / "datasets" / "fine").iterdir()
    assert only.name.startswith("samples-") and only.suffix == ".bin"


def _zip_with_strays(tmp_path: Path) -> Path:
    import zipfile

    png = io.BytesIO()
    Image.new("L", (10, 10), 200).save(png, format="PNG")
    path = tmp_path / "shots.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("shots/1.png", png.getvalue())
        z.writestr("../../x/evil.png", png.getvalue())
        z.writestr("shots/.hidden.png", png.getvalue())
        z.writestr("shots/readme.txt", b"notes")
    return path


def test_zip_entries_passed_over_when_adding_samples_are_named_with_the_reason(
    ws, tmp_path
) -> None:
    ws.create_empty_dataset("cam", classes=["ok"], image_size=8)
    archive = _zip_with_strays(tmp_path)
    result = ws.add_image_samples("cam", "ok", files=[("shots.zip", archive.read_bytes())])
    assert result["ids"] == [0]
    assert [(s["path"], s["code"]) for s in result["skipped"]] == [
        ("shots.zip:../../x/evil.png", "unsafe"),
        ("shots.zip:shots/.hidden.png", "hidden"),
        ("shots.zip:shots/readme.txt", "not_image"),
    ]
    assert "leads out of the archive" in result["skipped"][0]["reason"]
    assert ws.add_sample_files("cam", [archive], "ok") == [1]  # a zip on disk, too
    with pytest.raises(NotFound, match="is not a file"):
        ws.add_sample_files("cam", [tmp_path / "missing.png"], "ok")


def test_import_dataset_returns_the_dataset_as_the_readme_shows(ws, tmp_path) -> None:
    import lernwerk as lw

    (tmp_path / "t.csv").write_text("x,label\n1,a\n2,b\n3,a\n4,b\n")
    ds = ws.import_dataset("t", tmp_path / "t.csv")
    assert isinstance(ds, Dataset) and ds.name == "t" and ds.classes == ["a", "b"]
    again, report = ws.import_dataset_report("t", tmp_path / "t.csv", replace=True)
    assert isinstance(again, Dataset) and report["kind"] == "table"
    facade = lw.datasets.import_("u", tmp_path / "t.csv", workspace=ws)
    assert isinstance(facade, Dataset) and facade.name == "u"
