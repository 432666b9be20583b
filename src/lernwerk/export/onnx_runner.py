"""Run an exported `model.onnx` with onnxruntime alone: no PyTorch is imported.

An ONNX export folder holds `model.onnx` (preprocessing and the task's output inside the
graph) and `model.json` (what the input and output are; see docs/export.md). `OnnxModel`
reads both and predicts on raw inputs, as a user has them, a batch at a time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from lernwerk.errors import DataError, NotFound

ONNX_FILE = "model.onnx"
META_FILE = "model.json"
DEFAULT_BATCH = 256


class OnnxModel:
    """An exported model: `predict` gives what the run's Predictor gives, from onnxruntime.

    Args:
        directory: A folder written by `lernwerk export --format onnx` (or `all`).
        threads: onnxruntime's intra-op threads; None lets onnxruntime choose.
    """

    def __init__(self, directory: str | Path, *, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.directory = Path(directory)
        meta_path, onnx_path = self.directory / META_FILE, self.directory / ONNX_FILE
        for path in (meta_path, onnx_path):
            if not path.is_file():
                raise NotFound(
                    f"no ONNX export in {self.directory} (missing {path.name}); write one "
                    "with `lernwerk export RUN --format onnx --out DIR`",
                    where=str(self.directory),
                )
        self.meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
        if "onnx" not in self.meta:
            raise DataError(
                f"{meta_path} describes no ONNX model (no 'onnx' section)", where=str(meta_path)
            )
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(
            str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_name = self.session.get_inputs()[0].name

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One sample's shape: (C, H, W) images, (C, T) series, (F,) table rows."""
        return tuple(int(d) for d in self.meta["input_shape"])

    @property
    def classes(self) -> list[str]:
        return list(self.meta["onnx"].get("classes") or [])

    @property
    def kind(self) -> str:
        return str(self.meta.get("kind", ""))

    @property
    def output(self) -> str:
        """What `predict` gives: "probabilities", "anomaly_score" or "values"."""
        return str(self.meta["onnx"]["output"]["meaning"])

    @property
    def threshold(self) -> float | None:
        """An anomaly model's threshold (a score above it is flagged); else None."""
        value = self.meta["onnx"].get("threshold")
        return None if value is None else float(value)

    def predict(self, x: np.ndarray, batch_size: int = DEFAULT_BATCH) -> np.ndarray:
        """Probabilities (N, C), anomaly scores (N, 1) or values (N, K) for raw inputs.

        `x` is one sample (shaped like `input_shape`) or a batch (N, *input_shape), as
        model.json's `onnx.input` describes it (images float in [0, 1], N x C x H x W).
        """
        arr = np.asarray(x, dtype=np.float32)
        if arr.shape == self.input_shape:
            arr = arr[None]  # one sample
        if arr.ndim != len(self.input_shape) + 1 or arr.shape[1:] != self.input_shape:
            raise DataError(
                f"input has shape {tuple(arr.shape)}; the model takes "
                f"(N, {', '.join(str(d) for d in self.input_shape)})",
                where="input",
            )
        outs = [
            self.session.run(
                None, {self._input_name: np.ascontiguousarray(arr[i : i + batch_size])}
            )[0]
            for i in range(0, len(arr), batch_size)
        ]
        if not outs:
            width = len(self.classes) if self.output == "probabilities" else 1
            return np.zeros((0, width), dtype=np.float32)
        return np.concatenate(outs)  # (N, outputs)

    def predict_labels(self, x: np.ndarray) -> list[str]:
        """The most probable class per sample (classification only)."""
        if self.output != "probabilities":
            raise DataError(f"this model gives {self.output}, not classes", where="model")
        return [self.classes[i] for i in self.predict(x).argmax(axis=1)]
