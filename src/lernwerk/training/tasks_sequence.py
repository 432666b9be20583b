"""Forecasting and anomaly detection: two more tasks for the same loop.

- `ForecastingTask`: regression on the next `horizon` steps of a series, measured against
  the naive forecast (the last value seen, carried forward).
- `AnomalyTask`: an autoencoder learns to rebuild normal samples only; a sample's score
  is its reconstruction error measured against the error normal samples have at each
  time step, and a threshold chosen on validation data after training (`calibrate`)
  turns scores into flags. The error scale and the threshold are saved with the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from lernwerk.errors import DataError, SpecError
from lernwerk.evaluation.sequence_metrics import (
    anomaly_metrics,
    best_threshold,
    forecast_metrics,
)
from lernwerk.models.network import batched_forward
from lernwerk.models.registry import fmt_shape
from lernwerk.training.tasks import RegressionTask, Task, _common, register_task
from lernwerk.training.tasks_views import (
    SERIES_SHOWN,
    Predicts,
    SplitSamples,
    finite,
    plain_values,
    samples_apart,
)

if TYPE_CHECKING:
    from lernwerk.data import Dataset

DEFAULT_NORMAL_CLASS = "ok"
DEFAULT_QUANTILE = 0.99
MIN_SCALE_SAMPLES = 5  # normal training samples needed to fit the error scale
STD_FLOOR = 0.05  # the error spread is at least this share of its median over positions
ERROR_WINDOW_SHARE = 32  # a sequence's errors are averaged over 1/32 of its length


@register_task
@dataclass
class ForecastingTask(RegressionTask):
    """The next steps of one channel from a window of the past (standardised targets)."""

    target_channel: int = 0
    name: ClassVar[str] = "forecasting"

    @classmethod
    def create(
        cls, loss: str | None, *, classes: list[str], y_train: torch.Tensor | None, **options: Any
    ) -> Task:
        base = RegressionTask.create(loss, classes=classes, y_train=y_train)
        assert isinstance(base, RegressionTask)
        return cls(
            loss=base.loss,
            num_outputs=base.num_outputs,
            y_mean=base.y_mean,
            y_std=base.y_std,
            target_channel=int(options.get("target_channel", 0)),
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Task:
        return cls(
            **_common(d), y_mean=d["y_mean"], y_std=d["y_std"], target_channel=d["target_channel"]
        )

    @classmethod
    def claim(cls, ds: Dataset) -> int:
        return 2 if ds.meta.get("forecast") else 0  # windows cut from one series: forecast

    @classmethod
    def check_data(cls, ds: Dataset) -> None:
        if not ds.meta.get("forecast"):
            raise SpecError(
                f"dataset '{ds.name}' holds no forecast windows; forecasting needs windows cut "
                "from one long series (the seasonal built-in, or "
                "lernwerk.data.sequences.forecasting.windows_dataset)",
                where="task",
            )

    def metrics(
        self, y_true: np.ndarray, predictions: np.ndarray, inputs: np.ndarray | None = None
    ) -> dict[str, Any]:
        naive = None
        if inputs is not None:
            last = np.asarray(inputs)[:, self.target_channel, -1:]  # (N, 1)
            naive = np.repeat(last, np.asarray(predictions).reshape(len(last), -1).shape[1], 1)
        return forecast_metrics(y_true, predictions, naive)

    def evaluation_view(
        self, predictor: Predicts, samples: SplitSamples, *, limit: int
    ) -> dict[str, Any]:
        """The largest errors first; the first of them lying a window apart carry the
        `past` (the target channel's window) they were predicted from."""
        view = super().evaluation_view(predictor, samples, limit=limit)
        for s in samples_apart(view["samples"], spacing=int(samples.x.shape[-1])):
            s["past"] = plain_values(samples.x[samples.row(s["id"]), self.target_channel])
        return view

    def prediction_rows(
        self, predictor: Predicts, x: torch.Tensor, *, with_series: bool = False
    ) -> list[dict[str, Any]]:
        """The values; with the series, the channel the forecast continues."""
        results = super().prediction_rows(predictor, x, with_series=with_series)
        if with_series:
            for r in results:
                r["target_channel"] = self.target_channel
        return results

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "target_channel": self.target_channel}


@register_task
@dataclass
class AnomalyTask(Task):
    """Rebuild normal samples; the score says how far a sample's reconstruction error
    exceeds the error normal samples have, step by step.

    The error at each position (time step, pixel, feature) is the squared (or absolute)
    difference, averaged over the channels, and for sequences over a window of 1/32 of
    the length (one step's error is mostly its sensor noise). After training,
    `calibrate` fits its mean and spread over the normal training samples, position by
    position, and the score is the root mean square of the excess
    `max(0, (error - mean) / spread)` over the positions.
    A normal curve's error is large where curves differ anyway (the moment of contact, the
    stop) and small on a steady plateau; a burst of chatter on the plateau then counts
    for what it is, where the plain mean error drowns it in the noise of the whole curve
    (ROC AUC 0.97 instead of 0.88 on the `process` faults, docs/sequences.md). This is
    the per-step normal model of the errors of Malhotra et al. 2016 ("LSTM-based
    encoder-decoder for multi-sensor anomaly detection"), as a z-score.

    Trains and validates on the `normal_class` only (`select`); the threshold is set by
    `calibrate` on the whole validation split and flags scores above it.
    """

    classes: list[str] = field(default_factory=list)
    normal_class: str = DEFAULT_NORMAL_CLASS
    threshold: float | None = None
    threshold_rule: str = ""  # how the threshold was chosen, in words
    threshold_quantile: float | None = None
    error_mean: list[float] | None = None  # per position, over normal training samples
    error_std: list[float] | None = None  # (None: the score is the plain mean error)
    error_window: int = 1  # steps a sequence's errors are averaged over before scaling
    name: ClassVar[str] = "anomaly"
    score_name: ClassVar[str] = "error"
    losses: ClassVar[tuple[str, ...]] = ("mse", "mae")

    @classmethod
    def create(
        cls, loss: str | None, *, classes: list[str], y_train: torch.Tensor | None, **options: Any
    ) -> Task:
        loss = cls._resolve_loss(loss)
        if not classes:
            raise SpecError(
                "anomaly detection needs a dataset with classes, one of them normal "
                "(e.g. ok/nok); this one has numeric targets",
                where="task",
            )
        normal = options.get("normal_class") or DEFAULT_NORMAL_CLASS
        if normal not in classes:
            raise SpecError(
                f"no class '{normal}' to take as normal; name it with normal_class "
                f"(--normal-class); classes: {', '.join(classes)}",
                where="normal_class",
            )
        input_shape = options.get("input_shape")
        if not input_shape:
            raise SpecError("anomaly detection needs the input shape", where="task")
        return cls(
            loss=loss,
            num_outputs=int(input_shape[0]),  # an autoencoder gives back every channel
            classes=list(classes),
            normal_class=normal,
            threshold_quantile=options.get("threshold_quantile"),
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Task:
        return cls(
            **_common(d),
            classes=list(d["classes"]),
            normal_class=d["normal_class"],
            threshold=d["threshold"],
            threshold_rule=d.get("threshold_rule", ""),
            threshold_quantile=d.get("threshold_quantile"),
            error_mean=d.get("error_mean"),
            error_std=d.get("error_std"),
            error_window=d.get("error_window", 1),
        )

    @classmethod
    def default_model(cls, kind: str | None) -> str | None:
        return "autoencoder1d" if kind == "sequences" else None

    @property
    def normal_index(self) -> int:
        return self.classes.index(self.normal_class)

    def select(self, y: torch.Tensor) -> torch.Tensor:
        return y == self.normal_index  # (N,) train and validate on normal samples only

    targets_are_inputs = True

    def pairs(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x, x  # the target is the input itself

    def check_output(self, output_shape: tuple[int, ...], input_shape: tuple[int, ...]) -> None:
        if tuple(output_shape) != tuple(input_shape):
            raise SpecError(
                f"anomaly detection rebuilds the input, so the network must output its shape "
                f"{fmt_shape(input_shape)}; this one gives {fmt_shape(output_shape)}; use an "
                "autoencoder (autoencoder1d needs a length divisible by 16: resample the "
                "series to such a length) or add Cropping1D",
                where="model",
            )

    def _position_errors(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """(N, P): the error at each position, averaged over channels when there are any
        (sequences (N, C, T) -> (N, T), images (N, C, H, W) -> (N, H·W)); a table's
        features are its positions."""
        diff = outputs.float() - targets.float()
        per_value = diff.abs() if self.loss == "mae" else diff * diff
        if per_value.dim() >= 3:
            per_value = per_value.mean(dim=1)
        return per_value.flatten(1)

    def _local_errors(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """(N, P): position errors; a sequence's averaged over `error_window` neighbouring
        steps, since one step's error is mostly that step's sensor noise."""
        errors = self._position_errors(outputs, targets)
        w = self.error_window
        if w <= 1 or outputs.dim() != 3:
            return errors
        local = F.avg_pool1d(errors[:, None], w, 1, padding=w // 2, count_include_pad=False)
        return local[:, 0, : errors.shape[1]]  # (N, T)

    def _errors(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """(N,) the anomaly score; the plain mean error until the error scale is fitted."""
        if self.error_mean is None or self.error_std is None:
            return self._position_errors(outputs, targets).mean(dim=1)
        errors = self._local_errors(outputs, targets)  # (N, P)
        mean = torch.tensor(self.error_mean, device=errors.device)  # (P,)
        std = torch.tensor(self.error_std, device=errors.device)
        excess = ((errors - mean) / std).clamp_min(0)  # (N, P)
        return excess.square().mean(dim=1).sqrt()

    def loss_fn(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.loss == "mae":
            return F.l1_loss(outputs, targets)
        return F.mse_loss(outputs, targets)

    def batch_score(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        # the training curves show the plain reconstruction error
        return self._position_errors(outputs, targets).mean(dim=1).sum()

    def predict(self, outputs: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
        if inputs is None:
            raise DataError("an anomaly score compares the reconstruction with its input")
        return self._errors(outputs, inputs).unsqueeze(1)  # (N, 1) scores

    def details(self, outputs: torch.Tensor, inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        score = self._errors(outputs, inputs)  # (N,)
        threshold = float("inf") if self.threshold is None else self.threshold
        return {
            "score": score,
            "threshold": torch.full_like(score, threshold),
            "is_anomaly": score > threshold,
            "reconstruction": outputs.float(),  # (N, C, T), standardised
        }

    def metrics(
        self, y_true: np.ndarray, predictions: np.ndarray, inputs: np.ndarray | None = None
    ) -> dict[str, Any]:
        scores = np.asarray(predictions).reshape(-1)
        is_anomaly = np.asarray(y_true).reshape(-1) != self.normal_index
        threshold = float("inf") if self.threshold is None else self.threshold
        result = anomaly_metrics(is_anomaly, scores, threshold)
        result["normal_class"] = self.normal_class
        result["threshold_rule"] = self.threshold_rule
        return result

    def evaluation_view(
        self, predictor: Predicts, samples: SplitSamples, *, limit: int
    ) -> dict[str, Any]:
        """Each sample `{id, label, anomaly, flagged, score}`: the wrong flags first
        (missed anomalies and false alarms, furthest from the threshold first), then by
        score; the first listed carry their series and its reconstruction."""
        x, y = samples.x, samples.y
        details = predictor.predict_details(x)
        scores, flagged = details["score"], details["is_anomaly"]
        metrics = self.metrics(y, scores[:, None])
        truth = y != self.normal_index
        threshold = metrics["threshold"]
        distance = np.abs(scores - threshold) if threshold is not None else scores
        wrong = np.flatnonzero(truth != flagged)
        right = np.flatnonzero(truth == flagged)
        order = [*wrong[np.argsort(-distance[wrong], kind="stable")].tolist()]
        order += right[np.argsort(-scores[right], kind="stable")].tolist()
        listed = []
        for rank, i in enumerate(order[:limit]):
            sample: dict[str, Any] = {
                "id": samples.ids[i],
                "label": self.classes[int(y[i])],
                "anomaly": bool(truth[i]),
                "flagged": bool(flagged[i]),
                "score": float(scores[i]),
            }
            if rank < SERIES_SHOWN:
                sample["series"] = plain_values(x[i])
                sample["reconstruction"] = plain_values(details["reconstruction"][i])
            listed.append(sample)
        return {
            "metrics": metrics,
            "classes": [],
            "normal_class": self.classes[self.normal_index],
            "threshold": threshold,
            "samples": listed,
        }

    def prediction_rows(
        self, predictor: Predicts, x: torch.Tensor, *, with_series: bool = False
    ) -> list[dict[str, Any]]:
        """`{score, threshold, is_anomaly, normal_class}`; with the series, its
        reconstruction too."""
        d = predictor.predict_details(x)
        results = [
            {
                "score": float(d["score"][i]),
                "threshold": finite(d["threshold"][i]),
                "is_anomaly": bool(d["is_anomaly"][i]),
                "normal_class": self.normal_class,
            }
            for i in range(len(x))
        ]
        if with_series:
            for i, r in enumerate(results):
                r["series"] = x[i].tolist()
                r["reconstruction"] = d["reconstruction"][i].tolist()
        return results

    def verdict(self, answer: dict[str, Any]) -> dict[str, Any]:
        """`anomaly` or `normal`, with the score and the threshold it was held against."""
        return {
            "verdict": "anomaly" if answer["is_anomaly"] else "normal",
            "score": answer["score"],
            "threshold": answer["threshold"],
        }

    def calibrate(
        self,
        network: torch.nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        x_fit: torch.Tensor | None = None,
    ) -> None:
        """Fit the error scale on the normal training samples `x_fit` (standardised), then
        choose the threshold on validation samples (standardised `x`, class labels `y`).

        The scale needs at least `MIN_SCALE_SAMPLES` samples; with fewer the score stays
        the plain mean error. The threshold: the best balanced accuracy when the
        validation samples hold both kinds and no quantile is asked for
        (`best_threshold`); else the `threshold_quantile` (default 0.99) of the normal
        samples' scores.
        """
        if x_fit is not None and len(x_fit) >= MIN_SCALE_SAMPLES:
            steps = x_fit.shape[-1] if x_fit.dim() == 3 else 1
            self.error_window = max(1, steps // ERROR_WINDOW_SHARE)
            errors = self._local_errors(batched_forward(network, x_fit), x_fit)  # (N, P)
            std = errors.std(dim=0)
            # a floor, so that a position where normal errors hardly vary cannot dominate
            std = std.clamp_min(float(std.median()) * STD_FLOOR + 1e-12)
            self.error_mean = errors.mean(dim=0).tolist()
            self.error_std = std.tolist()
        if len(x) == 0:
            return
        scores = self.predict(batched_forward(network, x), x).cpu().numpy()[:, 0]
        is_anomaly = (y != self.normal_index).cpu().numpy()
        normal = scores[~is_anomaly]
        if self.threshold_quantile is None and 0 < is_anomaly.sum() < len(is_anomaly):
            self.threshold = best_threshold(is_anomaly, scores)
            self.threshold_rule = (
                f"best balanced accuracy on {len(scores)} validation samples "
                f"({int(is_anomaly.sum())} anomalous)"
            )
        elif len(normal):
            q = self.threshold_quantile or DEFAULT_QUANTILE
            self.threshold = float(np.quantile(normal, q))
            self.threshold_rule = f"{q:g} quantile of {len(normal)} normal validation scores"

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "classes": list(self.classes),
            "normal_class": self.normal_class,
            "threshold": self.threshold,
            "threshold_rule": self.threshold_rule,
            "threshold_quantile": self.threshold_quantile,
            "error_mean": self.error_mean,
            "error_std": self.error_std,
            "error_window": self.error_window,
        }
