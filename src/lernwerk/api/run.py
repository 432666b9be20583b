"""A stored run: config, history, metrics, and the trained model to predict and export with."""

from __future__ import annotations

import io
import json
import math
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from lernwerk.api.baselines import is_baseline
from lernwerk.api.evaluation_view import evaluation_view
from lernwerk.api.listing import run_row
from lernwerk.api.run_data import RunData
from lernwerk.config import ModelSpec
from lernwerk.data import Dataset
from lernwerk.data.dataset import Splits
from lernwerk.data.images.formats import IMAGE_SUFFIXES
from lernwerk.data.inputs import read_inputs
from lernwerk.errors import Conflict, DataError, LernwerkError, NotFound, SpecError
from lernwerk.evaluation.inspection import (
    InspectModel,
    InspectResult,
    Progress,
    inspect_batch,
    resolve_rule,
)
from lernwerk.export import Predictor, export_safetensors
from lernwerk.export.bundle import META_FILE
from lernwerk.export.onnx_export import PARITY_SAMPLES
from lernwerk.export.pytorch_code import pytorch_file
from lernwerk.export.writing import check_format, write_export
from lernwerk.models import ModelSummary, build_network, summarize
from lernwerk.store import RunRecord, atomic_write_bytes, atomic_write_json
from lernwerk.training import (
    make_task,
)
from lernwerk.training.run import evaluate_split
from lernwerk.training.tasks_registry import task_from_dict

if TYPE_CHECKING:
    from lernwerk.api.workspace import Workspace
    from lernwerk.evaluation.explain import Explanation

SPLITS = ("train", "val", "test")
ONNX_EXPORT_DIR = "onnx-export"  # in a run's folder: the export the page downloads
ONNX_EXPORT_FILES = ("model.json", "model.onnx")


class Run(RunData):
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
            self.require_network("predict")
            self._predictor = Predictor.load(self.dir)
        return self._predictor

    @property
    def is_baseline(self) -> bool:
        """Whether this run is a classical baseline (`Workspace.baselines`): metrics only."""
        return is_baseline(self.record)

    def require_network(self, action: str) -> None:
        """Raise `Conflict` naming `action` when the run is a baseline, which keeps no model.

        Raises:
            Conflict: the run is a baseline; its fitted estimator is not stored.
        """
        if self.is_baseline:
            raise Conflict(
                f"run {self.id} is a baseline ({self.record.model}): its fitted estimator is "
                f"not stored, so it cannot {action}; its metrics are (`lernwerk runs show "
                f"{self.id}`)",
                where="run",
            )

    def predict(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """Probabilities (N, C) or values (N, K) for raw inputs shaped like the dataset's."""
        return self.predictor.predict(x)

    def predict_files(
        self, paths: Iterable[str | Path], *, with_series: bool = False
    ) -> list[dict[str, Any]]:
        """Predict for image files, CSV rows or `.npy` arrays; one dict per sample.

        Classification: {"input", "predicted", "confidence", "probabilities": {class: p}};
        regression: {"input", "value"} (or "values" for several outputs); anomaly
        detection: {"input", "score", "threshold", "is_anomaly"}. `with_series` adds, for
        one sequence, its `series` and the `reconstruction` of an anomaly model.
        """
        p = self.predictor
        x, labels = self._read_files(paths)
        one_series = with_series and p.meta["kind"] == "sequences" and len(labels) == 1
        results = _results(p, x, with_series=one_series)
        return [{"input": label, **r} for label, r in zip(labels, results, strict=True)]

    def anomaly_maps(self, paths: Iterable[str | Path]) -> list[bytes]:
        """Each image's anomaly map over the image, as PNG bytes (an image anomaly detector's
        run only; see `predict_files` for the scores and verdicts)."""
        from lernwerk.evaluation.anomaly_maps import overlay_png

        p = self.predictor
        x, _ = self._read_files(paths)
        details = p.predict_details(x)
        if "map" not in details:
            raise SpecError(
                f"run {self.id} gives no anomaly maps; they come from an anomaly detector "
                "on images (--task anomaly --model patchcore)",
                where="map",
            )
        threshold = p.task.decision_threshold
        return [
            overlay_png(np.asarray(x[i]), details["map"][i, 0], threshold) for i in range(len(x))
        ]

    def _read_files(self, paths: Iterable[str | Path]) -> tuple[Any, list[str]]:
        p = self.predictor
        data_meta = p.meta.get("data_meta") or {}
        return read_inputs(
            [Path(q) for q in paths],
            kind=p.meta["kind"],
            input_shape=p.input_shape,
            feature_names=p.meta.get("feature_names", []),
            image_resize=(data_meta.get("image_format") or {}).get("resize", "fit"),
            table_encoding=data_meta.get("table_encoding"),
        )

    def evaluate(self, split: str = "test") -> dict[str, Any]:
        """Metrics of the trained model on a split of the run's dataset, computed now (a
        baseline's: as stored when it was fitted)."""
        if self.is_baseline:
            return self._stored_evaluation(split)["metrics"]
        ds, idx = self._split(split)
        return evaluate_split(self.predictor, ds, idx)  # a chunk at a time from disk

    def evaluation(self, split: str = "test", *, limit: int = 1000) -> dict[str, Any]:
        """Metrics on a split and every sample's prediction, for a results page.

        Returns:
            `{"split", "task", "metrics", "classes", "num_samples", "samples"}`; for
            classification each sample is `{id, label, predicted, confidence,
            probabilities: {class: p}}`, the misclassified first (most confident first);
            for regression `{id, label, predicted}`, the largest errors first; for anomaly
            detection `{id, label, anomaly, flagged, score}`, the wrong flags first. The
            first samples of a sequence dataset carry their `series` (and `typical` each
            class's mean shape, or `reconstruction`, or a forecast's `past`). At most
            `limit` samples; see `evaluation_view`.
        """
        if self.is_baseline:
            return self._stored_evaluation(split)
        if split not in SPLITS:
            self._split(split)  # SpecError naming the splits
        if self.dataset_changed():  # the view shown before the edits, with what they did
            return self._with_data_state(self._kept_view(split, limit))
        ds, idx = self._split(split)
        train_idx = self._split_indices(ds).train
        view = evaluation_view(self.predictor, ds, idx, train_idx, split=split, limit=limit)
        self._keep_view(split, view, limit)
        return self._with_data_state(view)

    def _stored_evaluation(self, split: str) -> dict[str, Any]:
        """A baseline's view of a split: the metrics stored when it was fitted (confusion
        matrix included), no samples (its estimator is not stored to predict them)."""
        if split not in SPLITS:
            raise SpecError(
                f"split must be one of {', '.join(SPLITS)}; received: {split!r}", where="split"
            )
        if split not in self.metrics:
            stored = " and ".join(s for s in SPLITS if s in self.metrics)
            raise Conflict(
                f"run {self.id} is a baseline: only its {stored} metrics are stored, not {split}",
                where="split",
            )
        metrics = self.metrics[split]
        return {
            "split": split,
            "task": self.config.get("train", {}).get("task"),
            "metrics": metrics,
            "classes": list(metrics.get("classes", [])),
            "num_samples": int(metrics.get("num_samples", 0)),
            "samples": [],
            "baseline": True,
        }

    def predict_sample(
        self,
        *,
        pixels: Any = None,
        image: str | bytes | None = None,
        values: dict[str, float] | None = None,
        series: Any = None,
        sample: int | None = None,
    ) -> dict[str, Any]:
        """Predict one input given as a page sends it.

        Args:
            pixels: rows of values in [0, 1], H×W or H×W×C (image models).
            image: a `data:` URL or an image file's bytes (image models).
            values: `{feature: number}` (table models).
            series: values per channel, C×T, or T values for one channel (sequence models).
            sample: the id of a sample of the run's dataset; the answer adds its `truth`
                (class or values) and `split`.

        Returns:
            `{"predicted", "confidence", "probabilities": {class: p}}` (classification),
            `{"value"}` (`{"values"}` for several outputs), or for anomaly detection
            `{"score", "threshold", "is_anomaly", "normal_class"}`. For sequences also
            the input `series` as the model saw it (C×T), with the `reconstruction` of an
            anomaly model.

        Raises:
            DataError: the input does not suit the model (kind, shape, range, format).
        """
        given = {
            "pixels": pixels,
            "image": image,
            "values": values,
            "series": series,
            "sample": sample,
        }
        if sample is not None and sum(v is not None for v in given.values()) == 1:
            return self._predict_stored(int(sample))
        x = self.sample_input(**given)
        kind = self.predictor.meta.get("kind")
        return _results(self.predictor, x, with_series=kind == "sequences")[0]

    def sample_input(
        self,
        *,
        pixels: Any = None,
        image: str | bytes | None = None,
        values: dict[str, float] | None = None,
        series: Any = None,
        sample: int | None = None,
    ) -> torch.Tensor:
        """One raw input (1, *input_shape) from what a page sends: exactly one of
        `pixels`, `image`, `values`, `series` or a stored `sample` id (see `predict_sample`).

        Raises:
            DataError: none or several given, or the input does not suit the model.
            NotFound: no sample of that id.
        """
        from lernwerk.data import sample_values as inputs

        p = self.predictor
        kind, shape, meta = p.meta.get("kind"), p.input_shape, p.meta.get("data_meta") or {}
        given = {
            k: v
            for k, v in {
                "pixels": pixels,
                "image": image,
                "values": values,
                "series": series,
                "sample": sample,
            }.items()
            if v is not None
        }
        if len(given) != 1:
            raise DataError(
                "give exactly one of pixels, image, values, series or sample", where="body"
            )
        ((field, value),) = given.items()
        if field == "sample":
            ds = self.workspace.load_dataset(self.record.dataset)
            rows = np.flatnonzero(ds.ids.numpy() == int(value))
            if len(rows) == 0:
                raise NotFound(f"dataset '{ds.name}' has no sample {value}", where="sample")
            return ds.subset(torch.tensor([int(rows[0])]))[0].float()
        expected = {"pixels": "images", "image": "images", "values": "table", "series": "sequences"}
        if expected[field] != kind:
            raise DataError(
                f"this model was trained on {kind}; {field} are for {expected[field]}", where=field
            )
        if field == "pixels":
            x = inputs.image_from_pixels(value, shape, meta)
        elif field == "image":
            data = inputs.decode_data_url(value) if isinstance(value, str) else value
            x = inputs.image_from_bytes(data, shape, meta)
        elif field == "values":
            names = list(p.meta.get("feature_names") or [])
            x = inputs.row_from_values(value, names, meta.get("table_encoding"))
        else:
            x = inputs.series_from_values(value, shape)
        x = torch.as_tensor(x, dtype=torch.float32)
        return x.unsqueeze(0) if tuple(x.shape) == tuple(shape) else x  # (1, *shape)

    def explain(
        self, x: np.ndarray | torch.Tensor, *, target: str | int | None = None
    ) -> Explanation:
        """Why the model decided so for one raw input `x` (the sample's shape): integrated
        gradients for any network, Grad-CAM and each convolution layer's feature maps for
        images; see `lernwerk.evaluation.explain`.

        Raises:
            SpecError: a run without an output to explain (anomaly, forecasting, a
                baseline), or a `target` that names no class.
            DataError: `x` has the wrong shape.
        """
        from lernwerk.evaluation.explain import explain

        self.require_network("explain")
        x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x, dtype=torch.float32)
        return explain(self.predictor, x, target=target)

    def explain_file(
        self, path: str | Path, out_dir: str | Path, *, target: str | int | None = None
    ) -> dict[str, Any]:
        """Explain the first sample of a file (an image, a CSV row or series, a `.npy`
        array) into `out_dir`: PNG pictures and `explanation.json` with the numbers.

        Returns:
            `{run_id, input, out_dir, files, explanation}` (the explanation as a dict).
        """
        from lernwerk.evaluation.explain_pictures import pictures

        x, labels = self._read_files([path])
        e = self.explain(x[0], target=target)
        out = Path(out_dir)
        if out.exists() and not out.is_dir():
            raise SpecError(f"{out} is a file, not a folder", where="out")
        files = {**pictures(e, x[0].numpy()), "explanation.json": None}
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, data in files.items():
            if data is None:
                atomic_write_json(
                    out / name, {"run_id": self.id, "input": labels[0], **e.to_dict()}
                )
            else:
                atomic_write_bytes(out / name, data)
            written.append(str(out / name))
        return {
            "run_id": self.id,
            "input": labels[0],
            "out_dir": str(out),
            "files": written,
            "explanation": e.to_dict(),
        }

    def _predict_stored(self, sample_id: int) -> dict[str, Any]:
        """Predict one sample of the run's dataset by id, with its truth and split."""
        ds = self.workspace.load_dataset(self.record.dataset)
        rows = np.flatnonzero(ds.ids.numpy() == sample_id)
        if len(rows) == 0:
            raise NotFound(f"dataset '{ds.name}' has no sample {sample_id}", where="sample")
        row = int(rows[0])
        splits = self._split_indices(ds)
        split = next((n for n in SPLITS if bool((getattr(splits, n) == row).any())), "unused")
        x, y = ds.subset(torch.tensor([row]))
        result = _results(self.predictor, x, with_series=ds.kind == "sequences")[0]
        truth = y[0]
        if ds.classes and truth.dtype == torch.int64:
            result["truth"] = ds.classes[int(truth)]
        else:
            result["truth"] = truth.tolist()
        return {**result, "sample": sample_id, "split": split}

    def predict_upload(self, file_name: str, data: bytes) -> list[dict[str, Any]]:
        """Predict for an uploaded file (an image, a CSV of rows or series, a `.npy` array):
        one result per sample, as `predict_files` gives them."""
        suffix = Path(file_name).suffix.lower()
        if suffix in IMAGE_SUFFIXES and self.predictor.meta.get("kind") == "images":
            return [{"input": file_name, **self.predict_sample(image=data)}]
        with tempfile.TemporaryDirectory(prefix="lernwerk-upload-") as tmp:
            path = Path(tmp) / (Path(file_name).name or "upload")
            path.write_bytes(data)
            try:
                results = self.predict_files([path], with_series=True)
            except LernwerkError as exc:
                raise type(exc)(str(exc).replace(f"{tmp}/", ""), where=file_name) from None
        for r in results:
            r["input"] = str(r["input"]).replace(f"{tmp}/", "")
        return results

    def inspect_model(self) -> InspectModel:
        """The trained model as `inspect` runs it (PyTorch behind a numpy interface).

        Raises:
            Conflict: the run is still training.
            NotFound: it has no trained model.
            SpecError: it is neither a classifier nor an anomaly detector.
        """
        if self.status in ("created", "running"):
            raise Conflict(
                f"run {self.id} is still training ({self.status}); inspect with it once it "
                "has finished",
                where="run",
            )
        p = self.predictor.for_batches()
        return InspectModel.from_bundle(p.meta, p.predict, name=f"{self.name} ({self.id})")

    def inspect(
        self,
        source: str | Path,
        out_dir: str | Path,
        *,
        review_below: float | None = None,
        review_rate: float | None = None,
        force: bool = False,
        progress: Progress | None = None,
        keep_rows: bool = False,
        batch_size: int = 64,
        title: str = "",
    ) -> InspectResult:
        """Predict every item of a folder, zip, CSV or `.ts` file and write `report.csv`
        and `report.html` to `out_dir`, flagging the items to review (see
        `lernwerk.evaluation.inspection`); nothing is written when the input is refused."""
        model = self.inspect_model()
        rule = resolve_rule(model, review_below, review_rate)
        return inspect_batch(
            model,
            Path(source),
            Path(out_dir),
            rule=rule,
            force=force,
            progress=progress,
            keep_rows=keep_rows,
            batch_size=batch_size,
            title=title,
        )

    def weights_zip(self) -> bytes:
        """The trained model as a zip: `model.safetensors` and `model.json`."""
        self.require_network("export")
        buffer = io.BytesIO()
        with tempfile.TemporaryDirectory(prefix="lernwerk-export-") as tmp:
            files = export_safetensors(self.dir, Path(tmp))
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for f in files:
                    archive.write(f, f.name)
        return buffer.getvalue()

    def set_threshold(self, threshold: float) -> dict[str, Any]:
        """Move an anomaly detector's threshold (scores above it are flagged) and save it
        with the run's model; the stored validation and test metrics are computed anew.

        Returns:
            `{"threshold", "threshold_rule", "metrics": {"val", "test"}}`.

        Raises:
            Conflict: the run is no anomaly detector; DataError: not a finite number.
        """
        p = self.predictor
        if isinstance(threshold, bool) or not math.isfinite(float(threshold)):
            raise DataError(
                f"threshold must be a finite number; received: {threshold!r}", where="threshold"
            )
        before = (p.task.decision_threshold, p.task.to_dict().get("threshold_rule", ""))
        p.task.set_threshold(float(threshold), "set by hand")  # SpecError: no threshold
        try:
            metrics = dict(self.metrics)
            for split in ("val", "test"):
                try:
                    ds, idx = self._split(split)
                except SpecError:  # an empty split
                    continue
                metrics[split] = evaluate_split(p, ds, idx)
            meta_path = self.dir / META_FILE
            meta = json.loads(meta_path.read_text())
            meta["task"] = p.task.to_dict()
            atomic_write_json(meta_path, meta)
        except BaseException:
            p.task.set_threshold(*before)
            raise
        self.workspace.store.update_run(self.id, metrics=metrics)
        self.refresh()
        return {
            "threshold": p.task.decision_threshold,
            "threshold_rule": "set by hand",
            "metrics": {k: metrics[k] for k in ("val", "test") if k in metrics},
        }

    def _split(self, split: str) -> tuple[Dataset, torch.Tensor]:
        if split not in SPLITS:
            raise SpecError(
                f"split must be one of {', '.join(SPLITS)}; received: {split!r}", where="split"
            )
        ds = self.workspace.load_dataset(self.record.dataset)
        if ds.content_hash != self.record.dataset_hash:
            raise Conflict(
                f"dataset '{ds.name}' changed since run {self.id} was trained", where="dataset"
            )
        idx = getattr(self._split_indices(ds), split)
        if len(idx) == 0:
            raise SpecError(f"run {self.id} has an empty {split} split", where="split")
        return ds, idx

    def _split_indices(self, ds: Dataset) -> Splits:
        train = self.config["train"]
        return ds.split(train["val_split"], train["test_split"], train["split_seed"])

    def input_spec(self) -> dict[str, Any] | None:
        """What `predict_sample` takes, for a form: the kind, the sample shape, the classes
        and the input columns (with their categories for an imported table); None while
        the run has no trained model."""
        meta_path = self.dir / "model.json"
        if not meta_path.is_file():
            return None
        bundle = json.loads(meta_path.read_text())
        task = task_from_dict(bundle["task"])
        kind = bundle.get("kind")
        meta = bundle.get("data_meta") or {}
        encoding = meta.get("table_encoding")
        if encoding:
            columns = [
                {"name": c["name"], "kind": c["kind"], "categories": c.get("categories", [])}
                for c in encoding.get("columns", [])
            ]
        else:
            names = bundle.get("feature_names") or []
            columns = [{"name": n, "kind": "numeric", "categories": []} for n in names]
        return {
            "kind": kind,
            "shape": list(bundle["input_shape"]),
            "classes": list(getattr(task, "classes", []) or []),
            "columns": columns if kind == "table" else [],
            "image_format": meta.get("image_format"),
        }

    def summary(self) -> ModelSummary:
        """The network's layers, shapes, parameters and FLOPs."""
        self.require_network("be summarised")
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
        spec = ModelSpec.from_dict(self.config["model"])
        net = build_network(spec, shape, task.num_outputs, check_size=False)  # trained already
        return summarize(net)

    def export(
        self, out_dir: str | Path, format: str = "safetensors", *, force: bool = False
    ) -> dict[str, Any]:
        """Write the model to `out_dir`: `safetensors` (weights + model.json), `onnx`
        (model.onnx + model.json) or `all`; all or nothing.

        An ONNX export replays the run's test split (up to 256 samples) through
        onnxruntime and PyTorch and is refused unless they agree.

        Returns:
            `{run_id, format, out_dir, files, parity}`; `parity` (None for safetensors
            alone) is `{samples, agreement, max_abs_diff, tolerance, compared, passed,
            reason}`.

        Raises:
            Conflict: the run is still training, or `out_dir` holds files (without `force`).
            SpecError: an unknown format, or ONNX for a run without a test split.
            ExportFailed: the ONNX file does not reproduce PyTorch's outputs.
        """
        self.require_network("export")
        check_format(format)
        self._check_ended()
        onnx = format in ("onnx", "all")
        parity_x = self._parity_inputs() if onnx else None  # before anything is written
        code = self._pytorch_code() if format == "pytorch" else None
        return write_export(
            self.dir,
            Path(out_dir),
            format,
            run_id=self.id,
            force=force,
            predictor=lambda: self.predictor,
            parity_x=lambda: parity_x,
            code=lambda: code,
        )

    def pytorch_code(self) -> str:
        """The run as one plain PyTorch file (`export --format pytorch` writes it as
        model.py): the network class, the preprocessing, `load_weights` and the run's
        training loop with its settings.

        Raises:
            SpecError: a run the code export does not write (an anomaly detector, a
                forecaster), named.
        """
        self.require_network("show the code of")
        p = self.predictor
        title = f"{self.record.model} on '{self.record.dataset}' (run {self.id})"
        return pytorch_file(
            p.network, p.task, p.standardizer.to_dict(), self.config["train"], title=title
        )

    def _pytorch_code(self) -> tuple[str, dict[str, torch.Tensor]]:
        """model.py's source and the run's split as raw tensors (x_train, y_train, ...)."""
        source = self.pytorch_code()
        ds = self.workspace.load_dataset(self.record.dataset)
        if ds.content_hash != self.record.dataset_hash:
            raise Conflict(
                f"dataset '{ds.name}' changed since run {self.id} was trained; the code "
                "export writes the data the run saw",
                where="dataset",
            )
        splits = self._split_indices(ds)
        data: dict[str, torch.Tensor] = {}
        for split in SPLITS:
            x, y = ds.subset(getattr(splits, split))
            data[f"x_{split}"], data[f"y_{split}"] = torch.as_tensor(x), torch.as_tensor(y)
        return source, data

    def onnx_export(self) -> dict[str, Any]:
        """The run's checked ONNX export, kept in its folder (`onnx-export/`) for download:
        written on first call and again when the weights changed since.

        Returns:
            `{run_id, format, out_dir, files, parity}`, as `export` gives it.
        """
        self.require_network("export")
        self._check_ended()
        out = self.dir / ONNX_EXPORT_DIR
        kept = self._kept_onnx_export(out)
        if kept is not None:
            return kept
        return self.export(out, "onnx", force=True)

    def _check_ended(self) -> None:
        if self.refresh().status in ("created", "running"):
            raise Conflict(
                f"run {self.id} is still training; export it when it has ended", where="run"
            )

    def _kept_onnx_export(self, out: Path) -> dict[str, Any] | None:
        """The report of the export in `out` if it passed and is newer than the weights."""
        meta_path, weights = out / "model.json", self.dir / "model.safetensors"
        if not (meta_path.is_file() and weights.is_file() and (out / "model.onnx").is_file()):
            return None
        if meta_path.stat().st_mtime < weights.stat().st_mtime:
            return None  # trained on since
        parity = json.loads(meta_path.read_text(encoding="utf-8")).get("parity")
        if not parity or not parity.get("passed"):
            return None
        files = [str(out / n) for n in ONNX_EXPORT_FILES]
        return {"run_id": self.id, "format": "onnx", "out_dir": str(out), "files": files,
                "parity": parity}  # fmt: skip

    def _parity_inputs(self) -> torch.Tensor:
        """Raw inputs of the first `PARITY_SAMPLES` samples of the test split."""
        if float(self.config["train"].get("test_split") or 0) <= 0:
            raise SpecError(
                f"run {self.id} has no test split to check the ONNX file against; train "
                "with a test split (--test-split 0.2) or export --format safetensors",
                where="test_split",
            )
        ds = self.workspace.load_dataset(self.record.dataset)
        idx = self._split_indices(ds).test[:PARITY_SAMPLES]
        if len(idx) == 0:
            raise SpecError(
                f"run {self.id} has an empty test split to check the ONNX file against; "
                "export --format safetensors",
                where="test_split",
            )
        x, _ = ds.subset(idx)
        if tuple(x.shape[1:]) != self.predictor.input_shape:
            raise Conflict(
                f"dataset '{ds.name}' changed since run {self.id} was trained: its samples "
                "no longer fit the model",
                where="dataset",
            )
        return x.float()

    # -- generated images (task generate) -----------------------------------------------

    def generate(self, n: int = 16, *, seed: int | None = None) -> torch.Tensor:
        """`n` new images (N, C, H, W) in [0, 1] from a generative run (a VAE, a DCGAN),
        from random latent points (`seed`: the same points again).

        Raises:
            SpecError: the run does not generate (a classifier, …), or `n` is not 1 to 1024.
        """
        from lernwerk.training.tasks_generate import generate_images

        self.require_network("generate images")
        return generate_images(self.predictor.network, n, seed=seed, run=self.id)

    def generate_png(self, n: int = 16, *, seed: int | None = None) -> bytes:
        """`generate(n)` as one PNG grid."""
        from lernwerk.evaluation.generated_pictures import image_grid_png

        return image_grid_png(self.generate(n, seed=seed).numpy())

    def generated_samples(self) -> dict[str, Any]:
        """The sample grids the run drew while it trained: `{epochs, latent_map,
        interpolation}` (empty for a run that does not generate)."""
        from lernwerk.training.tasks_generate import sample_files

        return sample_files(self.dir)

    def generated_sample_png(self, name: str) -> bytes:
        """One stored picture: `epoch-0003`, `latent-map` or `interpolation`.

        Raises:
            NotFound: the run holds no such picture.
        """
        from lernwerk.training.tasks_generate import sample_path

        path = sample_path(self.dir, name)
        if path is None:
            raise NotFound(f"run {self.id} holds no generated picture '{name}'", where="name")
        return path.read_bytes()

    def row(self) -> dict[str, Any]:
        """Key facts in one flat dict, for tables."""
        return run_row(self.record)

    def to_dict(self) -> dict[str, Any]:
        return {**self.record.to_dict(), "history": self.workspace.store.epochs(self.id)}

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, name={self.name!r}, status={self.status!r})"

    def _repr_html_(self) -> str:
        from lernwerk.evaluation.report import run_html

        return run_html(self.row(), self.workspace.store.epochs(self.id), self.metrics)


def _results(
    p: Predictor, x: torch.Tensor | np.ndarray, *, with_series: bool = False
) -> list[dict[str, Any]]:
    """Each sample's prediction as the run's task gives it (`Task.prediction_rows`): class,
    confidence and probabilities; the value(s); or an anomaly score against the threshold.
    `with_series` adds the input series (and the reconstruction, or the channel a forecast
    continues) for plots."""
    xt = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x, dtype=torch.float32)
    if tuple(xt.shape) == p.input_shape:
        xt = xt.unsqueeze(0)  # one sample
    return p.task.prediction_rows(p, xt, with_series=with_series)
