"""The run page of a generative run (issue 15): the grid of the same latent points after
each epoch, getting better as the VAE trains, then the latent map and an interpolation
(en + de); two screenshots into artifacts/generate/."""

from __future__ import annotations

import io
from typing import Any

import httpx
import numpy as np
from PIL import Image
from playwright.sync_api import expect
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import strings
from tests.serving.helpers import wait_for

EPOCHS = 12


def _contrast(png: bytes) -> float:
    """The spread of a grid's grey values: a fresh decoder draws flat grey, a trained one
    white strokes on black."""
    return float(np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64).std())


def test_the_samples_grid_gets_better_over_the_epochs(page: Any, client: httpx.Client) -> None:
    en, de = strings("en"), strings("de")
    body = {
        "dataset": "smileys",
        "model": "vae",
        "train": {"task": "generate", "epochs": EPOCHS, "seed": 0},
    }
    job = client.post("/api/runs", json=body)
    assert job.status_code == 202, job.text
    job = job.json()
    run = job["run_id"] or wait_for(
        lambda: client.get(f"/api/jobs/{job['job_id']}").json()["run_id"], 120
    )
    page.goto(f"/#/runs/{run}")
    panel = page.get_by_test_id("generated-panel")
    expect(panel).to_be_visible(timeout=120_000)  # while training: after its first epoch
    expect(panel.get_by_role("heading")).to_have_text(en["generate.title"])
    wait_for(lambda: client.get(f"/api/runs/{run}").json()["status"] == "finished", 300, every=0.5)
    expect(page.get_by_test_id("generated-latent-map")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("generated-interpolation")).to_be_visible()
    grid, slider = page.get_by_test_id("generated-grid"), page.get_by_test_id("generated-slider")
    expect(grid).to_have_attribute("data-epoch", str(EPOCHS))
    expect(slider).to_have_attribute("max", str(EPOCHS))
    shots = ARTIFACTS / "generate"
    shots.mkdir(parents=True, exist_ok=True)
    slider.fill("1")
    expect(grid).to_have_attribute("data-epoch", "1")
    expect(page.get_by_test_id("generated-epoch")).to_have_text("after epoch 1")
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=generated-grid]');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    panel.screenshot(path=str(shots / "epoch-first.png"))
    slider.fill(str(EPOCHS))
    expect(grid).to_have_attribute("data-epoch", str(EPOCHS))
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=generated-grid]');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    panel.screenshot(path=str(shots / "epoch-last.png"))
    # the grid the page shows got better: from flat grey to strokes
    first = client.get(f"/api/runs/{run}/generated/epoch-0001.png").content
    last = client.get(f"/api/runs/{run}/generated/epoch-{EPOCHS:04d}.png").content
    assert _contrast(last) > _contrast(first) + 20, (_contrast(first), _contrast(last))

    page.evaluate("() => localStorage.setItem('lernwerk.lang', 'de')")
    page.reload()
    panel = page.get_by_test_id("generated-panel")
    expect(panel.get_by_role("heading")).to_have_text(de["generate.title"], timeout=30_000)
    expect(page.get_by_test_id("generated-epoch")).to_have_text(f"nach Epoche {EPOCHS}")


def test_a_classifier_run_shows_no_samples_panel(page: Any, client: httpx.Client) -> None:
    body = {"dataset": "smileys:per_class=20", "model": "smiley-cnn", "train": {"epochs": 1}}
    job = client.post("/api/runs", json=body).json()
    run = job["run_id"] or wait_for(
        lambda: client.get(f"/api/jobs/{job['job_id']}").json()["run_id"], 120
    )
    wait_for(lambda: client.get(f"/api/runs/{run}").json()["status"] == "finished", 300, every=0.5)
    page.goto(f"/#/runs/{run}")
    expect(page.get_by_test_id("evaluation")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("generated-panel")).to_be_hidden()
