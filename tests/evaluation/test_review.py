"""The review threshold: chosen on validation to catch 90 % of the errors, stored with a
classifier at the end of training, with how it does on the test split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lernwerk import Workspace
from lernwerk.evaluation.review import caught, review_meta, review_threshold


def proba_of(top: list[float], predicted: list[int]) -> np.ndarray:
    """(N, 2) probabilities with the given top probability at the given class."""
    out = np.empty((len(top), 2))
    for i, (p, k) in enumerate(zip(top, predicted, strict=True)):
        out[i, k], out[i, 1 - k] = p, 1 - p
    return out


def test_the_threshold_lies_just_above_the_error_that_reaches_the_rate() -> None:
    # ten errors at 0.51 … 0.96, ten right answers at 0.99
    tops = [0.51 + 0.05 * i for i in range(10)] + [0.99] * 10
    y = np.array([1] * 10 + [0] * 10)
    proba = proba_of(tops, [0] * 20)
    threshold = review_threshold(y, proba, 0.9)
    assert threshold == pytest.approx(0.9101)  # the 9th least sure error is at 0.91
    assert caught(y, proba, threshold) == {
        "samples": 20,
        "errors": 10,
        "errors_flagged": 9,
        "flagged": 9,
    }
    assert review_threshold(y, proba, 1.0) == pytest.approx(0.9601)
    assert review_threshold(y, proba, 0.1) == pytest.approx(0.5101)


def test_no_errors_or_no_validation_give_no_threshold() -> None:
    y = np.array([0, 1])
    right = proba_of([0.8, 0.7], [0, 1])
    assert review_threshold(y, right) is None
    assert review_meta((y, right), None) == {
        "threshold": None,
        "catch_rate": 0.9,
        "reason": "no validation errors",
    }
    assert review_meta(None, None)["reason"] == "no validation split"


def test_a_threshold_never_exceeds_one() -> None:
    y = np.array([1])
    assert review_threshold(y, proba_of([1.0], [0])) == 1.0


def test_training_stores_it_as_its_splits_say(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    run = ws.fit("smileys:per_class=10", "mlp", epochs=1, seed=0)
    review = json.loads((run.dir / "model.json").read_text())["review"]
    ds = ws.load_dataset(run.record.dataset)
    train = run.config["train"]
    splits = ds.split(train["val_split"], train["test_split"], train["split_seed"])
    for name in ("val", "test"):
        x, y = ds.subset(getattr(splits, name))
        proba = run.predict(x)
        if name == "val":
            assert review["threshold"] == review_threshold(y.numpy(), proba)
        assert review[name] == caught(y.numpy(), proba, review["threshold"])
    assert review["val"]["errors_flagged"] >= 0.9 * review["val"]["errors"]


def test_regression_runs_store_none(tmp_path: Path, regression_dataset) -> None:
    run = Workspace(tmp_path / "ws").fit(regression_dataset, "mlp", epochs=1, seed=0)
    assert "review" not in json.loads((run.dir / "model.json").read_text())
