"""A stored run: config, history, metrics, and the trained model to predict and export with."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from lernwerk.config import ModelSpec
from lernwerk.data import Dataset
from lernwerk.data.inputs import read_inputs
from lernwerk.errors import Conflict, SpecError
from lernwerk.export import Predictor, export_safetensors
from lernwerk.models import ModelSummary, build_network, summarize
from lernwerk.store import RunRecord
from lernwerk.training import (
    make_task,
)
from lernwerk.training.tasks import task_from_dict

if TYPE_CHECKING:
    from lernwerk.api.workspace import Workspace

SPLITS = ("train", "val", "test")


def _evaluate(predictor: Predictor, ds: Dataset, idx: torch.Tensor) -> dict:
    x, y = ds.subset(idx)
    return predictor.task.metrics(y.numpy(), predictor.predict(x))


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
        data_meta = p.meta.get("data_meta") or {}
        x, labels = read_inputs(
            [Path(q) for q in paths],
            kind=p.meta["kind"],
            input_shape=p.input_shape,
            feature_names=p.meta.get("feature_names", []),
            image_resize=(data_meta.get("image_format") or {}).get("resize", "fit"),
            table_encoding=data_meta.get("table_encoding"),
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
