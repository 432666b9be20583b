"""The command line's root: the app, shared options and helpers, training, runs, models."""

from __future__ import annotations

import json
import math
import signal
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from lernwerk import api
from lernwerk.config import RunConfig, TrainConfig, read_spec_file
from lernwerk.errors import LernwerkError, RunFailed, SpecError
from lernwerk.evaluation.metrics import headline
from lernwerk.events import BatchEnded, EpochEnded, RunStarted
from lernwerk.models import ModelSummary, list_presets
from lernwerk.training import Listener, StopSignal

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130

app = typer.Typer(
    name="lernwerk",
    help="lernwerk: build, train, compare and deploy neural networks on one laptop, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Model presets and summaries.", no_args_is_help=True)
datasets_app = typer.Typer(help="Built-in and stored datasets.", no_args_is_help=True)
runs_app = typer.Typer(help="Stored runs: list, show, compare, delete.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(datasets_app, name="datasets")
app.add_typer(runs_app, name="runs")

out = Console()
err = Console(stderr=True)
_state: dict[str, Any] = {"workspace": None}

JsonOption = typer.Option(False, "--json", help="Print one JSON document on stdout.")


@app.callback()
def _root(
    workspace: Path | None = typer.Option(
        None,
        "--workspace",
        "-w",
        help="Workspace directory (default $LERNWERK_HOME or ./lernwerk-workspace).",
    ),
) -> None:
    _state["workspace"] = workspace


def _ws() -> api.Workspace:
    return api.Workspace(_state["workspace"])


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str, allow_nan=False) + "\n")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return "" if value is None else str(value)


def _table(
    rows: list[dict[str, Any]], title: str | None = None, columns: list[str] | None = None
) -> Table:
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    table = Table(title=title, show_lines=False)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*(_fmt(r.get(c)) for c in columns))
    return table


# -- models -------------------------------------------------------------------------------


@models_app.command("list")
def models_list(as_json: bool = JsonOption) -> None:
    """The shipped model presets."""
    presets = list_presets()
    if as_json:
        _print_json(presets)
    else:
        out.print(_table(presets, "Model presets"))


def _parse_shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        raise SpecError(
            f"--input-shape: expected numbers like 1,28,28; received: {text!r}"
        ) from None
    if not shape or min(shape) < 1:
        raise SpecError(
            f"--input-shape: expected positive numbers like 1,28,28; received: {text!r}"
        )
    return shape


def render_summary(summary: ModelSummary) -> Table:
    """A Keras-style summary as a Rich table."""
    table = Table(title=f"Model: {summary.name}   input {'×'.join(map(str, summary.input_shape))}")
    for name, justify in (
        ("#", "left"),
        ("Layer", "left"),
        ("Output shape", "left"),
        ("Params", "right"),
        ("FLOPs", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in summary.rows:
        table.add_row(
            r.index,
            "  " * r.depth + r.type,
            "×".join(map(str, r.output_shape)),
            f"{r.params:,}",
            f"{r.flops:,}",
        )
    table.caption = (
        f"Total params: {summary.total_params:,} (trainable {summary.trainable_params:,})   "
        f"FLOPs per sample: {summary.flops_per_sample:,}"
    )
    return table


@models_app.command("summary")
def models_summary(
    model: str = typer.Argument(..., help="A preset name or a YAML/JSON spec file."),
    dataset: str | None = typer.Option(
        None, "--dataset", "-d", help="Take the input shape and classes from a dataset."
    ),
    input_shape: str | None = typer.Option(
        None, "--input-shape", help="Input shape without batch, e.g. 1,28,28."
    ),
    outputs: int | None = typer.Option(
        None, "--outputs", min=1, help="What 'units: auto' means without a dataset (default 10)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Layers, output shapes, parameters and FLOPs of a model, like Keras's model.summary()."""
    if (dataset is None) == (input_shape is None):
        raise SpecError("give either --dataset or --input-shape")
    shape = _parse_shape(input_shape) if input_shape else None
    summary = api.model_summary(
        model,
        dataset=dataset,
        input_shape=shape,
        outputs=outputs if outputs or dataset else 10,
        workspace=_state["workspace"],
    )
    if as_json:
        _print_json(summary.to_dict())
    else:
        out.print(render_summary(summary))


# -- datasets -----------------------------------------------------------------------------


# -- train --------------------------------------------------------------------------------


class ProgressBar(Listener):
    """A Rich progress bar on stderr: epoch, step, loss, validation metric, elapsed, ETA."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}"),
            BarColumn(),
            TextColumn("step {task.fields[step]}"),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[metric]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task_id: Any = None
        self.steps = 1

    def on_run_start(self, event: RunStarted) -> None:
        self.steps = event.steps_per_epoch
        self.progress.start()
        self.task_id = self.progress.add_task(
            "train",
            total=event.epochs * event.steps_per_epoch,
            completed=event.start_epoch * event.steps_per_epoch,
            epoch=f"{event.start_epoch}/{event.epochs}",
            step=f"0/{event.steps_per_epoch}",
            loss="-",
            metric="",
        )

    def on_batch_end(self, event: BatchEnded) -> None:
        self.progress.update(
            self.task_id,
            completed=(event.epoch - 1) * event.steps_per_epoch + event.step,
            epoch=f"{event.epoch}",
            step=f"{event.step}/{event.steps_per_epoch}",
            loss=f"{event.loss:.4f}",
        )

    def on_epoch_end(self, event: EpochEnded) -> None:
        m = event.metrics
        metric = " ".join(
            f"{k} {m[k]:.4f}" for k in ("val_loss", "val_accuracy", "val_mae") if k in m
        )
        self.progress.update(
            self.task_id,
            completed=event.epoch * self.steps,
            epoch=f"{event.epoch}/{event.epochs}",
            step=f"{self.steps}/{self.steps}",
            loss=f"{m['train_loss']:.4f}",
            metric=metric,
        )

    def on_run_end(self, event: Any) -> None:
        self.progress.stop()


def _install_sigint(stop: StopSignal) -> None:
    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        stop.set("stopped by Ctrl-C")
        err.print("[yellow]stopping after the current step (Ctrl-C again to abort)…[/]")

    signal.signal(signal.SIGINT, handler)


def _run_result(run: api.Run) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "name": run.name,
        "status": run.status,
        "dataset": run.record.dataset,
        "model": run.record.model,
        "epochs": run.record.epoch,
        "seconds": round(run.record.seconds or 0.0, 3),
        "metrics": {split: headline(m) for split, m in run.metrics.items()},
        "config": run.config["train"],
    }


def _render_result(result: dict[str, Any]) -> None:
    rows = [{"split": split, **m} for split, m in result["metrics"].items()]
    title = f"run {result['run_id']} ({result['name']}): {result['status']} after {result['epochs']} epochs, {result['seconds']:.1f} s"
    if rows:
        out.print(_table(rows, title))
    else:
        out.print(title)


@app.command()
def train(
    dataset: str | None = typer.Option(
        None, "--dataset", "-d", help="Dataset reference, e.g. xor or tabular:rows=50000."
    ),
    model: str | None = typer.Option(None, "--model", "-m", help="Preset name or spec file."),
    task: str | None = typer.Option(
        None,
        "--task",
        help="classification, regression, forecasting or anomaly (default: the dataset's).",
    ),
    normal_class: str | None = typer.Option(
        None, "--normal-class", help="anomaly: the class of normal samples (default: ok)."
    ),
    epochs: int | None = typer.Option(
        None,
        "--epochs",
        help="Passes over the training data (default: about 2000 steps). With --resume: the "
        "total number of epochs the run will have (not how many more), at least its own.",
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", help="Samples per step (default: from the data size)."
    ),
    lr: float | None = typer.Option(None, "--lr", help="Learning rate (default: the optimizer's)."),
    optimizer: str | None = typer.Option(
        None, "--optimizer", help="sgd, adam, adamw, rmsprop, adagrad."
    ),
    loss: str | None = typer.Option(
        None, "--loss", help="cross_entropy, binary_cross_entropy, mse, mae."
    ),
    weight_decay: float | None = typer.Option(None, "--weight-decay"),
    schedule: str | None = typer.Option(
        None, "--schedule", help="constant, step, cosine, onecycle."
    ),
    seed: int | None = typer.Option(None, "--seed"),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda or auto."),
    precision: str | None = typer.Option(
        None,
        "--precision",
        help="float32 (default) or bfloat16: faster convolutions, at some cost in accuracy.",
    ),
    threads: int | None = typer.Option(
        None,
        "--threads",
        help="CPU threads for training (default: 1 for small steps, else the idle cores); "
        "a number makes runs repeat to the last digit on a busy machine.",
    ),
    val_split: float | None = typer.Option(None, "--val-split"),
    test_split: float | None = typer.Option(None, "--test-split"),
    early_stopping: int | None = typer.Option(
        None,
        "--early-stopping",
        help="Patience in epochs; 0: off (default: on for sequences, and 3 with 5 000+ "
        "validation samples).",
    ),
    balanced: bool | None = typer.Option(
        None,
        "--balanced/--no-balanced",
        help="Draw every class equally often (default: when classes are skewed).",
    ),
    augment: bool = typer.Option(
        False, "--augment", help="Augment image batches with the standard set (see the guide)."
    ),
    augment_with: str | None = typer.Option(
        None, "--augment-with", help="Augmentation settings: 'rotation_deg=20,flip_horizontal=1'."
    ),
    name: str | None = typer.Option(None, "--name", help="A name for the run."),
    resume: str | None = typer.Option(
        None,
        "--resume",
        help="Continue this run from its last checkpoint up to its number of epochs; "
        "--epochs N raises that to N in all.",
    ),
    config: Path | None = typer.Option(
        None, "--config", help="A YAML/JSON run config (dataset, model, train)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Train a model on a dataset, with a live progress bar, and store the run."""
    flags = {
        "task": task,
        "normal_class": normal_class,
        "balanced_sampling": balanced,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "optimizer": optimizer,
        "loss": loss,
        "weight_decay": weight_decay,
        "schedule": schedule,
        "seed": seed,
        "device": device,
        "precision": precision,
        "threads": threads,
        "val_split": val_split,
        "test_split": test_split,
        "early_stopping": early_stopping,
    }
    flags = {k: v for k, v in flags.items() if v is not None}
    if augment or augment_with:
        from lernwerk.cli.datasets import augment_option

        flags["augment"] = augment_option(augment, augment_with).to_dict()
    stop = StopSignal()
    listeners: list[Listener] = [] if as_json else [ProgressBar(err)]
    ws = _ws()
    _install_sigint(stop)
    try:
        if resume:
            given = {"dataset": dataset, "model": model, "name": name, "config": config}
            extra = (set(flags) - {"epochs"}) | {k for k, v in given.items() if v is not None}
            if extra:
                raise SpecError(
                    f"--resume takes the run's own settings; only --epochs may be given (received: {', '.join(sorted(extra))})"
                )
            run = ws.resume(resume, epochs=epochs, listeners=listeners, stop_signal=stop)
        else:
            TrainConfig.from_dict(flags)  # name the bad flag before merging with a file
            base: dict[str, Any] = read_spec_file(config) if config else {}
            if not isinstance(base.get("train", {}), dict):
                raise SpecError(
                    f"{config}: train: expected a mapping of settings such as 'epochs: 20'; "
                    f"received: {type(base['train']).__name__}",
                    where="train",
                )
            run_config = RunConfig.from_dict(
                {
                    **base,
                    **({"dataset": dataset} if dataset else {}),
                    **({"model": model} if model else {}),
                    **({"name": name} if name else {}),
                    "train": {**base.get("train", {}), **flags},
                },
                what=str(config) if config else "options",
            )
            run = ws.fit(
                run_config.dataset,
                run_config.model,
                name=run_config.name,
                config=TrainConfig.from_dict(run_config.train.to_dict()),
                listeners=listeners,
                stop_signal=stop,
            )
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    result = _run_result(run)
    if as_json:
        _print_json(result)
    else:
        _render_result(result)
    if run.status == "stopped":
        raise typer.Exit(EXIT_INTERRUPTED)


# -- evaluate, predict, export ------------------------------------------------------------


@app.command()
def evaluate(
    run: str = typer.Argument(..., help="Run id, id prefix or name."),
    split: str = typer.Option("test", "--split", help="train, val or test."),
    as_json: bool = JsonOption,
) -> None:
    """Metrics of a trained run on a split: accuracy, per-class precision/recall/F1, confusion matrix."""
    r = _ws().run(run)
    metrics = r.evaluate(split)
    if as_json:
        _print_json({"run_id": r.id, "split": split, "metrics": metrics})
        return
    out.print(_table([headline(metrics)], f"run {r.id} on the {split} split"))
    if "per_class" in metrics:
        rows = [{"class": c, **v} for c, v in metrics["per_class"].items()]
        out.print(_table(rows, "Per class"))
        classes = metrics["classes"]
        cm = Table(title="Confusion matrix (rows: true, columns: predicted)")
        cm.add_column("")
        for c in classes:
            cm.add_column(c, justify="right")
        for c, row in zip(classes, metrics["confusion_matrix"], strict=True):
            cm.add_row(c, *(str(v) for v in row))
        out.print(cm)


@app.command()
def predict(
    run: str = typer.Argument(..., help="Run id, id prefix or name."),
    inputs: list[Path] = typer.Argument(
        ..., help="Image files, CSV files (one sample per row) or .npy arrays."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Predict with a trained run: the class and its probability per input."""
    results = _ws().run(run).predict_files(inputs)
    if as_json:
        _print_json(results)
        return
    rows = [{k: v for k, v in r.items() if k != "probabilities"} for r in results]
    out.print(_table(rows, "Predictions"))


@app.command()
def export(
    run: str = typer.Argument(..., help="Run id, id prefix or name."),
    format: str = typer.Option(
        "safetensors", "--format", help="safetensors (weights) + model.json (spec, preprocessing)."
    ),
    out_dir: Path = typer.Option(..., "--out", help="Directory to write to."),
    as_json: bool = JsonOption,
) -> None:
    """Write a trained model to a directory: weights as safetensors and a JSON description."""
    files = _ws().run(run).export(out_dir, format)
    if as_json:
        _print_json({"files": [str(f) for f in files]})
    else:
        for f in files:
            out.print(f"wrote {f}")


# -- runs ---------------------------------------------------------------------------------

RUN_COLUMNS = [
    "id",
    "name",
    "status",
    "dataset",
    "model",
    "epochs",
    "val_accuracy",
    "test_accuracy",
    "test_r2",
    "seconds",
    "created",
]


@runs_app.command("list")
def runs_list(
    status: str | None = typer.Option(None, "--status", help="Only runs with this status."),
    as_json: bool = JsonOption,
) -> None:
    """Every run in the workspace, newest first."""
    rows = [r.row() for r in _ws().runs(status)]
    if as_json:
        _print_json(rows)
        return
    present = [c for c in RUN_COLUMNS if any(c in r for r in rows)]
    out.print(_table(rows, "Runs", present or RUN_COLUMNS))


@runs_app.command("show")
def runs_show(run: str = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """One run: settings, final metrics and history."""
    r = _ws().run(run)
    if as_json:
        _print_json(r.to_dict())
        return
    train = r.config.get("train", {})
    settings: dict[str, Any] = {}
    for key, value in r.row().items():
        settings[key] = value
        if key == "batch_size":  # the rest of what makes the run repeatable
            settings["seed"] = train.get("seed")
            settings["device"] = r.record.device
            settings["precision"] = train.get("precision", "float32")
            settings["threads"] = train.get("threads") or "auto"
    out.print(_table([{"setting": k, "value": v} for k, v in settings.items()], f"run {r.id}"))
    if r.record.error:
        err.print(f"[red]error:[/] {r.record.error}")
    history = r.workspace.store.epochs(r.id)
    if history:
        out.print(_table(history[-10:], "History (last 10 epochs)"))


@runs_app.command("compare")
def runs_compare(
    runs: list[str] = typer.Argument(..., help="Two or more runs."), as_json: bool = JsonOption
) -> None:
    """Runs side by side: settings and final metrics."""
    frame = _ws().compare(runs)
    if as_json:
        _print_json(frame.to_dict())
        return
    table = Table(title="Runs compared")
    table.add_column("")
    for c in frame.columns:
        table.add_column(str(c))
    for key, row in frame.iterrows():
        table.add_row(str(key), *(_fmt(v) for v in row.tolist()))
    out.print(table)


@runs_app.command("delete")
def runs_delete(run: str = typer.Argument(...), as_json: bool = JsonOption) -> None:
    """Delete a run with its files."""
    ws = _ws()
    r = ws.run(run)
    ws.delete_run(r.id)
    if as_json:
        _print_json({"deleted": r.id})
    else:
        out.print(f"deleted run {r.id} ({r.name})")


@app.command()
def demo(as_json: bool = JsonOption) -> None:
    """Fill the workspace with the XOR lesson (a perceptron and an MLP) and show the runs.

    Idempotent: runs that exist already are kept. (`make run` starts the web workbench,
    `lernwerk serve --demo`.)
    """
    ws = _ws()
    have = {r.name for r in ws.runs()}
    for model in ("perceptron", "mlp"):
        name = f"demo: {model} on xor"
        if name not in have:
            err.print(f"training {name} …")
            ws.fit("xor", model, name=name)
    runs = [r for r in ws.runs() if r.name.startswith("demo: ")]
    if as_json:
        _print_json([r.row() for r in runs])
        return
    out.print(
        _table(
            [r.row() for r in runs],
            f"Demo runs in {ws.path}",
            ["id", "name", "status", "epochs", "test_accuracy", "seconds"],
        )
    )
    out.print(
        "A perceptron has no hidden layer and cannot learn XOR; an MLP can.\n"
        f"Next: [bold]lernwerk -w {ws.path} runs list[/], "
        "[bold]lernwerk train --dataset digits --model lenet[/], [bold]lernwerk --help[/]"
    )


# -- entry --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map errors to exit codes with one line on stderr."""
    try:
        result = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        sys.stderr.write("aborted\n")
        return EXIT_INTERRUPTED
    except RunFailed as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_FAILED
    except LernwerkError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except OSError as exc:  # a path the user gave that cannot be written or read
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"error: {where}{exc.strerror or exc}\n")
        return EXIT_USAGE
    except Exception as exc:
        # Typer's (click's) usage errors: a bad option, a missing argument
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            ctx = getattr(exc, "ctx", None)
            hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            # Typer words a bad choice "Value error, 'x' is not one of …": drop the prefix
            message = exc.format_message().replace("Value error, ", "")
            sys.stderr.write(f"error: {message}{hint}\n")
            return EXIT_USAGE
        raise
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
