"""A dataset written back out, and pictures of it.

Export gives each kind the layout its import reads: images as class folders of PNGs
(`train/` and `test/` when the dataset has a fixed test split), tables as CSV, sequences
as UCR `.ts` files. Previews are PNG grids: images per class (or augmented copies),
sequences as small line plots per class.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lernwerk.data.dataset import Dataset
from lernwerk.errors import Conflict, DataError
from lernwerk.store import atomic_write_bytes

if TYPE_CHECKING:
    from lernwerk.config import AugmentConfig

_PLOT_W, _PLOT_H = 240, 120  # one sequence tile, pixels
_PLOT_COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189)]


def export_dataset(ds: Dataset, out_dir: Path) -> dict[str, Any]:
    """Write `ds` under `out_dir` (created; must be empty). Returns {"files": n, "path": …}."""
    if out_dir.exists() and any(out_dir.iterdir()):
        raise Conflict(f"{out_dir} is not empty; export into a new or empty folder", str(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = _parts(ds)
    written = 0
    if ds.kind == "images":
        from lernwerk.data.images.folders import write_image_tree

        for part, index in parts:
            target = out_dir / part if part else out_dir
            pixels = (ds.x[index].clamp(0, 1) * 255).round().to(torch.uint8).numpy()
            written += write_image_tree(pixels, ds.y[index].numpy(), ds.classes, target)
    elif ds.kind == "table":
        for part, index in parts:
            path = out_dir / f"{ds.name}{'_' + part if part else ''}.csv"
            atomic_write_bytes(path, _table_csv(ds, index).encode("utf-8"))
            written += 1
    else:
        for part, index in parts:
            path = out_dir / f"{ds.name}_{(part or 'train').upper()}.ts"
            atomic_write_bytes(path, _ts_text(ds, index).encode("utf-8"))
            written += 1
    return {"path": str(out_dir), "files": written, "samples": len(ds), "kind": ds.kind}


def preview_png(
    ds: Dataset, *, augment: AugmentConfig | None = None, per_class: int = 8, seed: int = 0
) -> bytes:
    """A PNG of the dataset: `per_class` samples of each class (or each sample and its
    augmented copies when `augment` is given)."""
    augmenting = augment is not None and augment.enabled
    if ds.kind == "images" and augmenting:
        from lernwerk.data.images.augment import preview_png as augmented

        # one row per sample, about 8 rows spread over the classes, `per_class` copies each
        rows_per_class = max(1, 8 // max(ds.num_classes, 1))
        picks, _ = _pick(ds, rows_per_class, seed)
        return augmented(ds.x[picks[:12]], augment, seed=seed, copies=per_class)
    picks, labels = _pick(ds, per_class, seed)
    if ds.kind == "images":
        x = ds.x[picks]  # (n, C, H, W)
        from lernwerk.data.images.formats import image_grid

        scale = max(1, 64 // max(ds.input_shape[1:]))
        return image_grid(x.numpy(), cols=per_class, scale=scale, labels=labels)
    if augment is not None and augment.enabled:
        raise DataError(
            f"augmentation applies to images; dataset '{ds.name}' holds {ds.kind}",
            where="augment",
        )
    if ds.kind == "sequences":
        return _sequence_grid(ds, picks, labels, cols=min(per_class, 4))
    raise DataError(
        f"dataset '{ds.name}' is a table; preview draws images and sequences "
        "(`lernwerk datasets show` lists a table's columns)",
        where="preview",
    )


# -- helpers ------------------------------------------------------------------------------


def _parts(ds: Dataset) -> list[tuple[str, torch.Tensor]]:
    everything = torch.arange(len(ds))
    if ds.test_index is None:
        return [("", everything)]
    return [("train", everything[~ds.is_test]), ("test", ds.test_index)]


def _caption(target: torch.Tensor) -> str:
    """A regression target under its sample: the value, or a forecast's first values."""
    values = target.flatten().tolist()  # one value, or (H,) of a horizon
    return ", ".join(f"{v:.3g}" for v in values[:3]) + (", …" if len(values) > 3 else "")


def _pick(ds: Dataset, per_class: int, seed: int) -> tuple[torch.Tensor, list[str]]:
    """Up to `per_class` random samples of each class (of the whole set for regression)."""
    gen = torch.Generator().manual_seed(seed)
    if ds.task != "classification":
        order = torch.randperm(len(ds), generator=gen)[: per_class * 4]
        return order, [_caption(v) for v in ds.y[order]]
    picks: list[torch.Tensor] = []
    labels: list[str] = []
    for k, name in enumerate(ds.classes):
        members = (ds.y == k).nonzero().flatten()
        chosen = members[torch.randperm(len(members), generator=gen)[:per_class]]
        picks.append(chosen)
        labels += [name] * len(chosen)
    if not labels:
        raise DataError(f"dataset '{ds.name}' has no samples to show yet", where="preview")
    return torch.cat(picks), labels


def _table_csv(ds: Dataset, index: torch.Tensor) -> str:
    import pandas as pd

    columns = ds.feature_names or [f"f{i + 1}" for i in range(ds.x.shape[1])]
    frame = pd.DataFrame(ds.x[index].numpy(), columns=columns)
    target = str(ds.meta.get("target") or "target")
    y = ds.y[index].numpy()
    frame[target] = [ds.classes[i] for i in y] if ds.task == "classification" else y
    return frame.to_csv(index=False)


def _ts_text(ds: Dataset, index: torch.Tensor) -> str:
    """UCR .ts text: header, then one line per series, channels joined by ':'."""
    channels, length = ds.input_shape
    header = [
        f"@problemName {ds.name}",
        "@timeStamps false",
        "@missing false",
        f"@univariate {'true' if channels == 1 else 'false'}",
    ]
    if channels > 1:
        header.append(f"@dimensions {channels}")
    header += ["@equalLength true", f"@seriesLength {length}"]
    if ds.task == "classification":
        header.append("@classLabel true " + " ".join(_ts_token(c) for c in ds.classes))
    else:
        header.append("@targetLabel true")
    header.append("@data")
    lines = []
    for row, label in zip(ds.x[index].numpy(), ds.y[index].tolist(), strict=True):
        values = ":".join(",".join(f"{v:.7g}" for v in channel) for channel in row)
        tag = _ts_token(ds.classes[label]) if ds.task == "classification" else f"{label:.7g}"
        lines.append(f"{values}:{tag}")
    return "\n".join(header + lines) + "\n"


def _ts_token(name: str) -> str:
    if any(ch.isspace() or ch in ",:" for ch in name):
        raise DataError(
            f"class '{name}' holds a space, ',' or ':' that the .ts format cannot carry; "
            "rename the class first",
            where="export",
        )
    return name


def _sequence_grid(ds: Dataset, picks: torch.Tensor, labels: list[str], cols: int) -> bytes:
    """Small line plots, one per picked series, `cols` per row, titled by label."""
    from PIL import Image, ImageDraw

    x = ds.x[picks].numpy()  # (n, C, T)
    rows = -(-len(x) // cols)
    canvas = Image.new("RGB", (cols * _PLOT_W, rows * (_PLOT_H + 14)), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (series, label) in enumerate(zip(x, labels, strict=True)):
        left, top = (i % cols) * _PLOT_W, (i // cols) * (_PLOT_H + 14)
        draw.text((left + 4, top + 1), label, fill=(0, 0, 0))
        box = (left + 4, top + 14, left + _PLOT_W - 4, top + 14 + _PLOT_H - 4)
        draw.rectangle(box, outline=(200, 200, 200))
        _plot(draw, series, box)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


def _plot(draw: Any, series: np.ndarray, box: tuple[int, int, int, int]) -> None:
    left, top, right, bottom = box
    low, high = float(series.min()), float(series.max())
    span = high - low or 1.0
    steps = series.shape[1]
    xs = left + 2 + (right - left - 4) * np.arange(steps) / max(steps - 1, 1)
    for c, channel in enumerate(series):
        ys = bottom - 2 - (bottom - top - 4) * (channel - low) / span
        draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=_PLOT_COLOURS[c % 5])
