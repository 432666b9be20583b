"""`lernwerk explain` speed: one explanation against its ceiling and against a prediction.

Two cases, each a trained run and one input of its dataset, explained `rounds` times after
a warm-up (the median counts):

- the Smiley CNN on a 28×28 drawing (the built-in smileys): target under 200 ms;
- EfficientNet-Lite0 (pretrained, fine-tuned one epoch) on a 128×128 photo (the built-in
  photos): target under 1 s.

An explanation is integrated gradients (32 steps, one batch), Grad-CAM and the feature
maps of every convolution layer: the peer is one plain prediction of the same input, so
the ratio says how many predictions an explanation costs.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.common import Log, Result, console_table, fmt, markdown_table, targets_block
from bench.machine import load_average

TITLE = "explain: saliency for one input against its ceiling"
FULL = {
    "cases": (
        ("smileys:per_class=40", "smiley-cnn", 3, 0.2),
        ("photos:size=128", "efficientnet-lite0", 1, 1.0),
    ),
    "rounds": 7,
}
QUICK = {"cases": (("smileys:per_class=10", "smiley-cnn", 1, 0.2),), "rounds": 2}


def run(quick: bool, *, log: Log = print, **overrides: Any) -> dict[str, Any]:
    """Train each case's run, then time explain() and predict() on one input in turns."""
    import torch

    from lernwerk.api import Workspace

    p = {**(QUICK if quick else FULL), **overrides}
    tmp = Path(tempfile.mkdtemp(prefix="lernwerk-bench-explain-"))
    results = []
    try:
        ws = Workspace(tmp / "ws")
        for dataset, model, epochs, ceiling in p["cases"]:
            run_ = ws.fit(dataset, model, epochs=epochs, seed=0)
            x, _ = ws.load_dataset(dataset).subset(torch.tensor([0]))
            sample = x[0].float()
            run_.explain(sample)  # warm-up: Captum's import, the first passes
            load_before = load_average()
            explain_s, predict_s = [], []
            for _ in range(p["rounds"]):
                started = time.perf_counter()
                run_.explain(sample)
                explain_s.append(time.perf_counter() - started)
                started = time.perf_counter()
                run_.predict(x)
                predict_s.append(time.perf_counter() - started)
            shape = "×".join(str(d) for d in sample.shape[-2:])
            r = Result(f"{model} ({shape})", f"`run.explain(x)` on `{dataset}`, {epochs} epoch(s)")
            r.seconds = statistics.median(explain_s)
            r.ratio = r.seconds / ceiling  # of the target's ceiling: under 1 meets it
            r.extra.update(
                ceiling_seconds=ceiling,
                predict_seconds=statistics.median(predict_s),
                round_seconds=explain_s,
                load_1min_before=load_before,
            )
            results.append(r)
            log(
                f"  {r.peer:<32} {r.seconds * 1000:7.0f} ms  (ceiling {ceiling * 1000:.0f} ms, "
                f"one prediction {r.extra['predict_seconds'] * 1000:.1f} ms)"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "params": {**p, "cases": [list(c) for c in p["cases"]]},
        "results": [asdict(r) for r in results],
    }


COLUMNS = ["network (input)", "settings", "explain ms", "ceiling ms", "of ceiling", "predict ms",
           "explain / predict", "notes"]  # fmt: skip


def _rows(record: dict[str, Any]) -> list[list[str]]:
    rows = []
    for r in record["results"]:
        e = r["extra"]
        rows.append(
            [
                r["peer"],
                r["settings"],
                fmt(r["seconds"] * 1000, ".0f"),
                fmt(e["ceiling_seconds"] * 1000, ".0f"),
                f"{r['ratio'] * 100:.0f} %",
                fmt(e["predict_seconds"] * 1000, ".1f"),
                fmt(r["seconds"] / e["predict_seconds"], ".0f") + "×",
                f"load {e['load_1min_before']:.1f}",
            ]
        )
    return rows


def targets(record: dict[str, Any]) -> list[str]:
    lines = []
    for r in record["results"]:
        ceiling = r["extra"]["ceiling_seconds"] * 1000
        verdict = "**met**" if r["ratio"] <= 1 else "**missed**"
        lines.append(
            f"saliency for `{r['peer']}` under {ceiling:.0f} ms: {verdict} "
            f"({r['seconds'] * 1000:.0f} ms)"
        )
    return lines


def section(record: dict[str, Any]) -> str:
    p = record["params"]
    lines = [
        f"- **Setup:** one input of each dataset, explained {p['rounds']} times after a "
        "warm-up (median); an explanation is integrated gradients (32 steps in one batch), "
        "Grad-CAM and the feature maps of every convolution layer; the peer is one "
        "prediction of the same input.",
        "",
        markdown_table(COLUMNS, _rows(record), "llrrrrrl"),
        "",
        *targets_block(targets(record), issue=15),
    ]
    return "\n".join(lines)


def console(record: dict[str, Any]) -> str:
    return console_table(COLUMNS, _rows(record), "llrrrrrl")
