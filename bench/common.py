"""What every suite shares: a result row, timing helpers, table rendering."""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.machine import load_average

Log = Callable[[str], None]


@dataclass
class Result:
    """One peer (or one variant) measured once."""

    peer: str
    settings: str
    status: str = "ok"  # ok | skipped | not installed | not available | failed
    accuracy: float | None = None
    seconds: float | None = None
    ratio: float | None = None  # seconds / the suite's lernwerk seconds on the same data
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def importable(module: str) -> bool:
    """Whether a module is installed (found, not imported: TensorFlow's import takes seconds)."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def measure(result: Result, fn: Callable[[], tuple[float | None, float, dict[str, Any]]]) -> Result:
    """Run `fn` (-> accuracy, seconds, extra) into `result`, noting the load it started under.

    A failing peer is reported as `failed` with its error: one broken peer must not hide
    the rest.
    """
    gc.collect()
    result.extra["load_1min_before"] = load_average()
    try:
        result.accuracy, result.seconds, extra = fn()
        result.extra.update(extra)
    except Exception as exc:  # noqa: BLE001 - reported in the table, the suite goes on
        result.status, result.note = "failed", f"{type(exc).__name__}: {exc}"[:300]
    return result


Measured = Callable[[], tuple[float | None, float, dict[str, Any]]]  # -> accuracy, s, extra


def measure_rounds(
    pairs: list[tuple[Result, Measured]],
    rounds: int,
    *,
    log: Callable[[Result], None] | None = None,
) -> None:
    """Measure peers in `rounds` interleaved rounds (A B A B …), so that a spell of load
    on a shared machine falls on all of them rather than on one.

    Each result keeps the round with its median seconds (the lower middle one of an even
    count; its accuracy and extra), and
    every round's seconds in `extra["round_seconds"]`; one failed round fails the row.
    `log` hears each round's result as it is measured.
    """
    runs: list[list[Result]] = [[] for _ in pairs]
    for _ in range(max(1, rounds)):
        for (result, fn), done in zip(pairs, runs, strict=True):
            done.append(measure(Result(result.peer, result.settings), fn))
            if log is not None:
                log(done[-1])
    for (result, _), done in zip(pairs, runs, strict=True):
        failed = next((r for r in done if r.status != "ok"), None)
        if failed is not None:
            result.status, result.note = failed.status, failed.note
            continue
        seconds = [r.seconds or 0.0 for r in done]
        median = sorted(done, key=lambda r: r.seconds or 0.0)[(len(done) - 1) // 2]
        result.accuracy, result.seconds = median.accuracy, median.seconds
        result.extra.update(median.extra, round_seconds=seconds)


def paired_ratio(a: dict[str, Any], b: dict[str, Any]) -> tuple[float, float, float] | None:
    """Median (lower middle of an even count), min and max over rounds of a's seconds / b's
    in the same round (results as dicts from `measure_rounds`); None when either was
    measured once."""
    sa, sb = a["extra"].get("round_seconds"), b["extra"].get("round_seconds")
    if not sa or not sb or len(sa) != len(sb) or len(sa) < 2:
        return None
    ratios = sorted(x / y for x, y in zip(sa, sb, strict=True))
    return ratios[(len(ratios) - 1) // 2], ratios[0], ratios[-1]  # the rows' rule: lower middle


def rounds_note(extra: dict[str, Any]) -> str:
    """'median of 3 interleaved rounds: 9.1, 8.7, 9.4 s' (empty for a single run)."""
    seconds = extra.get("round_seconds")
    if not seconds or len(seconds) < 2:
        return ""
    listed = ", ".join(f"{t:.2f}" for t in seconds)
    return f"median of {len(seconds)} interleaved rounds: {listed} s"


def set_ratios(results: list[Result], baseline: str) -> None:
    """ratio = seconds / the baseline peer's seconds."""
    base = next((r.seconds for r in results if r.peer == baseline and r.seconds), None)
    for r in results:
        if base and r.seconds is not None:
            r.ratio = r.seconds / base


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run a block with `n` intra-op threads (None: leave as is), restoring the old count."""
    import torch

    old = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation, as numpy's default."""
    s = sorted(values)
    if not s:
        return math.nan
    pos = (len(s) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def latencies_ms(call: Callable[[], Any], *, calls: int, warmup: int) -> list[float]:
    """Wall-clock milliseconds of `calls` calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    out = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1e3)
    return out


def fmt(value: float | None, spec: str) -> str:
    return (
        "—"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else format(value, spec)
    )


def markdown_table(columns: list[str], rows: list[list[str]], align: str) -> str:
    """A markdown table; `align` has one character per column: l or r."""
    lines = ["| " + " | ".join(columns) + " |"]
    lines.append("|" + "|".join("---:" if a == "r" else "---" for a in align) + "|")
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def targets_block(targets: list[str], issue: int = 5) -> list[str]:
    """A section's closing lines: each target of the issue, met or missed."""
    return [f"**Targets (issue {issue}):**", "", *(f"- {t}" for t in targets), ""]


def console_table(columns: list[str], rows: list[list[str]], align: str) -> str:
    """The same table in fixed-width text for a terminal."""
    widths = [
        max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(columns)
    ]
    widths = [min(w, 48) for w in widths]

    def line(cells: list[str]) -> str:
        return "  ".join(
            (c[:48].rjust(w) if a == "r" else c[:48].ljust(w))
            for c, w, a in zip(cells, widths, align, strict=True)
        ).rstrip()

    head = line(columns)
    return "\n".join([head, "-" * len(head), *(line(r) for r in rows)])


def load_note(extra: dict[str, Any]) -> str:
    load = extra.get("load_1min_before")
    return "" if load is None else f"load {load:.1f}"


def log_result(log: Log, res: Result, note: Callable[[dict[str, Any]], str], width: int) -> None:
    """One measured peer as a console line: name, accuracy, seconds and its note (the
    result's own, else the suite's `note` of its record)."""
    log(
        f"  {res.peer:<{width}} {fmt(res.accuracy, '.4f'):>7} {fmt(res.seconds, '.2f'):>8} s  "
        f"{res.note or note(asdict(res))}"
    )


def join_notes(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def import_keras() -> Any:
    """Keras on TensorFlow, quiet; ImportError when it is not installed."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no oneDNN/CPU-feature banners
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    return keras


def keras_budget_callback(keras: Any, epochs: int, max_seconds: float | None) -> Any:
    """A Keras callback that times epochs and stops once the whole run would pass the cap.

    After each epoch it projects the run's time from the mean epoch so far; a run that
    would take longer than `max_seconds` stops there, and the caller reports the
    projection (marked as estimated) instead of waiting for it.
    """

    class Budget(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epoch_seconds: list[float] = []
            self._started = 0.0

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.epoch_seconds.append(time.perf_counter() - self._started)
            mean = sum(self.epoch_seconds) / len(self.epoch_seconds)
            if max_seconds is not None and mean * epochs > max_seconds:
                self.model.stop_training = True

        def projected(self, seconds: float) -> float:
            """The whole run's seconds: measured, plus the missing epochs at the mean pace."""
            done = len(self.epoch_seconds)
            if done >= epochs or not done:
                return seconds
            return seconds + (epochs - done) * sum(self.epoch_seconds) / done

    return Budget()


def fit_lernwerk(dataset: Any, model: str, **train: Any) -> tuple[float, float, dict[str, Any]]:
    """`Workspace.fit` in a temporary workspace, timed; test accuracy, seconds, extra.

    Extra holds the resolved config (so peers can use the same), the training loop's own
    seconds, the intra-op threads the engine chose and the model's FLOPs per sample.
    """
    import tempfile

    import torch

    from lernwerk.api import Workspace
    from lernwerk.training import Listener

    class Threads(Listener):
        """The intra-op threads the trainer chose: set before it announces the run."""

        threads = 0

        def on_run_start(self, event: Any) -> None:
            self.threads = torch.get_num_threads()

    seen = Threads()
    with tempfile.TemporaryDirectory(prefix="lernwerk-bench-") as tmp:
        ws = Workspace(tmp)
        gc.collect()
        started = time.perf_counter()
        run = ws.fit(dataset, model, listeners=[seen], **train)
        seconds = time.perf_counter() - started
        if run.status != "finished":
            raise RuntimeError(f"run ended {run.status}: {run.record.error}")
        cfg = run.config["train"]
        flops = run.summary().flops_per_sample
        threads = seen.threads
        split = run.workspace.load_dataset(run.record.dataset).split(
            cfg["val_split"], cfg["test_split"], cfg["split_seed"]
        )
        extra = {
            "train_loop_seconds": round(run.record.seconds or 0.0, 3),
            "batch_size": cfg["batch_size"],
            "epochs": cfg["epochs"],
            "lr": cfg["lr"],
            "optimizer": cfg["optimizer"],
            "schedule": cfg["schedule"],
            "seed": cfg["seed"],
            "threads": threads,
            "flops_per_sample": flops,
            "n_train": len(split.train),
            "n_val": len(split.val),
            "val_accuracy": run.metrics.get("val", {}).get("accuracy"),
            "epochs_done": run.record.epoch,
            "time_budget_s": cfg.get("time_budget_s"),
        }
        return float(run.metrics["test"]["accuracy"]), seconds, extra
