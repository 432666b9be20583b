"""Prediction latency of the Smiley CNN: through the Python API, over HTTP, and under load.

- API: `run.predict(x)` on one (1, 28, 28) sample, one call at a time.
- HTTP: `lernwerk serve` on 127.0.0.1 in a subprocess (a free port, a temporary
  workspace), `POST /api/runs/{id}/predict` with `{"pixels": [[...]]}` over one
  keep-alive connection.
- Under load: the same request while a training runs on the server and 20 clients (in
  another process) add drawn samples to a dataset as fast as they are answered.
- Batch throughput: `run.predict` on batches of 256.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.common import (
    Log,
    Result,
    console_table,
    fmt,
    join_notes,
    latencies_ms,
    load_note,
    markdown_table,
    percentile,
    targets_block,
    torch_threads,
)
from bench.machine import load_average
from bench.server import LOAD_CLIENTS, Client, Server, request, server_available

TITLE = "predict: Smiley CNN latency"
FULL = {
    "per_class": 50,
    "epochs": 2,
    "calls": 500,
    "warmup": 50,
    "batch_seconds": 3.0,
    "load_seconds": 15.0,
    "clients": 20,
    "under_load": True,
}
QUICK = {
    "per_class": 10,
    "epochs": 1,
    "calls": 100,
    "warmup": 10,
    "batch_seconds": 0.5,
    "load_seconds": 3.0,
    "clients": 20,
    "under_load": True,
}
BATCH = 256


def run(quick: bool, *, log: Log = print, http: bool = True, **overrides: Any) -> dict[str, Any]:
    """Train a small Smiley CNN, then time its predictions every way; one result per row."""
    import numpy as np

    from lernwerk.api import Workspace

    p = {**(QUICK if quick else FULL), **overrides}
    results: list[Result] = []
    tmp = Path(tempfile.mkdtemp(prefix="lernwerk-bench-predict-"))
    try:
        ws = Workspace(tmp / "ws")
        run_ = ws.fit(
            f"smileys:per_class={p['per_class']}", "smiley-cnn", epochs=p["epochs"], seed=1
        )
        ds = ws.load_dataset(run_.record.dataset)
        sample = ds.x[0].numpy().astype(np.float32)  # (1, 28, 28)
        batch = np.repeat(ds.x[:1].numpy(), BATCH, axis=0).astype(np.float32)  # (256, 1, 28, 28)
        if len(ds.x) >= BATCH:
            batch = ds.x[:BATCH].numpy().astype(np.float32)
        base = {"run_id": run_.id, "dataset": run_.record.dataset}

        res = Result(
            "Python API, one sample",
            f"`run.predict(x)`, x (1, 28, 28); {p['calls']} calls after {p['warmup']}",
        )
        res.extra.update(base, load_1min_before=load_average())
        _latency_row(
            res, latencies_ms(lambda: run_.predict(sample), calls=p["calls"], warmup=p["warmup"])
        )
        results.append(_logged(res, log))

        res = Result(
            "Python API, one sample, 1 torch thread",
            "as above, inside `torch.set_num_threads(1)` (the predictor uses torch's default)",
        )
        res.extra.update(base, load_1min_before=load_average())
        with torch_threads(1):
            ms = latencies_ms(lambda: run_.predict(sample), calls=p["calls"], warmup=p["warmup"])
        _latency_row(res, ms)
        results.append(_logged(res, log))

        res = Result(
            f"Python API, batch {BATCH}",
            f"`run.predict(x)`, x ({BATCH}, 1, 28, 28), for {p['batch_seconds']} s",
        )
        res.extra.update(base, load_1min_before=load_average())
        times = _repeat_for(lambda: run_.predict(batch), p["batch_seconds"])
        res.extra["samples_per_second"] = BATCH * len(times) / (sum(times) / 1e3)
        res.extra["batch_ms_p50"] = percentile(times, 50)
        res.seconds = sum(times) / 1e3
        results.append(_logged(res, log))

        if http:
            results += _http_rows(tmp, run_, ds, sample, p, log)
        else:
            for name in ("HTTP, one sample", "HTTP, one sample, under load"):
                results.append(Result(name, "", status="skipped", note="left out of this run"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"params": p, "results": [asdict(r) for r in results]}


def _logged(res: Result, log: Log) -> Result:
    e = res.extra
    log(
        f"  {res.peer:<34} p50 {fmt(e.get('p50_ms'), '.2f'):>7} ms  p99 {fmt(e.get('p99_ms'), '.2f'):>7} ms  "
        f"{fmt(e.get('samples_per_second'), '.0f')} samples/s  {res.note}"
    )
    return res


def _latency_row(res: Result, ms: list[float]) -> None:
    res.extra.update(
        calls=len(ms),
        p50_ms=percentile(ms, 50),
        p99_ms=percentile(ms, 99),
        mean_ms=sum(ms) / len(ms),
        max_ms=max(ms),
        samples_per_second=1e3 * len(ms) / sum(ms),
    )
    res.seconds = sum(ms) / 1e3


def _server_ms(res: Result, ms: list[float]) -> None:
    if ms:
        res.extra.update(server_ms_p50=percentile(ms, 50), server_ms_p99=percentile(ms, 99))


def _repeat_for(call: Any, seconds: float) -> list[float]:
    call()  # warm-up
    out: list[float] = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds or not out:
        t = time.perf_counter()
        call()
        out.append((time.perf_counter() - t) * 1e3)
    return out


# -- HTTP -------------------------------------------------------------------------------------


def _http_rows(
    tmp: Path, run_: Any, ds: Any, sample: Any, p: dict[str, Any], log: Log
) -> list[Result]:
    names = ("HTTP, one sample", "HTTP, one sample, under load")
    why = server_available()
    if why is not None:
        return [
            _logged(Result(n, "", status="not available", note=f"server not available: {why}"), log)
            for n in names
        ]
    rows: list[Result] = []
    server = Server(tmp / "ws", tmp / "server.log")
    try:
        server.wait_ready()
        pixels = {"pixels": sample[0].round(4).tolist()}  # (28, 28) gray in [0, 1]
        path = f"/api/runs/{run_.id}/predict"
        client = Client(server.port)
        server_ms: list[float] = []  # the `ms` each answer gives: the server's own time

        def classify() -> None:
            status, body = client.request("POST", path, pixels)
            if status != 200 or "predicted" not in (body or {}):
                raise RuntimeError(f"POST {path} answered {status}: {str(body)[:200]}")
            if isinstance(body.get("ms"), int | float):
                server_ms.append(float(body["ms"]))

        res = Result(
            names[0],
            f'POST `/api/runs/{{id}}/predict` `{{"pixels"}}`, keep-alive, '
            f"{p['calls']} calls after {p['warmup']}; `lernwerk serve` on 127.0.0.1",
        )
        res.extra["load_1min_before"] = load_average()
        try:
            _latency_row(res, latencies_ms(classify, calls=p["calls"], warmup=p["warmup"]))
            _server_ms(res, server_ms[p["warmup"] :])
        except Exception as exc:  # noqa: BLE001 - reported in the table
            res.status, res.note = "failed", f"{type(exc).__name__}: {exc}"[:300]
        rows.append(_logged(res, log))
        server_ms.clear()
        res = Result(
            names[1],
            f"as above, while a training runs on the server and "
            f"{p['clients']} clients add drawn samples, for {p['load_seconds']} s",
        )
        res.extra["load_1min_before"] = load_average()
        if not p["under_load"]:
            res.status, res.note = "skipped", "left out of this run"
        else:
            try:
                _under_load(res, server, classify, sample, p)
                _server_ms(res, server_ms)
            except Exception as exc:  # noqa: BLE001 - reported in the table
                res.status, res.note = "failed", f"{type(exc).__name__}: {exc}"[:300]
        rows.append(_logged(res, log))
        client.close()
    except Exception as exc:  # noqa: BLE001 - a server that does not start is a row, not a crash
        note = f"server not available: {type(exc).__name__}: {exc}"[:300]
        rows += [
            _logged(Result(n, "", status="not available", note=note), log)
            for n in names[len(rows) :]
        ]
    finally:
        server.stop()
    return rows


def _under_load(res: Result, server: Server, classify: Any, sample: Any, p: dict[str, Any]) -> None:
    port = server.port
    status, body = request(
        port,
        "POST",
        "/api/datasets",
        {
            "name": "bench-drawn",
            "empty": {"classes": ["smile", "sad"], "image_size": 28, "channels": 1},
        },
    )
    if status != 201:
        raise RuntimeError(f"creating the drawing dataset answered {status}: {str(body)[:200]}")
    status, body = request(
        port,
        "POST",
        "/api/runs",
        {
            "dataset": "smileys:per_class=200",
            "model": "smiley-cnn",
            "name": "bench-load",
            "train": {"epochs": 200},
        },
    )
    if status != 202:
        raise RuntimeError(f"starting a training answered {status}: {str(body)[:200]}")
    run_id = _wait_running(port, body["job_id"])
    pixels = json.dumps(sample[0].round(3).tolist())
    clients = subprocess.Popen(
        [
            sys.executable,
            "-c",
            LOAD_CLIENTS,
            str(port),
            str(p["clients"]),
            str(p["load_seconds"] + 2),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert clients.stdin is not None and clients.stdout is not None
        clients.stdin.write(pixels + "\n")
        clients.stdin.close()
        if clients.stdout.readline().strip() != "ready":
            raise RuntimeError("the load clients did not start")
        time.sleep(1.0)  # let the clients ramp up
        ms: list[float] = []
        end = time.monotonic() + p["load_seconds"]
        while time.monotonic() < end and len(ms) < 10 * p["calls"]:
            started = time.perf_counter()
            classify()
            ms.append((time.perf_counter() - started) * 1e3)
        counts = json.loads(clients.stdout.readline() or "{}")
    finally:
        try:
            clients.wait(timeout=p["load_seconds"] + 60)
        except subprocess.TimeoutExpired:
            clients.kill()
        if run_id:
            request(port, "POST", f"/api/runs/{run_id}/stop")
    _latency_row(res, ms)
    added, failed = counts.get("added", 0), counts.get("failed", 0)
    res.extra.update(
        samples_added=added,
        add_errors=failed,
        training_run=run_id,
        load_1min_after=load_average(),
    )
    res.note = f"{added} samples added by {p['clients']} clients" + (
        f", {failed} failed" if failed else ""
    )


def _wait_running(port: int, job: str, timeout_s: float = 60.0) -> str | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, body = request(port, "GET", f"/api/jobs/{job}")
        if status == 200 and body.get("status") == "running" and body.get("run_id"):
            return str(body["run_id"])
        if status == 200 and body.get("status") not in ("queued", "running"):
            raise RuntimeError(f"the training job ended {body.get('status')} before the load")
        time.sleep(0.2)
    raise RuntimeError("the training job did not start within a minute")


# -- rendering --------------------------------------------------------------------------------

COLUMNS = ["path", "settings", "p50 ms", "p99 ms", "mean ms", "samples/s", "notes"]


def _cells(r: dict[str, Any]) -> list[str]:
    e = r["extra"]
    return [
        r["peer"],
        r["settings"],
        fmt(e.get("p50_ms"), ".2f"),
        fmt(e.get("p99_ms"), ".2f"),
        fmt(e.get("mean_ms"), ".2f"),
        fmt(e.get("samples_per_second"), ".0f"),
        join_notes(
            r["note"],
            f"server's own ms p50 {e['server_ms_p50']:.2f}, p99 {e['server_ms_p99']:.2f}"
            if "server_ms_p50" in e
            else "",
            f"batch p50 {e['batch_ms_p50']:.1f} ms" if "batch_ms_p50" in e else "",
            load_note(e),
        ),
    ]


def targets(record: dict[str, Any]) -> list[str]:
    p = {r["peer"]: r for r in record["results"]}
    lines = []
    for name, limit in (("Python API, one sample", 5.0), ("HTTP, one sample", 20.0)):
        r = p.get(name)
        if r is None or r["status"] != "ok":
            lines.append(
                f"p99 through {name.split(',')[0]} ≤ {limit:.0f} ms: not measured ({r['note'] if r else 'no row'})"
            )
            continue
        p99 = r["extra"]["p99_ms"]
        lines.append(
            f"p99 through {name.split(',')[0]} ≤ {limit:.0f} ms: "
            f"{'**met**' if p99 <= limit else '**missed**'} ({p99:.2f} ms)"
        )
    return lines


def section(record: dict[str, Any]) -> str:
    prm = record["params"]
    lines = [
        f"- **Model:** `smiley-cnn` trained for {prm['epochs']} epoch(s) on "
        f"`smileys:per_class={prm['per_class']}` (latency does not depend on how well it "
        "learnt); input one (1, 28, 28) drawing in [0, 1].",
        "- **HTTP:** `lernwerk serve` in a subprocess on 127.0.0.1 over the same workspace; "
        "the client is Python's `http.client` on one keep-alive connection, in this process. "
        "Under load: a training (`smiley-cnn` on `smileys:per_class=200`) runs in the server's "
        f"worker while {prm['clients']} client threads in another process add drawn samples; "
        "all on the same 2 cores as the server.",
        "",
        markdown_table(COLUMNS, [_cells(r) for r in record["results"]], "llrrrrl"),
        "",
        *targets_block(targets(record)),
    ]
    return "\n".join(lines)


def console(record: dict[str, Any]) -> str:
    rows = [[c[0], c[2], c[3], c[5], c[6]] for c in map(_cells, record["results"])]
    return console_table(["path", "p50 ms", "p99 ms", "samples/s", "notes"], rows, "lrrrl")
