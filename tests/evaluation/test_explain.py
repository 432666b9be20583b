"""Explanations of one prediction: integrated gradients add up to the output's change,
Grad-CAM and feature maps come from the network's own convolutions, and a run without an
output to explain is refused by name."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lernwerk
from lernwerk.errors import DataError, SpecError
from lernwerk.evaluation.explain import MAX_MAPS, explain
from lernwerk.evaluation.explain_pictures import pictures


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> lernwerk.Workspace:
    return lernwerk.Workspace(tmp_path_factory.mktemp("explain") / "ws")


@pytest.fixture(scope="module")
def smiley_run(ws: lernwerk.Workspace) -> lernwerk.Run:
    return ws.fit("smileys:per_class=30", "smiley-cnn", epochs=2, seed=0)


def _sample(ws: lernwerk.Workspace, name: str, i: int = 0) -> torch.Tensor:
    x, _ = ws.load_dataset(name).subset(torch.tensor([i]))
    return x[0].float()


def test_image_explanation_has_saliency_gradcam_and_feature_maps(
    ws: lernwerk.Workspace, smiley_run: lernwerk.Run
) -> None:
    x = _sample(ws, "smileys:per_class=30")
    e = smiley_run.explain(x)
    probs = smiley_run.predict(x.unsqueeze(0).numpy())[0]
    assert e.kind == "images" and e.target == int(probs.argmax())
    assert e.target_name == smiley_run.predictor.classes[e.target]
    assert e.outputs == pytest.approx(probs.tolist(), abs=1e-5)
    assert e.attribution.shape == (1, 28, 28)
    # completeness: the attributions add up to the logit's change from the black image
    assert e.convergence < 0.05 * max(1.0, float(np.abs(e.attribution).sum()))
    saliency = e.saliency()
    assert saliency.shape == (28, 28) and saliency.max() == pytest.approx(1.0)
    assert e.gradcam is not None and e.gradcam.shape == (28, 28)
    assert 0.0 <= e.gradcam.min() and e.gradcam.max() <= 1.0
    layers = [(m["layer"], m["type"], m["channels"]) for m in e.feature_maps]
    assert layers == [("1", "Conv2D", 32), ("3", "Conv2D", 64), ("5", "Conv2D", 64)]
    assert e.feature_maps[0]["maps"].shape == (MAX_MAPS, 26, 26)
    # a named class is explained instead of the predicted one
    other = next(c for c in smiley_run.predictor.classes if c != e.target_name)
    assert smiley_run.explain(x, target=other).target_name == other
    files = pictures(e, x.numpy())
    assert set(files) >= {"input.png", "saliency.png", "gradcam.png", "feature-maps-layer1.png"}
    assert all(data.startswith(b"\x89PNG") for data in files.values())


def test_table_and_sequence_explanations(ws: lernwerk.Workspace) -> None:
    table = ws.fit("moons", "mlp", epochs=2, seed=0)
    e = table.explain(_sample(ws, "moons"))
    assert e.kind == "table" and e.names == ["x1", "x2"] and e.attribution.shape == (2,)
    assert e.gradcam is None and e.feature_maps == []
    series = ws.fit("gunpoint", "fcn1d", epochs=1, seed=0)
    e = series.explain(_sample(ws, "gunpoint"))
    assert e.kind == "sequences" and e.attribution.shape == (1, 150)
    assert e.saliency().shape == (150,)
    assert set(pictures(e, _sample(ws, "gunpoint").numpy())) == {"saliency.png"}


def test_binary_logit_is_explained_for_the_class_shown(ws: lernwerk.Workspace) -> None:
    run = ws.fit("moons", "mlp", epochs=2, seed=0, loss="binary_cross_entropy")
    for i in range(6):
        x = _sample(ws, "moons", i)
        e = run.explain(x)
        assert e.target_name == run.predictor.predict_labels(x.unsqueeze(0))[0]


def test_refusals(ws: lernwerk.Workspace, smiley_run: lernwerk.Run) -> None:
    with pytest.raises(DataError, match="expects 1×28×28"):
        smiley_run.explain(torch.zeros(1, 8, 8))
    with pytest.raises(SpecError, match="target must be one of the classes"):
        smiley_run.explain(torch.zeros(1, 28, 28), target="cat")
    anomaly = ws.fit("process:per_class=12,length=208", "autoencoder1d", task="anomaly", epochs=1)
    with pytest.raises(SpecError, match="classification and regression runs; this run is anomaly"):
        explain(anomaly.predictor, torch.zeros(anomaly.predictor.input_shape))
