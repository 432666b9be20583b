"""The Lessons page: every lesson in English and German, each demo opens its page with the
data and the network it names, and nothing on the way shows an error."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from playwright.sync_api import expect
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import strings


def test_lessons_list_and_every_demo_opens(page: Any) -> None:
    en, de = strings("en"), strings("de")
    page.goto("/#/lessons")
    expect(page.get_by_test_id("nav-lessons")).to_have_attribute("aria-current", "page")
    lessons = page.get_by_test_id("lesson")
    expect(lessons.first).to_be_visible(timeout=30_000)
    ids = lessons.evaluate_all("els => els.map(e => e.dataset.lesson)")
    assert len(ids) >= 17
    for i, lesson in enumerate(ids):
        expect(lessons.nth(i).locator("h2")).to_have_text(en[f"lesson.{lesson}.title"])
    ARTIFACTS.joinpath("lessons").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lessons" / "en.png"), full_page=False)
    demos = page.get_by_test_id("lesson-demo").evaluate_all("els => els.map(e => e.hash)")
    for href in demos:
        page.goto(f"/{href}")
        route, _, query = href[2:].partition("?")
        wanted = {k: v[0] for k, v in parse_qs(query).items()}
        if route == "train":
            expect(page.get_by_test_id("view-train")).to_be_visible(timeout=30_000)
            expect(page.get_by_test_id("train-dataset")).to_have_value(wanted["dataset"])
            expect(page.get_by_test_id("train-model")).to_have_value(wanted["model"])
            if "task" in wanted:  # the GANs lesson opens the page on task generate
                expect(page.get_by_test_id("train-task")).to_have_value(wanted["task"])
        elif route == "playground":
            expect(page.get_by_test_id("view-playground")).to_be_visible(timeout=30_000)
        elif route == "designer":
            expect(page.get_by_test_id("view-designer")).to_be_visible(timeout=30_000)
            expect(page.get_by_test_id("designer-preset")).to_have_value(wanted["model"])
        else:
            expect(page.locator("h1")).to_be_visible(timeout=30_000)
        expect(page.locator("[role=alert]:visible")).to_have_count(0)
    page.goto("/#/lessons")
    page.evaluate("() => localStorage.setItem('lernwerk.lang', 'de')")
    page.reload()
    expect(page.get_by_test_id("lesson").first.locator("h2")).to_have_text(
        de[f"lesson.{ids[0]}.title"], timeout=30_000
    )
    expect(page.get_by_test_id("nav-lessons")).to_have_text(de["nav.lessons"])
    page.screenshot(path=str(ARTIFACTS / "lessons" / "de.png"), full_page=False)
