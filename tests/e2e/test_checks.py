"""The data checks on the page: the panel on a dataset's page and at the top of the train
page, in English and German, following the dataset and split the run would use."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.e2e.helpers import strings

pytestmark = pytest.mark.e2e


def test_checks_panel_on_the_dataset_page(page: Any, shots: Any, client: httpx.Client) -> None:
    en, de = strings("en"), strings("de")
    page.goto("/#/datasets/pickupgesturewiimotez")
    panel = page.get_by_test_id("checks-panel")
    expect(panel.locator("h2")).to_have_text(en["checks.title"])
    expect(page.get_by_test_id("checks-panel-summary")).to_have_text(
        "0 blockers · 2 warnings · 0 hints"
    )
    lengths = page.get_by_test_id("check-series_lengths")
    expect(lengths).to_contain_text(
        "The series are 29 to 361 steps long; all were brought to 361 steps (length=pad)."
    )
    expect(lengths).to_contain_text(en["check.series_lengths.why"])
    expect(lengths.locator(".severity")).to_have_text(en["checks.severity.warning"])
    expect(page.get_by_test_id("check-few_per_class")).to_contain_text(
        "10 classes have fewer than 20 samples"
    )
    shots("dataset-checks")
    page.get_by_test_id("lang-switch").select_option("de")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_test_id("checks-panel").locator("h2")).to_have_text(de["checks.title"])
    expect(page.get_by_test_id("check-series_lengths")).to_contain_text(
        "Die Reihen sind 29 bis 361 Schritte lang"
    )
    shots("dataset-checks-german")


def test_checks_panel_on_the_train_page(page: Any, shots: Any, client: httpx.Client) -> None:
    en = strings("en")
    page.goto("/#/train?dataset=xor")
    panel = page.get_by_test_id("train-checks")
    expect(page.get_by_test_id("train-checks-none")).to_have_text(en["checks.none"])
    # another dataset: its own findings
    page.get_by_test_id("train-dataset").select_option("basicmotions")
    expect(page.get_by_test_id("check-small_test")).to_contain_text(
        "The test split holds 40 samples: a measured accuracy of 90 % means anything from "
        "76.9 % to 96 %"
    )
    expect(panel).to_contain_text("Give the test split at least 50 samples, or collect more data.")
    shots("train-checks")
    page.get_by_test_id("train-dataset").select_option("spiral")
    expect(page.get_by_test_id("check-duplicate_conflicts")).to_be_visible()
    expect(page.get_by_test_id("train-checks-summary")).to_have_text(
        "0 blockers · 2 warnings · 1 hint"
    )
    expect(page.get_by_test_id("check-small_test")).to_have_count(0)
    shots("train-checks-spiral")


def test_the_run_page_shows_the_findings_stored_with_the_run(
    page: Any, shots: Any, client: httpx.Client
) -> None:
    import time

    r = client.post("/api/runs", json={"dataset": "spiral", "model": "mlp", "train": {"epochs": 1}})
    assert r.status_code == 202, r.text
    job = r.json()
    deadline = time.monotonic() + 120
    while (job := client.get(f"/api/jobs/{job['job_id']}").json())["status"] != "finished":
        assert job["status"] in ("queued", "running") and time.monotonic() < deadline, job
        time.sleep(0.3)
    stored = client.get(f"/api/runs/{job['run_id']}").json()["config"]["checks"]
    assert {f["code"] for f in stored} == {"duplicate_conflicts", "split_leak", "duplicates"}
    page.goto(f"/#/runs/{job['run_id']}")
    panel = page.get_by_test_id("run-checks")
    expect(panel.locator(".finding")).to_have_count(3)
    expect(page.get_by_test_id("check-duplicate_conflicts")).to_contain_text(
        "1 sample appears more than once with different labels."
    )
    expect(page.get_by_test_id("check-split_leak")).to_contain_text(
        "0 of 100 test samples and 1 of 100 validation samples have a copy in the training split."
    )
    shots("run-checks")
