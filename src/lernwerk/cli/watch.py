"""`lernwerk watch`: a hot folder next to the line, each new file judged once and handed on."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import typer

from lernwerk.cli.common import app, err, open_workspace, out


@app.command()
def watch(
    run: str = typer.Argument(..., help="Run id, id prefix or name."),
    folder: Path = typer.Argument(..., help="The folder new files arrive in."),
    log: Path | None = typer.Option(
        None,
        "--log",
        help="CSV file the verdicts are appended to (default: in the workspace's watch/ folder).",
    ),
    webhook: str | None = typer.Option(
        None, "--webhook", help="POST each verdict as JSON to this http(s) URL."
    ),
    mqtt: str | None = typer.Option(
        None, "--mqtt", help="Publish each verdict to host:port/topic (QoS 1)."
    ),
    interval: float = typer.Option(0.5, "--interval", help="Seconds between looks at the folder."),
    settle: float = typer.Option(
        1.0, "--settle", help="Seconds a file must stay unchanged before it is read."
    ),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Watch subfolders too."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print no line per verdict."),
) -> None:
    """Watch a hot folder: classify every new file once, log the verdict, hand it on.

    State lives in the workspace: a restart judges no file twice and misses none that
    arrived meanwhile; verdicts wait there until the webhook or broker has them.
    Ctrl-C stops.
    """
    from lernwerk.api.watch import Watcher

    watcher = Watcher(
        open_workspace().run(run),
        folder,
        log=log,
        webhook=webhook,
        mqtt=mqtt,
        interval=interval,
        settle=settle,
        recursive=recursive,
        notify=lambda text: err.print(text, highlight=False, soft_wrap=True),
    )
    stop = threading.Event()
    previous = _on_stop_signals(stop)
    try:
        watcher.start()
        sinks = ", ".join(s.name for s in watcher.sinks) or "no sink"
        err.print(
            f"watching {watcher.folder} with run {watcher.run.id}; log {watcher.log_path}; "
            f"sending to {sinks}; Ctrl-C stops",
            highlight=False,
            soft_wrap=True,
        )
        watcher.serve(stop, on_verdict=None if quiet else _print_verdict)
    finally:
        summary = watcher.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    waiting = ", ".join(f"{n} for {s}" for s, n in summary["waiting"].items())
    err.print(
        f"stopped: {summary['judged']} files judged"
        + (f"; messages waiting in the workspace: {waiting}" if waiting else ""),
        highlight=False,
        soft_wrap=True,
    )


def _print_verdict(row: dict[str, Any]) -> None:
    detail = row.get("probability", row.get("score", row.get("reason", "")))
    if isinstance(detail, float):
        detail = f"{detail:.4g}"
    out.print(f"{row['file']}\t{row['verdict']}\t{detail}", highlight=False, markup=False)


def _on_stop_signals(stop: threading.Event) -> dict[int, Any]:
    """Ctrl-C and SIGTERM end the loop after the file in hand; a second Ctrl-C interrupts."""

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.getsignal(sig)
            signal.signal(sig, handler)
    return previous
