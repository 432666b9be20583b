"""The data checks about samples and features: exact and look-alike duplicates, leaks
between splits, constant and unscaled features, missing values, and the image sizes and
series lengths before conversion."""

from __future__ import annotations

import numpy as np

from lernwerk.data.check_context import (
    CheckContext,
    Finding,
    Severity,
    _are,
    _count,
    _finding,
    _names,
)
from lernwerk.data.check_hashes import exact_keys, perceptual_keys, thumbnails
from lernwerk.data.dataset import Dataset

DUPLICATE_WARN_SHARE = 0.01  # copies above this share of the samples are a warning
NEAR_MAD = 0.02  # look-alike images differ by less than this per pixel on average,
NEAR_SHARE = 0.1  # and by at most this share of how much the images vary in themselves
ALMOST_CONSTANT_SHARE = 0.99  # one value in at least this share of the rows
SCALE_RATIO = 100.0  # largest / smallest feature std: two orders of magnitude
MISSING_WARN_SHARE = 0.3  # a column missing in this share of rows is a warning
LENGTH_WARN_RATIO = 2.0  # longest / shortest series
_MAX_BUCKET = 256  # images compared with each other per shared band of the pHash


# --- duplicates --------------------------------------------------------------------------


def _duplicates(ctx: CheckContext) -> list[Finding]:
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


def _conflicts(ctx: CheckContext, exact: np.ndarray) -> list[Finding]:
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


def _leaks(ctx: CheckContext, groups: np.ndarray, copies: int) -> list[Finding]:
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


def _feature_view(ctx: CheckContext) -> tuple[np.ndarray, list[str]] | None:
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


def _constant_features(ctx: CheckContext) -> list[Finding]:
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


def _feature_scales(ctx: CheckContext) -> list[Finding]:
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


def _missing_values(ctx: CheckContext) -> list[Finding]:
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


def _image_sizes(ctx: CheckContext) -> list[Finding]:
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


def _series_lengths(ctx: CheckContext) -> list[Finding]:
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
