"""EfficientNet-Lite0 with its shipped ImageNet weights: strict loading, what it sees in a
real photograph, its use as a layer, a preset and a feature extractor."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_sample_image

from lernwerk.cli import main
from lernwerk.errors import SpecError
from lernwerk.models import build_network, load_preset, summarize
from lernwerk.models.pretrained import (
    FEATURES,
    EfficientNetLite0Features,
    backbone_state_dict,
    embed,
    feature_maps,
    imagenet_classes,
    imagenet_state_dict,
)


def test_the_package_weights_fill_the_network_exactly() -> None:
    net = EfficientNetLite0Features()
    ours = net.state_dict()
    theirs = backbone_state_dict()
    assert set(ours) == set(theirs)  # no tensor left over on either side
    assert all(ours[k].shape == theirs[k].shape for k in ours)
    assert set(imagenet_state_dict()) - set(theirs) == {"_fc.weight", "_fc.bias"}
    built = build_network(load_preset("efficientnet-lite0"), (3, 64, 64), 5)
    loaded = built.layers[0].state_dict()
    assert all(torch.equal(loaded[k], theirs[k]) for k in theirs)


def test_class_names_ship_in_the_classifier_order() -> None:
    names = imagenet_classes()
    assert len(names) == 1000 and names[0] == "tench" and names[285] == "Egyptian cat"


@pytest.mark.parametrize(
    ("photo", "expected"),
    [("china.jpg", {"palace", "monastery", "bell cote"}), ("flower.jpg", {"daisy"})],
)
def test_predict_names_plausible_imagenet_classes_of_a_real_photograph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], photo: str, expected: set[str]
) -> None:
    """scikit-learn ships two photographs: a temple in China and a flower."""
    path = tmp_path / photo
    Image.fromarray(load_sample_image(photo)).save(path)
    code = main(["--workspace", str(tmp_path / "ws"), "predict", "efficientnet-lite0", str(path)])
    assert code == 0
    assert "palace" in capsys.readouterr().out or photo != "china.jpg"
    code = main(
        ["--workspace", str(tmp_path / "ws"), "predict", "efficientnet-lite0", str(path), "--json"]
    )
    (result,) = json.loads(capsys.readouterr().out)
    top = result["top"]
    assert len(top) == 5 and top[0]["class"] in expected
    assert top[0]["probability"] > 0.15
    assert [t["probability"] for t in top] == sorted((t["probability"] for t in top), reverse=True)


def test_the_preset_counts_its_flops_and_parameters() -> None:
    summary = summarize(build_network(load_preset("efficientnet-lite0"), (3, 224, 224), 1000))
    text = str(summary)  # the table a user reads
    # Lite0: 4.65 M parameters with the ImageNet head, about 0.4 G multiply-adds at 224×224
    assert "4,652,008" in text
    assert 0.7e9 < summary.flops_per_sample < 0.9e9


def test_grey_images_are_repeated_to_three_channels() -> None:
    net = build_network(load_preset("efficientnet-lite0"), (1, 32, 32), 3).eval()
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        grey = net(x)
        colour = build_network(load_preset("efficientnet-lite0"), (3, 32, 32), 3)
        colour.load_state_dict(net.state_dict())
        assert torch.allclose(grey, colour.eval()(x.expand(-1, 3, -1, -1)), atol=1e-5)


@pytest.mark.parametrize("shape", [(3, 8, 8), (3, 31, 64), (2, 64, 64), (16,)])
def test_inputs_it_cannot_take_are_refused_by_name(shape: tuple[int, ...]) -> None:
    with pytest.raises(SpecError, match=r"layer 1 \(EfficientNetLite0\)"):
        build_network(load_preset("efficientnet-lite0"), shape, 3)


def test_training_it_on_8x8_digits_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["train", "--dataset", "digits", "--model", "efficientnet-lite0", "--epochs", "1"]
    code = main(["--workspace", str(tmp_path / "ws"), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "at least 32×32" in err and "8×8" in err
    assert main(["--workspace", str(tmp_path / "ws"), "runs", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing half-written


def test_a_run_keeps_the_imagenet_scaling_as_its_preprocessing(tmp_path: Path) -> None:
    import lernwerk as lw

    run = lw.fit(
        "solder:per_class=6",
        "efficientnet-lite0",
        workspace=tmp_path / "ws",
        epochs=1,
        batch_size=8,
    )
    assert run.status == "finished"
    std = run.predictor.standardizer
    assert torch.allclose(std.mean, torch.full((3,), 0.5))
    assert torch.allclose(std.std, torch.full((3,), 128 / 255))
    probs = run.predict(np.random.default_rng(0).random((2, 3, 64, 64), dtype=np.float32))
    assert probs.shape == (2, 5)


def test_embed_and_feature_maps_give_the_stated_shapes() -> None:
    x = torch.rand(3, 1, 64, 48)
    assert embed(x).shape == (3, FEATURES)
    maps = feature_maps(x, ("stage3", "stage4"))
    assert maps["stage3"].shape == (3, 40, 8, 6) and maps["stage4"].shape == (3, 80, 4, 3)
    with pytest.raises(SpecError, match="at least 32×32"):
        embed(torch.rand(1, 3, 16, 16))
