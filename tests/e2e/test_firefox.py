"""The workbench in Firefox ("works in current Chromium and Firefox"): Debian's firefox-esr,
driven over WebDriver BiDi (tests/e2e/bidi.py), against the same real server as the
Chromium tests. The page renders its views, takes a drawing from the mouse into a
dataset, switches to German, and throws or logs no error on the way."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from tests.e2e.bidi import Firefox, Tab
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import GRID, face, strings
from tests.serving.helpers import ProcessServer

pytestmark = pytest.mark.e2e

DATASET = "firefox-e2e"
CLASSES = ("smile", "sad")


def by_id(testid: str, /, **data: str) -> str:
    """A CSS selector for a test id, narrowed by `data-*` attributes."""
    return f"[data-testid={testid}]" + "".join(f'[data-{k}="{v}"]' for k, v in data.items())


def js(selector: str) -> str:
    return f"document.querySelector({json.dumps(selector)})"


def visible(selector: str) -> str:
    return f"!!{js(selector)}?.checkVisibility()"


def text(selector: str) -> str:
    return f"{js(selector)}?.textContent.trim()"


def loaded(selector: str) -> str:
    """An image that arrived and decoded."""
    return f"{js(selector)}?.complete && {js(selector)}.naturalWidth > 0"


@pytest.fixture(scope="module")
def firefox() -> Iterator[Firefox]:
    path = shutil.which("firefox-esr")
    if path is None:
        pytest.skip(
            "the Firefox tests need Debian's firefox-esr on the PATH (apt-get install firefox-esr)"
        )
    browser = Firefox(path)
    yield browser
    browser.close()


class Shots:
    """Numbered full-page screenshots of one test: `NN-step.png`."""

    def __init__(self, tab: Tab, folder: Path) -> None:
        self.tab, self.folder, self.count = tab, folder, 0
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    def __call__(self, step: str) -> Path:
        self.count += 1
        return self.tab.screenshot(self.folder / f"{self.count:02d}-{step}.png")


@pytest.fixture
def tab(firefox: Firefox, request: pytest.FixtureRequest) -> Iterator[Tab]:
    """The browser's tab at 1280×900; a `failure.png` when the test fails."""
    page = firefox.tab(1280, 900)
    page.record_uncaught()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = ARTIFACTS / request.node.name
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(folder / "failure.png")


def no_problems(tab: Tab, step: str) -> None:
    """No uncaught error, no error in the browser's log, no toast (the page's last resort)."""
    assert not tab.uncaught(), f"{step}: uncaught errors on the page: {tab.uncaught()}"
    assert not tab.errors, f"{step}: the browser logged: {tab.errors}"
    assert not tab.evaluate(visible(by_id("toast"))), f"toast: {tab.evaluate(text('#toast'))}"


def home(tab: Tab, server: ProcessServer, shots: Shots) -> None:
    tab.goto(server.url + "/#/")
    card = by_id("dataset-card", name=DATASET)
    tab.wait_for(visible(card), what=f"the card of {DATASET} on the home view")
    assert tab.evaluate(text(by_id("dataset-cards"))), "no dataset cards"
    assert strings("en")["kind.images"] in tab.evaluate(text(card))
    tab.wait_for(f"{text(by_id('version'))}?.includes('0.')", what="the version in the footer")
    shots("home")
    no_problems(tab, "home")


def draw_a_sample(tab: Tab, client: httpx.Client, shots: Shots) -> None:
    """Open the dataset from its card, draw a face with the mouse, add it to a class."""
    tab.click(by_id("dataset-card", name=DATASET))
    tab.wait_for(f"{text(by_id('dataset-name'))} === {json.dumps(DATASET)}", what="the dataset")
    tab.wait_for(
        f"document.querySelectorAll('{by_id('class-row')}').length === 2", what="2 classes"
    )
    canvas = by_id("draw-canvas")
    tab.wait_for(visible(canvas), what="the drawing canvas")
    x, y, width, height = tab.evaluate(
        f"""(() => {{
          const c = {js(canvas)};
          c.scrollIntoView({{ block: "center" }});
          const r = c.getBoundingClientRect();
          return [r.x, r.y, r.width, r.height];
        }})()"""
    )
    strokes = face("smile", np.random.default_rng(4))
    tab.pointer(
        [[(x + cx / GRID * width, y + cy / GRID * height) for cx, cy in s] for s in strokes]
    )
    # the pad lit cells under the strokes: its canvas is no longer all black
    lit = tab.evaluate(
        f"""(() => {{
          const c = {js(canvas)};
          const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++;
          return n;
        }})()"""
    )
    assert lit > 500, f"the strokes lit only {lit} canvas pixels"
    assert tab.evaluate(f"!{js(by_id('draw-undo'))}.disabled"), "undo stayed disabled"
    shots("drawn")
    tab.click(by_id("draw-add", **{"class": "smile"}))
    count = f"{by_id('class-row', **{'class': 'smile'})} {by_id('class-count')}"
    tab.wait_for(f"{text(count)} === {json.dumps(strings('en')['dataset.count.one'])}")
    assert not tab.evaluate(visible(by_id("draw-error"))), tab.evaluate(text(by_id("draw-error")))
    counts = client.get(f"/api/datasets/{DATASET}").raise_for_status().json()["class_counts"]
    assert counts == {"smile": 1, "sad": 0}, counts
    tile = f"details[data-class=smile] {by_id('sample-tile')} img"
    tab.wait_for(
        f"((el) => el ? (el.scrollIntoView(), true) : false)({js(tile)})",
        what="the drawing in the gallery",
    )
    tab.wait_for(loaded(tile), what="the drawing's image in the gallery")
    shots("dataset-with-drawing")
    no_problems(tab, "dataset")


def designer(tab: Tab, shots: Shots) -> None:
    """From the dataset to the designer: the default preset's layers with the server's sums."""
    tab.click(by_id("dataset-design"))
    tab.wait_for(visible(by_id("view-designer")), what="the designer")
    tab.wait_for(f"{js(by_id('designer-dataset'))}?.value === {json.dumps(DATASET)}")
    layers = f"[...document.querySelectorAll('{by_id('layer')}')]"
    tab.wait_for(
        f"{layers}.length === 8 && {layers}.every((l) => "
        f"l.querySelector('{by_id('layer-summary')}')?.textContent.includes('→'))",
        what="8 layers of smiley-cnn, each with its shape from the server",
    )
    assert tab.evaluate(visible(by_id("total-params")))
    shots("designer")
    no_problems(tab, "designer")


def runs(tab: Tab, shots: Shots) -> None:
    tab.click(by_id("nav-runs"))
    tab.wait_for(visible(by_id("runs-table")), what="the runs table")
    assert tab.evaluate("location.hash") == "#/runs"
    assert tab.evaluate(f"{js(by_id('nav-runs'))}.getAttribute('aria-current')") == "page"
    shots("runs")
    no_problems(tab, "runs")


def german(tab: Tab, shots: Shots) -> None:
    de = strings("de")
    tab.evaluate(
        f"""(() => {{
          const select = {js(by_id("lang-switch"))};
          select.value = "de";
          select.dispatchEvent(new Event("change"));
        }})()"""
    )
    tab.wait_for("document.documentElement.lang === 'de'", what="the page in German")
    tab.wait_for(f"{text('[data-testid=view-runs] h1')} === {json.dumps(de['runs.title'])}")
    assert tab.evaluate(text(by_id("nav-designer"))) == de["nav.designer"]
    tab.wait_for(f"{text(by_id('version'))}?.includes('Arbeitsbereich')")
    shots("runs-german")
    tab.click(by_id("nav-home"))
    tab.wait_for(f"{text('[data-testid=view-home] h1')} === {json.dumps(de['home.title'])}")
    card = by_id("dataset-card", name=DATASET)
    tab.wait_for(f"{text(card)}?.includes({json.dumps(de['kind.images'])})")
    tab.wait_for(loaded(f"{card} img.thumb"), what="the card's thumbnail, the first drawing")
    shots("home-german")
    tab.click(card)
    count = f"{by_id('class-row', **{'class': 'smile'})} {by_id('class-count')}"
    tab.wait_for(f"{text(count)} === {json.dumps(de['dataset.count.one'])}")
    # the server's English description, in the page's language
    description = text(by_id("dataset-description"))
    assert tab.evaluate(description) == de["data.drawnByHand"]
    shots("dataset-german")
    no_problems(tab, "German")


def test_workbench_in_firefox(
    tab: Tab, server: ProcessServer, client: httpx.Client, request: pytest.FixtureRequest
) -> None:
    r = client.post(
        "/api/datasets",
        json={"name": DATASET, "empty": {"classes": list(CLASSES), "image_size": 28}},
    )
    assert r.status_code == 201, r.text
    shots = Shots(tab, ARTIFACTS / request.node.name)
    home(tab, server, shots)
    draw_a_sample(tab, client, shots)
    designer(tab, shots)
    runs(tab, shots)
    german(tab, shots)
