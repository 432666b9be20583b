"""Sequence tasks on the page: anomaly detection (an autoencoder trained on the `process`
generator's "ok" curves) and forecasting (the built-in `seasonal` windows), each from the
train page through its results to Try it, where a stored sample is picked by id."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.e2e.helpers import strings

pytestmark = pytest.mark.e2e

ANOMALY_DATASET = "process-anomaly-e2e"
LENGTH = 208  # autoencoder1d halves the length four times: a multiple of 16


def numbers(text: str) -> list[float]:
    """The numbers an English page writes in a text ("1,234.5, -0.25"), in order."""
    found = re.findall(r"-?\d(?:[\d,]*\d)?(?:\.\d+)?", text)
    return [float(n.replace(",", "")) for n in found]


def finished_run(page: Any) -> str:
    """Wait for the live panel to say finished; the run's id from the address."""
    panel = page.get_by_test_id("live-panel")
    expect(panel).to_have_attribute("data-status", "finished", timeout=120_000)
    expect(page).to_have_url(re.compile(r"#/train\?run="))
    return page.url.split("run=")[1].split("&")[0]


def pick_sample(page: Any) -> str:
    """Choose the first stored sample in `predict-pick`; its id."""
    pick = page.get_by_test_id("predict-pick")
    expect(pick).to_be_enabled()
    sample = pick.locator("option:not([value=''])").first.get_attribute("value")
    assert sample is not None and sample.isdigit(), sample
    pick.select_option(sample)
    return sample


def test_anomaly_train_results_and_try(page: Any, shots: Any, client: httpx.Client) -> None:
    page.goto("/")
    page.get_by_test_id("new-tab-generator").click()
    page.get_by_test_id("new-gen-source").select_option("process")
    page.get_by_test_id("new-gen-name").fill(ANOMALY_DATASET)
    page.get_by_test_id("gen-param-per_class").fill("10")
    page.get_by_test_id("gen-param-length").fill(str(LENGTH))
    page.get_by_test_id("new-gen-create").click()
    expect(page).to_have_url(re.compile(rf"#/datasets/{ANOMALY_DATASET}$"), timeout=60_000)
    expect(page.get_by_test_id("series-plot").first).to_be_visible()
    shots("dataset")

    page.get_by_test_id("dataset-train").click()
    expect(page.get_by_test_id("train-model")).to_have_value("fcn1d")
    normal = page.get_by_test_id("train-normal-class")
    expect(normal).to_be_hidden()
    page.get_by_test_id("train-task").select_option("anomaly")
    expect(normal).to_be_visible()
    expect(normal).to_have_value("ok")
    expect(page.get_by_test_id("train-model")).to_have_value("autoencoder1d")
    page.get_by_test_id("train-epochs").fill("3")
    shots("train-form")
    page.get_by_test_id("train-start").click()
    expect(page.get_by_test_id("train-error")).to_be_hidden()
    run = finished_run(page)
    shots("trained")

    evaluation = client.get(f"/api/runs/{run}/evaluation").json()
    assert evaluation["task"] == "anomaly" and evaluation["normal_class"] == "ok", evaluation
    page.get_by_test_id("live-results").click()
    expect(page.get_by_test_id("view-results")).to_be_visible()
    expect(page.get_by_test_id("threshold-rule")).to_be_visible()
    expect(page.get_by_test_id("threshold-rule")).to_contain_text(
        evaluation["metrics"]["threshold_rule"]
    )
    cells = page.get_by_test_id("cm-cell")
    expect(cells).to_have_count(4)
    counts = [int(cells.nth(i).get_attribute("data-count")) for i in range(4)]
    assert sum(counts) == evaluation["num_samples"], (counts, evaluation["num_samples"])
    charts = page.get_by_test_id("reconstructions").get_by_test_id("eval-reconstruction")
    expect(charts.first).to_be_visible()
    expect(charts.first).not_to_have_attribute("data-points", "0")
    # the input and its reconstruction: two lines of LENGTH points
    assert int(charts.first.get_attribute("data-points")) == 2 * LENGTH
    shots("results")

    page.get_by_test_id("run-try").click()
    sample = pick_sample(page)
    verdict = page.get_by_test_id("anomaly-verdict")
    expect(verdict).to_be_visible()
    answer = client.post(f"/api/runs/{run}/predict", json={"sample": int(sample)}).json()
    assert answer["is_anomaly"] == (answer["score"] > answer["threshold"]), answer
    expect(verdict).to_have_attribute("data-anomaly", str(answer["is_anomaly"]).lower())
    expect(page.get_by_test_id("anomaly-score")).to_be_visible()
    shown = numbers(page.get_by_test_id("anomaly-score").inner_text())
    assert shown[0] == pytest.approx(answer["score"], rel=1e-3, abs=1e-4), shown
    assert shown[1] == pytest.approx(answer["threshold"], rel=1e-3, abs=1e-4), shown
    expect(page.get_by_test_id("try-reconstruction")).not_to_have_attribute("data-points", "0")
    expect(page.get_by_test_id("predict-truth")).to_be_visible()
    expect(page.get_by_test_id("predict-truth")).to_contain_text(f"#{sample}")
    expect(page.get_by_test_id("predict-truth")).to_contain_text(answer["truth"])
    shots("try")


def test_forecasting_train_results_try_and_german(
    page: Any, shots: Any, client: httpx.Client
) -> None:
    info = client.get("/api/datasets/seasonal").json()
    horizon = info["meta"]["forecast"]["horizon"]

    page.goto("/#/train")
    page.get_by_test_id("train-dataset").select_option("seasonal")
    page.get_by_test_id("train-model").select_option("mlp")
    expect(page.get_by_test_id("train-task")).to_have_value("")  # the dataset's own task
    page.get_by_test_id("train-epochs").fill("3")
    shots("train-form")
    page.get_by_test_id("train-start").click()
    expect(page.get_by_test_id("train-error")).to_be_hidden()
    run = finished_run(page)
    shots("trained")

    evaluation = client.get(f"/api/runs/{run}/evaluation").json()
    assert evaluation["task"] == "forecasting", evaluation["task"]
    assert "naive_mae" in evaluation["metrics"], evaluation["metrics"].keys()
    page.get_by_test_id("live-results").click()
    charts = page.get_by_test_id("forecasts").get_by_test_id("eval-forecast")
    expect(charts.first).to_be_visible()
    expect(charts.first).not_to_have_attribute("data-points", "0")
    window = info["meta"]["forecast"]["window"]
    # the past window, then truth and forecast each joined to its last value
    assert int(charts.first.get_attribute("data-points")) == window + 2 * (horizon + 1)
    expect(page.get_by_test_id("eval-metrics")).to_contain_text(strings("en")["metric.naive_mae"])
    shots("results")

    page.get_by_test_id("run-try").click()
    sample = pick_sample(page)
    value = page.get_by_test_id("predicted-value")
    expect(value).to_be_visible()
    answer = client.post(f"/api/runs/{run}/predict", json={"sample": int(sample)}).json()
    assert len(answer["values"]) == horizon
    forecast = numbers(value.inner_text())
    assert len(forecast) == horizon, forecast
    assert forecast == pytest.approx(answer["values"], rel=1e-2, abs=1e-2)
    expect(page.get_by_test_id("try-forecast")).not_to_have_attribute("data-points", "0")
    expect(page.get_by_test_id("predict-truth")).to_be_visible()
    expect(page.get_by_test_id("predict-truth")).to_contain_text(f"#{sample}")
    shots("try")

    page.get_by_role("link", name=strings("en")["try.backToResults"]).click()
    expect(page.get_by_test_id("eval-forecast").first).not_to_have_attribute("data-points", "0")
    page.get_by_test_id("lang-switch").select_option("de")  # the results render anew
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page).to_have_url(re.compile(rf"#/runs/{run}$"))
    de = strings("de")
    expect(page.get_by_text(de["results.forecasts"])).to_be_visible()
    expect(page.get_by_test_id("eval-metrics")).to_contain_text(de["metric.naive_mae"])
    expect(page.get_by_test_id("eval-forecast").first).not_to_have_attribute("data-points", "0")
    shots("results-german")
