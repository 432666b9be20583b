"""Builders for the server tests: free ports, waiting, servers in a subprocess, images."""

from __future__ import annotations

import base64
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from PIL import Image

from lernwerk.serving import Settings, create_app

SIZE = 8  # the side of the test images: small, so that everything trains in a second


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, every: float = 0.1) -> Any:
    """Poll until `predicate()` is truthy; return its value (fail after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        time.sleep(every)


class ThreadServer:
    """uvicorn in a thread; `url` once it listens."""

    def __init__(self, workspace: Path, **settings: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(Settings(workspace=workspace, port=self.port, **settings))
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


class ProcessServer:
    """`python -m lernwerk.cli serve …` in a subprocess; stdout is kept in `lines`."""

    def __init__(self, workspace: Path, *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "lernwerk.cli", "serve", "-w", str(workspace)]
        self.process = subprocess.Popen(
            [*cmd, "--port", str(self.port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_ready(self, timeout: float = 60, headers: dict[str, str] | None = None) -> None:
        def up() -> bool:
            if self.process.poll() is not None:
                raise AssertionError("the server exited:\n" + "\n".join(self.lines))
            try:
                return httpx.get(
                    self.url + "/api/health", headers=headers, timeout=2
                ).status_code in (200, 401)
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=timeout, every=0.2)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def pattern(label: int, rng: np.random.Generator, size: int = SIZE) -> list[list[float]]:
    """An easy image: a bright left half (class 0) or right half (class 1), with noise."""
    img = rng.uniform(0, 0.2, (size, size))
    if label == 0:
        img[:, : size // 2] += 0.7
    else:
        img[:, size // 2 :] += 0.7
    return np.clip(img, 0, 1).round(3).tolist()


def png_bytes(pixels: list[list[float]] | np.ndarray, mode: str = "L") -> bytes:
    array = (np.asarray(pixels) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, "PNG")
    return buffer.getvalue()


def data_url(pixels: list[list[float]]) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(pixels)).decode()


def make_image_dataset(
    client: httpx.Client,
    name: str,
    per_class: int = 10,
    classes: tuple[str, ...] = ("left", "right"),
) -> dict[str, Any]:
    """An image dataset of SIZE×SIZE greys, `per_class` easy samples per class."""
    r = client.post(
        "/api/datasets",
        json={"name": name, "empty": {"classes": list(classes), "image_size": SIZE}},
    )
    assert r.status_code == 201, r.text
    rng = np.random.default_rng(0)
    for i in range(per_class * len(classes)):
        k = i % len(classes)
        r = client.post(
            f"/api/datasets/{name}/samples",
            json={"label": classes[k], "pixels": pattern(k % 2, rng)},
        )
        assert r.status_code == 201, r.text
    return client.get(f"/api/datasets/{name}").json()
