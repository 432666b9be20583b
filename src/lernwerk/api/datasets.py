"""Datasets in a workspace: load, store, create from a generator, import, edit, export.

A stored dataset takes precedence over a built-in of the same name, so a workspace can
hold its own `smileys` (with the drawings people added) beside the generator.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lernwerk.api.listing import dataset_items
from lernwerk.data import Dataset, editing, list_builtins, load_dataset_ref
from lernwerk.data.builtin import BUILTINS, parse_dataset_ref
from lernwerk.data.packing import pack, stored_x, unpack
from lernwerk.errors import Conflict, DataError, NotFound, SpecError
from lernwerk.store import DatasetRecord, WorkspaceStore

if TYPE_CHECKING:
    from lernwerk.api.workspace import Workspace


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _with_params(ref: str, params: dict[str, Any]) -> str:
    """'tabular' + {rows: 500} -> 'tabular:rows=500'; 'process:length=300' + {per_class:
    20} -> 'process:length=300,per_class=20'.

    Raises:
        SpecError: a parameter is given in the reference and again on its own.
    """
    if not params:
        return ref
    name, given = parse_dataset_ref(ref)
    twice = sorted(set(given) & set(params))
    if twice:
        raise SpecError(
            f"parameter {twice[0]!r} is given in {ref!r} and again on its own; give it once",
            where=twice[0],
        )
    merged = {**given, **{k: str(v) for k, v in params.items()}}
    return name + ":" + ",".join(f"{k}={v}" for k, v in merged.items())


class DatasetMethods:
    """The dataset half of `Workspace`: every method takes and returns plain values."""

    store: WorkspaceStore

    # -- reading ----------------------------------------------------------------------------

    def list_datasets(self) -> list[dict[str, Any]]:
        """Built-in datasets (with their parameters) and those stored in this workspace."""
        return dataset_items(self.store)

    def load_dataset(self, ref: str | Dataset, **params: Any) -> Dataset:
        """A stored dataset by name, or a built-in by reference ('xor', 'tabular:rows=500')."""
        if isinstance(ref, Dataset):
            return ref
        ref = _with_params(ref, params)
        if ":" not in ref and self.store.has_dataset(ref):
            return self._load_stored(ref)
        name, _ = parse_dataset_ref(ref)
        if name.lower() in BUILTINS:
            return load_dataset_ref(ref)
        stored = ", ".join(r.name for r in self.store.list_datasets()) or "none"
        raise NotFound(
            f"dataset '{ref}' not found; built-in: {', '.join(sorted(BUILTINS))}; "
            f"stored in this workspace: {stored}",
            where="dataset",
        )

    def add_image_samples(
        self,
        name: str,
        label: str,
        *,
        pixels: Any = None,
        data_url: str | None = None,
        files: list[tuple[str, bytes]] | None = None,
        paths: list[str | Path] | None = None,
    ) -> dict[str, Any]:
        """Add images to a stored image dataset under `label`.

        Give one of: `pixels` (rows of values in [0, 1], H×W or H×W×C), `data_url` (a
        PNG/JPEG `data:` URL, as a canvas or webcam gives it), `files` ((name, bytes) of
        image files or zips of images) or `paths` (such files on disk). Every image is
        brought to the dataset's size and channels; all are decoded before any is stored
        (all or nothing).

        Returns:
            `{"ids": [...], "skipped": [{"path", "reason", "code"}]}`: the new samples' ids,
            and the zip entries passed over (a path out of the archive, a hidden file, not
            an image).

        Raises:
            DataError: the dataset holds no images, or an input is not a readable image.
            NotFound: no such dataset, class or file.
        """
        from lernwerk.data import sample_values as inputs

        rec = self.store.get_dataset(name)
        if rec.kind != "images":
            raise DataError(
                f"dataset '{name}' holds {rec.kind}; only image datasets take images",
                where="dataset",
            )
        if label not in rec.classes:
            raise NotFound(
                f"no class '{label}'; classes: {', '.join(rec.classes) or 'none yet'}",
                where="label",
            )
        shape = tuple(rec.input_shape)
        given = [v is not None for v in (pixels, data_url, files, paths)]
        if sum(given) != 1:
            raise DataError("give one of pixels, image (a data URL) or files", where="body")
        skipped: list[dict[str, str]] = []
        if pixels is not None:
            samples = [inputs.image_from_pixels(pixels, shape, rec.meta)]
        elif data_url is not None:
            data = inputs.decode_data_url(data_url)
            samples = [inputs.image_from_bytes(data, shape, rec.meta, "image")]
        else:
            if paths is not None:
                files = [(str(path), _read_file(Path(path))) for path in paths]
            samples = []
            for file_name, data in files or []:
                if file_name.lower().endswith(".zip"):
                    images, passed = inputs.images_in_zip(data, file_name)
                    skipped += [{**s, "path": f"{file_name}:{s['path']}"} for s in passed]
                    for member, content in images:
                        where = f"{file_name}:{member}"
                        samples.append(inputs.image_from_bytes(content, shape, rec.meta, where))
                else:
                    samples.append(inputs.image_from_bytes(data, shape, rec.meta, file_name))
            if not samples:
                why = "; ".join(f"{s['path']}: {s['reason']}" for s in skipped[:5])
                raise DataError(
                    "no images in the upload" + (f" (skipped {why})" if why else ""),
                    where="files",
                )
        x = torch.from_numpy(np.stack(samples))  # (n, C, H, W)
        return {"ids": self.add_samples(name, x, [label] * len(samples)), "skipped": skipped}

    # -- storing ----------------------------------------------------------------------------

    def save_dataset(self, dataset: Dataset, name: str | None = None) -> Dataset:
        """Store a dataset under `name` (default its own); returns it as stored.

        A new dataset's files are written in the workspace's `tmp/` and moved into place
        with its record; a stored one's new sample file appears beside the old one and
        counts only once its record is committed. A failure or a kill on the way leaves
        the dataset as it was (see `WorkspaceStore.write_dataset`).
        """
        stored, packed = pack(dataset if name is None else _renamed(dataset, name))
        self.store.write_dataset(
            DatasetRecord(
                name=stored.name,
                kind=stored.kind,
                task=stored.task,
                source=stored.source,
                content_hash=stored.content_hash,
                num_samples=len(stored),
                classes=list(stored.classes),
                input_shape=list(stored.input_shape),
                created_at=_created_at(self.store, stored.name),
                description=stored.description,
                feature_names=list(stored.feature_names),
                meta=stored.meta,
                updated_at=_now(),
            ),
            packed.x,
            packed.ids,
            packed.y,
            packed.test,
        )
        return stored

    def create_dataset(
        self, name: str, source: str, *, replace: bool = False, **params: Any
    ) -> Dataset:
        """Generate a built-in (e.g. 'smileys', per_class=100) and store it as `name`."""
        self._check_new_name(name, replace)
        ds = load_dataset_ref(_with_params(source, params))
        return self.save_dataset(ds, name)

    def create_empty_dataset(
        self,
        name: str,
        *,
        classes: list[str] = (),  # type: ignore[assignment]
        image_size: int = 28,
        channels: int = 1,
        resize: str = "fit",
        replace: bool = False,
    ) -> Dataset:
        """An image dataset with classes and no samples yet: the canvas draws into it."""
        from lernwerk.data.images.formats import ImageFormat

        self._check_new_name(name, replace)
        fmt = ImageFormat(size=image_size, channels=channels, resize=resize)  # type: ignore[arg-type]
        names = [editing.validate_class_name(c) for c in classes]
        if len({n.casefold() for n in names}) != len(names):
            raise DataError(
                "class names must be distinct, also in case (a folder each on export)",
                where="classes",
            )
        ds = Dataset(
            name=name,
            kind="images",
            task="classification",
            x=torch.zeros((0, channels, image_size, image_size)),
            y=torch.zeros(0, dtype=torch.int64),
            classes=names or ["class-1"],
            feature_names=[],
            source={"created": "empty"},
            description="Drawn and collected by hand.",
            meta={"image_format": fmt.to_dict()},
        )
        return self.save_dataset(ds)

    def import_dataset(
        self, name: str, path: str | Path, *, replace: bool = False, **options: Any
    ) -> Dataset:
        """Import a folder, zip, CSV, Parquet or .ts file as a stored dataset.

        All or nothing: a bad file fails the import and nothing is stored (unless
        `skip_bad=True` for images). `import_dataset_report` also says what was skipped
        and which settings were detected.
        """
        return self.import_dataset_report(name, path, replace=replace, **options)[0]

    def import_dataset_report(
        self, name: str, path: str | Path, *, replace: bool = False, **options: Any
    ) -> tuple[Dataset, dict[str, Any]]:
        """`import_dataset`, returning the stored dataset and a report (skipped files with
        the reason, detected settings)."""
        from lernwerk.data.importing import import_path

        self._check_new_name(name, replace)
        ds, report = import_path(name, Path(path), **options)
        self.save_dataset(ds)
        return self._load_stored(name), report  # in memory when it fits, as load gives it

    def delete_dataset(self, name: str) -> None:
        """Delete a stored dataset and its files (runs trained on it are kept)."""
        self.store.delete_dataset(name)

    # -- editing ----------------------------------------------------------------------------

    def add_samples(self, name: str, x: np.ndarray | torch.Tensor, labels: list[str]) -> list[int]:
        """Append samples shaped like the dataset's (images in [0, 1]); returns their ids.

        Each addition writes only its own samples (at the end of the dataset's sample
        file, and a row each), so it costs the same at any dataset size; additions from
        many threads or processes at once take turns on the dataset's lock.
        """
        xt = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x, dtype=torch.float32)
        labels = list(labels)
        with self.store.dataset_lock(name):
            rec = self.store.get_dataset(name)
            batch = editing.sample_batch(name, rec.kind, rec.input_shape, xt, labels)
            indices = editing.label_indices(name, rec.task, rec.classes, labels)
            pixels = stored_x(rec.kind, batch)
            return self.store.append_samples(name, pixels, indices, None).tolist()

    def add_sample_files(self, name: str, paths: list[str | Path], label: str) -> list[int]:
        """Decode image files (or zips of images) to the dataset's size and channels and add
        them under `label`; returns the new ids (`add_image_samples(paths=…)` also says which
        zip entries were passed over)."""
        return self.add_image_samples(name, label, paths=list(paths))["ids"]

    def delete_samples(self, name: str, ids: list[int]) -> None:
        """Delete samples by id, all or none (an unknown id is NotFound)."""
        with self.store.dataset_lock(name):
            self.store.remove_samples(name, ids)

    def relabel_samples(self, name: str, ids: list[int], label: str) -> None:
        """Move samples to the class `label`, all or none."""
        with self.store.dataset_lock(name):
            rec = self.store.get_dataset(name)
            [index] = editing.label_indices(name, rec.task, rec.classes, [label])
            self.store.relabel_samples(name, ids, int(index))

    def add_class(self, name: str, cls: str) -> None:
        with self.store.dataset_lock(name):
            rec = self.store.get_dataset(name)
            self.store.set_classes(name, editing.add_class(name, rec.task, rec.classes, cls))

    def rename_class(self, name: str, old: str, new: str) -> None:
        with self.store.dataset_lock(name):
            rec = self.store.get_dataset(name)
            classes = editing.rename_class(name, rec.task, rec.classes, old, new)
            if classes != rec.classes:
                self.store.set_classes(name, classes)

    def delete_class(self, name: str, cls: str) -> None:
        with self.store.dataset_lock(name):
            rec = self.store.get_dataset(name)
            index, classes = editing.delete_class(name, rec.task, rec.classes, cls)
            self.store.set_classes(name, classes, dropped=index)

    # -- helpers ----------------------------------------------------------------------------

    def _needs_storing(self, ds: Dataset) -> bool:
        """Whether a run on `ds` must store it to find it again (no name regenerates it)."""
        if self.store.has_dataset(ds.name):
            return False
        name, _ = parse_dataset_ref(ds.name)
        return not (ds.source.get("builtin") and name.lower() in BUILTINS)

    def _as_stored(self, ds: Dataset) -> Dataset:
        """`ds` as it will be stored (images rounded to 8 bits) when a run must store it."""
        return pack(ds)[0] if self._needs_storing(ds) else ds

    def _ensure_findable(self, ds: Dataset) -> None:
        """Store an in-memory dataset so that its runs can load it again by name."""
        if self.store.has_dataset(ds.name):
            if self.store.get_dataset(ds.name).content_hash != ds.content_hash:
                raise Conflict(
                    f"another dataset named '{ds.name}' is stored in this workspace; "
                    "give yours another name",
                    where="dataset",
                )
            return
        if self._needs_storing(ds):
            self.save_dataset(ds)

    def _load_stored(self, name: str, *, whole: bool | None = None) -> Dataset:
        """A stored dataset: in memory when it fits (or `whole`), else read from disk as
        it is indexed (see `lernwerk.data.packing.unpack`)."""
        rec, index = self.store.sample_index(name)
        file = self.store.sample_file(rec)
        if len(index):
            file.open()  # kept open: a dataset left on disk reads on if it is replaced
        return unpack(rec.to_dict(), index, file.read, whole=whole)

    def _check_new_name(self, name: str, replace: bool) -> None:
        self.store.check_name("datasets", name)  # letters, digits, . _ -; no device name
        if not replace and self.store.has_dataset(name):
            raise Conflict(
                f"dataset '{name}' already exists; choose another name or delete it first",
                where="name",
            )


def _read_file(path: Path) -> bytes:
    if not path.is_file():
        raise NotFound(f"{path} is not a file", where=str(path))
    return path.read_bytes()


def _renamed(ds: Dataset, name: str) -> Dataset:
    from dataclasses import replace

    return replace(ds, name=name, sample_ids=ds.ids)


def _created_at(store: WorkspaceStore, name: str) -> str:
    return store.get_dataset(name).created_at if store.has_dataset(name) else _now()


def _format_of(input_shape: list[int] | tuple[int, ...]) -> dict[str, Any]:
    channels, height, _ = input_shape
    return {"size": height, "channels": channels, "resize": "fit"}


class DatasetsNamespace:
    """`lernwerk.datasets`: the dataset functions for notebooks, on a workspace.

    Each takes `workspace=` (a `Workspace`, a path, or None for the default one).
    """

    def __init__(self, workspace_type: type[Workspace]) -> None:
        self._workspace_type = workspace_type

    def _ws(self, workspace: Workspace | str | Path | None) -> Workspace:
        if isinstance(workspace, self._workspace_type):
            return workspace
        return self._workspace_type(workspace)

    def load(self, ref: str, workspace: Workspace | str | Path | None = None, **params: Any):
        """A stored dataset by name or a built-in by reference, e.g. load("xor", noise=0.1)."""
        if workspace is None and ":" not in ref and ref.split(":")[0].lower() in BUILTINS:
            return load_dataset_ref(_with_params(ref, params))  # no workspace needed
        return self._ws(workspace).load_dataset(ref, **params)

    def list(self, workspace: Workspace | str | Path | None = None) -> list[dict[str, Any]]:
        """Built-in datasets, and with a workspace also the stored ones."""
        if workspace is None:
            return list_builtins()
        return self._ws(workspace).list_datasets()

    def create(self, name: str, source: str, workspace=None, **params: Any) -> Dataset:
        """Generate a built-in and store it: create("faces", "smileys", per_class=50)."""
        return self._ws(workspace).create_dataset(name, source, **params)

    def import_(self, name: str, path: str | Path, workspace=None, **options: Any):
        """Import a folder/zip of images, a CSV/Parquet table or a .ts file."""
        return self._ws(workspace).import_dataset(name, path, **options)

    def show(self, ref: str, workspace=None) -> dict[str, Any]:
        return self._ws(workspace).dataset_info(ref)

    def add_sample(self, name: str, label: str, paths: list[str | Path], workspace=None):
        return self._ws(workspace).add_sample_files(name, paths, label)

    def export(self, ref: str, out_dir: str | Path, workspace=None) -> dict[str, Any]:
        return self._ws(workspace).export_dataset(ref, out_dir)

    def preview(self, ref: str, out: str | Path | None = None, workspace=None, **kw: Any) -> bytes:
        png = self._ws(workspace).preview_dataset(ref, **kw)
        if out is not None:
            Path(out).write_bytes(png)
        return png

    def delete(self, name: str, workspace=None) -> None:
        self._ws(workspace).delete_dataset(name)

    def relabel(self, name: str, ids: int | list[int], to: str, workspace=None) -> dict[str, Any]:
        """Move samples to another class: relabel("faces", [12, 40], "sad")."""
        return self._ws(workspace).relabel(name, ids, to)

    def undo(self, name: str, workspace=None) -> dict[str, Any]:
        """Undo the dataset's last edit of samples."""
        return self._ws(workspace).undo(name)
