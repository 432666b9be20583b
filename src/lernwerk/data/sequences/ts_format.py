"""Reading UCR/UEA `.ts` files (plain or gzip-compressed) into a `SequenceSet`.

The format is sktime's and aeon's: `@tag value` header lines, then `@data` and one series
per line, channels separated by ':' and values by ',', the label last. Univariate and
multivariate, equal and unequal lengths are read; timestamped series are refused. Errors
name the file and the 1-based line ("X_TRAIN.ts:17").
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from lernwerk.data.sequences.series import (
    SequenceSet,
    _clip,
    _decode,
    _match_pair,
    _trim_missing_end,
)
from lernwerk.errors import DataError, NotFound


def read_ts(path: str | Path) -> SequenceSet:
    """Read a UCR/UEA `.ts` file (or `.ts.gz`): univariate or multivariate, equal or not.

    Trailing missing values (`?`, NaN) end a series, as in the padded UCR files; missing
    values inside a series stay NaN, and `to_array` refuses them.

    Raises:
        NotFound: The file does not exist.
        DataError: A malformed header or data line, named by its 1-based line number.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"Expected a .ts file; received {path}, which does not exist", str(path))
    return _parse_ts(_decode(path.read_bytes(), path.name), path.name, str(path))


def read_ts_pair(train_path: str | Path) -> tuple[SequenceSet, SequenceSet | None]:
    """Read `X_TRAIN.ts` and the `X_TEST.ts` (or `.ts.gz`) beside it, if there is one.

    The test set takes the training set's class order, so class indices agree.

    Returns:
        (train, test); test is None when the name does not end in `_TRAIN.ts[.gz]` or no
        test file lies beside it.

    Raises:
        DataError: Either file is malformed, or the two differ in channels or task, or the
            test set has a label the training set lacks.
    """
    path = Path(train_path)
    train = read_ts(path)
    match = re.fullmatch(r"(.+)_(train)(\.ts(?:\.gz)?)", path.name, flags=re.IGNORECASE)
    if match is None:
        return train, None
    stem, tag, suffix = match.groups()
    test_tag = "test" if tag.islower() else "TEST"
    for candidate in dict.fromkeys((suffix, ".ts", ".ts.gz")):
        test_path = path.with_name(f"{stem}_{test_tag}{candidate}")
        if test_path.is_file():
            return train, _match_pair(train, read_ts(test_path), test_path.name)
    return train, None


def _parse_ts(text: str, name: str, source: str) -> SequenceSet:
    lines = text.splitlines()
    header: dict[str, tuple[list[str], int, str]] = {}  # key -> (values, line, tag as written)
    comments: list[str] = []
    data_start = None
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if line.startswith("#"):
            comments.append(line[1:].strip())
        if not line or line.startswith("#"):
            continue
        if not line.startswith("@"):
            raise DataError(
                f"Expected a header line (@tag value) or @data before the series; received "
                f"{_clip(line)!r}; add the '@data' line above the first series",
                f"{name}:{number}",
            )
        tag, *values = line.split()
        if tag.lower() == "@data":
            if values:
                raise DataError(f"Expected '@data' alone; received {line!r}", f"{name}:{number}")
            data_start = number
            break
        header[tag[1:].lower()] = (values, number, tag)
    if data_start is None:
        raise DataError(
            f"Expected a '@data' line after the header; received none in {len(lines)} lines",
            name,
        )

    def flag(key: str, default: bool) -> bool:
        if key not in header:
            return default
        values, number, tag = header[key]
        if not values or values[0].lower() not in ("true", "false"):
            raise DataError(
                f"Expected '{tag} true' or '{tag} false'; received {' '.join(values)!r}",
                f"{name}:{number}",
            )
        return values[0].lower() == "true"

    def integer(key: str) -> int | None:
        if key not in header:
            return None
        values, number, tag = header[key]
        if len(values) != 1 or not values[0].isdigit() or int(values[0]) < 1:
            raise DataError(
                f"Expected '{tag}' with a positive whole number; received {' '.join(values)!r}",
                f"{name}:{number}",
            )
        return int(values[0])

    if flag("timestamps", False):
        raise DataError(
            "Expected series without timestamps; received '@timeStamps true', which "
            "lernwerk does not read; write the values as equally spaced steps",
            f"{name}:{header['timestamps'][1]}",
        )
    has_classes, is_regression = flag("classlabel", False), flag("targetlabel", False)
    if has_classes and is_regression:
        raise DataError(
            "Expected either '@classLabel true' or '@targetLabel true'; received both",
            f"{name}:{header['targetlabel'][1]}",
        )
    classes = header["classlabel"][0][1:] if has_classes else []
    if has_classes and not classes:
        raise DataError(
            "Expected class names after '@classLabel true'; received none, e.g. "
            "'@classLabel true walk run'",
            f"{name}:{header['classlabel'][1]}",
        )
    channels = integer("dimensions") or (1 if flag("univariate", False) else None)
    series_length = integer("serieslength") if flag("equallength", False) else None
    has_label = has_classes or is_regression

    series: list[np.ndarray] = []
    labels: list[str] = []
    ids: list[str] = []
    for number in range(data_start + 1, len(lines) + 1):
        line = lines[number - 1].strip()
        if not line or line.startswith("#"):
            continue
        where = f"{name}:{number}"
        if "(" in line:
            raise DataError(
                "Expected comma-separated values; received timestamped '(t,v)' pairs, which "
                "lernwerk does not read; write the values as equally spaced steps",
                where,
            )
        parts = line.split(":")
        if channels is None:
            channels = len(parts) - has_label
            if channels < 1:
                raise DataError(
                    f"Expected channel values, then ':' and the label; received {_clip(line)!r}",
                    where,
                )
        if len(parts) != channels + has_label:
            what = f"{channels} channel(s)" + (" and the label last" if has_label else "")
            raise DataError(
                f"Expected {channels + has_label} ':'-separated parts ({what}); "
                f"received {len(parts)}",
                where,
            )
        if has_label:
            labels.append(_ts_label(parts[-1].strip(), classes, is_regression, where))
        rows = [_ts_values(part, c, where) for c, part in enumerate(parts[:channels])]
        for c, row in enumerate(rows):
            expected = series_length or len(rows[0])
            if len(row) != expected:
                reason = f"@seriesLength {series_length}" if series_length else "as channel 0"
                raise DataError(
                    f"channel {c}: Expected {expected} values ({reason}); received {len(row)}",
                    where,
                )
        series.append(_trim_missing_end(np.stack(rows), where))  # (C, T_i)
        ids.append(where)
    if not series:
        raise DataError("Expected series after '@data'; received none", f"{name}:{data_start}")
    lengths = {s.shape[1] for s in series}
    problem = " ".join(header["problemname"][0]) if "problemname" in header else name.split(".")[0]
    return SequenceSet(
        series=series,
        labels=(np.array(labels, np.float32) if is_regression else labels) if has_label else None,
        task="regression" if is_regression else "classification",
        classes=list(classes),
        channel_names=[f"dim_{c}" for c in range(channels)],
        series_ids=ids,
        meta={
            "problem_name": problem,
            "source": source,
            "format": "ts",
            "equal_length": len(lengths) == 1,
            "min_length": min(lengths),
            "max_length": max(lengths),
            "declared_missing": flag("missing", False),
            "comments": "\n".join(comments).strip(),
        },
    )


def _ts_label(label: str, classes: list[str], is_regression: bool, where: str) -> Any:
    if is_regression:
        try:
            value = float(label)
        except ValueError:
            value = float("nan")
        if not math.isfinite(value):
            raise DataError(
                f"Expected a finite number as the target last (@targetLabel true); received {_clip(label)!r}",
                where,
            )
        return value
    if label not in classes:
        raise DataError(
            f"Expected a class label among the @classLabel values {' '.join(classes)}; "
            f"received {_clip(label)!r}; fix the label or add it to the @classLabel line",
            where,
        )
    return label


def _ts_values(text: str, channel: int, where: str) -> np.ndarray:
    tokens = text.split(",")
    try:
        return np.array([t.replace("?", "nan") for t in tokens], dtype=np.float64)
    except ValueError:
        pass
    values = []
    for i, token in enumerate(tokens):  # the slow path finds the culprit
        try:
            values.append(float(token.replace("?", "nan")))
        except ValueError:
            shown = repr(_clip(token.strip())) if token.strip() else "an empty value"
            raise DataError(
                f"channel {channel}, value {i + 1}: Expected a number or '?'; received {shown}",
                where,
            ) from None
    return np.array(values)
