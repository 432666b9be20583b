"""Image anomaly detection on the results page: PatchCore trained on good solder joints,
the threshold slider counting flagged parts and missed defects live, the flagged images
with their anomaly maps, and the threshold saved with the run."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

DATASET = "solder-anomaly-e2e"


def numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text.replace(",", ""))]


def trained_patchcore(client: httpx.Client) -> str:
    answer = client.post(
        "/api/datasets", json={"name": DATASET, "from": "solder", "params": {"per_class": 8}}
    )
    assert answer.status_code == 201, answer.text
    job = client.post(
        "/api/runs",
        json={
            "dataset": DATASET,
            "model": "patchcore",
            "train": {"task": "anomaly", "normal_class": "good"},
        },
    ).json()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = client.get(f"/api/jobs/{job['job_id']}").json()
        run = state.get("run_id")
        if run and client.get(f"/api/runs/{run}").json()["status"] == "finished":
            return run
        assert state["status"] not in ("failed", "stopped"), state
        time.sleep(0.5)
    raise AssertionError(f"the run did not finish: {state}")


def test_threshold_slider_counts_flagged_parts_and_saves(
    page: Any, shots: Any, client: httpx.Client
) -> None:
    run = trained_patchcore(client)
    evaluation = client.get(f"/api/runs/{run}/evaluation").json()
    scores = [s["score"] for s in evaluation["scores"]]
    defects = sum(s["anomaly"] for s in evaluation["scores"])
    assert len(scores) == evaluation["num_samples"] and 0 < defects < len(scores)

    page.goto(f"/#/runs/{run}")
    slider = page.get_by_test_id("threshold-slider")
    counts = page.get_by_test_id("threshold-counts")
    expect(slider).to_be_visible()
    flagged = sum(s > evaluation["threshold"] for s in scores)
    expect(counts).to_contain_text(f"{flagged} of {len(scores)} test parts flagged")
    shots("slider")

    slider.fill(slider.get_attribute("max"))  # above every score: nothing flagged
    expect(counts).to_contain_text(f"0 of {len(scores)} test parts flagged")
    expect(counts).to_contain_text(f"{defects} of {defects} defects missed")
    expect(page.get_by_test_id("flagged-sample")).to_have_count(0)

    slider.fill(slider.get_attribute("min"))  # at the lowest score or the threshold below it
    low = float(slider.input_value())
    expect(counts).to_contain_text(f"{sum(s > low for s in scores)} of {len(scores)} test")
    tiles = page.get_by_test_id("flagged-sample")
    expect(tiles.first).to_be_visible()
    expect(tiles.first.locator("canvas.anomaly-map")).to_be_visible()
    shots("flagged")

    middle = sorted(scores)[len(scores) // 2]
    slider.fill(str(middle))
    value = numbers(page.get_by_test_id("threshold-value").inner_text())[0]
    expected = sum(s > float(slider.input_value()) for s in scores)
    expect(counts).to_contain_text(f"{expected} of {len(scores)} test parts flagged")
    page.get_by_test_id("threshold-save").click()
    expect(page.get_by_test_id("threshold-saved")).to_contain_text("saved")
    saved = client.get(f"/api/runs/{run}/evaluation").json()
    assert saved["threshold"] == pytest.approx(float(slider.input_value()), rel=1e-9)
    assert saved["threshold"] == pytest.approx(value, abs=1e-3)
    assert saved["metrics"]["threshold_rule"] == "set by hand"
