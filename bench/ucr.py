"""Time-series classification on the UCR sets lernwerk ships, against published results.

`fcn1d` and `resnet1d` train with lernwerk's defaults (`Workspace.fit(name, model,
seed=s)`) and are tested on the official test split. The peer is the literature: Ismail
Fawaz et al. 2019, "Deep learning for time series classification: a review" (Data
Mining and Knowledge Discovery 33), UCR 2018 archive, mean accuracy of 5 runs of the
same networks in Keras on GPUs. Issue 6's target: at least the published accuracy minus
1 point, each training in under 5 minutes on this CPU.

The ROCKET-style baseline (`lernwerk baselines --estimator rocket`: MiniRocket kernels and a
ridge classifier, `lernwerk/training/rocket.py`) runs on all five shipped sets, fitted on
the whole official train file as the papers do (and once through `Workspace.baselines`,
which keeps 20 % of it for validation). Issue 17's target: within 2 points of the published
ROCKET accuracy, each fit in under 10 s on this CPU.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
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
    torch_threads,
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
    networks: bool = True,
    rocket_sets: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Each (dataset, model) pair once per seed, with lernwerk's defaults; then the
    ROCKET-style baseline per shipped set (`networks=False`: the baseline only)."""
    pairs = (pairs or (QUICK if quick else tuple(PUBLISHED))) if networks else ()
    epochs = epochs or (QUICK_EPOCHS if quick else None)
    if networks:
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
    rocket = run_rocket(quick, log=log, sets=rocket_sets, seeds=seeds)
    return {
        "quick": quick,
        "seeds": list(seeds),
        "results": [asdict(r) for r in results],
        "rocket": rocket,
    }


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
    networks = _network_section(record)
    return networks + ("\n\n" + rocket_section(record) if record.get("rocket") else "")


def _network_section(record: dict[str, Any]) -> str:
    if not record["results"] and record.get("rocket"):
        record = _last_network_record() or record
        if not record["results"]:
            return "- **Networks:** not run in this record."
        kept = (
            f"- **Networks:** not rerun with the baseline below; the table is the last run "
            f"that trained them ({record['started_at']} UTC, 1-min load "
            f"{record['machine'].get('load_average_1min')} at its start, "
            f"`{record['command']}`)."
        )
        return kept + "\n" + _network_section(record)
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
    text = console_table(COLUMNS[:-1], rows, "lllrrr") if rows else ""
    if record.get("rocket"):
        rocket = [c[:-1] for c in map(_rocket_cells, record["rocket"])]
        text += "\n" + console_table(ROCKET_COLUMNS[:-1], rocket, "llrrrrr")
    return text


def _last_network_record() -> dict[str, Any] | None:
    """The newest ucr record in bench/results/ that trained the networks, if any."""
    newest = None
    for path in sorted((Path(__file__).parent / "results").glob("ucr-*.json")):
        try:
            runs = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        for rec in runs if isinstance(runs, list) else [runs]:
            if rec.get("results") and not rec.get("quick"):
                if newest is None or rec["started_at"] >= newest["started_at"]:
                    newest = rec
    return newest


# -- the ROCKET-style baseline ----------------------------------------------------------------

# Published ROCKET test accuracy on the official split, mean of 10 runs: Dempster, Petitjean
# & Webb (2020), "ROCKET: exceptionally fast and accurate time series classification using
# random convolutional kernels", Data Mining and Knowledge Discovery 34; the per-set figures
# of its 128 UCR 2018 sets are the authors' results/results_ucr.csv (github.com/angus924/rocket).
# BasicMotions and JapaneseVowels (UEA): no figure verified here. Ruiz et al. (2021), "The
# great multivariate time series classification bake off", report ROCKET on BasicMotions,
# but that figure could not be checked while writing this, and JapaneseVowels (unequal
# lengths) is not among its 26 equal-length sets; so None ("unknown"), not a guess.
ROCKET_PUBLISHED: dict[str, float | None] = {
    "gunpoint": 1.000,
    "italypowerdemand": 0.9696,
    "pickupgesturewiimotez": 0.830,
    "basicmotions": None,
    "japanesevowels": None,
}
ROCKET_TOLERANCE = 0.02  # two points below the published figure
ROCKET_MAX_SECONDS = 10.0  # each fit
ROCKET_QUICK = ("italypowerdemand",)


def run_rocket(
    quick: bool,
    *,
    log: Log = print,
    sets: tuple[str, ...] | None = None,
    seeds: tuple[int, ...] = SEEDS,
) -> list[dict[str, Any]]:
    """Per shipped set: MiniRocket + ridge fitted on the whole official train file, once per
    seed (test accuracy, fit and test seconds), and once through `Workspace.baselines`."""
    from lernwerk.data.builtin import load_builtin
    from lernwerk.training.threads import free_threads

    sets = sets or (ROCKET_QUICK if quick else tuple(ROCKET_PUBLISHED))
    seeds = seeds[:1] if quick else seeds
    _warm_up()
    rows = []
    for name in sets:
        ds = load_builtin(name)
        train, test = ~ds.is_test, ds.is_test
        runs = []
        for seed in seeds:
            res = Result(f"rocket on {name}", f"fit_rocket(seed={seed})")
            threads = free_threads(len(os.sched_getaffinity(0)))
            measure(res, lambda s=seed, t=threads, d=ds: _fit_rocket_once(d, s, t))
            log(
                f"  rocket {name:<22} seed {seed}  {fmt(res.accuracy, '.4f'):>7} "
                f"{fmt(res.seconds, '.2f'):>6} s  published {ROCKET_PUBLISHED.get(name)}"
            )
            runs.append(asdict(res))
        product = Result(f"lernwerk baselines {name}", "estimators=['rocket']")
        measure(product, lambda n=name: _through_workspace(n))
        log(
            f"  ws.baselines {name:<16} {fmt(product.accuracy, '.4f'):>7} {fmt(product.seconds, '.2f')} s"
        )
        shape = tuple(ds.x.shape[1:])
        rows.append(
            {
                "dataset": name,
                "shape": list(shape),
                "train": int(train.sum()),
                "test": int(test.sum()),
                "runs": runs,
                "workspace": asdict(product),
            }
        )
    return rows


def _warm_up() -> None:
    """One small fit first: imports, the first convolutions and scikit-learn's set-up."""
    import numpy as np
    import torch

    from lernwerk.training.rocket import fit_rocket

    x = torch.randn(8, 2, 30, generator=torch.Generator().manual_seed(0))  # (N, C, T)
    fit_rocket(x, np.arange(8) % 2, classify=True, n_classes=2, num_features=840)


def _fit_rocket_once(ds: Any, seed: int, threads: int) -> tuple[float, float, dict[str, Any]]:
    """Fit on the official train file, test on the test file: accuracy, fit seconds, extra."""
    from lernwerk.training.rocket import fit_rocket

    train, test = ~ds.is_test, ds.is_test
    with torch_threads(threads):
        started = time.perf_counter()
        model = fit_rocket(
            ds.x[train], ds.y[train].numpy(), classify=True, n_classes=len(ds.classes), seed=seed
        )
        seconds = time.perf_counter() - started
        began = time.perf_counter()
        predicted = model.predict(ds.x[test]).argmax(1)  # (N_test,)
        test_seconds = time.perf_counter() - began
    accuracy = float((predicted == ds.y[test].numpy()).mean())
    return (
        accuracy,
        seconds,
        {"test_seconds": test_seconds, "threads": threads, "alpha": model.alpha},
    )


def _through_workspace(name: str) -> tuple[float, float, dict[str, Any]]:
    """`Workspace.baselines(name, estimators=['rocket'])` in a temporary workspace."""
    from lernwerk import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        comparison = Workspace(Path(tmp) / "ws").baselines(name, estimators=["rocket"])
        run = comparison.runs[0]
        extra = {
            "splits": comparison.splits,
            "threads": run.config["baseline"]["settings"]["threads"],
        }
        return run.metrics["test"]["accuracy"], run.record.seconds, extra


ROCKET_COLUMNS = [
    "dataset",
    "channels × steps",
    "test accuracy",
    "published ROCKET",
    "fit seconds",
    "test seconds",
    "`lernwerk baselines`",
    "notes",
]


def _rocket_summary(row: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """(mean accuracy, slowest fit seconds, slowest test seconds) over the seeds that ran."""
    ok = [r for r in row["runs"] if r["status"] == "ok"]
    if not ok:
        return None, None, None
    mean = sum(r["accuracy"] for r in ok) / len(ok)
    return mean, max(r["seconds"] for r in ok), max(r["extra"]["test_seconds"] for r in ok)


def _rocket_cells(row: dict[str, Any]) -> list[str]:
    ok = [r for r in row["runs"] if r["status"] == "ok"]
    mean, slowest, test_slowest = _rocket_summary(row)
    accuracy = "failed"
    if ok:
        low, high = min(r["accuracy"] for r in ok), max(r["accuracy"] for r in ok)
        spread = f" ({low:.4f}–{high:.4f})" if len(ok) > 1 and high > low else ""
        accuracy = f"{mean:.4f}{spread}"
    ws = row["workspace"]
    product = (
        f"{ws['accuracy']:.4f} in {ws['seconds']:.1f} s (train {ws['extra']['splits']['train']})"
        if ws["status"] == "ok"
        else ws["status"]
    )
    loads = [r["extra"].get("load_1min_before") for r in row["runs"]]
    loads = [v for v in loads if v is not None]
    threads = sorted({r["extra"].get("threads") for r in ok})
    note = join_notes(
        f"{len(ok)} seed(s)",
        f"{row['train']} train, {row['test']} test",
        f"{'/'.join(map(str, threads))} thread(s)" if threads else "",
        f"load {min(loads):.1f}–{max(loads):.1f}" if loads else "",
    )
    return [
        row["dataset"],
        " × ".join(map(str, row["shape"])),
        accuracy,
        fmt(ROCKET_PUBLISHED.get(row["dataset"]), ".4f")
        if ROCKET_PUBLISHED.get(row["dataset"]) is not None
        else "unknown",
        fmt(slowest, ".2f"),
        fmt(test_slowest, ".2f"),
        product,
        note,
    ]


def rocket_targets(record: dict[str, Any]) -> list[str]:
    lines = []
    for row in record.get("rocket", []):
        name = row["dataset"]
        mean, slowest, _ = _rocket_summary(row)
        published = ROCKET_PUBLISHED.get(name)
        if mean is None or slowest is None:
            lines.append(f"ROCKET on {name}: not measured")
            continue
        fast = slowest < ROCKET_MAX_SECONDS
        if published is None:
            lines.append(
                f"ROCKET on {name}: no verified published figure to hold it to; under "
                f"{ROCKET_MAX_SECONDS:.0f} s: {'**met**' if fast else '**missed**'} "
                f"({mean:.4f}; slowest fit {slowest:.1f} s)"
            )
            continue
        met = mean >= published - ROCKET_TOLERANCE and fast
        lines.append(
            f"ROCKET on {name}: ≥ {published - ROCKET_TOLERANCE:.3f} in < "
            f"{ROCKET_MAX_SECONDS:.0f} s: {'**met**' if met else '**missed**'} ({mean:.4f}; "
            f"{(mean - published) * 100:+.1f} points; slowest fit {slowest:.1f} s)"
        )
    return lines


def rocket_section(record: dict[str, Any]) -> str:
    lines = [
        "### The ROCKET-style baseline on every shipped set",
        "",
        "- **Method:** `lernwerk baselines DATASET --estimator rocket`: MiniRocket's 84 "
        "kernels at up to 32 dilations (9 996 PPV features; multivariate: a random channel "
        "subset per kernel; unequal lengths: only a series' real steps count), ridge "
        "classifier with leave-one-out alpha (`lernwerk/training/rocket.py`).",
        "- **Protocol:** fitted on the whole official train file, tested on the official test "
        "file, one fit per seed (seeds differ in the series the biases come from and the "
        "channel subsets). **Fit seconds:** kernels, train features and the ridge fit; "
        "**test seconds:** the test file's features and prediction; slowest seed of each. "
        "**`lernwerk baselines`:** the same through `Workspace.baselines` (seed 0), which "
        "fits on its train split only (20 % of the train file held out for validation).",
        "- **Published:** ROCKET (Dempster et al. 2020), mean of 10 runs on the same split, "
        "from the authors' `results/results_ucr.csv`; *unknown*: no figure verified.",
        "- **Load:** this machine was shared with other workers' jobs (each row's note gives "
        "the 1-min load average before its fits): the seconds are upper bounds.",
        "",
        markdown_table(ROCKET_COLUMNS, [_rocket_cells(r) for r in record["rocket"]], "llllrrll"),
        "",
        *targets_block(rocket_targets(record), issue=17),
    ]
    return "\n".join(lines)
