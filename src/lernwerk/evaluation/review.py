"""Which predictions a person should re-check: the review threshold of a classifier.

At the end of training the threshold is chosen on the validation split as the lowest top
probability below which the model's validation errors are caught at `CATCH_RATE` (90 %
of them); `lernwerk inspect` flags every input whose top probability lies below it. The
test split says how well that choice holds on samples it was not chosen on. Plain numpy:
the inspect path (and its ONNX route) loads no PyTorch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

CATCH_RATE = 0.9  # the share of validation errors the stored threshold aims to flag
DEFAULT_REVIEW_BELOW = 0.9  # for a run that stored no threshold (older, or no val errors)


def review_threshold(
    y_true: np.ndarray, proba: np.ndarray, catch_rate: float = CATCH_RATE
) -> float | None:
    """The lowest top probability t such that flagging `confidence < t` catches at least
    `catch_rate` of the errors among (y_true, proba); rounded up to 4 decimals, at most 1.
    None when there are no errors to catch."""
    confidence, predicted = _top(proba)  # (N,), (N,)
    wrong = np.sort(confidence[predicted != np.asarray(y_true).reshape(-1)])  # ascending
    if len(wrong) == 0:
        return None
    needed = math.ceil(catch_rate * len(wrong))  # errors to catch: the `needed` least sure
    edge = float(wrong[needed - 1])
    return min(math.floor(edge * 1e4) / 1e4 + 1e-4, 1.0)  # strictly above that error


def caught(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, int | float]:
    """How a threshold does on labelled samples: errors, errors flagged, samples flagged."""
    confidence, predicted = _top(proba)
    wrong = predicted != np.asarray(y_true).reshape(-1)
    flagged = confidence < threshold
    return {
        "samples": int(len(confidence)),
        "errors": int(wrong.sum()),
        "errors_flagged": int((wrong & flagged).sum()),
        "flagged": int(flagged.sum()),
    }


def review_meta(
    val: tuple[np.ndarray, np.ndarray] | None,
    test: tuple[np.ndarray, np.ndarray] | None,
    catch_rate: float = CATCH_RATE,
) -> dict[str, Any]:
    """What a run stores for `inspect`: the threshold chosen on validation (labels,
    probabilities), how it does there and on the test split; `threshold` is None (the
    default applies) when validation is empty or holds no error."""
    threshold = review_threshold(*val, catch_rate) if val is not None and len(val[0]) else None
    meta: dict[str, Any] = {"threshold": threshold, "catch_rate": catch_rate}
    if threshold is None:
        meta["reason"] = (
            "no validation split" if val is None or not len(val[0]) else "no validation errors"
        )
        return meta
    for name, part in (("val", val), ("test", test)):
        if part is not None and len(part[0]):
            meta[name] = caught(*part, threshold)
    return meta


def _top(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    proba = np.asarray(proba, dtype=np.float64)  # (N, C)
    return proba.max(axis=1), proba.argmax(axis=1)
