"""Where verdicts go besides the log: a webhook (HTTP POST of JSON) and an MQTT topic.

Each sink takes a batch of (outbox id, JSON payload) and answers which ids were delivered;
what was not stays in the outbox and is tried again with backoff (`SinkWorker`). Delivery
is at least once: a receiver drops a repeat by the message's `file_id`.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from lernwerk.errors import SpecError
from lernwerk.store.watch import WatchState

BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.5, 30.0
SEND_TIMEOUT_S = 10.0
RECONNECT_MAX_S = 5  # paho's longest pause between attempts to reach a lost broker


class Undelivered(Exception):
    """A batch went out only in part: `delivered` made it, the rest waits."""

    def __init__(self, reason: str, delivered: list[int]) -> None:
        super().__init__(reason)
        self.delivered = delivered


def parse_webhook(url: str) -> str:
    """The URL, checked to be http(s) with a host.

    Raises:
        SpecError: another scheme, or no host.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SpecError(
            f"--webhook {url!r} is not an http(s) URL; give e.g. http://host:8000/verdicts",
            where="webhook",
        )
    return url


def parse_mqtt(target: str) -> tuple[str, int, str]:
    """`host:port/topic` (port 1883 when left out) as (host, port, topic).

    Raises:
        SpecError: no host or topic, a port that is not 1..65535, or a wildcard topic.
    """
    example = "give host:port/topic, e.g. localhost:1883/line1/verdicts"
    address, _, topic = target.partition("/")
    host, _, port_text = address.rpartition(":") if ":" in address else (address, "", "1883")
    if not host or not topic:
        raise SpecError(f"--mqtt {target!r} lacks a {'host' if not host else 'topic'}; {example}")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise SpecError(f"--mqtt {target!r}: port {port_text!r} is not 1..65535; {example}")
    if "+" in topic or "#" in topic:
        raise SpecError(f"--mqtt {target!r}: a topic to publish to takes no wildcards (+, #)")
    return host, int(port_text), topic


class WebhookSink:
    """POSTs each verdict as one JSON object; any 2xx answer counts as delivered."""

    name = "webhook"
    connections = 0  # no connection kept: a backoff runs its course

    def __init__(self, url: str) -> None:
        self.url = parse_webhook(url)

    def start(self) -> None:
        """Nothing to open: a receiver that is down is retried like any failed send."""

    def send(self, batch: list[tuple[int, str]], file_ids: list[str]) -> list[int]:
        delivered: list[int] = []
        for (row_id, payload), file_id in zip(batch, file_ids, strict=True):
            request = urllib.request.Request(
                self.url,
                data=payload.encode(),
                method="POST",
                headers={"Content-Type": "application/json", "Idempotency-Key": file_id},
            )
            try:
                with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_S) as answer:
                    answer.read()
            except urllib.error.HTTPError as exc:
                raise Undelivered(
                    f"{self.url} answered {exc.code} {exc.reason}", delivered
                ) from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise Undelivered(f"{self.url}: {reason}", delivered) from None
            delivered.append(row_id)
        return delivered

    def stop(self) -> None:
        """Nothing held open."""


class MqttSink:
    """Publishes each verdict to a topic with QoS 1 (paho-mqtt); reconnects by itself.

    A message handed to paho stays tracked until the broker acknowledges it, so a slow
    acknowledgement is waited for, not answered with a second copy.
    """

    name = "mqtt"

    def __init__(self, target: str, client_id: str) -> None:
        try:
            import paho.mqtt.client as mqtt
        except ImportError:
            raise SpecError("--mqtt needs paho-mqtt: pip install 'paho-mqtt>=2,<3'") from None
        self.host, self.port, self.topic = parse_mqtt(target)
        self._mqtt = mqtt
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=RECONNECT_MAX_S)
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(100)
        self._connected = threading.Event()
        self.connections = 0  # how often a connection was made: a new one cuts a backoff short
        self._refused: str | None = None
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *args: self._connected.clear()
        self._pending: dict[int, Any] = {}  # outbox id -> paho's MQTTMessageInfo

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self._refused = str(reason)
        else:
            self.connections += 1
            self._connected.set()

    def start(self, timeout: float = 5.0) -> None:
        """Connect to the broker now.

        Raises:
            SpecError: the broker cannot be reached or refuses the connection.
        """
        where = f"{self.host}:{self.port}"
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise SpecError(f"cannot reach the MQTT broker at {where}: {reason}") from None
        self.client.loop_start()
        if not self._connected.wait(timeout) or self._refused:
            self.stop()
            why = self._refused or f"no answer within {timeout:g} s"
            raise SpecError(f"the MQTT broker at {where} did not accept the connection: {why}")

    def send(self, batch: list[tuple[int, str]], file_ids: list[str]) -> list[int]:
        for row_id, payload in batch:
            if row_id in self._pending:
                continue  # handed to paho already: its acknowledgement is awaited below
            if not self._connected.is_set():
                break
            info = self.client.publish(self.topic, payload, qos=1)
            if info.rc not in (self._mqtt.MQTT_ERR_SUCCESS, self._mqtt.MQTT_ERR_NO_CONN):
                break
            self._pending[row_id] = info  # NO_CONN: paho keeps it and sends it on reconnect
            if info.rc != self._mqtt.MQTT_ERR_SUCCESS:
                break
        deadline = time.monotonic() + SEND_TIMEOUT_S
        delivered = []
        for row_id, _ in batch:
            info = self._pending.get(row_id)
            if info is None:
                break
            while not info.is_published() and time.monotonic() < deadline:
                if not self._connected.is_set():
                    break
                try:
                    info.wait_for_publish(timeout=0.2)
                except (RuntimeError, ValueError):  # queued while the connection was down
                    time.sleep(0.05)
            if not info.is_published():
                break
            delivered.append(row_id)
            del self._pending[row_id]
        if len(delivered) < len(batch):
            state = "no acknowledgement" if self._connected.is_set() else "not connected"
            raise Undelivered(f"MQTT broker {self.host}:{self.port}: {state}", delivered)
        return delivered

    def stop(self) -> None:
        """Disconnect and stop paho's thread."""
        self.client.disconnect()
        self.client.loop_stop()


Sink = WebhookSink | MqttSink


class SinkWorker(threading.Thread):
    """Sends a sink's outbox, oldest first, in a thread; backs off after a failure.

    `notify(text)` hears about an outage once when it starts and once when it ends.
    """

    def __init__(
        self, sink: Sink, state: WatchState, stop: threading.Event, notify: Callable[[str], None]
    ) -> None:
        super().__init__(name=f"lernwerk-{sink.name}", daemon=True)
        self.sink, self.state, self.stopping, self.notify = sink, state, stop, notify
        self.wake = threading.Event()
        self.sent = 0

    def run(self) -> None:
        delay, failing = BACKOFF_FIRST_S, False
        try:
            while not self.stopping.is_set():
                batch = self.state.outbox(self.sink.name)
                if not batch:
                    self.wake.wait(0.5)
                    self.wake.clear()
                    continue
                file_ids = [_file_id(p) for _, p in batch]
                try:
                    done, error = self.sink.send(batch, file_ids), None
                except Undelivered as exc:
                    done, error = exc.delivered, str(exc)
                except Exception as exc:  # an unforeseen failure must not end the delivery
                    done, error = [], f"{type(exc).__name__}: {exc}"
                self.state.delivered(done)
                self.sent += len(done)
                if error is None:
                    if failing:
                        self.notify(f"{self.sink.name}: delivering again")
                    delay, failing = BACKOFF_FIRST_S, False
                    continue
                if not failing:
                    self.notify(
                        f"{self.sink.name}: {error}; retrying with backoff, nothing is lost"
                    )
                failing = True
                self._back_off(delay * (0.75 + random.random() / 2))
                delay = min(2 * delay, BACKOFF_MAX_S)
        finally:
            self.state.close()

    def _back_off(self, seconds: float) -> None:
        """Wait `seconds`, or less when the sink has connected anew meanwhile."""
        connections, deadline = self.sink.connections, time.monotonic() + seconds
        while time.monotonic() < deadline and self.sink.connections == connections:
            if self.stopping.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
                return


def _file_id(payload: str) -> str:
    return str(json.loads(payload).get("file_id", ""))
