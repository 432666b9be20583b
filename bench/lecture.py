"""The lecture's table on the digits: classical baselines against lenet and mlp.

lernwerk trains `lenet` (30 epochs, as the digits suite) and `mlp` (its defaults) on the
digits, then `Workspace.baselines("digits")` fits logistic regression, histogram gradient
boosting and XGBoost on the pixels of the same train split (early stopping on its
validation split) and scores all on the same test split. Seconds: a network's training
loop (as its run stores it), a baseline's fit; the backbone has no embedding baseline on
8×8 images (it takes 32×32 and up).
"""

from __future__ import annotations

import tempfile
from typing import Any

from bench.common import Log, console_table, fmt, markdown_table, targets_block
from bench.machine import load_average

TITLE = "lecture: baselines against lenet and mlp on the digits"
SEED = 1
MODELS = (("lenet", 30), ("mlp", None))  # (preset, epochs; None: lernwerk's default)
QUICK_EPOCHS = 2


def run(
    quick: bool,
    *,
    log: Log = print,
    dataset: str = "digits",
    models: tuple[tuple[str, int | None], ...] = MODELS,
) -> dict[str, Any]:
    """The networks, then the baselines, in one workspace; one table row each."""
    from lernwerk.api import Workspace

    with tempfile.TemporaryDirectory(prefix="lernwerk-bench-") as tmp:
        ws = Workspace(tmp)
        loads = {}
        for model, epochs in models:
            loads[model] = load_average()
            train = {"epochs": QUICK_EPOCHS if quick else epochs} if epochs or quick else {}
            run = ws.fit(dataset, model, seed=SEED, **train)
            log(f"{model}: test accuracy {run.metrics['test']['accuracy']:.4f}")
        loads["baselines"] = load_average()
        comparison = ws.baselines(dataset, seed=SEED)
        rows = []
        for r in [*comparison.runs, *comparison.networks]:
            baseline = r.config.get("baseline")
            rows.append(
                {
                    "model": baseline["estimator"] if baseline else r.record.model,
                    "features": baseline["features"] if baseline else "network",
                    "accuracy": r.metrics["test"]["accuracy"],
                    "seconds": r.record.seconds,
                    "detail": _detail(r.config),
                    "load": loads["baselines" if baseline else r.record.model],
                }
            )
    return {
        "dataset": dataset,
        "split": comparison.splits,
        "rows": rows,
        "notes": comparison.notes,
    }


def _detail(config: dict[str, Any]) -> str:
    baseline = config.get("baseline")
    if baseline:
        s = baseline["settings"]
        parts = [baseline["library"], f"{s.get('iterations', '')} iterations".strip()]
        if "early_stopping" in s:
            parts.append(f"early stopping {s['early_stopping']}")
        return ", ".join(p for p in parts if p) + f", {s.get('threads')} thread(s)"
    train = config["train"]
    return f"{train['epochs']} epochs, batch {train['batch_size']}, lr {train['lr']:.3g}"


COLUMNS = ["model", "features", "test accuracy", "seconds", "notes"]


def _cells(r: dict[str, Any]) -> list[str]:
    load = f"; load {r['load']:.1f}" if r.get("load") is not None else ""
    return [
        r["model"],
        r["features"],
        fmt(r["accuracy"], ".4f"),
        fmt(r["seconds"], ".2f"),
        r["detail"] + load,
    ]


def targets(record: dict[str, Any]) -> list[str]:
    best = max(record["rows"], key=lambda r: r["accuracy"])
    nets = [r for r in record["rows"] if r["features"] == "network"]
    base = [r for r in record["rows"] if r["features"] != "network"]
    if not nets or not base:
        return ["baselines vs networks: not measured"]
    top_net = max(nets, key=lambda r: r["accuracy"])
    top_base = max(base, key=lambda r: r["accuracy"])
    return [
        "Digits, `baselines` vs `lenet` vs `mlp`, the lecture's table: **reported** above; "
        f"best overall {best['model']} ({best['accuracy']:.4f}); best network "
        f"{top_net['model']} {top_net['accuracy']:.4f} in {top_net['seconds']:.1f} s against "
        f"the best baseline {top_base['model']} {top_base['accuracy']:.4f} in "
        f"{top_base['seconds']:.1f} s"
    ]


def section(record: dict[str, Any]) -> str:
    split = record["split"]
    lines = [
        f"- **Data:** the built-in `{record['dataset']}` set, lernwerk's default stratified "
        f"split: train {split['train']}, validation {split['val']}, test {split['test']}; "
        "every row on that split (`lernwerk baselines digits` prints the same table).",
        "- **Seconds:** a network's training loop as its run stores it; a baseline's fit "
        "(features are the pixels as stored, no extra cost). Single runs, seed 1; the "
        "notes give the 1-min load each part started under.",
        *(f"- **Note:** {n}" for n in record.get("notes", [])),
        "",
        markdown_table(COLUMNS, [_cells(r) for r in record["rows"]], "llrrl"),
        "",
        *targets_block(targets(record), issue=19),
    ]
    return "\n".join(lines)


def console(record: dict[str, Any]) -> str:
    rows = [c[:4] for c in map(_cells, record["rows"])]
    return console_table(COLUMNS[:4], rows, "llrr")
