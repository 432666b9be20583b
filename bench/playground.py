"""The playground: frames per second pulled while the network trains, and what pulling
costs the training (steps per second with and without frames being pulled).

One session (the spiral, 6 hidden layers of 8 neurons, tanh, Adam, batch 10) plays in its
training thread, as on the server; for `seconds` it trains alone, then for `seconds` a
second thread pulls frames at the page's pace (at most 20 a second) and turns each into JSON (what the
page's polling GET gets). The target (issue 15): at least 10 frames a second, while the
network trains at 50 % or more of the speed it reaches with no page open.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict
from typing import Any

from bench.common import Log, Result, console_table, fmt, markdown_table, targets_block
from bench.machine import load_average

TITLE = "playground: frames per second while training, and what they cost it"
FULL = {"seconds": 10.0, "hidden": [8, 8, 8, 8, 8, 8]}
QUICK = {"seconds": 1.0, "hidden": [8, 8]}
MIN_FPS = 10.0
MIN_SHARE = 0.5
PAGE_INTERVAL_S = 0.05  # the page pulls at most 20 frames a second (views/playground.js)


def _steps_per_second(session: Any, seconds: float, pull: bool) -> tuple[float, float, int]:
    """(steps/s, frames/s, frame bytes) over `seconds` of play, pulling frames or not."""
    frames, size = 0, 0
    stop = threading.Event()

    def puller() -> None:
        nonlocal frames, size
        while not stop.is_set():
            began = time.perf_counter()
            size = len(json.dumps(session.frame()))
            frames += 1
            stop.wait(max(0.0, PAGE_INTERVAL_S - (time.perf_counter() - began)))

    thread = threading.Thread(target=puller, daemon=True) if pull else None
    steps0 = session.steps
    started = time.perf_counter()
    if thread:
        thread.start()
    time.sleep(seconds)
    stop.set()
    steps = session.steps - steps0
    took = time.perf_counter() - started
    if thread:
        thread.join()
    return steps / took, frames / took, size


def run(quick: bool, *, log: Log = print, **overrides: Any) -> dict[str, Any]:
    """Play the spiral session alone, then with frames pulled; steps/s and frames/s."""
    from lernwerk.training.playground import (
        PlaygroundSession,
        PlaygroundSettings,
        builtin_data,
    )

    p = {**(QUICK if quick else FULL), **overrides}
    settings = PlaygroundSettings(
        data="spiral", hidden=p["hidden"], activation="tanh", optimizer="adam",
        learning_rate=0.01, batch_size=10, features=["x", "y", "sinx", "siny"],
    )  # fmt: skip
    session = PlaygroundSession(settings, builtin_data("spiral", 400, 0.0, 0))
    load_before = load_average()
    session.play()
    try:
        time.sleep(min(1.0, p["seconds"]))  # warm-up
        alone, _, _ = _steps_per_second(session, p["seconds"], pull=False)
        pulled, fps, size = _steps_per_second(session, p["seconds"], pull=True)
    finally:
        session.close()
    shape = "×".join(map(str, p["hidden"])) if p["hidden"] else "none"
    r = Result(f"spiral, hidden {shape}", "tanh, Adam, batch 10, 200 training points")
    r.ratio = pulled / alone if alone else None  # training speed kept while frames are pulled
    r.extra.update(
        steps_alone=alone, steps_pulled=pulled, frames_per_second=fps, frame_bytes=size,
        load_1min_before=load_before,
    )  # fmt: skip
    log(
        f"  {r.peer:<26} {alone:7.0f} steps/s alone, {pulled:7.0f} while pulling "
        f"{fps:5.1f} frames/s ({size / 1000:.1f} kB each)"
    )
    return {"params": p, "results": [asdict(r)]}


COLUMNS = ["network", "settings", "steps/s alone", "steps/s pulled", "kept", "frames/s",
           "frame kB", "notes"]  # fmt: skip


def _rows(record: dict[str, Any]) -> list[list[str]]:
    rows = []
    for r in record["results"]:
        e = r["extra"]
        rows.append(
            [
                r["peer"],
                r["settings"],
                fmt(e["steps_alone"], ".0f"),
                fmt(e["steps_pulled"], ".0f"),
                f"{(r['ratio'] or 0) * 100:.0f} %",
                fmt(e["frames_per_second"], ".1f"),
                fmt(e["frame_bytes"] / 1000, ".1f"),
                f"load {e['load_1min_before'] or 0:.1f}",
            ]
        )
    return rows


def targets(record: dict[str, Any]) -> list[str]:
    lines = []
    for r in record["results"]:
        e = r["extra"]
        fps_ok = e["frames_per_second"] >= MIN_FPS
        kept_ok = (r["ratio"] or 0) >= MIN_SHARE
        lines.append(
            f"at least {MIN_FPS:.0f} frames a second on `{r['peer']}`: "
            f"{'**met**' if fps_ok else '**missed**'} ({e['frames_per_second']:.1f})"
        )
        lines.append(
            f"training keeps at least {MIN_SHARE:.0%} of its speed while frames are pulled: "
            f"{'**met**' if kept_ok else '**missed**'} ({(r['ratio'] or 0):.0%})"
        )
    return lines


def section(record: dict[str, Any]) -> str:
    p = record["params"]
    lines = [
        f"- **Setup:** one playground session plays for {p['seconds']:.0f} s alone, then "
        f"{p['seconds']:.0f} s while a second thread pulls frames at the page's pace (at "
        "most 20 a second) "
        "(each turned into JSON, as the page's GET gets it; in-process, no HTTP, no "
        "drawing: the browser test measures the frames the page draws).",
        "",
        markdown_table(COLUMNS, _rows(record), "llrrrrrl"),
        "",
        *targets_block(targets(record), issue=15),
    ]
    return "\n".join(lines)


def console(record: dict[str, Any]) -> str:
    return console_table(COLUMNS, _rows(record), "llrrrrrl")
