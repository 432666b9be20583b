"""Dataset validation, content hash, splits and summary."""

import json
import math

import pytest
import torch

from lernwerk.data import Dataset
from lernwerk.errors import DataError


def _table(**overrides) -> Dataset:
    fields = {
        "name": "tiny",
        "kind": "table",
        "task": "classification",
        "x": torch.arange(20, dtype=torch.float32).reshape(10, 2),  # (N, F)
        "y": torch.tensor([0, 1] * 5),
        "classes": ["a", "b"],
        "feature_names": ["x1", "x2"],
        "source": {"test": True},
    }
    return Dataset(**(fields | overrides))


def test_properties_and_info_are_json_able():
    data = _table()
    assert len(data) == 10
    assert data.input_shape == (2,)
    assert data.num_classes == 2
    info = data.info()
    json.dumps(info)
    assert info["class_counts"] == {"a": 5, "b": 5}
    assert info["num_samples"] == 10
    assert info["content_hash"].startswith("sha256:")
    x, y = data.subset(torch.tensor([1, 3]))
    assert torch.equal(x, data.x[[1, 3]]) and torch.equal(y, torch.tensor([1, 1]))


def test_content_hash_is_stable_and_sensitive():
    base = _table().content_hash
    assert _table().content_hash == base
    x = _table().x.clone()
    x[3, 1] += 1e-3
    assert _table(x=x).content_hash != base
    assert _table(y=torch.tensor([1, 0] * 5)).content_hash != base
    assert _table(classes=["b", "a"]).content_hash != base
    assert _table(test_index=torch.tensor([0, 1])).content_hash != base
    assert (
        _table(x=_table().x.reshape(10, 2, 1), kind="sequences", feature_names=[]).content_hash
        != base
    )


def test_nan_names_the_first_bad_row():
    x = _table().x.clone()
    x[6, 0] = math.nan
    x[8, 1] = math.inf
    with pytest.raises(DataError, match="row 6: x contains NaN or infinite values"):
        _table(x=x)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"x": torch.zeros(10, 2, dtype=torch.float64)},
            "x must be float32; received: torch.float64",
        ),
        ({"y": torch.tensor([0, 1] * 4)}, r"y must be shaped \(10,\) to match x"),
        ({"y": torch.tensor([0, 1] * 4 + [0, 2])}, "row 9: class index 2 is outside 0..1"),
        ({"y": torch.tensor([0, 1] * 5, dtype=torch.int32)}, "class labels y must be int64"),
        ({"kind": "images"}, r"images samples must be shaped \(N, C, H, W\)"),
        ({"feature_names": ["x1"]}, "1 feature names for 2 features"),
        ({"test_index": torch.tensor([0, 10])}, r"test_index must lie in \[0, 10\)"),
    ],
)
def test_invalid_datasets_are_data_errors(overrides, message):
    with pytest.raises(DataError, match=message):
        _table(**overrides)


def test_images_must_be_scaled_to_unit_range():
    x = torch.rand(4, 1, 3, 3)
    x[2, 0, 1, 1] = 255.0
    with pytest.raises(DataError, match=r"row 2: image pixel values must lie in \[0, 1\]"):
        Dataset(
            "img", "images", "classification", x, torch.zeros(4, dtype=torch.int64), ["a"], [], {}
        )


def test_regression_dataset():
    data = _table(task="regression", y=torch.linspace(0, 1, 10), classes=[])
    assert data.num_classes == 0
    assert data.info()["class_counts"] == {}
    assert sum(data.split(0.2, 0.2).sizes().values()) == 10


def test_split_uses_the_fixed_test_index():
    data = _table(test_index=torch.tensor([8, 9]))
    splits = data.split(val_fraction=0.2, seed=0)
    assert splits.test.tolist() == [8, 9]
    assert len(splits.val) == 2 and len(splits.train) == 6


def test_repr_gives_the_facts_not_the_tensors() -> None:
    from lernwerk.data.builtin import load_builtin

    text = repr(load_builtin("xor"))
    assert (
        text
        == "Dataset('xor', table, classification, 500 samples of 2, classes=['negative', 'positive'])"
    )
