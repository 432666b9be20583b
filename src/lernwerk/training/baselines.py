"""Classical baselines on a dataset's own split: logistic regression (ridge for regression),
histogram gradient boosting, XGBoost when it is installed, and for series ROCKET (MiniRocket
random convolutional kernels and a ridge model, `rocket.py`).

`fit_baselines` fits each estimator on each feature set of the data (`baseline_features`)
on exactly the train split a network run with the same config uses (`Dataset.split` with
its fractions and seed), stops the boosted trees early on the validation split, and scores
val and test with the task's own `metrics`, confusion matrix included: the numbers stand
beside a network's. Nothing here writes; the API stores the results as runs. The fitted
estimators are not kept (no pickles), only their results.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import numpy as np
import torch

from lernwerk.config import TrainConfig
from lernwerk.data import Dataset
from lernwerk.errors import DataError, SpecError
from lernwerk.training.baseline_features import FeatureSet, feature_sets
from lernwerk.training.rocket import NUM_KERNELS, fit_rocket, real_lengths
from lernwerk.training.tasks import Task
from lernwerk.training.tasks_registry import resolve_task
from lernwerk.training.threads import free_threads

BASELINE_TASKS = ("classification", "regression")
MAX_TREES = 300  # boosting rounds at most; early stopping on validation ends most sooner
PATIENCE = 10  # rounds without improvement on validation before the trees stop
FEATURE_ESTIMATORS = ("logistic-regression", "ridge", "hist-gradient-boosting", "xgboost")
ESTIMATORS = (*FEATURE_ESTIMATORS, "rocket")  # what `estimators=` may name
SERIES_ESTIMATORS = ("rocket",)  # for sequences only
_HOLDS = {"table": "a table", "images": "images"}


@dataclass
class BaselineResult:
    """One estimator on one feature set: its metrics per split and its fit time."""

    estimator: str  # "logistic-regression", "hist-gradient-boosting", "xgboost", "ridge", "rocket"
    features: str  # "pixels 16×16", "embeddings", "values", "summary", "features", "minirocket"
    library: str  # "scikit-learn 1.9.1"
    settings: dict[str, Any]  # hyper-parameters, and what early stopping did
    metrics: dict[str, dict[str, Any]]  # {"val": {...}, "test": {...}}, as a run stores them
    seconds: float  # the fit's wall time
    feature_seconds: float  # making the features of all three splits (the backbone's pass)
    feature_note: str = ""

    @property
    def model(self) -> str:
        return f"{self.estimator} ({self.features})"


@dataclass
class BaselineReport:
    """Every baseline fitted on one dataset's split, and what was left out (why)."""

    task: str
    splits: dict[str, int]  # samples per split
    results: list[BaselineResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


Fitted = tuple[Callable[[np.ndarray], np.ndarray], dict[str, Any]]  # (predict, settings)


def fit_baselines(
    ds: Dataset, cfg: TrainConfig, estimators: Sequence[str] | None = None
) -> BaselineReport:
    """Fit the baselines of `ds`'s task on the split `cfg` gives, score them on val and test.

    `estimators` names the ones to fit (`ESTIMATORS`); None: every one that suits the task
    and the data (ROCKET for sequences only).

    Raises:
        SpecError: the task is not classification or regression; an unknown estimator, or
            one that does not suit the task or the data (ROCKET on a table).
        DataError: a split is empty, or the train split holds a single class.
    """
    task_class = resolve_task(cfg.task, ds)
    if task_class.name not in BASELINE_TASKS:
        raise SpecError(
            f"baselines cover classification and regression; dataset '{ds.name}' trains "
            f"task {task_class.name}",
            where="task",
        )
    wanted = _check_estimators(ds, task_class.name, estimators)
    splits = ds.split(cfg.val_split, cfg.test_split, cfg.split_seed)
    sizes = {name: len(getattr(splits, name)) for name in ("train", "val", "test")}
    _check_splits(ds, cfg, sizes)
    y = {name: ds.y[getattr(splits, name)].numpy() for name in sizes}
    task = task_class.create(cfg.loss, classes=ds.classes, y_train=ds.y[splits.train])
    if task_class.name == "classification" and len(np.unique(y["train"])) < 2:
        only = ds.classes[int(y["train"][0])]
        raise DataError(
            f"the train split of dataset '{ds.name}' holds one class ('{only}'); a baseline "
            "needs two: add samples of the other classes",
            where="dataset",
        )
    report = BaselineReport(task=task_class.name, splits=sizes)
    fits = [
        (name, fit)  # with fit None, name is a note on why it is left out
        for name, fit in _estimators(task_class.name, y["train"], len(ds.classes), cfg.seed)
        if fit is None or name in wanted
    ]
    sets: list[FeatureSet] = []
    if any(fit is not None for _, fit in fits):
        sets, report.notes = feature_sets(ds.kind, ds.input_shape)
    report.notes += [
        note for note, fit in fits if fit is None and _concerns(note, estimators, wanted)
    ]  # why it is left out
    x_raw = {name: _rows(ds, getattr(splits, name)) for name in sizes}
    # the cores idle now (threads.py: on a busy machine a second OpenMP thread slows down)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = free_threads(cores or 1)
    for fs in sets:
        started = time.perf_counter()
        before = torch.get_num_threads()
        torch.set_num_threads(threads)  # the backbone's pass: as many threads as the fits
        try:
            x = {name: fs.transform(x_raw[name]) for name in sizes}  # (N, F) each
        finally:
            torch.set_num_threads(before)
        feature_seconds = time.perf_counter() - started
        for name, fit in fits:
            if fit is None:
                continue
            result = _fit_one(name, fit, fs, x, y, task, feature_seconds, threads)
            report.results.append(result)
    if "rocket" in wanted:
        classify = task_class.name == "classification"
        report.results.append(_fit_rocket(x_raw, y, task, classify, len(ds.classes), cfg, threads))
    return report


def _concerns(note: str, asked: Sequence[str] | None, wanted: list[str]) -> bool:
    """Whether a note on a left-out estimator concerns what was asked for."""
    if asked is None:
        return True
    if "XGBoost" in note:
        return "xgboost" in wanted
    return bool({"xgboost", "hist-gradient-boosting"} & set(wanted))


def _check_estimators(ds: Dataset, task: str, estimators: Sequence[str] | None) -> list[str]:
    """The estimators to fit; raise `SpecError` for a name that is unknown or does not
    suit `ds` (ROCKET on anything but series) or `task` (ridge is for regression)."""
    series = ds.kind == "sequences"
    other = "ridge" if task == "classification" else "logistic-regression"
    if estimators is None:
        return [e for e in ESTIMATORS if e != other and (series or e not in SERIES_ESTIMATORS)]
    if isinstance(estimators, str):  # one name, not its letters
        estimators = [estimators]
    if not estimators:
        raise SpecError(f"name at least one estimator: {', '.join(ESTIMATORS)}", "estimators")
    for name in estimators:
        if name not in ESTIMATORS:
            raise SpecError(
                f"unknown baseline estimator {name!r}; choose from {', '.join(ESTIMATORS)}",
                where="estimators",
            )
        if name in SERIES_ESTIMATORS and not series:
            raise SpecError(
                f"{name} is the baseline for series (random convolutional kernels over time); "
                f"dataset '{ds.name}' holds {_HOLDS.get(ds.kind, ds.kind)}: choose from "
                f"{', '.join(e for e in FEATURE_ESTIMATORS if e != other)}",
                where="estimators",
            )
        if name == other:
            fits = "regression" if name == "ridge" else "classification"
            raise SpecError(
                f"{name} fits {fits}; dataset '{ds.name}' trains task {task}: choose "
                f"{'logistic-regression' if name == 'ridge' else 'ridge'}",
                where="estimators",
            )
    return list(dict.fromkeys(estimators))


def _check_splits(ds: Dataset, cfg: TrainConfig, sizes: dict[str, int]) -> None:
    """Raise `DataError` naming the first empty split (each baseline needs all three)."""
    if sizes["train"] == 0:
        raise DataError(
            f"the train split of dataset '{ds.name}' is empty; lower val_split and test_split",
            where="dataset",
        )
    for name in ("val", "test"):
        if sizes[name] == 0:
            raise DataError(
                f"baselines need samples in every split; the {name} split of dataset "
                f"'{ds.name}' ({len(ds)} samples, val_split {cfg.val_split}, test_split "
                f"{cfg.test_split}) is empty; raise {name}_split or add samples",
                where=f"{name}_split",
            )


def _rows(ds: Dataset, idx: torch.Tensor) -> torch.Tensor:
    return ds.x.take(idx) if ds.on_disk else ds.x[idx]


def _fit_one(
    name: str,
    fit: Callable[..., Fitted],
    fs: FeatureSet,
    x: dict[str, np.ndarray],
    y: dict[str, np.ndarray],
    task: Task,
    feature_seconds: float,
    threads: int,
) -> BaselineResult:
    from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

    with threadpool_limits(threads):
        started = time.perf_counter()
        predict, settings = fit(x["train"], y["train"], x["val"], y["val"], threads)
        seconds = time.perf_counter() - started
        metrics = {s: task.metrics(y[s], predict(x[s])) for s in ("val", "test")}
    library = settings.pop("library")
    settings["threads"] = threads
    return BaselineResult(
        estimator=name,
        features=fs.name,
        library=library,
        settings=settings,
        metrics=metrics,
        seconds=seconds,
        feature_seconds=feature_seconds,
        feature_note=fs.note,
    )


def _fit_rocket(
    x_raw: dict[str, torch.Tensor],
    y: dict[str, np.ndarray],
    task: Task,
    classify: bool,
    n_classes: int,
    cfg: TrainConfig,
    threads: int,
) -> BaselineResult:
    """MiniRocket kernels fitted on the train split, ridge with leave-one-out alpha on their
    features; scored on val and test. Seconds: kernels, train features and ridge together."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(threads):
            lengths = {s: real_lengths(x.float()) for s, x in x_raw.items()}  # (N,) each
            started = time.perf_counter()
            model = fit_rocket(
                x_raw["train"], y["train"], classify=classify, n_classes=n_classes, seed=cfg.seed
            )
            seconds = time.perf_counter() - started
            began = time.perf_counter()
            features = {s: model.transform.transform(x_raw[s], lengths[s]) for s in ("val", "test")}
            feature_seconds = time.perf_counter() - began
            metrics = {s: task.metrics(y[s], model.predict_features(features[s])) for s in features}
    finally:
        torch.set_num_threads(before)
    rocket = model.transform
    shortest, longest = int(lengths["train"].min()), int(lengths["train"].max())
    settings: dict[str, Any] = {
        "kernels": NUM_KERNELS,
        "kernel_length": 9,
        "features": rocket.num_features,
        "dilations": rocket.dilations,
        "pooling": "proportion of positive values (PPV)",
        "standardised": True,
        "alpha": model.alpha,
        "alphas": "10 from 1e-3 to 1e3, chosen by leave-one-out",
        "threads": threads,
        "seed": cfg.seed,
    }
    if classify:
        settings["probabilities"] = "softmax of the ridge scores (not calibrated)"
    length_note = f"{shortest}–{longest} real steps" if shortest != longest else f"{longest} steps"
    return BaselineResult(
        estimator="rocket",
        features="minirocket",
        library=f"PyTorch {torch.__version__.split('+')[0]}, {_sklearn()}",
        settings=settings,
        metrics=metrics,
        seconds=seconds,
        feature_seconds=feature_seconds,
        feature_note=(
            f"{rocket.num_features} PPV features of {NUM_KERNELS} MiniRocket kernels at "
            f"{len(rocket.dilations)} dilations over {rocket.channels} channel(s); train series "
            f"of {length_note} (trailing padding not counted)"
        ),
    )


# -- the estimators --------------------------------------------------------------------------


def _estimators(
    task: str, y_train: np.ndarray, n_classes: int, seed: int
) -> list[tuple[str, Callable[..., Fitted] | None]]:
    """(name, fit) per estimator; fit None with the name a note of why it is left out."""
    classify = task == "classification"
    several = y_train.ndim == 2 and y_train.shape[1] > 1
    out: list[tuple[str, Callable[..., Fitted] | None]] = []
    if classify:
        out.append(("logistic-regression", _logistic_regression(n_classes, seed)))
    else:
        out.append(("ridge", _ridge))
    if several:
        out.append(("no gradient boosting: it fits one target, these samples have several", None))
        return out
    out.append(("hist-gradient-boosting", _hist_gradient_boosting(classify, n_classes, seed)))
    try:
        import xgboost  # noqa: F401
    except ImportError:
        out.append(("no XGBoost baseline: xgboost is not installed (pip install xgboost)", None))
    else:
        out.append(("xgboost", _xgboost(classify, n_classes, seed)))
    return out


def _probabilities(
    model: Any, seen: np.ndarray, n_classes: int
) -> Callable[[np.ndarray], np.ndarray]:
    """(N, C) probabilities over all C classes from a model that knows only the classes
    `seen` in training (in their order); the others get 0."""

    def proba(x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), n_classes), dtype=np.float64)
        out[:, seen] = model.predict_proba(x)  # (N, len(seen))
        return out

    return proba


def _known(y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray) -> tuple:
    """The validation samples of classes the train split holds (early stopping scores
    them; an unseen class has no output)."""
    keep = np.isin(y_val, np.unique(y_train))
    return x_val[keep], y_val[keep]


def _sklearn() -> str:
    return f"scikit-learn {version('scikit-learn')}"


def _logistic_regression(n_classes: int, seed: int) -> Callable[..., Fitted]:
    def fit(xt: np.ndarray, yt: np.ndarray, xv: np.ndarray, yv: np.ndarray, threads: int) -> Fitted:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        lr = LogisticRegression(C=1.0, max_iter=1000, random_state=seed)
        model = make_pipeline(StandardScaler(), lr).fit(xt, yt)
        settings = {
            "library": _sklearn(),
            "standardised": True,
            "C": 1.0,
            "max_iter": 1000,
            "iterations": int(np.max(lr.n_iter_)),
        }
        return _probabilities(model, np.unique(yt), n_classes), settings

    return fit


def _ridge(xt: np.ndarray, yt: np.ndarray, xv: np.ndarray, yv: np.ndarray, threads: int) -> Fitted:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(xt, yt)
    return model.predict, {"library": _sklearn(), "standardised": True, "alpha": 1.0}


def _hist_gradient_boosting(classify: bool, n_classes: int, seed: int) -> Callable[..., Fitted]:
    def fit(xt: np.ndarray, yt: np.ndarray, xv: np.ndarray, yv: np.ndarray, threads: int) -> Fitted:
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        cls = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
        model = cls(
            max_iter=MAX_TREES, early_stopping=True, n_iter_no_change=PATIENCE, random_state=seed
        )
        if classify:
            xv, yv = _known(yt, xv, yv)
        if "X_val" in inspect.signature(model.fit).parameters and len(yv):
            model.fit(xt, yt, X_val=xv, y_val=yv)
            stopping = "on the validation split"
        else:  # scikit-learn before 1.7 holds out part of the train split itself
            model.fit(xt, yt)
            stopping = "on 10 % of the train split (this scikit-learn takes no validation split)"
        settings = {
            "library": _sklearn(),
            "max_iter": MAX_TREES,
            "learning_rate": 0.1,
            "early_stopping": stopping,
            "patience": PATIENCE,
            "iterations": int(model.n_iter_),
        }
        if classify:
            return _probabilities(model, np.unique(yt), n_classes), settings
        return model.predict, settings

    return fit


def _xgboost(classify: bool, n_classes: int, seed: int) -> Callable[..., Fitted]:
    def fit(xt: np.ndarray, yt: np.ndarray, xv: np.ndarray, yv: np.ndarray, threads: int) -> Fitted:
        import xgboost

        cls = xgboost.XGBClassifier if classify else xgboost.XGBRegressor
        options: dict[str, Any] = {}
        if classify:
            xv, yv = _known(yt, xv, yv)
            seen = np.unique(yt)  # XGBoost wants the classes 0..K-1: the seen ones, renumbered
            yt, yv = np.searchsorted(seen, yt), np.searchsorted(seen, yv)
        if len(yv):
            options["early_stopping_rounds"] = PATIENCE
        model = cls(
            n_estimators=MAX_TREES,
            learning_rate=0.1,
            tree_method="hist",
            random_state=seed,
            n_jobs=threads,
            **options,
        )
        model.fit(xt, yt, eval_set=[(xv, yv)] if len(yv) else None, verbose=False)
        trees = int(getattr(model, "best_iteration", MAX_TREES - 1)) + 1 if len(yv) else None
        settings = {
            "library": f"xgboost {xgboost.__version__}",
            "n_estimators": MAX_TREES,
            "learning_rate": 0.1,
            "tree_method": "hist",
            "early_stopping": "on the validation split" if len(yv) else "none",
            "patience": PATIENCE,
            "iterations": trees or MAX_TREES,
        }
        if classify:
            return _probabilities(model, seen, n_classes), settings
        return model.predict, settings

    return fit
