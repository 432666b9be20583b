"""`lernwerk serve`: the web workbench on a workspace (FastAPI under uvicorn)."""

from __future__ import annotations

import errno
import os
import secrets
import socket
import threading
import webbrowser
from pathlib import Path

import typer

from lernwerk import api
from lernwerk.cli.common import app, err
from lernwerk.cli.common import state as _state
from lernwerk.errors import SpecError

# The built-in datasets `--demo` stores in the workspace, for the page to start from.
DEMO_DATASETS = ("smileys", "digits", "xor", "solder", "process")


def fill_demo_workspace(ws: api.Workspace, names: tuple[str, ...] = DEMO_DATASETS) -> list[str]:
    """Store each built-in of `names` that the workspace does not hold yet (skipping any
    this version does not have); returns the names stored now."""
    builtins = {d["name"] for d in ws.list_datasets() if d["source"] == "builtin"}
    created = []
    for name in names:
        if name not in builtins or ws.store.has_dataset(name):
            continue
        err.print(f"storing the built-in dataset [bold]{name}[/] in the workspace …")
        ws.create_dataset(name, name)
        created.append(name)
    return created


@app.command()
def serve(
    workspace: Path | None = typer.Option(
        None,
        "--workspace",
        "-w",
        help="Workspace directory (default $LERNWERK_HOME or ./lernwerk-workspace).",
    ),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on; any but this machine's needs a token."
    ),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    token: str | None = typer.Option(
        None, "--token", help="Access token every request must carry (generated for other hosts)."
    ),
    open_browser: bool = typer.Option(False, "--open", help="Open the page in the browser."),
    demo: bool = typer.Option(
        False, "--demo", help="First store the built-in demo datasets (smileys, digits, xor, …)."
    ),
    max_trainings: int | None = typer.Option(
        None,
        "--max-trainings",
        "--workers",
        min=1,
        max=64,
        help="Trainings at once (worker processes); more wait in a fair queue. Default: 1, "
        "in a workshop the machine's cores.",
    ),
    workshop: bool = typer.Option(
        False,
        "--workshop",
        help="A workshop: everyone who opens the address joins under a name and gets a "
        "workspace of their own; the server's token is the trainer's (room view).",
    ),
) -> None:
    """Serve the web workbench and its JSON API (docs at /docs) on a workspace."""
    import uvicorn

    from lernwerk.serving import Settings, create_app
    from lernwerk.serving.settings import LOCAL_HOSTS

    _check_port_free(host, port)
    ws = api.Workspace(workspace or _state["workspace"])
    local = host in LOCAL_HOSTS
    generated = (workshop or not local) and not token
    if max_trainings is None:
        max_trainings = max(1, min(64, os.cpu_count() or 1)) if workshop else 1
    if generated:
        token = secrets.token_urlsafe(24)
    if demo:
        fill_demo_workspace(ws)
    path = ws.path
    settings = Settings(
        workspace=path,
        host=host,
        port=port,
        token=token,
        max_concurrent_trainings=max_trainings,
        workshop=workshop,
    )
    application = create_app(settings)
    shown = lan_address(ipv6=host == "::") if host in ("0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    if workshop:
        typer.echo(f"lernwerk runs a workshop in {settings.workspace}")
        typer.echo(f"participants open: http://{shown}:{port}/  (each joins under a name)")
        typer.echo(f"the trainer's room: {url}#/room")
        typer.echo(f"{max_trainings} trainings at once; more wait in a fair queue")
        if local:
            typer.echo("only this machine can reach it: give --host 0.0.0.0 for the room's laptops")
    else:
        typer.echo(f"lernwerk serves {settings.workspace} at {url}")
    if token:
        typer.echo(f"access token{' (generated)' if generated else ''}: {token}")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run()


def lan_address(ipv6: bool = False) -> str:
    """The address other machines reach this one by: the source address of the route
    out (a UDP "connect" sends no packet and needs no network), else the host name."""
    family, target = (socket.AF_INET6, "2001:db8::1") if ipv6 else (socket.AF_INET, "192.0.2.1")
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((target, 9))  # documentation addresses: nothing is sent
            address = probe.getsockname()[0]
        if not address.startswith(("127.", "0.")) and address not in ("::1", "::"):
            return address
    except OSError:
        pass
    return socket.gethostname() or ("::1" if ipv6 else "127.0.0.1")


def _check_port_free(host: str, port: int) -> None:
    """Refuse, in one line, an address that is taken, before anything is printed or stored
    (uvicorn would log several lines and exit 3). A bind races with other programs, so
    uvicorn still has the last word."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                message = f"port {port} on {host} is in use; give another with --port"
            else:
                message = f"{host}:{port} cannot be used ({exc.strerror}); check --host and --port"
            raise SpecError(message, where="port") from None
