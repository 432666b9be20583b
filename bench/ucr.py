"""Time-series classification on the two UCR sets lernwerk ships, against published results.

`fcn1d` and `resnet1d` train with lernwerk's defaults (`Workspace.fit(name, model,
seed=s)`) and are tested on the official test split. The peer is the literature: Ismail
Fawaz et al. 2019, "Deep learning for time series classification: a review" (Data
Mining and Knowledge Discovery 33), UCR 2018 archive, mean accuracy of 5 runs of the
same networks in Keras on GPUs. Issue 6's target: at least the published accuracy minus
1 point, each training in under 5 minutes on this CPU.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bench.common import (
    Log,
    Result,
    console_table,
    fit_lernwerk,
    fmt,
    join_notes,
    load_note,
    markdown_table,
    measure,
    targets_block,
)

TITLE = "ucr: FCN and ResNet on GunPoint and ItalyPowerDemand"
# (built-in, model): published test accuracy, Ismail Fawaz et al. 2019, Table 4 (UCR 2018)
PUBLISHED = {
    ("gunpoint", "fcn1d"): 1.000,
    ("gunpoint", "resnet1d"): 0.991,
    ("italypowerdemand", "fcn1d"): 0.963,
    ("italypowerdemand", "resnet1d"): 0.962,
}
TOLERANCE = 0.01  # one point below the published figure
MAX_SECONDS = 300.0  # each training under 5 minutes
SEEDS = (0, 1, 2, 3, 4)  # the paper reports the mean of 5 runs
QUICK = (("italypowerdemand", "fcn1d"),)
QUICK_EPOCHS = 2


def run(
    quick: bool,
    *,
    log: Log = print,
    pairs: tuple[tuple[str, str], ...] | None = None,
    seeds: tuple[int, ...] = SEEDS,
    epochs: int | None = None,
) -> dict[str, Any]:
    """Each (dataset, model) pair once per seed, with lernwerk's defaults."""
    pairs = pairs or (QUICK if quick else tuple(PUBLISHED))
    epochs = epochs or (QUICK_EPOCHS if quick else None)
    fit_lernwerk("xor", "mlp", epochs=1)  # warm-up: imports, first kernels, SQLite
    results: list[Result] = []
    for dataset, model in pairs:
        for seed in seeds:
            train = {"seed": seed, **({"epochs": epochs} if epochs else {})}
            shown = ", ".join(f"{k}={v}" for k, v in train.items())
            res = Result(
                f"lernwerk {model} on {dataset}",
                f"`Workspace.fit({dataset!r}, {model!r}, {shown})`",
            )
            res.extra.update({"dataset": dataset, "model": model})
            measure(res, lambda d=dataset, m=model, t=train: fit_lernwerk(d, m, **t))
            log(
                f"  {res.peer:<40} seed {seed}  {fmt(res.accuracy, '.4f'):>7} "
                f"{fmt(res.seconds, '.1f'):>7} s  published {PUBLISHED.get((dataset, model), 0):.3f}"
            )
            results.append(res)
    return {"quick": quick, "seeds": list(seeds), "results": [asdict(r) for r in results]}


COLUMNS = ["dataset", "network", "seed", "test accuracy", "published", "seconds", "notes"]


def _published(r: dict[str, Any]) -> float | None:
    return PUBLISHED.get((r["extra"].get("dataset"), r["extra"].get("model")))


def _cells(r: dict[str, Any]) -> list[str]:
    e = r["extra"]
    note = ""
    if "epochs" in e:
        note = (
            f"batch {e['batch_size']}, {e['epochs']} epochs, lr {e['lr']:.3g}, "
            f"{e['schedule']}, {e['threads']} thread(s); train {e['n_train']}, "
            f"validation {e['n_val']}"
        )
    return [
        e.get("dataset", "?"),
        e.get("model", "?"),
        str(e.get("seed", "—")),
        fmt(r["accuracy"], ".4f") if r["status"] == "ok" else r["status"],
        fmt(_published(r), ".3f"),
        fmt(r["seconds"], ".1f"),
        join_notes(r["note"], note, load_note(e)),
    ]


def targets(record: dict[str, Any]) -> list[str]:
    lines = []
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in record["results"]:
        by_pair.setdefault((r["extra"].get("dataset"), r["extra"].get("model")), []).append(r)
    for (dataset, model), rows in by_pair.items():
        ok = [r for r in rows if r["status"] == "ok"]
        published = PUBLISHED.get((dataset, model))
        if not ok or published is None:
            lines.append(f"`{model}` on {dataset}: not measured")
            continue
        accuracy = sum(r["accuracy"] for r in ok) / len(ok)
        slowest = max(r["seconds"] for r in ok)
        met = accuracy >= published - TOLERANCE and slowest < MAX_SECONDS
        mean = "mean of " + str(len(ok)) + " seeds" if len(ok) > 1 else "one seed"
        lines.append(
            f"`{model}` on {dataset}: ≥ {published - TOLERANCE:.3f} in < {MAX_SECONDS:.0f} s: "
            f"{'**met**' if met else '**missed**'} ({accuracy:.4f}, {mean}; slowest "
            f"{slowest:.0f} s)"
        )
    return lines


def section(record: dict[str, Any]) -> str:
    lines = [
        "- **Data:** the vendored UCR sets (`lernwerk/data/ucr/`, aeon's copies of the UCR "
        "2018 archive), their official train and test files; lernwerk keeps 20 % of the "
        "training series for validation.",
        "- **Peer:** the published accuracy of the same networks (Ismail Fawaz et al. 2019, "
        "mean of 5 runs, Keras on GPUs). **Seconds:** the whole `Workspace.fit` on this CPU.",
        "",
        markdown_table(COLUMNS, [_cells(r) for r in record["results"]], "lllrrrl"),
        "",
        *targets_block(targets(record), issue=6),
    ]
    return "\n".join(lines)


def console(record: dict[str, Any]) -> str:
    rows = [[c[0], c[1], c[2], c[3], c[4], c[5]] for c in map(_cells, record["results"])]
    return console_table(COLUMNS[:-1], rows, "lllrrr")
