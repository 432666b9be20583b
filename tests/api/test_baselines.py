"""Classical baselines through the API: on the network's own split, stored as runs, refused
where a network is needed, and refused whole on bad input."""

from __future__ import annotations

import importlib.util
import re
import sys

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import lernwerk
from lernwerk import Workspace
from lernwerk.errors import Conflict, DataError, SpecError
from lernwerk.training import baseline_features
from lernwerk.training.baseline_features import summary_features

XOR = "xor:samples=200"


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, lernwerk.Run, object]:
    """A network on xor, then the baselines on the same split."""
    ws = Workspace(tmp_path_factory.mktemp("baselines") / "ws")
    net = ws.fit(XOR, "mlp", epochs=2, seed=0)
    return ws, net, ws.baselines(XOR)


HAS_XGBOOST = importlib.util.find_spec("xgboost") is not None
ESTIMATORS = 3 if HAS_XGBOOST else 2  # per feature set: XGBoost when installed


def test_table_baselines_are_finished_runs_beside_the_network(table) -> None:
    ws, net, comparison = table
    models = [r.record.model for r in comparison.runs]
    assert models == [
        "logistic-regression (features)",
        "hist-gradient-boosting (features)",
        *(["xgboost (features)"] if HAS_XGBOOST else []),  # XGBoost when installed
    ]
    assert [r.id for r in comparison.networks] == [net.id]
    listed = {r.id for r in ws.runs()}
    assert {r.id for r in comparison.runs} | {net.id} == listed
    for run in comparison.runs:
        assert run.status == "finished" and run.record.seconds > 0
        assert run.config["baseline"]["features"] == "features"
        assert run.config["baseline"]["estimator_stored"] is False
        assert run.config["train"]["task"] == "classification"
        assert set(run.metrics) == {"val", "test"}
        test = run.metrics["test"]
        assert set(net.metrics["test"]) == set(test)  # the shape a network run stores
        assert np.asarray(test["confusion_matrix"]).sum() == test["num_samples"] == 40
        row = run.row()
        assert row["epochs"] is None and row["features"] == "features"
    table_rows = comparison.rows()
    assert [r["features"] for r in table_rows] == ["features"] * ESTIMATORS + ["network"]
    assert all("test_accuracy" in r and "seconds" in r for r in table_rows)
    assert ws.compare([r.id for r in comparison.runs]).shape[1] == ESTIMATORS


def test_logistic_regression_fits_exactly_the_runs_train_split(table) -> None:
    """scikit-learn as the oracle: the same split by the run's function and defaults."""
    ws, net, comparison = table
    ds = ws.load_dataset(XOR)
    train = net.config["train"]
    splits = ds.split(train["val_split"], train["test_split"], train["split_seed"])
    x, y = ds.x.numpy(), ds.y.numpy()
    oracle = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=0))
    oracle.fit(x[splits.train], y[splits.train])
    expected = float((oracle.predict(x[splits.test]) == y[splits.test]).mean())
    lr = comparison.runs[0]
    assert lr.metrics["test"]["accuracy"] == pytest.approx(expected)
    assert lr.config["train"]["val_split"] == train["val_split"] == 0.2
    hgb = comparison.runs[1].config["baseline"]["settings"]
    assert hgb["early_stopping"] == "on the validation split" and hgb["iterations"] >= 1


def test_a_baseline_run_refuses_what_needs_a_network(table) -> None:
    ws, _, comparison = table
    run = ws.run(comparison.runs[0].id)
    with pytest.raises(Conflict, match="baseline .* cannot predict"):
        run.predict(np.zeros((1, 2), dtype=np.float32))
    with pytest.raises(Conflict, match="cannot export"):
        run.export(ws.path / "out")
    with pytest.raises(Conflict, match="cannot resume"):
        ws.resume(run.id, epochs=5)
    with pytest.raises(Conflict, match="cannot be summarised"):
        run.summary()
    assert not (ws.path / "out").exists()
    assert run.evaluate("test") == run.metrics["test"]  # what exists: the stored metrics
    view = run.evaluation("val")
    assert view["samples"] == [] and view["metrics"] == run.metrics["val"]
    with pytest.raises(Conflict, match="only its val and test metrics"):
        run.evaluation("train")
    assert run.input_spec() is None


def test_image_baselines_on_pooled_pixels_and_no_embedding_below_32(workspace) -> None:
    comparison = workspace.baselines("smileys:per_class=8")
    assert {r.config["baseline"]["features"] for r in comparison.runs} == {"pixels 16×16"}
    assert comparison.splits == {"train": 20, "val": 6, "test": 6}
    assert any("at least 32×32; these are 28×28" in n for n in comparison.notes)
    cm = np.asarray(comparison.runs[0].metrics["test"]["confusion_matrix"])
    assert cm.shape == (4, 4) and cm.sum() == 6


def test_images_from_32_get_the_linear_probe_on_the_backbones_embeddings(workspace) -> None:
    """The pretrained backbone's pooled features (1280 per image) go to the estimators as
    the 'embeddings' feature set; logistic regression on them is the linear probe."""
    comparison = workspace.baselines("solder:per_class=5")
    features = [r.config["baseline"]["features"] for r in comparison.runs]
    assert features.count("pixels 16×16") == ESTIMATORS == features.count("embeddings")
    probe = next(r for r in comparison.runs if r.record.model == "logistic-regression (embeddings)")
    assert "EfficientNet-Lite0" in probe.config["baseline"]["feature_note"]
    assert probe.config["baseline"]["feature_seconds"] > 0
    assert np.asarray(probe.metrics["test"]["confusion_matrix"]).shape == (5, 5)
    assert comparison.notes == [] or all("XGBoost" in n for n in comparison.notes)


def test_the_embeddings_are_the_backbones_own(monkeypatch) -> None:
    """The feature set calls `pretrained.embed` on the images as the dataset holds them."""
    seen: list[torch.Tensor] = []

    def embed(x: torch.Tensor) -> torch.Tensor:
        seen.append(x)
        return torch.ones(len(x), 1280)

    monkeypatch.setattr(baseline_features, "_backbone", lambda: embed)
    sets, notes = baseline_features.feature_sets("images", (3, 40, 48))
    assert [fs.name for fs in sets] == ["pixels 16×16", "embeddings"] and notes == []
    x = torch.rand(5, 3, 40, 48)  # (N, C, H, W)
    assert sets[1].transform(x).shape == (5, 1280) and seen[0] is x
    assert sets[0].transform(x).shape == (5, 3 * 16 * 16)
    sets, notes = baseline_features.feature_sets("images", (4, 64, 64))
    assert [fs.name for fs in sets] == ["pixels 16×16"] and "1 or 3 channels" in notes[0]


def test_sequence_baselines_on_values_summaries_and_rocket(workspace) -> None:
    comparison = workspace.baselines("process:per_class=6")
    features = {r.config["baseline"]["features"] for r in comparison.runs}
    assert features == {"values", "summary", "minirocket"}
    assert comparison.runs[-1].record.model == "rocket (minirocket)"
    regression = workspace.baselines("process:per_class=6,target=quality")
    assert regression.task == "regression"
    models = [r.record.model for r in regression.runs]
    assert "ridge (values)" in models and "hist-gradient-boosting (summary)" in models
    assert "rocket (minirocket)" in models
    assert {"mae", "r2", "mse"} <= set(regression.runs[0].metrics["test"])
    assert {"mae", "r2", "mse"} <= set(regression.runs[-1].metrics["test"])


def test_rocket_on_a_shipped_multivariate_set_of_unequal_lengths(workspace) -> None:
    """JapaneseVowels: 12 channels, 7-29 steps (padded); ROCKET alone, stored as a run
    beside a network on the same split, seeded: the same seed gives the same figures."""
    net = workspace.fit("japanesevowels", "mlp", epochs=1, seed=0)
    first = workspace.baselines("japanesevowels", estimators=["rocket"], seed=3)
    assert [r.record.model for r in first.runs] == ["rocket (minirocket)"]
    assert [r.id for r in first.networks] == [net.id] and first.notes == []
    run = first.runs[0]
    assert run.status == "finished" and run.record.seconds > 0
    assert {r.id for r in workspace.runs()} == {net.id, run.id}
    baseline = run.config["baseline"]
    assert baseline["estimator"] == "rocket" and baseline["settings"]["features"] == 9996
    assert baseline["settings"]["seed"] == 3 and baseline["settings"]["alpha"] > 0
    assert re.search(r"12 channel\(s\); train series of 7–2\d real steps", baseline["feature_note"])
    test = run.metrics["test"]
    assert test["num_samples"] == 370 and set(net.metrics["test"]) == set(test)
    assert test["accuracy"] > 0.95  # published ROCKET-style figures: about 0.98
    assert run.row()["features"] == "minirocket"
    again = workspace.baselines("japanesevowels", estimators="rocket", seed=3)  # one name
    assert again.runs[0].metrics == run.metrics
    assert again.runs[0].record.name == "rocket (minirocket) on japanesevowels #2"


@pytest.mark.parametrize(
    ("dataset", "estimators", "message"),
    [
        (XOR, ["rocket"], "rocket is the baseline for series .* 'xor:samples=200' holds a table"),
        ("smileys:per_class=8", ["rocket"], "holds images"),
        (XOR, ["svm"], "unknown baseline estimator 'svm'; choose from"),
        (XOR, ["ridge"], "ridge fits regression; .* choose logistic-regression"),
        (XOR, [], "name at least one estimator"),
    ],
)
def test_an_estimator_that_does_not_suit_is_refused(workspace, dataset, estimators, message):
    with pytest.raises(SpecError, match=message) as caught:
        workspace.baselines(dataset, estimators=estimators)
    assert caught.value.where == "estimators"
    assert workspace.runs() == []


def test_summary_features_match_numpy() -> None:
    x = torch.tensor([[[1.0, 3.0, 2.0, 6.0]], [[0.0, -1.0, -2.0, -3.0]]])  # (N=2, C=1, T=4)
    f = summary_features(x)  # (2, 9)
    for row, series in zip(f, x[:, 0].numpy(), strict=True):
        slope = np.polyfit(np.arange(4), series, 1)[0]
        expected = [series.mean(), series.std(), series.min(), series.max(), slope]
        np.testing.assert_allclose(row[:5], expected, rtol=1e-6)
        assert row[5] == series[0] and row[6] == series[-1]
        assert row[7] == series.argmax() / 3 and row[8] == series.argmin() / 3


def test_an_empty_split_is_refused_and_nothing_is_stored(workspace) -> None:
    with pytest.raises(DataError, match="test split of dataset 'xor:samples=200' .* is empty"):
        workspace.baselines(XOR, test_split=0)
    with pytest.raises(DataError, match="val split"):
        workspace.baselines(XOR, val_split=0)
    with pytest.raises(SpecError, match="cover classification and regression"):
        workspace.baselines("seasonal:length=400,window=10,horizon=2")
    assert workspace.runs() == []


def test_without_xgboost_a_note_says_so_and_the_rest_run(workspace, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "xgboost", None)  # `import xgboost` raises ImportError
    comparison = workspace.baselines(XOR)
    assert [r.config["baseline"]["estimator"] for r in comparison.runs] == [
        "logistic-regression",
        "hist-gradient-boosting",
    ]
    assert comparison.notes == [
        "no XGBoost baseline: xgboost is not installed (pip install xgboost)"
    ]
