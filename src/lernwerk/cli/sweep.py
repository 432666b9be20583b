"""`lernwerk sweep` and `lernwerk sweep-worker`: search training settings with Optuna."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from lernwerk.cli.common import JsonOption, app, err, open_workspace, out, print_json, rows_table
from lernwerk.errors import SpecError

_ACTIONS = ("show", "list", "train-best")

StorageOption = typer.Option(
    None,
    "--storage",
    help="Optuna storage URL: sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB "
    "(default: sweeps.db in the workspace).",
)


def _trial_line(trial: Any, metric: str) -> str:
    value = f" {metric} {trial.value:.4g}" if trial.value is not None else ""
    step = max(trial.intermediate_values, default=None)
    pruned = f" after epoch {step}" if trial.state.name == "PRUNED" and step else ""
    params = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
    return f"trial {trial.number}: {trial.state.name.lower()}{pruned}{value}  ({params})"


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _render_summary(s: dict[str, Any]) -> None:
    counts = ", ".join(f"{n} {state.lower()}" for state, n in sorted(s["counts"].items()))
    out.print(
        f"sweep {s['name']}: {s['model']} on {s['dataset']}, {s['direction']} {s['metric']}; "
        f"{s['trials_wanted']} trials wanted ({counts or 'none yet'})"
    )
    rows = [
        {
            "trial": t["number"],
            "state": t["state"].lower(),
            s["metric"]: t["value"],
            "epochs": t["epochs"],
            "seconds": t["seconds"],
            "run": t["run_id"],
            **{k: _short(v) for k, v in t["params"].items()},
        }
        for t in s["trials"]
    ]
    if rows:
        out.print(rows_table(rows, f"trials of {s['name']}"))
    best = s["best"]
    if best is not None:
        params = ", ".join(f"{k}={_short(v)}" for k, v in best["params"].items())
        out.print(
            f"best: trial {best['number']}, {s['metric']} {best['value']:.4g} "
            f"(run {best['run_id']}): {params}"
        )
        out.print(f"train it longer: lernwerk sweep train-best {s['name']}")
    if s["importance"]:
        shown = ", ".join(f"{k} {v:.2f}" for k, v in s["importance"].items())
        out.print(f"importance: {shown}")


@app.command(
    help="Search training settings and model parameters over many runs (Optuna).\n\n"
    "lernwerk sweep DATASET MODEL --space space.yaml --trials N: start a sweep, or resume "
    "the one of that --study name.\n\n"
    "lernwerk sweep show NAME: its best trial and a table of trials; lernwerk sweep list: "
    "the sweeps; lernwerk sweep train-best NAME [--epochs E]: train the best trial's "
    "settings again, longer. See docs/sweeps.md."
)
def sweep(
    dataset: str = typer.Argument(
        ..., help="Dataset reference (or: show, list, train-best).", show_default=False
    ),
    model: str | None = typer.Argument(
        None, help="Preset name or spec file (for show and train-best: the sweep's name)."
    ),
    space: Path | None = typer.Option(
        None, "--space", help="YAML file: the settings to vary and their ranges."
    ),
    trials: int | None = typer.Option(None, "--trials", min=1, help="Number of trials in all."),
    workers: int = typer.Option(1, "--workers", min=1, help="Local worker processes."),
    storage: str | None = StorageOption,
    study: str | None = typer.Option(
        None, "--study", help="The sweep's name (default: MODEL-on-DATASET); resumes it."
    ),
    metric: str = typer.Option(
        "val_accuracy", "--metric", help="The epoch metric to optimize (val_loss, val_mae, …)."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", min=1, help="Start no trial after this many seconds."
    ),
    epochs: int | None = typer.Option(
        None, "--epochs", min=1, help="Epochs per trial (train-best: of the longer run)."
    ),
    as_json: bool = JsonOption,
) -> None:
    if dataset in _ACTIONS:
        _action(dataset, model, storage, epochs, as_json)
        return
    if model is None:
        raise SpecError("give a MODEL after the DATASET (a preset name or spec file)", "model")
    if space is None or trials is None:
        raise SpecError("a sweep needs --space FILE and --trials N", where="space")
    ws = open_workspace()
    train = {"epochs": epochs} if epochs is not None else {}

    def on_trial(trial: Any) -> None:
        if not as_json:
            err.print(_trial_line(trial, metric), highlight=False)

    summary = ws.sweep(
        dataset,
        model,
        space=space,
        trials=trials,
        workers=workers,
        storage=storage,
        study=study,
        metric=metric,
        timeout_s=timeout,
        on_trial=on_trial,
        **train,
    )
    if as_json:
        print_json(summary)
    else:
        _render_summary(summary)


def _action(
    action: str, name: str | None, storage: str | None, epochs: int | None, as_json: bool
) -> None:
    ws = open_workspace()
    if action == "list":
        rows = ws.sweeps(storage)
        if as_json:
            print_json(rows)
        elif rows:
            out.print(rows_table(rows, "sweeps"))
        else:
            out.print("no sweeps yet; start one with `lernwerk sweep DATASET MODEL --space …`")
        return
    if name is None:
        raise SpecError(f"give the sweep's name: lernwerk sweep {action} NAME", where="study")
    if action == "show":
        summary = ws.sweep_summary(name, storage)
        print_json(summary) if as_json else _render_summary(summary)
        return
    run = ws.train_best(name, epochs=epochs, storage=storage)
    result = {"run_id": run.id, "name": run.name, "status": run.status, "epochs": run.record.epoch}
    if as_json:
        print_json({**result, "metrics": run.metrics})
    else:
        out.print(f"run {run.id} ({run.name}): {run.status} after {run.record.epoch} epochs")


@app.command(
    "sweep-worker",
    help="Join a sweep as one more worker (on this or another machine) until it has its "
    "trials. Every worker must see the sweep's dataset.",
)
def sweep_worker(
    study: str = typer.Option(..., "--study", help="The sweep's name."),
    storage: str | None = StorageOption,
    trials: int | None = typer.Option(
        None, "--trials", min=1, help="At most this many trials on this worker."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", min=1, help="Start no trial after this many seconds."
    ),
) -> None:
    import time

    from lernwerk.api.sweep import default_storage, work

    ws = open_workspace()
    url = storage or default_storage(ws.path)
    deadline = time.time() + timeout if timeout else None
    done = work(ws, url, study, max_trials=trials, deadline=deadline)
    err.print(f"sweep {study}: this worker ran {done} trials", highlight=False)
