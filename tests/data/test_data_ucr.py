"""The vendored UCR/UEA sets: each loads with its known shape and ships as package data."""

from importlib import resources

import numpy as np
import pytest

from lernwerk.data.builtin import load_dataset_ref
from lernwerk.data.sequences.series import to_array
from lernwerk.data.sequences.ucr import UCR_SETS, load_ucr
from lernwerk.errors import DataError, NotFound


@pytest.mark.parametrize("name", list(UCR_SETS))
def test_every_vendored_set_loads_with_its_known_shape(name):
    info = UCR_SETS[name]
    train, test = load_ucr(name)
    assert (len(train), len(test)) == (info["train_size"], info["test_size"])
    assert train.num_channels == test.num_channels == info["channels"]
    assert train.classes == test.classes == info["classes"]
    assert set(train.labels) == set(info["classes"])
    lengths = np.concatenate([train.lengths, test.lengths])
    assert (int(lengths.min()), int(lengths.max())) == info["lengths"]
    assert train.meta["problem_name"] == name and train.meta["ucr"] == name
    x, _ = to_array(train, "pad", length=info["lengths"][1])
    assert x.shape == (info["train_size"], info["channels"], info["lengths"][1])  # (N, C, T)
    assert np.isfinite(x).all()
    assert info["citation"] and info["description"]


def test_vendored_files_and_readme_ship_as_package_data():
    folder = resources.files("lernwerk.data.sequences").joinpath("ucr")
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    for name in UCR_SETS:
        assert name in readme
        for split in ("TRAIN", "TEST"):
            assert folder.joinpath(f"{name}_{split}.ts.gz").is_file()
    assert "BSD 3-Clause" in readme and "arXiv:1811.00075" in readme


def test_load_ucr_unknown_name_and_case():
    assert load_ucr("gunpoint")[0].meta["ucr"] == "GunPoint"
    with pytest.raises(NotFound, match="GunPoint, ItalyPowerDemand"):
        load_ucr("Coffee")


@pytest.mark.parametrize(
    ("ref", "shape", "n_test"),
    [
        ("gunpoint", (200, 1, 150), 150),
        ("italypowerdemand", (1096, 1, 24), 1029),
        ("basicmotions", (80, 6, 100), 40),
        ("japanesevowels", (640, 12, 29), 370),
        ("pickupgesturewiimotez:length=resample,steps=100", (100, 1, 100), 50),
    ],
)
def test_the_vendored_sets_are_builtins_with_their_official_test_split(ref, shape, n_test) -> None:
    ds = load_dataset_ref(ref)
    assert tuple(ds.x.shape) == shape and ds.kind == "sequences"
    assert ds.test_index is not None and len(ds.test_index) == n_test
    splits = ds.split(0.2, 0.2, 0)
    assert sorted(splits.test.tolist()) == sorted(ds.test_index.tolist())


def test_unequal_lengths_are_refused_when_asked_and_name_the_series() -> None:
    with pytest.raises(DataError, match=r"series 1 .*JapaneseVowels_TRAIN\.ts\.gz:17"):
        load_dataset_ref("japanesevowels:length=error")
