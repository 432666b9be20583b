"""The results page's evaluation plots: ROC and precision-recall curves of a two-class
classifier with the decision threshold marked and the AUC shown; predicted against true
values and residuals for regression."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.e2e.helpers import strings

pytestmark = pytest.mark.e2e


def trained(client: httpx.Client, name: str, source: str, params: dict, model: str) -> str:
    r = client.post("/api/datasets", json={"name": name, "from": source, "params": params})
    assert r.status_code == 201, r.text
    r = client.post("/api/runs", json={"dataset": name, "model": model, "train": {"epochs": 3}})
    assert r.status_code == 202, r.text
    job = r.json()
    deadline = time.monotonic() + 180
    while (job := client.get(f"/api/jobs/{job['job_id']}").json())["status"] != "finished":
        assert job["status"] in ("queued", "running") and time.monotonic() < deadline, job
        time.sleep(0.3)
    return job["run_id"]


def test_roc_and_pr_curves_of_a_two_class_run(page: Any, shots: Any, client: httpx.Client) -> None:
    run = trained(client, "moons-curves", "moons", {}, "mlp")
    view = client.get(f"/api/runs/{run}/evaluation?split=test").json()
    auc = view["curves"]["roc"]["auc"]

    page.goto(f"/#/runs/{run}")
    roc = page.get_by_test_id("roc-curve")
    pr = page.get_by_test_id("pr-curve")
    expect(roc).to_be_visible(timeout=60_000)
    expect(roc.locator("h3")).to_have_text(re.compile(rf"ROC curve · AUC {auc:.3f}"))
    expect(roc).to_have_attribute("data-points", str(len(view["curves"]["roc"]["fpr"])))
    expect(roc.locator("path.curve")).to_have_count(1)
    expect(roc.locator("circle.threshold-mark")).to_have_count(1)  # the decision threshold
    expect(roc).to_contain_text("threshold 0.5")
    expect(pr.locator("h3")).to_contain_text("Precision–recall curve · AP")
    expect(pr.locator("circle.threshold-mark")).to_have_count(1)
    roc.scroll_into_view_if_needed()
    shots("roc-pr")

    page.get_by_test_id("eval-split").select_option("val")  # the curves follow the split
    val_auc = client.get(f"/api/runs/{run}/evaluation?split=val").json()["curves"]["roc"]["auc"]
    expect(roc.locator("h3")).to_have_text(re.compile(rf"AUC {val_auc:.3f}"))

    de = strings("de")
    page.evaluate("localStorage.setItem('lernwerk.lang', 'de')")
    page.reload()
    expect(page.get_by_test_id("roc-curve").locator("h3")).to_contain_text(de["results.rocTitle"])
    expect(page.get_by_test_id("pr-curve")).to_contain_text(de["results.thresholdAt"])
    page.get_by_test_id("roc-curve").scroll_into_view_if_needed()
    shots("roc-pr-de")


def test_a_multi_class_run_has_no_binary_curves(page: Any, client: httpx.Client) -> None:
    run = trained(client, "blobs-curves", "blobs", {}, "mlp")
    page.goto(f"/#/runs/{run}")
    expect(page.get_by_test_id("per-class")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("roc-curve")).to_have_count(0)


def test_regression_scatter_and_residuals(page: Any, shots: Any, client: httpx.Client) -> None:
    params = {"target": "quality", "per_class": 10, "length": 200}
    run = trained(client, "process-quality", "process", params, "fcn1d")
    points = client.get(f"/api/runs/{run}/evaluation?split=test").json()["points"]

    page.goto(f"/#/runs/{run}")
    scatter = page.get_by_test_id("pred-vs-true")
    residuals = page.get_by_test_id("residuals")
    expect(scatter).to_be_visible(timeout=60_000)
    expect(scatter).to_have_attribute("data-points", str(points["shown"]))
    expect(scatter.locator(".dots circle")).to_have_count(points["shown"])
    expect(residuals.locator(".dots circle")).to_have_count(points["shown"])
    expect(scatter.locator("h3")).to_have_text("Predicted vs. true")
    expect(residuals).to_contain_text("Residual (predicted − true)")
    expect(page.get_by_test_id("largest-errors")).to_be_visible()
    expect(page.get_by_test_id("roc-curve")).to_have_count(0)
    scatter.scroll_into_view_if_needed()
    shots("regression-plots")
