"""`lernwerk sweep`: what a sweep of the MLP finds, what it costs, and what pruning saves.

On `tabular:rows=50000,features=20` (quick: 3 000 rows): the default run (`mlp` with
lernwerk's defaults, seed 0), then a sweep of 20 trials (quick: 4) on 2 worker processes
over the learning rate (log-uniform), the batch size, both hidden widths and the weight
decay, each trial with the default run's epoch budget and the median pruner. Reported: the
best trial's test accuracy against the default run's, the sweep's wall time against 20
sequential runs (estimated as 20 × the default run's time, the sequential peer not run),
and the epochs pruning saved (the epochs the trials trained against trials × budget).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from typing import Any

from bench.common import Log, console_table, fmt, markdown_table, targets_block

TITLE = "sweep: 20 trials of the MLP on 2 workers against the default run"
FULL = {"rows": 50_000, "features": 20, "trials": 20, "workers": 2}
QUICK = {"rows": 3_000, "features": 20, "trials": 4, "workers": 2}


def run(quick: bool, *, log: Log = print, **overrides: Any) -> dict[str, Any]:
    import lernwerk

    p = {**(QUICK if quick else FULL), **overrides}
    ref = f"tabular:rows={p['rows']},features={p['features']}"
    tmp = tempfile.mkdtemp(prefix="lernwerk-bench-sweep-")
    try:
        ws = lernwerk.Workspace(tmp)
        started = time.perf_counter()
        fixed = {"epochs": p["epochs"]} if p.get("epochs") else {}  # tests shorten the runs
        default = ws.fit(ref, "mlp", seed=0, **fixed)
        default_s = time.perf_counter() - started
        epochs = int(default.config["train"]["epochs"])
        log(f"  default run: {epochs} epochs, {default_s:.1f} s, test accuracy "
            f"{default.metrics['test']['accuracy']:.4f}")  # fmt: skip
        space = {
            "lr": {"low": 1e-4, "high": 3e-2, "log": True},
            "batch_size": [64, 128, 256, 512],
            "model.layers.1.units": [32, 64, 128],
            "model.layers.2.units": [16, 32, 64],
            "weight_decay": [0.0, 1e-5, 1e-4],
            "epochs": epochs,
            "seed": 0,
        }
        started = time.perf_counter()
        summary = ws.sweep(
            ref, "mlp", space=space, trials=p["trials"], workers=p["workers"], study="bench"
        )
        sweep_s = time.perf_counter() - started
        best = summary["best"]
        best_test = ws.run(best["run_id"]).metrics["test"]["accuracy"] if best else None
        trained = sum(t["epochs"] for t in summary["trials"])
        budget = epochs * len(summary["trials"])
        pruned = [t for t in summary["trials"] if t["state"] == "PRUNED"]
        record = {
            "params": {**p, "epochs": epochs, "space": space},
            "default": {
                "test_accuracy": default.metrics["test"]["accuracy"],
                "val_accuracy": default.metrics["val"]["accuracy"],
                "seconds": default_s,
            },
            "sweep": {
                "seconds": sweep_s,
                "sequential_estimate_s": p["trials"] * default_s,
                "best_trial": best and best["number"],
                "best_params": best and best["params"],
                "best_val_accuracy": best and best["value"],
                "best_test_accuracy": best_test,
                "counts": summary["counts"],
                "epochs_trained": trained,
                "epochs_budget": budget,
                "pruned_epochs_trained": sum(t["epochs"] for t in pruned),
                "pruned_epochs_budget": epochs * len(pruned),
                "importance": summary["importance"],
            },
        }
        log(f"  sweep: {sweep_s:.1f} s, best test accuracy {fmt(best_test, '.4f')}, "
            f"{trained} of {budget} epochs trained")  # fmt: skip
        return record
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


COLUMNS = ["what", "test accuracy", "seconds", "epochs", "notes"]


def _rows(record: dict[str, Any]) -> list[list[str]]:
    d, s, p = record["default"], record["sweep"], record["params"]
    counts = ", ".join(f"{n} {k.lower()}" for k, n in sorted(s["counts"].items()))
    return [
        ["default run (mlp, lernwerk's defaults)", fmt(d["test_accuracy"], ".4f"),
         fmt(d["seconds"], ".1f"), str(p["epochs"]), ""],
        [f"sweep: best of {p['trials']} trials, {p['workers']} workers",
         fmt(s["best_test_accuracy"], ".4f"), fmt(s["seconds"], ".1f"),
         f"{s['epochs_trained']} of {s['epochs_budget']}", counts],
        [f"{p['trials']} sequential runs (estimate: {p['trials']} × the default's time)", "",
         fmt(s["sequential_estimate_s"], ".1f"), str(s["epochs_budget"]), "not run"],
    ]  # fmt: skip


def targets(record: dict[str, Any]) -> list[str]:
    d, s = record["default"], record["sweep"]
    lines = []
    if s["best_test_accuracy"] is not None:
        gain = s["best_test_accuracy"] - d["test_accuracy"]
        verdict = "**met**" if gain >= 0 else "**missed**"
        lines.append(f"best trial's test accuracy ≥ the default run's: {verdict} ({gain:+.4f})")
    ratio = s["seconds"] / s["sequential_estimate_s"] if s["sequential_estimate_s"] else None
    lines.append(f"sweep wall time / sequential estimate: {fmt(ratio, '.2f')}")
    pruned_budget = s.get("pruned_epochs_budget", 0)
    saved = pruned_budget - s.get("pruned_epochs_trained", 0)
    lines.append(
        f"epochs saved by pruning: {saved} of the {s['epochs_budget']} the trials could have "
        f"trained ({saved / s['epochs_budget'] * 100 if s['epochs_budget'] else 0:.0f} %); all "
        f"trials together trained {s['epochs_trained']} (early stopping ends some early)"
    )
    return lines


def section(record: dict[str, Any]) -> str:
    p = record["params"]
    importance = ", ".join(f"{k} {v:.2f}" for k, v in record["sweep"]["importance"].items())
    lines = [
        f"- **Setup:** `tabular:rows={p['rows']},features={p['features']}`, `mlp`; the sweep "
        f"varies {', '.join(k for k in p['space'] if k not in ('epochs', 'seed'))} over "
        f"{p['trials']} trials of {p['epochs']} epochs (median pruner), {p['workers']} "
        "worker processes; test accuracy on the dataset's own test split.",
        f"- **Best settings:** {record['sweep']['best_params']}; importance: {importance or '–'}",
        "",
        markdown_table(COLUMNS, _rows(record), "lrrrl"),
        "",
        *targets_block(targets(record), issue=18),
    ]
    return "\n".join(lines)


def console(record: dict[str, Any]) -> str:
    return console_table(COLUMNS, _rows(record), "lrrrl")
