"""A sequence dataset on the page (issue 6): make one from the `process` generator, see
its series, train fcn1d on it, open the results, and try a series uploaded as CSV."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.e2e.helpers import probabilities, shown_percentages

pytestmark = pytest.mark.e2e

DATASET = "process-e2e"
LENGTH = 200  # time steps per curve: the generator's least


def test_sequence_dataset_train_results_and_csv(
    page: Any, shots: Any, client: httpx.Client
) -> None:
    # a generator's own name, when a stored dataset has it, is not suggested again
    r = client.post("/api/datasets", json={"name": "moons", "from": "moons", "params": {}})
    assert r.status_code == 201, r.text
    page.goto("/")
    page.get_by_test_id("new-tab-generator").click()
    page.get_by_test_id("new-gen-source").select_option("moons")
    expect(page.get_by_test_id("new-gen-name")).to_have_value("moons-2")
    assert client.delete("/api/datasets/moons").status_code == 204
    page.get_by_test_id("new-gen-source").select_option("process")
    expect(page.get_by_test_id("new-gen-description")).not_to_be_empty()
    page.get_by_test_id("new-gen-name").fill(DATASET)
    page.get_by_test_id("gen-param-per_class").fill("5")
    page.get_by_test_id("gen-param-length").fill(str(LENGTH))
    shots("generator-form")
    page.get_by_test_id("new-gen-create").click()
    expect(page).to_have_url(re.compile(rf"#/datasets/{DATASET}$"), timeout=60_000)

    info = client.get(f"/api/datasets/{DATASET}").json()
    classes = info["classes"]
    assert info["kind"] == "sequences" and len(classes) >= 2, info
    expect(page.get_by_test_id("dataset-facts")).to_contain_text(str(info["num_samples"]))
    expect(page.get_by_test_id("series-plot")).to_have_count(len(classes))
    expect(page.get_by_test_id("series-plots").locator("canvas").first).to_be_visible()
    shots("dataset")

    page.get_by_test_id("dataset-train").click()
    expect(page.get_by_test_id("train-model")).to_have_value("fcn1d")  # suggested for series
    page.get_by_test_id("train-epochs").fill("2")
    page.get_by_test_id("train-batch-size").fill("8")
    expect(page.get_by_test_id("train-early-stopping")).to_have_value("auto")
    expect(page.get_by_test_id("train-patience")).to_be_hidden()
    page.get_by_test_id("train-early-stopping").select_option("on")
    page.get_by_test_id("train-patience").fill("7")
    page.get_by_test_id("train-start").click()
    expect(page.get_by_test_id("train-error")).to_be_hidden()
    panel = page.get_by_test_id("live-panel")
    expect(panel).to_have_attribute("data-status", "finished", timeout=180_000)
    expect(page.get_by_test_id("curves")).not_to_have_attribute("data-points", "0")
    shots("trained")

    run_id = page.url.rsplit("run=", 1)[1]
    assert client.get(f"/api/runs/{run_id}").json()["config"]["train"]["early_stopping"] == 7
    page.get_by_test_id("live-results").click()
    expect(page.get_by_test_id("view-results")).to_be_visible()
    expect(
        page.get_by_test_id("final-metrics").locator("[data-metric=accuracy]").first
    ).to_be_visible()
    cells = page.get_by_test_id("cm-cell")
    expect(cells).to_have_count(len(classes) ** 2)
    expect(page.get_by_test_id("per-class")).to_be_visible()
    filled = page.locator("[data-testid=cm-cell]:not([data-count='0'])").first
    filled.click()
    expect(page.get_by_test_id("cm-samples").locator("h3").first).to_be_visible()
    shots("results")

    page.get_by_test_id("run-try").click()
    expect(page.get_by_test_id("series-input")).to_be_visible()
    # one of the dataset's own curves, written as a spreadsheet would: one series per row
    series = info["series"][0]
    values = series["values"][0] if isinstance(series["values"][0], list) else series["values"]
    assert len(values) == LENGTH
    csv = ",".join(f"t{i}" for i in range(LENGTH)) + "\n" + ",".join(f"{v:.5g}" for v in values)
    page.get_by_test_id("predict-series-file-input").set_input_files(
        files=[{"name": "curve.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    expect(page.get_by_test_id("predict-error")).to_be_hidden()
    expect(page.get_by_test_id("prob-bar")).to_have_count(len(classes))
    shown = probabilities(page)
    assert set(shown) == set(classes)
    assert sum(shown.values()) == pytest.approx(1.0, abs=1e-4)
    assert sum(shown_percentages(page)) == pytest.approx(100.0, abs=0.1 * len(shown))
    expect(page.get_by_test_id("predicted-class")).to_have_text(max(shown, key=shown.get))
    shots("try-csv")
    # a file that cannot be read: its error, and no longer the answer for the last one
    page.get_by_test_id("predict-series-file-input").set_input_files(
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": b"a,b\nx,y\n"}]
    )
    expect(page.get_by_test_id("predict-error")).to_be_visible()
    expect(page.get_by_test_id("prob-bar")).to_have_count(0)
    expect(page.get_by_test_id("predicted-class")).to_have_count(0)
