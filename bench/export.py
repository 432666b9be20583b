"""ONNX export: single-sample latency through onnxruntime against PyTorch's (issue 13).

For the Smiley CNN and an MLP on a table: train briefly, export with `run.export(dir,
"onnx")` (its parity check included, timed), then time one sample at a time through
- PyTorch: `run.predict(x)`, the Predictor (one intra-op thread for small batches);
- onnxruntime: `OnnxModel(dir).predict(x)` with onnxruntime's default threads, and with
  one intra-op thread (the same footing as the Predictor).
"""

from __future__ import annotations

import shutil
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
    join_notes,
    latencies_ms,
    load_note,
    markdown_table,
    percentile,
    targets_block,
)
from bench.machine import load_average

TITLE = "export: ONNX latency against PyTorch"
MODELS = (
    ("smiley-cnn", "smileys:per_class=50", "smiley-cnn"),
    ("mlp", "tabular:rows=2000,features=20", "mlp"),
)
FULL = {"epochs": 1, "calls": 1000, "warmup": 100, "models": MODELS}
QUICK = {"epochs": 1, "calls": 100, "warmup": 10, "models": MODELS}
PATHS = ("PyTorch (Predictor)", "onnxruntime", "onnxruntime, 1 thread")


def run(quick: bool, *, log: Log = print, **overrides: Any) -> dict[str, Any]:
    """Train each model, export it, then time one sample through each path."""
    import numpy as np

    from lernwerk.api import Workspace
    from lernwerk.export.onnx_runner import OnnxModel

    p = {**(QUICK if quick else FULL), **overrides}
    results: list[Result] = []
    tmp = Path(tempfile.mkdtemp(prefix="lernwerk-bench-export-"))
    try:
        ws = Workspace(tmp / "ws")
        for label, dataset, preset in p["models"]:
            run_ = ws.fit(dataset, preset, epochs=p["epochs"], seed=1)
            started = time.perf_counter()
            report = run_.export(tmp / label, "onnx")
            export_s = time.perf_counter() - started
            parity = report["parity"]
            ds = ws.load_dataset(run_.record.dataset)
            sample = ds.x[0].numpy().astype(np.float32)  # one sample, as the dataset holds it
            base = {
                "model": label,
                "dataset": dataset,
                "export_seconds": export_s,
                "parity_samples": parity["samples"],
                "parity_max_abs_diff": parity["max_abs_diff"],
                "parity_agreement": parity["agreement"],
                "onnx_bytes": (tmp / label / "model.onnx").stat().st_size,
            }
            calls = {
                PATHS[0]: lambda r=run_, x=sample: r.predict(x),
                PATHS[1]: (lambda m=OnnxModel(tmp / label), x=sample: m.predict(x)),
                PATHS[2]: (lambda m=OnnxModel(tmp / label, threads=1), x=sample: m.predict(x)),
            }
            for path, call in calls.items():
                res = Result(
                    f"{label}: {path}",
                    f"one sample {tuple(sample.shape)}; {p['calls']} calls after {p['warmup']}",
                )
                res.extra.update(base, path=path, load_1min_before=load_average())
                try:
                    ms = latencies_ms(call, calls=p["calls"], warmup=p["warmup"])
                    res.extra.update(
                        p50_ms=percentile(ms, 50),
                        p99_ms=percentile(ms, 99),
                        mean_ms=sum(ms) / len(ms),
                    )
                    res.seconds = sum(ms) / 1e3
                except Exception as exc:  # noqa: BLE001 - reported in the table
                    res.status, res.note = "failed", f"{type(exc).__name__}: {exc}"[:300]
                results.append(_logged(res, log))
        _ratios(results)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "params": {**p, "models": [list(m) for m in p["models"]]},
        "results": [asdict(r) for r in results],
    }


def _ratios(results: list[Result]) -> None:
    """Each row's p50 and p99 over PyTorch's for the same model."""
    torch_rows = {r.extra["model"]: r for r in results if r.extra.get("path") == PATHS[0]}
    for r in results:
        ref = torch_rows.get(r.extra["model"])
        if ref is None or "p50_ms" not in r.extra or "p50_ms" not in ref.extra:
            continue
        r.extra["p50_vs_torch"] = r.extra["p50_ms"] / ref.extra["p50_ms"]
        r.extra["p99_vs_torch"] = r.extra["p99_ms"] / ref.extra["p99_ms"]


def _logged(res: Result, log: Log) -> Result:
    e = res.extra
    log(
        f"  {res.peer:<40} p50 {fmt(e.get('p50_ms'), '.3f'):>7} ms  "
        f"p99 {fmt(e.get('p99_ms'), '.3f'):>7} ms  {res.note}"
    )
    return res


# -- rendering --------------------------------------------------------------------------------

COLUMNS = ["model: path", "p50 ms", "p99 ms", "mean ms", "p50 / PyTorch", "p99 / PyTorch", "notes"]


def _cells(r: dict[str, Any]) -> list[str]:
    e = r["extra"]
    return [
        r["peer"],
        fmt(e.get("p50_ms"), ".3f"),
        fmt(e.get("p99_ms"), ".3f"),
        fmt(e.get("mean_ms"), ".3f"),
        fmt(e.get("p50_vs_torch"), ".2f"),
        fmt(e.get("p99_vs_torch"), ".2f"),
        join_notes(r["note"], load_note(e)),
    ]


def _export_lines(record: dict[str, Any]) -> list[str]:
    seen: dict[str, dict[str, Any]] = {}
    for r in record["results"]:
        seen.setdefault(r["extra"]["model"], r["extra"])
    lines = []
    for model, e in seen.items():
        agreement = e.get("parity_agreement")
        lines.append(
            f"- `{model}` on `{e['dataset']}`: export with its parity check "
            f"{e['export_seconds']:.1f} s, model.onnx {e['onnx_bytes'] / 1024:.0f} KiB; parity "
            f"on {e['parity_samples']} test samples: "
            + ("" if agreement is None else f"{agreement:.0%} same class, ")
            + f"largest difference {fmt(e.get('parity_max_abs_diff'), '.1e')}"
        )
    return lines


def targets(record: dict[str, Any]) -> list[str]:
    rows = {r["peer"]: r for r in record["results"]}
    lines = []
    for model in {r["extra"]["model"] for r in record["results"]}:
        onnx, torch_ = rows.get(f"{model}: {PATHS[2]}"), rows.get(f"{model}: {PATHS[0]}")
        if not onnx or not torch_ or "p50_ms" not in onnx["extra"]:
            lines.append(f"`{model}`: ONNX against PyTorch, p50 and p99: not measured")
            continue
        o, t = onnx["extra"], torch_["extra"]
        lines.append(
            f"`{model}` single-sample latency, onnxruntime (1 thread) against PyTorch: "
            f"p50 {o['p50_ms']:.3f} ms vs {t['p50_ms']:.3f} ms, "
            f"p99 {o['p99_ms']:.3f} ms vs {t['p99_ms']:.3f} ms (reported, no bound set)"
        )
    return sorted(lines)


def section(record: dict[str, Any]) -> str:
    lines = [
        '- **What:** each model trained one epoch, exported with `run.export(dir, "onnx")`, '
        "then one sample at a time through `run.predict` (PyTorch) and "
        "`OnnxModel(dir).predict` (onnxruntime, CPU provider), in this process.",
        *_export_lines(record),
        "",
        markdown_table(COLUMNS, [_cells(r) for r in record["results"]], "lrrrrrl"),
        "",
        *targets_block(targets(record), issue=13),
    ]
    return "\n".join(lines)


def console(record: dict[str, Any]) -> str:
    rows = [[c[0], c[1], c[2], c[4], c[5]] for c in map(_cells, record["results"])]
    return console_table(["model: path", "p50 ms", "p99 ms", "p50 ×", "p99 ×"], rows, "lrrrr")
