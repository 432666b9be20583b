"""A workshop under load: N simulated participants on one `lernwerk serve --workshop`.

Each participant (a thread of this process, its own HTTP connection) does what a workshop
participant does, with no pauses: joins under a name, creates an empty drawing dataset
with two classes, adds 40 drawings one request at a time (the built-in smileys' faces),
trains the Smiley CNN, follows the training by polling as the page does, then predicts 50
drawings; between the steps it loads the page and lists its runs. Participants start
spread over the first tenth of the time; the whole load is bounded by `seconds`.

Measured: every request's status and latency. Training itself (`POST /api/runs` and the
wait for the run to end) is not a latency: everything else is, and its p99 is held to
500 ms (issue 18). Also counted: 5xx answers, samples lost (added but not in the dataset
at the end), trainings that did not finish.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.common import Log, Result, console_table, fmt, markdown_table, targets_block
from bench.machine import load_average

TITLE = "workshop: simulated participants on one server"
FULL = {"participants": 30, "seconds": 300.0, "workers": 2, "samples": 40, "predictions": 50,
        "epochs": 5}  # fmt: skip
QUICK = {"participants": 2, "seconds": 90.0, "workers": 1, "samples": 6, "predictions": 3,
         "epochs": 1}  # fmt: skip
P99_CEILING_MS = 500.0
TRAINER = "bench-trainer"


class _Tally:
    """Every request's outcome, from all participant threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies_ms: list[float] = []
        self.statuses: dict[int, int] = {}
        self.errors: list[str] = []
        self.finished = 0
        self.lost = 0

    def note(self, status: int, ms: float | None) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if ms is not None:
                self.latencies_ms.append(ms)


def _participant(i: int, url: str, p: dict[str, Any], faces: list, tally: _Tally, stop_at: float):
    import httpx

    def call(client: httpx.Client, method: str, path: str, timed: bool = True, **kw: Any):
        started = time.perf_counter()
        try:
            r = client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            tally.note(0, None)
            with tally.lock:
                tally.errors.append(f"{method} {path}: {type(exc).__name__}")
            return None
        tally.note(r.status_code, (time.perf_counter() - started) * 1000 if timed else None)
        return r

    with httpx.Client(base_url=url, timeout=120) as guest:
        r = call(guest, "POST", "/api/workshop/join", json={"name": f"p{i:02d}"})
    if r is None or r.status_code != 201:
        return
    token = r.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, timeout=120, headers=headers) as c:
        call(c, "GET", "/", headers={**headers, "accept": "text/html"})
        empty = {"classes": ["smile", "sad"], "image_size": 28}
        call(c, "POST", "/api/datasets", json={"name": "faces", "empty": empty})
        added = 0
        for k in range(p["samples"]):
            label, pixels = faces[(i * 7 + k) % len(faces)]
            r = call(
                c, "POST", "/api/datasets/faces/samples", json={"label": label, "pixels": pixels}
            )
            added += r is not None and r.status_code == 201
        call(c, "GET", "/api/datasets/faces")
        body = {"dataset": "faces", "model": "smiley-cnn", "train": {"epochs": p["epochs"]}}
        r = call(c, "POST", "/api/runs", timed=False, json=body)
        run_id = None
        if r is not None and r.status_code == 202:
            job = r.json()
            while time.monotonic() < stop_at:
                r = call(c, "GET", f"/api/jobs/{job['job_id']}")
                if (
                    r is not None
                    and r.status_code == 200
                    and r.json()["status"]
                    not in (
                        "queued",
                        "running",
                    )
                ):
                    run_id = r.json()["run_id"] if r.json()["status"] == "finished" else None
                    break
                time.sleep(1.0)
        if run_id is not None:
            with tally.lock:
                tally.finished += 1
            call(c, "GET", "/api/runs")
            for k in range(p["predictions"]):
                _, pixels = faces[(i + k) % len(faces)]
                call(c, "POST", f"/api/runs/{run_id}/predict", json={"pixels": pixels})
        r = call(c, "GET", "/api/datasets/faces")
        if r is not None and r.status_code == 200:
            stored = sum(part["samples"] for part in r.json()["splits"].values())
            with tally.lock:
                tally.lost += max(0, added - int(stored))


def run(quick: bool, *, log: Log = print, **overrides: Any) -> dict[str, Any]:
    """Start the workshop server, run the participants, tally the answers."""
    import subprocess
    import sys

    import httpx

    from bench.server import _free_port
    from lernwerk.api import Workspace

    p = {**(QUICK if quick else FULL), **overrides}
    tmp = Path(tempfile.mkdtemp(prefix="lernwerk-bench-workshop-"))
    ws = Workspace(tmp / "faces")
    smileys = ws.load_dataset("smileys")
    faces = [
        (smileys.classes[int(y)], x[0].round(3).tolist())
        for x, y in zip(smileys.x.numpy(), smileys.y.numpy(), strict=True)
        if smileys.classes[int(y)] in ("smile", "sad")
    ][:200]
    port = _free_port()
    command = [sys.executable, "-m", "lernwerk.cli", "--workspace", str(tmp / "room"), "serve",
               "--workshop", "--token", TRAINER, "--port", str(port),
               "--workers", str(p["workers"])]  # fmt: skip
    log_file = tmp / "server.log"
    with open(log_file, "w") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    tally = _Tally()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/workshop/me", timeout=2).status_code == 401:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        load_before = load_average()
        started = time.monotonic()
        stop_at = started + p["seconds"]
        threads = []
        for i in range(p["participants"]):
            t = threading.Thread(
                target=_participant, args=(i, url, p, faces, tally, stop_at), daemon=True
            )
            threads.append(t)
            t.start()
            time.sleep(p["seconds"] / 10 / max(p["participants"], 1))
        for t in threads:
            t.join(timeout=max(0.0, stop_at - time.monotonic()) + 30)
        wall = time.monotonic() - started
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    lat = sorted(tally.latencies_ms)
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else None
    fives = sum(n for s, n in tally.statuses.items() if s >= 500 or s == 0)
    r = Result(
        f"{p['participants']} participants, {p['workers']} workers",
        f"{p['samples']} drawings, Smiley CNN {p['epochs']} epochs, {p['predictions']} predictions",
    )
    r.seconds = wall
    r.ratio = None if p99 is None else p99 / P99_CEILING_MS
    r.extra.update(
        requests=sum(tally.statuses.values()),
        statuses={str(k): v for k, v in sorted(tally.statuses.items())},
        server_errors=fives,
        lost_samples=tally.lost,
        trainings_finished=tally.finished,
        participants=p["participants"],
        p50_ms=statistics.median(lat) if lat else None,
        p95_ms=lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else None,
        p99_ms=p99,
        errors=tally.errors[:10],
        load_1min_before=load_before,
    )
    log(
        f"  {r.peer}: {r.extra['requests']} requests, {fives} 5xx, {tally.lost} lost, "
        f"{tally.finished}/{p['participants']} trainings, p99 {fmt(p99, '.0f')} ms"
    )
    return {"params": p, "results": [asdict(r)]}


COLUMNS = ["load", "work per participant", "requests", "5xx", "lost samples", "trainings done",
           "p50 ms", "p95 ms", "p99 ms", "of 500 ms", "wall s", "notes"]  # fmt: skip


def _rows(record: dict[str, Any]) -> list[list[str]]:
    rows = []
    for r in record["results"]:
        e = r["extra"]
        rows.append(
            [
                r["peer"],
                r["settings"],
                str(e["requests"]),
                str(e["server_errors"]),
                str(e["lost_samples"]),
                f"{e['trainings_finished']}/{e['participants']}",
                fmt(e["p50_ms"], ".0f"),
                fmt(e["p95_ms"], ".0f"),
                fmt(e["p99_ms"], ".0f"),
                "" if r["ratio"] is None else f"{r['ratio'] * 100:.0f} %",
                fmt(r["seconds"], ".0f"),
                f"load {e['load_1min_before']:.1f}",
            ]
        )
    return rows


def targets(record: dict[str, Any]) -> list[str]:
    (r,) = record["results"]
    e = r["extra"]

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**missed**"

    return [
        f"zero 5xx: {verdict(e['server_errors'] == 0)} ({e['server_errors']})",
        f"zero lost samples: {verdict(e['lost_samples'] == 0)} ({e['lost_samples']})",
        f"every training finishes: {verdict(e['trainings_finished'] == e['participants'])} "
        f"({e['trainings_finished']}/{e['participants']})",
        f"p99 of page and API requests other than training under 500 ms: "
        f"{verdict(e['p99_ms'] is not None and e['p99_ms'] < P99_CEILING_MS)} "
        f"({fmt(e['p99_ms'], '.0f')} ms)",
    ]


def section(record: dict[str, Any]) -> str:
    p = record["params"]
    lines = [
        f"- **Setup:** `lernwerk serve --workshop --workers {p['workers']}` on 127.0.0.1; "
        f"{p['participants']} participant threads of the bench process (httpx, one connection "
        f"each), started over the first {p['seconds'] / 10:.0f} s, bounded to "
        f"{p['seconds']:.0f} s; the load generator shares the machine with the server.",
        "",
        markdown_table(COLUMNS, _rows(record), "llrrrrrrrrrl"),
        "",
        *targets_block(targets(record), issue=18),
    ]
    return "\n".join(lines)


def console(record: dict[str, Any]) -> str:
    return console_table(COLUMNS, _rows(record), "llrrrrrrrrrl")
