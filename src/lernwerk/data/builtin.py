"""Built-in datasets made: the generators behind the registry's entries, and loading by name.

What built-ins there are (names, descriptions, parameters) is `lernwerk.data.registry`,
which loads no generator; this module draws the arrays (all generated or shipped with
scikit-learn, none downloaded) and wraps them as a `Dataset`. The registry's names are
re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import torch

from lernwerk.data.dataset import Dataset, Task
from lernwerk.data.registry import (
    BUILTINS,
    Builtin,
    canonical_ref,
    find_builtin,
    list_builtins,
    parse_dataset_ref,
    resolve_params,
)
from lernwerk.data.sequences import forecasting
from lernwerk.data.sequences.ucr import load_ucr
from lernwerk.data.synth import photos, process, smileys, solder

__all__ = [
    "BUILTINS",
    "GENERATORS",
    "Builtin",
    "list_builtins",
    "load_builtin",
    "load_dataset_ref",
    "parse_dataset_ref",
]

_RADIUS = 5.0  # the 2D sets fill about [-5, 5]^2, as in the TensorFlow Playground
_TWO_CLASSES = ["negative", "positive"]


class _Generated(NamedTuple):
    x: np.ndarray  # (N, ...) float32
    y: np.ndarray  # (N,) int64
    classes: list[str]
    feature_names: list[str]
    test_index: np.ndarray | None = None
    task: Task | None = None  # overrides the built-in's task, e.g. process:target=quality
    meta: dict[str, Any] | None = None  # kind-specific facts, e.g. forecast window and horizon


# --- generators ------------------------------------------------------------------


def _toy(
    points: np.ndarray, y: np.ndarray, noise: float, rng: np.random.Generator, classes: list[str]
) -> _Generated:
    """Jitter and shuffle 2D points; the jitter is drawn even at noise 0 so that noise
    changes the positions only, not which points are drawn or their order."""
    points = points + rng.standard_normal(points.shape) * (noise * _RADIUS)  # (N, 2)
    order = rng.permutation(len(points))
    return _Generated(
        x=points[order].astype(np.float32),
        y=y[order].astype(np.int64),
        classes=classes,
        feature_names=["x1", "x2"],
    )


def _polar(r: np.ndarray, angle: np.ndarray) -> np.ndarray:
    return np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)  # (N, 2)


def _xor(p: Any) -> _Generated:
    # Playground: uniform in [-5, 5]^2, pushed 0.3 away from both axes; label by quadrant.
    # The four quadrants get equal shares of the points (as equal as N allows), so no
    # chance surplus in one corner lets a linear model beat a coin flip by luck.
    rng = np.random.default_rng(p.seed)
    magnitudes = rng.uniform(0, _RADIUS, size=(p.samples, 2))  # (N, 2)
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]])[np.arange(p.samples) % 4]  # (N, 2)
    points = signs * (magnitudes + 0.3)
    y = points[:, 0] * points[:, 1] >= 0
    return _toy(points, y, p.noise, rng, _TWO_CLASSES)


def _circles(p: Any) -> _Generated:
    # Playground: positive disc r in [0, 2.5], negative ring r in [3.5, 5].
    rng = np.random.default_rng(p.seed)
    n_inner = (p.samples + 1) // 2
    n_outer = p.samples - n_inner
    r = np.concatenate(
        [rng.uniform(0, 0.5 * _RADIUS, n_inner), rng.uniform(0.7 * _RADIUS, _RADIUS, n_outer)]
    )
    angle = rng.uniform(0, 2 * np.pi, p.samples)
    y = np.concatenate([np.ones(n_inner), np.zeros(n_outer)])
    return _toy(_polar(r, angle), y, p.noise, rng, _TWO_CLASSES)


def _spiral(p: Any) -> _Generated:
    # Playground: two arms of 1.75 turns growing to radius 5, the second turned by pi.
    rng = np.random.default_rng(p.seed)
    arms, labels = [], []
    for size, turn, label in (((p.samples + 1) // 2, 0.0, 1), (p.samples // 2, np.pi, 0)):
        t = np.arange(size) / size  # (n,) in [0, 1)
        arms.append(_polar(t * _RADIUS, 1.75 * 2 * np.pi * t + turn))
        labels.append(np.full(size, label))
    return _toy(np.concatenate(arms), np.concatenate(labels), p.noise, rng, _TWO_CLASSES)


def _moons(p: Any) -> _Generated:
    from sklearn.datasets import make_moons

    points, y = make_moons(n_samples=p.samples, noise=None, random_state=p.seed)  # (N, 2)
    # make_moons spans [-1, 2] x [-0.5, 1]; centre it and stretch to [-5, 5] x [-2.5, 2.5].
    points = (points - np.array([0.5, 0.25])) * (_RADIUS / 1.5)
    return _toy(points, y, p.noise, np.random.default_rng(p.seed), ["0", "1"])


def _blobs(p: Any) -> _Generated:
    from sklearn.datasets import make_blobs

    # Centres evenly on a circle, so that no two blobs overlap at noise 0; two blobs
    # sit at (2.5, 2.5) and (-2.5, -2.5) as the Playground's gaussian set does.
    angle = np.pi / 4 + 2 * np.pi * np.arange(p.centers) / p.centers
    centers = _polar(np.full(p.centers, 0.7 * _RADIUS), angle)[:, ::-1]  # (K, 2)
    points, y = make_blobs(
        n_samples=p.samples, centers=centers, cluster_std=0.5, random_state=p.seed
    )
    classes = [str(k) for k in range(p.centers)]
    return _toy(points, y, p.noise, np.random.default_rng(p.seed), classes)


def _tabular(p: Any) -> _Generated:
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=p.rows,
        n_features=p.features,
        n_informative=p.informative,
        n_redundant=p.redundant,
        n_classes=p.classes,
        class_sep=p.class_sep,
        flip_y=p.flip_y,
        random_state=p.seed,
    )  # (N, F) float64, (N,)
    return _Generated(
        x=x.astype(np.float32),
        y=y.astype(np.int64),
        classes=[str(k) for k in range(p.classes)],
        feature_names=[f"f{i + 1}" for i in range(p.features)],
    )


def _digits(p: Any) -> _Generated:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]  # (1797, 1, 8, 8) in [0, 1]
    return _Generated(
        x=x,
        y=digits.target.astype(np.int64),
        classes=[str(k) for k in range(10)],
        feature_names=[],
    )


def _smileys(p: Any) -> _Generated:
    x, y = smileys.draw_smileys(p.per_class, p.seed)
    return _Generated(x=x, y=y, classes=list(smileys.CLASSES), feature_names=[])


def _solder(p: Any) -> _Generated:
    x, y = solder.draw_solder(p.per_class, p.seed)
    return _Generated(x=x, y=y, classes=list(solder.CLASSES), feature_names=[])


def _photos(p: Any) -> _Generated:
    x, y, test_index = photos.draw_photos(p.per_class, p.test_per_class, p.size, p.seed)
    return _Generated(
        x=x, y=y, classes=list(photos.CLASSES), feature_names=[], test_index=test_index
    )


def _process(p: Any) -> _Generated:
    x, y, quality = process.draw_process(p.per_class, p.length, p.channels, p.seed)
    if p.target == "quality":
        return _Generated(x=x, y=quality, classes=[], feature_names=[], task="regression")
    return _Generated(x=x, y=y, classes=list(process.CLASSES), feature_names=[])


def _seasonal(p: Any) -> _Generated:
    x, y, meta = forecasting.generate_seasonal(p)
    return _Generated(x=x, y=y, classes=[], feature_names=[], task="regression", meta=meta)


def _ucr(p: Any, name: str) -> _Generated:
    """The vendored UCR set `name`, its test file as the test split."""
    from lernwerk.data.importing import sequences_dataset

    train, test = load_ucr(name)
    ds = sequences_dataset(name, train, test, p.length, p.steps)
    assert ds.test_index is not None
    return _Generated(
        x=ds.x.numpy(),
        y=ds.y.numpy(),
        classes=ds.classes,
        feature_names=[],
        test_index=ds.test_index.numpy(),
        # the lengths before padding, for the data checks
        meta={k: ds.meta[k] for k in ("import_facts", "length_policy")},
    )


# the generator each registry entry names -> the function that makes its arrays
GENERATORS: dict[str, Callable[..., _Generated]] = {
    "xor": _xor,
    "circles": _circles,
    "spiral": _spiral,
    "moons": _moons,
    "blobs": _blobs,
    "tabular": _tabular,
    "digits": _digits,
    "smileys": _smileys,
    "solder": _solder,
    "photos": _photos,
    "process": _process,
    "seasonal": _seasonal,
    "ucr": _ucr,
}


# --- making a built-in -----------------------------------------------------------


def load_builtin(name: str, **params: Any) -> Dataset:
    """Generate (or load) a built-in dataset; the same params give identical tensors.

    Raises:
        NotFound: No built-in of that name.
        SpecError: A parameter is unknown or out of range.
    """
    builtin = find_builtin(name)
    resolved = resolve_params(builtin, params)
    generate = GENERATORS[builtin.generator]
    data = generate(resolved) if builtin.argument is None else generate(resolved, builtin.argument)
    return Dataset(
        name=canonical_ref(builtin, resolved),
        kind=builtin.kind,
        task=data.task or builtin.task,
        x=torch.from_numpy(np.ascontiguousarray(data.x)),
        y=torch.from_numpy(np.ascontiguousarray(data.y)),
        classes=data.classes,
        feature_names=data.feature_names,
        source={"builtin": builtin.name, "params": resolved.model_dump()},
        test_index=None if data.test_index is None else torch.from_numpy(data.test_index),
        description=builtin.description,
        meta=data.meta or {},
    )


def load_dataset_ref(ref: str) -> Dataset:
    """Load a built-in by reference, e.g. "tabular:rows=500000,features=30"."""
    name, params = parse_dataset_ref(ref)
    return load_builtin(name, **params)
