"""The one CSV reader: how a CSV file is written (encoding, delimiter, decimal mark) and
its records, for every kind that comes as CSV, at import and at prediction alike.

Whatever a spreadsheet writes is read: UTF-8 with or without BOM, UTF-16 with BOM
(Excel's "Unicode text"), Windows-1252 and Latin-1; the delimiters , ; tab and |; Excel's
first line "sep=;"; a decimal comma ("1,5") in files not delimited by commas; plain or
gzip-compressed files. Records come with the line they start on (the header is line 1,
blank lines count), so messages name rows as a spreadsheet shows them.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from lernwerk.errors import DataError, SpecError

DELIMITERS = (",", ";", "\t", "|")

_SNIFF_BYTES = 1024 * 1024  # delimiter and decimal mark are detected from the first MiB …
_SNIFF_LINES = 1000  # … from its first lines at most
_COMMA_DECIMAL = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
_DOT_DECIMAL = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")
_SEP_LINE = re.compile(r"\ufeff?sep=([^\r\n])\r?\n")


@dataclass(frozen=True)
class CsvDialect:
    """How one CSV file is written, as detected or as given."""

    delimiter: str
    decimal: str  # "." or ","
    encoding: str
    notes: tuple[str, ...] = field(default=())  # what a person should know, e.g. "not UTF-8"


def detect_dialect(
    path: Path,
    delimiter: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
) -> CsvDialect:
    """The file's encoding, delimiter and decimal mark: each given one checked, the others
    detected from the file's first MiB.

    Raises:
        SpecError: a given delimiter, decimal mark or encoding that cannot be.
        DataError: the file is empty.
    """
    notes: list[str] = []
    if encoding is None:
        encoding = _detect_encoding(path)
        if encoding in ("cp1252", "latin-1"):
            notes.append(f"{path} is not UTF-8; read it as {encoding}")
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise SpecError(f"unknown text encoding {encoding!r}", "encoding") from None
    with _open_bytes(path) as handle:
        raw = handle.read(_SNIFF_BYTES)
        more = bool(handle.read(1))
    sample = raw.decode(encoding, errors="replace")
    if more and "\n" in sample:
        sample = sample[: sample.rfind("\n") + 1]  # whole lines only
    if not sample.strip():
        raise DataError(empty_message(path), str(path))
    directive = _SEP_LINE.match(sample)  # Excel reads, and some tools write, "sep=;"
    if directive and delimiter is None:
        delimiter = directive.group(1)
    delimiter = _sniff_delimiter(sample) if delimiter is None else check_delimiter(delimiter)
    if decimal is None:
        decimal = _sniff_decimal(sample, delimiter)
        if decimal == ",":
            notes.append(f"{path} writes decimals with a comma (1,5); read them so")
    elif decimal not in (".", ","):
        raise SpecError(f"decimal must be '.' or ','; received: {decimal!r}", "decimal")
    if decimal == delimiter:
        raise SpecError(f"decimal and delimiter cannot both be {decimal!r}", "decimal")
    return CsvDialect(delimiter, decimal, encoding, tuple(notes))


def read_records(path: Path, dialect: CsvDialect) -> Iterator[tuple[int, list[str]]]:
    """The file's non-blank records with the line each starts on (1-based), streamed.

    Rows of only empty cells (as Excel writes) and a first line "sep=…" are passed over;
    a byte order mark does not reach the first cell.

    Raises:
        DataError: the text is not in the dialect's encoding, or not readable CSV; the
            message names the file and line.
    """
    line = 0
    first = True
    try:
        with _open_text(path, dialect.encoding) as handle:
            reader = csv.reader(handle, delimiter=dialect.delimiter)
            previous = 0  # the reader's line count after the previous record
            for cells in reader:
                line, previous = previous + 1, reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue
                if first:
                    first = False
                    cells[0] = cells[0].lstrip("\ufeff")
                    if dialect.delimiter.join(cells).lower() == f"sep={dialect.delimiter}":
                        continue
                yield line, cells
    except csv.Error as error:
        raise DataError(f"{path} is not a readable CSV file: {error}", f"{path}:{line}") from None
    except UnicodeDecodeError:
        raise DataError(
            f"{path} is not valid {dialect.encoding} text; pass the file's encoding, e.g. "
            "encoding='cp1252' for a Windows export",
            str(path),
        ) from None


def parse_number(cell: str, decimal: str = ".") -> float | None:
    """A cell as a finite number in the file's decimal mark, or None."""
    text = cell.strip()
    if decimal == ",":
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def empty_message(path: Path) -> str:
    return f"{path} is empty; expected a header line naming the columns, then one line per sample"


def check_delimiter(delimiter: str) -> str:
    """A delimiter a person wrote ('tab' and '\\t' for a tab), checked."""
    delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise SpecError(
            f"delimiter must be one character such as , ; | or a tab; received: {delimiter!r}",
            "delimiter",
        )
    return delimiter


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _open_bytes(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if _is_gzip(path) else path.open("rb")


def _open_text(path: Path, encoding: str) -> IO[str]:
    return io.TextIOWrapper(_open_bytes(path), encoding=encoding, newline="")


def _detect_encoding(path: Path) -> str:
    with _open_bytes(path) as handle:
        start = handle.read(4)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text" export
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with _open_bytes(path) as handle:
                while chunk := handle.read(_SNIFF_BYTES):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        except (OSError, EOFError) as error:  # a broken gzip stream
            raise DataError(f"{path} cannot be read: {error}", str(path)) from None
        return encoding
    return "latin-1"  # decodes any bytes


def _sniff_delimiter(sample: str) -> str:
    """The candidate that splits the header into most columns and most rows alike."""
    best, best_score = ",", (0.0, 1)
    for candidate in DELIMITERS:
        records = csv.reader(sample.splitlines()[:_SNIFF_LINES], delimiter=candidate)
        counts = [len(cells) for cells in records if cells]
        if not counts or counts[0] < 2:
            continue
        data = counts[1:] or counts
        score = (sum(count == counts[0] for count in data) / len(data), counts[0])
        if score > best_score:
            best, best_score = candidate, score
    return best


def _sniff_decimal(sample: str, delimiter: str) -> str:
    if delimiter == ",":
        return "."
    rows = list(csv.reader(sample.splitlines()[:_SNIFF_LINES], delimiter=delimiter))[1:]
    cells = [cell.strip() for row in rows for cell in row]
    comma = sum(bool(_COMMA_DECIMAL.fullmatch(cell)) for cell in cells)
    dot = sum(bool(_DOT_DECIMAL.fullmatch(cell)) for cell in cells)
    return "," if comma > dot else "."
