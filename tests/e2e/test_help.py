"""The "?" beside every training setting, every layer type and the charts: a click opens
two to five sentences in the page's language, Escape closes them."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import strings

import lernwerk.models.catalog as catalog


def _sentences(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s])


def test_every_help_text_is_two_to_five_sentences_in_both_languages() -> None:
    en, de = strings("en"), strings("de")
    keys = [k for k in en if k.startswith("help.") and k not in ("help.button", "help.close")]
    assert {f"help.layer.{name}" for name in catalog.LAYERS} <= set(keys)
    for key in keys:
        for table in (en, de):
            assert 1 <= _sentences(table[key]) <= 5, (key, table[key])


def test_help_on_the_train_page_and_in_the_designer(page: Any) -> None:
    en, de = strings("en"), strings("de")
    page.goto("/#/train?dataset=digits&model=lenet")
    expect(page.get_by_test_id("train-model")).to_have_value("lenet", timeout=30_000)
    keys = page.get_by_test_id("help").evaluate_all("els => els.map(e => e.dataset.key)")
    for setting in ("dataset", "model", "task", "optimizer", "lr", "batchSize", "epochs"):
        assert f"train.{setting}" in keys
    lr_help = page.locator("[data-testid=help][data-key='train.lr']")
    note = page.locator("[data-testid=help-note][data-key='train.lr']")
    expect(note).to_be_hidden()
    lr_help.click()
    expect(note).to_have_text(en["help.train.lr"])
    expect(lr_help).to_have_attribute("aria-expanded", "true")
    ARTIFACTS.joinpath("help").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "help" / "train.png"))
    lr_help.press("Escape")
    expect(note).to_be_hidden()

    page.goto("/#/designer?dataset=digits&model=lenet")
    expect(page.get_by_test_id("layer")).to_have_count(8, timeout=30_000)
    conv = page.locator("[data-testid=help][data-key='layer.Conv2D']").first
    conv.focus()
    page.keyboard.press("Enter")  # by keyboard
    expect(page.locator("[data-testid=help-note][data-key='layer.Conv2D']").first).to_have_text(
        en["help.layer.Conv2D"]
    )
    page.evaluate("() => localStorage.setItem('lernwerk.lang', 'de')")
    page.reload()
    flatten = page.locator("[data-testid=help][data-key='layer.Flatten']").first
    expect(flatten).to_be_visible(timeout=30_000)
    flatten.click()
    expect(page.locator("[data-testid=help-note][data-key='layer.Flatten']").first).to_have_text(
        de["help.layer.Flatten"]
    )
