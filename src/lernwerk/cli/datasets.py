"""`lernwerk datasets …`: list, create, import, show, preview, edit, export, delete."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lernwerk.augment_standard import STANDARD_AUGMENT
from lernwerk.cli.common import (
    JsonOption,
    datasets_app,
    err,
    open_workspace,
    out,
    print_json,
    rows_table,
    state,
)
from lernwerk.errors import SpecError

if TYPE_CHECKING:
    from lernwerk.config import AugmentConfig

NameArg = typer.Argument(..., help="The stored dataset's name (letters, digits, . _ -).")


def parse_pairs(text: str | None, what: str) -> dict[str, str]:
    """'a=1,b=x' -> {'a': '1', 'b': 'x'}; SpecError naming the bad pair."""
    pairs: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, equals, value = (s.strip() for s in part.partition("="))
        if not equals or not key or not value:
            raise SpecError(f"expected key=value pairs; received {part.strip()!r}", where=what)
        pairs[key] = value
    return pairs


def augment_option(augment: bool, augment_with: str | None) -> AugmentConfig | None:
    """--augment (the standard set) and/or --augment-with 'rotation_deg=30,…' (overrides)."""
    from lernwerk.config import AugmentConfig

    if not augment and not augment_with:
        return None
    base = dict(STANDARD_AUGMENT) if augment else {}
    return AugmentConfig.from_dict({**base, **parse_pairs(augment_with, "--augment-with")})


def _std() -> str:
    return ", ".join(f"{k} {v}" for k, v in STANDARD_AUGMENT.items())


def _names(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


@datasets_app.command("list")
def datasets_list(as_json: bool = JsonOption) -> None:
    """Built-in datasets (with their parameters) and datasets stored in the workspace."""
    from lernwerk.api.listing import dataset_items, open_store  # no PyTorch: answers at once

    items = dataset_items(open_store(state["workspace"]))
    if as_json:
        print_json(items)
        return
    rows = []
    for d in items:
        params = ", ".join(f"{p['name']}={p['default']}" for p in d.get("params", []))
        size = f"{d['num_samples']} samples" if "num_samples" in d else ""
        rows.append(
            {
                "name": d["name"],
                "source": d["source"],
                "kind": d["kind"],
                "task": d["task"],
                "parameters / size": params or size,
                "description": d.get("description", ""),
            }
        )
    out.print(rows_table(rows, "Datasets"))
    out.print("Parameters go after a colon: [bold]--dataset tabular:rows=50000,features=20[/]")


# What --n counts, per generator (a test holds this to the generators' parameters)
N_PER_CLASS = ("photos", "process", "smileys", "solder")
N_IN_ALL = ("blobs", "circles", "moons", "spiral", "tabular", "xor")
N_HELP = (
    f"How many samples. Per class for {', '.join(N_PER_CLASS)} (smileys has 4 faces: "
    f"--n 200 makes 800); in all for {', '.join(N_IN_ALL)}; the other built-ins "
    "(digits, the UCR sets, seasonal) have a fixed size."
)


@datasets_app.command("create")
def datasets_create(
    name: str = NameArg,
    source: str | None = typer.Option(
        None, "--from", help="A built-in generator: smileys, solder, process, xor, digits, …"
    ),
    n: int | None = typer.Option(None, "--n", help=N_HELP),
    seed: int | None = typer.Option(None, "--seed", help="Random seed of the generator."),
    params: str | None = typer.Option(
        None, "--params", help="More generator parameters: 'noise=0.1,length=300'."
    ),
    empty: bool = typer.Option(
        False, "--empty", help="An empty image dataset to draw or collect into."
    ),
    classes: str | None = typer.Option(None, "--classes", help="With --empty: 'smile,sad'."),
    image_size: int = typer.Option(28, "--image-size", help="With --empty: pixels per side."),
    channels: int = typer.Option(1, "--channels", help="With --empty: 1 gray or 3 colour."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite a dataset of that name."),
    as_json: bool = JsonOption,
) -> None:
    """Store a generated dataset (or an empty image dataset) under NAME."""
    ws = open_workspace()
    if empty:
        if source:
            raise SpecError("give either --from or --empty, not both", where="--empty")
        ds = ws.create_empty_dataset(
            name,
            classes=_names(classes),
            image_size=image_size,
            channels=channels,
            replace=replace,
        )
    else:
        if not source:
            raise SpecError("give --from GENERATOR (see `lernwerk datasets list`) or --empty")
        extra: dict[str, Any] = parse_pairs(params, "--params")
        if n is not None:
            extra[_size_param(source)] = n
        if seed is not None:
            extra["seed"] = seed
        ds = ws.create_dataset(name, source, replace=replace, **extra)
    _show(ws.dataset_info(ds.name), as_json)


@datasets_app.command("import")
def datasets_import(
    name: str = NameArg,
    path: Path = typer.Argument(..., help="A folder or .zip of images, a .csv/.parquet, a .ts."),
    kind: str | None = typer.Option(None, "--kind", help="images, table or sequences."),
    target: str | None = typer.Option(None, "--target", help="The label column (CSV)."),
    task: str | None = typer.Option(None, "--task", help="classification or regression."),
    image_size: int | None = typer.Option(None, "--image-size", help="Pixels per side (64)."),
    channels: int | None = typer.Option(None, "--channels", help="1 gray or 3 colour (3)."),
    resize: str | None = typer.Option(None, "--resize", help="fit (pad) or crop (centre)."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Import the rest, list the bad."),
    layout: str | None = typer.Option(None, "--layout", help="Sequence CSV: wide or long."),
    length: str | None = typer.Option(
        None, "--length", help="Unequal sequence lengths: error, pad or resample."
    ),
    steps: int | None = typer.Option(None, "--steps", help="Length after pad/resample."),
    delimiter: str | None = typer.Option(None, "--delimiter", help="CSV delimiter (detected)."),
    decimal: str | None = typer.Option(None, "--decimal", help="Decimal separator (detected)."),
    impute: str | None = typer.Option(
        None, "--impute", help="Fill missing table values: mean, median, most_frequent."
    ),
    categorical: str | None = typer.Option(
        None, "--categorical", help="Columns to one-hot encode: 'colour,shape'."
    ),
    drop: str | None = typer.Option(None, "--drop", help="Columns to leave out: 'id,date'."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite a dataset of that name."),
    as_json: bool = JsonOption,
) -> None:
    """Import a folder, zip, table or .ts file; all or nothing (see --skip-bad)."""
    options: dict[str, Any] = {
        "target": target,
        "task": task,
        "image_size": image_size,
        "channels": channels,
        "resize": resize,
        "skip_bad": skip_bad,
        "layout": layout,
        "length": length,
        "length_steps": steps,
        "delimiter": delimiter,
        "decimal": decimal,
        "impute": impute,
        "categorical": _names(categorical) or None,
        "drop": _names(drop) or None,
    }
    ws = open_workspace()
    with _import_progress(err, show=not as_json) as progress:
        ds, report = ws.import_dataset_report(
            name, path, kind=kind, replace=replace, progress=progress, **options
        )
    info = ws.dataset_info(ds.name)
    if as_json:
        print_json({**info, "report": report})
        return
    _show(info, as_json=False)
    for skipped in report.get("skipped", []):
        err.print(f"skipped {skipped['path']}: {skipped['reason']}", highlight=False)
    if report.get("skipped"):
        err.print(f"{len(report['skipped'])} files skipped", highlight=False)


@contextmanager
def _import_progress(console: Console, *, show: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar with a count on stderr while images are decoded (none with --json)."""
    bar = Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("images"),
        TimeElapsedColumn(),
        console=console,
        disable=not show,
    )
    task: Any = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            task = bar.add_task("import", total=total)
        bar.update(task, completed=done, total=total)

    bar.start()
    try:
        yield update
    except BaseException:
        bar.live.transient = True  # the error is the one line a failed import prints
        raise
    finally:
        bar.stop()


@datasets_app.command("show")
def datasets_show(
    name: str = typer.Argument(..., help="A stored dataset or a built-in reference."),
    val_split: float = typer.Option(0.2, "--val-split"),
    test_split: float = typer.Option(0.2, "--test-split"),
    split_seed: int = typer.Option(0, "--split-seed"),
    as_json: bool = JsonOption,
) -> None:
    """Counts per class and split, the sample shape and the content hash."""
    info = open_workspace().dataset_info(
        name, val_split=val_split, test_split=test_split, split_seed=split_seed
    )
    _show(info, as_json)


@datasets_app.command("preview")
def datasets_preview(
    name: str = typer.Argument(..., help="A stored dataset or a built-in reference."),
    out_file: Path = typer.Option(..., "--out", help="The PNG file to write."),
    augment: bool = typer.Option(
        False, "--augment", help="Show augmented copies (the standard set: " + _std() + ")."
    ),
    augment_with: str | None = typer.Option(
        None, "--augment-with", help="Augmentation settings: 'rotation_deg=30,flip_horizontal=1'."
    ),
    per_class: int = typer.Option(8, "--per-class", help="Samples per class (copies per row)."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = JsonOption,
) -> None:
    """Write a PNG grid of samples per class, or of augmented copies with --augment."""
    cfg = augment_option(augment, augment_with)
    png = open_workspace().preview_dataset(name, augment=cfg, per_class=per_class, seed=seed)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_bytes(png)
    result = {"path": str(out_file), "bytes": len(png), "augment": cfg.to_dict() if cfg else None}
    if as_json:
        print_json(result)
    else:
        out.print(f"wrote {out_file} ({len(png)} bytes)", highlight=False)


@datasets_app.command("add-sample")
def datasets_add_sample(
    name: str = NameArg,
    files: list[Path] = typer.Argument(..., help="Image files, or zips of images."),
    label: str = typer.Option(..., "--label", help="The class they belong to."),
    as_json: bool = JsonOption,
) -> None:
    """Add image files (or zips of images) to a class of an image dataset (converted to its
    size and channels)."""
    result = open_workspace().add_image_samples(name, label, paths=list(files))
    ids, skipped = result["ids"], result["skipped"]
    _done(
        {"dataset": name, "label": label, "added": ids, "skipped": skipped},
        as_json,
        f"added {len(ids)} to {label}",
    )
    if not as_json:
        for item in skipped:
            err.print(f"skipped {item['path']}: {item['reason']}", highlight=False, soft_wrap=True)
        if skipped:
            err.print(f"{len(skipped)} zip entries skipped", highlight=False)


@datasets_app.command("delete-sample")
def datasets_delete_sample(
    name: str = NameArg,
    ids: list[int] = typer.Argument(..., help="Sample ids (see the web gallery or --json)."),
    as_json: bool = JsonOption,
) -> None:
    """Delete samples by id."""
    open_workspace().delete_samples(name, list(ids))
    _done({"dataset": name, "deleted": list(ids)}, as_json, f"deleted {len(ids)} samples")


@datasets_app.command("add-class")
def datasets_add_class(
    name: str = NameArg, cls: str = typer.Argument(...), as_json: bool = JsonOption
) -> None:
    """Add an empty class."""
    open_workspace().add_class(name, cls)
    _done({"dataset": name, "added_class": cls}, as_json, f"added class {cls}")


@datasets_app.command("rename-class")
def datasets_rename_class(
    name: str = NameArg,
    old: str = typer.Argument(...),
    new: str = typer.Argument(...),
    as_json: bool = JsonOption,
) -> None:
    """Rename a class; its samples stay."""
    open_workspace().rename_class(name, old, new)
    _done({"dataset": name, "renamed": {old: new}}, as_json, f"renamed {old} to {new}")


@datasets_app.command("delete-class")
def datasets_delete_class(
    name: str = NameArg, cls: str = typer.Argument(...), as_json: bool = JsonOption
) -> None:
    """Delete a class and its samples."""
    open_workspace().delete_class(name, cls)
    _done({"dataset": name, "deleted_class": cls}, as_json, f"deleted class {cls}")


@datasets_app.command("export")
def datasets_export(
    name: str = typer.Argument(..., help="A stored dataset or a built-in reference."),
    out_dir: Path = typer.Argument(..., help="A new or empty folder."),
    as_json: bool = JsonOption,
) -> None:
    """Write the dataset out: image class folders, a CSV table, or UCR .ts files."""
    result = open_workspace().export_dataset(name, out_dir)
    _done(result, as_json, f"wrote {result['files']} files to {out_dir}")


@datasets_app.command("delete")
def datasets_delete(name: str = NameArg, as_json: bool = JsonOption) -> None:
    """Delete a stored dataset (runs trained on it are kept)."""
    open_workspace().delete_dataset(name)
    _done({"deleted": name}, as_json, f"deleted dataset {name}")


# -- rendering ----------------------------------------------------------------------------


def _size_param(source: str) -> str:
    from lernwerk.data.builtin import BUILTINS, parse_dataset_ref

    builtin = BUILTINS.get(parse_dataset_ref(source)[0].lower())
    fields = builtin.params_model.model_fields if builtin else {}
    for key in ("per_class", "samples", "rows"):
        if key in fields:
            return key
    raise SpecError(f"--n does not apply to '{source}'; it has a fixed size", where="--n")


def _done(result: dict[str, Any], as_json: bool, text: str) -> None:
    if as_json:
        print_json(result)
    else:
        out.print(text, highlight=False)


def _show(info: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(info)
        return
    shape = "×".join(str(s) for s in info["input_shape"])
    out.print(
        f"[bold]{info['name']}[/]: {info['kind']}, {info['task']}, "
        f"{info['num_samples']} samples of {shape}",
        highlight=False,
    )
    if info.get("description"):
        out.print(info["description"], highlight=False)
    splits = info["splits"]
    if info["classes"]:
        rows = []
        for cls in info["classes"]:
            row = {"class": cls, "all": info["class_counts"].get(cls, 0)}
            for part in ("train", "val", "test"):
                row[part] = splits[part].get("class_counts", {}).get(cls, 0)
            rows.append(row)
        out.print(rows_table(rows, "Samples per class and split"))
    else:
        out.print(
            ", ".join(f"{part} {splits[part]['samples']}" for part in ("train", "val", "test")),
            highlight=False,
        )
    if info["feature_names"]:
        out.print("columns: " + ", ".join(info["feature_names"]), highlight=False)
    fixed = " (fixed test split)" if info["split_settings"]["fixed_test"] else ""
    out.print(f"hash {info['content_hash']}{fixed}", highlight=False)
