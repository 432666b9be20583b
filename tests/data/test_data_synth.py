"""Procedural built-ins: smileys, solder joints and press-fit curves."""

import pytest
import torch

from lernwerk.data import load_builtin, load_dataset_ref
from lernwerk.data.builtin import BUILTINS
from lernwerk.errors import SpecError

# name, small params, sample shape, classes
SETS = [
    ("smileys", {"per_class": 6}, (1, 28, 28), ["smile", "sad", "neutral", "upside-down"]),
    (
        "solder",
        {"per_class": 5},
        (3, 64, 64),
        ["good", "bridge", "insufficient", "excess", "missing"],
    ),
    (
        "process",
        {"per_class": 6},
        (1, 256),
        ["ok", "late_peak", "no_plateau", "noise_burst", "drift"],
    ),
]


@pytest.mark.parametrize(("name", "params", "shape", "classes"), SETS)
def test_shapes_dtypes_and_balanced_classes(name, params, shape, classes):
    data = load_builtin(name, **params)
    per_class = params["per_class"]
    assert data.kind == BUILTINS[name].kind
    assert data.task == "classification"
    assert data.x.shape == (per_class * len(classes), *shape)
    assert data.x.dtype == torch.float32 and data.y.dtype == torch.int64
    assert torch.isfinite(data.x).all()
    assert data.classes == classes
    assert torch.bincount(data.y, minlength=len(classes)).tolist() == [per_class] * len(classes)
    assert data.y[: len(classes)].tolist() != list(range(len(classes)))  # shuffled, not in blocks


@pytest.mark.parametrize(("name", "params"), [(s[0], s[1]) for s in SETS])
def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(name, params):
    first = load_builtin(name, **params, seed=3)
    again = load_builtin(name, **params, seed=3)
    other = load_builtin(name, **params, seed=4)
    assert torch.equal(first.x, again.x) and torch.equal(first.y, again.y)
    assert first.content_hash == again.content_hash
    assert not torch.equal(first.x, other.x)


@pytest.mark.parametrize("name", ["smileys", "solder"])
def test_images_lie_in_the_unit_range(name):
    x = load_builtin(name, per_class=5).x
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0


def test_smileys_are_light_strokes_on_a_dark_canvas():
    # 1000 drawings, more than one rendering chunk.
    x = load_builtin("smileys", per_class=250).x  # (N, 1, 28, 28)
    ink = x.flatten(1)
    assert (ink.max(dim=1).values > 0.7).all()  # every face is drawn
    assert (ink.mean(dim=1) < 0.6).all()  # mostly background
    assert (ink > 0.05).float().mean(dim=1).min() > 0.1  # a face, not a speck


def test_process_channels_add_signals_and_keep_the_force():
    one = load_builtin("process", per_class=5)
    four = load_builtin("process", per_class=5, channels=4, length=300)
    assert four.x.shape == (25, 4, 300)
    same = load_builtin("process", per_class=5, channels=3)
    assert torch.equal(same.x[:, :1], one.x)
    assert torch.equal(same.y, one.y)


def test_process_quality_is_a_regression_on_float_targets():
    data = load_dataset_ref("process:per_class=5,target=quality")
    assert data.task == "regression"
    assert data.classes == []
    assert data.y.dtype == torch.float32 and data.y.shape == (25,)
    assert (data.y > 0).all() and data.y.std() > 0
    assert data.name == "process:per_class=5,target=quality"
    assert load_dataset_ref(data.name).content_hash == data.content_hash  # the name parses back


def test_process_describes_its_target_choices():
    described = BUILTINS["process"].describe()
    assert described["task"] == "classification"
    target = next(p for p in described["params"] if p["name"] == "target")
    assert target["type"] == "str"
    assert target["default"] == "class"
    assert target["choices"] == ["class", "quality"]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("smileys:per_class=4", "per_class must be between 5 and 20000; received: 4"),
        ("solder:per_class=2001", "per_class must be between 5 and 2000; received: 2001"),
        ("process:length=199", "length must be between 200 and 500; received: 199"),
        ("process:channels=5", "channels must be between 1 and 4; received: 5"),
        ("process:target=grade", "target: Input should be 'class' or 'quality'; received: grade"),
        ("smileys:size=32", "unknown parameter 'size'; expected one of per_class, seed"),
    ],
)
def test_bad_params_are_spec_errors(ref, message):
    with pytest.raises(SpecError) as info:
        load_dataset_ref(ref)
    assert message in str(info.value)


def test_photos_are_patches_of_real_photographs_with_a_test_split_never_trained_on():
    from lernwerk.data.synth import photos

    data = load_builtin("photos", per_class=6, test_per_class=3, size=40)
    classes = photos.CLASSES
    assert data.classes == classes and data.x.shape == (9 * len(classes), 3, 40, 40)
    assert float(data.x.min()) >= 0.0 and float(data.x.max()) <= 1.0
    test = data.test_index
    assert len(test) == 3 * len(classes)
    assert torch.bincount(data.y[test], minlength=len(classes)).tolist() == [3] * len(classes)
    again = load_builtin("photos", per_class=6, test_per_class=3, size=40)
    assert torch.equal(again.x, data.x) and torch.equal(again.test_index, test)
    # the parts a test patch comes from lie right of every training part of its box
    for boxes in photos.REGIONS.values():
        for _, box in boxes:
            train, held = photos._part(box, False), photos._part(box, True)
            assert train[2] <= held[0] and min(held[2] - held[0], held[3] - held[1]) >= 32
    # sky is bright and blue-ish, leaves dark: real content, not noise
    sky = data.x[data.y == classes.index("sky")].mean()
    leaves = data.x[data.y == classes.index("leaves")].mean()
    assert sky > 0.7 > 0.3 > leaves
