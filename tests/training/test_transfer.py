"""Transfer learning: starting from a run's weights, freezing layers, unfreezing them later."""

import pandas as pd
import pytest
import torch

import lernwerk
from lernwerk.store import load_tensors

THREE = "blobs:samples=300,centers=3"
FOUR = "blobs:samples=300,centers=4"  # the same input shape (2 features), other classes
# batch norm in the body: a frozen layer's running statistics must not drift
BN_MLP = {
    "name": "bn-mlp",
    "layers": [
        {"Dense": {"units": 16}},
        "BatchNormalization",
        {"Activation": {"activation": "relu"}},
        {"Dense": {"units": 8, "activation": "relu"}},
        {"Dense": {"units": "auto", "activation": "softmax"}},
    ],
}


def weights(run: lernwerk.Run) -> dict[str, torch.Tensor]:
    return load_tensors(run.dir / "model.safetensors")[0]


def layer(tensors: dict[str, torch.Tensor], position: int) -> dict[str, torch.Tensor]:
    prefix = f"layers.{position}."
    return {k: v for k, v in tensors.items() if k.startswith(prefix)}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture
def source(workspace: lernwerk.Workspace) -> lernwerk.Run:
    return workspace.fit(THREE, BN_MLP, epochs=3, seed=1)


def test_from_run_loads_the_layers_that_fit_and_gives_a_new_head(workspace, source) -> None:
    run = workspace.fit(FOUR, init=source.id, epochs=1, lr=1e-9)  # the model: the run's
    transfer = run.config["transfer"]
    assert run.config["train"]["init"] == source.id
    assert transfer["loaded_layers"] == ["1", "2", "4"]  # Dense, BatchNorm, Dense
    assert transfer["new_layers"] == ["5"]  # 3 classes there, 4 here
    start, after = weights(source), weights(run)
    # a learning rate of 1e-9 barely moves the weights: they are the source's, not random
    for position in (0, 3):
        for key, value in layer(start, position).items():
            assert torch.allclose(after[key], value, atol=1e-6), key
    assert after["layers.4.weight"].shape[0] == 4 != start["layers.4.weight"].shape[0]
    assert run.status == "finished"


def test_the_same_classes_load_every_layer(workspace, source) -> None:
    run = workspace.fit(THREE, BN_MLP, init=source.name, epochs=1)  # by name, too
    assert run.config["transfer"]["loaded_layers"] == ["1", "2", "4", "5"]
    assert run.config["transfer"]["new_layers"] == []
    assert run.config["train"]["init"] == source.id  # recorded by id


def test_freezing_keeps_the_frozen_layers_unchanged(workspace, source) -> None:
    run = workspace.fit(FOUR, BN_MLP, init=source.id, freeze="features", epochs=3, lr=0.05)
    assert run.config["transfer"]["frozen_layers"] == ["1", "2", "4"]
    start, after = weights(source), weights(run)
    for position in (0, 1, 3):  # weights, and the batch norm's running statistics
        assert same(layer(start, position), layer(after, position)), position
    assert not same(layer(start, 4), layer(after, 4))  # the head trained


@pytest.mark.parametrize(
    ("freeze", "frozen"),
    [(2, ["1", "2"]), (["1", "4"], ["1", "4"]), ("batchnormalization", ["2"]), ("1,2", ["1", "2"])],
)
def test_freeze_takes_a_count_numbers_or_types(workspace, freeze, frozen) -> None:
    check = workspace.check_fit(THREE, BN_MLP, freeze=freeze)
    assert check["transfer"]["frozen_layers"] == frozen


def test_unfreeze_after_trains_the_frozen_layers_from_then_on(workspace, source) -> None:
    frozen = workspace.fit(FOUR, init=source.id, freeze="features", epochs=2, seed=3)
    unfrozen = workspace.fit(
        FOUR, init=source.id, freeze="features", unfreeze_after=2, epochs=4, seed=3
    )
    # the first two epochs are the same as with the layers frozen throughout
    pd.testing.assert_frame_equal(frozen.history, unfrozen.history.iloc[:2], check_exact=True)
    start, after = weights(source), weights(unfrozen)
    for position in (0, 1, 3):
        assert not same(layer(start, position), layer(after, position)), position
    assert unfrozen.config["transfer"]["unfreeze_after"] == 2


def test_unfrozen_layers_train_at_the_lower_learning_rate(workspace, source) -> None:
    from lernwerk.training.checkpoint import checkpoint_param_groups

    run = workspace.fit(
        FOUR,
        init=source.id,
        freeze=["1"],
        unfreeze_after=1,
        epochs=2,
        lr=0.01,
        backbone_lr_factor=0.25,
    )
    path = run.dir / "checkpoint.safetensors"
    assert checkpoint_param_groups(path) == 2
    import json

    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        groups = json.loads(f.metadata()["lernwerk"])["optimizer"]["param_groups"]
    assert [g["lr"] for g in groups] == [0.01, 0.0025]
    assert len(groups[1]["params"]) == 2  # layer 1's weight and bias


def test_resume_across_the_unfreeze_point_continues_exactly(workspace, source) -> None:
    settings = {"init": source.id, "freeze": "features", "unfreeze_after": 2, "seed": 4}
    whole = workspace.fit(FOUR, epochs=5, **settings)
    part = workspace.fit(FOUR, epochs=2, **settings)  # stops just before the unfreeze
    resumed = workspace.resume(part.id, epochs=3)  # unfreezes as it starts
    assert resumed.record.epoch == 3
    again = workspace.resume(part.id, epochs=5)  # resumed after the unfreeze
    assert again.status == "finished"
    pd.testing.assert_frame_equal(whole.history, again.history, check_exact=True)
    assert whole.metrics == again.metrics
    assert again.config["transfer"] == whole.config["transfer"]


def test_resume_before_the_unfreeze_point_unfreezes_on_the_way(workspace, source) -> None:
    settings = {"init": source.id, "freeze": ["1"], "unfreeze_after": 2, "seed": 4}
    whole = workspace.fit(FOUR, epochs=4, **settings)
    part = workspace.fit(FOUR, epochs=1, **settings)
    resumed = workspace.resume(part.id, epochs=4)
    pd.testing.assert_frame_equal(whole.history, resumed.history, check_exact=True)


def test_resume_does_not_need_the_source_run_any_more(workspace, source) -> None:
    part = workspace.fit(FOUR, init=source.id, freeze="features", epochs=1)
    workspace.delete_run(source.id)
    assert workspace.resume(part.id, epochs=2).status == "finished"


def test_a_run_of_another_input_shape_is_refused_before_anything_is_written(
    workspace, source
) -> None:
    before = len(workspace.runs())
    with pytest.raises(lernwerk.SpecError, match=r"init: run .* shape 2; dataset .* has 3") as e:
        workspace.fit(
            "tabular:rows=200,features=3,informative=2,redundant=0", "mlp", init=source.id, epochs=1
        )
    assert e.value.where == "init"
    assert len(workspace.runs()) == before


@pytest.mark.parametrize(
    ("train", "message"),
    [
        ({"freeze": ["Conv2D"]}, r"freeze: 'Conv2D' names no layer; model 'bn-mlp' has layers"),
        ({"freeze": ["9"]}, "freeze: '9' names no layer"),
        ({"freeze": 9}, "freeze: 9 layers, but model 'bn-mlp' has only 5"),
        ({"freeze": ["3"]}, "freeze: the layers it names hold no weights"),
        ({"freeze": 5}, "freeze: it freezes every layer with weights"),
        ({"unfreeze_after": 2}, "unfreeze_after: nothing is frozen"),
        ({"init": "imagenet"}, "init: 'imagenet' starts from the ImageNet weights"),
    ],
)
def test_bad_transfer_settings_name_the_field(workspace, train, message) -> None:
    with pytest.raises(lernwerk.SpecError, match=message):
        workspace.fit(THREE, BN_MLP, epochs=1, **train)
    assert workspace.runs() == []


def test_an_unknown_run_is_not_found(workspace) -> None:
    with pytest.raises(lernwerk.NotFound, match="init: no run 'nope'") as e:
        workspace.fit(THREE, "mlp", init="nope")
    assert e.value.where == "init"


def test_a_model_is_needed_without_init(workspace) -> None:
    with pytest.raises(lernwerk.SpecError, match="model: give a model"):
        workspace.fit(THREE)


# -- the pretrained backbone -------------------------------------------------------------

PHOTOS = "photos:per_class=5,test_per_class=1,size=32"  # 7 scenes, 32x32 RGB


def test_the_backbone_starts_from_imagenet_and_stays_frozen(workspace) -> None:
    from lernwerk.models import build_network, load_preset

    run = workspace.fit(PHOTOS, init="efficientnet-lite0", freeze="features", epochs=1)
    assert run.config["model"]["name"] == "efficientnet-lite0"  # the model it implies
    assert run.config["transfer"] == {
        "init": "imagenet",
        "loaded_layers": ["1"],
        "frozen_layers": ["1"],
    }
    imagenet = build_network(load_preset("efficientnet-lite0"), (3, 32, 32), 7).state_dict()
    after = weights(run)
    backbone = layer(imagenet, 0)
    assert len(backbone) > 200
    assert same(backbone, layer(after, 0))  # weights and batch-norm statistics alike


def test_a_run_of_the_backbone_starts_another_with_a_new_head(workspace) -> None:
    first = workspace.fit(PHOTOS, "efficientnet-lite0", freeze="features", epochs=1)
    assert first.config["transfer"]["init"] == "imagenet"  # the preset's own weights
    fewer = "photos:per_class=5,test_per_class=1,size=32,seed=1"
    run = workspace.fit(fewer, init=first.id, freeze=1, unfreeze_after=1, epochs=2)
    assert run.config["transfer"]["loaded_layers"] == ["1", "4"]  # the same 7 scenes
    assert run.config["transfer"]["frozen_layers"] == ["1"]
    assert not same(layer(weights(first), 0), layer(weights(run), 0))  # unfrozen, trained


def test_a_network_that_starts_from_trained_weights_gets_fewer_default_epochs() -> None:
    from lernwerk.config import ModelSpec
    from lernwerk.models import load_preset
    from lernwerk.training.defaults import default_epochs
    from lernwerk.training.transfer import starts_pretrained

    assert starts_pretrained(load_preset("efficientnet-lite0"), None)
    assert starts_pretrained(load_preset("lenet"), "some-run")
    assert not starts_pretrained(load_preset("lenet"), None)
    random = ModelSpec.from_dict(
        {"layers": [{"EfficientNetLite0": {"weights": "none"}}, "GlobalAveragePooling2D"]}
    )
    assert not starts_pretrained(random, None)
    # 112 patches in batches of 16: 7 steps an epoch; from scratch 200 epochs, else 15
    assert default_epochs(112, 16) == 200
    assert default_epochs(112, 16, pretrained=True) == 15
    assert default_epochs(20_000, 64, pretrained=True) == 5
