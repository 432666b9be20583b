"""LeNet on the 8×8 digits: lernwerk's `lenet` preset against the same network by hand.

lernwerk runs `Workspace.fit("digits", "lenet", epochs=30, seed=1)` with every other
setting its default; the plain PyTorch loop and Keras then train the same network with
the batch size, learning rate, optimizer and epochs lernwerk resolved, on the same split.
The speed levers (fused Adam, channels_last, bf16 autocast, torch.compile) are variants of
the plain loop, each with its own accuracy, so a lever that costs accuracy shows it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bench import loops
from bench.common import (
    Log,
    Measured,
    Result,
    console_table,
    fit_lernwerk,
    fmt,
    importable,
    join_notes,
    load_note,
    log_result,
    markdown_table,
    measure,
    measure_rounds,
    rounds_note,
    set_ratios,
    targets_block,
)

TITLE = "digits: LeNet on 8×8 digits"
BASELINE = "lernwerk lenet"
EPOCHS, SEED = 30, 1
QUICK_EPOCHS = 2
# lernwerk, the plain loop and Keras take turns this many times: single runs of ~3 s moved
# by 10-30 % with the load of this shared machine
ROUNDS, QUICK_ROUNDS = 3, 2
LEVERS = (
    loops.Levers(fused_adam=True),
    loops.Levers(channels_last=True),
    loops.Levers(bf16=True),
    loops.Levers(compile=True),
)
COMBINED = loops.Levers(channels_last=True, bf16=True)


def _log(log: Log, res: Result) -> None:
    log_result(log, res, _note, width=38)


def run(
    quick: bool,
    *,
    log: Log = print,
    dataset: str = "digits",
    epochs: int | None = None,
    keras: bool = True,
    max_peer_seconds: float = 300.0,
    levers: tuple[loops.Levers, ...] = (*LEVERS, COMBINED),
    rounds: int | None = None,
) -> dict[str, Any]:
    """lenet in lernwerk, by hand, with each lever, and in Keras; one result each.

    lernwerk, the plain loop and Keras run in `rounds` interleaved rounds (each row shows
    its median round); the levers run once.
    """
    epochs = epochs or (QUICK_EPOCHS if quick else EPOCHS)
    rounds = rounds or (QUICK_ROUNDS if quick else ROUNDS)
    data = loops.load_images(dataset)
    # warm-up (imports, first kernels, SQLite) that also gives the settings lernwerk resolves
    # for this data: the batch size, learning rate and threads the peers then use
    _, _, e = fit_lernwerk(dataset, "lenet", epochs=1, seed=SEED)
    same = {"batch_size": e["batch_size"], "epochs": epochs, "lr": e["lr"], "seed": SEED}
    settings = (
        f"same network, split and settings: batch {e['batch_size']}, adam {e['lr']:.3g}, "
        f"{epochs} epochs"
    )
    plain = {**same, "threads": e["threads"]}
    lw = Result(BASELINE, f"`Workspace.fit({dataset!r}, 'lenet', epochs={epochs}, seed={SEED})`")
    pt = Result("plain PyTorch loop", f"{settings}, {e['threads']} torch thread(s) as lernwerk")
    k = Result("Keras (TensorFlow)", f"{settings}, TensorFlow's default threads")
    timed: list[tuple[Result, Measured]] = [
        (lw, lambda: fit_lernwerk(dataset, "lenet", epochs=epochs, seed=SEED)),
        (pt, lambda: loops.plain_torch("lenet", data, **plain)),
    ]
    if not keras:
        k.status, k.note = "skipped", "left out of this run"
    elif not importable("keras"):
        k.status = "not installed"
        k.note = "keras/tensorflow-cpu is not installed (`pip install 'lernwerk[bench]'`)"
    else:
        loops.import_keras()  # TensorFlow's import (seconds) is not part of the fit
        timed.append(
            (k, lambda: loops.keras_fit("lenet", data, **same, max_seconds=max_peer_seconds))
        )
    measure_rounds(timed, rounds)
    results = [lw, pt]
    for res in (lw, pt):
        _log(log, res)
    for lever in levers:
        res = Result(f"plain loop + {lever.label()}", "as the plain loop")
        if lever.compile and quick:
            res.status, res.note = "skipped", "left out of quick mode: compiling takes longer"
            results.append(res)
            continue
        measure(res, lambda lever=lever: loops.plain_torch("lenet", data, **plain, levers=lever))
        _log(log, res)
        results.append(res)
    _log(log, k)
    results.append(k)
    set_ratios(results, BASELINE)
    return {
        "dataset": dataset,
        "split": data.sizes,
        "rounds": rounds,
        "results": [asdict(r) for r in results],
    }


COLUMNS = ["peer", "settings", "test accuracy", "seconds", "× lernwerk", "notes"]


def _note(r: dict[str, Any]) -> str:
    e = r["extra"]
    parts = []
    if "train_loop_seconds" in e:
        parts.append(
            f"batch {e['batch_size']}, {e['epochs']} epochs, lr {e['lr']:.3g}, "
            f"{e['threads']} thread(s); training loop {e['train_loop_seconds']:.2f} s"
        )
    elif "projected_from_epochs" in e:
        parts.append(
            f"**estimated**: stopped after {e['projected_from_epochs']} epochs "
            f"({e['measured_seconds']:.0f} s) at the cap"
        )
    elif "threads" in e:
        parts.append(f"{e['threads']} torch thread(s)")
    return join_notes(r["note"], *parts, rounds_note(e), load_note(e))


def _cells(r: dict[str, Any]) -> list[str]:
    return [
        r["peer"],
        r["settings"],
        fmt(r["accuracy"], ".4f"),
        fmt(r["seconds"], ".2f"),
        fmt(r["ratio"], ".2f"),
        _note(r),
    ]


def targets(record: dict[str, Any]) -> list[str]:
    p = {r["peer"]: r for r in record["results"] if r["status"] == "ok"}
    lw, keras = p.get(BASELINE), p.get("Keras (TensorFlow)")
    if not lw:
        return ["lenet did not finish: no target measured"]
    lines = [
        f"`lenet` test accuracy ≥ 0.98: {'**met**' if lw['accuracy'] >= 0.98 else '**missed**'} "
        f"({lw['accuracy']:.4f})"
    ]
    if keras:
        share = lw["seconds"] / keras["seconds"]
        met = share <= 0.25
        e = lw["extra"]
        n_train, batch = record["split"]["train"], e["batch_size"]
        steps = (n_train // batch + (n_train % batch > 1)) * e["epochs"]  # a last 1 is dropped
        why = (
            ""
            if met
            else f"; per training step {1e3 * e['train_loop_seconds'] / steps:.2f} ms against "
            f"Keras's {1e3 * keras['seconds'] / steps:.2f} ms over {steps} steps: at batch "
            f"{batch} on 8×8 images a step is ~40 small operators, each paying PyTorch's "
            "per-call cost, and the two convolutions alone take ~0.5 ms (see the log)"
        )
        lines.append(
            f"`lenet` in ≤ 1/4 of Keras's time: {'**met**' if met else '**missed**'} "
            f"(lernwerk {lw['seconds']:.2f} s = {share:.2f} of Keras's {keras['seconds']:.2f} s"
            f"{why})"
        )
    else:
        lines.append("`lenet` vs Keras: not measured (Keras missing, left out or failed)")
    return lines


def section(record: dict[str, Any]) -> str:
    split = record["split"]
    lines = [
        f"- **Data:** the built-in `{record['dataset']}` set (scikit-learn's 1 797 handwritten "
        f"digits, 8×8, 10 classes), lernwerk's default stratified split: train "
        f"{split['train']}, validation {split['val']}, test {split['test']}.",
        "- **Seconds:** lernwerk: the whole `Workspace.fit` (standardise, train with a "
        "validation pass per epoch, write the run, evaluate); plain loop and Keras: "
        "standardise, build, train (no validation pass). One-time imports are paid before "
        'timing. "× lernwerk" = peer seconds / lernwerk seconds.',
        f"- **Rounds:** lernwerk, the plain loop and Keras take turns "
        f"{record.get('rounds', 1)} times (lernwerk, plain, Keras, lernwerk, …) so that a spell "
        "of load on a shared machine hits each; each row shows its median round. The "
        "batch size, learning rate and threads come from a 1-epoch lernwerk fit before them "
        "(which also pays the first kernels).",
        "- **Levers** are the plain loop with one switch on; single runs, seed 1: accuracy "
        "differences of ~0.005 (2 test images) are noise.",
        "",
        markdown_table(COLUMNS, [_cells(r) for r in record["results"]], "llrrrl"),
        "",
        *targets_block(targets(record)),
    ]
    return "\n".join(lines)


def console(record: dict[str, Any]) -> str:
    rows = [[c[0], c[2], c[3], c[4], c[5]] for c in map(_cells, record["results"])]
    return console_table(["peer", "test acc", "s", "x lernwerk", "notes"], rows, "lrrrl")
