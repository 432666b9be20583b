"""Reading `predict` inputs: images, CSV rows and .npy arrays, and every refusal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lernwerk.data.images import formats as images
from lernwerk.data.inputs import read_inputs
from lernwerk.errors import DataError, NotFound

FEATURES = ["x1", "x2", "x3"]


def _table(paths: list[Path], features: list[str] = FEATURES) -> tuple[torch.Tensor, list[str]]:
    return read_inputs(paths, kind="table", input_shape=(len(features),), feature_names=features)


def _images(
    paths: list[Path], shape: tuple[int, ...] = (1, 8, 8)
) -> tuple[torch.Tensor, list[str]]:
    return read_inputs(paths, kind="images", input_shape=shape, feature_names=[])


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- images -------------------------------------------------------------------------


def test_grey_png_is_resized_and_scaled(tmp_path: Path) -> None:
    path = tmp_path / "smiley.png"
    Image.new("L", (28, 28), color=255).save(path)

    x, labels = _images([path], shape=(1, 8, 8))

    assert x.shape == (1, 1, 8, 8)
    assert x.dtype == torch.float32
    assert torch.allclose(x, torch.ones_like(x))
    assert labels == [str(path)]


def test_colour_jpeg_becomes_rgb_channels_first(tmp_path: Path) -> None:
    path = tmp_path / "part.JPG"  # suffixes match regardless of case
    Image.new("RGB", (40, 20), color=(255, 0, 0)).save(path, format="JPEG", quality=100)

    x, _ = _images([path], shape=(3, 10, 20))

    assert x.shape == (1, 3, 10, 20)  # (N, C, H, W): H = 10, W = 20
    assert x[0, 0].mean() > 0.95
    assert x[0, 1:].max() < 0.05


def test_grey_image_for_colour_run_and_colour_for_grey_run(tmp_path: Path) -> None:
    grey = tmp_path / "grey.bmp"
    Image.new("L", (4, 4), color=51).save(grey)
    colour = tmp_path / "colour.webp"
    Image.new("RGB", (4, 4), color=(255, 255, 255)).save(colour, lossless=True)

    x_rgb, _ = _images([grey], shape=(3, 4, 4))
    x_grey, _ = _images([colour], shape=(1, 4, 4))

    assert torch.allclose(x_rgb, torch.full((1, 3, 4, 4), 51 / 255))
    assert torch.allclose(x_grey, torch.ones(1, 1, 4, 4))


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    Image.new("L", (40, 20), color=128).save(path, exif=exif)

    with Image.open(path) as raw:
        assert raw.size == (40, 20)
    x, _ = _images([path], shape=(1, 40, 20))  # displayed as 20 wide, 40 high

    assert x.shape == (1, 1, 40, 20)


def test_file_over_size_limit_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.png"
    Image.new("L", (64, 64)).save(path)
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 10)

    with pytest.raises(DataError, match=r"big\.png"):
        _images([path])


def test_image_over_pixel_limit_refused_before_decoding(tmp_path: Path) -> None:
    # 7000 × 7000 = 49 megapixels of one colour compresses to a few kB.
    path = tmp_path / "huge.png"
    Image.new("L", (7000, 7000)).save(path)

    with pytest.raises(DataError, match=r"huge\.png.*7000.*7000.*refused"):
        _images([path])


def test_unreadable_image_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "broken.png", "not a png")

    with pytest.raises(DataError, match=r"broken\.png"):
        _images([path])


def test_images_need_an_image_input_shape(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    Image.new("L", (4, 4)).save(path)

    with pytest.raises(DataError, match=r"shape \(4, 4\), not images"):
        _images([path], shape=(4, 4))


# --- CSV ----------------------------------------------------------------------------


def test_table_columns_chosen_by_name(tmp_path: Path) -> None:
    path = _write(tmp_path / "rows.csv", "id,x3,target,x1,x2\na,3,1,1,2\nb,6,0,4,5\n")

    x, labels = _table([path])

    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert x.dtype == torch.float32
    assert labels == [f"{path}:2", f"{path}:3"]


def test_table_numeric_columns_by_position(tmp_path: Path) -> None:
    path = _write(tmp_path / "rows.csv", "name,a,b,c\nfirst,1,2,3\nsecond,4,5,6\n")

    x, _ = _table([path])

    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_table_semicolons_blank_lines_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffx1;x2;x3\n1;2;3\n\n4;5;6\n".encode())

    x, labels = _table([path])

    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert labels == [f"{path}:2", f"{path}:4"]  # the blank row 3 still counts


def test_table_missing_columns_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "rows.csv", "x1,label\n1,a\n")

    with pytest.raises(
        DataError, match=r"rows\.csv: missing columns x2, x3; the file has x1, label"
    ):
        _table([path])


def test_table_non_numeric_cell_names_row_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "rows.csv", "x1,x2,x3\n1,2,3\n4,five,6\n")

    with pytest.raises(DataError, match=r"rows\.csv: row 3, column 'x2' holds 'five'") as info:
        _table([path])
    assert info.value.where == str(path)


def test_table_empty_cell_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "rows.csv", "x1,x2,x3\n1,,3\n")

    with pytest.raises(DataError, match=r"row 2, column 'x2' holds an empty cell"):
        _table([path])


def test_table_stray_text_in_unnamed_columns_reported_by_cell(tmp_path: Path) -> None:
    path = _write(tmp_path / "rows.csv", "a,b,c\n1,2,3\n4,5,oops\n")

    with pytest.raises(DataError, match=r"row 3, column 'c' holds 'oops'"):
        _table([path])


def test_table_without_header_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "rows.csv", "1,2,3\n4,5,6\n")

    with pytest.raises(DataError, match=r"row 1 holds numbers, not column names"):
        _table([path])


def test_table_header_without_rows_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "rows.csv", "x1,x2,x3\n")

    with pytest.raises(DataError, match=r"rows\.csv has no data rows"):
        _table([path])


def test_sequences_one_series_per_row(tmp_path: Path) -> None:
    path = _write(tmp_path / "curves.csv", "0,1,2,3\n4,5,6,7\n")

    x, labels = read_inputs([path], kind="sequences", input_shape=(1, 4), feature_names=[])

    assert x.shape == (2, 1, 4)
    assert x[1, 0].tolist() == [4.0, 5.0, 6.0, 7.0]
    assert labels == [f"{path}:1", f"{path}:2"]


def test_sequences_header_is_skipped(tmp_path: Path) -> None:
    path = _write(tmp_path / "curves.csv", "t0,t1,t2\n1,2,3\n")

    x, labels = read_inputs([path], kind="sequences", input_shape=(3, 1), feature_names=[])

    assert x.shape == (1, 3, 1)
    assert labels == [f"{path}:2"]


def test_sequences_wrong_length_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "curves.csv", "1,2,3,4\n1,2,3\n")

    with pytest.raises(DataError, match=r"curves\.csv: row 2 has 3 values; expected 4"):
        read_inputs([path], kind="sequences", input_shape=(1, 4), feature_names=[])


# --- .npy ---------------------------------------------------------------------------


def test_npy_batch_and_single_sample(tmp_path: Path) -> None:
    batch = tmp_path / "batch.npy"
    np.save(batch, np.full((2, 1, 8, 8), 0.5, dtype=np.float64))
    single = tmp_path / "one.npy"
    np.save(single, np.full((1, 8, 8), 0.25, dtype=np.float32))

    x, labels = _images([batch, single])

    assert x.shape == (3, 1, 8, 8)
    assert x.dtype == torch.float32
    assert x[:, 0, 0, 0].tolist() == [0.5, 0.5, 0.25]  # values as given, not rescaled
    assert labels == [f"{batch}[0]", f"{batch}[1]", str(single)]


def test_npy_flat_series_for_sequences(tmp_path: Path) -> None:
    path = tmp_path / "series.npy"
    np.save(path, np.arange(10.0).reshape(2, 5))

    x, _ = read_inputs([path], kind="sequences", input_shape=(1, 5), feature_names=[])

    assert x.shape == (2, 1, 5)


def test_npy_wrong_shape_message(tmp_path: Path) -> None:
    path = tmp_path / "wrong.npy"
    np.save(path, np.zeros((2, 8, 8)))

    with pytest.raises(
        DataError,
        match=r"wrong\.npy has shape \(2, 8, 8\); expected \(N, 1, 8, 8\) or \(1, 8, 8\)",
    ):
        _images([path])


def test_npy_with_objects_refused_without_unpickling(tmp_path: Path) -> None:
    path = tmp_path / "objects.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)

    with pytest.raises(DataError, match=r"objects\.npy holds Python objects"):
        _table([path])


def test_npy_with_text_or_nan_refused(tmp_path: Path) -> None:
    text = tmp_path / "text.npy"
    np.save(text, np.array([["a", "b", "c"]]))
    nan = tmp_path / "nan.npy"
    np.save(nan, np.array([[1.0, np.nan, 3.0]]))

    with pytest.raises(DataError, match=r"text\.npy holds <U1 values; expected a numeric"):
        _table([text])
    with pytest.raises(DataError, match=r"nan\.npy contains NaN"):
        _table([nan])


# --- files in general ---------------------------------------------------------------


def test_mixed_files_are_concatenated(tmp_path: Path) -> None:
    csv_path = _write(tmp_path / "rows.csv", "x1,x2,x3\n1,2,3\n")
    npy_path = tmp_path / "more.npy"
    np.save(npy_path, np.array([[7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]))

    x, labels = _table([csv_path, npy_path])

    assert x.shape == (3, 3)
    assert labels == [f"{csv_path}:2", f"{npy_path}[0]", f"{npy_path}[1]"]


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.png"

    with pytest.raises(NotFound, match=r"nowhere\.png does not exist") as info:
        _images([path])
    assert info.value.where == str(path)


def test_unknown_suffix_lists_supported(tmp_path: Path) -> None:
    path = _write(tmp_path / "notes.txt", "1,2,3")

    with pytest.raises(
        DataError, match=r"notes\.txt: unsupported type; supported: \.csv, \.parquet"
    ):
        _table([path])


def test_image_for_table_run_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    Image.new("L", (4, 4)).save(path)

    with pytest.raises(DataError, match=r"a run on table does not take \.png files"):
        _table([path])


def test_no_samples_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.npy"
    np.save(path, np.zeros((0, 3)))

    with pytest.raises(DataError, match=r"no samples to predict in .*empty\.npy"):
        _table([path])
    with pytest.raises(DataError, match="no samples to predict in no files"):
        _table([])
