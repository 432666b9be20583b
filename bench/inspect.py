"""`lernwerk inspect` throughput: images per second over a folder of 64×64 PNGs.

The Smiley CNN (`smiley-cnn`) is trained for an epoch on the generated solder joints
(64×64 RGB; how well it learnt does not matter here), the folder is filled with PNGs of
those joints, read once so that the files are in the page cache, then timed in turns:

- decode only: the ceiling, PIL's `Image.open(f).convert("RGB")` on each file, one thread;
- inspect (PyTorch): `inspect_batch` as `lernwerk inspect` runs it (decoding on worker
  threads, batches of 64, the model on the CPU, both reports written), model loaded once;
- the model alone: `predict` on the same images decoded beforehand, batches of 64: the
  most inspect could reach with decoding free;
- inspect (onnxruntime): `inspect_batch` as `lernwerk inspect --onnx` runs it, on the run's
  ONNX export (`run.export(dir, "onnx")`), the same folder, batches and threads.

The ratio inspect / decode-only is the target (issue 13: at least 50 %).
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.common import (
    Log,
    Result,
    console_table,
    fmt,
    markdown_table,
    targets_block,
)
from bench.machine import load_average

TITLE = "inspect: images per second against decoding alone"
FULL = {"per_class": 20, "images": 3000, "rounds": 3, "batch_size": 64}
QUICK = {"per_class": 5, "images": 300, "rounds": 1, "batch_size": 64}
TARGET_RATIO = 0.5


def run(quick: bool, *, log: Log = print, **overrides: Any) -> dict[str, Any]:
    """Train the model, write the folder, time decode-only and inspect in turns."""
    import numpy as np
    from PIL import Image

    from lernwerk.api import Workspace
    from lernwerk.evaluation.inspection import InspectModel, inspect_batch

    p = {**(QUICK if quick else FULL), **overrides}
    tmp = Path(tempfile.mkdtemp(prefix="lernwerk-bench-inspect-"))
    try:
        ws = Workspace(tmp / "ws")
        run_ = ws.fit(f"solder:per_class={p['per_class']}", "smiley-cnn", epochs=1, seed=0)
        ds = ws.load_dataset(run_.record.dataset)
        pixels = (ds.x.numpy() * 255).round().astype(np.uint8)  # (N, 3, 64, 64)
        folder = tmp / "parts"
        folder.mkdir()
        files = []
        for i in range(p["images"]):
            f = folder / f"part{i:06d}.png"
            Image.fromarray(np.moveaxis(pixels[i % len(pixels)], 0, -1)).save(f)
            files.append(f)
        for f in files:  # into the page cache
            f.read_bytes()
        model = run_.inspect_model()
        run_.export(tmp / "onnx", "onnx")
        onnx_model = InspectModel.from_onnx(tmp / "onnx")
        decode_s: list[float] = []
        inspect_s: list[float] = []
        model_s: list[float] = []
        onnx_s: list[float] = []
        batches = [  # the same images, decoded once: what the model alone takes
            pixels[np.arange(i, i + p["batch_size"]) % len(pixels)].astype(np.float32) / 255
            for i in range(0, p["images"], p["batch_size"])
        ]
        load_before = load_average()
        for r in range(p["rounds"]):
            started = time.perf_counter()
            for f in files:
                with Image.open(f) as image:
                    image.convert("RGB")
            decode_s.append(time.perf_counter() - started)
            out = tmp / f"report{r}"
            started = time.perf_counter()
            inspect_batch(model, folder, out, batch_size=p["batch_size"])
            inspect_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            for b in batches:
                model.predict(b)
            model_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            inspect_batch(onnx_model, folder, tmp / f"onnx-report{r}", batch_size=p["batch_size"])
            onnx_s.append(time.perf_counter() - started)
        n = p["images"]
        decode = Result("decode only", "PIL `Image.open(f).convert('RGB')`, one thread")
        decode.seconds = statistics.median(decode_s)
        decode.extra.update(
            images_per_second=n / decode.seconds,
            round_seconds=decode_s,
            load_1min_before=load_before,
        )
        inspect = Result(
            "inspect (PyTorch)",
            f"`inspect_batch`, batch {p['batch_size']}, "
            f"{min(4, os.cpu_count() or 1)} decode threads, CPU, both reports written",
        )
        inspect.seconds = statistics.median(inspect_s)
        inspect.extra.update(
            images_per_second=n / inspect.seconds,
            round_seconds=inspect_s,
            load_1min_before=load_before,
        )
        inspect.ratio = decode.seconds / inspect.seconds  # share of the decode-only rate
        alone = Result(
            "model alone (PyTorch)",
            f"`predict` on decoded batches of {p['batch_size']}: the model's own ceiling",
        )
        alone.seconds = statistics.median(model_s)
        alone.extra.update(
            images_per_second=n / alone.seconds, round_seconds=model_s, load_1min_before=load_before
        )
        alone.ratio = decode.seconds / alone.seconds
        onnx = Result(
            "inspect (onnxruntime)",
            f"`inspect_batch` on the ONNX export (`--onnx`), batch {p['batch_size']}, "
            f"{min(4, os.cpu_count() or 1)} decode threads, CPU, both reports written",
        )
        onnx.seconds = statistics.median(onnx_s)
        onnx.extra.update(
            images_per_second=n / onnx.seconds, round_seconds=onnx_s, load_1min_before=load_before
        )
        onnx.ratio = decode.seconds / onnx.seconds
        results = [decode, inspect, alone, onnx]
        for res in results:
            log(
                f"  {res.peer:<24} {fmt(res.extra.get('images_per_second'), '.0f'):>7} images/s"
                f"  {fmt(res.ratio, '.2f')}"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"params": p, "results": [asdict(r) for r in results]}


def _rows(record: dict[str, Any]) -> list[list[str]]:
    rows = []
    for r in record["results"]:
        e = r["extra"]
        share = "" if r["ratio"] is None else f"{r['ratio'] * 100:.0f} %"
        note = r["note"] or (f"load {e['load_1min_before']:.1f}" if "load_1min_before" in e else "")
        rows.append(
            [
                r["peer"],
                r["settings"],
                fmt(e.get("images_per_second"), ".0f"),
                share,
                r["status"] if r["status"] != "ok" else note,
            ]
        )
    return rows


COLUMNS = ["path", "settings", "images/s", "of decode-only", "notes"]


def targets(record: dict[str, Any]) -> list[str]:
    by = {r["peer"]: r for r in record["results"]}
    lines = []
    for route in ("PyTorch", "onnxruntime"):
        r = by.get(f"inspect ({route})")
        ratio = None if r is None or r["status"] != "ok" else r["ratio"]
        if ratio is None:
            lines.append(f"inspect ≥ 50 % of the decode-only rate ({route}): not measured")
            continue
        verdict = "**met**" if ratio >= TARGET_RATIO else "**missed**"
        lines.append(
            f"inspect ≥ 50 % of the decode-only rate ({route}): {verdict} ({ratio * 100:.0f} %)"
        )
    return lines


def section(record: dict[str, Any]) -> str:
    p = record["params"]
    lines = [
        f"- **Setup:** {p['images']} PNGs of 64×64 RGB solder joints; `smiley-cnn` trained "
        f"1 epoch on `solder:per_class={p['per_class']}`; median of {p['rounds']} rounds, the "
        "paths taking turns; files read once before (page cache).",
        "",
        markdown_table(COLUMNS, _rows(record), "llrrl"),
        "",
        *targets_block(targets(record), issue=13),
    ]
    return "\n".join(lines)


def console(record: dict[str, Any]) -> str:
    return console_table(COLUMNS, _rows(record), "llrrl")
