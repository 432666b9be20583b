"""Tasks: what differs between classification, regression and the rest, kept out of the loop.

A task decides which datasets it trains on (`claim`, `check_data`), its outputs, loss,
training step and optimizers, its metrics, the preset it prefers, the results page's view
of a split (`evaluation_view`) and the answer a prediction gives (`prediction_rows`); the
run, the loop and the pages call it and never ask for its name. A new task (forecasting,
anomaly detection, a GAN's two steps) is a new class registered in `TASKS` under the name
a user writes (`register_task`), not a new loop. Forecasting and anomaly detection live in
`tasks_sequence`, the pieces of the views in `tasks_views`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim import Optimizer

from lernwerk.config import TrainConfig
from lernwerk.errors import Conflict, DataError, SpecError
from lernwerk.evaluation.curves import binary_curves, regression_points
from lernwerk.evaluation.metrics import classification_metrics, regression_metrics
from lernwerk.models.ensemble import EnsembleBlock, ensemble_block, member_outputs
from lernwerk.training.optim import make_optimizer
from lernwerk.training.tasks_views import (
    SERIES_SHOWN,
    Predicts,
    SplitSamples,
    class_answer,
    classified_samples,
    plain_values,
    regressed_samples,
    typical_series,
    value_answer,
)

if TYPE_CHECKING:
    from pathlib import Path

    from lernwerk.data import Dataset
    from lernwerk.training.callbacks import Listener


@dataclass
class Task:
    """Base: `loss` is resolved (never None) and `num_outputs` is what the network emits."""

    loss: str
    num_outputs: int
    output_activation: str = "linear"

    name: ClassVar[str] = "task"
    score_name: ClassVar[str] = "score"  # the per-epoch training metric next to the loss
    losses: ClassVar[tuple[str, ...]] = ()  # the losses that suit the task, the default first

    @classmethod
    def create(
        cls, loss: str | None, *, classes: list[str], y_train: torch.Tensor | None, **options: Any
    ) -> Task:
        """Resolve the loss and the outputs for a dataset (`make_task` calls this)."""
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Task:
        """Rebuild a task saved with a model (`to_dict`)."""
        raise NotImplementedError

    @classmethod
    def claim(cls, ds: Dataset) -> int:
        """How well the task suits a run on `ds` that names no task: 0 not at all; the
        registered task with the highest claim trains (ties: the one registered first)."""
        return 0

    @classmethod
    def check_data(cls, ds: Dataset) -> None:
        """Raise `SpecError` or `DataError` when the task cannot train on `ds`."""

    @classmethod
    def default_model(cls, kind: str | None) -> str | None:
        """The preset a dataset of `kind` starts with for this task; None: the general
        rule of `training.defaults.default_model`."""
        return None

    @property
    def num_classes(self) -> int:
        """Classes the network tells apart (class-balanced sampling draws by them); 0 when
        its targets are not classes."""
        return 0

    @classmethod
    def _resolve_loss(cls, loss: str | None) -> str:
        loss = loss or cls.losses[0]
        if loss not in cls.losses:
            raise SpecError(
                f"loss '{loss}' does not suit {cls.name}; use {' or '.join(cls.losses)}",
                where="loss",
            )
        return loss

    def select(self, y: torch.Tensor) -> torch.Tensor:
        """(N,) bool: the samples of a split that the network trains and validates on."""
        return torch.ones(len(y), dtype=torch.bool)

    def selection_hint(self) -> str:
        """Which samples `select` keeps, in words (', the normal ones (class ok)'), for the
        message when a split holds none."""
        return ""

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        return y

    # The network learns the inputs themselves (an autoencoder): its targets cannot come
    # from the labels alone, and it fits a threshold on whole splits after training
    # (`calibrate`), so it trains on data held in memory only.
    targets_are_inputs = False

    def pairs(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets) the loop trains on, from standardised inputs and labels."""
        return x, self.targets(y)

    def adapt_config(self, config: TrainConfig) -> TrainConfig:
        """The resolved config as the task trains the network it was given (e.g. one epoch
        for a network that learns in one pass); by default unchanged."""
        return config

    def make_optimizers(self, model: torch.nn.Module, config: TrainConfig) -> list[Optimizer]:
        """The optimizers `train_step` steps: one over all weights; a task with two
        networks in one (a GAN's generator and critic) makes one for each."""
        return [make_optimizer(model.parameters(), config)]

    def train_step(
        self,
        model: torch.nn.Module,
        x: torch.Tensor,
        targets: torch.Tensor,
        optimizers: list[Optimizer],
        *,
        autocast: AbstractContextManager | None = None,
        grad_clip_norm: float | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One optimisation step on a batch; returns the batch's mean loss and the
        network's outputs (both still on the device, not synced).

        The loop calls it once per batch; a task that steps differently (two networks,
        two losses) overrides it and keeps its own optimizers' order.

        An ensemble (`models.ensemble`) optimises the sum of its members' own losses,
        each member as if alone, and returns the loss of its averaged prediction.
        """
        block = ensemble_block(model)
        with autocast if autocast is not None else nullcontext():
            outputs = model(x)
            loss = self.loss_fn(outputs, targets)
            if block is not None and block.last_members is not None:
                objective = torch.stack(
                    [self.loss_fn(member, targets) for member in block.last_members]
                ).sum()
                loss = loss.detach()
            else:
                objective = loss
        optimizer = optimizers[0]
        optimizer.zero_grad(set_to_none=True)
        objective.backward()
        if grad_clip_norm:  # an ensemble's members each by their own norm
            for group in _clip_groups(model, block):
                torch.nn.utils.clip_grad_norm_(group, grad_clip_norm)
        optimizer.step()
        return loss, outputs

    def member_batch(self, model: torch.nn.Module, targets: torch.Tensor) -> torch.Tensor:
        """(M, 2): each ensemble member's mean loss and summed score on the batch of the
        last `train_step` (on the device, no sync); (0, 2) for a single network."""
        block = ensemble_block(model)
        if block is None or block.last_members is None:
            return torch.zeros((0, 2), device=targets.device)
        with torch.no_grad():
            return torch.stack(
                [
                    torch.stack(
                        [self.loss_fn(m, targets).float(), self.batch_score(m, targets).float()]
                    )
                    for m in block.last_members.detach()
                ]
            )

    def member_metrics(
        self, model: torch.nn.Module, x: torch.Tensor, targets: torch.Tensor, prefix: str
    ) -> dict[str, float]:
        """Each ensemble member's loss and score on inputs `x`, in eval mode, keyed
        `member<i>_<prefix>_loss` and `member<i>_<prefix>_<score>`; empty for a single
        network."""
        if ensemble_block(model) is None or len(x) == 0:
            return {}
        was_training = model.training
        model.eval()
        try:
            with torch.inference_mode():
                chunks = [member_outputs(model, x[i : i + 4096]) for i in range(0, len(x), 4096)]
        finally:
            model.train(was_training)
        members = torch.cat(chunks, dim=1)  # (M, N, K)
        metrics: dict[str, float] = {}
        with torch.inference_mode():
            for i, out in enumerate(members, start=1):
                metrics[f"member{i}_{prefix}_loss"] = float(self.loss_fn(out, targets))
                score = float(self.batch_score(out, targets)) / len(x)
                metrics[f"member{i}_{prefix}_{self.score_name}"] = score
        return metrics

    def loss_fn(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def batch_score(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Sum over the batch of the score (stays on the device: no sync)."""
        raise NotImplementedError

    # A cheaper way to the training score, for tasks that offer it: each step writes one
    # value per sample (`record_batch`, a single op) and the epoch scores them all at
    # once (`score_records`), instead of three or four small ops per step.
    record_dtype: ClassVar[torch.dtype | None] = None

    def record_batch(self, outputs: torch.Tensor, into: torch.Tensor) -> None:
        """Write what the score needs of each sample of the batch into `into` (B,)."""
        raise NotImplementedError

    def score_records(self, records: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The summed score of recorded samples against their targets."""
        raise NotImplementedError

    def predict(self, outputs: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
        """Network outputs -> probabilities (classification) or values (regression).

        `inputs` are the standardised inputs the outputs came from; tasks that compare
        the two (anomaly scores) need them.
        """
        raise NotImplementedError

    def details(self, outputs: torch.Tensor, inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """Everything a prediction shows, by name; by default the one array `predict` gives."""
        return {"prediction": self.predict(outputs, inputs)}

    def metrics(
        self, y_true: np.ndarray, predictions: np.ndarray, inputs: np.ndarray | None = None
    ) -> dict[str, Any]:
        """Metrics of predictions; `inputs` (raw, as the dataset holds them) where known."""
        raise NotImplementedError

    def check_output(self, output_shape: tuple[int, ...], input_shape: tuple[int, ...]) -> None:
        """Raise `SpecError` when a network's output does not suit the task."""

    def evaluation_view(
        self, predictor: Predicts, samples: SplitSamples, *, limit: int
    ) -> dict[str, Any]:
        """The results page's view of a split: `{"metrics", "classes", "samples", ...}`,
        at most `limit` samples, the interesting ones first. By default each sample is
        `{id, label, predicted}`, the largest errors first."""
        out = predictor.predict(samples.x)  # (N, K) values
        return {
            "metrics": self.metrics(samples.y, out, samples.x.numpy()),
            "classes": [],
            "samples": regressed_samples(samples.y, out, samples.ids, limit),
        }

    def answer(self, row: np.ndarray) -> dict[str, Any]:
        """One sample's answer from its row of `Predictor.predict`: `{"value"}` or
        `{"values"}` by default."""
        return value_answer(row)

    def prediction_rows(
        self, predictor: Predicts, x: torch.Tensor, *, with_series: bool = False
    ) -> list[dict[str, Any]]:
        """Each sample's answer for raw inputs `x` (N, ...); `with_series` adds the input
        `series` as the model saw it, for plots."""
        results = [self.answer(row) for row in predictor.predict(x)]
        if with_series:
            for i, r in enumerate(results):
                r["series"] = x[i].tolist()
        return results

    def verdict(self, answer: dict[str, Any]) -> dict[str, Any]:
        """One answer of `prediction_rows` as a hand-off verdict (`lernwerk watch`):
        `{"verdict": text, ...}` with what backs it; by default the value(s)."""
        value = answer.get("value", answer.get("values"))
        return {"verdict": str(value), "value": value}

    def calibrate(
        self,
        network: torch.nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        x_fit: torch.Tensor | None = None,
    ) -> None:
        """Fit what the task sets after training (a threshold) on standardised validation
        inputs `x` and their labels `y`, and on `x_fit`, the standardised inputs the
        network trained on; most tasks have nothing to fit."""

    @property
    def decision_threshold(self) -> float | None:
        """The score above which a sample is flagged (anomaly detection); None: no such."""
        return None

    def set_threshold(self, threshold: float | None, rule: str) -> None:
        """Move the threshold that turns scores into flags (`rule`: how it was chosen).

        Raises:
            Conflict: the task has no threshold.
        """
        raise Conflict(
            f"a {self.name} run has no threshold; only an anomaly detector has a threshold",
            where="threshold",
        )

    def listeners(self, run_dir: Path) -> list[Listener]:
        """Listeners the task adds to its runs' training (a generator's sample grids, drawn
        into `run_dir` after each epoch); none by default."""
        return []

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.name,
            "loss": self.loss,
            "num_outputs": self.num_outputs,
            "output_activation": self.output_activation,
        }


LABEL_SMOOTHING = 0.1  # loss label_smoothing: the share of each target spread over all classes
FOCAL_GAMMA = 2.0  # loss focal: Lin et al. 2017's gamma
HUBER_DELTA = 1.0  # loss huber: on standardised targets, one standard deviation


def focal_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The mean focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection"):
    cross-entropy weighted by (1 - p_true)^gamma, so confident right answers count little.

    Args:
        logits: (N, C) raw outputs.
        targets: (N,) class indices.
    """
    ce = F.cross_entropy(logits.float(), targets, reduction="none")  # (N,)
    p_true = torch.exp(-ce)  # (N,) the probability of the true class
    return ((1 - p_true) ** FOCAL_GAMMA * ce).mean()


def _clip_groups(
    model: torch.nn.Module, block: EnsembleBlock | None
) -> list[list[torch.nn.Parameter]]:
    """The weights clipped together: all of a network's; an ensemble's members each
    apart, and the layers before them."""
    if block is None:
        return [list(model.parameters())]
    groups = [list(member.parameters()) for member in block.members]
    inside = {id(p) for p in block.parameters()}
    rest = [p for p in model.parameters() if id(p) not in inside]
    return [*groups, rest] if rest else groups


TASKS: dict[str, type[Task]] = {}


def register_task(cls: type[Task]) -> type[Task]:
    """Register a task class under its `name`, for `make_task` and `task_from_dict`."""
    TASKS[cls.name] = cls
    return cls


def _common(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "loss": d["loss"],
        "num_outputs": d["num_outputs"],
        "output_activation": d["output_activation"],
    }


@register_task
@dataclass
class ClassificationTask(Task):
    classes: list[str] = field(default_factory=list)
    name: ClassVar[str] = "classification"
    score_name: ClassVar[str] = "accuracy"
    losses: ClassVar[tuple[str, ...]] = (
        "cross_entropy",
        "binary_cross_entropy",
        "label_smoothing",
        "focal",
    )

    @classmethod
    def create(
        cls, loss: str | None, *, classes: list[str], y_train: torch.Tensor | None, **options: Any
    ) -> Task:
        loss = cls._resolve_loss(loss)
        if loss == "binary_cross_entropy" and len(classes) != 2:
            raise SpecError(
                f"loss binary_cross_entropy needs 2 classes; the dataset has {len(classes)}; "
                "use cross_entropy",
                where="loss",
            )
        outputs = 1 if loss == "binary_cross_entropy" else len(classes)
        return cls(loss=loss, num_outputs=outputs, classes=list(classes))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Task:
        return cls(**_common(d), classes=list(d["classes"]))

    @classmethod
    def claim(cls, ds: Dataset) -> int:
        return 1 if ds.task == "classification" else 0  # the dataset's kind of labels

    @classmethod
    def check_data(cls, ds: Dataset) -> None:
        if ds.task == "regression":
            raise SpecError(
                f"dataset '{ds.name}' has numeric targets; use task regression", where="task"
            )
        if ds.classes:
            check_every_class_has_samples(ds)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def binary_output(self) -> bool:
        return self.loss == "binary_cross_entropy"

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        return y.float().unsqueeze(1) if self.binary_output else y.long()

    def loss_fn(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.binary_output:
            return F.binary_cross_entropy_with_logits(outputs, targets)  # (N, 1) logits
        if self.loss == "label_smoothing":  # Szegedy et al. 2016, torch's own
            return F.cross_entropy(outputs, targets, label_smoothing=LABEL_SMOOTHING)
        if self.loss == "focal":
            return focal_loss(outputs, targets)
        return F.cross_entropy(outputs, targets)  # (N, C) logits, (N,) class indices

    def batch_score(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.binary_output:
            return ((outputs > 0).float() == targets).sum()
        return (outputs.argmax(dim=1) == targets).sum()

    record_dtype: ClassVar[torch.dtype | None] = torch.int64

    def record_batch(self, outputs: torch.Tensor, into: torch.Tensor) -> None:
        if self.binary_output:
            torch.gt(outputs[:, 0], 0, out=into)  # (B,) the predicted class, 0 or 1
        else:
            torch.argmax(outputs, dim=1, out=into)  # (B,) the predicted class

    def score_records(self, records: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (records == targets.reshape(records.shape)).sum()

    def predict(self, outputs: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
        if self.binary_output:
            p = torch.sigmoid(outputs[:, 0])  # (N,)
            return torch.stack([1 - p, p], dim=1)  # (N, 2)
        return torch.softmax(outputs.float(), dim=1)  # (N, C)

    def metrics(
        self, y_true: np.ndarray, predictions: np.ndarray, inputs: np.ndarray | None = None
    ) -> dict[str, Any]:
        return classification_metrics(y_true, predictions, self.classes)

    def evaluation_view(
        self, predictor: Predicts, samples: SplitSamples, *, limit: int
    ) -> dict[str, Any]:
        """Each sample `{id, label, predicted, confidence, probabilities}`, the misclassified
        first (most confident first); for sequences each class's typical shape (`typical`,
        the mean of its training series) and the series of the first samples listed."""
        if not self.classes:
            return super().evaluation_view(predictor, samples, limit=limit)
        out = predictor.predict(samples.x)  # (N, C) probabilities
        view: dict[str, Any] = {
            "metrics": self.metrics(samples.y, out, samples.x.numpy()),
            "classes": list(self.classes),
        }
        if len(self.classes) == 2 and len(np.unique(samples.y)) == 2:
            view["curves"] = binary_curves(samples.y, out[:, 1])  # class 1 is the positive
        listed = classified_samples(self.classes, samples.y, out, samples.ids, limit)
        if samples.ds.kind == "sequences":
            view["typical"] = typical_series(samples.ds, samples.train_idx)
            for s in listed[:SERIES_SHOWN]:
                s["series"] = plain_values(samples.x[samples.row(s["id"])])
        view["samples"] = listed
        return view

    def answer(self, row: np.ndarray) -> dict[str, Any]:
        return class_answer(self.classes, row) if self.classes else value_answer(row)

    def verdict(self, answer: dict[str, Any]) -> dict[str, Any]:
        """The predicted class, its probability and every class's."""
        if "predicted" not in answer:
            return super().verdict(answer)
        return {
            "verdict": answer["predicted"],
            "probability": answer["confidence"],
            "probabilities": answer.get("probabilities"),
        }

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "classes": list(self.classes)}


@register_task
@dataclass
class RegressionTask(Task):
    """Regression on standardised targets; `y_mean`/`y_std` travel with the model."""

    y_mean: float = 0.0
    y_std: float = 1.0
    name: ClassVar[str] = "regression"
    score_name: ClassVar[str] = "mae"
    losses: ClassVar[tuple[str, ...]] = ("mse", "mae", "huber")

    @classmethod
    def create(
        cls, loss: str | None, *, classes: list[str], y_train: torch.Tensor | None, **options: Any
    ) -> Task:
        loss = cls._resolve_loss(loss)
        y_mean, y_std = 0.0, 1.0
        if y_train is not None and len(y_train):
            y_mean = float(y_train.float().mean())
            y_std = float(y_train.float().std()) if y_train.numel() > 1 else 1.0
            y_std = y_std if y_std > 1e-8 else 1.0
        k = 1 if y_train is None or y_train.ndim == 1 else int(y_train.shape[1])
        return cls(loss=loss, num_outputs=k, y_mean=y_mean, y_std=y_std)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Task:
        return cls(**_common(d), y_mean=d["y_mean"], y_std=d["y_std"])

    @classmethod
    def claim(cls, ds: Dataset) -> int:
        return 1 if ds.task == "regression" else 0  # the dataset's kind of labels

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        y = y.float()
        y = y.unsqueeze(1) if y.ndim == 1 else y  # (N, K)
        return (y - self.y_mean) / self.y_std

    def _activated(self, outputs: torch.Tensor) -> torch.Tensor:
        if self.output_activation == "sigmoid":
            return torch.sigmoid(outputs)
        return outputs

    def loss_fn(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        outputs = self._activated(outputs)
        if self.loss == "mae":
            return F.l1_loss(outputs, targets)
        if self.loss == "huber":  # quadratic within one standard deviation, linear beyond
            return F.huber_loss(outputs, targets, delta=HUBER_DELTA)
        return F.mse_loss(outputs, targets)

    def batch_score(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        # mean absolute error in the target's own units, summed over the batch
        return (self._activated(outputs) - targets).abs().mean(dim=1).sum() * self.y_std

    def predict(self, outputs: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
        return self._activated(outputs.float()) * self.y_std + self.y_mean  # (N, K)

    def metrics(
        self, y_true: np.ndarray, predictions: np.ndarray, inputs: np.ndarray | None = None
    ) -> dict[str, Any]:
        if predictions.ndim == 2 and predictions.shape[1] == 1:
            predictions = predictions[:, 0]
        return regression_metrics(y_true, predictions)

    def evaluation_view(
        self, predictor: Predicts, samples: SplitSamples, *, limit: int
    ) -> dict[str, Any]:
        """The largest errors first, and with one value per sample `points`: predicted
        against true values and the residuals, for the scatter plots."""
        out = predictor.predict(samples.x)  # (N, K) values
        view: dict[str, Any] = {
            "metrics": self.metrics(samples.y, out, samples.x.numpy()),
            "classes": [],
            "samples": regressed_samples(samples.y, out, samples.ids, limit),
        }
        if out.ndim == 2 and out.shape[1] == 1 and len(out):
            view["points"] = regression_points(samples.y, out)
        return view

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "y_mean": self.y_mean, "y_std": self.y_std}


CLASSIFICATION_LOSSES = ClassificationTask.losses
REGRESSION_LOSSES = RegressionTask.losses


def check_every_class_has_samples(ds: Dataset) -> None:
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
