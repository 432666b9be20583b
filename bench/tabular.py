"""The lecture benchmark: lernwerk's MLP against a plain PyTorch loop and classical baselines.

Every peer sees the same split: the dataset's own stratified `split(0.2, 0.2, 0)`,
60 % train / 20 % validation / 20 % test. Baselines train on the training split only
(the validation split is unused by them) and all report accuracy on the test split.
"Fit seconds" is wall-clock time of the fit call in this process: for lernwerk the whole
`Workspace.fit` (standardising, training, writing the run, evaluating val and test), for
the others the estimator's `fit` (standardising included where a pipeline does it).
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

# The lecture's setting for the neural network (Keras: batch 32, Adam 1e-3, 20 epochs).
LECTURE = {"batch_size": 32, "lr": 1e-3, "optimizer": "adam", "epochs": 20}
SPLIT = (0.2, 0.2, 0)  # val fraction, test fraction, seed

FULL_SIZES = ({"rows": 50_000, "features": 20}, {"rows": 500_000, "features": 30})
QUICK_SIZES = ({"rows": 5_000, "features": 20},)

DEFAULT_MAX_PEER_SECONDS = 300.0


@dataclass
class Data:
    """One dataset and its split, as tensors (for lernwerk) and numpy arrays (for the rest)."""

    ref: str
    dataset: Any  # lernwerk.data.Dataset
    x_train: np.ndarray  # (N_train, F) float32
    y_train: np.ndarray  # (N_train,) int64
    x_test: np.ndarray
    y_test: np.ndarray
    sizes: dict[str, int]


@dataclass
class Result:
    """One peer on one dataset."""

    peer: str
    settings: str
    status: str = "ok"  # ok | skipped | not installed | failed
    accuracy: float | None = None
    seconds: float | None = None
    ratio: float | None = None  # seconds / lernwerk-default seconds on the same data
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


PeerFn = Callable[[Data], tuple[float, float, dict[str, Any]]]  # -> accuracy, seconds, extra


@dataclass(frozen=True)
class Peer:
    name: str
    settings: str
    fn: PeerFn
    requires: str | None = None  # a module that must be importable


# -- lernwerk -------------------------------------------------------------------------------


def _lernwerk(data: Data, **train: Any) -> tuple[float, float, dict[str, Any]]:
    from lernwerk.api import Workspace

    with tempfile.TemporaryDirectory(prefix="lernwerk-bench-") as tmp:
        ws = Workspace(tmp)
        gc.collect()
        started = time.perf_counter()
        run = ws.fit(data.dataset, "mlp", **train)
        seconds = time.perf_counter() - started
        if run.status != "finished":
            raise RuntimeError(f"run ended {run.status}: {run.record.error}")
        cfg = run.config["train"]
        split = (cfg["val_split"], cfg["test_split"], cfg["split_seed"])
        if split != SPLIT:
            raise RuntimeError(f"lernwerk used the split {split}, not {SPLIT}")
        extra = {
            "train_loop_seconds": round(run.record.seconds or 0.0, 3),
            "batch_size": cfg["batch_size"],
            "epochs": cfg["epochs"],
            "lr": cfg["lr"],
            "optimizer": cfg["optimizer"],
            "schedule": cfg["schedule"],
            "val_accuracy": run.metrics.get("val", {}).get("accuracy"),
        }
        return float(run.metrics["test"]["accuracy"]), seconds, extra


def lernwerk_default(data: Data) -> tuple[float, float, dict[str, Any]]:
    return _lernwerk(data)


def lernwerk_lecture(data: Data) -> tuple[float, float, dict[str, Any]]:
    return _lernwerk(data, **LECTURE)


# -- a plain PyTorch loop: the engine-overhead peer -------------------------------------------


def plain_torch(
    data: Data,
    *,
    batch_size: int = LECTURE["batch_size"],
    lr: float = LECTURE["lr"],
    epochs: int = LECTURE["epochs"],
    threads: int | None = 1,
) -> tuple[float, float, dict[str, Any]]:
    """The same MLP written by hand: standardise, shuffle, index batches, Adam, cross-entropy.

    One intra-op thread by default, as lernwerk picks for a network this small, so the
    difference to lernwerk's lecture row is the engine's overhead (None: torch's default).
    """
    from torch import nn

    old_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        gc.collect()
        started = time.perf_counter()
        torch.manual_seed(0)
        x = torch.from_numpy(data.x_train)
        mean, std = x.mean(0), x.std(0).clamp_min(1e-8)
        x = (x - mean) / std  # (N, F)
        y = torch.from_numpy(data.y_train)
        n, f = x.shape
        classes = int(y.max()) + 1
        model = nn.Sequential(
            nn.Linear(f, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, classes)
        )
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        gen = torch.Generator().manual_seed(0)
        for _ in range(epochs):
            perm = torch.randperm(n, generator=gen)
            for i in range(0, n, batch_size):
                idx = perm[i : i + batch_size]
                loss = loss_fn(model(x[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        seconds = time.perf_counter() - started
        with torch.inference_mode():
            xt = (torch.from_numpy(data.x_test) - mean) / std
            pred = model(xt).argmax(1).numpy()
        accuracy = float((pred == data.y_test).mean())
    finally:
        torch.set_num_threads(old_threads)
    return (
        accuracy,
        seconds,
        {"threads": threads or old_threads, "batch_size": batch_size, "epochs": epochs, "lr": lr},
    )


# -- scikit-learn ---------------------------------------------------------------------------


def _sklearn(data: Data, estimator: Any) -> tuple[float, float, dict[str, Any]]:
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at a fixed epoch budget is intended
        started = time.perf_counter()
        estimator.fit(data.x_train, data.y_train)
        seconds = time.perf_counter() - started
    accuracy = float(estimator.score(data.x_test, data.y_test))
    return accuracy, seconds, {}


def sklearn_mlp(data: Data) -> tuple[float, float, dict[str, Any]]:
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    mlp = MLPClassifier(
        hidden_layer_sizes=(64, 32),
        solver="adam",
        learning_rate_init=1e-3,
        batch_size=32,
        max_iter=20,
        n_iter_no_change=20,  # never stop before the 20 epochs, like the others
        early_stopping=False,
        random_state=0,
    )
    accuracy, seconds, extra = _sklearn(data, make_pipeline(StandardScaler(), mlp))
    return accuracy, seconds, {**extra, "epochs": int(mlp.n_iter_)}


def logistic_regression(data: Data) -> tuple[float, float, dict[str, Any]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    lr = LogisticRegression(max_iter=1000)
    accuracy, seconds, extra = _sklearn(data, make_pipeline(StandardScaler(), lr))
    return accuracy, seconds, {**extra, "iterations": int(np.max(lr.n_iter_))}


def hist_gradient_boosting(data: Data) -> tuple[float, float, dict[str, Any]]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    hgb = HistGradientBoostingClassifier(random_state=0)
    accuracy, seconds, extra = _sklearn(data, hgb)
    return accuracy, seconds, {**extra, "iterations": int(hgb.n_iter_)}


def xgboost(data: Data) -> tuple[float, float, dict[str, Any]]:
    from xgboost import XGBClassifier

    model = XGBClassifier(n_estimators=100, tree_method="hist", random_state=0)
    return _sklearn(data, model)


PEERS: tuple[Peer, ...] = (
    Peer("lernwerk mlp, defaults", "all defaults (auto batch size, epochs, lr)", lernwerk_default),
    Peer("lernwerk mlp, lecture", "batch 32, adam lr 1e-3, 20 epochs", lernwerk_lecture),
    Peer(
        "plain PyTorch loop",
        "same MLP, batch 32, adam 1e-3, 20 epochs, standardised, 1 torch thread",
        plain_torch,
    ),
    Peer(
        "sklearn MLPClassifier",
        "(64, 32) relu, adam 1e-3, batch 32, 20 epochs, alpha 1e-4, "
        "no early stopping (n_iter_no_change 20), standardised",
        sklearn_mlp,
    ),
    Peer("LogisticRegression", "lbfgs, C=1, max_iter 1000, standardised", logistic_regression),
    Peer(
        "HistGradientBoosting",
        "defaults (max_iter 100, lr 0.1, early stopping on 10 % of train)",
        hist_gradient_boosting,
    ),
    Peer("XGBoost", "100 trees, hist, defaults", xgboost, requires="xgboost"),
)
BASELINE = PEERS[0].name


# -- running --------------------------------------------------------------------------------


def dataset_ref(rows: int, features: int) -> str:
    return f"tabular:rows={rows},features={features}"


def load(rows: int, features: int) -> Data:
    from lernwerk.data import load_dataset_ref

    ref = dataset_ref(rows, features)
    ds = load_dataset_ref(ref)
    splits = ds.split(*SPLIT)
    x, y = ds.x.numpy(), ds.y.numpy()
    train, test = splits.train.numpy(), splits.test.numpy()
    return Data(
        ref=ref,
        dataset=ds,
        x_train=np.ascontiguousarray(x[train]),
        y_train=y[train],
        x_test=np.ascontiguousarray(x[test]),
        y_test=y[test],
        sizes=splits.sizes(),
    )


def warm_up() -> None:
    """Pay one-time costs (lazy imports, first torch kernels, SQLite) outside the timings."""
    from lernwerk.api import Workspace

    with tempfile.TemporaryDirectory(prefix="lernwerk-bench-") as tmp:
        Workspace(tmp).fit("xor", "mlp", epochs=1)
    small = load(200, 20)
    plain_torch(small, epochs=1)


def _importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def run_suite(
    sizes: tuple[dict[str, int], ...] = FULL_SIZES,
    *,
    max_peer_seconds: float = DEFAULT_MAX_PEER_SECONDS,
    peers: tuple[Peer, ...] = PEERS,
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Run every peer on every dataset size; return one dict per dataset.

    A peer whose time, extrapolated linearly in rows from a smaller dataset of this run,
    would exceed `max_peer_seconds` is skipped and says so.
    """
    warm_up()
    out: list[dict[str, Any]] = []
    measured: dict[str, tuple[int, float]] = {}  # peer -> (rows, seconds) of the last run
    for size in sorted(sizes, key=lambda s: s["rows"]):
        started = time.perf_counter()
        data = load(size["rows"], size["features"])
        log(f"{data.ref}: generated in {time.perf_counter() - started:.1f} s; split {data.sizes}")
        results: list[Result] = []
        for peer in peers:
            res = Result(peer.name, peer.settings)
            if peer.requires and not _importable(peer.requires):
                res.status, res.note = "not installed", f"{peer.requires} is not installed"
            elif peer.name in measured and (
                (est := measured[peer.name][1] * size["rows"] / measured[peer.name][0])
                > max_peer_seconds
            ):
                res.status = "skipped"
                res.note = (
                    f"skipped: ~{est:.0f} s estimated from {measured[peer.name][0]} rows "
                    f"(cap {max_peer_seconds:.0f} s)"
                )
            else:
                res.extra["load_1min_before"] = _load()
                try:
                    res.accuracy, res.seconds, extra = peer.fn(data)
                    res.extra.update(extra)
                    measured[peer.name] = (size["rows"], res.seconds)
                except Exception as exc:  # report and go on: one broken peer must not hide the rest
                    res.status, res.note = "failed", f"{type(exc).__name__}: {exc}"[:300]
            log(
                f"  {peer.name:<24} {_fmt(res.accuracy, '.4f'):>7} {_fmt(res.seconds, '.2f'):>8} s  {res.note}"
            )
            results.append(res)
        base = next((r.seconds for r in results if r.peer == BASELINE and r.seconds), None)
        for r in results:
            if base and r.seconds is not None:
                r.ratio = r.seconds / base
        out.append(
            {
                "dataset": data.ref,
                "params": {**data.dataset.source.get("params", {})},
                "split": data.sizes,
                "results": [asdict(r) for r in results],
            }
        )
    return out


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def markdown_table(dataset: dict[str, Any]) -> str:
    """A markdown table of one dataset's results."""
    lines = [
        "| peer | settings | test accuracy | fit seconds | × lernwerk default | notes |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in dataset["results"]:
        note = r["note"] or _note(r)
        ratio = _fmt(r["ratio"], ".2f")
        lines.append(
            f"| {r['peer']} | {r['settings']} | {_fmt(r['accuracy'], '.4f')} | "
            f"{_fmt(r['seconds'], '.2f')} | {ratio} | {note} |"
        )
    return "\n".join(lines)


def _note(r: dict[str, Any]) -> str:
    e = r["extra"]
    parts = []
    if "train_loop_seconds" in e:
        parts.append(
            f"batch {e['batch_size']}, {e['epochs']} epochs, lr {e['lr']:.3g}; "
            f"training loop {e['train_loop_seconds']:.2f} s"
        )
    elif "threads" in e:
        parts.append(f"{e['threads']} torch thread{'s' if e['threads'] != 1 else ''}")
    elif "epochs" in e:
        parts.append(f"{e['epochs']} epochs")
    elif "iterations" in e:
        parts.append(f"{e['iterations']} iterations")
    if e.get("load_1min_before") is not None:
        parts.append(f"load {e['load_1min_before']:.1f}")
    return "; ".join(parts)


def console_table(dataset: dict[str, Any]) -> str:
    """A plain-text table for the terminal."""
    head = f"{'peer':<24} {'test acc':>8} {'fit s':>9} {'x default':>9}  notes"
    rows = [dataset["dataset"], head, "-" * len(head)]
    for r in dataset["results"]:
        rows.append(
            f"{r['peer']:<24} {_fmt(r['accuracy'], '.4f'):>8} {_fmt(r['seconds'], '.2f'):>9} "
            f"{_fmt(r['ratio'], '.2f'):>9}  {r['note'] or _note(r)}"
        )
    return "\n".join(rows)
