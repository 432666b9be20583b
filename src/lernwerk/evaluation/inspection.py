"""The quality-control assistant: run a model over a batch, flag what a person should check.

`inspect_batch` reads a folder (recursively), a zip, a CSV of rows or series or a `.ts`
file a batch at a time (images are decoded by a few threads while the model predicts the
previous batch; no more than two batches are held), and writes `report.csv` and
`report.html` (see `inspect_report`). The model behind it is an `InspectModel`: a
function from a batch of raw numpy inputs to probabilities or anomaly scores, plus what
the run's `model.json` says (kind, classes, input shape, the stored review threshold). This
module loads no PyTorch: a PyTorch `Predictor` or an ONNX runner plug in the same way.
"""

from __future__ import annotations

import csv
import heapq
import io
import math
import os
import secrets
import shutil
import time
import zipfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lernwerk.data.csv_text import detect_dialect, parse_number, read_records
from lernwerk.data.images.formats import (
    IMAGE_SUFFIXES,
    MAX_FILE_BYTES,
    ImageFormat,
    decode_image,
)
from lernwerk.errors import Conflict, DataError, LernwerkError, NotFound, SpecError
from lernwerk.evaluation.inspect_report import (
    ANOMALY_LABEL,
    REPORT_CSV,
    REPORT_HTML,
    InspectResult,
    write_reports,
)
from lernwerk.evaluation.review import CATCH_RATE, DEFAULT_REVIEW_BELOW

BATCH_SIZE = 64
THUMBS_FLAGGED = 300  # flagged items shown with a thumbnail in report.html (least sure)
THUMBS_REST = 60  # items of the rest shown with a thumbnail (the first ones)
THUMB_SIDE = 64  # pixels, at most, of a thumbnail's longer side
SERIES_POINTS = 120  # points per channel kept for a series' plot
SEQUENCE_SUFFIXES = (".csv", ".ts", ".ts.gz")

Progress = Callable[[int, int | None], None]  # (items done, items in all or None)


# ----------------------------------------------------------------------------- the model


@dataclass
class InspectModel:
    """What inspect needs of a trained model, whatever runs it (PyTorch or onnxruntime).

    `predict` takes raw inputs as the dataset holds them, float32 (N, *input_shape)
    (images in [0, 1]), and returns probabilities (N, C) for classification or anomaly
    scores (N, 1).
    """

    predict: Callable[[np.ndarray], np.ndarray]
    kind: str  # "images", "table" or "sequences"
    scores: bool  # True: one anomaly score per item (flagged above `threshold`); False: classes
    input_shape: tuple[int, ...]
    classes: list[str] = field(default_factory=list)
    data_meta: dict[str, Any] = field(default_factory=dict)
    feature_names: list[str] = field(default_factory=list)
    review: dict[str, Any] | None = None  # the stored review threshold (`review.review_meta`)
    threshold: float | None = None  # an anomaly run's threshold on the score
    normal_class: str = "normal"
    name: str = ""

    @classmethod
    def from_bundle(
        cls, meta: dict[str, Any], predict: Callable[[np.ndarray], np.ndarray], name: str = ""
    ) -> InspectModel:
        """From a run's `model.json` (as `export.bundle` writes it) and its predict function.

        Raises:
            SpecError: the run is neither a classifier nor an anomaly detector.
        """
        task = meta.get("task") or {}
        # what the task stored says what its outputs are: a threshold on a score (anomaly
        # detection), or the classes its probabilities are over
        scores = "threshold" in task and "normal_class" in task
        if not scores and not task.get("classes"):
            raise SpecError(
                f"inspect needs a classification or anomaly-detection run; this run's task is "
                f"{task.get('task')}",
                where="run",
            )
        return cls(
            predict=predict,
            kind=str(meta.get("kind")),
            scores=scores,
            input_shape=tuple(int(d) for d in meta["input_shape"]),
            classes=list(task.get("classes") or []),
            data_meta=dict(meta.get("data_meta") or {}),
            feature_names=list(meta.get("feature_names") or []),
            review=meta.get("review"),
            threshold=task.get("threshold"),
            normal_class=str(task.get("normal_class") or "normal"),
            name=name,
        )

    @classmethod
    def from_onnx(cls, directory: str | Path, run: str | None = None) -> InspectModel:
        """From an ONNX export folder (model.onnx + model.json), run by onnxruntime alone.

        `run`, when given, must be the export's run id or a prefix of it.

        Raises:
            NotFound: the folder lacks model.onnx or model.json.
            DataError: model.json is unreadable, or onnxruntime refuses model.onnx.
            SpecError: the export is of another run, or neither a classifier nor an
                anomaly detector.
        """
        from lernwerk.export.onnx_runner import META_FILE, OnnxModel

        where = str(directory)
        try:
            onnx = OnnxModel(directory)
        except LernwerkError:
            raise
        except ValueError as exc:  # model.json is not JSON
            raise DataError(f"{META_FILE} is not valid JSON ({exc})", where=where) from None
        except Exception as exc:  # onnxruntime refuses the file
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"onnxruntime cannot load model.onnx: {first}", where=where) from None
        meta = onnx.meta
        run_id = str(meta.get("run_id") or "")
        if run is not None and not (run_id and run_id.startswith(run)):
            raise SpecError(
                f"the export in {directory} is of run {run_id or '(unknown)'}, not {run!r}; "
                "give its run id (or a prefix) with --onnx",
                where="run",
            )
        return cls.from_bundle(meta, onnx.predict, name=f"{run_id} (ONNX, {directory})")


# ------------------------------------------------------------------------------ the rule


@dataclass(frozen=True)
class ReviewRule:
    """Which items get `review = yes`: the top probability below `below`, or the `rate`
    least sure of the batch, or (anomaly runs) the score above the run's threshold."""

    below: float | None = None
    rate: float | None = None
    source: str = "option"  # option, stored (the run's review threshold), default, threshold
    why_default: str = "this run stored no review threshold"

    def describe(self) -> str:
        if self.rate is not None:
            return f"the least confident {_percent(self.rate)} of the batch"
        if self.source == "threshold":
            return f"anomaly score above the run's threshold {self.below:.4g}"
        text = f"top probability below {self.below:g}"
        if self.source == "stored":
            return (
                f"{text}, the run's review threshold: the lowest confidence that caught "
                f"{_percent(CATCH_RATE)} of the model's errors on its validation split"
            )
        if self.source == "default":
            return f"{text} (the default: {self.why_default})"
        return text


def parse_rate(text: str) -> float:
    """'5%' or '0.05' as a share in (0, 1].

    Raises:
        SpecError: not a number, or outside (0, 100 %].
    """
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise SpecError(
            f"expected a share such as 5% or 0.05; received {text!r}", where="review-rate"
        ) from None
    if not (0 < value <= 1) or not math.isfinite(value):
        raise SpecError(
            f"must lie above 0 and at most 100%; received {text!r}", where="review-rate"
        )
    return value


def resolve_rule(
    model: InspectModel, review_below: float | None = None, review_rate: float | None = None
) -> ReviewRule:
    """The rule from the options, else the run's stored threshold, else the default.

    Raises:
        SpecError: both options given, or a value out of range, or `review_below` for an
            anomaly run (its flag is the score against its threshold).
    """
    if review_below is not None and review_rate is not None:
        raise SpecError("give --review-below or --review-rate, not both", where="review")
    if review_rate is not None:
        if not (0 < review_rate <= 1):
            raise SpecError(
                f"must lie above 0 and at most 100%; received {review_rate}", where="review-rate"
            )
        return ReviewRule(rate=review_rate)
    if model.scores:
        if review_below is not None:
            raise SpecError(
                "--review-below is for classifiers; an anomaly run flags the scores above its "
                "threshold (or use --review-rate)",
                where="review-below",
            )
        threshold = math.inf if model.threshold is None else float(model.threshold)
        return ReviewRule(below=threshold, source="threshold")
    if review_below is not None:
        if not (0 < review_below <= 1) or not math.isfinite(review_below):
            raise SpecError(
                f"must lie above 0 and at most 1; received {review_below}", where="review-below"
            )
        return ReviewRule(below=float(review_below))
    stored = (model.review or {}).get("threshold")
    if stored is not None:
        return ReviewRule(below=float(stored), source="stored")
    why = {
        "no validation split": "the run has no validation split to choose a threshold on",
        "no validation errors": "the model made no error on its validation split to choose "
        "a threshold by",
    }.get((model.review or {}).get("reason"), "this run stored no review threshold")
    return ReviewRule(below=DEFAULT_REVIEW_BELOW, source="default", why_default=why)


# ----------------------------------------------------------------------------- the items


@dataclass
class Item:
    """One thing to predict: its name and how to read it (on a worker thread)."""

    name: str
    load: Callable[[], np.ndarray]  # -> one sample, float32 input shape; raises DataError


Source = tuple[Iterator[Item], int | None]  # the items and how many there are, if known


def open_source(path: Path, model: InspectModel) -> Source:
    """The items of an input: a folder (recursively), a zip, an image, a CSV, a `.ts`.

    Raises:
        NotFound: the path does not exist.
        DataError: a type the run's kind cannot take, or an unreadable zip or CSV header.
    """
    path = Path(path)
    if not path.exists():
        raise NotFound(f"{path} does not exist", where=str(path))
    name = path.name.lower()
    if path.is_dir():
        files = list(_walk(path))  # paths only: a folder of 100 000 names is a few MB
        return (_file_items(path, f, model) for f in files), len(files)  # type: ignore[return-value]
    if name.endswith(".zip"):
        return _zip_items(path, model)
    if model.kind == "images" and name.endswith(IMAGE_SUFFIXES):
        return iter([_image_item(path.name, path, model)]), 1
    if model.kind == "table" and name.endswith(".csv"):
        return _table_rows(path, path.name, model), None
    if model.kind == "sequences" and name.endswith(".csv"):
        return _series_rows(path, path.name, model), None
    if model.kind == "sequences" and name.endswith((".ts", ".ts.gz")):
        return _ts_series(path, path.name, model), None
    takes = {
        "images": "a folder or zip of images, or one image",
        "table": "a CSV of rows",
        "sequences": "a CSV of series (one per row) or a .ts file",
    }.get(model.kind, "a folder")
    raise DataError(
        f"cannot inspect {path.name}: a run on {model.kind} takes {takes}", where=str(path)
    )


def _walk(root: Path) -> Iterator[Path]:
    """Every visible file under `root`, in name order, folders after files at each level."""
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d.lower() != "__macosx")
        for f in sorted(files):
            if not f.startswith("."):
                yield Path(here) / f


def _file_items(root: Path, path: Path, model: InspectModel) -> Item | Iterator[Item]:
    return _image_item(path.relative_to(root).as_posix(), path, model)


def _flatten(items: Iterator[Item | Iterator[Item]]) -> Iterator[Item]:
    for item in items:
        if isinstance(item, Item):
            yield item
        else:
            yield from item


def _image_format(model: InspectModel) -> ImageFormat:
    shape = model.input_shape
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise DataError(f"the run takes inputs of shape {shape}, not images", where="run")
    stored = model.data_meta.get("image_format")
    resize = stored.get("resize", "fit") if isinstance(stored, dict) else "fit"
    return ImageFormat(size=(shape[1], shape[2]), channels=shape[0], resize=resize)  # type: ignore[arg-type]


def _image_item(name: str, source: Path | Callable[[], bytes], model: InspectModel) -> Item:
    fmt = _image_format(model)

    def load() -> np.ndarray:
        if not name.lower().endswith(IMAGE_SUFFIXES):
            raise DataError(f"not an image ({', '.join(IMAGE_SUFFIXES)})", where=name)
        data = source if isinstance(source, Path) else source()
        return decode_image(data, fmt, where=name)  # (C, H, W) uint8

    if model.kind != "images":
        if name.lower().endswith(SEQUENCE_SUFFIXES) and isinstance(source, Path):
            raise DataError("give a CSV or .ts file itself, not a folder of them", where=name)
        raise DataError(f"a run on {model.kind} does not take images", where=name)
    return Item(name, load)


def _zip_items(path: Path, model: InspectModel) -> Source:
    if model.kind != "images":
        raise DataError(f"a zip holds images; this run takes {model.kind}", where=str(path))
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise DataError(f"not a readable zip archive: {error}", where=str(path)) from None
    infos = sorted(
        (i for i in archive.infolist() if not i.is_dir() and _visible(i.filename)),
        key=lambda i: i.filename,
    )

    def items() -> Iterator[Item]:
        with archive:  # members are read here, in order; decoded on the worker threads
            for info in infos:
                yield _image_item(info.filename, _member(archive, info), model)

    return items(), len(infos)


def _visible(name: str) -> bool:
    parts = [p for p in name.replace("\\", "/").split("/") if p]
    return not any(p.startswith(".") or p.lower() == "__macosx" for p in parts)


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    """The member's bytes, read now (the archive closes when the items end), or the
    reason it cannot be read, raised when the item is loaded."""
    problem: DataError | None = None
    data = b""
    if info.file_size > MAX_FILE_BYTES:
        problem = DataError(f"larger than {MAX_FILE_BYTES // 2**20} MB", where=info.filename)
    else:
        try:
            with archive.open(info) as member:
                data = member.read(MAX_FILE_BYTES + 1)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as error:
            problem = DataError(f"cannot unpack it: {error}", where=info.filename)

    def read() -> bytes:
        if problem is not None:
            raise problem
        return data

    return read


def _table_rows(path: Path, label: str, model: InspectModel) -> Iterator[Item]:
    """One item per data row; a row with a bad cell is unreadable, the others go on."""
    encoding = model.data_meta.get("table_encoding")
    if encoding:  # an imported table: encoded as the training data was (pandas, in memory)
        yield from _encoded_rows(path, label, encoding)
        return
    from lernwerk.data.inputs import _table_columns

    dialect = detect_dialect(path)
    records = read_records(path, dialect)
    first = next(records, None)
    if first is None:
        raise DataError(f"{path} is empty", where=str(path))
    rows = list(records) if not model.feature_names else None
    header = first[1]
    columns = _table_columns(path, header, rows or [], model.feature_names, dialect.decimal)
    names = [header[c].strip() for c in columns]
    for number, cells in rows if rows is not None else records:
        yield Item(f"{label}:{number}", _row_loader(cells, columns, names, dialect.decimal, model))


def _row_loader(
    cells: list[str], columns: list[int], names: list[str], decimal: str, model: InspectModel
) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        values = np.empty(len(columns), dtype=np.float32)
        for j, c in enumerate(columns):
            cell = cells[c] if c < len(cells) else ""
            value = parse_number(cell, decimal)
            if value is None:
                shown = repr(cell) if cell.strip() else "an empty cell"
                raise DataError(f"column {names[j]!r} holds {shown}; expected a finite number")
            values[j] = value
        return values.reshape(model.input_shape)

    return load


def _encoded_rows(path: Path, label: str, encoding: dict[str, Any]) -> Iterator[Item]:
    from lernwerk.data.tables.encoding import TableEncoding
    from lernwerk.data.tables.reader import read_table_file

    frame = read_table_file(path)
    x = TableEncoding.from_dict(encoding).transform(frame, str(path))  # (N, F)
    for line, row in zip(frame.index, x, strict=True):
        yield Item(f"{label}:{line}", lambda row=row: np.asarray(row, dtype=np.float32))


def _series_rows(path: Path, label: str, model: InspectModel) -> Iterator[Item]:
    """One series per CSV row (an optional header of names), as `lernwerk predict` reads."""
    dialect = detect_dialect(path)
    width = math.prod(model.input_shape)
    first = True
    for number, cells in read_records(path, dialect):
        if first and not any(parse_number(c, dialect.decimal) is not None for c in cells):
            first = False
            continue  # a header row of names
        first = False

        def load(cells: list[str] = cells) -> np.ndarray:
            if len(cells) != width:
                raise DataError(f"has {len(cells)} values; expected {width}, one series per row")
            values = [parse_number(c, dialect.decimal) for c in cells]
            bad = next((i for i, v in enumerate(values) if v is None), None)
            if bad is not None:
                raise DataError(f"value {bad + 1} is {cells[bad]!r}; expected a finite number")
            return np.asarray(values, dtype=np.float32).reshape(model.input_shape)

        yield Item(f"{label}:{number}", load)


def _ts_series(path: Path, label: str, model: InspectModel) -> Iterator[Item]:
    from lernwerk.data.sequences.ts_format import read_ts

    sequences = read_ts(path)  # the whole file: a .ts file holds its series in one text
    ids = sequences.series_ids or [f"{label}[{i}]" for i in range(len(sequences.series))]
    for sid, series in zip(ids, sequences.series, strict=True):

        def load(series: np.ndarray = series) -> np.ndarray:
            if tuple(series.shape) != tuple(model.input_shape):
                raise DataError(
                    f"has shape {tuple(series.shape)}; the model takes {tuple(model.input_shape)}"
                )
            if not np.isfinite(series).all():
                raise DataError("holds missing values")
            return series.astype(np.float32)

        yield Item(str(sid), load)


# ----------------------------------------------------------------------------- the batch


@dataclass
class Kept:
    """What report.html shows of one item beside its row: a thumbnail or a plot."""

    pixels: np.ndarray | None = None  # (h, w) or (h, w, 3) uint8, at most THUMB_SIDE a side
    series: list[list[float]] | None = None  # a few points per channel (sequences)

    @property
    def thumb(self) -> str | None:
        """A PNG data URI of the pixels, encoded when asked for (only the kept ones are)."""
        return None if self.pixels is None else _png_uri(self.pixels)


def check_out_dir(out: Path, force: bool) -> None:
    """Refuse an output folder that holds files (unless `force`), or a file in its place."""
    if out.exists() and not out.is_dir():
        raise DataError(f"{out} is a file; give a folder for the report", where=str(out))
    if out.is_dir() and any(out.iterdir()) and not force:
        raise Conflict(
            f"{out} exists and is not empty; choose another folder or pass --force to "
            "replace its report",
            where=str(out),
        )


def inspect_batch(
    model: InspectModel,
    source: Path,
    out: Path,
    *,
    rule: ReviewRule | None = None,
    force: bool = False,
    batch_size: int = BATCH_SIZE,
    workers: int = min(4, os.cpu_count() or 1),
    progress: Progress | None = None,
    keep_rows: bool = False,
    title: str = "",
) -> InspectResult:
    """Predict every item of `source`, flag the doubtful ones, write report.csv and .html.

    The reports are written to a hidden folder beside `out` and moved in when complete:
    a failure or Ctrl-C leaves nothing half-written. `keep_rows` returns every row (and
    the thumbnails kept) in the result, for the HTTP face.

    Raises:
        Conflict: `out` holds files and not `force`.
        NotFound, DataError: the input does not exist or is not a kind the run takes.
    """
    out = Path(out)
    check_out_dir(out, force)
    rule = rule or resolve_rule(model)
    items, total = open_source(Path(source), model)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.inspect-{secrets.token_hex(4)}"
    staging.mkdir()
    started = time.perf_counter()
    try:
        scan = _Scan(model, staging / "rows.tmp")
        with scan:
            _run(model, _flatten(items), scan, batch_size, workers, total, progress)
        flagged = _flags(scan, rule)
        seconds = time.perf_counter() - started
        result = write_reports(
            model, scan, flagged, rule, staging, title=title or str(source), keep_rows=keep_rows
        )
        result.seconds = seconds
        out.mkdir(parents=True, exist_ok=True)
        for name in (REPORT_CSV, REPORT_HTML):
            os.replace(staging / name, out / name)
        result.files = [out / REPORT_CSV, out / REPORT_HTML]
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class _Scan:
    """Rows as they are predicted: to a scratch CSV, with each item's doubt in memory
    (8 bytes an item) and the thumbnails of the least sure and the first few."""

    def __init__(self, model: InspectModel, path: Path) -> None:
        self.model, self.path = model, path
        self.doubt = array("d")  # classification: minus the top probability; anomaly: the score
        self.readable = array("b")
        self.per_class: Counter[str] = Counter()
        self.heap: list[tuple[float, int, Kept]] = []  # the THUMBS_FLAGGED most doubtful
        self.first: dict[int, Kept] = {}
        self._file: io.TextIOWrapper | None = None
        self._writer: Any = None

    def __enter__(self) -> _Scan:
        self._file = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self._file)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._file is not None
        self._file.close()

    def add_error(self, name: str, message: str) -> None:
        self._writer.writerow([name, "", "", message])
        self.doubt.append(math.inf)
        self.readable.append(0)

    def add(self, name: str, output: np.ndarray, sample: np.ndarray) -> None:
        """One readable item: `output` its probabilities (C,) or score (1,)."""
        index = len(self.doubt)
        if self.model.scores:
            score = float(output[0])
            threshold = self.model.threshold
            anomalous = threshold is not None and score > threshold
            predicted = ANOMALY_LABEL if anomalous else self.model.normal_class
            doubt = score
            values = [f"{score:.6g}"]
        else:
            top = int(np.argmax(output))
            predicted, doubt = self.model.classes[top], -float(output[top])
            values = [f"{p:.6f}" for p in output]
        self._writer.writerow([name, predicted, " ".join(values), ""])
        self.doubt.append(doubt)
        self.readable.append(1)
        self.per_class[predicted] += 1
        wanted_first = index < THUMBS_REST
        wanted_heap = len(self.heap) < THUMBS_FLAGGED or doubt > self.heap[0][0]
        if wanted_first or wanted_heap:
            kept = _keep(self.model, sample)
            if wanted_first:
                self.first[index] = kept
            if wanted_heap:
                entry = (doubt, -index, kept)
                if len(self.heap) < THUMBS_FLAGGED:
                    heapq.heappush(self.heap, entry)
                else:
                    heapq.heapreplace(self.heap, entry)

    def kept(self) -> dict[int, Kept]:
        return {**self.first, **{-i: k for _, i, k in self.heap}}

    def rows(self) -> Iterator[list[str]]:
        with open(self.path, newline="", encoding="utf-8") as f:
            yield from csv.reader(f)


def _keep(model: InspectModel, sample: np.ndarray) -> Kept:
    if model.kind == "images":
        return Kept(pixels=_small(sample))
    if model.kind == "sequences":
        series = np.asarray(sample, dtype=np.float64).reshape(model.input_shape[0], -1)  # (C, T)
        step = max(1, math.ceil(series.shape[1] / SERIES_POINTS))
        return Kept(series=[[round(float(v), 5) for v in ch[::step]] for ch in series[:4]])
    return Kept()


def _small(pixels: np.ndarray) -> np.ndarray:
    """One (C, H, W) uint8 image as (h, w) or (h, w, 3), its longer side at most THUMB_SIDE."""
    hwc = np.moveaxis(pixels, 0, -1)
    hwc = hwc[..., 0] if hwc.shape[-1] == 1 else hwc
    if max(hwc.shape[:2]) <= THUMB_SIDE:
        return np.ascontiguousarray(hwc)
    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(hwc))
    image.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return np.asarray(image)


def _png_uri(pixels: np.ndarray) -> str:
    import base64

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _load(item: Item) -> tuple[str, np.ndarray | None, str | None]:
    try:
        return item.name, item.load(), None
    except LernwerkError as exc:
        message = exc.message if exc.where and exc.where in item.name else str(exc)
        return item.name, None, message
    except (OSError, ValueError) as exc:  # a file that vanished, a value out of reach
        return item.name, None, f"{type(exc).__name__}: {exc}"


def _run(
    model: InspectModel,
    items: Iterator[Item],
    scan: _Scan,
    batch_size: int,
    workers: int,
    total: int | None,
    progress: Progress | None,
) -> None:
    """Decode batch k+1 on the worker threads while the model predicts batch k."""
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="inspect") as pool:
        pending: list[Future] | None = None
        while True:
            chunk = [item for _, item in zip(range(batch_size), items, strict=False)]
            submitted = [pool.submit(_load, item) for item in chunk] if chunk else None
            if pending is not None:
                done += _predict(model, [f.result() for f in pending], scan)
                if progress is not None:
                    progress(done, total)
            pending = submitted
            if pending is None:
                break


def _predict(
    model: InspectModel, loaded: list[tuple[str, np.ndarray | None, str | None]], scan: _Scan
) -> int:
    good = [(name, x) for name, x, error in loaded if x is not None]
    outputs: np.ndarray | None = None
    if good:
        batch = np.stack([x for _, x in good])
        if batch.dtype == np.uint8:
            batch = batch.astype(np.float32) / np.float32(255.0)  # images in [0, 1]
        outputs = np.asarray(model.predict(batch.astype(np.float32, copy=False)))
    row = 0
    for name, x, error in loaded:
        if x is None:
            scan.add_error(name, error or "unreadable")
        else:
            assert outputs is not None
            scan.add(name, outputs[row], x)
            row += 1
    return len(loaded)


def _flags(scan: _Scan, rule: ReviewRule) -> np.ndarray:
    """(N,) bool: which readable items the rule flags."""
    doubt = np.frombuffer(scan.doubt, dtype=np.float64) if len(scan.doubt) else np.zeros(0)
    readable = np.frombuffer(scan.readable, dtype=np.int8).astype(bool) if len(doubt) else doubt
    readable = np.asarray(readable, dtype=bool)
    flagged = np.zeros(len(doubt), dtype=bool)
    if rule.rate is not None:
        count = math.ceil(rule.rate * int(readable.sum()))
        order = np.argsort(-np.where(readable, doubt, -np.inf), kind="stable")  # most doubt first
        flagged[order[:count]] = True
    elif rule.source == "threshold":
        flagged = readable & (doubt > (rule.below if rule.below is not None else math.inf))
    else:
        assert rule.below is not None
        flagged = readable & (-doubt < rule.below)
    return flagged & readable


def _percent(share: float) -> str:
    return f"{share * 100:g} %"
