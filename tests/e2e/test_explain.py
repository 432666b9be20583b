"""Try-it's "Why?": a drawing's saliency (integrated gradients, Grad-CAM) and the feature
maps of each convolution layer; a table row's per-feature attributions (en + de)."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
from playwright.sync_api import expect
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import draw, face, strings
from tests.serving.helpers import wait_for


def _train(client: httpx.Client, dataset: str, model: str, epochs: int) -> str:
    body = {"dataset": dataset, "model": model, "train": {"epochs": epochs, "seed": 0}}
    job = client.post("/api/runs", json=body)
    assert job.status_code == 202, job.text
    job = job.json()
    run = job["run_id"] or wait_for(
        lambda: client.get(f"/api/jobs/{job['job_id']}").json()["run_id"], 120
    )
    wait_for(lambda: client.get(f"/api/runs/{run}").json()["status"] == "finished", 300, every=0.5)
    return run


def test_why_shows_saliency_and_feature_maps_of_a_drawing(page: Any, client: httpx.Client) -> None:
    en, de = strings("en"), strings("de")
    run = _train(client, "smileys", "smiley-cnn", 3)
    page.goto(f"/#/runs/{run}/try")
    canvas = page.get_by_test_id("draw-canvas")
    expect(canvas).to_be_visible(timeout=30_000)
    draw(page, canvas, face("smile", np.random.default_rng(5)))
    expect(page.get_by_test_id("predicted-class")).to_be_visible(timeout=30_000)
    button = page.get_by_test_id("explain-button")
    expect(button).to_have_text(en["explain.button"])
    button.click()
    expect(page.get_by_test_id("explain-saliency")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("explain-gradcam")).to_be_visible()
    layers = page.get_by_test_id("explain-feature-layer")
    expect(layers).to_have_count(3)  # smiley-cnn's three convolution layers
    expect(layers.nth(0)).to_contain_text("16 of 32 maps")
    predicted = page.get_by_test_id("predicted-class").inner_text()
    expect(page.get_by_test_id("explain-result")).to_contain_text(f"“{predicted}”")
    # the saliency map is not blank: some pixels decided more than others
    spread = page.get_by_test_id("explain-saliency").evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  let lo = 255, hi = 0; for (let i = 0; i < d.length; i += 4) {
                  lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); } return hi - lo; }"""
    )
    assert spread > 100
    ARTIFACTS.joinpath("explain").mkdir(parents=True, exist_ok=True)
    page.get_by_test_id("prediction").screenshot(path=str(ARTIFACTS / "explain" / "drawing.png"))

    page.evaluate("() => localStorage.setItem('lernwerk.lang', 'de')")
    page.reload()
    canvas = page.get_by_test_id("draw-canvas")
    expect(canvas).to_be_visible(timeout=30_000)
    draw(page, canvas, face("sad", np.random.default_rng(6)))
    expect(page.get_by_test_id("explain-button")).to_have_text(de["explain.button"], timeout=30_000)
    page.get_by_test_id("explain-button").click()
    expect(page.get_by_test_id("explain-feature-layer").nth(0)).to_contain_text(
        "16 von 32 Karten", timeout=60_000
    )


def test_why_shows_feature_attributions_of_a_table_row(page: Any, client: httpx.Client) -> None:
    run = _train(client, "moons", "mlp", 2)
    page.goto(f"/#/runs/{run}/try")
    expect(page.get_by_test_id("feature-x1")).to_be_visible(timeout=30_000)
    page.get_by_test_id("feature-x1").fill("1.5")
    page.get_by_test_id("feature-x2").fill("-0.3")
    page.get_by_test_id("predict-table").click()
    expect(page.get_by_test_id("predicted-class")).to_be_visible(timeout=30_000)
    page.get_by_test_id("explain-button").click()
    bars = page.get_by_test_id("explain-feature")
    expect(bars).to_have_count(2, timeout=60_000)
    names = bars.evaluate_all("els => els.map(e => e.dataset.name)")
    assert names == ["x1", "x2"]
    page.get_by_test_id("prediction").screenshot(path=str(ARTIFACTS / "explain" / "table.png"))
