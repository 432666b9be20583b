"""The public Python API: fit, runs, evaluation, regression, and errors before any run."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score

import lernwerk
from lernwerk import Workspace


def split_of(workspace: Workspace, run: lernwerk.Run, split: str):
    train = run.config["train"]
    ds = workspace.load_dataset(run.record.dataset)
    return ds.subset(
        getattr(ds.split(train["val_split"], train["test_split"], train["split_seed"]), split)
    )


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> lernwerk.Run:
    """LeNet on the 8×8 digits for two epochs, shared by the tests that only read it."""
    workspace = Workspace(tmp_path_factory.mktemp("digits") / "ws")
    return lernwerk.fit("digits", "lenet", epochs=2, seed=0, workspace=workspace)


def test_fit_returns_a_finished_run_with_history(digits_run) -> None:
    run = digits_run
    assert isinstance(run, lernwerk.Run)
    assert run.status == "finished" and run.record.epoch == 2
    assert run.name == "lenet on digits"
    history = run.history
    assert list(history.index) == [1, 2]
    assert {"train_loss", "val_loss", "val_accuracy", "lr"} <= set(history.columns)
    assert history["val_accuracy"].between(0, 1).all()
    assert run.config["schema_version"] == 1
    assert run.config["train"]["epochs"] == 2 and run.config["train"]["seed"] == 0
    assert run.config["model"]["name"] == "lenet"


def test_evaluate_matches_the_stored_metrics_and_sklearn(digits_run) -> None:
    run = digits_run
    report = run.evaluate("test")
    assert report["accuracy"] == run.metrics["test"]["accuracy"]
    x, y = split_of(run.workspace, run, "test")
    assert report["num_samples"] == len(y)
    assert report["accuracy"] == pytest.approx(accuracy_score(y, run.predict(x).argmax(axis=1)))
    assert run.evaluate("val")["accuracy"] == run.metrics["val"]["accuracy"]
    with pytest.raises(lernwerk.SpecError, match="split must be one of train, val, test"):
        run.evaluate("holdout")


def test_predict_takes_raw_images(digits_run) -> None:
    x, _ = split_of(digits_run.workspace, digits_run, "test")
    proba = digits_run.predict(x[:5].numpy())
    assert proba.shape == (5, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert digits_run.predictor.classes == [str(i) for i in range(10)]


def test_summary_of_a_run(digits_run) -> None:
    summary = digits_run.summary()
    assert summary.name == "lenet" and summary.input_shape == (1, 8, 8)
    assert summary.rows[-1].output_shape == (10,)


def test_load_run_by_id_prefix_and_name(workspace) -> None:
    run = workspace.fit("xor:samples=200", "perceptron", epochs=1, name="first try")
    assert lernwerk.load_run(run.id, workspace=workspace).id == run.id
    assert lernwerk.load_run(run.id[:4], workspace=workspace).id == run.id
    assert lernwerk.load_run("first try", workspace=workspace).id == run.id
    assert lernwerk.load_run(run.id[:4], workspace=workspace.path).id == run.id  # a path works too
    with pytest.raises(lernwerk.NotFound, match="'nothing-like-it' not found"):
        lernwerk.load_run("nothing-like-it", workspace=workspace)


def test_runs_frame_compare_and_delete(workspace) -> None:
    first = workspace.fit("xor:samples=200", "perceptron", epochs=1, seed=0)
    second = workspace.fit("xor:samples=200", "mlp", epochs=2, seed=0)
    frame = workspace.runs_frame()
    assert len(frame) == 2
    assert set(frame["id"]) == {first.id, second.id}
    assert frame.set_index("id").loc[second.id, "epochs"] == "2/2"
    assert {"test_accuracy", "val_accuracy", "status", "lr"} <= set(frame.columns)

    compared = workspace.compare([first.id, second.id[:5]])
    assert list(compared.columns) == [first.id, second.id]
    assert compared.loc["model", first.id] == "perceptron"
    assert compared.loc["test_accuracy", second.id] == second.metrics["test"]["accuracy"]

    workspace.delete_run(first.id)
    assert [r.id for r in workspace.runs()] == [second.id]
    assert not (workspace.path / "runs" / first.id).exists()  # (Run.dir would create it again)
    with pytest.raises(lernwerk.NotFound):
        workspace.run(first.id)
    assert len(workspace.runs_frame()) == 1


def test_regression_on_a_dataset_built_in_memory(workspace, regression_dataset) -> None:
    spec = {
        "name": "small-regressor",
        "layers": [{"Dense": {"units": 16, "activation": "relu"}}, {"Dense": {"units": "auto"}}],
    }
    run = workspace.fit(regression_dataset, spec, epochs=15, lr=0.01, seed=0)
    assert run.status == "finished"
    assert {"train_loss", "val_loss", "val_mae"} <= set(run.history.columns)
    assert run.history["val_loss"].iloc[-1] < run.history["val_loss"].iloc[0]
    test = run.metrics["test"]
    assert test["r2"] > 0.9  # y is linear in x with a little noise
    # the dataset was saved into the workspace: a fresh workspace object finds and evaluates it
    assert workspace.store.get_dataset("linear").num_samples == 200
    reloaded = lernwerk.load_run(run.id, workspace=Workspace(workspace.path))
    again = reloaded.evaluate("test")
    assert again["r2"] == pytest.approx(test["r2"], rel=1e-9)
    assert again["mae"] == pytest.approx(test["mae"], rel=1e-9)
    x, y = split_of(workspace, run, "test")
    predictions = reloaded.predict(x)  # (N, 1) in the target's own units
    assert predictions.shape == (len(y), 1)
    assert r2_score(y, predictions[:, 0]) == pytest.approx(test["r2"], rel=1e-6)
    assert mean_absolute_error(y, predictions[:, 0]) == pytest.approx(test["mae"], rel=1e-6)


def test_datasets_facade_lists_and_loads() -> None:
    names = {d["name"] for d in lernwerk.datasets.list()}
    assert {"xor", "digits"} <= names
    ds = lernwerk.datasets.load("xor", samples=100)
    assert len(ds) == 100 and ds.input_shape == (2,)


@pytest.mark.parametrize(
    ("dataset", "model", "train", "error", "message"),
    [
        (
            "no-such-data",
            "mlp",
            {},
            lernwerk.NotFound,
            "dataset 'no-such-data' not found; built-in:",
        ),
        (
            "xor:samples=200",
            "no-such-net",
            {},
            lernwerk.NotFound,
            "neither a preset nor a spec file",
        ),
        (
            "xor:samples=200",
            {"layers": [{"Conv3D": {}}]},
            {},
            lernwerk.SpecError,
            "unknown layer type 'Conv3D'",
        ),
        (
            "xor:samples=200",
            "smiley-cnn",
            {},
            lernwerk.SpecError,
            "layer 1 (Conv2D): expects an image input",
        ),
        (
            "xor:samples=200",
            "mlp",
            {"lr": -0.1},
            lernwerk.SpecError,
            "lr: Input should be greater than 0",
        ),
        ("xor:samples=200", "mlp", {"epoch": 3}, lernwerk.SpecError, "epoch: unknown key"),
        (
            "xor:samples=200",
            "mlp",
            {"loss": "mse"},
            lernwerk.SpecError,
            "loss 'mse' does not suit classification",
        ),
        (
            "xor:samples=200",
            "mlp",
            {"device": "tpu"},
            lernwerk.SpecError,
            "device: Input should be 'cpu', 'cuda' or 'auto'; received: 'tpu'",
        ),
    ],
)
def test_bad_input_fails_before_a_run_exists(
    workspace, dataset, model, train, error, message
) -> None:
    with pytest.raises(error) as info:
        workspace.fit(dataset, model, epochs=1, **train)
    assert message in str(info.value)
    assert workspace.runs() == []
    assert list((workspace.path / "runs").iterdir()) == []


def test_classification_of_numeric_targets_is_refused(workspace, regression_dataset) -> None:
    with pytest.raises(lernwerk.SpecError, match="has numeric targets; use task regression"):
        workspace.fit(regression_dataset, "mlp", task="classification")
    assert workspace.runs() == []


def test_a_run_that_fails_before_training_does_not_stay_created(workspace, monkeypatch) -> None:
    from lernwerk.training.run import RunPlan as _Plan

    def broken(self, ds, device):
        raise MemoryError("no room for the data")

    monkeypatch.setattr(_Plan, "training_data", broken)
    with pytest.raises(MemoryError):
        workspace.fit("xor", "mlp", epochs=1)
    (run,) = workspace.runs()
    assert run.status == "failed" and "no room for the data" in run.record.error
    assert workspace.store.reconcile() == []  # nothing left for a reconcile to find


def test_resume_epochs_is_the_run_total_not_how_many_more(workspace) -> None:
    run = workspace.fit("xor", "mlp", epochs=2, seed=0)
    assert run.record.epoch == 2
    with pytest.raises(lernwerk.SpecError, match="total number of epochs, not how many more"):
        workspace.resume(run.id, epochs=1)
    with pytest.raises(lernwerk.Conflict, match="--epochs 12 for 10 more"):
        workspace.resume(run.id)
    again = workspace.resume(run.id, epochs=3)
    assert again.record.epoch == 3 and len(again.history) == 3  # 3 in all, not 2 + 3
