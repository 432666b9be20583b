"""The augmentation preview the train page shows: training's own augmentation, a new
picture for each setting, and a built-in drawn once for a series of previews."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from lernwerk import Workspace
from lernwerk.api import dataset_views
from lernwerk.errors import NotFound


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def test_each_setting_gives_its_own_preview_and_a_builtin_is_drawn_once(tmp_path) -> None:
    ws = Workspace(tmp_path / "ws")
    dataset_views._builtin_for_preview.cache_clear()
    mild = ws.preview_dataset("digits", augment={"rotation_deg": 5}, per_class=4)
    strong = ws.preview_dataset("digits", augment={"rotation_deg": 90}, per_class=4)
    again = ws.preview_dataset("digits", augment={"rotation_deg": 90}, per_class=4)
    other_seed = ws.preview_dataset("digits", augment={"rotation_deg": 90}, per_class=4, seed=1)
    assert dataset_views._builtin_for_preview.cache_info().hits == 3  # drawn once
    assert again == strong  # the same setting and seed: the same picture
    assert len({mild, strong, other_seed}) == 3
    a, b = pixels(mild), pixels(strong)
    assert a.shape == b.shape and (a != b).any()


def test_an_unknown_dataset_is_named_in_the_error(tmp_path) -> None:
    with pytest.raises(NotFound, match="dataset 'nosuch' not found"):
        Workspace(tmp_path / "ws").preview_dataset("nosuch", augment={"zoom": 0.1})
