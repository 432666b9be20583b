"""`lernwerk serve` in a subprocess and a small JSON client for it, for the predict suite.

Stdlib only: the server is measured from outside, over HTTP on 127.0.0.1, never imported.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import importable

SERVER_START_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lernwerk_command() -> list[str]:
    return [sys.executable, "-m", "lernwerk.cli"]


def server_available() -> str | None:
    """None when this lernwerk has `lernwerk serve`, else why not (one line)."""
    missing = [m for m in ("fastapi", "uvicorn", "lernwerk.cli.serve") if not importable(m)]
    if missing:
        return f"missing: {', '.join(missing)}"
    return None


class Server:
    """`lernwerk serve` on 127.0.0.1:<free port> over a workspace, in a subprocess."""

    def __init__(self, workspace: Path, log_file: Path) -> None:
        self.port = _free_port()
        self.log_file = log_file
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._log = open(log_file, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                *_lernwerk_command(),
                "--workspace",
                str(workspace),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def wait_ready(self, timeout_s: float = SERVER_START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}: {self.tail()}")
            try:
                status, _ = request(self.port, "GET", "/api/health")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer /api/health within {timeout_s:.0f} s")

    def tail(self) -> str:
        try:
            return " | ".join(self.log_file.read_text().strip().splitlines()[-3:])[:300]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


class Client:
    """One keep-alive connection to 127.0.0.1:port sending JSON.

    TCP_NODELAY is on: without it, http.client's separate header and body writes meet
    Nagle's algorithm and delayed ACKs, and every request waits ~40 ms for nothing. A
    connection the server closed (idle keep-alive timeout) is opened again once.
    """

    def __init__(self, port: int, timeout_s: float = 60.0) -> None:
        self.port, self.timeout_s = port, timeout_s
        self.conn: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout_s)
        conn.connect()
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = self._connect()
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt:
                    raise
        try:
            payload = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            payload = raw[:200]
        return resp.status, payload

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def request(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One JSON request on a connection of its own."""
    client = Client(port)
    try:
        return client.request(method, path, body)
    finally:
        client.close()


# The load: N client threads in a process of their own (stdlib only, so it starts in a
# moment), each adding the drawing it reads on stdin to `bench-drawn` over its own
# keep-alive connection until the time is up; it prints "ready", then {"added", "failed"}.
LOAD_CLIENTS = """
import http.client, json, socket, sys, threading, time
port, n, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
pixels = json.loads(sys.stdin.readline())
counts = {"added": 0, "failed": 0}
lock = threading.Lock()
stop_at = time.monotonic() + seconds
def connect():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.connect()
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c
def client(i):
    body = json.dumps({"label": "smile" if i % 2 else "sad", "pixels": pixels}).encode()
    conn = None
    while time.monotonic() < stop_at:
        try:
            conn = conn or connect()
            conn.request("POST", "/api/datasets/bench-drawn/samples", body=body,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            ok = resp.status == 201
        except (OSError, http.client.HTTPException):
            ok = False
            if conn is not None:
                conn.close()
            conn = None
            time.sleep(0.05)
        with lock:
            counts["added" if ok else "failed"] += 1
threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
print("ready", flush=True)
for t in threads:
    t.start()
for t in threads:
    t.join(timeout=seconds + 30)
print(json.dumps(counts), flush=True)
"""
