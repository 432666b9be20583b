"""'Show the PyTorch code': in the designer (following the edits) and on a run's page
(the whole file, downloadable), in English and German."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import strings
from tests.e2e.test_export import _trained


def test_designer_shows_the_code_of_the_design_as_it_is_edited(page: Any) -> None:
    en, de = strings("en"), strings("de")
    page.goto("/#/designer?dataset=moons&model=mlp")
    expect(page.get_by_test_id("layers").locator("li")).to_have_count(4, timeout=30_000)
    show = page.get_by_test_id("designer-code-show")
    expect(show).to_have_text(en["code.show"])
    show.click()
    code = page.get_by_test_id("designer-code-text")
    expect(code).to_contain_text("class Net(nn.Module):")
    expect(code).to_contain_text("nn.Linear(2, 64)")  # moons: two features in
    expect(code).to_contain_text("nn.Linear(32, 2)")  # two classes out
    ARTIFACTS.joinpath("code").mkdir(parents=True, exist_ok=True)
    page.get_by_test_id("designer-code").screenshot(path=str(ARTIFACTS / "code" / "designer.png"))
    show.click()  # hide, then ask again after an edit: the code follows the design
    expect(code).to_be_hidden()
    page.get_by_test_id("layer-add-type").select_option("Dropout")
    page.get_by_test_id("layer-add").click()
    show.click()
    expect(code).to_contain_text("# 5: Dropout")
    page.evaluate("() => localStorage.setItem('lernwerk.lang', 'de')")
    page.reload()
    expect(page.get_by_test_id("designer-code-show")).to_have_text(de["code.show"], timeout=30_000)


def test_run_page_shows_and_downloads_the_whole_file(
    page: Any, client: httpx.Client, tmp_path: Path
) -> None:
    run = _trained(client)
    page.goto(f"/#/runs/{run}")
    page.get_by_test_id("run-code-show").click()
    code = page.get_by_test_id("run-code-text")
    expect(code).to_contain_text("def load_weights(", timeout=30_000)
    expect(code).to_contain_text("def train(model: nn.Module")
    page.get_by_test_id("export-panel").screenshot(path=str(ARTIFACTS / "code" / "run.png"))
    with page.expect_download() as info:
        page.get_by_test_id("run-code-download").click()
    assert info.value.suggested_filename == "model.py"
    saved = tmp_path / "model.py"
    info.value.save_as(saved)
    assert saved.read_text() == client.get(f"/api/runs/{run}/code").json()["code"]
