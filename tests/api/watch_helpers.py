"""What the hot-folder tests start for real: a mosquitto broker, an MQTT subscriber, an
HTTP receiver, a trained run, and images arriving in a folder."""

from __future__ import annotations

import csv
import getpass
import io
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
from PIL import Image

import lernwerk
from lernwerk.data.synth import smileys

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def train_smiley_run(ws: Path) -> str:
    """A smiley-cnn trained for one epoch on a few smileys; returns the run id."""
    return lernwerk.Workspace(ws).fit("smileys:per_class=20", "smiley-cnn", epochs=1, seed=0).id


def smiley_png(i: int) -> bytes:
    """A 28×28 grey PNG of a smiley."""
    x, _ = smileys.draw_smileys(1, i)  # (classes, 1, 28, 28) in [0, 1]
    buffer = io.BytesIO()
    Image.fromarray((x[i % len(x), 0] * 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_slowly(path: Path, data: bytes, pause: float = 0.15) -> None:
    """Write a file in two halves with a pause: a reader that does not wait sees half."""
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
        f.flush()
        time.sleep(pause)
        f.write(data[len(data) // 2 :])


def read_log(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class Broker:
    """Debian's mosquitto on a free port of 127.0.0.1; keeps sessions across a restart."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"persistence true\npersistence_location {folder}/\n"
            f"user {getpass.getuser()}\n"  # as root it would switch to `mosquitto` and not save
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.folder / "mosquitto.log", "ab") as log:
            self.proc = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(self._listening, 10, f"mosquitto on port {self.port}")

    def _listening(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError((self.folder / "mosquitto.log").read_text())
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


class Subscriber:
    """An MQTT client that collects every message on a topic (a persistent session: it
    misses nothing published while it reconnects after a broker restart)."""

    def __init__(self, port: int, topic: str) -> None:
        self.topic = topic
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"lernwerk-test-{port}",
            clean_session=False,
        )
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._subscribed.wait(10), "the test subscriber got no SUBACK"

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        with self._lock:
            self.messages.append(json.loads(message.payload))

    def ids(self) -> list[str]:
        with self._lock:
            return [m["file_id"] for m in self.messages]

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Receiver:
    """A local HTTP receiver of webhook POSTs; `status` is what it answers."""

    def __init__(self) -> None:
        self.port = free_port()
        self.bodies: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self.status = 200
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.status == 200:
                    receiver.bodies.append(json.loads(body))
                    receiver.keys.append(self.headers["Idempotency-Key"])
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/verdicts"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
