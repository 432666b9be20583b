"""The training loop. It emits events and knows nothing of who listens.

Data that fits in memory stays as tensors on the device and is batched by indexing:
no DataLoader, no per-sample Python, no device sync per step (the loss is summed on
the device and read only when an event needs it).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch

from lernwerk.config import TrainConfig
from lernwerk.data.images.augment import Augmenter
from lernwerk.errors import RunFailed as RunFailedError
from lernwerk.events import (
    BatchEnded,
    CheckpointSaved,
    EpochEnded,
    Event,
    RunFailed,
    RunFinished,
    RunStarted,
    RunStopped,
)
from lernwerk.models.ensemble import member_count
from lernwerk.models.network import Network, batched_forward
from lernwerk.training import distributed
from lernwerk.training.callbacks import Listener, Throttle
from lernwerk.training.checkpoint import (
    TrainerState,
    checkpoint_param_groups,
    load_checkpoint,
    save_checkpoint,
)
from lernwerk.training.optim import lr_at
from lernwerk.training.precision import autocast, channels_last, rows, uses_channels_last
from lernwerk.training.sampling import epoch_order
from lernwerk.training.tasks import Task
from lernwerk.training.threads import free_threads
from lernwerk.training.transfer import Freezer

LOWER_IS_BETTER = ("loss", "mse", "mae", "log_loss")

# Below this many FLOPs per training step (forward + backward), a second thread costs more
# in synchronisation than it saves; measured in bench/ (a 2-16-2 MLP: ~10x slower on 2
# threads when the other core is busy).
SINGLE_THREAD_FLOPS_PER_STEP = 50e6


def intra_op_threads(model: Network, batch_size: int, available: int) -> int:
    """How many intra-op threads a step of this size deserves: 1 for a small step, else the
    cores that are idle now (others' work on the machine takes the rest; see threads.py)."""
    from lernwerk.models.summary import summarize

    flops_per_step = 3 * summarize(model).flops_per_sample * batch_size  # backward ≈ 2× forward
    if flops_per_step < SINGLE_THREAD_FLOPS_PER_STEP:
        return 1
    return free_threads(available)


@dataclass
class TrainingData:
    """The splits the loop sees, preprocessed and on the training device."""

    x_train: torch.Tensor  # (N, *input_shape)
    y_train: torch.Tensor  # task targets, (N,) or (N, K)
    x_val: torch.Tensor
    y_val: torch.Tensor
    sample_weights: torch.Tensor | None = None  # (N,) on the CPU: balanced draws; None: shuffle


class StopSignal:
    """A stop request from outside the loop (Ctrl-C, the web page's Stop button)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = "stop requested"

    def set(self, reason: str = "stop requested") -> None:
        self.reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


def fingerprint(spec: dict, config: TrainConfig) -> str:
    """A hash of what must not change between a checkpoint and its resume."""
    # the epoch budget, the device, the number format and the threads may change on resume
    # (and the time budget; `rules` only records why each setting is what it is)
    skip = ("epochs", "device", "precision", "threads", "time_budget_s", "rules")
    fixed = {k: v for k, v in config.to_dict().items() if k not in skip}
    if not config.augment.enabled:
        fixed.pop("augment", None)  # checkpoints from before augmentation existed still fit
    # checkpoints from before these fields existed still fit while they are unused
    if not fixed.get("unfreeze_after"):
        fixed.pop("backbone_lr_factor", None)
    for key in (
        "balanced_sampling",
        "normal_class",
        "threshold_quantile",
        "init",
        "freeze",
        "unfreeze_after",
    ):
        if not fixed.get(key):
            fixed.pop(key, None)
    fixed["early_stopping"] = fixed.get("early_stopping") or None  # 0 and None both: off
    if not fixed.get("keep_best"):
        fixed.pop("keep_best", None)
    if fixed.get("schedule") != "plateau":
        fixed.pop("plateau_factor", None)
        fixed.pop("plateau_patience", None)
    blob = json.dumps({"spec": spec, "config": fixed}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Trainer:
    """Fits a network for a task under a resolved `TrainConfig`, emitting events.

    Args:
        model: the network, already on `device`.
        task: the task object (loss, scores, predictions).
        config: a resolved config (epochs, batch_size, lr, loss set).
        run_id: stamped on every event.
        listeners: progress bars, history, store writers, early stopping ...
        checkpoint_path: where to write a checkpoint after each epoch (None: never).
            Epochs shorter than `checkpoint_interval_s` are checkpointed at most that
            often (and always after the last epoch), so tiny epochs are not slowed by I/O.
        stop_signal: set from outside to stop after the current step.
        augmenter: transforms each training batch (random, seeded); None: none.
        freezer: layers kept out of training (and when they join it); None: all train.
        batch_event_interval_s: at most one BatchEnded event per this many seconds.
    """

    def __init__(
        self,
        model: Network,
        task: Task,
        config: TrainConfig,
        *,
        run_id: str,
        device: torch.device,
        listeners: list[Listener] | None = None,
        checkpoint_path: Path | None = None,
        stop_signal: StopSignal | None = None,
        augmenter: Augmenter | None = None,
        freezer: Freezer | None = None,
        batch_event_interval_s: float = 0.2,
        checkpoint_interval_s: float = 2.0,
    ) -> None:
        assert config.epochs and config.batch_size and config.lr and config.loss, "resolve first"
        self.model, self.task, self.config = model, task, config
        self.run_id, self.device = run_id, device
        self.listeners = list(listeners or [])
        for listener in self.listeners:
            listener.trainer = self
        self.checkpoint_path = checkpoint_path
        self.checkpoint_throttle = Throttle(checkpoint_interval_s)
        self.stop_signal = stop_signal or StopSignal()
        self.augmenter = augmenter if augmenter is not None and augmenter.enabled else None
        self.batch_throttle = Throttle(batch_event_interval_s)
        self.freezer = freezer
        if freezer is not None:
            freezer.freeze()  # before the optimizers: they leave frozen weights out
        self.optimizers = task.make_optimizers(model, config)
        self.shuffle_generator = torch.Generator().manual_seed(config.seed)
        self.state = TrainerState()
        self.best_weights: dict[str, torch.Tensor] | None = None
        self.fingerprint = fingerprint(model.spec.to_dict(), config)
        self._stop_reason: str | None = None
        self._stop_is_finish = False
        # in a process group: this rank's place; rank 0 alone writes and decides to stop
        self.world = distributed.active()
        self._ddp: torch.nn.Module | None = None  # the DistributedDataParallel wrapper

    # -- control ---------------------------------------------------------------------------

    def request_stop(self, reason: str, *, finished: bool = False) -> None:
        """Stop after the current step; `finished` marks a normal end (early stopping)."""
        if self._stop_reason is None:
            self._stop_reason, self._stop_is_finish = reason, finished

    @property
    def stopped_by_request(self) -> bool:
        """Whether the run ended on a stop request (not on its epoch budget or early stopping)."""
        return self._stop_reason is not None and not self._stop_is_finish

    def _should_stop(self) -> bool:
        if self._stop_reason is None and self.stop_signal.is_set():
            self._stop_reason = self.stop_signal.reason
        if self.world is None:
            return self._stop_reason is not None
        # every rank asks at the same points; rank 0's answer holds for all
        stop = distributed.rank0_decides(self._stop_reason is not None)
        if stop and self._stop_reason is None:
            self._stop_reason = "stopped by rank 0"
        return stop

    @property
    def keeps_best(self) -> bool:
        """Whether the run ends with its best epoch's weights (early stopping, keep_best)."""
        return bool(self.config.early_stopping or self.config.keep_best)

    def emit(self, event: Event) -> None:
        for listener in self.listeners:
            listener.on_event(event)

    def resume_from(self, path: Path) -> None:
        """Load a checkpoint written by this trainer's `fit` for the same spec and config."""
        if self.freezer is not None and checkpoint_param_groups(path) > len(
            self.optimizers[0].param_groups
        ):  # saved after the frozen layers joined: they have their group in it
            self.freezer.unfreeze(self.optimizers[0])
        self.state, self.best_weights, extra = load_checkpoint(
            path,
            self.model,
            self.optimizers,
            shuffle_generator=self.shuffle_generator,
            fingerprint=self.fingerprint,
        )
        if self.augmenter is not None:
            self.augmenter.load_state_dict(_strip(extra, "augment."))

    # -- the loop --------------------------------------------------------------------------

    def steps_per_epoch(self, n: int, bs: int | None = None) -> int:
        """Steps over `n` samples in batches of `bs` (default: the config's batch size)."""
        bs = min(bs or self.config.batch_size or n, n)
        steps = math.ceil(n / bs)
        # a last batch of one sample breaks batch norm and adds only noise: drop it
        return steps - 1 if steps > 1 and n % bs == 1 else steps

    def fit(self, data: TrainingData) -> TrainerState:
        """Train until the epochs are done or a stop is requested; return the state.

        Raises:
            RunFailed (lernwerk.errors): the loss became NaN or infinite.
        """
        cfg = self.config
        n = len(data.x_train)
        if n == 0:
            raise RunFailedError("the training split is empty; lower val_split/test_split")
        if self.world is not None:  # this rank's share of each epoch, its part of each batch
            global_bs = min(cfg.batch_size or n, n)
            n = distributed.share_size(n, self.world.size)
            bs = min(distributed.rank_batch_size(global_bs, self.world.size), n)
            steps = self.steps_per_epoch(n, bs)
        else:
            bs = min(cfg.batch_size or n, n)
            steps = self.steps_per_epoch(n)
        total_steps = steps * (cfg.epochs or 1)
        started = time.monotonic() - self.state.elapsed_s
        threads = torch.get_num_threads()
        # the count a run started with stays: a convolution's sums over a batch split across
        # threads, so another count gives other last digits
        # (but never more than this machine has: a run resumed on a smaller one)
        kept = min(self.state.threads, threads) if self.state.threads else None
        self.state.threads = cfg.threads or kept or intra_op_threads(self.model, bs, threads)
        torch.set_num_threads(self.state.threads)
        nhwc = uses_channels_last(self.model, self.device)
        layout = channels_last(self.model, self.optimizers) if nhwc else nullcontext()
        try:
            with layout:
                if self.world is not None:  # after the layout: DDP's buckets take the weights'
                    self._start_ddp()
                return self._fit(data, bs, steps, total_steps, started)
        finally:
            torch.set_num_threads(threads)

    def _fit(
        self, data: TrainingData, bs: int, steps: int, total_steps: int, started: float
    ) -> TrainerState:
        cfg = self.config
        self.emit(
            RunStarted(
                self.run_id,
                epochs=cfg.epochs or 0,
                steps_per_epoch=steps,
                start_epoch=self.state.epoch,
                device=str(self.device),
                num_parameters=sum(p.numel() for p in self.model.parameters()),
            )
        )
        try:
            while self.state.epoch < (cfg.epochs or 0) and not self._should_stop():
                self._train_epoch(data, bs, steps, total_steps, started)
        except RunFailedError as exc:
            self.state.elapsed_s = time.monotonic() - started
            self.emit(RunFailed(self.run_id, self.state.epoch, self.state.elapsed_s, str(exc)))
            raise
        self.state.elapsed_s = time.monotonic() - started
        if self.keeps_best and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)  # restore the best epoch
        if self.stopped_by_request:
            self.emit(
                RunStopped(self.run_id, self.state.epoch, self.state.elapsed_s, self._stop_reason)
            )
        else:
            self.emit(
                RunFinished(
                    self.run_id,
                    self.state.epoch,
                    self.state.elapsed_s,
                    self.state.best_epoch,
                    self.state.best_metric,
                    reason=self._stop_reason,
                )
            )
        return self.state

    def _train_epoch(
        self, data: TrainingData, bs: int, steps: int, total_steps: int, started: float
    ) -> None:
        cfg, model, task, optimizers = self.config, self.model, self.task, self.optimizers
        epoch = self.state.epoch + 1
        self._unfreeze_if_due(self.state.epoch)
        step_model = self._ddp or model  # the DDP wrapper averages the ranks' gradients
        step_model.train()
        if self.freezer is not None:
            self.freezer.hold_statistics()
        perm = epoch_order(len(data.x_train), self.shuffle_generator, data.sample_weights)
        if self.world is not None:  # every rank draws the same order and takes its share
            perm = distributed.epoch_share(perm, self.world)
        perm = perm.to(self.device)
        loss_sum = torch.zeros((), device=self.device)  # the sum of the batches' mean losses
        score_sum = torch.zeros((), device=self.device)
        records = (
            torch.empty(steps * bs, dtype=task.record_dtype, device=self.device)
            if task.record_dtype is not None
            else None
        )  # (samples,) e.g. each sample's predicted class, scored at the epoch's end
        members = member_count(model)  # an ensemble's members' curves; 0: none
        member_sums = torch.zeros((members, 2), device=self.device)  # (M, loss and score)
        seen = 0
        # set once per epoch (the plateau schedule changes the rate between epochs)
        constant_lr = (cfg.schedule or "constant") in ("constant", "plateau")
        amp = autocast(cfg.precision, self.device) if cfg.precision == "bfloat16" else None
        for step in range(steps):
            idx = perm[step * bs : (step + 1) * bs]
            xb = rows(data.x_train, idx)  # (B, *input_shape), in x_train's memory layout
            yb = data.y_train.index_select(0, idx)
            if self.augmenter is not None:
                xb = self.augmenter(xb)
            if step == 0 or not constant_lr:
                lr = lr_at(self.state.global_step, total_steps, steps, cfg) * self.state.lr_scale
                for optimizer in optimizers:
                    for group in optimizer.param_groups:
                        group["lr"] = lr * group.get("lr_factor", 1.0)
            loss, out = task.train_step(
                step_model, xb, yb, optimizers, autocast=amp, grad_clip_norm=cfg.grad_clip_norm
            )
            n = len(idx)
            with torch.no_grad():  # cheaper than detaching each tensor
                # a short last batch weighs by its size; every other one weighs 1
                loss_sum.add_(loss if n == bs else loss * (n / bs))
                if records is not None:
                    task.record_batch(out, records[seen : seen + n])
                else:
                    score_sum.add_(task.batch_score(out, yb))
                if members:
                    batch = task.member_batch(model, yb)  # (M, 2)
                    batch[:, 0] *= n / bs
                    member_sums.add_(batch)
            seen += n
            self.state.global_step += 1
            if self.batch_throttle.ready():
                running = float(loss_sum) * bs / seen  # in a group: rank 0's share
                if self.world is None:  # in a group, every rank checks the summed epoch
                    self._check_finite(running, epoch, step + 1)
                self.emit(
                    BatchEnded(
                        self.run_id, epoch, step + 1, steps, running, time.monotonic() - started
                    )
                )
            if self._should_stop():
                return  # the stop keeps the weights as they are; the epoch is not counted
        if records is not None:
            targets = data.y_train.index_select(0, perm[:seen])
            score_sum = task.score_records(records[:seen], targets)
        if self.world is not None:  # the sums and counts of all ranks
            local = [loss_sum * bs, torch.tensor(seen, device=self.device), score_sum]
            sums = distributed.all_sum(torch.stack([v.to(torch.float64) for v in local]))
            train_loss, seen_all = float(sums[0]) / float(sums[1]), float(sums[1])
            score = float(sums[2]) / seen_all
            if len(member_sums):  # an ensemble's members: their sums over all ranks too
                member_sums = distributed.all_sum(member_sums.to(torch.float64))
        else:
            train_loss, score = float(loss_sum) * bs / seen, float(score_sum) / seen
            seen_all = float(seen)
        self._check_finite(train_loss, epoch, steps)
        metrics = {"train_loss": train_loss, f"train_{task.score_name}": score}
        for i, (m_loss, m_score) in enumerate(member_sums.tolist(), start=1):
            metrics[f"member{i}_train_loss"] = m_loss * bs / seen_all
            metrics[f"member{i}_train_{task.score_name}"] = m_score / seen_all
        if self.world is None or self.world.is_writer:  # rank 0 validates for all
            metrics.update(self.validate(data))
        metrics["lr"] = lr
        self.state.epoch = epoch
        self._track_best(metrics)
        self.state.elapsed_s = time.monotonic() - started
        self.emit(EpochEnded(self.run_id, epoch, cfg.epochs or 0, metrics, self.state.elapsed_s))
        last_epoch = epoch == cfg.epochs or self._should_stop()
        writes = self.checkpoint_path is not None and (self.world is None or self.world.is_writer)
        if writes and (self.checkpoint_throttle.ready() or last_epoch):
            save_checkpoint(
                self.checkpoint_path,
                model,
                optimizers,
                self.state,
                shuffle_generator=self.shuffle_generator,
                best_weights=self.best_weights,
                fingerprint=self.fingerprint,
                extra=self._extra_state(),
            )
            self.emit(CheckpointSaved(self.run_id, epoch, str(self.checkpoint_path)))

    def _unfreeze_if_due(self, epochs_done: int) -> None:
        if self.freezer is not None and self.freezer.due(epochs_done):
            self.freezer.unfreeze(self.optimizers[0])
            if self._ddp is not None:  # DDP reduces the weights it was built with: rebuild
                self._ddp = self._wrap_ddp()

    def _start_ddp(self) -> None:
        """Wrap the network in DistributedDataParallel (rank 0's weights go to all ranks)."""
        assert self.world is not None
        distributed.check_shareable(self.model, self.optimizers)
        self._ddp = self._wrap_ddp()

    def _wrap_ddp(self) -> torch.nn.Module:
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(self.model, device_ids=ids)

    def _extra_state(self) -> dict[str, torch.Tensor]:
        if self.augmenter is None:
            return {}
        return {f"augment.{k}": v for k, v in self.augmenter.state_dict().items()}

    def validate(self, data: TrainingData) -> dict[str, float]:
        """Loss and score on the validation split (empty dict when there is none)."""
        if len(data.x_val) == 0:
            return {}
        out = batched_forward(self.model, data.x_val)
        with torch.inference_mode():
            loss = float(self.task.loss_fn(out, data.y_val))
            score = float(self.task.batch_score(out, data.y_val)) / len(data.x_val)
        members = self.task.member_metrics(self.model, data.x_val, data.y_val, "val")
        return {"val_loss": loss, f"val_{self.task.score_name}": score, **members}

    def _track_best(self, metrics: dict[str, float]) -> None:
        monitor = self.config.monitor
        if monitor not in metrics:
            return
        value = metrics[monitor]
        lower = any(monitor.endswith(s) for s in LOWER_IS_BETTER)
        best = self.state.best_metric
        if best is None or (value < best if lower else value > best):
            self.state.best_metric, self.state.best_epoch = value, self.state.epoch
            if self.keeps_best:
                self.best_weights = {
                    k: v.detach().clone() for k, v in self.model.state_dict().items()
                }

    def _check_finite(self, loss: float, epoch: int, step: int) -> None:
        if not math.isfinite(loss):
            raise RunFailedError(
                f"the training loss became {loss} in epoch {epoch}, step {step}; "
                f"try a lower learning rate (now {self.config.lr:g}) or gradient clipping"
            )


def _strip(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
