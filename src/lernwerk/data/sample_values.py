"""Single samples as a page or a script sends them, brought to a dataset's or model's shape.

A drawing arrives as rows of pixel values in [0, 1] (H×W grey or H×W×C) or as a PNG/JPEG
data URL; a table row as `{feature: number}`; a sequence as rows of values per channel.
Each becomes one float32 sample shaped like the data the model was trained on: images
(C, H, W) in [0, 1], tables (F,), sequences (C, T). Images of another size are brought
to the target as an imported image is (`ImageFormat`'s fit or crop).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
import zipfile
from typing import Any

import numpy as np

from lernwerk.data.images.folders import MAX_ZIP_ENTRIES, MAX_ZIP_RATIO, UNPACK_ERRORS
from lernwerk.data.images.formats import (
    IMAGE_SUFFIXES,
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_SIDE,
    ImageFormat,
    decode_image,
)
from lernwerk.errors import DataError

_DATA_URL = re.compile(r"data:(image/[a-z0-9.+-]+)?(;[a-z0-9=._-]+)*;base64,", re.IGNORECASE)


def image_format_for(shape: tuple[int, ...], meta: dict[str, Any] | None = None) -> ImageFormat:
    """The format images are brought to for an input shape (C, H, W): the dataset's own
    `image_format` (for its resize policy) when it matches, else fit into (H, W)."""
    channels, height, width = shape
    stored = (meta or {}).get("image_format")
    resize = stored.get("resize", "fit") if isinstance(stored, dict) else "fit"
    size = height if height == width else (height, width)
    return ImageFormat(size=size, channels=channels, resize=resize)  # type: ignore[arg-type]


def decode_data_url(url: str, where: str = "image") -> bytes:
    """The bytes of a `data:image/…;base64,…` URL.

    Raises:
        DataError: not a base64 data URL, or the payload is not valid base64.
    """
    if not isinstance(url, str):
        raise DataError(f"expected a data URL string; received: {type(url).__name__}", where)
    match = _DATA_URL.match(url)
    if match is None:
        shown = url[:40] + ("…" if len(url) > 40 else "")
        raise DataError(
            f"expected a data URL like 'data:image/png;base64,…'; received: {shown!r}", where
        )
    payload = url[match.end() :]
    if len(payload) > (MAX_FILE_BYTES * 4) // 3 + 4:
        raise DataError(f"the image is larger than {MAX_FILE_BYTES // 2**20} MB", where)
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise DataError("the data URL's payload is not valid base64", where) from None


def image_from_bytes(
    data: bytes, shape: tuple[int, ...], meta: dict | None = None, where: str = "image"
) -> np.ndarray:
    """Decode an image file's bytes to a float32 (C, H, W) sample in [0, 1]."""
    pixels = decode_image(data, image_format_for(shape, meta), where)  # (C, H, W) uint8
    return pixels.astype(np.float32) / 255.0


def image_from_pixels(
    pixels: Any, shape: tuple[int, ...], meta: dict | None = None, where: str = "pixels"
) -> np.ndarray:
    """Rows of pixel values in [0, 1], H×W (grey) or H×W×C, as a float32 (C, H, W) sample.

    Pixels of the target size and channels are taken as they are; others are resized
    and converted like an uploaded image.

    Raises:
        DataError: not a rectangular grid of numbers in [0, 1], or too large.
    """
    try:
        array = np.asarray(pixels, dtype=np.float64)
    except (ValueError, TypeError):
        raise DataError("expected rows of equal length holding numbers in [0, 1]", where) from None
    if array.ndim == 2:
        array = array[:, :, None]  # (H, W, 1)
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4) or min(array.shape) < 1:
        raise DataError(
            f"expected H×W (grey) or H×W×C values with C = 1, 3 or 4; received shape "
            f"{'×'.join(map(str, array.shape))}",
            where,
        )
    if max(array.shape[:2]) > MAX_SIDE:
        raise DataError(f"at most {MAX_SIDE}×{MAX_SIDE} pixels; received {array.shape[:2]}", where)
    if not np.isfinite(array).all():
        raise DataError("pixel values must be numbers in [0, 1]; received NaN or infinity", where)
    if array.min() < 0 or array.max() > 1:
        raise DataError(
            f"pixel values must lie in [0, 1]; received values from {array.min():g} to "
            f"{array.max():g}",
            where,
        )
    channels, height, width = shape
    if array.shape == (height, width, channels):
        return np.ascontiguousarray(array.transpose(2, 0, 1), dtype=np.float32)  # (C, H, W)
    from PIL import Image

    mode = {1: "L", 3: "RGB", 4: "RGBA"}[array.shape[2]]
    image = np.round(array * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image[:, :, 0] if mode == "L" else image, mode).save(buffer, "PNG")
    return image_from_bytes(buffer.getvalue(), shape, meta, where)


def row_from_values(
    values: Any,
    feature_names: list[str],
    encoding: dict[str, Any] | None = None,
    where: str = "values",
) -> np.ndarray:
    """`{column: value}` for every input column of a table model, as a float32 (F,) row.

    Without an `encoding` the columns are the features and every value is a number; with
    one (a `TableEncoding.to_dict()` of an imported table) they are the file's columns,
    categories given by name, and the row is encoded as the training data was.

    Raises:
        DataError: a column is missing or unknown, a number is not finite, or a
            category was not seen in training.
    """
    columns = feature_names
    if encoding is not None:
        from lernwerk.data.tables.encoding import TableEncoding

        table_encoding = TableEncoding.from_dict(encoding)
        columns = table_encoding.input_columns
    if not isinstance(values, dict):
        raise DataError(f"expected {{column: value}}; received: {type(values).__name__}", where)
    unknown = sorted(set(values) - set(columns))
    if unknown:
        raise DataError(f"unknown column {unknown[0]!r}; columns: {', '.join(columns)}", where)
    missing = [c for c in columns if c not in values]
    if missing:
        raise DataError(f"missing column {missing[0]!r}; give a value for every column", where)
    for name in columns:
        value = values[name]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and not math.isfinite(value):
            raise DataError(f"{name}: expected a finite number; received: {value!r}", where)
        if not number and (encoding is None or not isinstance(value, str)):
            raise DataError(f"{name}: expected a number; received: {value!r}", where)
    if encoding is None:
        return np.array([values[c] for c in columns], dtype=np.float32)
    import pandas as pd

    frame = pd.DataFrame([{c: values[c] for c in columns}], index=[1])
    return table_encoding.transform(frame, where)[0]  # (F,)


def series_from_values(series: Any, shape: tuple[int, ...], where: str = "series") -> np.ndarray:
    """Values per channel, C×T (or T values for one channel), as a float32 (C, T) sample.

    Raises:
        DataError: not numbers, or not the model's channels and length.
    """
    try:
        array = np.asarray(series, dtype=np.float64)
    except (ValueError, TypeError):
        raise DataError("expected rows of equal length holding numbers", where) from None
    if array.ndim == 1:
        array = array[None, :]  # (1, T)
    channels, length = shape
    if array.shape != (channels, length):
        raise DataError(
            f"expected {channels} channel(s) of {length} values; received shape "
            f"{'×'.join(map(str, array.shape))}",
            where,
        )
    if not np.isfinite(array).all():
        raise DataError("every value must be a finite number", where)
    return array.astype(np.float32)


def images_in_zip(
    data: bytes, where: str = "zip"
) -> tuple[list[tuple[str, bytes]], list[dict[str, str]]]:
    """(name, bytes) of every image in a zip archive, in name order, within the limits of
    `lernwerk.data.images.formats`, and the entries passed over: `{"path", "reason", "code"}` for
    a path that leads out of the archive (`unsafe`: '..' or absolute), a hidden file or
    macOS folder (`hidden`) or a file that is not an image (`not_image`). Folders are
    passed over without a word.

    Raises:
        DataError: not a zip, too many entries or images, or a member that looks like a
            zip bomb or is too large.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise DataError(f"not a readable zip archive: {error}", where) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise DataError(f"has {len(infos)} entries; at most {MAX_ZIP_ENTRIES}", where)
        members, skipped = [], []
        for info in infos:
            if info.is_dir():
                continue
            name = info.filename.replace("\\", "/")
            parts = name.split("/")
            code = reason = None
            if ".." in parts or name.startswith("/") or re.match(r"[A-Za-z]:", name):
                code, reason = "unsafe", "its path leads out of the archive ('..' or absolute)"
            elif any(p.startswith(".") or p.casefold() == "__macosx" for p in parts if p):
                code, reason = "hidden", "a hidden file or folder"
            elif not parts[-1].lower().endswith(IMAGE_SUFFIXES):
                code, reason = "not_image", f"not an image ({', '.join(IMAGE_SUFFIXES)})"
            if code is not None:
                skipped.append({"path": info.filename, "reason": reason, "code": code})
                continue
            if info.file_size > MAX_FILE_BYTES:
                raise DataError(
                    f"larger than {MAX_FILE_BYTES // 2**20} MB", f"{where}:{info.filename}"
                )
            if info.file_size > 2**20 and info.file_size > MAX_ZIP_RATIO * info.compress_size:
                raise DataError(
                    f"compresses more than {MAX_ZIP_RATIO}:1; refused as a possible zip bomb",
                    f"{where}:{info.filename}",
                )
            members.append(info)
        if len(members) > MAX_FILES:
            raise DataError(f"holds {len(members)} images; at most {MAX_FILES}", where)
        images = []
        for info in sorted(members, key=lambda i: i.filename):
            try:
                with archive.open(info) as member:
                    content = member.read(MAX_FILE_BYTES + 1)
            except UNPACK_ERRORS as error:
                raise DataError(f"cannot unpack it: {error}", f"{where}:{info.filename}") from None
            images.append((info.filename, content))
    return images, skipped
