"""Time-series classification on the UCR/UEA sets lernwerk ships, against published results.

`fcn1d`, `resnet1d` and `inception1d` train with lernwerk's defaults (`Workspace.fit(name,
model, seed=s)`: for sequence classification the recipe of training/defaults.py, capped by
its time budget) and are tested on the official test split. The peer is the literature:
Ismail Fawaz et al. 2019, "Deep learning for time series classification: a review" (Data
Mining and Knowledge Discovery 33), mean accuracy of 5 runs of the same networks in Keras on
GPUs (UCR 2018 archive; JapaneseVowels: 10 runs on Baydogan's MTS archive, the same 270/370
series); the single Inception network: Ismail Fawaz et al. 2020, "InceptionTime" (5 runs).
Figures from the authors' result files (github.com/hfawaz/dl-4-tsc, results-ucr-128.csv
and results-mts.csv; github.com/hfawaz/InceptionTime, results-inception-128.csv).
BasicMotions has no figure there: it is measured, not compared. Issue 17's targets: each
set within 2 points of the published FCN accuracy, their mean at or above the published
mean, and each training (time budget included) under 10 minutes on this CPU.
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

TITLE = "ucr: FCN, ResNet and Inception on the shipped UCR/UEA sets"
DATASETS = (
    "gunpoint",
    "italypowerdemand",
    "basicmotions",
    "pickupgesturewiimotez",
    "japanesevowels",
)
MODELS = ("fcn1d", "resnet1d", "inception1d")
# (built-in, model): published test accuracy, mean of the authors' runs (module docstring)
PUBLISHED = {
    ("gunpoint", "fcn1d"): 1.000,
    ("gunpoint", "resnet1d"): 0.991,
    ("gunpoint", "inception1d"): 1.000,
    ("italypowerdemand", "fcn1d"): 0.963,
    ("italypowerdemand", "resnet1d"): 0.962,
    ("italypowerdemand", "inception1d"): 0.964,
    ("pickupgesturewiimotez", "fcn1d"): 0.744,
    ("pickupgesturewiimotez", "resnet1d"): 0.704,
    ("pickupgesturewiimotez", "inception1d"): 0.744,
    ("japanesevowels", "fcn1d"): 0.993,
    ("japanesevowels", "resnet1d"): 0.992,
}
PAIRS = tuple((d, m) for d in DATASETS for m in MODELS if (d, m) in PUBLISHED or m != "inception1d")
TOLERANCE = 0.02  # two points below the published figure
MAX_SECONDS = 600.0  # each training, time budget included, under 10 minutes
SEEDS = (0, 1, 2, 3, 4)  # the papers report the mean of 5 runs
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
    pairs = pairs or (QUICK if quick else PAIRS)
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
                f"{fmt(res.seconds, '.1f'):>7} s  published "
                f"{fmt(PUBLISHED.get((dataset, model)), '.3f')}"
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
        done = e.get("epochs_done")
        budget = e.get("time_budget_s")
        ran = f"{done} of {e['epochs']} epochs" if done is not None else f"{e['epochs']} epochs"
        if budget and done is not None and done < e["epochs"]:
            ran += f" (time budget {budget:.0f} s)"
        note = (
            f"batch {e['batch_size']}, {ran}, lr {e['lr']:.3g}, "
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
        if not ok:
            lines.append(f"`{model}` on {dataset}: not measured")
            continue
        if published is None:
            measured = sum(r["accuracy"] for r in ok) / len(ok)
            lines.append(f"`{model}` on {dataset}: no published figure ({measured:.4f})")
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
    return lines + _mean_target(by_pair, "fcn1d")


def _mean_target(by_pair: dict[tuple[str, str], list[dict[str, Any]]], model: str) -> list[str]:
    """The mean over the sets with a published figure, against the published mean."""
    ours, theirs = [], []
    for (dataset, m), rows in by_pair.items():
        ok = [r["accuracy"] for r in rows if r["status"] == "ok"]
        if m == model and ok and (dataset, m) in PUBLISHED:
            ours.append(sum(ok) / len(ok))
            theirs.append(PUBLISHED[(dataset, m)])
    if len(ours) < 2:
        return []
    mine, published = sum(ours) / len(ours), sum(theirs) / len(theirs)
    return [
        f"`{model}`, mean over {len(ours)} sets: ≥ published mean {published:.4f}: "
        f"{'**met**' if mine >= published else '**missed**'} ({mine:.4f})"
    ]


def section(record: dict[str, Any]) -> str:
    lines = [
        "- **Data:** the vendored UCR/UEA sets (`lernwerk/data/sequences/ucr/`, aeon's copies "
        "of the archives), their official train and test files; by the sequence defaults "
        "(docs/sequences.md) none of their training series is held out.",
        "- **Peer:** the published accuracy of the same networks (Ismail Fawaz et al. 2019; "
        "Inception: 2020; mean of 5 runs, Keras on GPUs, up to 2 000 epochs). **Seconds:** "
        "the whole `Workspace.fit` on this CPU; the notes say how many epochs the time "
        "budget allowed.",
        "",
        markdown_table(COLUMNS, [_cells(r) for r in record["results"]], "lllrrrl"),
        "",
        *targets_block(targets(record), issue=17),
    ]
    return "\n".join(lines)


def console(record: dict[str, Any]) -> str:
    rows = [[c[0], c[1], c[2], c[3], c[4], c[5]] for c in map(_cells, record["results"])]
    return console_table(COLUMNS[:-1], rows, "lllrrr")
