"""`lernwerk train`: train a model with a live progress bar and store the run."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from lernwerk.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    JsonOption,
    app,
    err,
    open_workspace,
    out,
    print_json,
    rows_table,
    state,
)
from lernwerk.errors import SpecError

if TYPE_CHECKING:  # PyTorch loads when a run starts, not when the command line is read
    from lernwerk.api import Run, Workspace
    from lernwerk.training import Listener, StopSignal
    from lernwerk.training.distributed import World

# -- train --------------------------------------------------------------------------------


def _install_sigint(stop: StopSignal) -> None:
    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        stop.set("stopped by Ctrl-C")
        err.print("[yellow]stopping after the current step (Ctrl-C again to abort)…[/]")

    signal.signal(signal.SIGINT, handler)


def _run_result(run: Run) -> dict[str, Any]:
    from lernwerk.evaluation.metrics import headline

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


def _model_label(model: str | dict[str, Any]) -> str:
    """A preset's name or a spec file's path as given; an inline spec's name, if it has one."""
    if isinstance(model, str):
        return model
    return str(model.get("name") or "an inline network")


def _render_result(result: dict[str, Any]) -> None:
    rows = [{"split": split, **m} for split, m in result["metrics"].items()]
    title = f"run {result['run_id']} ({result['name']}): {result['status']} after {result['epochs']} epochs, {result['seconds']:.1f} s"
    if rows:
        out.print(rows_table(rows, title))
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
        help="classification, regression, forecasting, anomaly, generate (default: the dataset's).",
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
    time_budget: str | None = typer.Option(
        None,
        "--time-budget",
        help="Stop after the epoch that reaches this much training time: 300, 90s, 10m, 1h; "
        "0: none (default: 8m for sequence classification, else none).",
    ),
    lr: float | None = typer.Option(None, "--lr", help="Learning rate (default: the optimizer's)."),
    optimizer: str | None = typer.Option(
        None, "--optimizer", help="sgd, adam, adamw, rmsprop, adagrad."
    ),
    loss: str | None = typer.Option(
        None,
        "--loss",
        help="classification: cross_entropy, binary_cross_entropy, label_smoothing, focal; "
        "regression: mse, mae, huber.",
    ),
    weight_decay: float | None = typer.Option(None, "--weight-decay"),
    schedule: str | None = typer.Option(
        None,
        "--schedule",
        help="constant, step, cosine, onecycle, plateau (times --plateau-factor after "
        "--plateau-patience epochs without a lower loss, down to --lr-min).",
    ),
    step_size_epochs: int | None = typer.Option(
        None, "--step-size-epochs", help="step: epochs between decays (default 10)."
    ),
    gamma: float | None = typer.Option(
        None, "--gamma", help="step: the factor per decay (default 0.1)."
    ),
    plateau_factor: float | None = typer.Option(
        None, "--plateau-factor", help="plateau: the factor on the rate at a plateau (default 0.5)."
    ),
    plateau_patience: int | None = typer.Option(
        None,
        "--plateau-patience",
        help="plateau: epochs without a lower loss before it cuts (default 50).",
    ),
    lr_min: float | None = typer.Option(
        None, "--lr-min", help="cosine: the final learning rate; plateau: the floor (default 0)."
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
    from_run: str | None = typer.Option(
        None,
        "--from-run",
        help="Start from this run's weights: every layer that still fits is loaded, a new "
        "head where the classes differ (the model defaults to the run's); "
        "efficientnet-lite0 or imagenet: the backbone's ImageNet weights.",
    ),
    freeze: str | None = typer.Option(
        None,
        "--freeze",
        help="Layers that do not train: features (all but the head), N (the first N "
        "layers) or layer numbers/types, comma-separated (1,2 or Conv2D).",
    ),
    unfreeze_after: int | None = typer.Option(
        None,
        "--unfreeze-after",
        help="Unfreeze the frozen layers after this many epochs; they then train at "
        "--lr x --backbone-lr-factor.",
    ),
    backbone_lr_factor: float | None = typer.Option(
        None,
        "--backbone-lr-factor",
        help="The learning-rate factor for unfrozen layers (default: 0.1).",
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
    nproc: int | None = typer.Option(
        None,
        "--nproc",
        help="Train in N processes (DistributedDataParallel: gloo on the CPU, nccl with "
        "--device cuda, one GPU each); --batch-size stays the global batch "
        "(see docs/distributed.md).",
    ),
    nnodes: int | None = typer.Option(
        None,
        "--nnodes",
        help="Machines taking part, --nproc processes each; run the same command on every "
        "machine, with --rdzv-endpoint.",
    ),
    rdzv_endpoint: str | None = typer.Option(
        None,
        "--rdzv-endpoint",
        help="HOST:PORT where the machines meet (torchrun's c10d rendezvous).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Train a model on a dataset, with a live progress bar, and store the run."""
    from lernwerk.cli.launch import check_launch

    launching = check_launch(nproc, nnodes, rdzv_endpoint)  # bad counts: before anything
    flags = {
        "task": task,
        "normal_class": normal_class,
        "balanced_sampling": balanced,
        "epochs": epochs,
        "batch_size": batch_size,
        "time_budget_s": parse_duration(time_budget, "--time-budget") if time_budget else None,
        "lr": lr,
        "optimizer": optimizer,
        "loss": loss,
        "weight_decay": weight_decay,
        "schedule": schedule,
        "step_size_epochs": step_size_epochs,
        "gamma": gamma,
        "plateau_factor": plateau_factor,
        "plateau_patience": plateau_patience,
        "lr_min": lr_min,
        "seed": seed,
        "device": device,
        "precision": precision,
        "threads": threads,
        "val_split": val_split,
        "test_split": test_split,
        "early_stopping": early_stopping,
        "init": from_run,
        "freeze": freeze,
        "unfreeze_after": unfreeze_after,
        "backbone_lr_factor": backbone_lr_factor,
    }
    flags = {k: v for k, v in flags.items() if v is not None}
    if augment or augment_with:
        from lernwerk.cli.datasets import augment_option

        flags["augment"] = augment_option(augment, augment_with).to_dict()
    # check the settings and say what starts before PyTorch loads (seconds on a busy machine)
    if resume:
        given = {"dataset": dataset, "model": model, "name": name, "config": config}
        extra = (set(flags) - {"epochs", "time_budget_s"}) | {
            k for k, v in given.items() if v is not None
        }
        if extra:
            raise SpecError(
                "--resume takes the run's own settings; only --epochs and --time-budget may "
                f"be given (received: {', '.join(sorted(extra))})"
            )
        first_line = f"resuming run {resume} …"
        run_config = None
    else:
        from lernwerk.config import RunConfig, TrainConfig, read_spec_file

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
        if run_config.model is None and run_config.train.init is None:
            raise SpecError(
                f"{config or 'options'}: model: Field required (give --model)", where="model"
            )
        label = (
            _model_label(run_config.model)
            if run_config.model is not None
            else f"the network of run '{run_config.train.init}'"
        )
        first_line = f"training {label} on {run_config.dataset} …"
    if launching:  # the settings are checked: start the ranks, each runs this command
        from lernwerk.cli.launch import launch

        raise typer.Exit(launch(state["argv"], nproc or 1, nnodes or 1, rdzv_endpoint))
    from lernwerk.cli.launch import launched_rank

    rank = launched_rank()  # under torchrun (or --nproc): rank 0 runs the run, others follow
    if not as_json and not rank:  # on stdout, before the result: stderr holds the progress bar
        out.print(first_line, markup=False, highlight=False, soft_wrap=True)
    budget = flags.get("time_budget_s")
    if rank is not None:
        _train_distributed(lambda: _train_here(resume, epochs, budget, run_config, as_json))
        return
    _train_here(resume, epochs, budget, run_config, as_json)


def _train_here(
    resume: str | None, epochs: int | None, budget: float | None, run_config: Any, as_json: bool
) -> None:
    """Train (or resume) the run in this process, printing its result."""
    from lernwerk.cli.progress import ProgressBar
    from lernwerk.config import TrainConfig
    from lernwerk.training import StopSignal

    stop = StopSignal()
    from lernwerk.cli.check_notes import CheckNotes

    ws = open_workspace()
    listeners: list[Listener] = [] if as_json else [CheckNotes(ws), ProgressBar(err)]
    _install_sigint(stop)
    try:
        if resume:
            run = ws.resume(
                resume,
                epochs=epochs,
                listeners=listeners,
                stop_signal=stop,
                time_budget_s=budget,
            )
        else:
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
        print_json(result)
    else:
        _render_result(result)
    if run.status == "stopped":
        raise typer.Exit(EXIT_INTERRUPTED)


_DURATION_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration(text: str, option: str) -> float:
    """Seconds from '300', '90s', '10m', '1.5h'; 0 or 'none': no limit.

    Raises:
        SpecError: not a number with one of the units s, m, min, h.
    """
    value = text.strip().lower()
    if value in ("0", "none", "off"):
        return 0.0
    number = value.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = value[len(number) :].strip()
    try:
        seconds = float(number) * _DURATION_UNITS[unit]
    except (ValueError, KeyError):
        raise SpecError(
            f"{option}: expected seconds or a duration such as 90s, 10m or 1h; received: {text!r}",
            where=option,
        ) from None
    if not 0 <= seconds <= 10_000_000:
        raise SpecError(
            f"{option}: must be between 0 and 10000000 s; received: {text!r}", where=option
        )
    return seconds


def _train_distributed(train_here: Any) -> None:
    """One rank of a distributed run: rank 0 trains as one process would and names the run
    to the others, which train their shares of it (docs/distributed.md)."""
    from lernwerk.training import distributed

    world = distributed.init_from_env()
    assert world is not None
    try:
        if world.is_writer:
            try:
                train_here()
            finally:
                distributed.announce(None)  # failed before naming the run: the others end
        else:
            _follow(world)
    finally:
        distributed.shutdown()


def _follow(world: World) -> None:
    """Ranks > 0: wait for rank 0 to name the run, then train a share of it."""
    from lernwerk.config import ModelSpec, TrainConfig
    from lernwerk.training import distributed
    from lernwerk.training.run import RunPlan, follow

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # rank 0 decides when all stop
    ws: Workspace = open_workspace()
    named = distributed.wait_for_run()
    if named is None:  # rank 0 failed before the run began and said why
        return
    run_id, resume = named
    try:
        rec = ws.store.get_run(run_id)
        ds = ws.load_dataset(rec.dataset)
        spec, cfg = (
            ModelSpec.from_dict(rec.config["model"]),
            TrainConfig.from_dict(rec.config["train"]),
        )
        follow(ws.store, rec, ds, RunPlan(ds, spec, cfg), resume=resume)
    except Exception as exc:  # rank 0 records the run's end; this rank says why it ended
        err.print(
            f"error: rank {world.rank}: {type(exc).__name__}: {exc}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_FAILED) from None
