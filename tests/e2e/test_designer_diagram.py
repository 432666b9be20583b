"""The designer's diagram: a box per layer with its output shape and parameters, joined
by arrows, following every edit; dragging a box (or Alt+arrow on it) moves its layer."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import strings


def _types(page: Any) -> list[str]:
    return page.get_by_test_id("net-box").evaluate_all("els => els.map(e => e.dataset.type)")


def test_diagram_draws_the_network_and_moves_layers(page: Any) -> None:
    en, de = strings("en"), strings("de")
    page.goto("/#/designer?dataset=digits&model=lenet")
    boxes = page.get_by_test_id("net-box")
    expect(boxes).to_have_count(8, timeout=30_000)
    expect(page.get_by_test_id("net-input")).to_contain_text("1×8×8")
    first = boxes.nth(0)
    expect(first).to_contain_text("Conv2D")
    expect(first.get_by_test_id("net-shape")).to_have_text("16×8×8")
    expect(first).to_contain_text("416 parameters")  # 16 filters of 5×5 on 1 channel, + 16 biases
    ARTIFACTS.joinpath("designer").mkdir(parents=True, exist_ok=True)
    page.get_by_test_id("diagram-panel").screenshot(
        path=str(ARTIFACTS / "designer" / "diagram.png")
    )
    before = _types(page)

    # drag the Flatten box (5th) onto the first: it moves there, the cards follow
    boxes.nth(4).drag_to(boxes.nth(0))
    expect(boxes.nth(0)).to_have_attribute("data-type", "Flatten")
    assert _types(page) == [before[4], *before[:4], *before[5:]]
    cards = page.get_by_test_id("layers").locator("> li")
    expect(cards.nth(0)).to_contain_text("Flatten")
    # a Conv2D after Flatten does not fit: its box says so
    expect(page.locator(".net-box.misfit")).to_have_count(1, timeout=15_000)
    page.get_by_test_id("diagram-panel").screenshot(path=str(ARTIFACTS / "designer" / "misfit.png"))

    # by keyboard: Alt+ArrowDown on the first box moves Flatten back down, focus follows
    boxes.nth(0).focus()
    for _ in range(4):
        page.keyboard.press("Alt+ArrowDown")
    assert _types(page) == before
    expect(page.locator(".net-box.misfit")).to_have_count(0, timeout=15_000)
    focused = page.evaluate("() => document.activeElement.dataset.index")
    assert focused == "4"

    page.evaluate("() => localStorage.setItem('lernwerk.lang', 'de')")
    page.reload()
    expect(page.get_by_test_id("diagram-panel").locator("h2")).to_have_text(
        de["diagram.title"], timeout=30_000
    )
    expect(page.get_by_test_id("net-box").nth(0)).to_contain_text("416 Parameter")
    assert en["diagram.title"] != de["diagram.title"]
