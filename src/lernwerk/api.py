"""The public Python API, the one entry that both the CLI and the web server use.

import lernwerk as lw
run = lw.fit("xor", "mlp", epochs=50)
run.history            # a pandas DataFrame, one row per epoch
run.evaluate("test")   # accuracy, per-class precision/recall/F1, confusion matrix ...
run.predict(x)         # probabilities per class
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from lernwerk import __version__
from lernwerk.config import SCHEMA_VERSION, ModelSpec, TrainConfig
from lernwerk.data import Dataset, Splits, Standardizer, list_builtins, load_dataset_ref
from lernwerk.data.builtin import BUILTINS, parse_dataset_ref
from lernwerk.data.inputs import read_inputs
from lernwerk.errors import Conflict, NotFound, SpecError
from lernwerk.errors import RunFailed as RunFailedError
from lernwerk.events import TERMINAL_EVENTS, CheckpointSaved, EpochEnded, Event, RunStarted
from lernwerk.export import Predictor, export_safetensors, save_bundle
from lernwerk.models import ModelSummary, build_network, resolve_model, summarize
from lernwerk.models.network import Network
from lernwerk.store import DatasetRecord, RunRecord, WorkspaceStore, load_tensors, save_tensors
from lernwerk.training import (
    EarlyStopping,
    Listener,
    StopSignal,
    Task,
    Throttle,
    Trainer,
    TrainingData,
    make_task,
    resolve_device,
    resolve_train_config,
)
from lernwerk.training.tasks import task_from_dict

CHECKPOINT_FILE = "checkpoint.safetensors"
SPLITS = ("train", "val", "test")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _StoreWriter(Listener):
    """Writes a run's events, epochs and progress to the store, a transaction at a time.

    Writes are batched (at most every `interval_s`), but a checkpoint or the end of
    the run flushes at once, so the stored epochs never lag a checkpoint.
    """

    def __init__(self, store: WorkspaceStore, run_id: str, interval_s: float = 0.5) -> None:
        self.store, self.run_id = store, run_id
        self.throttle = Throttle(interval_s)
        self._events: list[tuple[str, dict[str, Any]]] = []
        self._epochs: list[tuple[int, dict[str, Any]]] = []
        self._run_fields: dict[str, Any] = {}

    def on_event(self, event: Event) -> None:
        payload = {k: v for k, v in event.to_dict().items() if k not in ("type", "run_id")}
        self._events.append((event.type, payload))
        super().on_event(event)
        urgent = isinstance(event, (CheckpointSaved, *TERMINAL_EVENTS, RunStarted))
        if urgent or self.throttle.ready():
            self.flush()

    def on_epoch_end(self, event: EpochEnded) -> None:
        assert self.trainer is not None
        state = self.trainer.state
        self._epochs.append((event.epoch, event.metrics))
        self._run_fields = {
            "epoch": event.epoch,
            "seconds": event.elapsed_s,
            "best_metric": state.best_metric,
            "best_epoch": state.best_epoch,
        }

    def flush(self) -> None:
        if self._events or self._epochs or self._run_fields:
            self.store.record_progress(
                self.run_id, events=self._events, epochs=self._epochs, run_fields=self._run_fields
            )
            self._events, self._epochs, self._run_fields = [], [], {}


class Workspace:
    """A workspace directory: its datasets and runs. Pass it around; it holds no global state.

    Args:
        path: The directory; default `$LERNWERK_HOME` or `./lernwerk-workspace`.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.store = WorkspaceStore(path)
        self.store.reconcile()  # runs whose process died are marked interrupted

    @property
    def path(self) -> Path:
        return self.store.root

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    # -- datasets ---------------------------------------------------------------------------

    def list_datasets(self) -> list[dict[str, Any]]:
        """Built-in datasets and those stored in this workspace."""
        items = [{**b, "source": "builtin"} for b in list_builtins()]
        for rec in self.store.list_datasets():
            items.append({**rec.to_dict(), "source": "workspace"})
        return items

    def load_dataset(self, ref: str | Dataset, **params: Any) -> Dataset:
        """A dataset by reference ('xor', 'tabular:rows=50000') or a stored dataset's name."""
        if isinstance(ref, Dataset):
            return ref
        ref = _with_params(ref, params)
        name, _ = parse_dataset_ref(ref)
        if name.lower() in BUILTINS:
            return load_dataset_ref(ref)
        try:
            rec = self.store.get_dataset(ref)
        except NotFound:
            known = ", ".join(sorted(BUILTINS))
            raise NotFound(
                f"dataset '{ref}' not found; built-in: {known}; `lernwerk datasets list` shows all",
                where="dataset",
            ) from None
        tensors, _ = load_tensors(self.store.dataset_dir(rec.name) / "data.safetensors")
        return Dataset(
            name=rec.name,
            kind=rec.kind,  # type: ignore[arg-type]
            task=rec.task,  # type: ignore[arg-type]
            x=tensors["x"],
            y=tensors["y"],
            classes=rec.classes,
            feature_names=rec.source.get("feature_names", []),
            source=rec.source,
            test_index=tensors.get("test_index"),
        )

    def save_dataset(self, dataset: Dataset) -> None:
        """Store an in-memory dataset in the workspace so runs can find it again."""
        tensors = {"x": dataset.x, "y": dataset.y}
        if dataset.test_index is not None:
            tensors["test_index"] = dataset.test_index
        save_tensors(self.store.dataset_dir(dataset.name) / "data.safetensors", tensors)
        self.store.put_dataset(
            DatasetRecord(
                name=dataset.name,
                kind=dataset.kind,
                task=dataset.task,
                source={**dataset.source, "feature_names": dataset.feature_names},
                content_hash=dataset.content_hash,
                num_samples=len(dataset),
                classes=list(dataset.classes),
                input_shape=list(dataset.input_shape),
                created_at=_now(),
            )
        )

    def _ensure_findable(self, dataset: Dataset) -> None:
        name, _ = parse_dataset_ref(dataset.name)
        if name.lower() in BUILTINS and dataset.source.get("builtin"):
            return  # regenerated from its reference
        self.save_dataset(dataset)

    # -- training ---------------------------------------------------------------------------

    def fit(
        self,
        dataset: str | Dataset,
        model: str | dict[str, Any] | ModelSpec,
        *,
        name: str | None = None,
        config: TrainConfig | None = None,
        listeners: Iterable[Listener] = (),
        stop_signal: StopSignal | None = None,
        **train: Any,
    ) -> Run:
        """Train a model on a dataset and return the finished (or stopped) run.

        Args:
            dataset: a reference such as "digits" or a `Dataset`.
            model: a preset name, a spec file path, a spec dict or a `ModelSpec`.
            name: a name for the run.
            config: a `TrainConfig`; keyword arguments (epochs=…, lr=…) override it.
            listeners: extra listeners (e.g. a progress bar).
            stop_signal: set it from another thread to stop after the current step.

        Raises:
            SpecError, DataError, NotFound: bad input, before anything is written.
            RunFailed: training started and failed; the run is stored as `failed`.
        """
        base = config.to_dict() if config is not None else {}
        cfg = TrainConfig.from_dict({**base, **train})
        ds = self.load_dataset(dataset)
        spec = resolve_model(model)
        plan = _Plan(ds, spec, cfg)
        self._ensure_findable(ds)
        full_config = {
            "schema_version": SCHEMA_VERSION,
            "dataset": ds.name,
            "model": spec.to_dict(),
            "train": plan.config.to_dict(),
        }
        rec = self.store.create_run(
            name=name or f"{spec.name} on {ds.name}",
            config=full_config,
            model=spec.name,
            dataset=ds.name,
            dataset_hash=ds.content_hash,
            device=str(plan.device),
        )
        return self._train(rec, ds, plan, list(listeners), stop_signal, resume=False)

    def resume(
        self,
        ref: str,
        *,
        epochs: int | None = None,
        listeners: Iterable[Listener] = (),
        stop_signal: StopSignal | None = None,
    ) -> Run:
        """Continue an interrupted or stopped run from its last checkpoint.

        `epochs` may raise the run's epoch budget; nothing else can change.
        """
        rec = self.store.get_run(ref)
        if rec.status == "running" and self.store.is_alive(rec):
            raise Conflict(f"run {rec.id} is still running", where="run")
        train = dict(rec.config["train"])
        if epochs is not None:
            if epochs < train["epochs"]:
                raise SpecError(
                    f"--epochs {epochs} is less than the run's {train['epochs']}", where="epochs"
                )
            train["epochs"] = epochs
        if rec.status == "finished" and train["epochs"] <= rec.epoch:
            raise Conflict(
                f"run {rec.id} already finished its {rec.epoch} epochs; give more --epochs to go on",
                where="run",
            )
        ds = self.load_dataset(rec.dataset)
        if ds.content_hash != rec.dataset_hash:
            raise Conflict(
                f"dataset '{rec.dataset}' changed since run {rec.id} started; cannot resume",
                where="dataset",
            )
        spec = ModelSpec.from_dict(rec.config["model"])
        plan = _Plan(ds, spec, TrainConfig.from_dict(train))
        if epochs is not None:
            config = {**rec.config, "train": plan.config.to_dict()}
            rec = self.store.update_run(rec.id, config=config)
        return self._train(rec, ds, plan, list(listeners), stop_signal, resume=True)

    def _train(
        self,
        rec: RunRecord,
        ds: Dataset,
        plan: _Plan,
        listeners: list[Listener],
        stop_signal: StopSignal | None,
        *,
        resume: bool,
    ) -> Run:
        run_dir = self.store.run_dir(rec.id)
        cfg, device, network, task = plan.config, plan.device, plan.network, plan.task
        network.to(device)
        data = plan.training_data(ds, device)
        all_listeners: list[Listener] = [_StoreWriter(self.store, rec.id)]
        if cfg.early_stopping:
            all_listeners.append(EarlyStopping(cfg.early_stopping, cfg.monitor))
        trainer = Trainer(
            network,
            task,
            cfg,
            run_id=rec.id,
            device=device,
            listeners=all_listeners + listeners,
            checkpoint_path=run_dir / CHECKPOINT_FILE,
            stop_signal=stop_signal,
        )
        checkpoint = run_dir / CHECKPOINT_FILE
        if resume and checkpoint.is_file():
            trainer.resume_from(checkpoint)
        self.store.delete_epochs_after(rec.id, trainer.state.epoch)
        self.store.mark_running(rec.id)
        self.store.update_run(rec.id, status="running", error=None, finished_at=None)
        try:
            state = trainer.fit(data)
        except KeyboardInterrupt:
            self._finish(rec, plan, ds, "stopped", trainer, error="interrupted by the user")
            raise
        except RunFailedError as exc:
            self._finish(rec, plan, ds, "failed", trainer, error=str(exc))
            raise
        except Exception as exc:  # a bug or an environment failure: keep the run consistent
            self._finish(rec, plan, ds, "failed", trainer, error=f"{type(exc).__name__}: {exc}")
            raise RunFailedError(f"run {rec.id} failed: {type(exc).__name__}: {exc}") from exc
        stopped = trainer._stop_reason is not None and not trainer._stop_is_finish
        self._finish(
            rec, plan, ds, "stopped" if stopped else "finished", trainer, epochs_done=state.epoch
        )
        return self.run(rec.id)

    def _finish(
        self,
        rec: RunRecord,
        plan: _Plan,
        ds: Dataset,
        status: str,
        trainer: Trainer,
        *,
        error: str | None = None,
        epochs_done: int | None = None,
    ) -> None:
        """Save what the run learned, evaluate it and record its final status."""
        run_dir = self.store.run_dir(rec.id)
        network = plan.network
        metrics: dict[str, Any] = {}
        if status != "failed" or trainer.state.epoch > 0:
            network.to("cpu")
            save_bundle(run_dir, network, plan.task, plan.standardizer, plan.bundle_meta(ds))
            if status != "failed":
                for split in ("val", "test"):
                    idx = getattr(plan.splits, split)
                    if len(idx):
                        predictor = Predictor(
                            network, plan.task, plan.standardizer, {}, torch.device("cpu")
                        )
                        metrics[split] = _evaluate(predictor, ds, idx)
        self.store.update_run(
            rec.id,
            status=status,
            finished_at=_now(),
            metrics=metrics,
            error=error,
            epoch=trainer.state.epoch if epochs_done is None else epochs_done,
            seconds=trainer.state.elapsed_s,
            best_metric=trainer.state.best_metric,
            best_epoch=trainer.state.best_epoch,
        )

    # -- runs -------------------------------------------------------------------------------

    def run(self, ref: str) -> Run:
        """A stored run by id, unique id prefix or name."""
        return Run(self, self.store.get_run(ref))

    def runs(self, status: str | None = None) -> list[Run]:
        """All runs, newest first."""
        return [Run(self, r) for r in self.store.list_runs(status)]

    def runs_frame(self) -> pd.DataFrame:
        """The runs as a table: one row per run, key settings and metrics as columns."""
        return pd.DataFrame([r.row() for r in self.runs()])

    def compare(self, refs: Iterable[str]) -> pd.DataFrame:
        """Several runs side by side: settings and final metrics, one column per run."""
        rows = {r.id: r.row() for r in (self.run(ref) for ref in refs)}
        return pd.DataFrame(rows)

    def delete_run(self, ref: str) -> None:
        self.store.delete_run(self.store.get_run(ref).id)


class _Plan:
    """Everything a run needs, validated before anything is written to the store."""

    def __init__(self, ds: Dataset, spec: ModelSpec, cfg: TrainConfig) -> None:
        task_name = cfg.task or ds.task
        if task_name == "classification" and ds.task == "regression":
            raise SpecError(
                f"dataset '{ds.name}' has numeric targets; use task regression", where="task"
            )
        self.splits: Splits = ds.split(cfg.val_split, cfg.test_split, cfg.split_seed)
        if cfg.early_stopping and len(self.splits.val) == 0:
            raise SpecError(
                "early stopping needs a validation split; set val_split > 0", where="early_stopping"
            )
        if cfg.monitor != "val_loss" and len(self.splits.val) == 0:
            raise SpecError(f"monitor {cfg.monitor} needs a validation split", where="monitor")
        x_train, y_train = ds.subset(self.splits.train)
        self.task: Task = make_task(task_name, cfg.loss, classes=ds.classes, y_train=y_train)
        self.config = resolve_train_config(cfg, n_train=len(x_train), loss=self.task.loss)
        self.device = resolve_device(self.config.device)
        torch.manual_seed(self.config.seed)  # the same seed gives the same initial weights
        self.network: Network = build_network(spec, ds.input_shape, self.task.num_outputs)
        self.task.output_activation = self.network.output_activation
        self.standardizer = Standardizer.fit(x_train, ds.kind)

    def training_data(self, ds: Dataset, device: torch.device) -> TrainingData:
        def part(idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x, y = ds.subset(idx)
            return self.standardizer.transform(x).to(device), self.task.targets(y).to(device)

        x_train, y_train = part(self.splits.train)
        x_val, y_val = part(self.splits.val)
        return TrainingData(x_train, y_train, x_val, y_val)

    def bundle_meta(self, ds: Dataset) -> dict[str, Any]:
        return {
            "kind": ds.kind,
            "feature_names": list(ds.feature_names),
            "dataset": ds.name,
            "dataset_hash": ds.content_hash,
            "lernwerk_version": __version__,
        }


def _evaluate(predictor: Predictor, ds: Dataset, idx: torch.Tensor) -> dict:
    x, y = ds.subset(idx)
    return predictor.task.metrics(y.numpy(), predictor.predict(x))


def _with_params(ref: str, params: dict[str, Any]) -> str:
    """'tabular' + {rows: 500} -> 'tabular:rows=500'."""
    if not params:
        return ref
    return ref + ":" + ",".join(f"{k}={v}" for k, v in params.items())


class Run:
    """A stored run: its config, history, metrics and trained model."""

    def __init__(self, workspace: Workspace, record: RunRecord) -> None:
        self.workspace = workspace
        self.record = record
        self._predictor: Predictor | None = None

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def status(self) -> str:
        return self.record.status

    @property
    def config(self) -> dict[str, Any]:
        return self.record.config

    @property
    def metrics(self) -> dict[str, Any]:
        """Final metrics per split ("val", "test"), as stored when the run ended."""
        return self.record.metrics

    @property
    def dir(self) -> Path:
        return self.workspace.store.run_dir(self.id)

    def refresh(self) -> Run:
        self.record = self.workspace.store.get_run(self.id)
        return self

    @property
    def history(self) -> pd.DataFrame:
        """One row per epoch: train_loss, val_loss, accuracy or mae, lr."""
        rows = self.workspace.store.epochs(self.id)
        return pd.DataFrame(rows).set_index("epoch") if rows else pd.DataFrame()

    @property
    def predictor(self) -> Predictor:
        if self._predictor is None:
            self._predictor = Predictor.load(self.dir)
        return self._predictor

    def predict(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Probabilities (N, C) or values (N, K) for raw inputs shaped like the dataset's."""
        return self.predictor.predict(x)

    def predict_files(self, paths: Iterable[str | Path]) -> list[dict[str, Any]]:
        """Predict for image files, CSV rows or `.npy` arrays; one dict per sample.

        Classification: {"input", "predicted", "confidence", "probabilities": {class: p}};
        regression: {"input", "value"} (or "values" for several outputs).
        """
        p = self.predictor
        x, labels = read_inputs(
            [Path(q) for q in paths],
            kind=p.meta["kind"],
            input_shape=p.input_shape,
            feature_names=p.meta.get("feature_names", []),
        )
        out = p.predict(x)
        results = []
        for label, row in zip(labels, out, strict=True):
            if p.classes:
                best = int(row.argmax())
                results.append(
                    {
                        "input": label,
                        "predicted": p.classes[best],
                        "confidence": float(row[best]),
                        "probabilities": {c: float(v) for c, v in zip(p.classes, row, strict=True)},
                    }
                )
            elif len(row) == 1:
                results.append({"input": label, "value": float(row[0])})
            else:
                results.append({"input": label, "values": [float(v) for v in row]})
        return results

    def evaluate(self, split: str = "test") -> dict[str, Any]:
        """Metrics of the trained model on a split of the run's dataset, computed now."""
        if split not in SPLITS:
            raise SpecError(
                f"split must be one of {', '.join(SPLITS)}; received: {split!r}", where="split"
            )
        ds = self.workspace.load_dataset(self.record.dataset)
        if ds.content_hash != self.record.dataset_hash:
            raise Conflict(
                f"dataset '{ds.name}' changed since run {self.id} was trained", where="dataset"
            )
        train = self.config["train"]
        idx = getattr(ds.split(train["val_split"], train["test_split"], train["split_seed"]), split)
        if len(idx) == 0:
            raise SpecError(f"run {self.id} has an empty {split} split", where="split")
        return _evaluate(self.predictor, ds, idx)

    def summary(self) -> ModelSummary:
        """The network's layers, shapes, parameters and FLOPs."""
        meta_path = self.dir / "model.json"
        if meta_path.is_file():
            meta = json.loads(meta_path.read_text())
            task = task_from_dict(meta["task"])
            shape = tuple(meta["input_shape"])
        else:  # a run that never finished an epoch: build from its config
            ds = self.workspace.load_dataset(self.record.dataset)
            task = make_task(
                ds.task, self.config["train"]["loss"], classes=ds.classes, y_train=ds.y
            )
            shape = ds.input_shape
        net = build_network(ModelSpec.from_dict(self.config["model"]), shape, task.num_outputs)
        return summarize(net)

    def export(self, out_dir: str | Path, format: str = "safetensors") -> list[Path]:
        """Write the model to `out_dir`: safetensors weights + model.json."""
        if format != "safetensors":
            raise SpecError(f"format must be safetensors; received: {format!r}", where="format")
        return export_safetensors(self.dir, Path(out_dir))

    def row(self) -> dict[str, Any]:
        """Key facts in one flat dict, for tables."""
        r, train = self.record, self.record.config.get("train", {})
        row: dict[str, Any] = {
            "id": r.id,
            "name": r.name,
            "status": r.status,
            "dataset": r.dataset,
            "model": r.model,
            "epochs": f"{r.epoch}/{train.get('epochs')}",
            "optimizer": train.get("optimizer"),
            "lr": train.get("lr"),
            "batch_size": train.get("batch_size"),
            "seconds": round(r.seconds or 0.0, 2),
            "created": r.created_at[:16].replace("T", " "),
        }
        for split in ("val", "test"):
            for key, value in _scalars(r.metrics.get(split, {})).items():
                row[f"{split}_{key}"] = value
        return row

    def to_dict(self) -> dict[str, Any]:
        return {**self.record.to_dict(), "history": self.workspace.store.epochs(self.id)}

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, name={self.name!r}, status={self.status!r})"

    def _repr_html_(self) -> str:
        from lernwerk.evaluation.report import run_html

        return run_html(self.row(), self.workspace.store.epochs(self.id), self.metrics)


def _scalars(metrics: dict[str, Any]) -> dict[str, float]:
    keys = ("accuracy", "f1_macro", "log_loss", "mse", "mae", "r2")
    return {k: metrics[k] for k in keys if isinstance(metrics.get(k), int | float)}


# -- module-level conveniences --------------------------------------------------------------


def _workspace(workspace: Workspace | str | Path | None) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace(workspace)


def fit(
    dataset: str | Dataset,
    model: str | dict[str, Any] | ModelSpec,
    *,
    workspace: Workspace | str | Path | None = None,
    **train: Any,
) -> Run:
    """Train `model` on `dataset` in a workspace (default: ./lernwerk-workspace)."""
    return _workspace(workspace).fit(dataset, model, **train)


def load_run(ref: str, workspace: Workspace | str | Path | None = None) -> Run:
    """A stored run by id, unique id prefix or name."""
    return _workspace(workspace).run(ref)


def model_summary(
    model: str | dict[str, Any] | ModelSpec,
    *,
    dataset: str | Dataset | None = None,
    input_shape: tuple[int, ...] | None = None,
    outputs: int | None = None,
    workspace: Workspace | str | Path | None = None,
) -> ModelSummary:
    """Summarise a model for a dataset's input (and classes) or for a given input shape.

    Raises:
        SpecError: the model does not fit the input; the message names the layer.
    """
    spec = resolve_model(model)
    if dataset is not None:
        ds = _workspace(workspace).load_dataset(dataset)
        task = make_task(ds.task, None, classes=ds.classes, y_train=ds.y)
        input_shape, outputs = ds.input_shape, outputs or task.num_outputs
    return summarize(build_network(spec, input_shape, outputs))


class _Datasets:
    """`lernwerk.datasets.load("xor", noise=0.1)` and `lernwerk.datasets.list()`."""

    def load(self, ref: str, **params: Any) -> Dataset:
        return load_dataset_ref(_with_params(ref, params))

    def list(self) -> list[dict[str, Any]]:
        return list_builtins()


datasets = _Datasets()

__all__ = ["Run", "Workspace", "datasets", "fit", "load_run", "model_summary"]
