"""Single images in and out: decoding files to arrays, safe class names, PNGs for people.

`decode_image` brings one PNG, JPEG, BMP, GIF or WebP file to an `ImageFormat` as uint8
(C, H, W); `read_image_files` decodes a batch of loose files. Files from people are
untrusted: sizes and pixel counts (from the header, before decoding) are checked against
the limits below, and only those five formats are decoded. `encode_png` and `image_grid`
turn arrays back into PNG thumbnails and grids. Folders and `.zip` archives of class
folders are read and written in `image_folders`.
"""

from __future__ import annotations

import io
import math
import os
import re
import struct
import unicodedata
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from lernwerk.config import reserved_name_problem
from lernwerk.errors import DataError, NotFound, SpecError

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_CLASSES",
    "MAX_DECODED_BYTES",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "ImageFormat",
    "decode_image",
    "encode_png",
    "image_grid",
    "read_image_files",
    "validate_class_name",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
MAX_FILE_BYTES = 20 * 1024 * 1024  # one image file; larger ones are refused unread
MAX_PIXELS = 40_000_000  # one image, read from its header before decoding
MAX_SIDE = 2048  # the largest side an ImageFormat may ask for
MAX_CLASSES = 200
MAX_FILES = 100_000  # images in one import
MAX_DECODED_BYTES = 1024**3  # the uint8 (N, C, H, W) result; a float32 Dataset is 4× that
MAX_CLASS_NAME = 64  # characters

_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")  # what Pillow may decode (no EPS, no PSD)
# What Pillow raises for broken files besides its own errors, seen in the wild.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError, EOFError)
_DECODE_ERRORS += (struct.error, zlib.error)


@dataclass(frozen=True)
class ImageFormat:
    """The shape imported images are brought to, and how.

    Args:
        size: Target side in pixels for square images, or (height, width).
        channels: 1 for grey, 3 for colour (RGB).
        resize: "fit" scales the whole image inside the target and pads the rest with the
            mean colour of the scaled image's border, so white-on-black drawings get black
            padding and black-on-white ones white. "crop" scales the short side to the
            target and cuts the centre out.

    Raises:
        SpecError: A field is out of range.
    """

    size: int | tuple[int, int] = 28
    channels: Literal[1, 3] = 1
    resize: Literal["fit", "crop"] = "fit"

    def __post_init__(self) -> None:
        size = self.size
        sides = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
        if len(sides) != 2 or not all(
            isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= MAX_SIDE for s in sides
        ):
            raise SpecError(
                f"expected a side in 1..{MAX_SIDE} or (height, width); received: {size!r}",
                "size",
            )
        if self.channels not in (1, 3) or isinstance(self.channels, bool):
            raise SpecError(f"expected 1 or 3; received: {self.channels!r}", "channels")
        if self.resize not in ("fit", "crop"):
            raise SpecError(f"expected 'fit' or 'crop'; received: {self.resize!r}", "resize")
        object.__setattr__(self, "size", sides[0] if sides[0] == sides[1] else sides)

    @property
    def height(self) -> int:
        return self.size if isinstance(self.size, int) else self.size[0]

    @property
    def width(self) -> int:
        return self.size if isinstance(self.size, int) else self.size[1]

    @property
    def shape(self) -> tuple[int, int, int]:
        """One image: (C, H, W)."""
        return (self.channels, self.height, self.width)

    def to_dict(self) -> dict[str, Any]:
        size = self.size if isinstance(self.size, int) else list(self.size)
        return {"size": size, "channels": self.channels, "resize": self.resize}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageFormat:
        """Build from `to_dict` output; missing keys take defaults, unknown keys are errors."""
        unknown = sorted(set(data) - {"size", "channels", "resize"})
        if unknown:
            raise SpecError(
                f"unknown image format keys {', '.join(unknown)}; expected size, channels, resize",
                "image format",
            )
        return cls(**data)


# ------------------------------------------------------------------------------------ one image


def decode_image(source: bytes | Path, fmt: ImageFormat, where: str | None = None) -> np.ndarray:
    """Decode one PNG, JPEG, BMP, GIF (first frame) or WebP image to uint8 (C, H, W).

    The EXIF orientation is applied. Transparent pixels are laid on white, or on black when
    the visible pixels are mostly light (white strokes on a transparent canvas stay visible).

    Args:
        source: The file, or its bytes.
        fmt: The target size, channels and resize policy.
        where: How errors name the image; the path by default.

    Raises:
        NotFound: `source` is a path that does not exist.
        DataError: The file is too large, declares too many pixels, is not one of the
            formats above, or is truncated or corrupt; one line, with what Pillow said.
    """
    if isinstance(source, (str, os.PathLike)):
        where = where or str(source)
        data = _read_file(Path(source), where)
    else:
        where = where or "image"
        data = bytes(source)
        if len(data) > MAX_FILE_BYTES:
            raise DataError(_too_large(len(data)), where)
    try:
        with warnings.catch_warnings():
            # Our own pixel limit is lower than Pillow's; its warning would be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_FORMATS)  # reads the header only
    except Image.DecompressionBombError as error:
        found = re.search(r"\((\d+) pixels\)", str(error))
        declared = f"declares {int(found[1]) / 1e6:.0f} megapixels; " if found else ""
        raise DataError(f"{declared}{_pixel_limit()}", where) from None
    except UnidentifiedImageError:
        raise DataError("not a PNG, JPEG, BMP, GIF or WebP image", where) from None
    except _DECODE_ERRORS as error:
        raise DataError(f"cannot read the image: {_one_line(error)}", where) from None
    with image:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise DataError(
                f"declares {width}×{height} = {width * height / 1e6:.0f} megapixels; "
                f"{_pixel_limit()}",
                where,
            )
        try:
            return _convert(image, fmt)
        except _DECODE_ERRORS as error:
            raise DataError(f"cannot decode the image: {_one_line(error)}", where) from None


def image_size_mode(source: bytes | Path) -> str:
    """ "W×H MODE" of an image as stored, e.g. "640×480 RGB", from its header; "?" when the
    header cannot be read (the data checks count the sizes a folder of images came in)."""
    try:
        opened = source if isinstance(source, (str, os.PathLike)) else io.BytesIO(source)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(opened, formats=_FORMATS) as image:
                return f"{image.size[0]}×{image.size[1]} {image.mode}"
    except Exception:  # noqa: BLE001 - decode_image has reported a real problem already
        return "?"


def _read_file(path: Path, where: str) -> bytes:
    if not path.exists():
        raise NotFound(f"{path} does not exist", where)
    if not path.is_file():
        raise DataError("is not a file", where)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DataError(_too_large(size), where)
        return path.read_bytes()
    except OSError as error:
        raise DataError(f"cannot read the file: {_one_line(error)}", where) from None


def _convert(image: Image.Image, fmt: ImageFormat) -> np.ndarray:
    side = max(fmt.height, fmt.width)
    image.draft(None, (side, side))  # JPEG: decode at 1/2, 1/4 or 1/8 scale, still >= side
    image.load()
    ImageOps.exif_transpose(image, in_place=True)
    if image.mode.startswith("I"):
        # 16-bit greys ("I;16", or "I"): Pillow's convert("L") clips at 255 instead of scaling.
        wide = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.clip(np.round(wide / 257), 0, 255).astype(np.uint8))
    transparent = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info
    if transparent:
        image = image.convert("RGBA")
        image = image if fmt.channels == 3 else image.convert("LA")
    else:
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")  # through RGB: CMYK, YCbCr, palettes and 1-bit alike
        if image.mode != ("L" if fmt.channels == 1 else "RGB"):
            image = image.convert("L" if fmt.channels == 1 else "RGB")
    image = _scale(image, fmt)  # Pillow scales LA and RGBA with premultiplied alpha
    if transparent:
        image = _flatten(image)
    array = np.asarray(_pad(image, fmt), dtype=np.uint8)  # (H, W) or (H, W, 3)
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return np.ascontiguousarray(array)  # (C, H, W)


def _scale(image: Image.Image, fmt: ImageFormat) -> Image.Image:
    """Scaled to fit inside the target ("fit"), or its centre scaled to fill it ("crop")."""
    width, height = image.size
    box = None
    if fmt.resize == "fit":
        scale = min(fmt.width / width, fmt.height / height)
        size = (
            min(fmt.width, max(1, round(width * scale))),
            min(fmt.height, max(1, round(height * scale))),
        )
    else:
        scale = max(fmt.width / width, fmt.height / height)
        crop_w, crop_h = fmt.width / scale, fmt.height / scale  # the centre, in source pixels
        box = (
            (width - crop_w) / 2,
            (height - crop_h) / 2,
            (width + crop_w) / 2,
            (height + crop_h) / 2,
        )
        size = (fmt.width, fmt.height)
    if size == (width, height):
        return image
    if scale < 1:
        return image.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    return image.resize(size, Image.Resampling.BICUBIC, box=box)


def _flatten(image: Image.Image) -> Image.Image:
    """LA or RGBA laid on white, or on black when the visible pixels are mostly light."""
    array = np.asarray(image, dtype=np.float32)  # (h, w, 2) or (h, w, 4)
    colour, alpha = array[..., :-1], array[..., -1:] / 255
    luma = (
        colour @ np.array([0.299, 0.587, 0.114], np.float32)
        if colour.shape[-1] == 3
        else colour[..., 0]
    )
    visible = float(alpha.sum())
    light = visible > 0 and float((luma * alpha[..., 0]).sum()) / visible > 127.5
    flat = colour * alpha + (0.0 if light else 255.0) * (1 - alpha)
    flat = np.clip(np.round(flat), 0, 255).astype(np.uint8)
    return Image.fromarray(flat[..., 0] if flat.shape[-1] == 1 else flat)


def _pad(image: Image.Image, fmt: ImageFormat) -> Image.Image:
    """Centred on a canvas of the target size, filled with the mean colour of its border."""
    width, height = image.size
    if (width, height) == (fmt.width, fmt.height):
        return image
    array = np.asarray(image)  # (h, w) or (h, w, 3)
    border = np.concatenate([array[0], array[-1], array[:, 0], array[:, -1]])  # (2w+2h, [3])
    colour = tuple(int(v) for v in np.round(border.mean(axis=0)).reshape(-1))
    canvas = Image.new(
        image.mode, (fmt.width, fmt.height), colour if len(colour) == 3 else colour[0]
    )
    canvas.paste(image, ((fmt.width - width) // 2, (fmt.height - height) // 2))
    return canvas


def _too_large(size: int) -> str:
    return (
        f"is {size / 1e6:.1f} MB; image files above {MAX_FILE_BYTES // (1024 * 1024)} MB "
        "are refused"
    )


def _pixel_limit() -> str:
    return f"images above {MAX_PIXELS // 1_000_000} megapixels are refused before decoding"


def _error(message: str, where: str | None) -> DataError:
    """A DataError whose text starts with `where`, however short (reasons in `skipped` do not)."""
    return DataError(f"{where}: {message}" if where else message, where)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else text[:199] + "…"


# ---------------------------------------------------------------------------------- class names


def validate_class_name(name: str, *, where: str | None = None) -> str:
    """A class name that is safe as a folder name, stripped and in Unicode NFC form.

    Letters of any script are fine ("Lötstelle_gut", "缺陷"). Refused: empty names, more
    than 64 characters, "/" or "\\", "..", a leading dot, control characters, and the
    names Windows reserves for devices (`con`, `nul`, `com1`…, also with an extension).

    Raises:
        DataError: The name breaks a rule; the message says which, and shows the name.
    """
    return _safe_name(name, "class name", "folder", where)


def _safe_name(name: str, what: str, kind: str, where: str | None) -> str:
    if not isinstance(name, str):
        raise DataError(f"a {what} must be text; received: {name!r}", where)
    clean = unicodedata.normalize("NFC", name.strip())
    rule = None
    if not clean:
        rule = "is empty"
    elif len(clean) > MAX_CLASS_NAME:
        rule = f"has {len(clean)} characters; at most {MAX_CLASS_NAME} are allowed"
    elif "/" in clean or "\\" in clean:
        rule = "contains a path separator (/ or \\)"
    elif ".." in clean:
        rule = "contains '..'"
    elif clean.startswith("."):
        rule = "starts with a dot"
    elif (problem := reserved_name_problem(clean)) is not None:
        rule = f"is not allowed: {problem}"
    else:
        bad = next((c for c in clean if unicodedata.category(c) in ("Cc", "Zl", "Zp")), None)
        if bad is not None:
            rule = f"contains the control character U+{ord(bad):04X}"
    if rule is not None:
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise DataError(
            f"{what} {rule}; expected a plain {kind} name; received: {shown!r}",
            where,
        )
    return clean


# ---------------------------------------------------------------------------------- image files


def read_image_files(paths: Sequence[Path], fmt: ImageFormat) -> np.ndarray:
    """Decode single image files, all or nothing, into uint8 (N, C, H, W).

    Raises:
        NotFound: A file does not exist.
        DataError: No files, too many, an unsupported type, or an unreadable image; the
            message names the file.
    """
    if not paths:
        raise DataError("no image files given")
    _check_count(len(paths), fmt, None)
    x = np.empty((len(paths), *fmt.shape), dtype=np.uint8)  # (N, C, H, W)
    for i, path in enumerate(paths):
        path = Path(path)
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise DataError(
                f"unsupported type {path.suffix or '(none)'}; expected one of "
                f"{', '.join(IMAGE_SUFFIXES)}",
                str(path),
            )
        x[i] = decode_image(path, fmt, str(path))
    return x


def _files_limit() -> str:
    return f"at most {MAX_FILES} images are imported at once"


def _check_count(count: int, fmt: ImageFormat, where: str | None) -> None:
    if count > MAX_FILES:
        raise _error(f"{count} images; {_files_limit()}", where)
    size = count * math.prod(fmt.shape)
    if size > MAX_DECODED_BYTES:
        raise _error(
            f"{count} images of {fmt.channels}×{fmt.height}×{fmt.width} would take "
            f"{size / 1e9:.1f} GB; at most {MAX_DECODED_BYTES / 1e9:.1f} GB are imported at "
            "once; choose a smaller size or fewer images",
            where,
        )


# ----------------------------------------------------------------------------------------- PNGs


def encode_png(sample: np.ndarray, scale: int = 1) -> bytes:
    """One image, (C, H, W) uint8 or float in [0, 1], as PNG bytes, enlarged `scale` times.

    Enlarging repeats pixels (nearest neighbour), so 28×28 drawings stay crisp as thumbnails.
    """
    pixels = _to_uint8(np.asarray(sample), "sample")
    if pixels.ndim != 3 or pixels.shape[0] not in (1, 3):
        raise DataError(
            f"expected a sample of shape (C, H, W) with C 1 or 3; received: {pixels.shape}",
            "sample",
        )
    _check_scale(scale, pixels.shape[1] * pixels.shape[2])
    return _png(pixels.repeat(scale, axis=1).repeat(scale, axis=2))


def image_grid(
    samples: np.ndarray, cols: int = 8, scale: int = 1, labels: list[str] | None = None
) -> bytes:
    """Samples (N, C, H, W) as one PNG grid, `cols` wide, each with its label below if given.

    Labels use Pillow's default font and are cut short with "…" to the tile width.
    """
    pixels = _to_uint8(np.asarray(samples), "samples")
    if pixels.ndim != 4 or pixels.shape[1] not in (1, 3) or not len(pixels):
        raise DataError(
            f"expected samples of shape (N, C, H, W) with N >= 1 and C 1 or 3; received: {pixels.shape}",
            "samples",
        )
    if labels is not None and len(labels) != len(pixels):
        raise DataError(
            f"expected {len(pixels)} labels, one per sample; received {len(labels)}", "labels"
        )
    if not isinstance(cols, int) or cols < 1:
        raise DataError(f"expected cols >= 1; received: {cols!r}", "cols")
    count, channels, height, width = pixels.shape
    _check_scale(scale, count * height * width)
    gap = 2
    cols = min(cols, count)
    rows = math.ceil(count / cols)
    font = ImageFont.load_default() if labels is not None else None
    text_h = 0 if font is None else int(font.getbbox("Ag")[3]) + 2
    tile_w, tile_h = width * scale, height * scale
    mode, grey, white, black = (
        ("L", 128, 255, 0) if channels == 1 else ("RGB", (128,) * 3, (255,) * 3, (0,) * 3)
    )
    canvas = Image.new(
        mode, (gap + cols * (tile_w + gap), gap + rows * (tile_h + text_h + gap)), grey
    )
    draw = ImageDraw.Draw(canvas)
    for i in range(count):
        left = gap + (i % cols) * (tile_w + gap)
        top = gap + (i // cols) * (tile_h + text_h + gap)
        tile = pixels[i].repeat(scale, axis=1).repeat(scale, axis=2)  # (C, h, w)
        canvas.paste(
            Image.fromarray(tile[0] if channels == 1 else tile.transpose(1, 2, 0)), (left, top)
        )
        if font is not None and labels is not None:
            draw.rectangle(
                (left, top + tile_h, left + tile_w - 1, top + tile_h + text_h - 1), fill=white
            )
            text = str(labels[i])
            while text and draw.textlength(text, font=font) > tile_w:
                text = text[:-2] + "…" if len(text) > 1 else ""
            draw.text((left + 1, top + tile_h), text, fill=black, font=font)
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG")
    return buffer.getvalue()


def _check_scale(scale: int, pixels: int) -> None:
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 1:
        raise DataError(f"expected an integer scale >= 1; received: {scale!r}", "scale")
    if pixels * scale * scale > MAX_PIXELS:
        raise DataError(
            f"scale {scale} would make more than {MAX_PIXELS // 1_000_000} megapixels", "scale"
        )


def _to_uint8(array: np.ndarray, what: str) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.floating):
        raise DataError(f"expected uint8 or float values in [0, 1]; received: {array.dtype}", what)
    if array.size and not np.isfinite(array).all():
        raise DataError("contains NaN or infinite values", what)
    if array.size and (array.min() < 0 or array.max() > 1):
        raise DataError(
            f"float pixel values must lie in [0, 1]; received [{array.min()}, {array.max()}]; "
            "divide by 255 for 8-bit images",
            what,
        )
    return np.round(array * 255).astype(np.uint8)


def _png(pixels: np.ndarray) -> bytes:
    """(C, H, W) uint8 as PNG bytes."""
    image = Image.fromarray(pixels[0] if pixels.shape[0] == 1 else pixels.transpose(1, 2, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
