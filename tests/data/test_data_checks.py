"""The data checks: each on a dataset built to trigger it, none on clean data, and exactly
the real issues of the built-in sets."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from lernwerk.data import Dataset, check_context, load_dataset_ref
from lernwerk.data import checks as checks_module
from lernwerk.data.checks import check_dataset, wilson_interval
from lernwerk.data.importing import import_path
from lernwerk.data.registry import BUILTINS
from lernwerk.training.defaults import default_balanced_sampling
from lernwerk.training.sampling import SKEW_RATIO


def table(
    x: np.ndarray, y: np.ndarray, *, task: str = "classification", meta: dict | None = None
) -> Dataset:
    classes = [f"c{k}" for k in range(int(y.max()) + 1)] if task == "classification" else []
    return Dataset(
        name="t",
        kind="table",
        task=task,  # type: ignore[arg-type]
        x=torch.tensor(x, dtype=torch.float32),
        y=torch.tensor(y, dtype=torch.int64 if task == "classification" else torch.float32),
        classes=classes,
        feature_names=[f"f{i}" for i in range(x.shape[1])],
        source={},
        meta=meta or {},
    )


def clean_table(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), np.arange(n) % 2


def codes(report) -> dict[str, str]:
    return {f.code: f.severity for f in report.findings}


def finding(report, code: str):
    return next(f for f in report.findings if f.code == code)


def test_a_clean_table_triggers_nothing() -> None:
    report = check_dataset(table(*clean_table()))
    assert report.findings == []
    assert report.samples_checked == report.num_samples == 300 and not report.to_dict()["sampled"]


def test_a_class_without_training_samples_is_a_blocker() -> None:
    x, y = clean_table(61)
    y[-1] = 2  # the one sample of class c2 lies in the fixed test split
    ds = table(x, y)
    ds.test_index = torch.tensor([58, 59, 60])
    report = check_dataset(ds)
    blocker = finding(report, "class_too_small")
    assert blocker.severity == "blocker" and report.blockers == [blocker]
    assert blocker.numbers == {"classes": "c2", "count": 1, "n": 1, "in_all": 1}
    assert blocker.line() == (
        "class c2 has no samples in the training split (1 in all); "
        "add samples to it or delete the class"
    )


def test_fewer_than_twenty_per_class_is_a_warning_that_states_the_rule() -> None:
    x, y = clean_table(300)
    y[:15] = 2  # 15 of c2, the rest split between c0 and c1
    report = check_dataset(table(x, y))
    few = finding(report, "few_per_class")
    assert few.severity == "warning"
    assert few.numbers == {"classes": "c2", "count": 1, "n": 1, "smallest": 15, "rule": 20}
    assert "at least 20 per class" in few.message


def test_a_small_regression_is_a_warning() -> None:
    x, _ = clean_table(30)
    report = check_dataset(table(x, np.sin(x[:, 0]), task="regression"))
    assert finding(report, "few_samples").numbers == {"n": 30, "min": 50}


@pytest.mark.parametrize(("minority", "severity"), [(120, None), (60, "hint"), (12, "warning")])
def test_imbalance_follows_the_balanced_sampling_rule(minority: int, severity: str | None) -> None:
    rng = np.random.default_rng(1)
    y = np.array([0] * 150 + [1] * minority)
    ds = table(rng.normal(size=(len(y), 3)), y)
    report = check_dataset(ds)
    found = codes(report).get("imbalance")
    assert found == severity
    # the hint starts where training turns balanced sampling on, and says so
    assert checks_module.SKEW_RATIO == SKEW_RATIO
    splits = ds.split()
    assert default_balanced_sampling(ds.y[splits.train], 2) == (found is not None)
    if found:
        f = finding(report, "imbalance")
        train = torch.bincount(ds.y[splits.train]).tolist()
        assert (f.numbers["largest_n"], f.numbers["smallest_n"]) == (max(train), min(train))
        assert "--no-balanced" in f.action


def test_exact_duplicates_and_a_leak_into_the_test_split() -> None:
    x, y = clean_table(300)
    x[250:260] = x[0:10]  # ten copies
    y[250:260] = y[0:10]
    ds = table(x, y)
    report = check_dataset(ds)
    dup = finding(report, "duplicates")
    assert dup.numbers["copies"] == 10 and dup.numbers["share_pct"] == pytest.approx(3.3)
    assert dup.severity == "warning"  # over 1 %
    # the oracle: pairs split across train and test/val, counted from the splits directly
    splits = ds.split()
    where = np.full(300, -1)
    for code, idx in enumerate((splits.train, splits.val, splits.test)):
        where[idx.numpy()] = code
    pairs = [(where[i], where[250 + i]) for i in range(10)]
    test_leaks = sum(1 for a, b in pairs if (a == 0 and b == 2) or (a == 2 and b == 0))
    val_leaks = sum(1 for a, b in pairs if (a == 0 and b == 1) or (a == 1 and b == 0))
    assert test_leaks + val_leaks > 0  # the seeded split does put some copies apart
    leak = finding(report, "split_leak")
    assert (leak.numbers["test"], leak.numbers["val"]) == (test_leaks, val_leaks)
    assert "conflicts" not in codes(report)


def test_copies_with_different_labels_are_a_warning() -> None:
    x, y = clean_table(300)
    x[1] = x[0]
    y[0], y[1] = 0, 1
    report = check_dataset(table(x, y))
    assert finding(report, "duplicate_conflicts").numbers == {"groups": 1, "n": 1}
    assert finding(report, "duplicates").severity == "hint"  # 1 of 300 is under 1 %


def images(n: int, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    coarse = torch.from_numpy(rng.random((n, 1, 4, 4)).astype(np.float32))
    # smooth pictures (shapes and shading, as photos have), not white noise
    x = torch.nn.functional.interpolate(coarse, size=(16, 16), mode="bicubic").clamp(0, 1)
    return Dataset(
        name="img",
        kind="images",
        task="classification",
        x=x,
        y=torch.arange(n) % 2,
        classes=["a", "b"],
        feature_names=[],
        source={},
    )


def test_look_alike_images_are_found_by_their_perceptual_hash() -> None:
    ds = images(300)
    rng = np.random.default_rng(5)
    x = ds.x.clone()
    # three re-encoded copies: faint noise, nothing identical
    x[100:103] = (x[0:3] + torch.from_numpy(rng.normal(0, 0.003, (3, 1, 16, 16))).float()).clamp(
        0, 1
    )
    near = Dataset(
        name="img", kind="images", task="classification", x=x, y=ds.y, classes=ds.classes,
        feature_names=[], source={},
    )  # fmt: skip
    assert codes(check_dataset(ds)) == {}
    report = check_dataset(near)
    assert finding(report, "near_duplicates").numbers["copies"] == 3
    assert "duplicates" not in codes(report)  # none is an exact copy


def test_constant_almost_constant_and_unscaled_features() -> None:
    x, y = clean_table(300)
    x = np.concatenate([x, np.zeros((300, 1)), np.zeros((300, 1))], axis=1)
    x[:2, 4] = 1.0  # one value in 298 of 300 rows
    x[:, 0] *= 1000.0  # f0 on a scale a thousand times the others
    report = check_dataset(table(x, y))
    assert finding(report, "constant_features").numbers["names"] == "f3"
    assert finding(report, "almost_constant").numbers["names"] == "f4"
    scales = finding(report, "feature_scales")
    assert scales.severity == "hint" and scales.numbers["largest"] == "f0"
    assert scales.numbers["smallest"] == "f4"  # the smallest std of all varying features
    assert "standardises" in scales.action


def test_missing_values_say_how_they_were_filled(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    frame["klasse"] = np.where(frame["a"] > 0, "gut", "schlecht")
    frame["b"] = frame["b"].astype(object)
    frame.loc[:79, "b"] = ""  # 80 of 200 empty: 40 %
    frame.loc[5, "a"] = np.nan
    path = tmp_path / "messwerte.csv"
    frame.to_csv(path, index=False)
    ds, _ = import_path("m", path, target="klasse", impute="median")
    f = finding(check_dataset(ds), "missing_values")
    assert f.numbers["cells"] == 81 and f.numbers["worst"] == "b"
    assert f.numbers["worst_pct"] == 40.0 and f.numbers["impute"] == "median"
    assert f.severity == "warning"  # a column 30 % or more empty


def test_image_sizes_before_conversion(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for k, name in enumerate(("gut", "schlecht")):
        (tmp_path / name).mkdir()
        for i in range(25):
            size = (40, 30) if i % 5 == 0 else (32, 32)
            pixels = (rng.random(size[::-1]) * 200 + 20 * k).astype(np.uint8)
            Image.fromarray(pixels, "L").save(tmp_path / name / f"{i}.png")
    ds, _ = import_path("bilder", tmp_path, image_size=16, channels=1)
    f = finding(check_dataset(ds), "image_sizes")
    assert f.numbers["distinct"] == 2 and f.numbers["common"] == "32×32 L"
    assert f.numbers["common_n"] == 40 and f.numbers["target"] == "16×16×1"


def test_series_of_very_different_lengths() -> None:
    rng = np.random.default_rng(0)
    ds = Dataset(
        name="s",
        kind="sequences",
        task="classification",
        x=torch.from_numpy(rng.normal(size=(200, 1, 50)).astype(np.float32)),
        y=torch.arange(200) % 2,
        classes=["a", "b"],
        feature_names=[],
        source={},
        meta={"import_facts": {"lengths": {"min": 20, "max": 50}}, "length_policy": "resample"},
    )
    f = finding(check_dataset(ds), "series_lengths")
    assert f.severity == "warning" and f.numbers == {
        "min": 20,
        "max": 50,
        "steps": 50,
        "policy": "resample",
    }


def _wilson_by_bisection(p_hat: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The oracle: the p whose normal test does not reject p_hat, |p_hat - p| <= z·se(p)."""

    def inside(p: float) -> bool:
        return abs(p_hat - p) <= z * math.sqrt(p * (1 - p) / n)

    def edge(lo: float, hi: float) -> float:  # lo outside, hi inside (or the reverse)
        for _ in range(100):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if inside(mid) != inside(hi) else (lo, mid)
        return (lo + hi) / 2

    return edge(1e-12, p_hat), edge(1 - 1e-12, p_hat)


@pytest.mark.parametrize("n", [10, 40, 49, 200])
def test_wilson_interval_matches_its_definition(n: int) -> None:
    low, high = wilson_interval(0.9, n)
    ref_low, ref_high = _wilson_by_bisection(0.9, n)
    assert low == pytest.approx(ref_low, abs=1e-9) and high == pytest.approx(ref_high, abs=1e-9)


def test_a_small_test_split_gives_the_width_of_the_interval() -> None:
    x, y = clean_table(150)
    report = check_dataset(table(x, y))
    f = finding(report, "small_test")
    low, high = wilson_interval(0.9, 30)
    assert f.numbers["n"] == 30 and f.numbers["width_pct"] == round(100 * (high - low), 1)
    assert f"{100 * low:.1f} %" in f.message
    # a larger test share: no finding; none at all without a test split
    assert "small_test" not in codes(check_dataset(table(x, y), test_split=0.4))
    assert "small_test" not in codes(check_dataset(table(x, y), test_split=0.0))


def test_a_row_number_as_target_is_a_blocker_and_an_id_name_a_warning(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=100), "b": rng.normal(size=100)})
    frame["nr"] = np.arange(1, 101)
    path = tmp_path / "teile.csv"
    frame.to_csv(path, index=False)
    ds, _ = import_path("teile", path, target="nr")
    f = finding(check_dataset(ds), "id_target")
    assert f.severity == "blocker" and f.numbers == {"target": "nr", "n": 100}
    x, y = clean_table(300)
    named = table(x, y, meta={"target": "part_id"})
    assert codes(check_dataset(named)) == {"id_name_target": "warning"}


def test_anomaly_detection_skips_the_class_rules() -> None:
    rng = np.random.default_rng(0)
    y = np.array([0] * 280 + [1] * 20)
    ds = table(rng.normal(size=(300, 3)), y)
    assert codes(check_dataset(ds)) == {"imbalance": "warning"}
    assert codes(check_dataset(ds, task="anomaly")) == {}


def test_large_sets_are_sampled_and_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check_context, "TABLE_SAMPLE_LIMIT", 100)
    x, y = clean_table(300)
    x[200:] = x[:100]  # a third copied: the sample still sees copies
    y[200:] = y[:100]
    report = check_dataset(table(x, y)).to_dict()
    assert report["sampled"] is True and report["samples_checked"] == 100
    assert report["num_samples"] == 300
    dup = next(f for f in report["findings"] if f["code"] == "duplicates")
    assert dup["numbers"]["sampled"] is True and dup["numbers"]["checked"] == 100


# What the built-in sets really have; every other built-in has no finding.
BUILTIN_FINDINGS = {
    # noise=0: both spirals start at the origin, one point labelled once each way
    "spiral": {"duplicate_conflicts": "warning", "split_leak": "warning", "duplicates": "hint"},
    # the roof's box is barely larger than a patch: two roof patches came out identical
    "photos": {"duplicates": "hint"},
    # the official test file holds 40 series
    "basicmotions": {"small_test": "warning"},
    # 10 series per class, 29 to 361 steps long
    "pickupgesturewiimotez": {"few_per_class": "warning", "series_lengths": "warning"},
    # 7 to 29 steps per utterance
    "japanesevowels": {"series_lengths": "warning"},
}


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_the_builtin_sets_have_exactly_their_real_issues(name: str) -> None:
    report = check_dataset(load_dataset_ref(name))
    assert codes(report) == BUILTIN_FINDINGS.get(name, {})
    assert report.blockers == []  # every built-in trains
