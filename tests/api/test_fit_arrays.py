"""`lw.fit(X, y)` on NumPy arrays and pandas frames, and the curves its results page plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

import lernwerk as lw
from lernwerk import Workspace
from lernwerk.data.arrays import dataset_from_arrays


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("arrays") / "ws")


def _two_classes(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(int)


def test_fit_on_arrays_stores_a_dataset_and_returns_the_run(workspace) -> None:
    x, y = _two_classes()
    run = lw.fit(x, y, epochs=2, workspace=workspace)
    assert run.status == "finished" and run.record.model == "mlp"  # the default for a table
    ds = workspace.load_dataset(run.record.dataset)
    assert run.record.dataset.startswith("arrays-")
    assert ds.kind == "table" and ds.task == "classification" and ds.classes == ["0", "1"]
    np.testing.assert_array_equal(ds.x.numpy(), x)
    again = lw.fit(x, y, "perceptron", epochs=1, workspace=workspace)
    assert again.record.dataset == run.record.dataset  # the same data, the same dataset
    assert run.predict(x[:5]).shape == (5, 2)


def test_two_class_evaluation_carries_roc_and_pr_curves(workspace) -> None:
    x, y = _two_classes()
    run = lw.fit(x, y, model="mlp", epochs=3, workspace=workspace)
    view = run.evaluation("test")
    curves = view["curves"]
    ds = workspace.load_dataset(run.record.dataset)
    train = run.config["train"]
    test = ds.split(train["val_split"], train["test_split"], train["split_seed"]).test
    xt, yt = ds.subset(test)
    score = run.predict(xt.numpy())[:, 1]
    assert curves["roc"]["auc"] == pytest.approx(skm.roc_auc_score(yt.numpy(), score), abs=1e-6)
    assert curves["roc"]["auc"] == pytest.approx(view["metrics"]["roc_auc"])
    assert curves["threshold"] == 0.5
    predicted = score > 0.5
    tp = int((predicted & (yt.numpy() == 1)).sum())
    assert curves["operating_point"]["tpr"] == pytest.approx(tp / int(yt.sum()))


def test_more_than_two_classes_have_no_curves(workspace) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(90, 2)).astype(np.float32)
    view = lw.fit(x, np.repeat(["a", "b", "c"], 30), epochs=1, workspace=workspace).evaluation()
    assert "curves" not in view and view["classes"] == ["a", "b", "c"]


def test_fit_on_a_dataframe_encodes_text_columns_and_plots_regression(workspace) -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"a": rng.normal(size=120), "colour": rng.choice(["red", "blue"], 120)})
    y = pd.Series(2 * frame["a"] + (frame["colour"] == "red") + 0.01 * rng.normal(size=120))
    run = lw.fit(frame, y, epochs=2, workspace=workspace)
    ds = workspace.load_dataset(run.record.dataset)
    assert ds.task == "regression" and ds.feature_names == ["a", "colour=blue", "colour=red"]
    view = run.evaluation("test")
    points = view["points"]
    assert points["shown"] == points["num_samples"] == view["num_samples"]
    residual = np.array(points["predicted"]) - np.array(points["true"])
    np.testing.assert_allclose(points["residual"], residual, atol=1e-9)
    assert np.mean(np.abs(residual)) == pytest.approx(view["metrics"]["mae"], rel=1e-4)


def test_task_overrides_what_y_suggests(workspace) -> None:
    x, y = _two_classes(60)
    ds = dataset_from_arrays(x, y.astype(float), task="regression")
    assert ds.task == "regression" and ds.classes == []


def test_images_as_8_bit_arrays() -> None:
    x = np.full((6, 1, 8, 8), 255, dtype=np.uint8)
    ds = dataset_from_arrays(x, ["a", "b"] * 3)
    assert ds.kind == "images" and float(ds.x.max()) == 1.0


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (np.zeros((10, 3)), np.zeros(9), "X has 10 samples but y has 9 labels"),
        (np.zeros(10), np.zeros(10), r"X must be shaped \(N, F\).*received \(10,\)"),
        (np.zeros((4, 2)), np.zeros((4, 2)), r"y must be shaped \(N,\).*\(4, 2\)"),
        (np.array([["a", "b"]] * 4), np.zeros(4), "X must hold numbers"),
        (np.full((4, 1, 2, 2), 3.0), np.zeros(4), r"pixel values must lie in \[0, 1\]"),
        (pd.DataFrame({"a": [1, 2]}), [0, 1, 0], "X has 2 rows but y has 3 labels"),
    ],
)
def test_bad_shapes_are_clear_errors_and_nothing_is_stored(tmp_path, x, y, message) -> None:
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(lw.DataError, match=message):
        lw.fit(x, y, workspace=ws)
    assert not ws.store.list_datasets() and ws.runs() == []


def test_a_third_argument_needs_arrays(tmp_path) -> None:
    with pytest.raises(lw.SpecError, match=r"lw.fit\(dataset, model\)"):
        lw.fit("xor", "mlp", "mlp", workspace=tmp_path / "ws")
