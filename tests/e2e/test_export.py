"""The results page's ONNX export: the button, the parity figures, the files (en + de)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import onnxruntime as ort
from playwright.sync_api import expect
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import strings
from tests.serving.helpers import wait_for


def _trained(client: httpx.Client) -> str:
    body = {"dataset": "moons", "model": "mlp", "train": {"epochs": 1}, "name": "onnx-e2e"}
    job = client.post("/api/runs", json=body)
    assert job.status_code == 202, job.text
    job = job.json()
    run = job["run_id"] or wait_for(
        lambda: client.get(f"/api/jobs/{job['job_id']}").json()["run_id"], 120
    )
    wait_for(lambda: client.get(f"/api/runs/{run}").json()["status"] == "finished", 180, every=0.5)
    return run


def test_export_button_shows_parity_and_offers_the_files(
    page: Any, client: httpx.Client, tmp_path: Path
) -> None:
    en, de = strings("en"), strings("de")
    run = _trained(client)
    page.goto(f"/#/runs/{run}")
    panel = page.get_by_test_id("export-panel")
    expect(panel.locator("h2")).to_have_text(en["export.title"])
    page.get_by_test_id("run-export-onnx").click()
    parity = page.get_by_test_id("export-parity")
    expect(parity).to_be_visible(timeout=120_000)
    expect(parity).to_have_attribute("data-passed", "true")
    # moons: 500 points, a test split of 100 samples, all compared
    expect(parity).to_contain_text("Checked on 100 test samples")
    expect(parity).to_contain_text("100.0\u00a0% same class")
    expect(parity).to_contain_text("allowed 1\u00a0·\u00a010\u207b\u2074")
    ARTIFACTS.joinpath("export").mkdir(parents=True, exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / "export" / "en-parity.png"))

    with page.expect_download() as info:
        page.get_by_test_id("export-file-model.onnx").click()
    saved = tmp_path / "model.onnx"
    info.value.save_as(saved)
    session = ort.InferenceSession(str(saved), providers=["CPUExecutionProvider"])
    x = np.array([[0.0, 0.5], [1.5, -0.3]], dtype=np.float32)
    answer = client.post(f"/api/runs/{run}/predict", json={"values": {"x1": 0.0, "x2": 0.5}})
    probs = session.run(None, {"input": x})[0]  # (2, 2): the classes in model.json's order
    np.testing.assert_allclose(probs[0], list(answer.json()["probabilities"].values()), atol=1e-5)
    with page.expect_download() as info:
        page.get_by_test_id("export-file-model.json").click()
    assert info.value.suggested_filename == f"lernwerk-{run}-model.json"

    page.evaluate("() => localStorage.setItem('lernwerk.lang', 'de')")
    page.reload()
    expect(panel.locator("h2")).to_have_text(de["export.title"])
    page.get_by_test_id("run-export-onnx").click()
    expect(parity).to_contain_text("Geprüft an 100 Testbeispielen", timeout=120_000)
    expect(parity).to_contain_text("100,0\u00a0% gleiche Klasse")
    expect(parity).to_contain_text("erlaubt 1\u00a0·\u00a010\u207b\u2074")
    expect(page.get_by_test_id("export-file-model.onnx")).to_have_text("model.onnx herunterladen")
    panel.screenshot(path=str(ARTIFACTS / "export" / "de-parity.png"))


def test_export_refusal_is_shown_in_german(page: Any, client: httpx.Client) -> None:
    body = {"dataset": "moons", "model": "perceptron", "train": {"epochs": 1, "test_split": 0}}
    job = client.post("/api/runs", json=body).json()
    run = job["run_id"] or wait_for(
        lambda: client.get(f"/api/jobs/{job['job_id']}").json()["run_id"], 120
    )
    wait_for(lambda: client.get(f"/api/runs/{run}").json()["status"] == "finished", 180, every=0.5)
    page.goto("/")
    page.evaluate("() => localStorage.setItem('lernwerk.lang', 'de')")
    page.goto(f"/#/runs/{run}")
    page.reload()
    page.get_by_test_id("run-export-onnx").click()
    error = page.get_by_test_id("export-error")
    expect(error).to_contain_text("hat keinen Testteil", timeout=60_000)
    expect(page.get_by_test_id("export-parity")).to_have_count(0)
