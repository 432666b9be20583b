"""The workspace: where datasets and runs live, and where training is started."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from lernwerk.api.baselines import BaselineMethods
from lernwerk.api.dataset_checks import DatasetChecks
from lernwerk.api.dataset_edits import DatasetEdits
from lernwerk.api.dataset_views import DatasetViews
from lernwerk.api.datasets import DatasetMethods
from lernwerk.api.models import ModelMethods
from lernwerk.api.run import Run
from lernwerk.api.sweep import SweepMethods
from lernwerk.config import SCHEMA_VERSION, ModelSpec, TrainConfig
from lernwerk.data import Dataset
from lernwerk.errors import Conflict, NotFound, SpecError
from lernwerk.export.bundle import META_FILE, WEIGHTS_FILE
from lernwerk.store import WorkspaceStore, load_tensors
from lernwerk.training import Listener, StopSignal
from lernwerk.training.run import CHECKPOINT_FILE, RunPlan, execute
from lernwerk.training.transfer import PRETRAINED_NAMES, InitSource


class Workspace(
    DatasetMethods,
    DatasetEdits,
    DatasetViews,
    ModelMethods,
    BaselineMethods,
    SweepMethods,
    DatasetChecks,
):
    """A workspace directory: its datasets and runs. Pass it around; it holds no global state.

    Args:
        path: The directory; default `$LERNWERK_HOME` or `./lernwerk-workspace`.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.store = WorkspaceStore(path)
        self.store.reconcile()  # runs whose process died are marked interrupted

    @property
    def path(self) -> Path:
        return self.store.root

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    # -- datasets ---------------------------------------------------------------------------

    def fit(
        self,
        dataset: str | Dataset,
        model: str | dict[str, Any] | ModelSpec | None = None,
        *,
        name: str | None = None,
        config: TrainConfig | None = None,
        listeners: Iterable[Listener] = (),
        stop_signal: StopSignal | None = None,
        sweep: dict[str, Any] | None = None,
        **train: Any,
    ) -> Run:
        """Train a model on a dataset and return the finished (or stopped) run.

        Args:
            dataset: a reference such as "digits" or a `Dataset`.
            model: a preset name, a spec file path, a spec dict or a `ModelSpec`; may be
                left out with `init`: then the network of the run it names (or
                efficientnet-lite0 for `init="efficientnet-lite0"`).
            name: a name for the run.
            config: a `TrainConfig`; keyword arguments (epochs=…, lr=…) override it, e.g.
                `init="RUN"` (start from a run's weights: the layers that fit, a new head
                where the classes differ), `freeze="features"` (or N, or layer names),
                `unfreeze_after=E` (then the frozen layers train at lr × backbone_lr_factor).
            listeners: extra listeners (e.g. a progress bar).
            stop_signal: set it from another thread to stop after the current step.
            sweep: the study a sweep's trial belongs to, recorded in the run's config.

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
            **({"transfer": plan.transfer} if plan.transfer else {}),
            **({"sweep": sweep} if sweep else {}),
            **({"checks": plan.checks} if plan.checks else {}),
        }
        rec = self.store.create_run(
            name=name or self._numbered_run_name(f"{spec.name} on {ds.name}"),
            config=full_config,
            model=spec.name,
            dataset=ds.name,
            dataset_hash=ds.content_hash,
            device=str(plan.device),
        )
        execute(self.store, rec, ds, plan, listeners=listeners, stop_signal=stop_signal)
        return self.run(rec.id)

    def _numbered_run_name(self, base: str) -> str:
        """`base`, then `base #2`, `base #3`, …: runs of the same network on the same data
        keep apart in every list."""
        taken = {rec.name for rec in self.store.list_runs()}
        if base not in taken:
            return base
        n = 2
        while f"{base} #{n}" in taken:
            n += 1
        return f"{base} #{n}"

    def check_fit(
        self,
        dataset: str | Dataset,
        model: str | dict[str, Any] | ModelSpec | None = None,
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
            **({"transfer": plan.transfer} if plan.transfer else {}),
            **({"checks": plan.checks} if plan.checks else {}),
        }

    def _plan(
        self,
        dataset: str | Dataset,
        model: str | dict[str, Any] | ModelSpec | None,
        config: TrainConfig | None,
        train: dict[str, Any],
    ) -> tuple[Dataset, ModelSpec, RunPlan]:
        base = config.to_dict() if config is not None else {}
        cfg = TrainConfig.from_dict({**base, **train})
        init = None
        if cfg.init is not None and cfg.init not in PRETRAINED_NAMES:
            init = self._init_source(cfg.init)
            cfg = cfg.model_copy(update={"init": init.name})  # recorded by id
        if model is None:
            if cfg.init is None:
                raise SpecError("model: give a model (a preset name or a spec)", where="model")
            model = "efficientnet-lite0" if init is None else init.spec
        ds = self._as_stored(self.load_dataset(dataset))
        spec = self.resolve_model(model)
        return ds, spec, RunPlan(ds, spec, cfg, init)

    def _init_source(self, ref: str) -> InitSource:
        """The trained network of the run `init` names: spec, input shape and weights."""
        try:
            rec = self.store.get_run(ref)
        except NotFound:
            raise NotFound(
                f"init: no run {ref!r} in this workspace; `lernwerk runs list` shows the runs "
                f"(or use {' or '.join(PRETRAINED_NAMES)} for the ImageNet backbone)",
                where="init",
            ) from None
        except Conflict as exc:
            raise Conflict(f"init: {exc.message}", where="init") from None
        bundle = self.store.run_dir(rec.id)
        if not (bundle / META_FILE).is_file():
            raise Conflict(
                f"init: run {rec.id} ({rec.status}) has no trained model to start from",
                where="init",
            )
        meta = json.loads((bundle / META_FILE).read_text())
        weights, _ = load_tensors(bundle / WEIGHTS_FILE)
        return InitSource(
            name=rec.id,
            spec=meta["spec"],
            input_shape=tuple(meta["input_shape"]),
            weights=weights,
            run_name=rec.name,
        )

    def resume(
        self,
        ref: str,
        *,
        epochs: int | None = None,
        listeners: Iterable[Listener] = (),
        stop_signal: StopSignal | None = None,
        time_budget_s: float | None = None,
    ) -> Run:
        """Continue an interrupted or stopped run from its last checkpoint.

        `epochs` is the total number of epochs the run will have (not how many more): it
        may raise the run's budget, e.g. 50 for a run of 30 trains 20 more; so may
        `time_budget_s` (the total seconds of training, 0: none); nothing else can change.
        """
        rec = self.store.get_run(ref)
        Run(self, rec).require_network("resume")
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
        if time_budget_s is not None:
            train["time_budget_s"] = time_budget_s
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
        cfg = TrainConfig.from_dict(train)
        init = None  # the checkpoint holds the weights; without one, start as the run did
        started = (self.store.run_dir(rec.id) / CHECKPOINT_FILE).is_file()
        if cfg.init is not None and cfg.init not in PRETRAINED_NAMES and not started:
            init = self._init_source(cfg.init)
        plan = RunPlan(ds, spec, cfg, init)
        if epochs is not None or time_budget_s is not None:
            config = {**rec.config, "train": plan.config.to_dict()}
            rec = self.store.update_run(rec.id, config=config)
        execute(
            self.store, rec, ds, plan, listeners=listeners, stop_signal=stop_signal, resume=True
        )
        return self.run(rec.id)

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
