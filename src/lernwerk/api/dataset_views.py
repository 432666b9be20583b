"""Looking at datasets in a workspace: facts, a page of samples, one sample's picture, a
preview grid, and writing a dataset out.

A stored dataset is looked at with its samples left on disk (labels, ids and splits in
memory), so a look costs what it shows, at any dataset size.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lernwerk.data import Dataset, Splits
from lernwerk.errors import DataError, NotFound, SpecError
from lernwerk.store import WorkspaceStore

_MAX_SEED = 2**31 - 1  # as a training seed


class DatasetViews:
    """The looking half of `Workspace`'s datasets (`DatasetMethods` stores and edits)."""

    store: WorkspaceStore

    if TYPE_CHECKING:

        def load_dataset(self, ref: str | Dataset, **params: Any) -> Dataset: ...

        def _load_stored(self, name: str, *, whole: bool | None = None) -> Dataset: ...

    def dataset_info(
        self, ref: str, *, val_split: float = 0.2, test_split: float = 0.2, split_seed: int = 0
    ) -> dict[str, Any]:
        """Counts per class and split, the sample shape and the content hash."""
        ds = self._dataset_facts(ref)
        if len(ds):
            splits = ds.split(val_split, test_split, split_seed)
        else:  # an empty dataset waiting for its first drawings
            none = torch.zeros(0, dtype=torch.int64)
            splits = Splits(train=none, val=none, test=none)
        info = ds.info()
        info["stored"] = self.store.has_dataset(ds.name)
        source = ds.source or {}
        info["generator"] = source.get("builtin")  # made by a built-in, or None
        # where the page finds the description in its own language (else it shows ours)
        info["description_key"] = (
            f"builtin.{info['generator']}"
            if info["generator"]
            else "data.drawnByHand"
            if source.get("created") == "empty"
            else None
        )
        info["splits"] = {
            part: {"samples": len(idx), **_class_counts(ds, idx)}
            for part, idx in (("train", splits.train), ("val", splits.val), ("test", splits.test))
        }
        info["split_settings"] = {
            "val_split": val_split,
            "test_split": test_split,
            "split_seed": split_seed,
            "fixed_test": ds.test_index is not None,
        }
        return info

    def dataset_view(
        self, ref: str, *, table_rows: int = 20, series_per_class: int = 3
    ) -> dict[str, Any]:
        """`dataset_info` plus a look at the data: the first rows of a table
        (`table: {columns, rows}`) or a few series per class (`series: [{label, values}]`)."""
        info = self.dataset_info(ref)
        ds = self._dataset_facts(ref)
        if ds.kind == "table":
            info["table"] = _table_head(ds, table_rows)
        elif ds.kind == "sequences":
            info["series"] = _series_examples(ds, series_per_class)
        return info

    def list_samples(
        self, ref: str, *, label: str | None = None, offset: int = 0, limit: int = 100
    ) -> dict[str, Any]:
        """A page of a dataset's samples: `{"total", "samples": [{id, label, test}]}`,
        optionally only those of one class. A stored dataset's page is read on its own,
        so a page costs the same at any dataset size."""
        if ":" not in ref and self.store.has_dataset(ref):
            return self._list_stored_samples(ref, label, offset, limit)
        ds = self.load_dataset(ref)
        index = torch.arange(len(ds))
        if label is not None:
            index = (ds.y == _class_of(ds.task, ds.classes, label)).nonzero().flatten()
        page = index[max(offset, 0) : max(offset, 0) + max(limit, 0)]
        ids, is_test = ds.ids, ds.is_test
        samples = [
            {"id": int(ids[i]), "label": _label(ds, int(i)), "test": bool(is_test[i])}
            for i in page.tolist()
        ]
        return {"total": len(index), "samples": samples}

    def _list_stored_samples(
        self, name: str, label: str | None, offset: int, limit: int
    ) -> dict[str, Any]:
        rec = self.store.get_dataset(name)
        k = None if label is None else _class_of(rec.task, rec.classes, label)
        rows = self.store.page_samples(name, label=k, offset=offset, limit=limit)
        width = int(np.prod(rec.target_shape)) if rec.target_shape else 1
        samples = []
        for sample_id, _, class_index, target, test in rows:
            if class_index is not None:
                value: Any = rec.classes[class_index]
            else:
                values = np.frombuffer(target, dtype=np.float32)
                value = float(values[0]) if width == 1 and not rec.target_shape else values.tolist()
            samples.append({"id": sample_id, "label": value, "test": test})
        return {"total": self.store.count_samples(name, k), "samples": samples}

    def sample_image(self, ref: str, sample_id: int, scale: int = 1) -> bytes:
        """One image sample as PNG bytes (nearest-neighbour upscaled by `scale`); a stored
        dataset reads just that sample."""
        from lernwerk.data.images.formats import encode_png

        if ":" not in ref and self.store.has_dataset(ref):
            rec = self.store.get_dataset(ref)
            _require_images(rec.name, rec.kind)
            slot = self.store.sample_rows(ref, [sample_id]).get(int(sample_id))
            if slot is None:
                raise NotFound(f"no sample with id {sample_id}", where=f"dataset '{ref}'")
            pixels = self.store.read_samples(rec, np.array([slot]))[0]  # (C, H, W) uint8
            return encode_png(pixels.astype(np.float32) / 255.0, scale=scale)
        ds = self.load_dataset(ref)
        _require_images(ds.name, ds.kind)
        where = (ds.ids == sample_id).nonzero().flatten()
        if len(where) == 0:
            raise NotFound(f"no sample with id {sample_id}", where=f"dataset '{ds.name}'")
        return encode_png(ds.x[int(where[0])].numpy(), scale=scale)

    # -- writing out ------------------------------------------------------------------------

    def export_dataset(self, ref: str, out_dir: str | Path) -> dict[str, Any]:
        """Write a dataset out: images as class folders of PNGs, tables as CSV, sequences
        as a `.ts` file. Returns what was written."""
        from lernwerk.data.exporting import export_dataset

        return export_dataset(self.load_dataset(ref), Path(out_dir))

    def preview_dataset(
        self,
        ref: str,
        *,
        augment: Any = None,
        per_class: int = 8,
        seed: int = 0,
    ) -> bytes:
        """A PNG: a grid of samples per class, or with `augment` each sample followed by
        augmented copies, as the network will see them in training.

        Raises:
            SpecError: a seed outside 0..2**31-1 (as training's), an unknown augmentation.
        """
        from lernwerk.config import AugmentConfig
        from lernwerk.data.exporting import preview_png

        if not isinstance(seed, int) or not 0 <= seed <= _MAX_SEED:
            raise SpecError(
                f"seed must be between 0 and {_MAX_SEED}; received: {seed}", where="seed"
            )

        cfg = None
        if augment is not None:
            cfg = (
                augment if isinstance(augment, AugmentConfig) else AugmentConfig.from_dict(augment)
            )
        # a stored dataset stays on disk: the grid reads only the samples it shows; a
        # built-in is drawn once for the previews (the train page's follows each setting)
        from lernwerk.data.builtin import BUILTINS, parse_dataset_ref

        stored = ":" not in ref and self.store.has_dataset(ref)
        builtin = not stored and parse_dataset_ref(ref)[0].lower() in BUILTINS
        ds = _builtin_for_preview(ref) if builtin else self._dataset_facts(ref)
        return preview_png(ds, augment=cfg, per_class=per_class, seed=seed)

    def _dataset_facts(self, ref: str) -> Dataset:
        """A dataset for looking at: a stored one with its samples left on disk (its
        labels, ids and splits in memory), so that a look costs what it shows."""
        if ":" not in ref and self.store.has_dataset(ref):
            return self._load_stored(ref, whole=False)
        return self.load_dataset(ref)


@functools.lru_cache(maxsize=2)
def _builtin_for_preview(ref: str) -> Dataset:
    """A built-in dataset by reference, kept for the next preview: the same reference
    draws the same samples, and smileys take seconds to draw (0.4 s to preview)."""
    from lernwerk.data.builtin import load_dataset_ref

    return load_dataset_ref(ref)


def _class_counts(ds: Dataset, idx: torch.Tensor) -> dict[str, Any]:
    if ds.task != "classification":
        return {}
    counts = torch.bincount(ds.y[idx], minlength=ds.num_classes).tolist()
    return {"class_counts": dict(zip(ds.classes, counts, strict=True))}


def _class_of(task: str, classes: list[str], label: str) -> int:
    if task != "classification" or label not in classes:
        raise NotFound(
            f"no class '{label}'; classes: {', '.join(classes) or 'none'}", where="label"
        )
    return classes.index(label)


def _require_images(name: str, kind: str) -> None:
    if kind != "images":
        raise DataError(f"dataset '{name}' holds {kind}, not images", where="dataset")


def _label(ds: Dataset, i: int) -> str | float | list[float]:
    """A sample's class name, target value, or target values (a forecast's next steps)."""
    if ds.task == "classification":
        return ds.classes[int(ds.y[i])]
    y = ds.y[i]
    return float(y) if y.numel() == 1 else [float(v) for v in y.flatten()]


def _table_head(ds: Dataset, rows: int) -> dict[str, Any]:
    target = str(ds.meta.get("target") or "target")
    head = ds.x[:rows].tolist()
    return {
        "columns": [*ds.feature_names, target],
        "rows": [[*r, _label(ds, i)] for i, r in enumerate(head)],
    }


def _series_examples(ds: Dataset, per_class: int) -> list[dict[str, Any]]:
    if ds.task != "classification":
        picks = list(range(min(len(ds), 2 * per_class)))
    else:
        picks = []
        for k in range(len(ds.classes)):
            picks += (ds.y == k).nonzero().flatten()[:per_class].tolist()
    return [
        {"id": int(ds.ids[i]), "label": _label(ds, i), "values": ds.x[i].tolist()} for i in picks
    ]
