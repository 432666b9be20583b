"""The model bundle: what a predictor loads equals the network it was saved from."""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from lernwerk.config import ModelSpec
from lernwerk.data import Standardizer
from lernwerk.errors import DataError, NotFound
from lernwerk.export import META_FILE, WEIGHTS_FILE, Predictor, export_safetensors, save_bundle
from lernwerk.models import build_network
from lernwerk.training import make_task

TABLE_SPEC = {
    "name": "table-net",
    "layers": [
        {"Dense": {"units": 8}},
        "BatchNormalization",  # running statistics are buffers: the bundle must keep them
        {"Activation": {"activation": "relu"}},
        {"Dense": {"units": "auto", "activation": "softmax"}},
    ],
}


def trained_like(spec: dict, x_train: torch.Tensor, num_outputs: int):
    """A network whose weights and batch-norm statistics differ from a fresh build."""
    torch.manual_seed(1)
    network = build_network(ModelSpec.from_dict(spec), tuple(x_train.shape[1:]), num_outputs)
    network.train()
    with torch.no_grad():
        for _ in range(3):
            network(x_train)  # moves the running mean and variance
    return network


def by_hand(network, standardizer: Standardizer, x: torch.Tensor) -> torch.Tensor:
    """The network's own outputs for raw inputs: standardise, forward in eval mode."""
    network.eval()
    with torch.no_grad():
        return network((x - standardizer.mean) / standardizer.std)


@pytest.fixture
def table_bundle(tmp_path: Path):
    g = torch.Generator().manual_seed(0)
    x_train = torch.randn(64, 3, generator=g) * 5 + 2  # (N, F), far from standardised
    standardizer = Standardizer.fit(x_train, "table")
    network = trained_like(TABLE_SPEC, standardizer.transform(x_train), 3)
    task = make_task("classification", None, classes=["a", "b", "c"])
    task.output_activation = network.output_activation
    save_bundle(tmp_path / "run", network, task, standardizer, {"kind": "table", "dataset": "t"})
    return tmp_path / "run", network, standardizer


def test_predictor_gives_the_saved_networks_probabilities(table_bundle) -> None:
    directory, network, standardizer = table_bundle
    x = torch.randn(10, 3) * 5 + 2
    expected = torch.softmax(by_hand(network, standardizer, x), dim=1).numpy()
    predictor = Predictor.load(directory)
    proba = predictor.predict(x.numpy())
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert predictor.classes == ["a", "b", "c"]
    assert predictor.predict_labels(x) == [["a", "b", "c"][i] for i in expected.argmax(axis=1)]
    # one sample without the batch dimension is a batch of one
    np.testing.assert_allclose(predictor.predict(x[0]), expected[:1], rtol=1e-5, atol=1e-7)


def test_wrong_input_shape_is_a_data_error(table_bundle) -> None:
    predictor = Predictor.load(table_bundle[0])
    with pytest.raises(DataError, match="input has shape 4 per sample; the model expects 3"):
        predictor.predict(np.zeros((2, 4), dtype=np.float32))


def test_regression_bundle_undoes_the_target_scaling(tmp_path: Path) -> None:
    x_train = torch.randn(50, 2)
    y_train = 100 + 20 * torch.randn(50)  # (N,) far from 0 and 1
    task = make_task("regression", None, classes=[], y_train=y_train)
    assert task.y_mean == pytest.approx(float(y_train.mean())) and task.y_std > 10
    standardizer = Standardizer.fit(x_train, "table")
    network = trained_like({"layers": [{"Dense": {"units": "auto"}}]}, x_train, task.num_outputs)
    save_bundle(tmp_path, network, task, standardizer, {})
    x = torch.randn(6, 2)
    expected = by_hand(network, standardizer, x) * task.y_std + task.y_mean  # (N, 1)
    np.testing.assert_allclose(Predictor.load(tmp_path).predict(x), expected.numpy(), rtol=1e-5)


def test_binary_cross_entropy_bundle_gives_two_columns(tmp_path: Path) -> None:
    task = make_task("classification", "binary_cross_entropy", classes=["no", "yes"])
    assert task.num_outputs == 1
    x_train = torch.randn(30, 2)
    standardizer = Standardizer.fit(x_train, "table")
    network = trained_like(
        {"layers": [{"Dense": {"units": "auto", "activation": "sigmoid"}}]}, x_train, 1
    )
    task.output_activation = network.output_activation
    save_bundle(tmp_path, network, task, standardizer, {})
    x = torch.randn(5, 2)
    p_yes = torch.sigmoid(by_hand(network, standardizer, x))[:, 0].numpy()
    proba = Predictor.load(tmp_path).predict(x)
    np.testing.assert_allclose(proba, np.stack([1 - p_yes, p_yes], axis=1), rtol=1e-5, atol=1e-7)


def test_image_bundle_standardises_per_channel(tmp_path: Path) -> None:
    x_train = torch.rand(20, 2, 8, 8)  # (N, C, H, W) in [0, 1]
    x_train[:, 1] *= 0.1  # two channels with different statistics
    standardizer = Standardizer.fit(x_train, "images")
    spec = {
        "layers": [
            {"Conv2D": {"filters": 4, "activation": "relu"}},
            "GlobalAveragePooling2D",
            {"Dense": {"units": "auto", "activation": "softmax"}},
        ]
    }
    network = trained_like(spec, x_train, 2)
    task = make_task("classification", None, classes=["a", "b"])
    task.output_activation = network.output_activation
    save_bundle(tmp_path, network, task, standardizer, {})
    x = torch.rand(4, 2, 8, 8)
    network.eval()
    with torch.no_grad():
        mean, std = standardizer.mean.view(1, 2, 1, 1), standardizer.std.view(1, 2, 1, 1)
        expected = torch.softmax(network((x - mean) / std), dim=1).numpy()
    np.testing.assert_allclose(Predictor.load(tmp_path).predict(x), expected, rtol=1e-5, atol=1e-7)


def test_export_copies_the_bundle(table_bundle, tmp_path: Path) -> None:
    directory = table_bundle[0]
    out = tmp_path / "exported" / "deeper"
    written = export_safetensors(directory, out)
    assert sorted(p.name for p in written) == sorted([WEIGHTS_FILE, META_FILE])
    for name in (WEIGHTS_FILE, META_FILE):
        assert (out / name).read_bytes() == (directory / name).read_bytes()
    assert not list(out.glob(".*.tmp"))
    x = np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32)
    np.testing.assert_array_equal(
        Predictor.load(out).predict(x), Predictor.load(directory).predict(x)
    )


def test_export_without_a_model_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no trained model yet"):
        export_safetensors(tmp_path, tmp_path / "out")
    with pytest.raises(NotFound, match=f"missing {META_FILE}"):
        Predictor.load(tmp_path)


class _Payload:
    """Unpickling this would create a file: the bundle loader must never unpickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("content", ["garbage", "pickle", "truncated"])
def test_bad_weights_are_a_data_error_and_never_unpickled(
    table_bundle, tmp_path: Path, content: str
) -> None:
    directory = table_bundle[0]
    marker = tmp_path / "code-was-executed"
    weights = directory / WEIGHTS_FILE
    if content == "garbage":
        weights.write_bytes(b"\x00\xffnot a safetensors file at all" * 10)
    elif content == "pickle":
        weights.write_bytes(pickle.dumps({"layers.0.weight": _Payload(marker)}))
    else:
        weights.write_bytes(weights.read_bytes()[:-40])
    with pytest.raises(DataError, match="not a readable safetensors file"):
        Predictor.load(directory)
    assert not marker.exists()


def test_unknown_bundle_format_is_a_data_error(table_bundle) -> None:
    directory = table_bundle[0]
    meta = json.loads((directory / META_FILE).read_text())
    (directory / META_FILE).write_text(json.dumps({**meta, "format": "other-tool/7"}))
    with pytest.raises(DataError, match="unknown model format 'other-tool/7'"):
        Predictor.load(directory)


def test_a_runs_bundle_reproduces_the_in_memory_models_metrics(workspace, tmp_path: Path) -> None:
    from sklearn.metrics import accuracy_score, log_loss

    run = workspace.fit("xor:samples=200", "mlp", epochs=3, seed=0)
    train = run.config["train"]
    ds = workspace.load_dataset(run.record.dataset)
    x, y = ds.subset(ds.split(train["val_split"], train["test_split"], train["split_seed"]).test)
    # run.metrics were computed from the network in memory, before it was reloaded
    proba = Predictor.load(run.dir).predict(x)
    assert accuracy_score(y, proba.argmax(axis=1)) == run.metrics["test"]["accuracy"]
    assert log_loss(y, proba, labels=[0, 1]) == pytest.approx(
        run.metrics["test"]["log_loss"], abs=1e-7
    )
    np.testing.assert_array_equal(run.predict(x), proba)
    exported = run.export(tmp_path / "export")["files"]
    assert {Path(p).name for p in exported} == {WEIGHTS_FILE, META_FILE}
    np.testing.assert_array_equal(Predictor.load(tmp_path / "export").predict(x), proba)
