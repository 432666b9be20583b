"""Sweeps: Optuna studies whose trials are ordinary runs of the workspace.

A study lives in an Optuna storage: by default `sweeps.db` (SQLite) in the workspace
folder, shared by the local worker processes; or a PostgreSQL server, shared by workers
on several machines (`lernwerk sweep-worker`). Everything a worker needs (dataset, model
spec, base settings, space, metric, number of trials) is recorded on the study, so a
worker needs only its name and the storage.

A trial is a run like any other (config, curves, metrics) whose config carries
`sweep: {study, trial, params}`; its per-epoch value goes to Optuna after each epoch and
a trial the pruner finds hopeless stops there (its run `stopped`, the trial `PRUNED`). A
worker killed mid-trial leaves its trial `RUNNING` until the next `sweep` on this host
marks it failed (or, on another host, Optuna's heartbeat does) and queues its settings
again; the other trials are untouched.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import socket
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lernwerk.api.sweep_space import SearchSpace
from lernwerk.config import ModelSpec, TrainConfig
from lernwerk.errors import Conflict, LernwerkError, NotFound, SpecError
from lernwerk.events import RunStarted
from lernwerk.store.runs import process_start_ticks
from lernwerk.training import Listener
from lernwerk.training.trial import TrialReporter

if TYPE_CHECKING:
    from lernwerk.api.run import Run
    from lernwerk.api.workspace import Workspace

SWEEP_DB = "sweeps.db"  # in the workspace folder
RECORD_KEY = "lernwerk"  # the study's user attribute that holds what workers need
_MAXIMIZED = ("accuracy", "f1", "auc", "r2", "precision", "recall")
_COUNTED = ("COMPLETE", "PRUNED")  # trials that count towards --trials
HEARTBEAT_S, GRACE_S = 10, 60


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def default_storage(workspace_path: Path) -> str:
    return f"sqlite:///{Path(workspace_path).resolve() / SWEEP_DB}"


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"://([^:/@]+):[^@/]*@", r"://\1:***@", url)


_STORAGES: dict[str, Any] = {}  # opened once per process: Optuna checks the schema on open


def open_storage(url: str, *, create: bool = True) -> Any:
    """An Optuna RDB storage at `url`, with heartbeats; one clear error when unreachable.

    Raises:
        SpecError: the URL is malformed, its driver is missing, or the server cannot be reached.
    """
    if url in _STORAGES:
        return _STORAGES[url]
    optuna = _optuna()
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    engine_url, connect_args = url, {}
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        engine_url = "postgresql+psycopg://" + url.split("://", 1)[1]
        connect_args = {"connect_timeout": 5}
    elif url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not create and not path.is_file():
            raise NotFound(f"--storage: no sweep database at {path}", where="storage")
        connect_args = {"timeout": 60}
    else:
        raise SpecError(
            f"--storage: expected a sqlite:///PATH or postgresql://USER@HOST/DB URL; "
            f"received {_redact(url)!r}",
            where="storage",
        )
    try:
        with warnings.catch_warnings():  # heartbeats are "experimental" since Optuna 2.8
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = optuna.storages.RDBStorage(
                engine_url,
                engine_kwargs={"connect_args": connect_args},
                heartbeat_interval=HEARTBEAT_S,
                grace_period=GRACE_S,
                heartbeat_stale_trial_callback=_retry,
            )
    except (SQLAlchemyError, ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise SpecError(
            f"--storage {_redact(url)}: cannot open the sweep database: {first}",
            where="storage",
        ) from None
    _STORAGES[url] = storage
    return storage


def _retry(study: Any, trial: Any) -> None:
    """Queue a dead worker's trial again with the same settings, once (a trial that kills
    its worker twice stays failed); as Optuna's RetryHeartbeatStaleTrialCallback, but
    without the dead worker's process and run in the copy."""
    optuna = _optuna()
    history = [*trial.system_attrs.get("retry_history", []), trial.number]
    if len(history) > 1:
        return
    study.add_trial(
        optuna.create_trial(
            state=optuna.trial.TrialState.WAITING,
            params=trial.params,
            distributions=trial.distributions,
            system_attrs={"failed_trial": history[0], "retry_history": history},
        )
    )


def _pruner() -> Any:
    """The median pruner, once two trials have finished: a trial whose value after an epoch
    (from the second on: the first is noisy) is below the median of the others' at that
    epoch stops there. (Optuna keeps no pruner in the storage: every worker makes its own.)"""
    return _optuna().pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=2)


def _direction(metric: str) -> str:
    if metric.endswith("_loss") or not any(m in metric for m in _MAXIMIZED):
        return "minimize"
    return "maximize"


def _study_name(model: str, dataset: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{model}-on-{dataset}").strip("-")


# -- the trial ------------------------------------------------------------------------------


class _TrialLink(Listener):
    """Records the run a trial trains as soon as it exists (the page links running trials)."""

    def __init__(self, trial: Any) -> None:
        self.trial = trial

    def on_run_start(self, event: RunStarted) -> None:
        self.trial.set_user_attr("run_id", event.run_id)


def _objective(ws: Workspace, study_name: str, record: dict[str, Any]) -> Callable[[Any], float]:
    optuna = _optuna()
    space = SearchSpace.from_dicts(record["space"])
    metric = record["metric"]

    def objective(trial: Any) -> float:
        pid = os.getpid()
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("pid", pid)
        trial.set_user_attr("proc_start", process_start_ticks(pid))
        values = {p.name: p.suggest(trial) for p in space.params}
        model, train = space.apply(values, record["model"], record["train"])

        def report(epoch: int, value: float) -> bool:
            trial.report(value, epoch)
            return trial.should_prune()

        reporter = TrialReporter(metric, report)
        varied = {p.name: values[p.name] for p in space.varied}
        run = ws.fit(
            record["dataset"],
            model,
            name=f"{study_name} #{trial.number}",
            config=TrainConfig.from_dict(train),
            listeners=[reporter, _TrialLink(trial)],
            sweep={"study": study_name, "trial": trial.number, "params": varied},
        )
        trial.set_user_attr("run_id", run.id)
        trial.set_user_attr("epochs", run.record.epoch)
        if reporter.pruned_at is not None:
            raise optuna.TrialPruned(f"pruned after epoch {reporter.pruned_at}")
        value = _final_value(run, metric, reporter.values)
        if value is None:
            raise SpecError(
                f"--metric {metric}: run {run.id} has no such value; its epochs have "
                f"{', '.join(run.history.columns)}",
                where="metric",
            )
        return value

    return objective


def _final_value(run: Run, metric: str, reported: list[float]) -> float | None:
    """The trial's value: the metric on the validation split of the final model, else the
    last epoch's value."""
    if metric.startswith("val_"):
        value = (run.metrics.get("val") or {}).get(metric[4:])
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    return reported[-1] if reported else None


# -- workers --------------------------------------------------------------------------------


def _count(study: Any, states: tuple[str, ...]) -> int:
    optuna = _optuna()
    wanted = tuple(getattr(optuna.trial.TrialState, s) for s in states)
    return len(study.get_trials(deepcopy=False, states=wanted))


def remaining_trials(study: Any) -> int:
    """How many trials the study still needs: its target less those done or running."""
    target = study.user_attrs[RECORD_KEY]["trials"]
    return max(0, target - _count(study, (*_COUNTED, "RUNNING")))


def work(
    ws: Workspace,
    storage_url: str,
    study_name: str,
    *,
    max_trials: int | None = None,
    deadline: float | None = None,
    threads: int | None = None,
) -> int:
    """Run trials of a study until it has its number of trials (or `max_trials` here, or
    the wall-clock `deadline`); return how many this worker ran.

    Raises:
        NotFound: no such study; Conflict: the dataset here differs from the study's.
    """
    if threads:
        import torch

        torch.set_num_threads(threads)
    storage = open_storage(storage_url, create=False)
    study = load_study(storage, study_name)
    record = study.user_attrs[RECORD_KEY]
    _check_dataset(ws, record)
    objective = _objective(ws, study_name, record)
    done = 0
    while (max_trials is None or done < max_trials) and remaining_trials(study) > 0:
        if deadline is not None and time.time() >= deadline:
            break
        study.optimize(objective, n_trials=1, catch=(LernwerkError,), gc_after_trial=False)
        done += 1
    return done


def _worker_main(make: type, workspace: str, url: str, study: str, share: int,
                 deadline: float | None, threads: int | None) -> None:  # fmt: skip
    """A local worker process's entry (`make`: the Workspace class, passed in so that this
    module need not import it); a Ctrl-C ends it quietly (its trial is marked failed)."""
    try:
        ws = make(workspace)
        work(ws, url, study, max_trials=share, deadline=deadline, threads=threads)
    except KeyboardInterrupt:
        pass


def load_study(storage: Any, name: str) -> Any:
    optuna = _optuna()
    try:
        study = optuna.load_study(study_name=name, storage=storage, pruner=_pruner())
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        raise NotFound(
            f"no sweep '{name}' in this storage"
            + (f"; sweeps: {', '.join(names)}" if names else "; start one with `lernwerk sweep`"),
            where="study",
        ) from None
    if RECORD_KEY not in study.user_attrs:
        raise Conflict(f"study '{name}' was not made by lernwerk sweep", where="study")
    return study


def _check_dataset(ws: Workspace, record: dict[str, Any]) -> None:
    name = record["dataset"]
    try:
        ds = ws.load_dataset(name if ws.store.has_dataset(name) else record["dataset_ref"])
    except NotFound:
        raise NotFound(
            f"dataset '{name}' of the sweep is not in workspace {ws.path}; every worker must "
            "see the same data (import it there, or use a built-in reference)",
            where="dataset",
        ) from None
    if ds.content_hash != record["dataset_hash"]:
        raise Conflict(
            f"dataset '{name}' here differs from the sweep's (content hash "
            f"{ds.content_hash[:12]} against {record['dataset_hash'][:12]}); every worker "
            "must train on the same data",
            where="dataset",
        )


def fail_dead_trials(study: Any) -> list[int]:
    """Mark as failed the RUNNING trials whose worker process on this host is gone, and
    queue their settings again; return their numbers. The other trials are untouched."""
    optuna = _optuna()
    host, failed = socket.gethostname(), []
    storage = study._storage
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        pid, attrs = t.user_attrs.get("pid"), t.user_attrs
        if attrs.get("host") != host or pid is None or _alive(pid, attrs.get("proc_start")):
            continue
        if storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL):
            failed.append(t.number)
            _retry(study, storage.get_trial(t._trial_id))
    return failed


def _alive(pid: int, proc_start: int | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    ticks = process_start_ticks(pid)
    return proc_start is None or ticks is None or ticks == proc_start


def run_workers(
    ws: Workspace,
    url: str,
    study: Any,
    workers: int,
    *,
    timeout_s: float | None,
    on_trial: Callable[[Any], None] | None = None,
) -> None:
    """Run the study's remaining trials on `workers` local processes sharing the cores."""
    remaining = remaining_trials(study)
    workers = max(1, min(workers, remaining))
    deadline = time.time() + timeout_s if timeout_s else None
    threads = max(1, (os.cpu_count() or 1) // workers)
    shares = [remaining // workers + (i < remaining % workers) for i in range(workers)]
    seen = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
    if remaining == 0:
        return
    if workers == 1:
        work(ws, url, study.study_name, max_trials=remaining, deadline=deadline)
        _report_new(study, seen, on_trial)
        return
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(
            target=_worker_main,
            args=(type(ws), str(ws.path), url, study.study_name, share, deadline, threads),
        )
        for share in shares
    ]
    for p in procs:
        p.start()
    try:
        while any(p.is_alive() for p in procs):
            time.sleep(0.5)
            _report_new(study, seen, on_trial)
    except KeyboardInterrupt:  # the workers got the Ctrl-C too: let them close their trials
        for p in procs:
            p.join(timeout=60)
        raise
    finally:
        for p in procs:
            p.join()
    _report_new(study, seen, on_trial)


def _report_new(study: Any, seen: set[int], on_trial: Callable[[Any], None] | None) -> None:
    for t in study.get_trials(deepcopy=False):
        if t.state.is_finished() and t.number not in seen:
            seen.add(t.number)
            if on_trial is not None:
                on_trial(t)


# -- the face's half: start, show, train the best -------------------------------------------


class SweepMethods:
    """`Workspace.sweep` and friends."""

    if TYPE_CHECKING:
        path: Path

        def fit(self, *args: Any, **kwargs: Any) -> Run: ...
        def run(self, ref: str) -> Run: ...

    def sweep(
        self,
        dataset: str,
        model: str | dict[str, Any] | ModelSpec,
        *,
        space: str | Path | dict[str, Any],
        trials: int,
        workers: int = 1,
        storage: str | None = None,
        study: str | None = None,
        metric: str = "val_accuracy",
        timeout_s: float | None = None,
        on_trial: Callable[[Any], None] | None = None,
        **train: Any,
    ) -> dict[str, Any]:
        """Search the settings of `space` over `trials` runs; resume the study of that name.

        Each trial is a run of this workspace; `workers` local processes share the
        cores; `storage` (default: `sweeps.db` in the workspace) may be a PostgreSQL URL,
        where `lernwerk sweep-worker` on other machines joins in. Keyword arguments set
        training settings the space leaves fixed (epochs=…).

        Returns:
            The study's summary (`sweep_summary`).

        Raises:
            SpecError, NotFound: a bad space, setting, metric or storage; nothing written.
            Conflict: a study of that name exists with another dataset, model or space.
        """
        ws: Any = self
        if trials < 1 or workers < 1:
            raise SpecError("--trials and --workers must be at least 1", where="trials")
        ds, spec, plan = ws._plan(dataset, model, None, train)
        sweep_space = SearchSpace.load(space, spec)
        score = plan.task.score_name
        metrics = [f"{s}_{m}" for s in ("val", "train") for m in ("loss", score)]
        if metric not in metrics:
            raise SpecError(
                f"--metric {metric}: this task's epochs have {', '.join(metrics)}",
                where="metric",
            )
        base_train = TrainConfig.from_dict(train).to_dict()
        for high in (False, True):  # both ends of every range must make a valid run
            values = sweep_space.corner_values(high)
            m, t = sweep_space.apply(values, spec.to_dict(), base_train)
            try:
                ws._plan(ds, m, None, t)
            except LernwerkError as exc:
                shown = ", ".join(f"{k}={v}" for k, v in values.items())
                raise type(exc)(
                    f"{sweep_space.source}: with {shown}: {exc}", where=exc.where
                ) from None
        name = study or _study_name(spec.name, ds.name)
        url = storage or default_storage(ws.path)
        record = {
            "dataset": ds.name,
            "dataset_ref": dataset if isinstance(dataset, str) else ds.name,
            "dataset_hash": ds.content_hash,
            "model": spec.to_dict(),
            "model_name": spec.name,
            "train": base_train,
            "space": sweep_space.to_dicts(),
            "metric": metric,
            "trials": trials,
        }
        optuna_study = _create_or_resume(open_storage(url), name, record)
        ws._ensure_findable(ds)  # stored once, before the workers look for it
        fail_dead_trials(optuna_study)
        run_workers(ws, url, optuna_study, workers, timeout_s=timeout_s, on_trial=on_trial)
        return sweep_summary(optuna_study)

    def sweeps(self, storage: str | None = None) -> list[dict[str, Any]]:
        """The studies in the storage (default: the workspace's), newest first."""
        url = storage or default_storage(self.path)
        if storage is None and not (Path(self.path) / SWEEP_DB).is_file():
            return []
        optuna = _optuna()
        out = []
        for s in optuna.get_all_study_summaries(open_storage(url, create=False)):
            rec = s.user_attrs.get(RECORD_KEY)
            if rec is None:
                continue
            out.append(
                {
                    "name": s.study_name,
                    "dataset": rec["dataset"],
                    "model": rec["model_name"],
                    "metric": rec["metric"],
                    "trials": rec["trials"],
                    "trials_done": s.n_trials,
                    "best_value": s.best_trial.value if s.best_trial else None,
                    "started": s.datetime_start.isoformat() if s.datetime_start else None,
                }
            )
        return sorted(out, key=lambda r: r["started"] or "", reverse=True)

    def sweep_summary(self, name: str, storage: str | None = None) -> dict[str, Any]:
        """A study's trials, best trial, best value over time and setting importance."""
        url = storage or default_storage(self.path)
        if storage is None and not (Path(self.path) / SWEEP_DB).is_file():
            raise NotFound(f"no sweep '{name}': this workspace has no sweeps yet", where="study")
        study = load_study(open_storage(url, create=False), name)
        fail_dead_trials(study)
        return sweep_summary(study)

    def best_longer(
        self,
        name: str,
        *,
        epochs: int | None = None,
        storage: str | None = None,
        summary: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The run config that trains the best trial's settings again, longer (default:
        twice its epochs): `{dataset, model, name, train}`, as `POST /api/runs` takes it.

        Raises:
            NotFound: no such sweep; Conflict: it has no finished trial yet.
        """
        summary = summary or self.sweep_summary(name, storage)
        best = summary["best"]
        if best is None or not best.get("run_id"):
            raise Conflict(f"sweep '{name}' has no finished trial yet", where="study")
        try:
            rec = self.run(best["run_id"]).record
        except NotFound:
            raise Conflict(
                f"the best trial's run {best['run_id']} is not in this workspace (deleted, or "
                "trained by a worker on another machine: train it longer there)",
                where="study",
            ) from None
        train = dict(rec.config["train"])
        train["epochs"] = epochs or 2 * int(train.get("epochs") or rec.epoch or 1)
        return {
            "dataset": rec.dataset,
            "model": rec.config["model"],
            "name": f"{name}: best trial #{best['number']}, {train['epochs']} epochs",
            "train": train,
            "best": best,
        }

    def train_best(
        self, name: str, *, epochs: int | None = None, storage: str | None = None
    ) -> Run:
        """Train the best trial's settings again, longer (default: twice its epochs)."""
        plan = self.best_longer(name, epochs=epochs, storage=storage)
        best = plan["best"]
        return self.fit(
            plan["dataset"],
            plan["model"],
            name=plan["name"],
            config=TrainConfig.from_dict(plan["train"]),
            sweep={"study": name, "best_of": best["number"], "params": best["params"]},
        )


def _create_or_resume(storage: Any, name: str, record: dict[str, Any]) -> Any:
    optuna = _optuna()
    names = {s.study_name for s in optuna.get_all_study_summaries(storage)}
    if name in names:
        study = load_study(storage, name)
        old = study.user_attrs[RECORD_KEY]
        for key, what in (
            ("dataset_hash", "dataset"),
            ("model", "model"),
            ("space", "space"),
            ("metric", "metric"),
            ("train", "training settings"),
        ):
            if old[key] != record[key]:
                raise Conflict(
                    f"sweep '{name}' exists with another {what}; resume it with the same "
                    "dataset, model, space and settings, or give --study a new name",
                    where="study",
                )
        study.set_user_attr(RECORD_KEY, {**old, "trials": record["trials"]})
        return study
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        direction=_direction(record["metric"]),
        pruner=_pruner(),
    )
    study.set_user_attr(RECORD_KEY, record)
    return study


def sweep_summary(study: Any) -> dict[str, Any]:
    """A study as data: settings, trials, the best so far over time and the importances."""
    optuna = _optuna()
    record = study.user_attrs[RECORD_KEY]
    trials = study.get_trials(deepcopy=False)
    rows, best_curve, best = [], [], None
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    for t in sorted(trials, key=lambda t: (t.datetime_complete is None, t.datetime_complete)):
        steps = sorted(t.intermediate_values)
        rows.append(
            {
                "number": t.number,
                "state": t.state.name,
                "value": t.value,
                "params": t.params,
                "run_id": t.user_attrs.get("run_id"),
                "epochs": steps[-1] if steps else 0,
                "started": t.datetime_start.isoformat() if t.datetime_start else None,
                "finished": t.datetime_complete.isoformat() if t.datetime_complete else None,
                "seconds": (t.datetime_complete - t.datetime_start).total_seconds()
                if t.datetime_complete and t.datetime_start
                else None,
            }
        )
        if t.state.name == "COMPLETE" and t.value is not None:
            if best is None or (t.value > best["value"] if maximize else t.value < best["value"]):
                best = rows[-1]
            best_curve.append({"finished": rows[-1]["finished"], "value": best["value"]})
    rows.sort(key=lambda r: r["number"])
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
    return {
        "name": study.study_name,
        "dataset": record["dataset"],
        "model": record["model_name"],
        "metric": record["metric"],
        "direction": "maximize" if maximize else "minimize",
        "trials_wanted": record["trials"],
        "counts": counts,
        "space": record["space"],
        "best": best,
        "best_so_far": best_curve,
        "importance": _importance(study),
        "trials": rows,
    }


def _importance(study: Any) -> dict[str, float]:
    """How much each varied setting explains of the value (fANOVA), from 3 finished trials."""
    optuna = _optuna()
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(done) < 3:
        return {}
    try:
        with warnings.catch_warnings():  # e.g. "importances will be equal" on few trials
            warnings.simplefilter("ignore")
            found = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError, ZeroDivisionError):  # e.g. every trial the same settings
        return {}
    return {k: float(v) for k, v in found.items()}
