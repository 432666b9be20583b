"""The quality-control assistant in Chromium: report.html as `lernwerk inspect` writes it,
and the page's "Inspect a batch" with a correction that lands in the dataset."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image
from tests.e2e.conftest import Shots
from tests.e2e.test_new_user import image_dataset, trained
from tests.serving.helpers import wait_for

SIZE = 16


def stripes(k: int, value: float = 0.9, seed: int = 0) -> np.ndarray:
    """A (SIZE, SIZE) uint8 image brighter in stripe k of two, as `image_dataset` draws."""
    rng = np.random.default_rng(seed)
    img = rng.uniform(0, 0.3, (SIZE, SIZE))
    img[:, k * SIZE // 2 : (k + 1) * SIZE // 2] += value - 0.3
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_html_report_opens_flagged_first_with_thumbnails(
    page: Any, shots: Shots, tmp_path: Path
) -> None:
    from lernwerk.api import Workspace

    ws = Workspace(tmp_path / "ws")
    run = ws.fit("smileys:per_class=8", "mlp", epochs=1, seed=0, name="faces")
    ds = ws.load_dataset(run.record.dataset)
    folder = tmp_path / "batch"
    folder.mkdir()
    for i in range(10):
        Image.fromarray((ds.x[i].numpy()[0] * 255).astype(np.uint8)).save(folder / f"{i:02d}.png")
    (folder / "torn.png").write_bytes(b"\x89PNG torn")
    result = run.inspect(folder, tmp_path / "report", review_rate=0.3)
    page.goto((tmp_path / "report" / "report.html").as_uri())
    assert page.title().startswith("Inspection")
    summary = page.locator("#summary")
    assert "to review" in summary.inner_text() and "unreadable" in summary.inner_text()
    headings = page.locator("h2").all_inner_texts()
    assert headings[0] == f"Flagged for review ({result.flagged})" == "Flagged for review (3)"
    assert headings[1:] == ["Unreadable (1)", "The rest (7)"]
    flagged = page.locator(".card.flag")
    assert flagged.count() == 3
    # thumbnails are inline and decoded by the browser
    widths = page.eval_on_selector_all(".card img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == 10 and all(w == 28 for w in widths)
    confidences = [
        float(t.split()[-2]) for t in flagged.locator("div:nth-child(3)").all_inner_texts()
    ]
    assert confidences == sorted(confidences)  # the least sure first
    assert "torn.png" in page.locator(".list").inner_text()
    shots("report")


def test_inspect_a_batch_and_correct_an_item_into_the_dataset(
    page: Any, shots: Shots, client: httpx.Client, tmp_path: Path
) -> None:
    image_dataset(client, "qc-parts", SIZE, ["left", "right"], 8)
    run = trained(
        client,
        {"dataset": "qc-parts", "model": "perceptron", "train": {"epochs": 1, "batch_size": 4}},
    )
    archive = tmp_path / "shift.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(3):
            z.writestr(f"tray/l{i}.png", png(stripes(0, seed=i)))
            z.writestr(f"tray/r{i}.png", png(stripes(1, seed=10 + i)))
        z.writestr("tray/blurred.png", png(stripes(0, value=0.45, seed=99)))  # unsure
        z.writestr("tray/broken.png", b"not an image")
    before = client.get("/api/datasets/qc-parts").json()

    page.goto(f"/#/runs/{run}")
    page.get_by_test_id("run-inspect").click()
    page.get_by_test_id("view-inspect").wait_for()
    page.get_by_test_id("inspect-drop-input").set_input_files(str(archive))
    page.get_by_test_id("inspect-start").click()
    status = page.get_by_test_id("inspect-status")
    wait_for(lambda: "to review" in status.inner_text(), 60)
    assert "8 items" in status.inner_text() and "1 unreadable" in status.inner_text()
    flagged = page.get_by_test_id("inspect-flagged").get_by_test_id("inspect-item")
    assert flagged.count() >= 1
    assert "broken.png" in page.get_by_test_id("inspect-unreadable").inner_text()
    shots("flagged-first")

    card = flagged.first
    item = card.get_attribute("data-item")
    predicted = card.get_by_test_id("inspect-predicted").inner_text()
    right = "right" if predicted == "left" else "left"
    card.get_by_test_id("inspect-class").select_option(right)
    card.get_by_test_id("inspect-correct").click()
    note = card.get_by_test_id("inspect-item-note")
    wait_for(lambda: "qc-parts" in note.inner_text(), 30)
    assert card.get_attribute("data-state") == "corrected"
    after = client.get("/api/datasets/qc-parts").json()
    assert after["num_samples"] == before["num_samples"] + 1, item
    assert after["class_counts"][right] == before["class_counts"][right] + 1
    if flagged.count() > 1:
        flagged.nth(1).get_by_test_id("inspect-confirm").click()
        assert flagged.nth(1).get_attribute("data-state") == "confirmed"
    shots("corrected")

    # German: the same page in the other language
    page.get_by_test_id("lang-switch").select_option("de")
    page.get_by_test_id("inspect-start").wait_for()
    assert page.get_by_test_id("inspect-start").inner_text() == "Prüfen"
    shots("german")
