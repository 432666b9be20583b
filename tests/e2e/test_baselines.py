"""The "Compare with classical methods" action on a dataset page: the baselines' table beside the network
already trained on the same split, then the same baselines in the runs table, and a
baseline's results page that offers nothing it cannot do."""

from __future__ import annotations

import importlib.util
import re
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

DATASET = "moons-baselines"


HAS_XGBOOST = importlib.util.find_spec("xgboost") is not None


def test_compare_with_classical_methods(page: Any, shots: Any, client: httpx.Client) -> None:
    r = client.post("/api/datasets", json={"name": DATASET, "from": "moons", "params": {}})
    assert r.status_code == 201, r.text
    r = client.post("/api/runs", json={"dataset": DATASET, "model": "mlp", "train": {"epochs": 2}})
    assert r.status_code == 202, r.text
    job = r.json()
    deadline = time.monotonic() + 120
    while (job := client.get(f"/api/jobs/{job['job_id']}").json())["status"] != "finished":
        assert job["status"] in ("queued", "running") and time.monotonic() < deadline, job
        time.sleep(0.3)
    network = job["run_id"]

    page.goto(f"/#/datasets/{DATASET}")
    page.get_by_test_id("dataset-baselines").click()
    table = page.get_by_test_id("baselines-table")
    expect(table).to_be_visible(timeout=120_000)
    rows = page.get_by_test_id("baseline-row")
    baselines = 3 if HAS_XGBOOST else 2  # logistic regression, gradient boosting, XGBoost
    expect(rows).to_have_count(baselines + 1)  # and the network
    expect(rows.last).to_have_attribute("data-features", "network")
    expect(rows.last).to_have_attribute("data-run-id", network)
    expect(table).to_contain_text("logistic-regression")
    expect(table).to_contain_text("Test accuracy")
    expect(page.get_by_test_id("baselines-error")).to_be_hidden()
    shots("baselines")

    page.get_by_test_id("baselines-runs").click()
    expect(page).to_have_url(re.compile(r"#/runs$"))
    runs = page.get_by_test_id("runs-table").get_by_test_id("run-row")
    expect(runs).to_have_count(baselines + 1)
    expect(runs.filter(has_text="baseline on features")).to_have_count(baselines)
    expect(runs.filter(has_text="xgboost (features)")).to_have_count(int(HAS_XGBOOST))
    expect(page.locator(f'[data-testid="run-row"][data-run-id="{network}"]')).to_be_visible()
    # a baseline offers no weights to download; the network does
    expect(runs.get_by_test_id("run-download")).to_have_count(1)
    shots("runs")

    runs.filter(has_text="logistic-regression (features)").get_by_test_id("run-link").click()
    expect(page.get_by_test_id("run-baseline")).to_be_visible()
    expect(page.get_by_test_id("run-try")).to_have_count(0)
    expect(page.get_by_test_id("curves")).to_have_count(0)  # fitted, not trained by epochs
    expect(page.get_by_test_id("run-settings")).to_contain_text("logistic-regression")
    expect(page.get_by_test_id("eval-baseline")).to_be_visible()
    expect(page.get_by_test_id("evaluation").locator("table")).not_to_have_count(0)
    expect(page.get_by_test_id("evaluation-error")).to_be_hidden()
    shots("baseline-run")


def test_rocket_stands_beside_the_network_on_a_series_set(
    page: Any, shots: Any, client: httpx.Client
) -> None:
    """A multivariate UEA set: the comparison adds ROCKET, listed in the runs table."""
    name = "motions-rocket"
    r = client.post("/api/datasets", json={"name": name, "from": "basicmotions", "params": {}})
    assert r.status_code == 201, r.text
    r = client.post("/api/runs", json={"dataset": name, "model": "fcn1d", "train": {"epochs": 1}})
    assert r.status_code == 202, r.text
    job = r.json()
    deadline = time.monotonic() + 120
    while (job := client.get(f"/api/jobs/{job['job_id']}").json())["status"] != "finished":
        assert job["status"] in ("queued", "running") and time.monotonic() < deadline, job
        time.sleep(0.3)

    page.goto(f"/#/datasets/{name}")
    page.get_by_test_id("dataset-baselines").click()
    table = page.get_by_test_id("baselines-table")
    expect(table).to_be_visible(timeout=180_000)
    rocket = page.locator('[data-testid="baseline-row"][data-features="minirocket"]')
    expect(rocket).to_have_count(1)
    expect(rocket).to_contain_text("rocket")
    expect(page.get_by_test_id("baseline-row").last).to_have_attribute("data-features", "network")
    shots("baselines-rocket")

    page.get_by_test_id("baselines-runs").click()
    runs = page.get_by_test_id("runs-table").get_by_test_id("run-row")
    expect(runs.filter(has_text="rocket (minirocket)")).to_have_count(1)
    expect(runs.filter(has_text="fcn1d")).to_have_count(1)
