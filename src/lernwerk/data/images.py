"""Labelled images in and out: a folder (or `.zip`) of class folders to arrays, and back.

`read_image_tree` reads one sub-folder per class, the folder name being the class:

    parts/                      parts.zip            parts/
      Lötstelle_gut/001.png       parts/               train/gut/001.png
      Lötstelle_schlecht/…          gut/001.png         train/schlecht/…
                                    schlecht/…          test/gut/…  (a fixed test split)

Every image is decoded to the same `ImageFormat` and returned as uint8 (N, C, H, W). An
import is all or nothing unless `skip_bad` is set. Files from people are untrusted: sizes,
pixel counts (from the header, before decoding) and zip archives are checked against the
limits below, and only PNG, JPEG, BMP, GIF and WebP are decoded.
"""

from __future__ import annotations

import io
import math
import os
import re
import struct
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from lernwerk.errors import DataError, NotFound, SpecError

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_CLASSES",
    "MAX_DECODED_BYTES",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "MAX_ZIP_BYTES",
    "MAX_ZIP_ENTRIES",
    "MAX_ZIP_RATIO",
    "ImageFormat",
    "ImageImport",
    "decode_image",
    "encode_png",
    "image_grid",
    "read_image_files",
    "read_image_tree",
    "validate_class_name",
    "write_image_tree",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
MAX_FILE_BYTES = 20 * 1024 * 1024  # one image file; larger ones are refused unread
MAX_PIXELS = 40_000_000  # one image, read from its header before decoding
MAX_SIDE = 2048  # the largest side an ImageFormat may ask for
MAX_CLASSES = 200
MAX_FILES = 100_000  # images in one import
MAX_DECODED_BYTES = 1024**3  # the uint8 (N, C, H, W) result; a float32 Dataset is 4× that
MAX_ZIP_ENTRIES = 250_000  # all entries, folders and macOS "__MACOSX" twins included
MAX_ZIP_BYTES = 8 * 1024**3  # the uncompressed total of the images in an archive
MAX_ZIP_RATIO = 200  # uncompressed : compressed, for entries above _RATIO_MIN_BYTES
MAX_CLASS_NAME = 64  # characters

_RATIO_MIN_BYTES = 1024 * 1024  # small entries may compress well; they cannot hurt
_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")  # what Pillow may decode (no EPS, no PSD)
_JUNK = {"__macosx", "thumbs.db", "desktop.ini"}  # plus every name starting with "."
_DIGITS = re.compile(r"(\d+)")
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


@dataclass(eq=False)
class ImageImport:
    """What `read_image_tree` read: samples, labels and where each came from.

    Args:
        x: (N, C, H, W) uint8 images.
        y: (N,) int64 class indices into `classes`.
        classes: Class names, sorted naturally ("part2" before "part10").
        is_test: (N,) bool, True for images from a `test/` folder.
        files: Where each sample came from, e.g. "parts/gut/001.png", "parts.zip:gut/001.png".
        skipped: (file, reason) for unreadable files left out with `skip_bad`.
        ignored: Files that are not images, or images outside any class folder.
    """

    x: np.ndarray
    y: np.ndarray
    classes: list[str]
    is_test: np.ndarray
    files: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


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


# ----------------------------------------------------------------------------------- class names


def validate_class_name(name: str, *, where: str | None = None) -> str:
    """A class name that is safe as a folder name, stripped and in Unicode NFC form.

    Letters of any script are fine ("Lötstelle_gut", "缺陷"). Refused: empty names, more
    than 64 characters, "/" or "\\", "..", a leading dot, control characters.

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


def _check_distinct(names: list[str], where: str | None) -> None:
    seen: dict[str, str] = {}
    for name in names:
        other = seen.setdefault(name.casefold(), name)
        if other != name:
            raise DataError(
                f"classes {other!r} and {name!r} differ only in case; they would share one "
                "folder on Windows and macOS, rename one",
                where,
            )


def _natural_key(text: str) -> tuple[list[str | int], str]:
    """'part2' before 'part10': digit runs compare as numbers, the rest without case."""
    parts = _DIGITS.split(text.casefold())
    return [int(p) if i % 2 else p for i, p in enumerate(parts)], text


# ------------------------------------------------------------------------------------ the tree


@dataclass(frozen=True)
class _Entry:
    """A file in a folder or archive: its path inside the tree (NFC) and how to name it."""

    parts: tuple[str, ...]
    where: str
    source: Path | zipfile.ZipInfo


def read_image_tree(path: Path, fmt: ImageFormat, skip_bad: bool = False) -> ImageImport:
    """Read a folder, or a `.zip` of one, with one sub-folder of images per class.

    Class folders may hold images in sub-folders of their own. A lone top folder holding
    only folders (a wrapper, as zipping a folder makes) is looked through, once. `train/`
    and `test/` folders (any case), each with class folders, mark the `test/` images as a
    fixed test split; a class seen only in `test/` is an error. Hidden files,
    `__MACOSX`, `Thumbs.db` and `desktop.ini` are passed over; other non-images are listed
    in `ignored`. Files are read in natural order of their paths.

    Args:
        path: The folder or `.zip` archive.
        fmt: The size, channels and resize policy every image is brought to.
        skip_bad: Leave out unreadable images and list them in `skipped`, instead of
            failing on the first.

    Raises:
        NotFound: `path` does not exist.
        DataError: The layout is not class folders with images, a class name is unsafe,
            a limit is exceeded, the archive is unsafe, or an image is unreadable (without
            `skip_bad`); the message names the file or folder.
    """
    path = Path(path)
    if not path.exists():
        raise NotFound(f"{path} does not exist", str(path))
    if path.is_dir():
        files, dirs = _list_folder(path)
        return _import(
            files, dirs, fmt, skip_bad, lambda e: e.source, lambda p: str(path.joinpath(*p))
        )
    if path.suffix.lower() != ".zip":
        raise _error(
            f"expected a folder of class folders or a .zip of one; received a "
            f"{path.suffix or 'suffix-less'} file",
            str(path),
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise _error(f"not a readable zip archive: {_one_line(error)}", str(path)) from None
    with archive:
        files, dirs = _list_zip(archive, path)
        return _import(
            files,
            dirs,
            fmt,
            skip_bad,
            lambda e: _read_member(archive, e),
            lambda p: f"{path}:{'/'.join(p)}/" if p else str(path),
        )


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


def _is_junk(name: str) -> bool:
    return name.startswith(".") or name.casefold() in _JUNK


def _is_image(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES


def _list_folder(root: Path) -> tuple[list[_Entry], set[tuple[str, ...]]]:
    def refuse(error: OSError) -> None:
        raise _error(f"cannot list the folder: {_one_line(error)}", error.filename)

    files: list[_Entry] = []
    dirs: set[tuple[str, ...]] = set()
    images = 0
    for folder, subfolders, names in os.walk(root, onerror=refuse):  # folder links not followed
        here = tuple(_nfc(p) for p in Path(folder).relative_to(root).parts)
        subfolders[:] = [d for d in subfolders if not _is_junk(d)]
        dirs.update(here + (_nfc(d),) for d in subfolders)
        for name in names:
            if not _is_junk(name):
                files.append(
                    _Entry(here + (_nfc(name),), os.path.join(folder, name), Path(folder, name))
                )
                images += _is_image(name)
        if images > MAX_FILES:
            raise _error(f"holds more than {MAX_FILES} images; {_files_limit()}", str(root))
    return files, dirs


def _list_zip(archive: zipfile.ZipFile, path: Path) -> tuple[list[_Entry], set[tuple[str, ...]]]:
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _error(
            f"has {len(infos)} entries; archives above {MAX_ZIP_ENTRIES} are refused", str(path)
        )
    files: list[_Entry] = []
    dirs: set[tuple[str, ...]] = set()
    total = 0
    for info in infos:
        name = info.filename
        if not info.flag_bits & 0x800:  # no UTF-8 flag: Windows tools often wrote UTF-8 anyway
            try:
                name = name.encode("cp437").decode("utf-8")
            except UnicodeError:
                pass
        where = f"{path}:{name}"
        clean = name.replace("\\", "/")
        if clean.startswith("/") or re.match(r"[A-Za-z]:", clean):
            raise _error("the archive holds an absolute path; refused", where)
        parts = tuple(_nfc(p) for p in clean.split("/") if p not in ("", "."))
        if ".." in parts:
            raise _error("the archive holds a path with '..'; refused", where)
        if not parts or any(_is_junk(p) for p in parts):
            continue
        if info.is_dir():
            dirs.add(parts)
            continue
        files.append(_Entry(parts, where, info))
        if not _is_image(parts[-1]):
            continue
        total += info.file_size
        if (
            info.file_size > _RATIO_MIN_BYTES
            and info.file_size > MAX_ZIP_RATIO * info.compress_size
        ):
            raise _error(
                f"compresses {info.file_size} bytes into {info.compress_size}, more than "
                f"{MAX_ZIP_RATIO}:1; refused as a possible zip bomb",
                where,
            )
    if total > MAX_ZIP_BYTES:
        raise _error(
            f"its images unpack to {total / 1e9:.1f} GB; archives above "
            f"{MAX_ZIP_BYTES / 1e9:.1f} GB are refused",
            str(path),
        )
    return files, dirs


def _read_member(archive: zipfile.ZipFile, entry: _Entry) -> bytes:
    info = entry.source
    assert isinstance(info, zipfile.ZipInfo)
    if info.file_size > MAX_FILE_BYTES:
        raise DataError(_too_large(info.file_size), entry.where)
    try:
        with archive.open(info) as member:  # stops at the declared size, checks the CRC
            return member.read(MAX_FILE_BYTES + 1)
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        EOFError,
        RuntimeError,
        NotImplementedError,
    ) as error:
        raise DataError(
            f"cannot unpack it from the archive: {_one_line(error)}", entry.where
        ) from None


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)  # macOS writes names decomposed (NFD)


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


def _children(folders: set[tuple[str, ...]], parent: tuple[str, ...]) -> set[str]:
    depth = len(parent)
    return {f[depth] for f in folders if len(f) > depth and f[:depth] == parent}


def _import(
    files: list[_Entry],
    dirs: set[tuple[str, ...]],
    fmt: ImageFormat,
    skip_bad: bool,
    read: Callable[[_Entry], bytes | Path],
    folder_where: Callable[[tuple[str, ...]], str],
) -> ImageImport:
    """Find the class folders, then decode every image in natural path order."""
    root = folder_where(())
    samples, classes, ignored = _find_samples(files, dirs, folder_where)
    _check_count(len(samples), fmt, root)
    x = np.empty((len(samples), *fmt.shape), dtype=np.uint8)  # (N, C, H, W)
    kept: list[tuple[_Entry, str, bool]] = []
    skipped: list[tuple[str, str]] = []
    for entry, name, is_test in samples:
        try:
            x[len(kept)] = decode_image(read(entry), fmt, entry.where)
        except (DataError, NotFound) as error:
            if not skip_bad:
                raise _error(
                    f"{error.message}; fix or remove it, or skip unreadable files with "
                    "--skip-bad (skip_bad=True)",
                    entry.where,
                ) from None
            skipped.append((entry.where, error.message))
            continue
        kept.append((entry, name, is_test))
    if not kept:
        raise _error(f"none of its {len(samples)} images is readable ({skipped[0][1]})", root)
    lost = [name for name in classes if name not in {name for _, name, _ in kept}]
    if lost:
        raise _error(
            f"every image of class {lost[0]!r} is unreadable; nothing to learn it from", root
        )
    index = {name: i for i, name in enumerate(classes)}
    return ImageImport(
        x=x[: len(kept)].copy() if len(kept) < len(samples) else x,
        y=np.array([index[name] for _, name, _ in kept], dtype=np.int64),  # (N,)
        classes=classes,
        is_test=np.array([is_test for _, _, is_test in kept], dtype=bool),  # (N,)
        files=[entry.where for entry, _, _ in kept],
        skipped=skipped,
        ignored=ignored,
    )


def _find_samples(
    files: list[_Entry],
    dirs: set[tuple[str, ...]],
    folder_where: Callable[[tuple[str, ...]], str],
) -> tuple[list[tuple[_Entry, str, bool]], list[str], list[str]]:
    """(image, class, is_test) in natural path order, the classes, and the files left out."""
    ignored = [f.where for f in files if not _is_image(f.parts[-1])]
    images = [f for f in files if _is_image(f.parts[-1])]
    folders = set(dirs) | {f.parts[:i] for f in files for i in range(1, len(f.parts))}

    # A lone wrapper folder that holds folders and no images is looked through, once.
    prefix: tuple[str, ...] = ()
    top = _children(folders, ())
    if len(top) == 1 and not any(len(f.parts) == 1 for f in images):
        (wrapper,) = top
        if _children(folders, (wrapper,)) and not any(f.parts[:-1] == (wrapper,) for f in images):
            prefix = (wrapper,)
    children = _children(folders, prefix)
    by_lower = {c.casefold(): c for c in children}
    roots = [(prefix, False)]
    if "train" in by_lower and "test" in by_lower:
        others = sorted(children - {by_lower["train"], by_lower["test"]})
        if others:
            raise _error(
                f"holds train/ and test/ next to {', '.join(others)}; expected either class "
                "folders, or only train/ and test/ with class folders in each",
                folder_where(prefix),
            )
        roots = [(prefix + (by_lower["train"],), False), (prefix + (by_lower["test"],), True)]

    class_of: dict[tuple[str, ...], tuple[str, bool]] = {}  # class folder -> (class, is_test)
    for parent, is_test in roots:
        for child in _children(folders, parent):
            folder = parent + (child,)
            class_of[folder] = (validate_class_name(child, where=folder_where(folder)), is_test)
    if not class_of:
        loose = sum(len(f.parts) == len(prefix) + 1 for f in images)
        found = f"; found {loose} images directly inside it" if loose else ""
        raise _error(
            "holds no class folders; expected one sub-folder per class with its images, "
            f"e.g. gut/001.png and schlecht/002.png{found}",
            folder_where(prefix),
        )
    depth = len(prefix) + len(roots)  # the class folder is parts[:depth]
    samples: list[tuple[_Entry, str, bool]] = []
    for f in images:
        if len(f.parts) > depth and f.parts[:depth] in class_of:
            samples.append((f, *class_of[f.parts[:depth]]))
        else:
            ignored.append(f.where)
    samples.sort(key=lambda s: [_natural_key(p) for p in s[0].parts])

    empty = sorted(set(class_of) - {f.parts[:depth] for f, _, _ in samples})
    if empty:
        raise _error(
            f"class folder holds no images; expected {', '.join(IMAGE_SUFFIXES)} files",
            folder_where(empty[0]),
        )
    classes = sorted({name for name, _ in class_of.values()}, key=_natural_key)
    if len(classes) > MAX_CLASSES:
        raise _error(
            f"holds {len(classes)} classes; at most {MAX_CLASSES} are allowed", folder_where(())
        )
    _check_distinct(classes, folder_where(prefix))
    trained = {name for name, is_test in class_of.values() if not is_test}
    untrained = [name for name in classes if name not in trained]
    if untrained:
        raise _error(
            f"classes {', '.join(untrained)} have images in test/ but none in train/",
            folder_where(prefix),
        )
    return samples, classes, ignored


# ------------------------------------------------------------------------------------ writing


def write_image_tree(
    x: np.ndarray,
    y: np.ndarray,
    classes: list[str],
    out_dir: Path,
    names: list[str] | None = None,
) -> int:
    """Write images as PNG files into one folder per class; `read_image_tree` reads them back.

    Files are named by sample number, `00001.png` …, unless `names` are given. Classes
    without samples get no folder.

    Args:
        x: (N, C, H, W) images, uint8 or float in [0, 1], with C 1 or 3.
        y: (N,) class indices into `classes`.
        classes: Class names; each must pass `validate_class_name`.
        out_dir: A new or empty folder.
        names: One file name per sample; ".png" is added where missing.

    Returns:
        The number of files written.

    Raises:
        DataError: The arrays do not fit, a name is unsafe, or `out_dir` is not empty.
    """
    pixels = _to_uint8(np.asarray(x), "x")
    if pixels.ndim != 4 or pixels.shape[1] not in (1, 3):
        raise DataError(
            f"expected x of shape (N, C, H, W) with C 1 or 3; received: {pixels.shape}", "x"
        )
    count = len(pixels)
    labels = np.asarray(y)
    if labels.shape != (count,) or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"expected ({count},) integer class indices; received: {labels.dtype} {labels.shape}",
            "y",
        )
    folders = [validate_class_name(name, where="classes") for name in classes]
    _check_distinct(folders, "classes")
    if count and (labels.min() < 0 or labels.max() >= len(folders)):
        raise DataError(
            f"class indices must lie in 0..{len(folders) - 1}; received "
            f"{labels.min()}..{labels.max()}",
            "y",
        )
    files = _file_names(names, labels, count)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise _error("exists and is not a folder", str(out_dir))
    if out_dir.exists() and any(not _is_junk(p.name) for p in out_dir.iterdir()):
        raise _error("is not empty; export into a new or empty folder", str(out_dir))
    try:
        for i in range(count):
            folder = out_dir / folders[labels[i]]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / files[i]).write_bytes(_png(pixels[i]))
    except OSError as error:
        raise _error(f"cannot write: {_one_line(error)}", str(out_dir)) from None
    return count


def _file_names(names: list[str] | None, labels: np.ndarray, count: int) -> list[str]:
    if names is None:
        width = max(5, len(str(count)))
        return [f"{i + 1:0{width}d}.png" for i in range(count)]
    if len(names) != count:
        raise DataError(
            f"expected {count} file names, one per sample; received {len(names)}", "names"
        )
    files = []
    seen: set[tuple[int, str]] = set()
    for name, label in zip(names, labels.tolist(), strict=True):
        name = _safe_name(name, "file name", "file", "names")
        name = name if name.lower().endswith(".png") else name + ".png"
        if (label, name.casefold()) in seen:
            raise DataError(f"file name {name!r} occurs twice in one class folder", "names")
        seen.add((label, name.casefold()))
        files.append(name)
    return files


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
