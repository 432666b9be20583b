"""An inceptiontime run on the page (issue 17): trained through the API as one run, its
results show each member's curves beside the ensemble's, in English and German, and
Try-it answers with the ensemble's averaged probabilities."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.e2e.helpers import probabilities, strings
from tests.serving.helpers import wait_for

pytestmark = pytest.mark.e2e

DATASET = "italypowerdemand"  # 24 steps, 2 classes
MEMBERS = 5


def _trained(client: httpx.Client) -> str:
    # a validation split as the train page sends (by default a small series set holds none)
    body = {"dataset": DATASET, "model": "inceptiontime", "train": {"epochs": 2, "val_split": 0.2}}
    job = client.post("/api/runs", json=body)
    assert job.status_code == 202, job.text
    job = job.json()
    run = job["run_id"] or wait_for(
        lambda: client.get(f"/api/jobs/{job['job_id']}").json()["run_id"], 120
    )
    wait_for(lambda: client.get(f"/api/runs/{run}").json()["status"] == "finished", 300, every=0.5)
    return run


def test_members_curves_and_try_it(page: Any, shots: Any, client: httpx.Client) -> None:
    run = _trained(client)
    record = client.get(f"/api/runs/{run}").json()
    assert len(record["history"]) == 2 and "member5_val_loss" in record["history"][0]
    en, de = strings("en"), strings("de")
    page.goto(f"/#/runs/{run}")
    curves = page.get_by_test_id("curves")
    expect(curves).to_have_attribute("data-members", str(MEMBERS), timeout=30_000)
    loss = page.get_by_test_id("curve-loss")
    # the ensemble's two lines and one per member, each with its own label
    for n in range(1, MEMBERS + 1):
        label = en["curves.member"].replace("{n}", str(n)).replace("{split}", en["curves.val"])
        expect(loss).to_contain_text(label)
    # every series is drawn: 2 epochs of training and validation, and of each member
    expect(loss).to_have_attribute("data-points", str(2 * (2 + MEMBERS)))
    expect(page.get_by_test_id("curve-metric")).to_have_attribute(
        "data-points", str(2 * (2 + MEMBERS))
    )
    shots("members-en")

    page.evaluate("localStorage.setItem('lernwerk.lang', 'de')")
    page.reload()
    label = de["curves.member"].replace("{n}", "3").replace("{split}", de["curves.val"])
    expect(page.get_by_test_id("curve-loss")).to_contain_text(label, timeout=30_000)
    shots("members-de")
    page.evaluate("localStorage.setItem('lernwerk.lang', 'en')")
    page.reload()

    page.get_by_test_id("run-try").click()
    values = [0.1 * i for i in range(24)]
    csv = ",".join(f"t{i}" for i in range(24)) + "\n" + ",".join(f"{v:.3g}" for v in values)
    page.get_by_test_id("predict-series-file-input").set_input_files(
        files=[{"name": "day.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    # the first answer loads five networks, beside the results page's evaluation: time
    expect(page.get_by_test_id("prob-bar")).to_have_count(2, timeout=120_000)
    expect(page.get_by_test_id("predict-error")).to_be_hidden()
    shown = probabilities(page)
    assert sum(shown.values()) == pytest.approx(1.0, abs=1e-4)
    shots("try")
