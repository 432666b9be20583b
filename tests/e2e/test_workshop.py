"""A workshop in browsers: two participants join under their names, neither sees the
other's data; the trainer's room shows both, with their datasets (en + de)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import strings
from tests.serving.helpers import ProcessServer

TRAINER = "room-key-42"


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessServer]:
    server = ProcessServer(
        tmp_path_factory.mktemp("workshop-e2e") / "ws", "--workshop", "--token", TRAINER,
        "--workers", "2",
    )  # fmt: skip
    server.wait_ready()
    yield server
    server.stop()


def _join(browser: Any, room: ProcessServer, name: str) -> tuple[Any, Any, str]:
    context = browser.new_context(base_url=room.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_test_id("join-page")).to_be_visible()
    page.get_by_test_id("join-name").fill(name)
    page.get_by_test_id("join-submit").click()
    expect(page.get_by_test_id("who")).to_have_text(f"You are {name}")
    token = page.evaluate("() => sessionStorage.getItem('lernwerk.token')")
    assert token and "token=" not in page.url  # kept by the page, not left in the address
    return context, page, token


def test_participants_are_apart_and_the_trainer_sees_both(
    browser: Any, room: ProcessServer
) -> None:
    en, de = strings("en"), strings("de")
    ctx_a, page_a, token_a = _join(browser, room, "Ada")
    ctx_b, page_b, _ = _join(browser, room, "Bert")
    try:
        with httpx.Client(base_url=room.url, timeout=60) as api:
            made = api.post(
                "/api/datasets",
                json={"name": "ada-moons", "source": "moons"},
                headers={"Authorization": f"Bearer {token_a}"},
            )
            assert made.status_code == 201, made.text
        page_a.reload()
        cards_a = page_a.get_by_test_id("dataset-card")
        expect(cards_a.filter(has_text="ada-moons")).to_have_count(1)
        page_b.reload()
        expect(page_b.get_by_test_id("dataset-cards")).to_be_visible()
        expect(page_b.get_by_test_id("dataset-cards").locator(".loading")).to_have_count(0)
        expect(page_b.get_by_test_id("dataset-card").filter(has_text="ada-moons")).to_have_count(0)
        page_b.goto("/#/datasets/ada-moons")
        expect(page_b.locator("[role=alert]:visible").first).to_be_visible()
        expect(page_b.get_by_test_id("nav-room")).to_be_hidden()
        ARTIFACTS.joinpath("workshop").mkdir(parents=True, exist_ok=True)
        page_b.screenshot(path=str(ARTIFACTS / "workshop" / "bert.png"))

        trainer = browser.new_context(base_url=room.url, viewport={"width": 1280, "height": 900})
        page_t = trainer.new_page()
        page_t.goto(f"/?token={TRAINER}#/room")
        expect(page_t.get_by_test_id("nav-room")).to_be_visible()
        rows = page_t.get_by_test_id("room-participant")
        expect(rows).to_have_count(2)
        expect(page_t.locator("[data-testid=room-participant][data-name=Ada]")).to_contain_text(
            "ada-moons"
        )
        page_t.screenshot(path=str(ARTIFACTS / "workshop" / "room.png"), full_page=True)
        page_t.get_by_test_id("lang-switch").select_option("de")
        expect(page_t.locator("h1")).to_have_text(de["room.title"])
        assert en["room.title"] != de["room.title"]
        trainer.close()
    finally:
        ctx_a.close()
        ctx_b.close()


def test_join_page_names_a_bad_name(browser: Any, room: ProcessServer, tmp_path: Path) -> None:
    context = browser.new_context(base_url=room.url)
    page = context.new_page()
    page.goto("/join.html")
    page.get_by_test_id("join-name").fill("ada/../x")
    page.get_by_test_id("join-submit").click()
    expect(page.get_by_test_id("join-error")).to_contain_text("cannot hold '/'")
    assert not (Path(room.process.args[5]) / "participants" / "ada").exists()
    context.close()


def test_serve_prints_the_address_for_the_room(tmp_path: Path) -> None:
    server = ProcessServer(tmp_path / "ws", "--workshop", "--host", "0.0.0.0", "--workers", "3")
    try:
        server.wait_ready()
        printed = "\n".join(server.lines)
        participants = next(line for line in server.lines if line.startswith("participants open:"))
        assert "127.0.0.1" not in participants and "0.0.0.0" not in participants
        assert f":{server.port}/" in participants
        assert "the trainer's room:" in printed and "?token=" in printed and "#/room" in printed
        assert "3 trainings at once; more wait in a fair queue" in printed
    finally:
        server.stop()
