"""Labelled images in and out: a folder (or `.zip`) of class folders to arrays, and back.

`read_image_tree` reads one sub-folder per class, the folder name being the class:

    parts/                      parts.zip            parts/
      Lötstelle_gut/001.png       parts/               train/gut/001.png
      Lötstelle_schlecht/…          gut/001.png         train/schlecht/…
                                    schlecht/…          test/gut/…  (a fixed test split)

Every image is decoded to the same `ImageFormat` and returned as uint8 (N, C, H, W). An
import is all or nothing unless `skip_bad` is set. Besides the per-image limits of
`images`, folders and zip archives are checked against the limits below before anything
is decoded. `write_image_tree` writes the same layout back as PNG files.
"""

from __future__ import annotations

import os
import re
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lernwerk.data.images.formats import (
    IMAGE_SUFFIXES,
    MAX_CLASSES,
    MAX_FILE_BYTES,
    MAX_FILES,
    ImageFormat,
    _check_count,
    _error,
    _files_limit,
    _one_line,
    _png,
    _safe_name,
    _to_uint8,
    _too_large,
    decode_image,
    image_size_mode,
    validate_class_name,
)
from lernwerk.errors import DataError, NotFound

# What reading a broken or unsupported zip member raises.
UNPACK_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
)

__all__ = [
    "MAX_ZIP_BYTES",
    "MAX_ZIP_ENTRIES",
    "MAX_ZIP_RATIO",
    "ImageImport",
    "read_image_tree",
    "write_image_tree",
]

MAX_ZIP_ENTRIES = 250_000  # all entries, folders and macOS "__MACOSX" twins included
MAX_ZIP_BYTES = 8 * 1024**3  # the uncompressed total of the images in an archive
MAX_ZIP_RATIO = 200  # uncompressed : compressed, for entries above _RATIO_MIN_BYTES

_RATIO_MIN_BYTES = 1024 * 1024  # small entries may compress well; they cannot hurt
_JUNK = {"__macosx", "thumbs.db", "desktop.ini"}  # plus every name starting with "."
_DIGITS = re.compile(r"(\d+)")


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
    sizes: dict[str, int] = field(default_factory=dict)  # "640×480 RGB" -> images, as read


# ------------------------------------------------------------------------------------- the tree


@dataclass(frozen=True)
class _Entry:
    """A file in a folder or archive: its path inside the tree (NFC) and how to name it."""

    parts: tuple[str, ...]
    where: str
    source: Path | zipfile.ZipInfo


def read_image_tree(
    path: Path,
    fmt: ImageFormat,
    skip_bad: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImageImport:
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
        progress: Called with (images decoded, images in all) every 256 images and at
            the end.

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
            files,
            dirs,
            fmt,
            skip_bad,
            lambda e: e.source,
            lambda p: str(path.joinpath(*p)),
            progress,
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
            progress,
        )


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
    except UNPACK_ERRORS as error:
        raise DataError(
            f"cannot unpack it from the archive: {_one_line(error)}", entry.where
        ) from None


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)  # macOS writes names decomposed (NFD)


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
    progress: Callable[[int, int], None] | None = None,
) -> ImageImport:
    """Find the class folders, then decode every image in natural path order."""
    root = folder_where(())
    samples, classes, ignored = _find_samples(files, dirs, folder_where)
    _check_count(len(samples), fmt, root)
    x = np.empty((len(samples), *fmt.shape), dtype=np.uint8)  # (N, C, H, W)
    kept: list[tuple[_Entry, str, bool]] = []
    skipped: list[tuple[str, str]] = []
    sizes: Counter[str] = Counter()
    for done, (entry, name, is_test) in enumerate(samples):
        if progress is not None and done % 256 == 0:
            progress(done, len(samples))
        try:
            source = read(entry)
            x[len(kept)] = decode_image(source, fmt, entry.where)
            sizes[image_size_mode(source)] += 1
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
    if progress is not None:
        progress(len(samples), len(samples))
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
        sizes=dict(sizes),
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


# -------------------------------------------------------------------------------------- writing


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
