"""The train page's settings beyond the basics: the augmentation preview that follows the
augmentation settings (drawn by the server with training's own augmentation), and the
loss and learning-rate schedule, whose choices follow the task and reach the run."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.e2e.helpers import strings

pytestmark = pytest.mark.e2e


def shown_png(page: Any, client: httpx.Client) -> bytes:
    """The PNG the preview shows now, as the server sends it."""
    img = page.get_by_test_id("augment-preview-img")
    expect(img).to_be_visible(timeout=60_000)  # the first draws the built-in: seconds
    src = img.get_attribute("src")
    r = client.get(src)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.text
    return r.content


def test_augmentation_preview_follows_the_settings(page: Any, shots: Any, client) -> None:
    page.goto("/#/train?dataset=smileys")
    expect(page.get_by_test_id("train-dataset")).to_have_value("smileys")
    preview = page.get_by_test_id("augment-preview")
    expect(preview).to_be_visible()
    for key in ("rotation_deg", "shift", "zoom", "flip_horizontal", "brightness"):
        page.get_by_test_id(f"aug-{key}").set_checked(False)
    expect(page.get_by_test_id("augment-preview-hint")).to_have_text(
        strings("en")["augment.previewOff"]
    )
    expect(page.get_by_test_id("augment-preview-img")).to_be_hidden()

    page.get_by_test_id("aug-rotation_deg").set_checked(True)
    img = page.get_by_test_id("augment-preview-img")
    expect(img).to_have_attribute("data-augment", '{"rotation_deg":12}')
    mild = shown_png(page, client)
    preview.scroll_into_view_if_needed()
    shots("preview-rotation-12")

    page.get_by_test_id("aug-rotation_deg-value").fill("90")
    expect(img).to_have_attribute("data-augment", '{"rotation_deg":90}')
    strong = shown_png(page, client)
    assert strong != mild  # other copies for another setting
    page.get_by_test_id("aug-flip_vertical").set_checked(True)
    expect(img).to_have_attribute("data-augment", '{"rotation_deg":90,"flip_vertical":true}')
    flipped = shown_png(page, client)
    assert flipped not in (mild, strong)
    shots("preview-rotation-90-flipped")

    page.get_by_test_id("augment-preview-again").click()  # other random copies
    expect(img).to_have_attribute("data-seed", "1")
    assert shown_png(page, client) != flipped

    # a table has nothing to augment: no preview
    page.get_by_test_id("train-dataset").select_option("xor")
    expect(preview).to_be_hidden()


def test_loss_and_schedule_reach_the_run(page: Any, shots: Any, client: httpx.Client) -> None:
    page.goto("/#/train?dataset=xor")
    loss = page.get_by_test_id("train-loss")
    schedule = page.get_by_test_id("train-schedule")
    expect(loss).to_have_value("")
    options = loss.locator("option")
    expect(options).to_have_count(5)  # the task's default and four losses for classes
    expect(loss.locator("option[value=focal]")).to_have_text("Focal loss")
    expect(loss.locator("option[value=huber]")).to_have_count(0)
    expect(page.get_by_test_id("train-gamma")).to_be_hidden()

    page.locator("[data-testid=help][data-key='train.loss']").click()
    expect(page.locator("[data-testid=help-note][data-key='train.loss']")).to_have_text(
        strings("en")["help.train.loss"]
    )
    loss.select_option("label_smoothing")
    expect(page.get_by_test_id("train-loss-hint")).to_contain_text("90 %")
    schedule.select_option("plateau")
    expect(page.get_by_test_id("train-plateau-factor")).to_be_visible()
    expect(page.get_by_test_id("train-gamma")).to_be_hidden()
    expect(page.get_by_test_id("train-lr-min")).to_be_visible()  # plateau: the lowest rate
    expect(page.get_by_test_id("train-loss-schedule")).to_contain_text("Epochs without improvement")
    page.get_by_test_id("train-plateau-factor").fill("0.25")
    page.get_by_test_id("train-plateau-patience").fill("2")
    page.get_by_test_id("train-epochs").fill("3")
    page.get_by_test_id("train-loss-schedule").scroll_into_view_if_needed()
    shots("loss-schedule")
    page.get_by_test_id("train-start").click()
    expect(page).to_have_url(re.compile(r"#/train\?run=[^&]+$"), timeout=60_000)
    run = page.url.rsplit("run=", 1)[1]
    deadline = time.monotonic() + 120
    while (record := client.get(f"/api/runs/{run}").json())["status"] != "finished":
        assert record["status"] in ("queued", "running") and time.monotonic() < deadline, record
        time.sleep(0.3)
    train = record["config"]["train"]
    assert (train["loss"], train["schedule"]) == ("label_smoothing", "plateau")
    assert (train["plateau_factor"], train["plateau_patience"]) == (0.25, 2)

    # "Change settings and train" fills the form with them again
    page.goto(f"/#/train?from={run}")
    expect(loss).to_have_value("label_smoothing")
    expect(schedule).to_have_value("plateau")
    expect(page.get_by_test_id("train-plateau-factor")).to_have_value("0.25")

    # a regression task offers the losses for values
    page.get_by_test_id("train-task").select_option("regression")
    expect(loss.locator("option[value=huber]")).to_have_count(1)
    expect(loss.locator("option[value=focal]")).to_have_count(0)
    expect(loss).to_have_value("")


def test_loss_and_schedule_in_german(page: Any, shots: Any) -> None:
    de = strings("de")
    page.goto("/#/train?dataset=xor")
    page.evaluate("localStorage.setItem('lernwerk.lang', 'de')")
    page.reload()
    expect(page.get_by_test_id("train-loss").locator("option[value=focal]")).to_have_text(
        de["loss.focal"]
    )
    page.get_by_test_id("train-schedule").select_option("cosine")
    expect(page.get_by_test_id("train-schedule-hint")).to_have_text(de["schedule.cosine.hint"])
    expect(page.get_by_test_id("train-lr-min")).to_be_visible()
    page.get_by_test_id("train-dataset").select_option("smileys")
    page.get_by_test_id("aug-zoom").set_checked(True)
    expect(page.get_by_test_id("augment-preview-hint")).to_contain_text("Kopien")
    img = page.get_by_test_id("augment-preview-img")
    expect(img).to_be_visible(timeout=60_000)
    expect(img).to_have_attribute("alt", re.compile("veränderten Kopien"))
    page.get_by_test_id("augment-preview").scroll_into_view_if_needed()
    shots("german")
