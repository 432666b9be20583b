"""Single images: the format, decoding, limits, class names, loose files and PNGs out."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.data.image_helpers import GREY, _flat, _png, _tree

from lernwerk.data.images import formats as images
from lernwerk.data.images.formats import (
    ImageFormat,
    decode_image,
    encode_png,
    image_grid,
    read_image_files,
    validate_class_name,
)
from lernwerk.errors import DataError, NotFound, SpecError


def _png_bomb(width: int, height: int, rows: int) -> bytes:
    """A valid PNG declaring width × height grey pixels, with its first `rows` rows (all black).

    Black rows compress about 1000:1, so even all 8000 rows of 8000×8000 take only ~64 KB.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    packer = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte 0, then black pixels
    pixels = b"".join(packer.compress(row) for _ in range(rows)) + packer.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# ----------------------------------------------------------------------------------- the format


def test_format_round_trips_and_normalises_square_sizes() -> None:
    assert ImageFormat(size=(16, 16)) == ImageFormat(size=16)
    fmt = ImageFormat.from_dict({"size": [32, 16], "channels": 3, "resize": "crop"})
    assert fmt.shape == (3, 32, 16)
    assert ImageFormat.from_dict(fmt.to_dict()) == fmt
    assert ImageFormat.from_dict({}) == ImageFormat()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"size": 0}, "expected a side in 1..2048"),
        ({"size": (28, 28, 3)}, r"or \(height, width\); received: \(28, 28, 3\)"),
        ({"size": None}, "received: None"),
        ({"channels": 2}, "expected 1 or 3"),
        ({"resize": "stretch"}, "expected 'fit' or 'crop'"),
        ({"sise": 28}, "unknown image format keys sise"),
    ],
)
def test_format_refuses_bad_fields(data: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        ImageFormat.from_dict(data)


# ------------------------------------------------------------------------------------- decoding


def test_fit_pads_with_the_border_colour_and_crop_fills() -> None:
    drawing = np.zeros((20, 40), dtype=np.uint8)  # white stroke on black, twice as wide as high
    drawing[8:12, 5:35] = 255
    fit = decode_image(_png(drawing), ImageFormat(size=28))
    assert fit.shape == (1, 28, 28) and fit.dtype == np.uint8
    assert fit[0, :6].max() == 0 and fit[0, -6:].max() == 0  # padded black, not white
    assert fit[0, 14].max() == 255

    paper = 255 - drawing  # black stroke on white: padded white
    assert decode_image(_png(paper), ImageFormat(size=28))[0, :6].min() == 255

    crop = decode_image(_png(drawing), ImageFormat(size=28, resize="crop"))
    assert crop.shape == (1, 28, 28)
    assert crop[0, 14, 0] > 200 and crop[0, 14, -1] > 200  # the stroke runs off both sides

    wide = decode_image(_png(drawing), ImageFormat(size=(10, 20), channels=3))
    assert wide.shape == (3, 10, 20)  # (C, H, W)


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "BMP", "GIF", "WEBP"])
def test_every_supported_format_decodes(kind: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 40, 40)).save(buffer, kind)
    colour = decode_image(buffer.getvalue(), ImageFormat(size=(12, 16), channels=3))
    assert colour.shape == (3, 12, 16)
    assert np.abs(colour.reshape(3, -1).mean(axis=1) - [200, 40, 40]).max() < 12
    grey = decode_image(buffer.getvalue(), ImageFormat(size=(12, 16)))
    assert abs(float(grey.mean()) - (0.299 * 200 + 0.587 * 40 + 0.114 * 40)) < 12


def test_exif_orientation_is_applied() -> None:
    stored = np.zeros((20, 40), dtype=np.uint8)  # left half black, right half white
    stored[:, 20:] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buffer = io.BytesIO()
    Image.fromarray(stored).save(buffer, "JPEG", quality=95, exif=exif)

    shown = decode_image(buffer.getvalue(), ImageFormat(size=(40, 20)))[0]  # (H=40, W=20)

    assert shown[:16].mean() < 30  # the left half is now on top
    assert shown[24:].mean() > 225


def test_gif_gives_its_first_frame() -> None:
    frames = [Image.new("L", (8, 8), 0), Image.new("L", (8, 8), 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    assert decode_image(buffer.getvalue(), GREY).max() == 0


@pytest.mark.parametrize(("stroke", "background"), [(0, 255), (255, 0)])
def test_transparency_is_laid_on_a_contrasting_background(stroke: int, background: int) -> None:
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)  # fully transparent
    rgba[3:5, :] = (stroke, stroke, stroke, 255)  # an opaque line
    flat = decode_image(_png(rgba), GREY)[0]
    assert flat[0, 0] == background and flat[4, 4] == stroke


def test_sixteen_bit_greys_are_scaled_not_clipped() -> None:
    wide = np.array([[0, 32896, 65535]] * 3, dtype=np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(wide).save(buffer, "PNG")
    assert decode_image(buffer.getvalue(), ImageFormat(size=(3, 3)))[0, 0].tolist() == [0, 128, 255]


def test_truncated_png_is_named_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    path.write_bytes(_png(np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8))[:300])
    with pytest.raises(DataError) as caught:
        decode_image(path, GREY)
    assert caught.value.where == str(path)
    assert str(caught.value).startswith(f"{path}: cannot decode the image: ")
    assert "\n" not in str(caught.value)


def test_other_formats_and_text_are_refused() -> None:
    buffer = io.BytesIO()
    Image.new("L", (8, 8)).save(buffer, "TIFF")
    for data in (buffer.getvalue(), b"hello"):
        with pytest.raises(DataError, match="not a PNG, JPEG, BMP, GIF or WebP image"):
            decode_image(data, GREY, "x.png")


def test_missing_and_oversized_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NotFound):
        decode_image(tmp_path / "nope.png", GREY)
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 10)
    with pytest.raises(DataError, match="image files above 0 MB are refused"):
        decode_image(_flat(0), GREY, "big.png")


@pytest.mark.parametrize(
    ("width", "height", "message"),
    [
        (30_000, 30_000, "declares 900 megapixels; images above 40 megapixels are refused"),
        (8_000, 8_000, "declares 8000×8000 = 64 megapixels; images above 40 megapixels"),
    ],
)
def test_pixel_bombs_are_refused_from_the_header(width: int, height: int, message: str) -> None:
    bomb = _png_bomb(width, height, rows=4)
    assert len(bomb) < 4096
    with pytest.raises(DataError, match=message):
        decode_image(bomb, GREY, "bomb.png")


def test_pixel_bombs_keep_the_process_small(tmp_path: Path) -> None:
    """In a fresh process, refusing both bombs stays far below the 1 GB a decode would take."""
    (tmp_path / "30000.png").write_bytes(_png_bomb(30_000, 30_000, rows=4))  # header: 900 MB
    (tmp_path / "8000.png").write_bytes(_png_bomb(8_000, 8_000, rows=8_000))  # 64 MB in 64 KB
    # The child loads the module without the package root (which imports torch): it starts
    # in a fraction of a second and its peak memory is the decoder's alone.
    # Peak memory: VmHWM of this process's own memory map (Linux). ru_maxrss would carry
    # the parent's peak over the exec, and pytest's process is large late in the suite.
    script = (
        "import resource, sys, types\n"
        "from pathlib import Path\n"
        "def peak():\n"
        "    status = Path('/proc/self/status')\n"
        "    if status.exists():\n"
        "        for line in status.read_text().splitlines():\n"
        "            if line.startswith('VmHWM:'):\n"
        "                return int(line.split()[1])\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "for name, folder in (('lernwerk', sys.argv[1]), ('lernwerk.data', sys.argv[1] + '/data'),\n"
        "                     ('lernwerk.data.images', sys.argv[1] + '/data/images')):\n"
        "    sys.modules[name] = types.ModuleType(name)\n"
        "    sys.modules[name].__path__ = [folder]\n"
        "from lernwerk.data.images.formats import ImageFormat, decode_image\n"
        "from lernwerk.errors import DataError\n"
        "print(peak())\n"
        "for name in sys.argv[2:]:\n"
        "    try:\n"
        "        decode_image(Path(name), ImageFormat())\n"
        "    except DataError:\n"
        "        print('refused')\n"
        "print(peak())\n"
    )
    package = str(Path(images.__file__).parents[2])
    bombs = [str(tmp_path / "30000.png"), str(tmp_path / "8000.png")]
    done = subprocess.run(
        [sys.executable, "-c", script, package, *bombs], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    before, *refusals, after = done.stdout.split()
    assert refusals == ["refused", "refused"]
    unit = 1 if sys.platform == "darwin" else 1024  # bytes there, KiB here
    assert int(after) * unit < 1024**3
    assert (int(after) - int(before)) * unit < 32 * 1024**2, (before, after)  # decoding: 64 MB+


# ---------------------------------------------------------------------------------- class names


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("../x", "contains a path separator"),
        ("a/b", "contains a path separator"),
        ("a\\b", "contains a path separator"),
        ("..", "contains '..'"),
        (".", "starts with a dot"),
        (".hidden", "starts with a dot"),
        ("   ", "is empty"),
        ("x" * 300, "has 300 characters; at most 64"),
        ("tab\there", r"control character U\+0009"),
    ],
)
def test_unsafe_class_names_are_refused(name: str, rule: str) -> None:
    with pytest.raises(DataError, match=rule) as caught:
        validate_class_name(name)
    assert "received: " in str(caught.value)
    assert len(str(caught.value)) < 200  # long names are shown cut short


def test_class_names_of_any_script_are_accepted() -> None:
    assert validate_class_name(" Lötstelle_gut ") == "Lötstelle_gut"
    assert validate_class_name("缺陷") == "缺陷"
    assert validate_class_name("Lo\u0308tstelle") == "Lötstelle"  # macOS NFD becomes NFC


# ------------------------------------------------------------------------------- files and PNGs


def test_read_image_files_all_or_nothing(tmp_path: Path) -> None:
    good = _tree(tmp_path, {"a.png": _flat(3), "b.bmp": b""})
    (tmp_path / "b.bmp").unlink()
    Image.new("L", (8, 8), 9).save(tmp_path / "b.bmp")
    x = read_image_files([good / "a.png", tmp_path / "b.bmp"], GREY)
    assert x.shape == (2, 1, 8, 8) and x[:, 0, 0, 0].tolist() == [3, 9]
    (tmp_path / "c.txt").write_text("x")
    with pytest.raises(DataError, match="unsupported type .txt"):
        read_image_files([good / "a.png", tmp_path / "c.txt"], GREY)
    with pytest.raises(DataError, match="no image files given"):
        read_image_files([], GREY)


def test_png_thumbnails_and_grids() -> None:
    sample = np.zeros((1, 28, 28), dtype=np.float32)
    sample[0, 10:18, 10:18] = 1.0
    thumb = Image.open(io.BytesIO(encode_png(sample, scale=4)))
    assert thumb.size == (112, 112) and thumb.mode == "L"
    assert set(np.unique(np.asarray(thumb)).tolist()) == {0, 255}  # nearest neighbour: no blur

    batch = np.zeros((5, 3, 8, 8), dtype=np.uint8)
    plain = Image.open(io.BytesIO(image_grid(batch, cols=2, scale=2)))
    assert plain.mode == "RGB" and plain.size == (2 + 2 * 18, 2 + 3 * 18)
    labelled = Image.open(io.BytesIO(image_grid(batch, cols=2, scale=2, labels=list("abcde"))))
    assert labelled.size[0] == plain.size[0] and labelled.size[1] > plain.size[1]
    with pytest.raises(DataError, match="expected 5 labels"):
        image_grid(batch, labels=["a"])
    with pytest.raises(DataError, match="expected an integer scale"):
        encode_png(sample, scale=0)
