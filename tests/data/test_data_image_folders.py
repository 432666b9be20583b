"""Folders and zips of class folders: layout, limits, unsafe archives, and export back."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from tests.data.image_helpers import GREY, _flat, _png, _tree

from lernwerk.data.images import folders as image_folders
from lernwerk.data.images import formats as images
from lernwerk.data.images.folders import read_image_tree, write_image_tree
from lernwerk.data.images.formats import ImageFormat
from lernwerk.errors import DataError, NotFound


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


# -------------------------------------------------------------------------------------- folders


def test_folder_of_class_folders_in_natural_order(tmp_path: Path) -> None:
    root = _tree(
        tmp_path / "parts",
        {
            "c10/a.png": _flat(10),
            "c2/b10.png": _flat(210),
            "c2/b9.png": _flat(29),
            "c2/deeper/z.png": _flat(220),
            "c1/x.jpg": _flat(100),
            "c1/notes.txt": b"not an image",
            "c1/.DS_Store": b"junk",
            "loose.png": _flat(0),
            "Thumbs.db": b"junk",
        },
    )
    result = read_image_tree(root, GREY)
    assert result.classes == ["c1", "c2", "c10"]
    assert result.x.shape == (5, 1, 8, 8) and result.x.dtype == np.uint8
    assert result.y.tolist() == [0, 1, 1, 1, 2] and result.y.dtype == np.int64
    assert [Path(f).relative_to(root).as_posix() for f in result.files] == [
        "c1/x.jpg",
        "c2/b9.png",
        "c2/b10.png",
        "c2/deeper/z.png",
        "c10/a.png",
    ]
    assert result.x[1:4, 0, 0, 0].tolist() == [29, 210, 220]
    assert not result.is_test.any()
    assert sorted(Path(f).name for f in result.ignored) == ["loose.png", "notes.txt"]
    assert result.skipped == []


def _three_classes_one_corrupt(tmp_path: Path) -> tuple[Path, Path]:
    root = _tree(
        tmp_path / "shapes",
        {
            "circle/1.png": _flat(10),
            "circle/2.png": _flat(20),
            "square/1.png": _flat(30),
            "square/2.png": _png(np.random.default_rng(0).integers(0, 255, (32, 32), np.uint8))[
                :500
            ],
            "star/1.png": _flat(50),
        },
    )
    return root, root / "square" / "2.png"


def test_a_corrupt_file_fails_the_whole_import(tmp_path: Path) -> None:
    root, bad = _three_classes_one_corrupt(tmp_path)
    with pytest.raises(DataError) as caught:
        read_image_tree(root, GREY)
    assert caught.value.where == str(bad)
    assert str(caught.value).startswith(str(bad))
    assert "--skip-bad" in str(caught.value)


def test_skip_bad_imports_the_rest(tmp_path: Path) -> None:
    root, bad = _three_classes_one_corrupt(tmp_path)
    result = read_image_tree(root, GREY, skip_bad=True)
    assert result.classes == ["circle", "square", "star"]
    assert len(result.x) == 4 and str(bad) not in result.files
    assert result.x[:, 0, 0, 0].tolist() == [10, 20, 30, 50]
    assert [path for path, _ in result.skipped] == [str(bad)]
    assert "cannot" in result.skipped[0][1]


def test_train_and_test_folders_mark_a_fixed_test_split(tmp_path: Path) -> None:
    root = _tree(
        tmp_path / "set",
        {
            "Train/gut/1.png": _flat(1),
            "Train/schlecht/1.png": _flat(2),
            "Test/gut/1.png": _flat(3),
            "Test/schlecht/1.png": _flat(4),
        },
    )
    result = read_image_tree(root, GREY)
    assert result.classes == ["gut", "schlecht"]
    by_value = dict(zip(result.x[:, 0, 0, 0].tolist(), result.is_test.tolist(), strict=True))
    assert by_value == {1: False, 2: False, 3: True, 4: True}

    (root / "Test" / "neu").mkdir()
    (root / "Test" / "neu" / "1.png").write_bytes(_flat(5))
    with pytest.raises(DataError, match="classes neu have images in test/ but none in train/"):
        read_image_tree(root, GREY)

    (root / "val" / "gut").mkdir(parents=True)
    with pytest.raises(DataError, match="holds train/ and test/ next to val"):
        read_image_tree(root, GREY)


@pytest.mark.parametrize(
    ("files", "message", "where"),
    [
        ({"a.png": _flat(0)}, "holds no class folders; .*found 1 images directly", ""),
        ({"gut/1.png": _flat(0), "leer/x.txt": b""}, "class folder holds no images", "leer"),
        ({"gut/1.png": _flat(0), ".x/1.png": _flat(0), "..a/1.png": _flat(0)}, None, None),
        ({"Gut/1.png": _flat(0), "gut/1.png": _flat(0)}, "differ only in case", ""),
        ({"a b\x01/1.png": _flat(0)}, "control character U\\+0001", "a b\x01"),
    ],
)
def test_layout_errors_name_the_folder(
    tmp_path: Path, files: dict[str, bytes], message: str | None, where: str | None
) -> None:
    root = _tree(tmp_path / "root", files)
    if message is None:  # hidden folders are passed over, not refused
        assert read_image_tree(root, GREY).classes == ["gut"]
        return
    with pytest.raises(DataError, match=message) as caught:
        read_image_tree(root, GREY)
    assert caught.value.where == str(root / where) if where else str(root)


def test_limits_on_classes_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path / "r", {f"k{i}/1.png": _flat(i) for i in range(3)})
    monkeypatch.setattr(image_folders, "MAX_CLASSES", 2)
    with pytest.raises(DataError, match="holds 3 classes; at most 2 are allowed"):
        read_image_tree(root, GREY)
    monkeypatch.setattr(image_folders, "MAX_CLASSES", 200)
    monkeypatch.setattr(image_folders, "MAX_FILES", 2)
    with pytest.raises(DataError, match="holds more than 2 images"):
        read_image_tree(root, GREY)
    monkeypatch.setattr(image_folders, "MAX_FILES", 100)
    with pytest.raises(DataError, match=r"3 images of 1×1000×1000 would take 0.0 GB"):
        monkeypatch.setattr(images, "MAX_DECODED_BYTES", 10)
        read_image_tree(root, ImageFormat(size=1000))


def test_an_import_with_nothing_readable_is_an_error(tmp_path: Path) -> None:
    root = _tree(tmp_path / "r", {"a/1.png": b"broken", "b/1.png": b"broken"})
    with pytest.raises(DataError, match="none of its 2 images is readable"):
        read_image_tree(root, GREY, skip_bad=True)
    (root / "b" / "1.png").write_bytes(_flat(0))
    with pytest.raises(DataError, match="every image of class 'a' is unreadable"):
        read_image_tree(root, GREY, skip_bad=True)


def test_tree_paths_that_are_not_folders_or_zips(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        read_image_tree(tmp_path / "nope", GREY)
    (tmp_path / "a.tar").write_bytes(b"")
    with pytest.raises(DataError, match="received a .tar file"):
        read_image_tree(tmp_path / "a.tar", GREY)
    (tmp_path / "a.zip").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable zip archive"):
        read_image_tree(tmp_path / "a.zip", GREY)


# ----------------------------------------------------------------------------------------- zips


def test_zip_with_a_wrapper_folder(tmp_path: Path) -> None:
    path = _zip(
        tmp_path / "parts.zip",
        {
            "parts/gut/1.png": _flat(1),
            "parts/Lötstelle_schlecht/1.png": _flat(2),
            "parts/README.md": b"# parts",
            "__MACOSX/parts/gut/._1.png": b"resource fork",
            "parts/.DS_Store": b"junk",
        },
    )
    result = read_image_tree(path, GREY)
    assert result.classes == ["gut", "Lötstelle_schlecht"]
    assert result.files == [f"{path}:parts/gut/1.png", f"{path}:parts/Lötstelle_schlecht/1.png"]
    assert result.ignored == [f"{path}:parts/README.md"]


def test_zip_names_written_without_the_utf8_flag(tmp_path: Path) -> None:
    path = _zip(tmp_path / "w.zip", {"Lötstelle/1.png": _flat(1), "gut/1.png": _flat(2)})
    data = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local, central
        start = data.find(signature)
        while start >= 0:
            data[start + flag_at] &= ~0x08 & 0xFF  # bit 11 of the flags: names are UTF-8
            start = data.find(signature, start + 1)
    path.write_bytes(bytes(data))
    assert read_image_tree(path, GREY).classes == ["gut", "Lötstelle"]


@pytest.mark.parametrize(
    ("name", "message"),
    [("../evil.png", "holds a path with '..'"), ("/etc/evil.png", "holds an absolute path")],
)
def test_zip_with_escaping_paths_is_refused(tmp_path: Path, name: str, message: str) -> None:
    path = _zip(tmp_path / "evil.zip", {"gut/1.png": _flat(0), name: _flat(0)})
    with pytest.raises(DataError, match=message) as caught:
        read_image_tree(path, GREY)
    assert caught.value.where == f"{path}:{name}"


def test_zip_entry_that_compresses_like_a_bomb_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "bomb.zip", {"gut/1.png": _flat(0), "gut/2.png": bytes(3_000_000)})
    with pytest.raises(DataError, match="possible zip bomb") as caught:
        read_image_tree(path, GREY)
    assert caught.value.where == f"{path}:gut/2.png"


def test_corrupt_zip_member_is_skipped_or_named(tmp_path: Path) -> None:
    path = _zip(tmp_path / "r.zip", {"a/1.png": _flat(0), "b/1.png": _flat(7), "b/2.png": b"x"})
    with pytest.raises(DataError, match="--skip-bad") as caught:
        read_image_tree(path, GREY)
    assert caught.value.where == f"{path}:b/2.png"
    result = read_image_tree(path, GREY, skip_bad=True)
    assert result.skipped[0][0] == f"{path}:b/2.png" and len(result.x) == 2


# --------------------------------------------------------------------------------------- export


@pytest.mark.parametrize("as_float", [False, True])
def test_export_reads_back_the_same(tmp_path: Path, as_float: bool) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (7, 3, 6, 5), dtype=np.uint8)  # (N, C, H, W)
    y = np.array([0, 2, 1, 0, 2, 2, 0])
    classes = ["rot", "Grün", "blau"]
    out = tmp_path / "export"

    written = write_image_tree(x / 255.0 if as_float else x, y, classes, out)

    assert written == 7
    assert sorted(p.name for p in out.iterdir()) == ["Grün", "blau", "rot"]
    assert (out / "rot" / "00001.png").is_file()
    back = read_image_tree(out, ImageFormat(size=(6, 5), channels=3))
    order = [int(Path(f).stem) - 1 for f in back.files]
    np.testing.assert_array_equal(back.x, x[order])
    assert [back.classes[i] for i in back.y] == [classes[y[i]] for i in order]


def test_export_refusals(tmp_path: Path) -> None:
    x = np.zeros((2, 1, 4, 4), dtype=np.uint8)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.png").write_bytes(b"")
    with pytest.raises(DataError, match="is not empty"):
        write_image_tree(x, np.array([0, 1]), ["a", "b"], tmp_path / "full")
    with pytest.raises(DataError, match="contains a path separator"):
        write_image_tree(x, np.array([0, 1]), ["a", "../b"], tmp_path / "new")
    with pytest.raises(DataError, match="differ only in case"):
        write_image_tree(x, np.array([0, 1]), ["a", "A"], tmp_path / "new")
    with pytest.raises(DataError, match="class indices must lie in 0..1"):
        write_image_tree(x, np.array([0, 2]), ["a", "b"], tmp_path / "new")
    with pytest.raises(DataError, match="must lie in \\[0, 1\\]"):
        write_image_tree(x + 2.0, np.array([0, 1]), ["a", "b"], tmp_path / "new")
    with pytest.raises(DataError, match="occurs twice"):
        write_image_tree(x, np.array([0, 0]), ["a"], tmp_path / "new", names=["p", "p.png"])
    assert not (tmp_path / "new").exists()
    assert write_image_tree(x, np.array([0, 0]), ["a"], tmp_path / "new", names=["p", "q"]) == 2
    assert sorted(p.name for p in (tmp_path / "new" / "a").iterdir()) == ["p.png", "q.png"]
