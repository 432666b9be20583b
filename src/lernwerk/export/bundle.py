"""A trained model on disk: `model.safetensors` + `model.json`, and the predictor over it.

`model.json` holds everything prediction needs besides the weights: the spec, the input
shape, the task (classes, loss, output activation, target scaling) and the input
standardisation fitted on the training split. Loading builds the network from the spec
and reads tensors with safetensors: no code in the files is ever executed.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lernwerk.config import ModelSpec
from lernwerk.data.preprocessing import Standardizer
from lernwerk.errors import DataError, NotFound
from lernwerk.models.network import Network, batched_forward, build_network
from lernwerk.models.registry import fmt_shape
from lernwerk.store import atomic_write_json, load_tensors, save_tensors
from lernwerk.training.precision import has_conv2d, to_training_layout
from lernwerk.training.tasks import ClassificationTask, Task
from lernwerk.training.tasks_registry import task_from_dict

# Batches up to this size run on one intra-op thread: measured in bench/RESULTS.md
# (predict), one Smiley CNN sample takes p99 0.62 ms on 1 thread and 64 ms on 2.
SMALL_BATCH = 16
WEIGHTS_FILE = "model.safetensors"
META_FILE = "model.json"
BUNDLE_FORMAT = "lernwerk-model/1"


def save_bundle(
    directory: Path, network: Network, task: Task, standardizer: Standardizer, meta: dict[str, Any]
) -> None:
    """Write weights and metadata (weights first; model.json last marks it complete)."""
    save_tensors(directory / WEIGHTS_FILE, {k: v.detach() for k, v in network.state_dict().items()})
    atomic_write_json(
        directory / META_FILE,
        {
            "format": BUNDLE_FORMAT,
            "spec": network.spec.to_dict(),
            "input_shape": list(network.input_shape),
            "task": task.to_dict(),
            "preprocessing": standardizer.to_dict(),
            **meta,
        },
    )


@dataclass
class Predictor:
    """Preprocess, run the network, turn outputs into probabilities or values."""

    network: Network
    task: Task
    standardizer: Standardizer
    meta: dict[str, Any]
    device: torch.device
    channels_last: bool = False  # images go in as NHWC (see `for_batches`)

    @classmethod
    def load(cls, directory: Path | str, device: str = "cpu") -> Predictor:
        """Load a bundle written by `save_bundle` (a run's folder or an export)."""
        directory = Path(directory)
        meta_path = directory / META_FILE
        if not meta_path.is_file():
            raise NotFound(
                f"no trained model in {directory} (missing {META_FILE})", where=str(directory)
            )
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != BUNDLE_FORMAT:
            raise DataError(
                f"{meta_path}: unknown model format {meta.get('format')!r}", where=str(meta_path)
            )
        task = task_from_dict(meta["task"])
        network = build_network(
            ModelSpec.from_dict(meta["spec"]),
            tuple(meta["input_shape"]),
            task.num_outputs,
            check_size=False,  # trained already: its weights are loaded, not trained here
        )
        weights, _ = load_tensors(directory / WEIGHTS_FILE)
        network.load_state_dict(weights)
        dev = torch.device(device)
        network.to(dev).eval()
        return cls(network, task, Standardizer.from_dict(meta["preprocessing"]), meta, dev)

    def for_batches(self) -> Predictor:
        """The same model for large batches (`lernwerk inspect`): on the CPU a network with
        2-D convolutions runs in channels_last memory, as it trained (measured 1.5x faster
        for the Smiley CNN on 64x64 images, batch 64; bench/RESULTS.md, inspect). A copy:
        this predictor, which answers single samples, stays as it is."""
        if self.channels_last or self.device.type != "cpu" or not has_conv2d(self.network):
            return self
        network = copy.deepcopy(self.network).to(memory_format=torch.channels_last)
        return replace(self, network=network, channels_last=True)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.network.input_shape

    @property
    def classes(self) -> list[str]:
        return self.task.classes if isinstance(self.task, ClassificationTask) else []

    def predict(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Probabilities (N, C) for classification, values (N, K) for regression and
        forecasting, scores (N, 1) for anomaly detection.

        `x` is raw input as the dataset holds it (images in [0, 1]), one sample or a batch.
        """
        xt, outputs = self._forward(x)
        with torch.inference_mode():
            return self.task.predict(outputs, xt).cpu().numpy()

    def predict_details(self, x: np.ndarray | torch.Tensor) -> dict[str, np.ndarray]:
        """Everything the task says about each sample, by name, one row per sample.

        Anomaly detection: `score`, `threshold`, `is_anomaly` and `reconstruction` (in the
        input's own units, shaped like it); other tasks: `prediction`, as `predict` gives it.
        """
        xt, outputs = self._forward(x)
        with torch.inference_mode():
            details = self.task.details(outputs, xt)
            if "reconstruction" in details:
                details["reconstruction"] = self.standardizer.inverse_transform(
                    details["reconstruction"]
                )
        return {k: v.cpu().numpy() for k, v in details.items()}

    def _forward(self, x: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Standardised inputs (N, *input_shape) and the network's outputs for them."""
        xt = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x, dtype=torch.float32)
        if tuple(xt.shape) == self.input_shape:
            xt = xt.unsqueeze(0)
        if tuple(xt.shape[1:]) != self.input_shape:
            raise DataError(
                f"input has shape {fmt_shape(tuple(xt.shape[1:]))} per sample; "
                f"the model expects {fmt_shape(self.input_shape)}"
            )
        xt = self.standardizer.transform(xt.to(self.device))
        xt = to_training_layout(xt, self.channels_last)  # (N, C, H, W), NHWC in memory
        if len(xt) > SMALL_BATCH or self.device.type != "cpu":
            return xt, batched_forward(self.network, xt)
        with _one_thread():  # a few samples: a second thread costs more than it gives
            return xt, batched_forward(self.network, xt)

    def predict_labels(self, x: np.ndarray | torch.Tensor) -> list[str]:
        """The most probable class name per sample (classification only)."""
        proba = self.predict(x)
        return [self.classes[i] for i in proba.argmax(axis=1)]


@contextmanager
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def export_safetensors(source: Path, out_dir: Path) -> list[Path]:
    """Copy a run's model bundle to `out_dir` (created); returns the files written."""
    for name in (WEIGHTS_FILE, META_FILE):
        if not (source / name).is_file():
            raise NotFound(
                f"the run has no trained model yet ({source / name} is missing)", where=str(source)
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in (WEIGHTS_FILE, META_FILE):
        tmp = out_dir / f".{name}.tmp"
        shutil.copyfile(source / name, tmp)
        tmp.replace(out_dir / name)
        written.append(out_dir / name)
    return written
