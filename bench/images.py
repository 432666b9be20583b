"""CNNs on generated images: training time, images per second, and achieved FLOP/s
against the float32 matmul peak measured on the same machine in the same run.

Achieved FLOP/s = FLOPs per sample (the model summary's forward count) × 3 (forward and
backward) × training images processed / training-loop seconds. The loop's seconds also
hold one validation pass per epoch, which the count leaves out: the figure errs low.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bench import loops
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
from bench.machine import matmul_peak

TITLE = "images: CNNs on generated smileys and solder joints"
SEED = 1
# (row name, dataset, preset, epochs); epochs fixed so the suite fits in minutes, every
# other setting (batch size, learning rate, threads) is lernwerk's default.
FULL_RUNS = (
    ("lernwerk smiley-cnn on smileys", "smileys:per_class=200", "smiley-cnn", 20),
    ("lernwerk smiley-cnn on solder", "solder:per_class=200", "smiley-cnn", 10),
)
QUICK_RUNS = (
    ("lernwerk smiley-cnn on smileys", "smileys:per_class=20", "smiley-cnn", 1),
    ("lernwerk smiley-cnn on solder", "solder:per_class=10", "smiley-cnn", 1),
)
SOLDER_ROW = FULL_RUNS[1][0]
LEVER_EPOCHS, QUICK_LEVER_EPOCHS = 3, 1
LEVERS = (
    loops.Levers(),
    loops.Levers(fused_adam=True),
    loops.Levers(channels_last=True),
    loops.Levers(bf16=True),
    loops.Levers(channels_last=True, bf16=True),
    loops.Levers(compile=True),
    loops.Levers(one_thread=True),
    loops.Levers(one_thread=True, channels_last=True, bf16=True),
)


def run(
    quick: bool,
    *,
    log: Log = print,
    runs: tuple[tuple[str, str, str, int], ...] | None = None,
    lever_epochs: int | None = None,
    peak_seconds: float | None = None,
    levers: tuple[loops.Levers, ...] = LEVERS,
) -> dict[str, Any]:
    """The matmul peaks, lernwerk's runs, and the plain loop with each lever on solder."""
    runs = runs or (QUICK_RUNS if quick else FULL_RUNS)
    lever_epochs = lever_epochs or (QUICK_LEVER_EPOCHS if quick else LEVER_EPOCHS)
    import torch

    peak_s = peak_seconds or (0.5 if quick else 3.0)
    n = 1024 if quick else 2048
    peaks = {
        "float32": matmul_peak(torch.float32, n=n, seconds=peak_s),
        "float32, 1 thread": matmul_peak(torch.float32, n=n, seconds=peak_s, threads=1),
        "bfloat16": matmul_peak(torch.bfloat16, n=n, seconds=peak_s),
    }
    # the machine's peak is the best of all cores and one: on a busy machine a second
    # thread can lose more to waiting than it adds
    if peaks["float32, 1 thread"]["gflops"] > peaks["float32"]["gflops"]:
        peaks["float32"] = {
            **peaks["float32, 1 thread"],
            "all_cores_gflops": peaks["float32"]["gflops"],
        }
    log(
        f"  matmul peak: float32 {peaks['float32']['gflops']} GFLOP/s, "
        f"bfloat16 {peaks['bfloat16']['gflops']} GFLOP/s"
    )
    fit_lernwerk("xor", "mlp", epochs=1)  # warm-up
    results: list[Result] = []
    for name, dataset, preset, epochs in runs:
        res = measure(
            Result(
                name,
                f"`{dataset}`, `{preset}`, epochs={epochs}, seed={SEED}, other settings default",
            ),
            lambda dataset=dataset, preset=preset, epochs=epochs: fit_lernwerk(
                dataset, preset, epochs=epochs, seed=SEED
            ),
        )
        res.extra["dataset"] = dataset
        _throughput(res, peaks["float32"]["gflops"])
        log(
            f"  {name:<38} {fmt(res.accuracy, '.4f'):>7} {fmt(res.seconds, '.2f'):>8} s  "
            f"{fmt(res.extra.get('images_per_second'), '.0f')} img/s  {res.note}"
        )
        results.append(res)
    solder = next((r for r in results if "solder" in r.peer and r.status == "ok"), None)
    if solder is not None:
        data = loops.load_images(solder.extra["dataset"])
        e = solder.extra
        for lever in levers:
            res = Result(
                f"plain loop + {lever.label()}",
                f"hand-written smiley-cnn, batch {e['batch_size']}, adam {e['lr']:.3g}, "
                f"{lever_epochs} epochs, {1 if lever.one_thread else e['threads']} thread(s)",
            )
            if lever.compile and quick:
                res.status, res.note = "skipped", "left out of quick mode: compiling takes longer"
                results.append(res)
                continue
            res = measure(
                res,
                lambda lever=lever: loops.plain_torch(
                    "smiley-cnn",
                    data,
                    batch_size=e["batch_size"],
                    epochs=lever_epochs,
                    lr=e["lr"],
                    threads=e["threads"],
                    seed=SEED,
                    levers=lever,
                ),
            )
            res.extra.update(flops_per_sample=e["flops_per_sample"], dataset=e["dataset"])
            _throughput(res, peaks["float32"]["gflops"])
            log(
                f"  {res.peer:<38} {fmt(res.accuracy, '.4f'):>7} {fmt(res.seconds, '.2f'):>8} s  "
                f"{fmt(res.extra.get('images_per_second'), '.0f')} img/s  {res.note}"
            )
            results.append(res)
    return {"peaks": peaks, "results": [asdict(r) for r in results]}


def _throughput(res: Result, peak_gflops: float) -> None:
    """images/s and achieved GFLOP/s from the training loop's seconds."""
    e = res.extra
    if res.status != "ok":
        return
    seconds = e.get("train_loop_seconds") or res.seconds
    images = e.get("train_images") or e["n_train"] * e["epochs"]
    e["train_images"] = images
    e["images_per_second"] = images / seconds
    achieved = e["flops_per_sample"] * 3 * images / seconds / 1e9
    e["achieved_gflops"] = achieved
    e["share_of_peak"] = achieved / peak_gflops if peak_gflops else None


COLUMNS = [
    "run",
    "settings",
    "test accuracy",
    "wall s",
    "training s",
    "images trained",
    "images/s",
    "MFLOPs/sample (fwd)",
    "achieved GFLOP/s",
    "of fp32 peak",
    "notes",
]


def _cells(r: dict[str, Any]) -> list[str]:
    e = r["extra"]
    share = e.get("share_of_peak")
    note = ""
    if "train_loop_seconds" in e:
        note = f"batch {e['batch_size']}, lr {e['lr']:.3g}, {e['threads']} thread(s)"
    return [
        r["peer"],
        r["settings"],
        fmt(r["accuracy"], ".4f"),
        fmt(r["seconds"], ".2f"),
        fmt(e.get("train_loop_seconds", r["seconds"]), ".2f"),
        fmt(e.get("train_images"), "d"),
        fmt(e.get("images_per_second"), ".0f"),
        fmt(e["flops_per_sample"] / 1e6 if "flops_per_sample" in e else None, ".1f"),
        fmt(e.get("achieved_gflops"), ".1f"),
        "—" if share is None else f"{100 * share:.1f} %",
        join_notes(r["note"], note, load_note(e)),
    ]


def targets(record: dict[str, Any]) -> list[str]:
    solder = next(
        (r for r in record["results"] if r["peer"] == SOLDER_ROW and r["status"] == "ok"), None
    )
    if solder is None:
        return ["solder CNN: did not finish; not measured"]
    share = solder["extra"]["share_of_peak"]
    return [
        f"solder CNN achieves ≥ 30 % of the float32 matmul peak: "
        f"{'**met**' if share >= 0.30 else '**missed**'} ({100 * share:.1f} %: "
        f"{solder['extra']['achieved_gflops']:.1f} of {record['peaks']['float32']['gflops']} GFLOP/s)"
    ]


def section(record: dict[str, Any]) -> str:
    p32, p16 = record["peaks"]["float32"], record["peaks"]["bfloat16"]
    lines = [
        f"- **Peak:** `torch.matmul` of two {p32['n']}×{p32['n']} matrices in a loop for "
        f"{p32['seconds']} s, the better of all cores and 1 thread: float32 "
        f"**{p32['gflops']} GFLOP/s** on {p32['threads']} thread(s) (load "
        f"{p32['load_1min_before']}{_other(record)}), bfloat16 {p16['gflops']} GFLOP/s "
        f"on all cores ({p16['gflops'] / p32['gflops']:.1f}× float32).",
        "- **Achieved** = forward FLOPs per sample (model summary) × 3 × training images / "
        "training-loop seconds (the loop's seconds include a validation pass per epoch, "
        "which is not counted: the figure errs low). Wall seconds are the whole "
        "`Workspace.fit` (generation of the data is not in them).",
        "- **Levers:** the hand-written smiley-cnn on the same solder split, at lernwerk's "
        "resolved batch size, learning rate and threads, with one switch on; single runs.",
        "",
        markdown_table(COLUMNS, [_cells(r) for r in record["results"]], "llrrrrrrrrl"),
        "",
        *targets_block(targets(record)),
    ]
    return "\n".join(lines)


def _other(record: dict[str, Any]) -> str:
    peaks = record["peaks"]
    one = peaks.get("float32, 1 thread")
    if one is None:
        return ""
    if "all_cores_gflops" in peaks["float32"]:
        return f"; all cores reached only {peaks['float32']['all_cores_gflops']} GFLOP/s"
    return f"; 1 thread {one['gflops']} GFLOP/s"


def console(record: dict[str, Any]) -> str:
    rows = [[c[0], c[2], c[4], c[6], c[8], c[9]] for c in map(_cells, record["results"])]
    peaks = record["peaks"]
    head = (
        f"matmul peak: float32 {peaks['float32']['gflops']} GFLOP/s, "
        f"bfloat16 {peaks['bfloat16']['gflops']} GFLOP/s"
    )
    table = console_table(
        ["run", "test acc", "train s", "img/s", "GFLOP/s", "of peak"], rows, "lrrrrr"
    )
    return head + "\n" + table
