"""The data checks about classes and the target: samples per class, imbalance, an id as
target, and whether the test split is large enough to say anything."""

from __future__ import annotations

import math
import re

import numpy as np
import torch

from lernwerk.data.check_context import CheckContext, Finding, Severity, _finding, _names

MIN_TRAIN_PER_CLASS = 1  # blocker: a class without a sample in the training split
MIN_PER_CLASS = 20  # warning: fewer samples than this in a class, all splits together
MIN_REGRESSION = 50  # warning: fewer samples than this for a regression
SKEW_RATIO = 1.5  # hint: largest / smallest class from here (balanced sampling turns on)
IMBALANCE_WARN_RATIO = 10.0  # warning from here
MIN_TEST = 50  # warning: a classifier's test split smaller than this (and not empty)
Z95 = 1.959964  # the normal quantile of a two-sided 95 % interval
_ID_NAME = re.compile(r"(?i)^(id|nr|no|num|number|index|idx|key|row|rowid|row_id)$|[_ -]id$")


# --- classes -----------------------------------------------------------------------------


def _class_counts(ctx: CheckContext) -> list[Finding]:
    ds = ctx.ds
    if not ctx.classify:
        if ds.task == "regression" and 0 < len(ds) < MIN_REGRESSION:
            return [
                _finding(
                    "few_samples",
                    "warning",
                    {"n": len(ds), "min": MIN_REGRESSION},
                    f"only {len(ds)} samples; the rule is at least {MIN_REGRESSION} for a "
                    "regression",
                    "A network fitted to so few values learns them by heart and predicts "
                    "new ones poorly.",
                    "collect more samples, or compare with a linear baseline (lernwerk baselines)",
                )
            ]
        return []
    k = ds.num_classes
    total = torch.bincount(ds.y, minlength=k).tolist()
    train = torch.bincount(ds.y[ctx.splits.train], minlength=k).tolist()
    out = []
    starved = [c for c, n in zip(ds.classes, train, strict=True) if n < MIN_TRAIN_PER_CLASS]
    if starved:
        in_all = sum(n for c, n in zip(ds.classes, total, strict=True) if c in starved)
        out.append(
            _finding(
                "class_too_small",
                "blocker",
                {
                    "classes": _names(starved),
                    "count": len(starved),
                    "n": len(starved),
                    "in_all": in_all,
                },
                f"{'class' if len(starved) == 1 else 'classes'} {_names(starved)} "
                f"{'has' if len(starved) == 1 else 'have'} no samples in the training split "
                f"({in_all} in all)",
                "The network cannot learn a class it never sees in training.",
                "add samples to it or delete the class",
            )
        )
    few = [
        c
        for c, n, m in zip(ds.classes, total, train, strict=True)
        if n < MIN_PER_CLASS and m >= MIN_TRAIN_PER_CLASS
    ]
    if few:
        smallest = min(n for c, n in zip(ds.classes, total, strict=True) if c in few)
        out.append(
            _finding(
                "few_per_class",
                "warning",
                {
                    "classes": _names(few),
                    "count": len(few),
                    "n": len(few),
                    "smallest": smallest,
                    "rule": MIN_PER_CLASS,
                },
                f"{len(few)} of {k} classes have fewer than {MIN_PER_CLASS} samples "
                f"({_names(few)}; the smallest has {smallest}); the rule is at least "
                f"{MIN_PER_CLASS} per class",
                "With so few examples a class is learned by heart, and its test score "
                "rests on a handful of samples.",
                "collect more samples of these classes, or start from a pretrained network "
                "(--init efficientnet-lite0 for images)",
            )
        )
    return out


def _imbalance(ctx: CheckContext) -> list[Finding]:
    if not ctx.classify or len(ctx.splits.train) == 0:
        return []
    ds = ctx.ds
    counts = torch.bincount(ds.y[ctx.splits.train], minlength=ds.num_classes)  # (K,)
    present = counts[counts > 0]
    if len(present) < 2:
        return []
    largest, smallest = int(present.max()), int(present.min())
    ratio = largest / smallest
    if ratio < SKEW_RATIO:
        return []
    big = ds.classes[int(counts.argmax())]
    small = ds.classes[int(torch.where(counts > 0, counts, counts.max() + 1).argmin())]
    severity: Severity = "warning" if ratio >= IMBALANCE_WARN_RATIO else "hint"
    return [
        _finding(
            "imbalance",
            severity,
            {
                "ratio": round(ratio, 1),
                "largest": big,
                "largest_n": largest,
                "smallest": small,
                "smallest_n": smallest,
                "rule": SKEW_RATIO,
                "warn": IMBALANCE_WARN_RATIO,
            },
            f"the training split holds {largest} samples of '{big}' but only {smallest} of "
            f"'{small}' ({ratio:.1f}:1)",
            "A network trained on skewed classes favours the large ones, and accuracy hides it.",
            f"lernwerk draws class-balanced batches from {SKEW_RATIO}:1 on (balanced "
            "sampling); turn it off with --no-balanced (balanced_sampling=False); judge the "
            "run by the per-class recall",
        )
    ]


def _id_target(ctx: CheckContext) -> list[Finding]:
    ds = ctx.ds
    target = str(ds.meta.get("target") or "")
    n = len(ds)
    if n < 3:
        return []
    y = ds.y
    row_number = False
    if ds.task == "regression" and y.dim() == 1:
        values = y.double().numpy()
        steps = np.diff(values)
        row_number = bool(np.all(values == np.round(values)) and np.all(steps == steps[0]))
        row_number = row_number and abs(float(steps[0])) == 1.0
    elif ds.task == "classification":
        row_number = ds.num_classes == n  # every row its own class
    if row_number:
        return [
            _finding(
                "id_target",
                "blocker",
                {"target": target or "y", "n": n},
                f"the target {target or 'y'} is different in every one of the {n} rows, "
                "counting up like a row number",
                "An id or row number carries nothing a network could learn to predict.",
                "choose the column you want predicted as the target (--target) and drop the "
                "id column",
            )
        ]
    if target and _ID_NAME.search(target):
        return [
            _finding(
                "id_name_target",
                "warning",
                {"target": target},
                f"the target column is named '{target}', like an id",
                "An id carries nothing a network could learn to predict.",
                "check that it is the column you want predicted; else pick another with --target",
            )
        ]
    return []


# --- the test split ----------------------------------------------------------------------


def wilson_interval(correct: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion `correct` measured on `n` samples."""
    if n <= 0:
        return 0.0, 1.0
    denom = 1 + z * z / n
    centre = (correct + z * z / (2 * n)) / denom
    half = z * math.sqrt(correct * (1 - correct) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _small_test(ctx: CheckContext) -> list[Finding]:
    n = len(ctx.splits.test)
    if not ctx.classify or n == 0 or n >= MIN_TEST:  # an accuracy's interval: classes only
        return []
    low, high = wilson_interval(0.9, n)
    return [
        _finding(
            "small_test",
            "warning",
            {
                "n": n,
                "rule": MIN_TEST,
                "low_pct": round(100 * low, 1),
                "high_pct": round(100 * high, 1),
                "width_pct": round(100 * (high - low), 1),
            },
            f"the test split holds {n} samples: a measured accuracy of 90 % means anything "
            f"from {100 * low:.1f} % to {100 * high:.1f} % (95 % Wilson interval, "
            f"{100 * (high - low):.1f} points wide)",
            "A score measured on so few samples moves a lot by chance; two runs cannot be "
            "told apart by it.",
            f"give the test split at least {MIN_TEST} samples (--test-split), or collect more data",
        )
    ]
