"""Data checks before training: what is wrong with a dataset, in plain language.

Each check looks at one thing (samples per class, imbalance, duplicates and leaks
between splits, constant or unscaled features, missing values, image sizes, series
lengths, the test split's size, an id as target) and reports a `Finding`: a code the
page translates, a severity, the numbers behind it, and English text saying what was
found, why it matters and what to do (or what lernwerk does about it).

A `blocker` stops training (`training/run.py` raises it as the run's error); warnings
and hints are stored with the run. The rules are the constants below. Checks run before
every training, so a large dataset is looked at through a seeded sample of it (the
report says how many samples were looked at).
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from lernwerk.data.check_hashes import exact_keys, perceptual_keys, thumbnails
from lernwerk.data.dataset import Dataset
from lernwerk.data.splits import Splits

Severity = Literal["blocker", "warning", "hint"]
SEVERITIES: tuple[Severity, ...] = ("blocker", "warning", "hint")

# --- the rules ---------------------------------------------------------------------------
MIN_TRAIN_PER_CLASS = 1  # blocker: a class without a sample in the training split
MIN_PER_CLASS = 20  # warning: fewer samples than this in a class, all splits together
MIN_REGRESSION = 50  # warning: fewer samples than this for a regression
SKEW_RATIO = 1.5  # hint: largest / smallest class from here (balanced sampling turns on)
IMBALANCE_WARN_RATIO = 10.0  # warning from here
DUPLICATE_WARN_SHARE = 0.01  # copies above this share of the samples are a warning
NEAR_MAD = 0.02  # look-alike images differ by less than this per pixel on average,
NEAR_SHARE = 0.1  # and by at most this share of how much the images vary in themselves
ALMOST_CONSTANT_SHARE = 0.99  # one value in at least this share of the rows
SCALE_RATIO = 100.0  # largest / smallest feature std: two orders of magnitude
MISSING_WARN_SHARE = 0.3  # a column missing in this share of rows is a warning
LENGTH_WARN_RATIO = 2.0  # longest / shortest series
MIN_TEST = 50  # warning: a classifier's test split smaller than this (and not empty)
Z95 = 1.959964  # the normal quantile of a two-sided 95 % interval
SAMPLE_LIMIT = 20_000  # samples looked at; larger sets are sampled (seeded)
TABLE_SAMPLE_LIMIT = 100_000  # rows of a table looked at
_CHUNK = 1024
_MAX_BUCKET = 256  # images compared with each other per shared band of the pHash
_ID_NAME = re.compile(r"(?i)^(id|nr|no|num|number|index|idx|key|row|rowid|row_id)$|[_ -]id$")


@dataclass(frozen=True)
class Finding:
    """One thing a check found: its code, severity, numbers and what it means.

    Args:
        code: Names the check; the page's text for it is under `check.<code>.*`.
        severity: "blocker" (training refuses), "warning" or "hint".
        numbers: The facts behind it, scalars or short strings (the page fills its text
            with them).
        message: What was found, in English, with the numbers.
        why: Why it matters, one sentence.
        action: What to do, or what lernwerk does about it.
    """

    code: str
    severity: Severity
    numbers: dict[str, Any]
    message: str
    why: str
    action: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "numbers": dict(self.numbers),
            "message": self.message,
            "why": self.why,
            "action": self.action,
        }

    def line(self) -> str:
        """The finding as one line: what, then what to do."""
        return f"{self.message}; {self.action}"


@dataclass
class CheckReport:
    """Every finding on a dataset, worst first, and how much of it was looked at."""

    dataset: str
    findings: list[Finding]
    num_samples: int
    samples_checked: int
    seconds: float
    splits: dict[str, int] = field(default_factory=dict)

    @property
    def blockers(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "blocker"]

    def to_dict(self) -> dict[str, Any]:
        counts = Counter(f.severity for f in self.findings)
        return {
            "dataset": self.dataset,
            "num_samples": self.num_samples,
            "samples_checked": self.samples_checked,
            "sampled": self.samples_checked < self.num_samples,
            "seconds": round(self.seconds, 3),
            "splits": dict(self.splits),
            "counts": {s: counts.get(s, 0) for s in SEVERITIES},
            "findings": [f.to_dict() for f in self.findings],
        }


def check_dataset(
    ds: Dataset,
    splits: Splits | None = None,
    *,
    task: str | None = None,
    val_split: float = 0.2,
    test_split: float = 0.2,
    split_seed: int = 0,
) -> CheckReport:
    """Run every check on `ds` with the splits a run would use.

    Args:
        ds: The dataset.
        splits: The run's splits; made from the split settings when None.
        task: The run's task (classification, regression, anomaly, forecasting); the
            dataset's own when None. Anomaly detection skips the per-class rules.
        val_split, test_split, split_seed: The split settings when `splits` is None.

    Raises:
        SpecError: The split settings are invalid.
    """
    start = time.perf_counter()
    task = task or ds.task
    if splits is None:
        splits = _splits(ds, val_split, test_split, split_seed)
    ctx = _Context(ds, splits, task)
    findings: list[Finding] = []
    for check in (
        _class_counts,
        _imbalance,
        _id_target,
        _duplicates,
        _constant_features,
        _feature_scales,
        _missing_values,
        _image_sizes,
        _series_lengths,
        _small_test,
    ):
        findings.extend(check(ctx))
    findings.sort(key=lambda f: SEVERITIES.index(f.severity))
    return CheckReport(
        dataset=ds.name,
        findings=findings,
        num_samples=len(ds),
        samples_checked=len(ctx.index),
        seconds=time.perf_counter() - start,
        splits=splits.sizes(),
    )


def _splits(ds: Dataset, val_split: float, test_split: float, seed: int) -> Splits:
    if len(ds) == 0:
        none = torch.zeros(0, dtype=torch.int64)
        return Splits(train=none, val=none, test=none)
    return ds.split(val_split, test_split, seed)


class _Context:
    """The dataset, its splits, and the (sampled) samples the checks look at."""

    def __init__(self, ds: Dataset, splits: Splits, task: str) -> None:
        self.ds, self.splits, self.task = ds, splits, task
        self.classify = task == "classification" and ds.task == "classification"
        n = len(ds)
        self.split_of = np.full(n, -1, dtype=np.int8)  # 0 train, 1 val, 2 test, -1 unused
        for code, idx in enumerate((splits.train, splits.val, splits.test)):
            self.split_of[idx.numpy()] = code
        limit = TABLE_SAMPLE_LIMIT if ds.kind == "table" else SAMPLE_LIMIT
        if n > limit:
            rng = np.random.default_rng(0)
            self.index = np.sort(rng.choice(n, size=limit, replace=False))
        else:
            self.index = np.arange(n)
        self._x: torch.Tensor | None = None

    @property
    def sampled(self) -> bool:
        return len(self.index) < len(self.ds)

    def x(self) -> torch.Tensor:
        """The looked-at samples, in memory."""
        if self._x is None:
            x = self.ds.x
            self._x = x[self.index] if self.sampled else x[:]
        return self._x

    def chunks(self) -> Any:
        """The looked-at samples, a chunk at a time (images read from disk stay small)."""
        on_disk = self.ds.on_disk
        x = self.ds.x if on_disk else self.x()  # in memory: gathered once, then sliced
        for start in range(0, len(self.index), _CHUNK):
            if on_disk and self.sampled:
                yield x[self.index[start : start + _CHUNK]]
            else:
                yield x[start : start + _CHUNK]


def _finding(
    code: str, severity: Severity, numbers: dict[str, Any], message: str, why: str, action: str
) -> Finding:
    return Finding(code, severity, numbers, message, why, action)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _are(n: int) -> str:
    return "is an exact copy" if n == 1 else "are exact copies"


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … (+{len(names) - limit})" if len(names) > limit else "")


# --- classes -----------------------------------------------------------------------------


def _class_counts(ctx: _Context) -> list[Finding]:
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


def _imbalance(ctx: _Context) -> list[Finding]:
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


def _id_target(ctx: _Context) -> list[Finding]:
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


# --- duplicates --------------------------------------------------------------------------


def _duplicates(ctx: _Context) -> list[Finding]:
    ds = ctx.ds
    if len(ctx.index) < 2 or ds.meta.get("forecast"):  # forecast windows overlap by design
        return []
    keys, near = [], []
    thumbs: list[np.ndarray] = []
    for chunk in ctx.chunks():
        keys.append(exact_keys(chunk))
        if ds.kind == "images":
            small = thumbnails(chunk)
            thumbs.append(small)
            near.append(perceptual_keys(small))
    exact = np.concatenate(keys)
    _, first, inverse = np.unique(exact, return_index=True, return_inverse=True)
    exact_copies = len(exact) - len(first)  # samples that repeat an earlier one
    groups = first[inverse]  # (n,) the first sample with the same values
    near_pairs = 0
    if ds.kind == "images":
        groups, near_pairs = _merge_near(groups, np.concatenate(near), np.concatenate(thumbs))
    out = []
    copies = exact_copies + near_pairs
    numbers_base = {"checked": len(ctx.index), "sampled": ctx.sampled}
    if exact_copies:
        share = exact_copies / len(exact)
        severity: Severity = "warning" if share >= DUPLICATE_WARN_SHARE else "hint"
        out.append(
            _finding(
                "duplicates",
                severity,
                {
                    **numbers_base,
                    "copies": exact_copies,
                    "n": exact_copies,
                    "share_pct": round(100 * share, 1),
                },
                f"{_count(exact_copies, 'sample')} {_are(exact_copies)} of another "
                f"({100 * share:.1f} % of {len(exact)}{' looked at' if ctx.sampled else ''})",
                "Copies weigh some samples more than others and, across splits, let the "
                "test score measure memory instead of learning.",
                "delete the copies (the dataset page's gallery) unless they are real repeats",
            )
        )
    if near_pairs:
        out.append(
            _finding(
                "near_duplicates",
                "hint",
                {**numbers_base, "copies": near_pairs, "n": near_pairs},
                f"{_count(near_pairs, 'image')} {'looks' if near_pairs == 1 else 'look'} "
                "almost the same as another one (a similar perceptual hash, and pixels that "
                "differ by a tenth of the image's own contrast or less)",
                "Near copies of one shot (bursts, re-saves) make the data look larger and "
                "more varied than it is.",
                "keep one of each, or keep them in the same split",
            )
        )
    out.extend(_conflicts(ctx, exact))
    out.extend(_leaks(ctx, groups, copies))
    return out


def _merge_near(
    groups: np.ndarray, phash: np.ndarray, thumbs: np.ndarray
) -> tuple[np.ndarray, int]:
    """Groups joined where images look alike, and how many images were joined so.

    Candidates share one of the pHash's four 16-bit bands (every pair within 3 bits of
    each other does); a candidate pair looks alike when its thumbnails differ by under
    NEAR_MAD per pixel on average and by at most NEAR_SHARE of their own spread (two
    patches of a clear sky differ little, but as much as they vary in themselves).
    """
    parent = groups.copy()  # a forest: each sample points at its group's first sample

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    flat = thumbs.reshape(len(thumbs), -1)  # (n, 1024)
    spread = flat.std(axis=1)  # (n,) how much each image varies in itself
    joined = 0
    for band in range(4):
        key = (phash >> np.uint64(16 * band)) & np.uint64(0xFFFF)
        order = np.argsort(key, kind="stable")
        for bucket in np.split(order, np.flatnonzero(np.diff(key[order])) + 1):
            bucket = bucket[:_MAX_BUCKET]
            for i in range(1, len(bucket)):
                mad = np.abs(flat[bucket[:i]] - flat[bucket[i]]).mean(axis=1)  # (i,)
                own = (spread[bucket[:i]] + spread[bucket[i]]) / 2  # (i,)
                for j in np.flatnonzero((mad < NEAR_MAD) & (mad <= NEAR_SHARE * own)):
                    a, b = root(int(bucket[i])), root(int(bucket[j]))
                    if a != b:
                        parent[max(a, b)] = min(a, b)
                        joined += 1
    return np.array([root(i) for i in range(len(parent))]), joined


def _conflicts(ctx: _Context, exact: np.ndarray) -> list[Finding]:
    if not ctx.classify:
        return []
    y = ctx.ds.y.numpy()[ctx.index]
    with np.errstate(over="ignore"):  # the key wraps around on purpose
        pair = exact * np.uint64(1_000_003) + y.astype(np.uint64)
    _, first = np.unique(pair, return_index=True)  # one sample per (copy, label)
    _, counts = np.unique(exact[first], return_counts=True)
    conflicting = int((counts > 1).sum())
    if not conflicting:
        return []
    return [
        _finding(
            "duplicate_conflicts",
            "warning",
            {"groups": conflicting, "n": conflicting},
            f"{_count(conflicting, 'sample')} {'appears' if conflicting == 1 else 'appear'} more "
            "than once with different labels",
            "The network is told two answers for one input; at most one can be right.",
            "look at these samples and relabel or delete the wrong copies",
        )
    ]


def _leaks(ctx: _Context, groups: np.ndarray, copies: int) -> list[Finding]:
    if not copies:
        return []
    split = ctx.split_of[ctx.index]
    train_groups = np.unique(groups[split == 0])
    in_train = np.isin(groups, train_groups)
    test_leaks = int(((split == 2) & in_train).sum())
    val_leaks = int(((split == 1) & in_train).sum())
    if not test_leaks and not val_leaks:
        return []
    n_test = int((split == 2).sum())
    return [
        _finding(
            "split_leak",
            "warning",
            {
                "test": test_leaks,
                "n_test": n_test,
                "val": val_leaks,
                "n_val": int((split == 1).sum()),
                "sampled": ctx.sampled,
            },
            f"{test_leaks} of {n_test} test samples and {val_leaks} of "
            f"{int((split == 1).sum())} validation samples have an (exact or look-alike) copy "
            "in the training split",
            "The model has seen these answers in training, so the test score is better "
            "than what it will do on new data.",
            "delete the copies, or keep each group of copies in one split",
        )
    ]


# --- features ----------------------------------------------------------------------------


def _numeric_features(ds: Dataset) -> list[int]:
    """Indices of table features that are numbers (not one-hot categories)."""
    encoding = ds.meta.get("table_encoding") or {}
    if not encoding:
        return list(range(ds.input_shape[0]))
    out, i = [], 0
    for column in encoding.get("columns", []):
        width = 1 if column["kind"] == "numeric" else len(column["categories"])
        if column["kind"] == "numeric":
            out.append(i)
        i += width
    return out


def _feature_view(ctx: _Context) -> tuple[np.ndarray, list[str]] | None:
    """(n, F) values per feature (tables) or per channel (sequences), and their names."""
    ds = ctx.ds
    if ds.kind == "table" and len(ctx.index):
        names = list(ds.feature_names) or [f"x{i}" for i in range(ds.input_shape[0])]
        return ctx.x().numpy(), names
    if ds.kind == "sequences" and len(ctx.index) and not ds.meta.get("forecast"):
        x = ctx.x().numpy()  # (n, C, T)
        channels = x.transpose(0, 2, 1).reshape(-1, x.shape[1])  # (n·T, C)
        names = list(ds.meta.get("channel_names") or []) or [
            f"channel {i}" for i in range(x.shape[1])
        ]
        return channels, names
    return None


def _constant_features(ctx: _Context) -> list[Finding]:
    view = _feature_view(ctx)
    if view is None or len(view[0]) < 2:
        return []
    values, names = view
    what = "features" if ctx.ds.kind == "table" else "channels"
    low, high = values.min(axis=0), values.max(axis=0)
    constant = [names[i] for i in np.flatnonzero(low == high)]
    out = []
    if constant:
        out.append(
            _finding(
                "constant_features",
                "warning",
                {
                    "names": _names(constant),
                    "count": len(constant),
                    "n": len(constant),
                    "what": what,
                },
                f"{len(constant)} {what[:-1] if len(constant) == 1 else what} "
                f"{'holds' if len(constant) == 1 else 'hold'} the same value in every sample: {_names(constant)}",
                "A value that never changes tells the classes apart no better than chance.",
                "drop them (drop=[...] when importing a table); lernwerk leaves them unscaled",
            )
        )
    if ctx.ds.kind != "table" or len(values) < 100:
        return out
    almost = []
    for i in _numeric_features(ctx.ds):
        if low[i] == high[i]:
            continue
        _, counts = np.unique(values[:, i], return_counts=True)
        if counts.max() >= ALMOST_CONSTANT_SHARE * len(values):
            almost.append(names[i])
    if almost:
        out.append(
            _finding(
                "almost_constant",
                "hint",
                {
                    "names": _names(almost),
                    "count": len(almost),
                    "n": len(almost),
                    "share_pct": round(100 * ALMOST_CONSTANT_SHARE),
                },
                f"{len(almost)} features hold one value in at least "
                f"{100 * ALMOST_CONSTANT_SHARE:.0f} % of the rows: {_names(almost)}",
                "A feature that almost never changes says little, and what it says rests on "
                "a few rows.",
                "keep them if the rare values matter (a fault code); else drop them",
            )
        )
    return out


def _feature_scales(ctx: _Context) -> list[Finding]:
    view = _feature_view(ctx)
    if view is None or len(view[0]) < 2:
        return []
    values, names = view
    columns = _numeric_features(ctx.ds) if ctx.ds.kind == "table" else range(values.shape[1])
    std = {names[i]: float(values[:, i].std()) for i in columns}
    std = {k: v for k, v in std.items() if v > 0}
    if len(std) < 2:
        return []
    big = max(std, key=std.__getitem__)
    small = min(std, key=std.__getitem__)
    ratio = std[big] / std[small]
    if ratio < SCALE_RATIO:
        return []
    what = "features" if ctx.ds.kind == "table" else "channels"
    per = "feature" if ctx.ds.kind == "table" else "channel"
    return [
        _finding(
            "feature_scales",
            "hint",
            {
                "largest": big,
                "largest_std": float(f"{std[big]:.3g}"),
                "smallest": small,
                "smallest_std": float(f"{std[small]:.3g}"),
                "ratio": float(f"{ratio:.3g}"),
                "what": what,
            },
            f"the {what} vary on very different scales: {big} by {std[big]:.3g}, {small} "
            f"by {std[small]:.3g} (standard deviations, {ratio:.3g}:1)",
            "Unscaled, the large feature would dominate the first layer and slow the "
            "training down.",
            f"nothing to do: lernwerk standardises each {per} (mean 0, std 1) with the "
            "training split's statistics, and the model keeps them for prediction",
        )
    ]


def _missing_values(ctx: _Context) -> list[Finding]:
    ds = ctx.ds
    facts = ds.meta.get("import_facts") or {}
    missing = {k: int(v) for k, v in (facts.get("missing") or {}).items() if int(v) > 0}
    if not missing:
        return []
    rows = int(facts.get("rows") or len(ds)) or 1
    encoding = ds.meta.get("table_encoding") or {}
    strategy = encoding.get("impute") or "none"
    worst = max(missing, key=missing.__getitem__)
    share = missing[worst] / rows
    cells = sum(missing.values())
    severity: Severity = "warning" if share >= MISSING_WARN_SHARE else "hint"
    return [
        _finding(
            "missing_values",
            severity,
            {
                "cells": cells,
                "columns": _names(sorted(missing)),
                "count": len(missing),
                "worst": worst,
                "worst_pct": round(100 * share, 1),
                "impute": strategy,
            },
            f"{cells} cells were empty in {len(missing)} columns ({_names(sorted(missing))}; "
            f"'{worst}' in {100 * share:.1f} % of the rows); they were filled by "
            f"impute={strategy} (the column's mean, median or most frequent value at import)",
            "A filled cell is a guess; a column that is mostly guesses teaches the network "
            "the guess.",
            "fill the gaps at the source where you can, or drop mostly empty columns; "
            "prediction fills gaps with the same values",
        )
    ]


# --- shapes before conversion ------------------------------------------------------------


def _image_sizes(ctx: _Context) -> list[Finding]:
    ds = ctx.ds
    sizes = (ds.meta.get("import_facts") or {}).get("image_sizes") or {}
    if ds.kind != "images" or len(sizes) < 2:
        return []
    fmt = ds.meta.get("image_format") or {}
    common = max(sizes, key=sizes.__getitem__)
    target = "×".join(str(s) for s in ds.input_shape[1:]) + f"×{ds.input_shape[0]}"
    return [
        _finding(
            "image_sizes",
            "hint",
            {
                "distinct": len(sizes),
                "common": common,
                "common_n": int(sizes[common]),
                "target": target,
                "resize": fmt.get("resize", "fit"),
            },
            f"the images came in {len(sizes)} different sizes or colour modes (most often "
            f"{common}, {sizes[common]} images); all were converted to {target} "
            f"(resize={fmt.get('resize', 'fit')})",
            "Images scaled by different factors show parts at different sizes, and a "
            "camera's colour mode can give a class away.",
            "take every class's images with the same camera and settings where you can",
        )
    ]


def _series_lengths(ctx: _Context) -> list[Finding]:
    ds = ctx.ds
    lengths = (ds.meta.get("import_facts") or {}).get("lengths") or {}
    if ds.kind != "sequences" or not lengths:
        return []
    shortest, longest = int(lengths["min"]), int(lengths["max"])
    if shortest == longest:
        return []
    ratio = longest / max(shortest, 1)
    policy = ds.meta.get("length_policy", "pad")
    severity: Severity = "warning" if ratio >= LENGTH_WARN_RATIO else "hint"
    return [
        _finding(
            "series_lengths",
            severity,
            {"min": shortest, "max": longest, "steps": ds.input_shape[-1], "policy": policy},
            f"the series are {shortest} to {longest} steps long; all were brought to "
            f"{ds.input_shape[-1]} steps (length={policy})",
            "Padded series end in a flat line whose length can give the class away; "
            "resampled ones run at different speeds.",
            "check that the length is not what tells the classes apart; try the other "
            "policy (length=pad or length=resample)",
        )
    ]


# --- the test split ----------------------------------------------------------------------


def wilson_interval(correct: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion `correct` measured on `n` samples."""
    if n <= 0:
        return 0.0, 1.0
    denom = 1 + z * z / n
    centre = (correct + z * z / (2 * n)) / denom
    half = z * math.sqrt(correct * (1 - correct) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _small_test(ctx: _Context) -> list[Finding]:
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
