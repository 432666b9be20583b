"""A small WebDriver BiDi client for Firefox: what the browser tests need, nothing more.

Playwright drives Chromium here but cannot drive Debian's `firefox-esr`: its `moz-firefox`
channel sends BiDi commands that Firefox ESR does not know yet (`emulation.
setMediaFeaturesOverride`), and its own patched Firefox cannot be downloaded. Firefox
speaks WebDriver BiDi itself, so the tests talk to it directly: a headless Firefox on a
fresh profile (`--remote-debugging-port 0`), one websocket to its `/session`, commands
by id, events to listeners. The websocket is the few lines of RFC 6455 a client needs
(text frames, pings, close), so that no package is added for it.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# A fresh profile that stays quiet: no updates, telemetry, first-run pages or
# background requests, English as the page's language (`navigator.language`).
PREFS: dict[str, Any] = {
    "app.update.auto": False,
    "app.update.checkInstallTime": False,
    "app.update.disabledForTesting": True,
    "app.normandy.enabled": False,
    "browser.aboutwelcome.enabled": False,
    "browser.newtabpage.enabled": False,
    "browser.ping-centre.telemetry": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "browser.search.update": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "extensions.update.enabled": False,
    "intl.accept_languages": "en-US",
    "intl.locale.requested": "en-US",
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "toolkit.telemetry.server": "",
}
LISTENING = re.compile(r"WebDriver BiDi listening on (ws://\S+)")
RECORD_UNCAUGHT = """() => {
  window.__uncaught = [];
  window.addEventListener("error", (ev) => {
    if (ev.error) window.__uncaught.push(`${ev.error.name}: ${ev.error.message}`);
  });
  window.addEventListener("unhandledrejection", (ev) => {
    window.__uncaught.push(`unhandled rejection: ${ev.reason?.message ?? ev.reason}`);
  });
}"""
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455: the key's accept suffix


class BidiError(RuntimeError):
    """A command the browser refused, or a script that threw."""


class WebSocket:
    """A websocket client for text messages (RFC 6455): send masked, receive whole."""

    def __init__(self, url: str, timeout: float = 10) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        self.sock.settimeout(None)  # the reader thread blocks until a message or the close
        self.rfile = self.sock.makefile("rb")
        self.lock = threading.Lock()
        key = base64.b64encode(os.urandom(16))
        request = (
            f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        status = self.rfile.readline().decode("latin-1")
        headers = {}
        while (line := self.rfile.readline().decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        if " 101 " not in status or headers.get("sec-websocket-accept") != accept:
            raise BidiError(f"websocket handshake with {url} failed: {status.strip()}")

    def _frame(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = os.urandom(4)
        key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
        masked = (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")
        with self.lock:
            self.sock.sendall(header + mask + masked)

    def send(self, text: str) -> None:
        self._frame(0x1, text.encode())

    def recv(self) -> str | None:
        """The next text message; None once the connection is closed."""
        parts: list[bytes] = []
        while True:
            head = self.rfile.read(2)
            if len(head) < 2:
                return None
            fin, opcode, n = head[0] & 0x80, head[0] & 0x0F, head[1] & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self.rfile.read(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self.rfile.read(8))
            mask = self.rfile.read(4) if head[1] & 0x80 else b""
            payload = self.rfile.read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:  # close
                return None
            if opcode == 0x9:  # ping
                self._frame(0xA, payload)
                continue
            if opcode in (0x0, 0x1):
                parts.append(payload)
                if fin:
                    return b"".join(parts).decode()

    def close(self) -> None:
        try:
            self._frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


class Session:
    """One BiDi session: `command()` waits for its answer; events go to listeners."""

    def __init__(self, url: str) -> None:
        self.ws = WebSocket(url)
        self.ids = itertools.count(1)
        self.answers: dict[int, dict[str, Any]] = {}
        self.arrived = threading.Condition()
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self.closed = False
        threading.Thread(target=self._read, daemon=True).start()
        self.capabilities = self.command("session.new", {"capabilities": {}})["capabilities"]

    def _read(self) -> None:
        while (text := self.ws.recv()) is not None:
            message = json.loads(text)
            if message.get("type") == "event":
                for listener in list(self.listeners):
                    listener(message["method"], message["params"])
            elif "id" in message:
                with self.arrived:
                    self.answers[message["id"]] = message
                    self.arrived.notify_all()
        with self.arrived:
            self.closed = True
            self.arrived.notify_all()

    def command(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30):
        """Send a command; its `result`, or BidiError with the browser's message."""
        id_ = next(self.ids)
        self.ws.send(json.dumps({"id": id_, "method": method, "params": params or {}}))
        with self.arrived:
            if not self.arrived.wait_for(lambda: id_ in self.answers or self.closed, timeout):
                raise BidiError(f"{method}: no answer within {timeout} s")
            if id_ not in self.answers:
                raise BidiError(f"{method}: the browser closed the connection")
            answer = self.answers.pop(id_)
        if answer.get("type") == "error":
            raise BidiError(f"{method}: {answer.get('error')}: {answer.get('message')}")
        return answer["result"]

    def close(self) -> None:
        self.ws.close()


class Tab:
    """A top-level browsing context: navigate, run scripts, move the mouse, screenshot."""

    def __init__(self, session: Session, context: str) -> None:
        self.session = session
        self.context = context
        self.errors: list[str] = []  # JavaScript errors and console.error lines of this tab
        session.listeners.append(self._on_event)

    def _on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "log.entryAdded" and params.get("source", {}).get("context") == self.context:
            if params.get("level") == "error":
                self.errors.append(f"{params.get('type')}: {params.get('text')}")

    def record_uncaught(self) -> None:
        """Keep the page's uncaught errors and rejections in `window.__uncaught`, from
        before its own scripts run: a page that calls `preventDefault()` on them (to show
        its own message) hides them from the browser's log."""
        self.session.command(
            "script.addPreloadScript",
            {"functionDeclaration": RECORD_UNCAUGHT, "contexts": [self.context]},
        )

    def uncaught(self) -> list[str]:
        found = self.evaluate("window.__uncaught")
        if found is None:
            raise BidiError("the page has no error recorder: call record_uncaught() first")
        return found

    def set_viewport(self, width: int, height: int) -> None:
        self.session.command(
            "browsingContext.setViewport",
            {"context": self.context, "viewport": {"width": width, "height": height}},
        )

    def goto(self, url: str) -> None:
        self.session.command(
            "browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"}
        )

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited), through JSON."""
        source = f"(async () => JSON.stringify((await ({expression})) ?? null))()"
        result = self.session.command(
            "script.evaluate",
            {"expression": source, "target": {"context": self.context}, "awaitPromise": True},
        )
        if result["type"] == "exception":
            details = result["exceptionDetails"]
            raise BidiError(f"{expression!r} threw: {details.get('text')}")
        return json.loads(result["result"]["value"])

    def wait_for(self, expression: str, timeout: float = 30, what: str = "") -> Any:
        """Poll a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout} s waiting for {what or expression}"
                )
            time.sleep(0.1)

    def pointer(self, strokes: list[list[tuple[float, float]]]) -> None:
        """Mouse strokes in viewport pixels: per stroke press, move through, release."""
        actions: list[dict[str, Any]] = []
        for stroke in strokes:
            (x, y), rest = stroke[0], stroke[1:]
            actions += [
                {"type": "pointerMove", "x": round(x), "y": round(y)},
                {"type": "pointerDown", "button": 0},
                *(
                    {"type": "pointerMove", "x": round(x), "y": round(y), "duration": 20}
                    for x, y in rest
                ),
                {"type": "pointerUp", "button": 0},
            ]
        self.session.command(
            "input.performActions",
            {
                "context": self.context,
                "actions": [
                    {
                        "type": "pointer",
                        "id": "mouse",
                        "parameters": {"pointerType": "mouse"},
                        "actions": actions,
                    }
                ],
            },
        )

    def click(self, selector: str) -> None:
        """Scroll the element into view and click its middle with the mouse."""
        x, y = self.evaluate(
            f"""(() => {{
              const el = document.querySelector({json.dumps(selector)});
              if (!el) throw new Error("no element matches " + {json.dumps(selector)});
              el.scrollIntoView({{ block: "center" }});
              const r = el.getBoundingClientRect();
              return [r.x + r.width / 2, r.y + r.height / 2];
            }})()"""
        )
        self.pointer([[(x, y)]])

    def screenshot(self, path: Path) -> Path:
        """The whole page (not only the viewport) as a PNG."""
        result = self.session.command(
            "browsingContext.captureScreenshot", {"context": self.context, "origin": "document"}
        )
        path.write_bytes(base64.b64decode(result["data"]))
        return path


class Firefox:
    """A headless Firefox on a fresh temporary profile, driven over WebDriver BiDi."""

    def __init__(self, executable: str, startup_s: float = 60) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="lernwerk-firefox-"))
        (self.profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PREFS.items())
        )
        env = {**os.environ, "MOZ_CRASHREPORTER_DISABLE": "1", "MOZ_HEADLESS": "1"}
        self.process = subprocess.Popen(
            [executable, "-profile", str(self.profile), "-headless", "-no-remote"]
            + ["--remote-debugging-port", "0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.log: list[str] = []
        self.listening = threading.Event()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        if not self.listening.wait(startup_s):
            self.close()
            raise BidiError(
                f"{executable} did not start WebDriver BiDi within {startup_s} s:\n"
                + "\n".join(self.log[-20:])
            )
        self.session = Session(self.url + "/session")
        self.session.command("session.subscribe", {"events": ["log.entryAdded"]})

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:  # read to the end, so that the pipe never fills
            self.log.append(line.rstrip("\n"))
            if (found := LISTENING.search(line)) and not self.listening.is_set():
                self.url = found.group(1)
                self.listening.set()

    def tab(self, width: int = 1280, height: int = 900) -> Tab:
        """The first tab of the window, at the given viewport size."""
        tree = self.session.command("browsingContext.getTree", {"maxDepth": 0})
        tab = Tab(self.session, tree["contexts"][0]["context"])
        tab.set_viewport(width, height)
        return tab

    def close(self) -> None:
        if getattr(self, "session", None) is not None:
            try:
                self.session.command("browser.close", timeout=10)
            except BidiError:
                pass  # the browser closes the connection as it goes
            self.session.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)
