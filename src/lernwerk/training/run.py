"""Running a stored run end to end: data in, model built, loop, evaluation, writing.

`execute` is the one entry below the faces that trains: `Workspace.fit` and `resume`
call it, and through them `lernwerk train` and the server's worker; a `torchrun` launch
and an Optuna trial are to call it too. `RunPlan` is everything a run needs, checked
before anything is written; `StoreWriter` is the listener that writes a run's progress.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import torch

from lernwerk import __version__
from lernwerk.config import ModelSpec, TrainConfig
from lernwerk.data import Dataset, Splits, Standardizer
from lernwerk.data.checks import check_dataset
from lernwerk.data.images.augment import Augmenter
from lernwerk.data.rows import in_chunks
from lernwerk.errors import DataError, SpecError
from lernwerk.errors import RunFailed as RunFailedError
from lernwerk.evaluation.review import review_meta
from lernwerk.events import TERMINAL_EVENTS, CheckpointSaved, EpochEnded, Event, RunStarted
from lernwerk.export import Predictor, save_bundle
from lernwerk.models import build_network
from lernwerk.models.network import Network
from lernwerk.store import RunRecord, WorkspaceStore
from lernwerk.training import distributed
from lernwerk.training.callbacks import EarlyStopping, Listener, Plateau, Throttle, TimeBudget
from lernwerk.training.defaults import (
    default_val_split,
    resolve_device,
    resolve_train_config,
    uses_sequence_recipe,
)
from lernwerk.training.precision import to_training_layout, uses_channels_last
from lernwerk.training.sampling import balanced_weights
from lernwerk.training.streaming import StreamedRows
from lernwerk.training.tasks import ClassificationTask, Task
from lernwerk.training.tasks_registry import resolve_task
from lernwerk.training.trainer import StopSignal, Trainer, TrainingData
from lernwerk.training.transfer import (
    PRETRAINED_NAMES,
    Freezer,
    InitSource,
    frozen_layers,
    load_fitting_layers,
    pretrained_layers,
    starts_pretrained,
)

CHECKPOINT_FILE = "checkpoint.safetensors"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StoreWriter(Listener):
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


def execute(
    store: WorkspaceStore,
    rec: RunRecord,
    ds: Dataset,
    plan: RunPlan,
    *,
    listeners: Iterable[Listener] = (),
    stop_signal: StopSignal | None = None,
    resume: bool = False,
) -> RunRecord:
    """Train a stored run from its plan to its final metrics, writing as it goes.

    The one entry that runs training: `Workspace.fit` and `resume` call it (and
    through them `lernwerk train` and the server's worker). It trains (from the
    run's checkpoint when `resume`), then saves the model, evaluates it on the
    validation and test splits and records the final status; the run stays
    consistent whatever happens: a Ctrl-C leaves it `stopped`, an error `failed`.

    Returns:
        The run's record as stored at the end.

    Raises:
        RunFailed: the loss became NaN, or the training broke; the run is `failed`.
        KeyboardInterrupt: after the run is stored as `stopped`.
    """
    try:
        trainer, data = _prepare(store, rec, ds, plan, listeners, stop_signal, resume=resume)
    except BaseException as exc:  # a fresh run must not stay `created` in a live process
        if not resume:
            interrupted = isinstance(exc, KeyboardInterrupt)
            store.update_run(
                rec.id,
                status="stopped" if interrupted else "failed",
                finished_at=_now(),
                error="interrupted by the user"
                if interrupted
                else f"before training: {type(exc).__name__}: {exc}",
            )
        raise
    store.update_run(rec.id, status="running", error=None, finished_at=None)
    distributed.announce(rec.id, resume=resume)  # in a process group: the other ranks join
    try:
        state = trainer.fit(data)
    except KeyboardInterrupt:
        _finish(store, rec, plan, ds, "stopped", trainer, error="interrupted by the user")
        raise
    except RunFailedError as exc:
        _finish(store, rec, plan, ds, "failed", trainer, error=str(exc))
        raise
    except Exception as exc:  # a bug or an environment failure: keep the run consistent
        _finish(store, rec, plan, ds, "failed", trainer, error=f"{type(exc).__name__}: {exc}")
        raise RunFailedError(f"run {rec.id} failed: {type(exc).__name__}: {exc}") from exc
    stopped = trainer.stopped_by_request
    _finish(
        store,
        rec,
        plan,
        ds,
        "stopped" if stopped else "finished",
        trainer,
        epochs_done=state.epoch,
    )
    return store.get_run(rec.id)


def _prepare(
    store: WorkspaceStore,
    rec: RunRecord,
    ds: Dataset,
    plan: RunPlan,
    listeners: Iterable[Listener],
    stop_signal: StopSignal | None,
    *,
    resume: bool,
) -> tuple[Trainer, TrainingData]:
    """The trainer for a run and its data, at its checkpoint when resumed; the run marked
    running."""
    run_dir = store.run_dir(rec.id)
    cfg, device, network, task = plan.config, plan.device, plan.network, plan.task
    network.to(device)
    data = plan.training_data(ds, device)
    all_listeners: list[Listener] = [StoreWriter(store, rec.id)]
    if cfg.early_stopping:
        all_listeners.append(EarlyStopping(cfg.early_stopping, cfg.monitor))
    if cfg.schedule == "plateau":
        all_listeners.append(Plateau(cfg))
    if cfg.time_budget_s:
        all_listeners.append(TimeBudget(cfg.time_budget_s))
    all_listeners.extend(task.listeners(run_dir))
    trainer = Trainer(
        network,
        task,
        cfg,
        run_id=rec.id,
        device=device,
        listeners=[*all_listeners, *listeners],
        checkpoint_path=run_dir / CHECKPOINT_FILE,
        stop_signal=stop_signal,
        augmenter=plan.augmenter,
        freezer=plan.freezer,
    )
    checkpoint = run_dir / CHECKPOINT_FILE
    if resume and checkpoint.is_file():
        trainer.resume_from(checkpoint)
    store.delete_epochs_after(rec.id, trainer.state.epoch)
    store.mark_running(rec.id)
    return trainer, data


def follow(
    store: WorkspaceStore, rec: RunRecord, ds: Dataset, plan: RunPlan, *, resume: bool
) -> None:
    """A rank > 0 of a distributed run: train its share of each epoch beside rank 0, which
    `execute`s the run; it writes nothing (no events, no checkpoint, no evaluation)."""
    plan.network.to(plan.device)
    data = plan.training_data(ds, plan.device)
    trainer = Trainer(
        plan.network,
        plan.task,
        plan.config,
        run_id=rec.id,
        device=plan.device,
        augmenter=plan.augmenter,
        freezer=plan.freezer,
    )
    checkpoint = store.run_dir(rec.id) / CHECKPOINT_FILE
    if resume and checkpoint.is_file():  # the one rank 0 resumes from (written before)
        trainer.resume_from(checkpoint)
    trainer.fit(data)


def _finish(
    store: WorkspaceStore,
    rec: RunRecord,
    plan: RunPlan,
    ds: Dataset,
    status: str,
    trainer: Trainer,
    *,
    error: str | None = None,
    epochs_done: int | None = None,
) -> None:
    """Save what the run learned, evaluate it and record its final status."""
    run_dir = store.run_dir(rec.id)
    network = plan.network
    metrics: dict[str, Any] = {}
    if status != "failed" or trainer.state.epoch > 0:
        network.to("cpu")
        plan.calibrate(ds)
        meta = plan.bundle_meta(ds)
        if status != "failed":
            predictor = Predictor(network, plan.task, plan.standardizer, {}, torch.device("cpu"))
            predicted: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            for split in ("val", "test"):
                idx = getattr(plan.splits, split)
                if len(idx):
                    y, out, x = _split_predictions(predictor, ds, idx)
                    metrics[split] = predictor.task.metrics(y, out, x)
                    predicted[split] = (y, out)
            if isinstance(plan.task, ClassificationTask) and plan.task.classes:
                meta["review"] = review_meta(predicted.get("val"), predicted.get("test"))
        save_bundle(run_dir, network, plan.task, plan.standardizer, meta)
    store.update_run(
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


def evaluate_split(predictor: Predictor, ds: Dataset, idx: torch.Tensor) -> dict[str, Any]:
    """Metrics on some samples; the raw inputs go along (a forecast's naive baseline).
    Samples on disk are predicted a chunk at a time."""
    return predictor.task.metrics(*_split_predictions(predictor, ds, idx))


def _split_predictions(
    predictor: Predictor, ds: Dataset, idx: torch.Tensor
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Labels, predictions and (in memory only) the raw inputs of some samples."""
    if ds.on_disk:
        y = ds.y[idx]
        chunks = in_chunks(ds.x.take(idx), 1024)
        predictions = np.concatenate([predictor.predict(xb) for xb in chunks])
        return y.numpy(), predictions, None
    x, y = ds.subset(idx)
    return y.numpy(), predictor.predict(x), x.numpy()


def _standardizer(spec: ModelSpec, x_train: Any, ds: Dataset) -> Standardizer:
    """The spec's fixed scaling (a pretrained network's), else the training data's."""
    if spec.preprocessing is None:
        return Standardizer.fit(x_train, ds.kind)
    channels = ds.input_shape[-1] if ds.kind == "table" else ds.input_shape[0]
    mean, std = spec.preprocessing.per_channel(channels)
    return Standardizer(torch.tensor(mean), torch.tensor(std), ds.kind)


class RunPlan:
    """Everything a run needs, validated before anything is written to the store.

    `splits` are the dataset's train/val/test; the network trains and validates on the
    part of train and val that the task selects (`train_index`, `val_index`: the normal
    samples for anomaly detection, all samples otherwise).

    `init` holds the weights of the run that `cfg.init` names (the API reads them); the
    network starts from each of its layers that still fits. `transfer` records where the
    run started and which layers it loaded and froze (empty for a run from scratch).
    """

    def __init__(
        self, ds: Dataset, spec: ModelSpec, cfg: TrainConfig, init: InitSource | None = None
    ) -> None:
        task_class = resolve_task(cfg.task, ds)
        if cfg.val_split is None:  # the hold-out rule (training.defaults) on the pool's size
            sequences = uses_sequence_recipe(ds.kind, task_class.name)
            pool = len(ds.split(0.0, cfg.test_split, cfg.split_seed).train) if sequences else 0
            val_split, rule = default_val_split(ds.kind, task_class.name, pool)
            cfg = cfg.model_copy(
                update={"val_split": val_split, "rules": {**cfg.rules, "val_split": rule}}
            )
        assert cfg.val_split is not None
        self.splits: Splits = ds.split(cfg.val_split, cfg.test_split, cfg.split_seed)
        no_val = len(self.splits.val) == 0
        if cfg.early_stopping and no_val and cfg.monitor != "train_loss":
            raise SpecError(
                "early stopping needs a validation split; set val_split > 0", where="early_stopping"
            )
        if cfg.monitor not in ("val_loss", "train_loss") and no_val:
            raise SpecError(f"monitor {cfg.monitor} needs a validation split", where="monitor")
        forecast = ds.meta.get("forecast") or {}
        self.task: Task = task_class.create(
            cfg.loss,
            classes=ds.classes,
            y_train=ds.y[self.splits.train],
            normal_class=cfg.normal_class,
            threshold_quantile=cfg.threshold_quantile,
            input_shape=ds.input_shape,
            target_channel=forecast.get("target_channel", 0),
        )
        self.checks = self._check_data(ds)
        self.train_index = self.splits.train[self.task.select(ds.y[self.splits.train])]
        self.val_index = self.splits.val[self.task.select(ds.y[self.splits.val])]
        if ds.on_disk and self.task.targets_are_inputs:
            raise DataError(
                f"dataset '{ds.name}' is too large to hold in memory, and task {self.task.name} "
                "learns to rebuild its inputs, which needs them in memory; train on a "
                "smaller dataset",
                where="dataset",
            )
        if len(self.train_index) == 0:
            raise DataError(
                f"dataset '{ds.name}' has no samples that task {self.task.name} trains on in "
                f"its training split{self.task.selection_hint()}",
                where="dataset",
            )
        y_train = ds.y[self.train_index]
        # samples on disk stay there: statistics stream over them, batches are read per step
        x_train = ds.x.take(self.train_index) if ds.on_disk else ds.x[self.train_index]
        classes = self.task.num_classes
        self.config = resolve_train_config(
            cfg,
            n_train=len(y_train),
            loss=self.task.loss,
            kind=ds.kind,
            n_val=len(self.val_index),
            y_train=y_train if classes else None,
            num_classes=classes,
            pretrained=starts_pretrained(spec, cfg.init),
            task=task_class.name,
            model=spec.name,
        )
        self.device = distributed.local_device(resolve_device(self.config.device))
        torch.manual_seed(self.config.seed)  # the same seed gives the same initial weights
        self.network: Network = build_network(spec, ds.input_shape, self.task.num_outputs)
        self.task.output_activation = self.network.output_activation
        self.task.check_output(self.network.output_shape, ds.input_shape)
        self.config = self.task.adapt_config(self.config)
        self.transfer: dict[str, Any] = self._start_from(init, ds)
        self.freezer: Freezer | None = self._freezer()
        if distributed.active() is not None:  # before the run is stored: one line, exit 2
            distributed.check_shareable(
                self.network, self.task.make_optimizers(self.network, self.config)
            )
        self.sample_weights = (
            balanced_weights(y_train, classes)
            if self.config.balanced_sampling and classes
            else None
        )
        self.standardizer = _standardizer(spec, x_train, ds)
        self.augmenter = Augmenter(
            self.config.augment,
            self.config.seed,
            mean=self.standardizer.mean,
            std=self.standardizer.std,
        )
        self.augmenter.check_applicable(ds.kind)

    def _check_data(self, ds: Dataset) -> list[dict[str, Any]]:
        """The data checks' warnings and hints on the run's splits (stored with the run).

        Raises:
            DataError: a check found a blocker; the first one is the message.
        """
        report = check_dataset(ds, self.splits, task=self.task.name)
        if report.blockers:
            first = report.blockers[0]
            more = len(report.blockers) - 1
            also = f" ({more} more blocker{'s' if more > 1 else ''})" if more else ""
            raise DataError(
                f"data check failed for dataset '{ds.name}': {first.line()}{also}; "
                f"`lernwerk datasets check {ds.name}` lists every finding",
                where="dataset",
            )
        return [f.to_dict() for f in report.findings]

    def _start_from(self, init: InitSource | None, ds: Dataset) -> dict[str, Any]:
        """Load the weights `init` names into the network; what was loaded, as recorded."""
        name = self.config.init
        pretrained = pretrained_layers(self.network)
        if name is None:
            return {"init": "imagenet", "loaded_layers": pretrained} if pretrained else {}
        if name in PRETRAINED_NAMES:
            if not pretrained:
                raise SpecError(
                    f"init: '{name}' starts from the ImageNet weights of the "
                    f"efficientnet-lite0 backbone; model '{self.network.spec.name}' has no "
                    "EfficientNetLite0 layer with weights: imagenet (use --model "
                    "efficientnet-lite0)",
                    where="init",
                )
            return {"init": "imagenet", "loaded_layers": pretrained}
        record: dict[str, Any] = {"init": name}
        if init is None:  # a resume: its checkpoint holds the weights
            return record
        if init.input_shape is not None and tuple(init.input_shape) != tuple(ds.input_shape):
            raise SpecError(
                f"init: run {name} was trained on inputs of shape "
                f"{'x'.join(map(str, init.input_shape))}; dataset '{ds.name}' has "
                f"{'x'.join(map(str, ds.input_shape))}; start from a run on data of the same shape",
                where="init",
            )
        loaded, fresh = load_fitting_layers(self.network, init.spec, init.weights)
        if not loaded:
            raise SpecError(
                f"init: no layer of run {name} fits model '{self.network.spec.name}' "
                "(the layer types or weight shapes differ at every position)",
                where="init",
            )
        if init.run_name:
            record["init_run_name"] = init.run_name
        return {**record, "loaded_layers": loaded, "new_layers": fresh}

    def _freezer(self) -> Freezer | None:
        """The layers `freeze` keeps out of training, recorded in `transfer`."""
        cfg = self.config
        positions = frozen_layers(self.network, cfg.freeze)
        if not positions:
            if cfg.unfreeze_after is not None:
                raise SpecError(
                    "unfreeze_after: nothing is frozen; give freeze as well (e.g. features)",
                    where="unfreeze_after",
                )
            return None
        table = self.network.layer_table
        self.transfer["frozen_layers"] = [table[i][0] for i in positions]
        if cfg.unfreeze_after is not None:
            self.transfer["unfreeze_after"] = cfg.unfreeze_after
            self.transfer["backbone_lr_factor"] = cfg.backbone_lr_factor
        return Freezer(
            [self.network.layers[i] for i in positions],
            cfg.unfreeze_after,
            cfg.backbone_lr_factor,
        )

    def training_data(self, ds: Dataset, device: torch.device) -> TrainingData:
        nhwc = uses_channels_last(self.network, device)

        def prepare(x: torch.Tensor) -> torch.Tensor:
            return to_training_layout(self.standardizer.transform(x).to(device), nhwc)

        def part(idx: torch.Tensor) -> tuple[torch.Tensor | StreamedRows, torch.Tensor]:
            if ds.on_disk:  # read and prepared a batch at a time
                return StreamedRows(ds.x, idx, prepare), self.task.targets(ds.y[idx].to(device))
            x, y = ds.subset(idx)
            return self.task.pairs(prepare(x), y.to(device))

        x_train, y_train = part(self.train_index)
        x_val, y_val = part(self.val_index)
        return TrainingData(x_train, y_train, x_val, y_val, sample_weights=self.sample_weights)

    def calibrate(self, ds: Dataset) -> None:
        """Let the task fit what it sets after training: an anomaly score's error scale on
        the training samples it trained on, and its threshold on the whole validation
        split, or on the training samples when validation holds none that the task trains
        on (no normal samples); the network is on the CPU."""
        if ds.on_disk:  # the tasks that calibrate train in memory only (see __init__)
            return
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
