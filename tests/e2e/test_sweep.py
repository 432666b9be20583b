"""The sweep view: a sweep run from the Python API appears in the list; its page shows the
trials, the best so far, the settings as parallel coordinates and their importances; the
best is trained longer with one click; the view speaks German too."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

import lernwerk

pytestmark = pytest.mark.e2e

DATA = "tabular:rows=300,features=6,informative=3,redundant=1"
SPACE = {
    "lr": {"low": 1e-5, "high": 0.1, "log": True},
    "model.layers.1.units": [8, 32, 64],
    "epochs": 3,
}


def test_the_sweep_view(page: Any, shots: Any, client: httpx.Client) -> None:
    ws = lernwerk.Workspace(client.get("/api/health").json()["workspace"])
    summary = ws.sweep(DATA, "mlp", space=SPACE, trials=5, study="e2e-sweep")
    best = summary["best"]
    finished = summary["counts"].get("COMPLETE", 0)

    page.goto("/#/sweeps")
    row = page.get_by_test_id("sweep-row").filter(has_text="e2e-sweep")
    expect(row).to_contain_text("5 / 5", timeout=60_000)  # the server's first look loads Optuna
    row.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"#/sweeps/e2e-sweep$"))
    expect(page.get_by_test_id("sweep-trial")).to_have_count(5)
    expect(page.get_by_test_id("sweep-summary")).to_contain_text("5 of 5 trials done")
    expect(page.get_by_test_id("sweep-best-line")).to_contain_text(f"trial {best['number']}")
    svg = page.get_by_test_id("sweep-parallel-svg")
    expect(svg).to_have_attribute("data-lines", "5")
    expect(page.locator(".pc-best")).to_have_count(1)
    expect(page.get_by_test_id("sweep-best-chart")).to_have_attribute(
        "data-points", str(2 * finished)
    )  # trial, best
    if finished >= 3:
        expect(page.get_by_test_id("sweep-importance-row")).to_have_count(2)
    best_row = page.locator(f"[data-testid=sweep-trial][data-number='{best['number']}']")
    expect(best_row).to_have_attribute("data-state", "COMPLETE")
    expect(best_row.get_by_role("link")).to_have_text(best["run_id"])
    expect(page.get_by_test_id("sweep-error")).to_be_hidden()
    shots("sweep")

    page.get_by_test_id("lang-switch").select_option("de")
    expect(page.get_by_test_id("sweep-summary")).to_contain_text("5 von 5 Versuchen fertig")
    expect(page.get_by_test_id("sweep-train-best")).to_contain_text("Den besten länger trainieren")
    shots("sweep-de")
    page.get_by_test_id("lang-switch").select_option("en")

    button = page.get_by_test_id("sweep-train-best")
    expect(button).to_contain_text("(6 epochs)")
    button.click()
    expect(page).to_have_url(re.compile(r"#/runs"), timeout=30_000)
    runs = client.get("/api/runs").json()
    longer = [r for r in runs if "best trial #" in (r.get("name") or "")]
    assert len(longer) == 1, [r.get("name") for r in runs]
    shots("best-trained-longer")
