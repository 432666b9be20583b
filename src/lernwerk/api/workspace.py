"""The workspace: where datasets and runs live, and where training is started."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from lernwerk import __version__
from lernwerk.api.batching import GroupCommit
from lernwerk.api.datasets import DatasetMethods
from lernwerk.api.models import ModelMethods
from lernwerk.api.run import Run
from lernwerk.config import SCHEMA_VERSION, ModelSpec, TrainConfig
from lernwerk.data import Dataset, Splits, Standardizer
from lernwerk.data.augment import Augmenter
from lernwerk.errors import Conflict, DataError, SpecError
from lernwerk.errors import RunFailed as RunFailedError
from lernwerk.events import TERMINAL_EVENTS, CheckpointSaved, EpochEnded, Event, RunStarted
from lernwerk.export import Predictor, save_bundle
from lernwerk.models import build_network
from lernwerk.models.network import Network
from lernwerk.store import RunRecord, WorkspaceStore
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
from lernwerk.training.precision import to_training_layout, uses_channels_last
from lernwerk.training.sampling import balanced_weights

CHECKPOINT_FILE = "checkpoint.safetensors"


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


class Workspace(DatasetMethods, ModelMethods):
    """A workspace directory: its datasets and runs. Pass it around; it holds no global state.

    Args:
        path: The directory; default `$LERNWERK_HOME` or `./lernwerk-workspace`.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.store = WorkspaceStore(path)
        self.store.reconcile()  # runs whose process died are marked interrupted
        self._sample_additions = GroupCommit()  # concurrent additions, one write per batch

    @property
    def path(self) -> Path:
        return self.store.root

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    # -- datasets ---------------------------------------------------------------------------

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
        ds, spec, plan = self._plan(dataset, model, config, train)
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

    def check_fit(
        self,
        dataset: str | Dataset,
        model: str | dict[str, Any] | ModelSpec,
        *,
        config: TrainConfig | None = None,
        **train: Any,
    ) -> dict[str, Any]:
        """Check what `fit` would be given, without training or storing anything.

        Loads the dataset, resolves the model and the training config and builds the
        network for the data, as `fit` does before it writes the run.

        Returns:
            `{"dataset", "model", "train", "device", "num_parameters"}`: the names and the
            resolved config the run would have.

        Raises:
            SpecError, DataError, NotFound: what `fit` would raise for the same input.
        """
        ds, spec, plan = self._plan(dataset, model, config, train)
        stored = self.store.has_dataset(ds.name)
        if stored and self.store.get_dataset(ds.name).content_hash != ds.content_hash:
            raise Conflict(
                f"another dataset named '{ds.name}' is stored in this workspace; "
                "give yours another name",
                where="dataset",
            )
        return {
            "dataset": ds.name,
            "model": spec.name,
            "train": plan.config.to_dict(),
            "device": str(plan.device),
            "num_parameters": sum(p.numel() for p in plan.network.parameters()),
        }

    def _plan(
        self,
        dataset: str | Dataset,
        model: str | dict[str, Any] | ModelSpec,
        config: TrainConfig | None,
        train: dict[str, Any],
    ) -> tuple[Dataset, ModelSpec, _Plan]:
        base = config.to_dict() if config is not None else {}
        cfg = TrainConfig.from_dict({**base, **train})
        ds = self._as_stored(self.load_dataset(dataset))
        spec = self.resolve_model(model)
        return ds, spec, _Plan(ds, spec, cfg)

    def resume(
        self,
        ref: str,
        *,
        epochs: int | None = None,
        listeners: Iterable[Listener] = (),
        stop_signal: StopSignal | None = None,
    ) -> Run:
        """Continue an interrupted or stopped run from its last checkpoint.

        `epochs` is the total number of epochs the run will have (not how many more): it
        may raise the run's budget, e.g. 50 for a run of 30 trains 20 more; nothing else
        can change.
        """
        rec = self.store.get_run(ref)
        if rec.status == "running" and self.store.is_alive(rec):
            raise Conflict(f"run {rec.id} is still running", where="run")
        train = dict(rec.config["train"])
        if epochs is not None:
            if epochs < train["epochs"]:
                raise SpecError(
                    f"--epochs {epochs} is less than the run's {train['epochs']}; with "
                    "--resume it is the run's total number of epochs, not how many more",
                    where="epochs",
                )
            train["epochs"] = epochs
        if rec.status == "finished" and train["epochs"] <= rec.epoch:
            raise Conflict(
                f"run {rec.id} already finished its {rec.epoch} epochs; to go on, give a larger "
                f"total, e.g. --epochs {rec.epoch + 10} for 10 more",
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
        try:
            trainer, data = self._prepare(rec, ds, plan, listeners, stop_signal, resume=resume)
        except BaseException as exc:  # a fresh run must not stay `created` in a live process
            if not resume:
                interrupted = isinstance(exc, KeyboardInterrupt)
                self.store.update_run(
                    rec.id,
                    status="stopped" if interrupted else "failed",
                    finished_at=_now(),
                    error="interrupted by the user"
                    if interrupted
                    else f"before training: {type(exc).__name__}: {exc}",
                )
            raise
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
        stopped = trainer.stopped_by_request
        self._finish(
            rec, plan, ds, "stopped" if stopped else "finished", trainer, epochs_done=state.epoch
        )
        return self.run(rec.id)

    def _prepare(
        self,
        rec: RunRecord,
        ds: Dataset,
        plan: _Plan,
        listeners: list[Listener],
        stop_signal: StopSignal | None,
        *,
        resume: bool,
    ) -> tuple[Trainer, TrainingData]:
        """The trainer for a run and its data, at its checkpoint when resumed; the run marked running."""
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
            augmenter=plan.augmenter,
        )
        checkpoint = run_dir / CHECKPOINT_FILE
        if resume and checkpoint.is_file():
            trainer.resume_from(checkpoint)
        self.store.delete_epochs_after(rec.id, trainer.state.epoch)
        self.store.mark_running(rec.id)
        return trainer, data

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
            plan.calibrate(ds)
            save_bundle(run_dir, network, plan.task, plan.standardizer, plan.bundle_meta(ds))
            if status != "failed":
                for split in ("val", "test"):
                    idx = getattr(plan.splits, split)
                    if len(idx):
                        predictor = Predictor(
                            network, plan.task, plan.standardizer, {}, torch.device("cpu")
                        )
                        metrics[split] = _evaluate_split(predictor, ds, idx)
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


def _task_name(cfg: TrainConfig, ds: Dataset) -> str:
    """The task a run trains: the config's, else forecasting for forecast windows, else the
    dataset's own."""
    name = cfg.task or ("forecasting" if ds.meta.get("forecast") else ds.task)
    if name == "classification" and ds.task == "regression":
        raise SpecError(
            f"dataset '{ds.name}' has numeric targets; use task regression", where="task"
        )
    if name == "forecasting" and not ds.meta.get("forecast"):
        raise SpecError(
            f"dataset '{ds.name}' holds no forecast windows; forecasting needs windows cut "
            "from one long series (the seasonal built-in, or "
            "lernwerk.data.forecasting.windows_dataset)",
            where="task",
        )
    return name


def _evaluate_split(predictor: Predictor, ds: Dataset, idx: torch.Tensor) -> dict[str, Any]:
    """Metrics on some samples; the raw inputs go along (a forecast's naive baseline)."""
    x, y = ds.subset(idx)
    return predictor.task.metrics(y.numpy(), predictor.predict(x), x.numpy())


class _Plan:
    """Everything a run needs, validated before anything is written to the store.

    `splits` are the dataset's train/val/test; the network trains and validates on the
    part of train and val that the task selects (`train_index`, `val_index`: the normal
    samples for anomaly detection, all samples otherwise).
    """

    def __init__(self, ds: Dataset, spec: ModelSpec, cfg: TrainConfig) -> None:
        task_name = _task_name(cfg, ds)
        if task_name == "classification" and ds.classes:
            _check_every_class_has_samples(ds)
        self.splits: Splits = ds.split(cfg.val_split, cfg.test_split, cfg.split_seed)
        if cfg.early_stopping and len(self.splits.val) == 0:
            raise SpecError(
                "early stopping needs a validation split; set val_split > 0", where="early_stopping"
            )
        if cfg.monitor != "val_loss" and len(self.splits.val) == 0:
            raise SpecError(f"monitor {cfg.monitor} needs a validation split", where="monitor")
        forecast = ds.meta.get("forecast") or {}
        self.task: Task = make_task(
            task_name,
            cfg.loss,
            classes=ds.classes,
            y_train=ds.y[self.splits.train],
            normal_class=cfg.normal_class,
            threshold_quantile=cfg.threshold_quantile,
            input_shape=ds.input_shape,
            target_channel=forecast.get("target_channel", 0),
        )
        self.train_index = self.splits.train[self.task.select(ds.y[self.splits.train])]
        self.val_index = self.splits.val[self.task.select(ds.y[self.splits.val])]
        x_train, y_train = ds.subset(self.train_index)
        classes = len(ds.classes) if task_name == "classification" else 0
        self.config = resolve_train_config(
            cfg,
            n_train=len(x_train),
            loss=self.task.loss,
            kind=ds.kind,
            n_val=len(self.val_index),
            y_train=y_train if classes else None,
            num_classes=classes,
        )
        self.device = resolve_device(self.config.device)
        torch.manual_seed(self.config.seed)  # the same seed gives the same initial weights
        self.network: Network = build_network(spec, ds.input_shape, self.task.num_outputs)
        self.task.output_activation = self.network.output_activation
        self.task.check_output(self.network.output_shape, ds.input_shape)
        self.sample_weights = (
            balanced_weights(y_train, classes)
            if self.config.balanced_sampling and classes
            else None
        )
        self.standardizer = Standardizer.fit(x_train, ds.kind)
        self.augmenter = Augmenter(
            self.config.augment,
            self.config.seed,
            mean=self.standardizer.mean,
            std=self.standardizer.std,
        )
        self.augmenter.check_applicable(ds.kind)

    def training_data(self, ds: Dataset, device: torch.device) -> TrainingData:
        nhwc = uses_channels_last(self.network, device)

        def part(idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x, y = ds.subset(idx)
            x = to_training_layout(self.standardizer.transform(x).to(device), nhwc)
            return self.task.pairs(x, y.to(device))

        x_train, y_train = part(self.train_index)
        x_val, y_val = part(self.val_index)
        return TrainingData(x_train, y_train, x_val, y_val, sample_weights=self.sample_weights)

    def calibrate(self, ds: Dataset) -> None:
        """Let the task fit what it sets after training: an anomaly score's error scale on
        the training samples it trained on, and its threshold on the whole validation
        split, or on the training samples when validation holds none that the task trains
        on (no normal samples); the network is on the CPU."""
        idx = self.splits.val if len(self.val_index) else self.train_index
        x, y = ds.subset(idx)
        x_fit, _ = ds.subset(self.train_index)
        self.task.calibrate(
            self.network,
            self.standardizer.transform(x),
            y,
            x_fit=self.standardizer.transform(x_fit),
        )

    def bundle_meta(self, ds: Dataset) -> dict[str, Any]:
        return {
            "kind": ds.kind,
            "feature_names": list(ds.feature_names),
            "data_meta": ds.meta,
            "dataset": ds.name,
            "dataset_hash": ds.content_hash,
            "lernwerk_version": __version__,
        }


def _check_every_class_has_samples(ds: Dataset) -> None:
    """A class without samples would be an output the network never sees; a learner who
    added a class and has not drawn it yet is told so before training, not after.

    A dataset may hold any number of classes (a canvas starts with one, an import may
    bring one); a classifier needs two to tell apart.

    Raises:
        DataError: fewer than two classes, or names the empty classes.
    """
    if len(ds.classes) < 2:
        raise DataError(
            f"dataset '{ds.name}' has one class ('{ds.classes[0]}'); training a classifier "
            "needs at least two classes with samples: add another class and its samples",
            where="dataset",
        )
    counts = torch.bincount(ds.y, minlength=len(ds.classes)).tolist()
    empty = [name for name, n in zip(ds.classes, counts, strict=False) if n == 0]
    if empty:
        names = ", ".join(f"'{name}'" for name in empty)
        one = len(empty) == 1
        raise DataError(
            f"class{'' if one else 'es'} {names} of dataset '{ds.name}' "
            f"{'has' if one else 'have'} no samples yet; add some or delete "
            f"{'it' if one else 'them'} before training",
            where="dataset",
        )
