"""What a run knows of the data it trained on: its data version, whether the dataset has
changed since, the samples it got wrong, and one call to train it again on today's data.

A run keeps the content hash of its dataset (`RunRecord.dataset_hash`); a stored dataset
moves its hash on with every edit, so comparing the two says whether the data changed. The
evaluation a results page showed is kept in the run's folder, so that it can still be
shown (and its mistakes fixed one after another) once the data has changed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lernwerk.api.listing import data_version
from lernwerk.config import ModelSpec, TrainConfig
from lernwerk.errors import Conflict, SpecError
from lernwerk.store import atomic_write_json

if TYPE_CHECKING:
    from lernwerk.api.run import Run
    from lernwerk.api.workspace import Workspace
    from lernwerk.store import RunRecord

_KEPT_VIEW = "evaluation-{split}.json"  # in the run's folder


class RunData:
    """The data half of `Run` (mixed into it)."""

    workspace: Workspace
    record: RunRecord

    @property
    def dir(self) -> Path:
        raise NotImplementedError  # Run's

    @property
    def data_version(self) -> str:
        """The data version the run trained on (the first 8 hex digits of its hash)."""
        return data_version(self.record.dataset_hash)

    def dataset_changed(self) -> bool:
        """Whether the run's stored dataset was edited since it trained (built-in data
        never changes; a deleted dataset counts as changed)."""
        store = self.workspace.store
        name = self.record.dataset
        if not store.has_dataset(name):
            return ":" not in name and not _is_builtin(name)
        return store.get_dataset(name).content_hash != self.record.dataset_hash

    def data_state(self) -> dict[str, Any]:
        """`{"data_version", "dataset_version", "dataset_changed"}`: the run's data version,
        the dataset's now (None unless stored) and whether they differ."""
        store = self.workspace.store
        now = None
        if store.has_dataset(self.record.dataset):
            now = data_version(store.get_dataset(self.record.dataset).content_hash)
        return {
            "data_version": self.data_version,
            "dataset_version": now,
            "dataset_changed": self.dataset_changed(),
        }

    def mistakes(self, split: str = "val") -> list[int]:
        """The ids of the samples of `split` that the run classifies wrongly, the most
        confident mistakes first.

        Raises:
            SpecError: the run is no classifier, or `split` is not train, val or test.
            Conflict: the dataset changed and the run's evaluation of that split was never
                shown (retrain, or undo the edits).
        """
        view = self.evaluation(split, limit=1_000_000_000)  # type: ignore[attr-defined]
        if view.get("task") != "classification" or view.get("baseline"):
            raise SpecError(
                f"run {self.record.id} is no trained classifier ({view.get('task')}); "
                "mistakes are wrongly classified samples",
                where="run",
            )
        return [int(s["id"]) for s in view["samples"] if s["label"] != s["predicted"]]

    def retrain_plan(self) -> tuple[str, ModelSpec, TrainConfig]:
        """The dataset name, network and training settings of this run, to train again."""
        config = self.record.config
        if "model" not in config or not isinstance(config.get("train"), dict):
            raise Conflict(
                f"run {self.record.id} ({self.record.model}) is not a trained network; fit "
                "baselines again with `lernwerk baselines`",
                where="run",
            )
        train = {
            k: v
            for k, v in config["train"].items()
            if v is not None and not (k == "early_stopping" and not v)
        }
        return (
            self.record.dataset,
            ModelSpec.from_dict(config["model"]),
            TrainConfig.from_dict(train),
        )

    def retrain(self, *, name: str | None = None, **fit: Any) -> Run:
        """Train a new run with this run's settings on the dataset as it is now (its new
        data version); keyword arguments go to `Workspace.fit` (e.g. listeners)."""
        dataset, spec, config = self.retrain_plan()
        return self.workspace.fit(dataset, spec, config=config, name=name, **fit)

    # -- the evaluation a page showed -------------------------------------------------------

    def _keep_view(self, split: str, view: dict[str, Any], limit: int) -> None:
        """Keep `view` unless a view of as many samples or more is kept (the data it shows
        is the run's own version, so a kept view never goes stale)."""
        if not self.workspace.store.has_dataset(self.record.dataset):  # only stored data changes
            return
        path = self.dir / _KEPT_VIEW.format(split=split)
        if path.is_file():
            try:
                if json.loads(path.read_text()).get("limit", 0) >= limit:
                    return
            except (OSError, ValueError):
                pass  # unreadable: written anew
        atomic_write_json(path, {"limit": limit, "view": view})

    def _kept_view(self, split: str, limit: int) -> dict[str, Any]:
        path = self.dir / _KEPT_VIEW.format(split=split)
        if not path.is_file():
            raise Conflict(
                f"dataset '{self.record.dataset}' changed since run {self.record.id} was "
                f"trained, and its {split} evaluation was not kept; retrain it "
                f"(`lernwerk runs retrain {self.record.id}`) or undo the edit",
                where="dataset",
            )
        view = json.loads(path.read_text())["view"]
        view["samples"] = view.get("samples", [])[:limit]
        return view

    def _with_data_state(self, view: dict[str, Any]) -> dict[str, Any]:
        """The view with the run's data state, and for a stored classification dataset each
        sample's class now (`now`, None once deleted) and its `checked` mark."""
        view = {**view, **self.data_state()}
        store = self.workspace.store
        name = self.record.dataset
        samples = view.get("samples") or []
        if not samples or view.get("task") != "classification" or not store.has_dataset(name):
            return view
        classes = store.get_dataset(name).classes
        states = store.sample_states(name, [int(s["id"]) for s in samples])
        annotated = []
        for s in samples:
            label, checked = states.get(int(s["id"]), (None, False))
            now = classes[label] if label is not None and 0 <= label < len(classes) else None
            annotated.append({**s, "now": now, "checked": checked})
        view["samples"] = annotated
        return view


def _is_builtin(name: str) -> bool:
    from lernwerk.data.builtin import BUILTINS

    return name.lower() in BUILTINS
