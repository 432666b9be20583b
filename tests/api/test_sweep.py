"""Sweeps: trials are runs, two workers share a study without running a trial twice or
losing one, hopeless trials are pruned, a killed worker's trial is failed and retried on
resume, PostgreSQL serves workers of two workspaces; bad input leaves nothing behind."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.api.sweep_helpers import (  # noqa: F401 (a fixture)
    DATA,
    GOOD_LR,
    HOPELESS_LR,
    enqueue,
    postgres_url,
    study_trials,
    write_space,
)

import lernwerk
from lernwerk.api.sweep import SWEEP_DB, default_storage
from lernwerk.api.sweep_space import SearchSpace
from lernwerk.errors import Conflict, NotFound, SpecError
from lernwerk.models.presets import load_preset

MLP = load_preset("mlp")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lrate: {low: 0.001, high: 0.1}", "unknown setting 'lrate'"),
        (
            "augment.rotate: [0, 5]",
            "unknown setting 'augment.rotate' (did you mean 'rotation_deg'?)",
        ),
        ("model.layers.9.units: [8, 16]", "model 'mlp' has 4 layers"),
        ("model.units: [8, 16]", "model.layers.<index>.<parameter>"),
        ("lr: {low: 0.1, high: 0.01}", "lr: empty range: low 0.1 is above high 0.01"),
        ("batch_size: []", "batch_size: empty range: the list of choices is empty"),
        ("lr: {low: 0, high: 0.1, log: true}", "a log range needs low > 0"),
        ("lr: {low: 0.01}", "needs both low and high"),
        ("epochs: 3", "no setting varies"),
        ("", "expected a mapping"),
    ],
)
def test_a_bad_space_is_one_clear_error(tmp_path: Path, text: str, expected: str) -> None:
    path = write_space(tmp_path / "space.yaml", text)
    with pytest.raises(SpecError) as info:
        SearchSpace.load(path, MLP)
    assert expected in str(info.value) and str(path) in str(info.value)


def test_a_space_sets_training_augmentation_and_layer_settings() -> None:
    space = SearchSpace.load(
        {
            "lr": {"low": 1e-4, "high": 0.1, "log": True},
            "batch_size": [16, 32],
            "augment.noise_std": {"low": 0.0, "high": 0.1},
            "model.layers.1.units": {"low": 8, "high": 64, "step": 8},
            "epochs": 2,
        },
        MLP,
    )
    kinds = {p.name: p.kind for p in space.params}
    assert kinds == {
        "lr": "float",
        "batch_size": "choice",
        "augment.noise_std": "float",
        "model.layers.1.units": "int",
        "epochs": "fixed",
    }
    values = space.corner_values(high=True)
    model, train = space.apply(values, MLP.to_dict(), {"optimizer": "adam"})
    assert model["layers"][1]["units"] == 64 and MLP.layers[1]["units"] == 64
    assert train == {
        "optimizer": "adam",
        "lr": 0.1,
        "batch_size": 32,
        "augment": {"noise_std": 0.1},
        "epochs": 2,
    }
    assert SearchSpace.from_dicts(space.to_dicts()).to_dicts() == space.to_dicts()


def test_numbers_yaml_reads_as_strings_are_numbers(tmp_path: Path) -> None:
    path = write_space(
        tmp_path / "space.yaml", "lr: [1e-3, 1e-2]\nweight_decay: {low: 0, high: 1e-4}\n"
    )
    (lr, decay) = SearchSpace.load(path, MLP).params
    assert lr.choices == (1e-3, 1e-2) and (decay.kind, decay.high) == ("float", 1e-4)


def test_bad_input_writes_nothing(workspace: lernwerk.Workspace, tmp_path: Path) -> None:
    bad = write_space(tmp_path / "space.yaml", "optimizer: [adam, lion]\nepochs: 1\n")
    with pytest.raises(SpecError, match="optimizer=lion"):  # checked at both ends of the space
        workspace.sweep(DATA, "mlp", space=bad, trials=2)
    good = write_space(tmp_path / "good.yaml", "lr: [0.01, 0.1]\nepochs: 1\n")
    with pytest.raises(SpecError, match="--metric val_mae: this task's epochs have"):
        workspace.sweep(DATA, "mlp", space=good, trials=2, metric="val_mae")
    with pytest.raises(SpecError, match="cannot open the sweep database: .*refused"):
        workspace.sweep(
            DATA, "mlp", space=good, trials=2, storage="postgresql://u:pw@127.0.0.1:9/x"
        )
    with pytest.raises(NotFound, match="no sweep 'nope'"):
        workspace.sweep_summary("nope")
    assert not (workspace.path / SWEEP_DB).exists()
    assert workspace.runs() == [] and workspace.sweeps() == []


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_sqlite_workers_share_a_study_prune_and_lose_nothing(
    workspace: lernwerk.Workspace, tmp_path: Path, workers: int
) -> None:
    space = write_space(tmp_path / "space.yaml", f"lr: [{GOOD_LR}, {HOPELESS_LR}]\nepochs: 3\n")
    workspace.sweep(DATA, "mlp", space=space, trials=1, study="s")  # creates the study
    url = default_storage(workspace.path)
    order = [GOOD_LR, GOOD_LR, HOPELESS_LR, HOPELESS_LR]
    enqueue(url, "s", [{"lr": lr} for lr in order])
    seen: list[int] = []
    summary = workspace.sweep(
        DATA, "mlp", space=space, trials=5, workers=workers, study="s", on_trial=lambda t: seen.append(t.number)
    )  # fmt: skip
    trials = study_trials(url, "s")
    states = [t.state.name for t in trials]
    assert len(trials) == 5 and set(states) <= {"COMPLETE", "PRUNED"}, states
    assert sorted(seen) == list(range(1, 5))  # each finished trial reported once
    pruned = [t for t in trials if t.state.name == "PRUNED"]
    assert pruned and all(t.params["lr"] == HOPELESS_LR for t in pruned)
    # every trial is one run of the workspace, tagged with its study; none twice, none lost
    runs = {r.id: r for r in workspace.runs()}
    assert sorted(t.user_attrs["run_id"] for t in trials) == sorted(runs)
    for t in trials:
        run = runs[t.user_attrs["run_id"]]
        assert run.config["sweep"] == {"study": "s", "trial": t.number, "params": t.params}
        assert run.config["train"]["lr"] == t.params["lr"]
        assert run.status == ("stopped" if t.state.name == "PRUNED" else "finished")
    # the summary: best, best so far, importances; then the best trained longer
    assert summary["counts"] == {"COMPLETE": 5 - len(pruned), "PRUNED": len(pruned)}
    best = summary["best"]
    assert best["params"]["lr"] == GOOD_LR and best["run_id"] in runs
    values = [p["value"] for p in summary["best_so_far"]]
    assert values == sorted(values) and values[-1] == best["value"]
    assert list(summary["importance"]) == ["lr"]
    longer = workspace.train_best("s", epochs=4)
    assert longer.status == "finished" and longer.record.epoch == 4
    assert longer.config["sweep"]["best_of"] == best["number"]
    assert longer.config["train"]["lr"] == GOOD_LR
    # a resume with another space is refused; the same one with no trials left runs none
    other = write_space(tmp_path / "other.yaml", "lr: [0.1, 0.2]\nepochs: 3\n")
    with pytest.raises(Conflict, match="exists with another space"):
        workspace.sweep(DATA, "mlp", space=other, trials=5, study="s")
    assert len(workspace.sweep(DATA, "mlp", space=space, trials=5, study="s")["trials"]) == 5
    assert [s["name"] for s in workspace.sweeps()] == ["s"]


def _run_epochs(ws_path: Path) -> int:
    """The epochs stored for the workspace's runs so far (read without locking it)."""
    db = ws_path / "lernwerk.db"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return int(con.execute("SELECT count(*) FROM epochs").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_a_worker_killed_mid_trial_fails_that_trial_and_resume_retries_it(
    tmp_path: Path,
) -> None:
    ws_path = tmp_path / "ws"
    space = write_space(tmp_path / "space.yaml", f"lr: [{GOOD_LR}, 0.01]\nepochs: 40\n")
    args = [DATA, "mlp", "--space", str(space), "--trials", "2", "--study", "k"]
    cmd = [sys.executable, "-m", "lernwerk.cli", "--workspace", str(ws_path), "sweep", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while _run_epochs(ws_path) == 0:  # the first trial has begun training
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the sweep did not start training"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    ws = lernwerk.Workspace(ws_path)
    url = default_storage(ws_path)
    (killed,) = study_trials(url, "k")
    assert killed.state.name == "RUNNING"  # as the kill left it
    killed_run = killed.user_attrs["run_id"]
    assert ws.run(killed_run).status == "interrupted"  # the workspace saw its process die
    summary = ws.sweep(DATA, "mlp", space=space, trials=2, study="k")  # resume by name
    trials = study_trials(url, "k")
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE", "COMPLETE"]
    assert trials[1].params == killed.params  # the killed trial's settings, queued again
    assert trials[1].system_attrs["failed_trial"] == 0
    run_ids = [t.user_attrs["run_id"] for t in trials]
    assert len(set(run_ids)) == 3 and sorted(run_ids) == sorted(r.id for r in ws.runs())
    assert summary["counts"] == {"FAIL": 1, "COMPLETE": 2}


@pytest.mark.slow
def test_ctrl_c_stops_both_workers_and_fails_only_their_trials(tmp_path: Path) -> None:
    ws_path = tmp_path / "ws"
    space = write_space(tmp_path / "space.yaml", f"lr: [{GOOD_LR}, 0.01]\nepochs: 60\n")
    args = [DATA, "mlp", "--space", str(space), "--trials", "4", "--workers", "2", "--study", "c"]
    cmd = [sys.executable, "-m", "lernwerk.cli", "--workspace", str(ws_path), "sweep", *args]
    # a terminal's Ctrl-C reaches the whole process group: the command and its workers
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        url = default_storage(ws_path)
        while True:  # both workers are training
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the workers did not start training"
            try:
                trials = study_trials(url, "c")
            except Exception:  # no study yet, or its database is being created
                trials = []
            if sum("run_id" in t.user_attrs for t in trials) >= 2 and _run_epochs(ws_path) >= 2:
                break
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=120) == 130
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    trials = study_trials(url, "c")
    assert {t.state.name for t in trials} <= {"COMPLETE", "PRUNED", "FAIL"}  # none left running
    ws = lernwerk.Workspace(ws_path)
    for t in trials:
        run = ws.run(t.user_attrs["run_id"])
        assert run.status == ("stopped" if t.state.name == "FAIL" else "finished"), t
    assert sum(t.state.name == "FAIL" for t in trials) >= 1


@pytest.mark.slow
def test_workers_of_two_workspaces_share_a_postgresql_study(
    postgres_url: str,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    from lernwerk.cli import main

    space = write_space(tmp_path / "space.yaml", "lr: {low: 0.001, high: 0.1, log: true}\nepochs: 3\n")  # fmt: skip
    first, second = tmp_path / "machine-a", tmp_path / "machine-b"
    args = [DATA, "mlp", "--space", str(space), "--trials", "6", "--study", "pg"]
    cmd = [sys.executable, "-m", "lernwerk.cli", "-w", str(first), "sweep", *args]
    proc = subprocess.Popen([*cmd, "--storage", postgres_url], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:  # machine B joins once machine A's sweep has started a trial
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the sweep did not start"
            try:
                if study_trials(postgres_url, "pg"):
                    break
            except KeyError:  # no study yet
                pass
            time.sleep(0.2)
        code = main(["-w", str(second), "sweep-worker", "--study", "pg", "--storage", postgres_url])
        assert code == 0
    finally:
        assert proc.wait(timeout=300) == 0
    trials = study_trials(postgres_url, "pg")
    counted = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(counted) == len(trials) and 6 <= len(trials) <= 7  # a race may add one
    runs_a = {r.id for r in lernwerk.Workspace(first).runs()}
    runs_b = {r.id for r in lernwerk.Workspace(second).runs()}
    assert runs_a and runs_b, "both machines ran trials"
    assert sorted(t.user_attrs["run_id"] for t in trials) == sorted(runs_a | runs_b)
    assert len({t.number for t in trials}) == len(trials)
