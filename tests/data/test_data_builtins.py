"""Built-in datasets: references, parameters, determinism and geometry."""

import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from lernwerk.data import BUILTINS, list_builtins, load_builtin, load_dataset_ref, parse_dataset_ref
from lernwerk.errors import NotFound, SpecError

TOYS = ["xor", "circles", "spiral", "moons", "blobs"]


def test_parse_dataset_ref():
    assert parse_dataset_ref("xor") == ("xor", {})
    assert parse_dataset_ref(" tabular:rows=50000, features=20 ") == (
        "tabular",
        {"rows": "50000", "features": "20"},
    )


@pytest.mark.parametrize("ref", ["xor:", "xor:noise", "xor:noise=", "xor:=1", "9x", "xor:a=1,a=2"])
def test_bad_refs_are_spec_errors_naming_the_ref(ref):
    with pytest.raises(SpecError) as info:
        parse_dataset_ref(ref)
    assert str(info.value).startswith(f"dataset ref {ref!r}: ")


def test_list_builtins_shows_params_with_defaults():
    listing = {b["name"]: b for b in list_builtins()}
    assert set(listing) == set(BUILTINS) >= {*TOYS, "tabular", "digits"}
    rows = next(p for p in listing["tabular"]["params"] if p["name"] == "rows")
    assert rows == {
        "name": "rows",
        "type": "int",
        "default": 50_000,
        "min": 100,
        "max": 2_000_000,
        "description": "Number of samples.",
    }
    assert listing["digits"]["params"] == []


def test_unknown_dataset_lists_the_available_ones():
    with pytest.raises(
        NotFound, match="did you mean 'xor'.*expected one of basicmotions, blobs, circles"
    ):
        load_builtin("xorr")


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (
            "tabular:rowz=5",
            "dataset 'tabular': unknown parameter 'rowz'; expected one of rows, features, ",
        ),
        ("xor:noise=3", "dataset 'xor': noise must be between 0 and 1; received: 3"),
        ("xor:samples=abc", "dataset 'xor': samples must be a whole number; received: abc"),
        ("xor:samples=5", "dataset 'xor': samples must be between 10 and 100000; received: 5"),
        ("digits:seed=1", "dataset 'digits': unknown parameter 'seed'; this dataset takes no"),
        (
            "tabular:features=12",
            "dataset 'tabular': informative + redundant must be at most features (12); "
            "received: 10 + 5",
        ),
        ("tabular:classes=20,informative=3", "20 classes need informative >= 6; received: 3"),
    ],
)
def test_param_errors_say_what_and_what_was_received(ref, message):
    with pytest.raises(SpecError) as info:
        load_dataset_ref(ref)
    assert message in str(info.value)


def test_strings_are_coerced_and_the_name_is_canonical():
    data = load_dataset_ref("xor:seed=0,samples=200,noise=0.1")
    assert data.name == "xor:noise=0.1,samples=200"
    assert data.source == {"builtin": "xor", "params": {"samples": 200, "noise": 0.1, "seed": 0}}
    assert len(data) == 200
    assert load_dataset_ref(data.name).content_hash == data.content_hash


@pytest.mark.parametrize("name", TOYS)
def test_toys_are_deterministic_two_dimensional_and_balanced(name):
    a = load_builtin(name, samples=300, noise=0.05, seed=4)
    b = load_builtin(name, samples=300, noise=0.05, seed=4)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert a.content_hash == b.content_hash
    assert load_builtin(name, samples=300, noise=0.05, seed=5).content_hash != a.content_hash
    assert load_builtin(name, samples=300, noise=0.1, seed=4).content_hash != a.content_hash
    assert a.kind == "table" and a.x.shape == (300, 2) and a.feature_names == ["x1", "x2"]
    assert a.x.abs().max() < 8
    counts = torch.bincount(a.y, minlength=a.num_classes)
    assert counts.min() >= 300 // a.num_classes // 2


def _accuracy(model, data) -> float:
    splits = data.split(val_fraction=0.0, test_fraction=0.3, seed=0)
    x_train, y_train = data.subset(splits.train)
    x_test, y_test = data.subset(splits.test)
    return model.fit(x_train.numpy(), y_train.numpy()).score(x_test.numpy(), y_test.numpy())


def test_xor_is_not_linearly_separable():
    data = load_builtin("xor", samples=2000)
    assert _accuracy(LogisticRegression(), data) < 0.65


@pytest.mark.parametrize("name", TOYS)
def test_clean_toys_are_learnable(name):
    data = load_builtin(name, samples=1000)
    assert _accuracy(KNeighborsClassifier(n_neighbors=5), data) > 0.95


def test_blobs_make_one_class_per_center():
    data = load_builtin("blobs", centers=5)
    assert data.classes == ["0", "1", "2", "3", "4"]


def test_tabular_shape_names_and_labels():
    data = load_dataset_ref("tabular:rows=2000,features=12,classes=3,redundant=2")
    assert data.x.shape == (2000, 12) and data.x.dtype == torch.float32
    assert data.feature_names == [f"f{i}" for i in range(1, 13)]
    assert data.classes == ["0", "1", "2"]
    assert set(data.y.tolist()) == {0, 1, 2}


def test_tabular_lecture_size():
    data = load_dataset_ref("tabular:rows=500000,features=30")
    assert data.name == "tabular:features=30,rows=500000"
    assert data.x.shape == (500_000, 30) and data.x.dtype == torch.float32
    assert data.split().sizes() == {"train": 300_000, "val": 100_000, "test": 100_000}


def test_digits():
    data = load_builtin("digits")
    assert data.kind == "images"
    assert data.x.shape == (1797, 1, 8, 8) and data.input_shape == (1, 8, 8)
    assert float(data.x.min()) == 0.0 and float(data.x.max()) == 1.0
    assert data.classes == [str(d) for d in range(10)]
    assert data.test_index is None
