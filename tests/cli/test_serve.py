"""`lernwerk serve --demo`: the built-in datasets stored once, missing ones passed over."""

from __future__ import annotations

from pathlib import Path

import lernwerk
from lernwerk.cli.serve import DEMO_DATASETS, fill_demo_workspace


def test_demo_datasets_are_stored_once_and_unknown_ones_skipped(tmp_path: Path) -> None:
    ws = lernwerk.Workspace(tmp_path / "ws")
    assert set(DEMO_DATASETS) == {"smileys", "digits", "xor", "solder", "process"}
    assert fill_demo_workspace(ws, ("xor", "not-a-builtin")) == ["xor"]
    assert ws.store.has_dataset("xor") and not ws.store.has_dataset("not-a-builtin")
    assert fill_demo_workspace(ws, ("xor",)) == []  # already there: kept as it is


def test_serve_is_a_command(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from lernwerk.cli import app

    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--workspace", "--host", "--port", "--token", "--open", "--demo"):
        assert option in result.output


def test_a_port_in_use_is_one_line_before_anything_starts(tmp_path: Path, capsys) -> None:
    import socket

    from lernwerk.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", "--workspace", str(tmp_path / "ws"), "--port", str(port)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err == f"error: port {port} on 127.0.0.1 is in use; give another with --port\n"
    assert not (tmp_path / "ws").exists()  # nothing was stored
