"""The playground: a tiny network on 2D points, trained in a thread, seen many times a second.

A `PlaygroundSession` owns the data, the network and a training thread that runs at full
speed while playing; `frame()` is cheap (one forward pass over a grid of the plane) and
small (the grids as uint8 base64). A `SessionPool` caps how many sessions a server keeps.
"""

from __future__ import annotations

import base64
import csv
import io
import math
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from torch import nn

from lernwerk.errors import Conflict, DataError, NotFound

MAX_LAYERS = 6
MAX_NEURONS = 8
GRID = 50  # the output over a GRID x GRID plane
NEURON_GRID = 16  # each neuron's small map
HISTORY = 400  # loss points kept per curve (older ones thinned)
BUILTIN_2D = ("xor", "circles", "moons", "spiral", "blobs")
REGRESSION_2D = ("plane", "gauss")
FEATURES = ("x", "y", "x2", "y2", "xy", "sinx", "siny")
_BOX = (-6.0, 6.0, -6.0, 6.0)  # the built-ins fill about [-5, 5]^2

Activation = Literal["relu", "tanh", "sigmoid", "linear"]
Optimizer = Literal["sgd", "adam"]
Regularization = Literal["none", "l1", "l2"]
Feature = Literal["x", "y", "x2", "y2", "xy", "sinx", "siny"]


def _json_int(value: Any) -> Any:
    """An integer as JSON Schema has it: 3 and 3.0, not true nor "3"."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expected an integer")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_int)]


class TooManySessions(Conflict):
    """Every playground place is taken by a session used within the last minute (409)."""


class PlaygroundSettings(BaseModel):
    """What a playground trains: data, network and training settings."""

    # strict: no true for 1 nor "1" for 1, as in JSON Schema
    model_config = ConfigDict(extra="forbid", strict=True)

    data: str = Field(
        "xor",
        min_length=1,
        max_length=200,
        description=(
            "xor, circles, moons, spiral, blobs (classification), plane, gauss (regression), "
            "table:NAME (a stored table with two numeric features) or csv (the `csv` text)"
        ),
    )
    csv: str | None = Field(None, max_length=2_000_000, description="CSV text for data=csv")
    noise: float = Field(0.0, ge=0.0, le=0.5)
    train_ratio: float = Field(0.5, ge=0.1, le=0.9)
    samples: JsonInt = Field(400, ge=20, le=2000)
    seed: JsonInt = Field(0, ge=0, le=2**31 - 1)
    hidden: list[Annotated[int, Field(ge=1, le=MAX_NEURONS), BeforeValidator(_json_int)]] = Field(
        default_factory=lambda: [4, 2],
        max_length=MAX_LAYERS,
        description=f"neurons per hidden layer: 0-{MAX_LAYERS} layers of 1-{MAX_NEURONS}",
    )
    activation: Activation = "tanh"
    learning_rate: float = Field(0.03, gt=0.0, le=10.0)
    batch_size: JsonInt = Field(10, ge=1, le=500)
    optimizer: Optimizer = "sgd"
    regularization: Regularization = "none"
    regularization_rate: float = Field(0.0, ge=0.0, le=10.0)
    features: list[Feature] = Field(
        default_factory=lambda: ["x", "y"], min_length=1, max_length=len(FEATURES)
    )

    @field_validator("features")
    @classmethod
    def _distinct(cls, features: list[str]) -> list[str]:
        return list(dict.fromkeys(features))  # one listed twice counts once


# --- data ------------------------------------------------------------------------------


@dataclass
class PlaneData:
    """Points on a plane with a target; `box` is the plane shown (xmin, xmax, ymin, ymax)."""

    name: str
    x: np.ndarray  # (N, 2) float32
    y: np.ndarray  # (N,) int64 classes or float32 values
    task: Literal["classification", "regression"]
    classes: list[str]
    box: tuple[float, float, float, float]
    feature_names: tuple[str, str] = ("x", "y")

    def split(self, train_ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices (train, test), shuffled by `seed`."""
        order = np.random.default_rng(seed + 1).permutation(len(self.x))
        n_train = max(1, min(len(self.x) - 1, round(train_ratio * len(self.x))))
        return order[:n_train], order[n_train:]


def builtin_data(name: str, samples: int, noise: float, seed: int) -> PlaneData:
    """One of the 2D built-ins, or a regression plane ('plane', 'gauss')."""
    if name in REGRESSION_2D:
        rng = np.random.default_rng(seed)
        x = rng.uniform(-5, 5, size=(samples, 2))  # (N, 2)
        if name == "plane":
            y = (x[:, 0] + x[:, 1]) / 10  # in [-1, 1]
        else:
            centres = [(-3, 3, 1), (0, 3, -1), (3, 3, 1), (-3, -3, -1), (3, -3, 1)]
            y = np.zeros(samples)
            for cx, cy, sign in centres:  # bumps up and down
                y += sign * np.exp(-((x[:, 0] - cx) ** 2 + (x[:, 1] - cy) ** 2) / 4)
        y = y + rng.standard_normal(samples) * noise
        return PlaneData(name, x.astype(np.float32), y.astype(np.float32), "regression", [], _BOX)
    if name not in BUILTIN_2D:
        raise DataError(
            f"unknown playground data {name!r}: choose one of "
            f"{', '.join(BUILTIN_2D + REGRESSION_2D)}, table:NAME or csv",
            where="data",
        )
    from lernwerk.data.builtin import load_builtin

    params: dict[str, Any] = {"samples": samples, "noise": noise, "seed": seed}
    if name == "blobs":
        params["centers"] = 2
    ds = load_builtin(name, **params)
    return PlaneData(name, ds.x.numpy(), ds.y.numpy(), "classification", list(ds.classes), _BOX)


def table_data(
    name: str, x: np.ndarray, y: np.ndarray, task: str, classes: list[str], feature_names: list[str]
) -> PlaneData:
    """A stored table as plane data; it must have exactly two numeric features."""
    if x.ndim != 2 or x.shape[1] != 2:
        n = x.shape[1] if x.ndim == 2 else "not 2D"
        raise DataError(
            f"table {name!r} has {n} features; the playground needs exactly two numeric features",
            where="data",
        )
    if task not in ("classification", "regression"):
        raise DataError(
            f"table {name!r} is a {task} set; the playground takes classification or regression",
            where="data",
        )
    x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise DataError(f"table {name!r} has missing or infinite feature values", where="data")
    return PlaneData(
        name,
        x,
        y,
        task,
        list(classes),
        _box(x),
        (str(feature_names[0]), str(feature_names[1])) if len(feature_names) == 2 else ("x", "y"),
    )


def csv_data(text: str) -> PlaneData:
    """Uploaded CSV text: a header, exactly two numeric feature columns, then the target."""
    rows = [r for r in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise DataError("the CSV needs a header line and at least 10 rows", where="csv")
    header, body = [c.strip() for c in rows[0]], rows[1:]
    if len(header) != 3:
        raise DataError(
            f"the CSV has {len(header)} columns ({', '.join(header)}); the playground needs "
            "exactly three: two numeric features, then the target",
            where="csv",
        )
    if len(body) < 10:
        raise DataError(
            f"the CSV has {len(body)} rows; the playground needs at least 10", where="csv"
        )
    if len(body) > 5000:
        raise DataError(
            f"the CSV has {len(body)} rows; the playground takes at most 5000", where="csv"
        )
    feats = np.zeros((len(body), 2), dtype=np.float32)
    targets: list[str] = []
    for i, row in enumerate(body, start=2):
        if len(row) != 3:
            raise DataError(f"line {i} has {len(row)} cells, the header 3", where=f"csv line {i}")
        for j in range(2):
            try:
                feats[i - 2, j] = float(row[j])
            except ValueError:
                raise DataError(
                    f"column {header[j]!r} is not numeric: line {i} holds {row[j]!r}",
                    where=f"csv line {i}",
                ) from None
            if not math.isfinite(feats[i - 2, j]):
                raise DataError(
                    f"column {header[j]!r}, line {i}: {row[j]!r} is not a finite number",
                    where=f"csv line {i}",
                )
        if not row[2].strip():
            raise DataError(f"target {header[2]!r} is empty on line {i}", where=f"csv line {i}")
        targets.append(row[2].strip())
    numbers = _numbers(targets)
    distinct = sorted(set(targets))
    if numbers is not None and len(distinct) > 10:
        y: np.ndarray = numbers.astype(np.float32)
        task: Literal["classification", "regression"] = "regression"
        classes: list[str] = []
    else:
        if len(distinct) < 2:
            raise DataError(
                f"target {header[2]!r} has one value only ({distinct[0]!r})", where="csv"
            )
        if len(distinct) > 10:
            raise DataError(
                f"target {header[2]!r} has {len(distinct)} classes; the playground "
                "shows at most 10 (a numeric target with more values is regression)",
                where="csv",
            )
        if numbers is not None:
            distinct = sorted(distinct, key=float)
        y = np.array([distinct.index(t) for t in targets], dtype=np.int64)
        task, classes = "classification", distinct
    return PlaneData("csv", feats, y, task, classes, _box(feats), (header[0], header[1]))


def _numbers(values: list[str]) -> np.ndarray | None:
    try:
        out = np.array([float(v) for v in values])
    except ValueError:
        return None
    return out if np.isfinite(out).all() else None


def _box(x: np.ndarray) -> tuple[float, float, float, float]:
    lo, hi = x.min(0), x.max(0)
    pad = np.maximum((hi - lo) * 0.1, 1e-3)
    return (
        float(lo[0] - pad[0]),
        float(hi[0] + pad[0]),
        float(lo[1] - pad[1]),
        float(hi[1] + pad[1]),
    )


# --- the network -----------------------------------------------------------------------


def input_features(uv: torch.Tensor, names: list[str]) -> torch.Tensor:
    """The chosen features of plane points scaled to [-1, 1]: (N, 2) -> (N, len(names))."""
    u, v = uv[:, 0], uv[:, 1]
    table = {
        "x": lambda: u,
        "y": lambda: v,
        "x2": lambda: u * u,
        "y2": lambda: v * v,
        "xy": lambda: u * v,
        "sinx": lambda: torch.sin(3 * u),
        "siny": lambda: torch.sin(3 * v),
    }
    return torch.stack([table[n]() for n in names], dim=1)


_ACT = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity}


class PlaneNet(nn.Module):
    """Dense layers; `forward_all` returns every layer's output for the neuron maps."""

    def __init__(self, n_in: int, hidden: list[int], n_out: int, activation: str) -> None:
        super().__init__()
        sizes = [n_in, *hidden, n_out]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:], strict=False))
        self.act = _ACT[activation]()

    def forward_all(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[(N, n_in), (N, h1), ..., (N, n_out)]: the inputs, each hidden layer, the output."""
        outs = [x]
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = self.act(x)
            outs.append(x)
        return outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_all(x)[-1]


def _b64(values: np.ndarray) -> str:
    return base64.b64encode(values.astype(np.uint8).tobytes()).decode("ascii")


def _to_byte(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip(np.round((values - lo) / max(hi - lo, 1e-9) * 255), 0, 255)


class PlaygroundSession:
    """One playground: data, network, a training thread, and frames of what it does."""

    def __init__(self, settings: PlaygroundSettings, data: PlaneData) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.last_used = time.monotonic()
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._running = False
        self._waiting = 0  # frame requests waiting for the lock
        self.configure(settings, data)

    # -- set up ----------------------------------------------------------------------------

    def configure(self, settings: PlaygroundSettings, data: PlaneData) -> None:
        """New settings and data: a fresh network (training stops)."""
        self.pause()
        with self._lock:
            self.settings, self.data = settings, data
            box = np.array(data.box, dtype=np.float32)
            self._centre = torch.tensor([(box[0] + box[1]) / 2, (box[2] + box[3]) / 2])
            self._half = torch.tensor([(box[1] - box[0]) / 2, (box[3] - box[2]) / 2])
            self.train_index, self.test_index = data.split(settings.train_ratio, settings.seed)
            feats = input_features(self._scale(torch.from_numpy(data.x)), settings.features)
            y = torch.from_numpy(data.y)
            if data.task == "regression":
                lo, hi = float(data.y.min()), float(data.y.max())
                self.target_range = (lo, hi if hi > lo else lo + 1)
                y = y.float()[:, None]  # (N, 1)
                self._loss: nn.Module = nn.MSELoss()
                n_out = 1
            elif len(data.classes) == 2:
                self.target_range = (0.0, 1.0)
                y = y.float()[:, None]
                self._loss = nn.BCEWithLogitsLoss()
                n_out = 1
            else:
                self.target_range = (0.0, float(len(data.classes) - 1))
                y = y.long()
                self._loss = nn.CrossEntropyLoss()
                n_out = len(data.classes)
            self._x_train, self._y_train = feats[self.train_index], y[self.train_index]
            self._x_test, self._y_test = feats[self.test_index], y[self.test_index]
            self._grid = self._plane_grid(GRID)
            self._neuron_grid = self._plane_grid(NEURON_GRID)
            self._n_out = n_out
            self.reset()

    def _scale(self, xy: torch.Tensor) -> torch.Tensor:
        return (xy - self._centre) / self._half  # (N, 2) in about [-1, 1]

    def _plane_grid(self, n: int) -> torch.Tensor:
        """The features of an n x n grid over [-1, 1]^2, row 0 at the top: (n*n, F)."""
        axis = torch.linspace(-1, 1, n)
        vv, uu = torch.meshgrid(-axis, axis, indexing="ij")  # y falls down the rows
        uv = torch.stack([uu.reshape(-1), vv.reshape(-1)], dim=1)  # (n*n, 2)
        return input_features(uv, self.settings.features)

    def reset(self) -> None:
        """A freshly initialised network, epoch 0 (keeps playing if it was)."""
        with self._lock:
            s = self.settings
            torch.manual_seed(s.seed)
            self.net = PlaneNet(len(s.features), list(s.hidden), self._n_out, s.activation)
            opt = torch.optim.Adam if s.optimizer == "adam" else torch.optim.SGD
            self._opt = opt(self.net.parameters(), lr=s.learning_rate)
            self._gen = torch.Generator().manual_seed(s.seed)
            self.epoch = 0
            self.steps = 0
            self.history: dict[str, list[float]] = {"train": [], "test": []}
            self._thin = 1
            self._record()

    # -- training --------------------------------------------------------------------------

    def _penalty(self) -> torch.Tensor | float:
        s = self.settings
        if s.regularization == "none" or s.regularization_rate == 0:
            return 0.0
        weights = [layer.weight for layer in self.net.layers]
        if s.regularization == "l1":
            return s.regularization_rate * sum(w.abs().sum() for w in weights)
        return s.regularization_rate * sum((w * w).sum() for w in weights) / 2

    def _train_epoch(self) -> None:
        """One pass over the training points in shuffled batches, the lock taken per batch
        so that a frame waits for one step at most."""
        n = len(self._x_train)
        order = torch.randperm(n, generator=self._gen)
        bs = self.settings.batch_size
        for start in range(0, n, bs):
            with self._lock:
                idx = order[start : start + bs]
                self.net.train()
                out = self.net(self._x_train[idx])
                loss = self._loss(out, self._y_train[idx]) + self._penalty()
                self._opt.zero_grad(set_to_none=True)
                loss.backward()
                self._opt.step()
                self.steps += 1
            while self._waiting:  # a frame wants the lock: let it have it first
                time.sleep(0.0002)
        with self._lock:
            self.epoch += 1
            self._record()

    def _evaluate(self, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float | None]:
        if len(x) == 0:
            return float("nan"), None
        with torch.no_grad():
            out = self.net(x)
            loss = float(self._loss(out, y))
            if self.data.task == "regression":
                return loss, None
            if self._n_out == 1:
                hit = (out > 0).float() == y
            else:
                hit = out.argmax(1) == y
            return loss, float(hit.float().mean())

    def _record(self) -> None:
        self.train_loss, self.train_accuracy = self._evaluate(self._x_train, self._y_train)
        self.test_loss, self.test_accuracy = self._evaluate(self._x_test, self._y_test)
        if self.epoch % self._thin == 0:
            for key, value in (("train", self.train_loss), ("test", self.test_loss)):
                self.history[key].append(value if math.isfinite(value) else -1.0)
            if len(self.history["train"]) >= HISTORY:  # keep every other point, sample half
                self.history = {k: v[::2] for k, v in self.history.items()}
                self._thin *= 2

    def step(self, epochs: int = 1) -> None:
        """Train `epochs` epochs now (pauses a playing session first)."""
        self.pause()
        torch.set_num_threads(1)
        with self._lock:
            for _ in range(epochs):
                self._train_epoch()

    def play(self) -> None:
        """Train in a thread at full speed until `pause`."""
        with self._lock:
            if self._running:
                return
            self._running = True
            self._thread = threading.Thread(
                target=self._loop, name=f"playground-{self.id}", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        torch.set_num_threads(1)  # tiny matrices: more threads only contend (OpenMP: per thread)
        while self._running:
            self._train_epoch()

    def pause(self) -> None:
        """Stop the training thread (returns once it has stopped)."""
        self._running = False
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._running

    # -- seeing ----------------------------------------------------------------------------

    def points(self) -> dict[str, Any]:
        """The data as drawn under the boundary: box, task, classes, train and test points."""

        def pts(index: np.ndarray) -> list[list[float]]:
            xs, ys = self.data.x[index], self.data.y[index]
            return [
                [round(float(a), 3), round(float(b), 3), round(float(t), 4)]
                for (a, b), t in zip(xs, ys, strict=True)
            ]

        return {
            "name": self.data.name,
            "task": self.data.task,
            "classes": self.data.classes,
            "box": list(self.data.box),
            "feature_names": list(self.data.feature_names),
            "target_range": list(self.target_range),
            "train": pts(self.train_index),
            "test": pts(self.test_index),
        }

    def frame(self) -> dict[str, Any]:
        """What the network does now: boundary and neuron maps (uint8 base64), weights, curves."""
        self.last_used = time.monotonic()
        self._waiting += 1
        try:
            self._lock.acquire()
        finally:
            self._waiting -= 1
        try:
            self.net.eval()
            with torch.no_grad():
                out = self.net(self._grid)  # (G*G, n_out)
                layers = self.net.forward_all(self._neuron_grid)  # [(g*g, n)...]
            boundary = self._boundary(out)
            neurons = [
                [_b64(self._neuron_bytes(col)) for col in layer.T.numpy()] for layer in layers[:-1]
            ]
            weights = [
                np.round(layer.weight.detach().numpy(), 3).tolist() for layer in self.net.layers
            ]
            biases = [
                np.round(layer.bias.detach().numpy(), 3).tolist() for layer in self.net.layers
            ]
            return {
                "id": self.id,
                "epoch": self.epoch,
                "steps": self.steps,
                "running": self._running,
                "task": self.data.task,
                "train_loss": _finite(self.train_loss),
                "test_loss": _finite(self.test_loss),
                "train_accuracy": self.train_accuracy,
                "test_accuracy": self.test_accuracy,
                "history": {k: [round(v, 5) for v in vs] for k, vs in self.history.items()},
                "history_every": self._thin,
                "grid": GRID,
                "boundary": _b64(boundary),
                "neuron_grid": NEURON_GRID,
                "neurons": neurons,
                "features": list(self.settings.features),
                "hidden": list(self.settings.hidden),
                "weights": weights,
                "biases": biases,
            }
        finally:
            self._lock.release()

    def _boundary(self, out: torch.Tensor) -> np.ndarray:
        """(G*G,) uint8: p(positive) for two classes, the class for more, the value scaled."""
        if self.data.task == "regression":
            return _to_byte(out[:, 0].numpy(), *self.target_range)
        if self._n_out == 1:
            return _to_byte(torch.sigmoid(out[:, 0]).numpy(), 0.0, 1.0)
        return out.argmax(1).numpy()

    def _neuron_bytes(self, col: np.ndarray) -> np.ndarray:
        scale = float(np.abs(col).max())
        if not math.isfinite(scale):
            return np.full(col.shape, 128)
        scale = max(scale, 1e-6)
        return _to_byte(col, -scale, scale)

    def close(self) -> None:
        self.pause()


def _finite(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None


class SessionPool:
    """At most `cap` sessions; one unused for `idle_s` seconds is dropped to make room."""

    def __init__(self, cap: int = 4, idle_s: float = 60.0) -> None:
        self.cap, self.idle_s = cap, idle_s
        self._sessions: dict[str, PlaygroundSession] = {}
        self._lock = threading.Lock()

    def add(self, session: PlaygroundSession) -> PlaygroundSession:
        """Keep `session`; drops idle ones first. Raises TooManySessions when all are busy."""
        with self._lock:
            self._drop_idle()
            if len(self._sessions) >= self.cap:
                session.close()
                raise TooManySessions(
                    f"{self.cap} playgrounds are open already (the most this server keeps); "
                    f"close one or wait {self.idle_s:.0f} s until an unused one is dropped",
                    where="playground",
                )
            self._sessions[session.id] = session
            return session

    def get(self, session_id: str) -> PlaygroundSession:
        """The session `session_id`, marked as used. Raises NotFound."""
        with self._lock:
            self._drop_idle()
            session = self._sessions.get(session_id)
            if session is None:
                raise NotFound(
                    f"no playground {session_id!r} (closed, or dropped after "
                    f"{self.idle_s:.0f} s unused)",
                    where="playground",
                )
            session.last_used = time.monotonic()
            return session

    def remove(self, session_id: str) -> None:
        """Close and forget a session. Raises NotFound."""
        session = self.get(session_id)
        with self._lock:
            self._sessions.pop(session_id, None)
        session.close()

    def __len__(self) -> int:
        return len(self._sessions)

    def _drop_idle(self) -> None:
        now = time.monotonic()
        for sid, session in list(self._sessions.items()):
            if now - session.last_used > self.idle_s:
                del self._sessions[sid]
                session.close()

    def shutdown(self) -> None:
        """Stop every session's thread."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()


# one click each: data + network + settings (texts: playground.lesson.<id>.* in the page)
LESSONS: dict[str, dict[str, Any]] = {
    "perceptron": {
        "data": "xor",
        "hidden": [],
        "activation": "tanh",
        "learning_rate": 0.03,
        "features": ["x", "y"],
        "noise": 0.0,
    },
    "hidden": {
        "data": "xor",
        "hidden": [4],
        "activation": "tanh",
        "learning_rate": 0.03,
        "optimizer": "adam",
        "features": ["x", "y"],
        "noise": 0.0,
    },
    "spiral": {
        "data": "spiral",
        "hidden": [8, 8, 8, 8, 8, 8],
        "activation": "tanh",
        "learning_rate": 0.01,
        "optimizer": "adam",
        "features": ["x", "y", "sinx", "siny"],
        "noise": 0.0,
    },
    "learning-rate": {
        "data": "circles",
        "hidden": [4, 2],
        "activation": "tanh",
        "learning_rate": 3.0,
        "optimizer": "sgd",
        "features": ["x", "y"],
    },
    "overfitting": {
        "data": "moons",
        "noise": 0.35,
        "train_ratio": 0.1,
        "samples": 200,
        "hidden": [8, 8, 8, 8],
        "activation": "relu",
        "learning_rate": 0.01,
        "optimizer": "adam",
        "features": ["x", "y", "x2", "y2", "xy"],
    },
    "regularization": {
        "data": "moons",
        "noise": 0.35,
        "train_ratio": 0.1,
        "samples": 200,
        "hidden": [8, 8, 8, 8],
        "activation": "relu",
        "learning_rate": 0.01,
        "optimizer": "adam",
        "features": ["x", "y", "x2", "y2", "xy"],
        "regularization": "l2",
        "regularization_rate": 0.01,
    },
}


def lesson_settings(lesson: str) -> PlaygroundSettings:
    """The settings a lesson sets. Raises NotFound."""
    if lesson not in LESSONS:
        raise NotFound(
            f"no playground lesson {lesson!r}; there are {', '.join(LESSONS)}", where="lesson"
        )
    return PlaygroundSettings(**LESSONS[lesson])


def model_spec(settings: PlaygroundSettings, name: str, task: str) -> dict[str, Any]:
    """The network as a workspace model spec (the raw x, y features only; Dense layers)."""
    layers: list[Any] = ["Flatten"]
    layers += [{"Dense": {"units": n, "activation": settings.activation}} for n in settings.hidden]
    output = "linear" if task == "regression" else "softmax"
    layers.append({"Dense": {"units": "auto", "activation": output}})
    return {
        "name": name,
        "description": (
            f"From the playground: {len(settings.hidden)} hidden layers "
            f"({', '.join(map(str, settings.hidden)) or 'none'}), {settings.activation}"
        ),
        "layers": layers,
    }
