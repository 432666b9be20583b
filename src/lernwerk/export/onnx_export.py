"""Export a trained model as ONNX, checked against PyTorch on held-out samples.

The graph takes raw input as a user has it and gives what `Predictor.predict` gives:
`ExportGraph` is the run's standardisation (`Standardizer.as_module`), the network and the
task's output (softmax probabilities, an anomaly score, or values in the target's units)
in one module, exported with `torch.onnx.export(..., dynamo=True)` (opset 18, dynamic batch
dimension). `check_parity` replays samples through onnxruntime and through the Predictor;
`write_onnx_export` fails (`ExportFailed`) when the two disagree, before anything is moved
into place.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lernwerk import __version__
from lernwerk.errors import ExportFailed
from lernwerk.export.bundle import Predictor
from lernwerk.export.onnx_runner import ONNX_FILE, OnnxModel
from lernwerk.store import atomic_write_json
from lernwerk.training.tasks import ClassificationTask, RegressionTask
from lernwerk.training.tasks_sequence import AnomalyTask

OPSET = 18
TOLERANCE = 1e-4  # float32: largest allowed |onnx - torch| (relative above magnitude 1)
PARITY_SAMPLES = 256
INPUT_NAME, OUTPUT_NAME = "input", "output"


class ExportGraph(nn.Module):
    """Raw input -> the task's output: standardise, run the network, activate."""

    def __init__(self, predictor: Predictor) -> None:
        super().__init__()
        self.standardize = predictor.standardizer.as_module()
        self.network = predictor.network
        self.task = predictor.task  # plain values: its output step is traced into the graph

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xs = self.standardize(x)  # (N, *input_shape)
        return self.task.predict(self.network(xs), xs)  # (N, C) / (N, 1) / (N, K)


def export_graph(predictor: Predictor, path: Path, graph: nn.Module | None = None) -> None:
    """Write `model.onnx` for the predictor (or for `graph`, a stand-in for tests).

    Raises:
        ExportFailed: the graph cannot be exported (named), e.g. a PatchCore detector.
    """
    from lernwerk.models.patchcore import PatchCoreModule

    if any(isinstance(m, PatchCoreModule) for m in predictor.network.modules()):
        raise ExportFailed(
            "a PatchCore detector is not exported to ONNX yet (its nearest-neighbour search "
            "over the memory bank does not trace with a variable batch); run it with "
            "lernwerk inspect, watch or predict, or export an autoencoder2d run",
            where="onnx",
        )
    graph = (graph or ExportGraph(predictor)).cpu().eval()
    example = torch.rand(2, *predictor.input_shape)  # batch 2: the batch stays symbolic
    batch = torch.export.Dim("batch")
    sink = io.StringIO()
    onnx_log = logging.getLogger("torch.onnx")
    level = onnx_log.level
    onnx_log.setLevel(logging.ERROR)  # "torchvision is not installed" and the like
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(sink),
            torch.no_grad(),
        ):
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                graph,
                (example,),
                dynamo=True,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                opset_version=OPSET,
                dynamic_shapes=({0: batch},),
                external_data=False,
                verbose=False,
            )
            if program is None:  # pragma: no cover - the dynamo exporter returns a program
                raise ExportFailed("torch.onnx.export returned no program", where="onnx")
            program.save(str(path), external_data=False)
    except ExportFailed:
        raise
    except Exception as exc:  # the exporter's own errors: the graph cannot be exported
        raise ExportFailed(
            f"the model could not be exported to ONNX: {_exporter_message(exc)}", where="onnx"
        ) from exc
    finally:
        onnx_log.setLevel(level)


def _exporter_message(exc: Exception) -> str:
    """The exporter's reason in one line: its "Exception summary" where it gives one."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    _, found, summary = text.partition("## Exception summary")
    lines = [line.strip() for line in (summary if found else text).splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]


def output_meaning(predictor: Predictor) -> str:
    """What the exported graph outputs: probabilities, anomaly_score or values."""
    task = predictor.task
    if isinstance(task, AnomalyTask):
        return "anomaly_score"
    if isinstance(task, ClassificationTask) and task.classes:
        return "probabilities"
    return "values"


def check_parity(
    predictor: Predictor, model: OnnxModel, x: torch.Tensor, tolerance: float = TOLERANCE
) -> dict[str, Any]:
    """Replay `x` (N, *input_shape, raw) through PyTorch and onnxruntime and compare.

    Returns `{samples, agreement, max_abs_diff, tolerance, compared, passed, reason}`:
    agreement is the share of samples given the same class (classification) or the same
    flag (anomaly; None for values); max_abs_diff the largest |onnx - torch| over the
    outputs. Passing needs agreement 1.0 and every difference within `tolerance`, scaled
    by the value's magnitude above 1 (values and scores are in their own units).
    """
    expected = predictor.predict(x).astype(np.float64)  # (N, K)
    got = model.predict(x.numpy()).astype(np.float64)
    meaning = output_meaning(predictor)
    if got.shape != expected.shape:
        return _report(
            len(x),
            None,
            float("inf"),
            tolerance,
            meaning,
            False,
            f"the ONNX output has shape {got.shape}; PyTorch's {expected.shape}",
        )
    diff = np.abs(got - expected)
    max_diff = float(diff.max()) if diff.size else 0.0
    if not np.isfinite(diff).all():
        max_diff = float("inf")
    agreement: float | None = None
    if meaning == "probabilities":
        agreement = float((got.argmax(axis=1) == expected.argmax(axis=1)).mean())
    elif meaning == "anomaly_score":
        assert isinstance(predictor.task, AnomalyTask)
        threshold = predictor.task.threshold
        if threshold is not None:
            agreement = float(((got[:, 0] > threshold) == (expected[:, 0] > threshold)).mean())
    allowed = tolerance * np.maximum(1.0, np.abs(expected))
    within = bool((diff <= allowed).all()) and np.isfinite(max_diff)
    reason = ""
    if agreement is not None and agreement < 1.0:
        what = "class" if meaning == "probabilities" else "anomaly flag"
        reason = (
            f"ONNX and PyTorch give a different {what} for "
            f"{round((1 - agreement) * len(x))} of {len(x)} test samples"
        )
    elif not within:
        reason = (
            f"ONNX and PyTorch outputs differ by up to {max_diff:.3g}, above the "
            f"tolerance {tolerance:g}"
        )
    passed = not reason
    return _report(len(x), agreement, max_diff, tolerance, meaning, passed, reason)


def _report(
    n: int,
    agreement: float | None,
    max_diff: float,
    tolerance: float,
    meaning: str,
    passed: bool,
    reason: str,
) -> dict[str, Any]:
    return {
        "samples": n,
        "agreement": agreement,
        "max_abs_diff": max_diff if np.isfinite(max_diff) else None,
        "tolerance": tolerance,
        "compared": meaning,
        "passed": passed,
        "reason": reason,
    }


def onnx_description(predictor: Predictor) -> dict[str, Any]:
    """model.json's `onnx` section: the input the file takes and the output it gives."""
    kind = predictor.meta.get("kind")
    shape = list(predictor.input_shape)
    task = predictor.task
    meaning = output_meaning(predictor)
    if kind == "images":
        layout = "NCHW"
        takes = (
            "images as float32 N x C x H x W, pixel values in [0, 1] (divide 8-bit pixels "
            "by 255), channels in the order the dataset stores them (gray: 1, RGB: 3), "
            f"resized to {shape[1]} x {shape[2]}"
        )
    elif kind == "sequences":
        layout = "NCT"
        takes = "series as float32 N x C x T, raw values in their own units"
    else:
        layout = "NF"
        takes = (
            "table rows as float32 N x F, the raw numeric features in the training column "
            "order (feature_names); a categorical column is one-hot, one feature per "
            "category (feature name 'column=category'); a missing value must be filled in"
        )
    section: dict[str, Any] = {
        "file": ONNX_FILE,
        "opset": OPSET,
        "input": {
            "name": INPUT_NAME,
            "dtype": "float32",
            "shape": ["N", *shape],
            "layout": layout,
            "range": [0.0, 1.0] if kind == "images" else None,
            "description": takes,
        },
        "output": {
            "name": OUTPUT_NAME,
            "dtype": "float32",
            "shape": ["N", _output_width(predictor)],
            "meaning": meaning,
        },
        "preprocessing_in_graph": (
            f"(x - mean) / std per {'feature' if kind == 'table' else 'channel'}, with "
            "preprocessing.mean and preprocessing.std"
        ),
        "feature_names": list(predictor.meta.get("feature_names") or []),
        "classes": list(getattr(task, "classes", []) or []),
    }
    if meaning == "probabilities":
        section["output"]["description"] = "class probabilities (softmax), in the order of classes"
    elif meaning == "anomaly_score":
        assert isinstance(task, AnomalyTask)
        section["output"]["description"] = (
            "the anomaly score (N x 1); a score above threshold is flagged as an anomaly"
        )
        section["threshold"] = task.threshold
        section["threshold_rule"] = task.threshold_rule
        section["normal_class"] = task.normal_class
    else:
        section["output"]["description"] = "predicted values in the target's own units"
        if isinstance(task, RegressionTask):
            section["units"] = "the target's own units (standardisation undone in the graph)"
            section["target_mean"], section["target_std"] = task.y_mean, task.y_std
    return section


def _output_width(predictor: Predictor) -> int:
    task = predictor.task
    if isinstance(task, AnomalyTask):
        return 1
    if isinstance(task, ClassificationTask) and task.classes:
        return len(task.classes)
    return task.num_outputs


def write_onnx_export(
    predictor: Predictor,
    directory: Path,
    parity_x: torch.Tensor,
    *,
    run_id: str,
    graph: nn.Module | None = None,
) -> dict[str, Any]:
    """Write model.onnx + model.json into `directory` (which exists, empty) and check parity.

    Raises:
        ExportFailed: the export failed or its parity check did (the files stay in
            `directory`; the caller removes it).
    """
    export_graph(predictor, directory / ONNX_FILE, graph)
    meta = {
        **predictor.meta,
        "run_id": run_id,
        "exported_with": __version__,
        "onnx": onnx_description(predictor),
    }
    atomic_write_json(directory / "model.json", meta)
    try:
        model = OnnxModel(directory)
    except Exception as exc:  # onnxruntime refuses the file
        raise ExportFailed(f"onnxruntime cannot load the exported model: {exc}", "onnx") from exc
    report = check_parity(predictor, model, parity_x)
    if not report["passed"]:
        raise ExportFailed(f"export refused: {report['reason']}", where="parity")
    meta["parity"] = report
    atomic_write_json(directory / "model.json", meta)
    return report
