"""A new user's findings of issue 16, each on the page: the designer's first view, Try it,
the train page's datasets, names and defaults, the empty home page, `serve --host
0.0.0.0` and its token page, drawing, charts and numbers, and deleting with Undo.
Screenshots of each view, in English and German, go to the test's artifacts folder."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect
from tests.e2e.conftest import ARTIFACTS, PageProblems
from tests.e2e.helpers import strings
from tests.serving.helpers import ProcessServer, wait_for

from lernwerk.cli.serve import lan_address

pytestmark = pytest.mark.e2e

CLASSES4 = ["up", "down", "left", "right"]


def german(page: Any) -> None:
    """Switch the page to German (kept in localStorage) and reload."""
    page.evaluate("() => localStorage.setItem('lernwerk.lang', 'de')")
    page.reload()


def shoot(page: Any, folder: str, step: str) -> None:
    path = ARTIFACTS / folder
    path.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path / f"{step}.png"), full_page=True)


def image_dataset(client: httpx.Client, name: str, size: int, classes: list[str], n: int) -> None:
    """An empty grey dataset of size×size with `n` random-ish samples per class."""
    r = client.post(
        "/api/datasets", json={"name": name, "empty": {"classes": classes, "image_size": size}}
    )
    assert r.status_code == 201, r.text
    rng = np.random.default_rng(1)
    for k, cls in enumerate(classes):
        for _ in range(n):
            img = rng.uniform(0, 0.3, (size, size))
            img[:, k * size // len(classes) : (k + 1) * size // len(classes)] += 0.6
            pixels = np.clip(img, 0, 1).round(3).tolist()
            assert (
                client.post(
                    f"/api/datasets/{name}/samples", json={"label": cls, "pixels": pixels}
                ).status_code
                == 201
            )


def trained(client: httpx.Client, body: dict[str, Any]) -> str:
    job = client.post("/api/runs", json=body)
    assert job.status_code == 202, job.text
    job = job.json()
    run = job["run_id"] or wait_for(
        lambda: client.get(f"/api/jobs/{job['job_id']}").json()["run_id"], 120
    )
    wait_for(lambda: client.get(f"/api/runs/{run}").json()["status"] == "finished", 180, every=0.5)
    return run


# -- 7: the designer opens on the dataset last used, with a preset that fits -----------------


def test_designer_opens_on_last_dataset_with_a_fitting_preset(
    page: Any, client: httpx.Client
) -> None:
    image_dataset(client, "tiny8-e2e", 8, ["a", "b"], 2)
    page.goto("/#/datasets/tiny8-e2e")
    expect(page.get_by_test_id("dataset-name")).to_have_text("tiny8-e2e")
    page.get_by_test_id("nav-designer").click()
    expect(page.get_by_test_id("designer-dataset")).to_have_value("tiny8-e2e")
    expect(page.get_by_test_id("designer-preset")).to_have_value("lenet")
    expect(page.get_by_test_id("total-params")).to_be_visible()
    expect(page.locator(".layer.misfit")).to_have_count(0)
    expect(page.get_by_test_id("designer-error")).to_be_hidden()
    shoot(page, "new-user-designer", "en")
    german(page)
    expect(page.get_by_test_id("total-params")).to_be_visible()
    shoot(page, "new-user-designer", "de")


# -- 8 and 15: Try it, misclassified cards, charts ---------------------------------------------


def test_try_it_clear_percent_cards_and_charts(page: Any, client: httpx.Client) -> None:
    en = strings("en")
    image_dataset(client, "four8-e2e", 8, CLASSES4, 6)
    run = trained(
        client, {"dataset": "four8-e2e", "model": "lenet", "train": {"epochs": 2, "val_split": 0.5}}
    )
    page.goto(f"/#/runs/{run}/try")
    expect(page.get_by_test_id("prediction-empty")).to_have_text(en["try.nothingYetImage"])
    canvas = page.get_by_test_id("draw-canvas")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2, steps=8)
    page.mouse.up()
    expect(page.get_by_test_id("prob-bar")).to_have_count(4)
    # "100.0 %" stays on one line: as high as the class name beside it
    value = page.get_by_test_id("prob-value").first
    value.evaluate("el => { el.textContent = '100.0\\u00a0%'; }")
    label = page.locator("[data-testid=prob-bar] .label").first
    assert value.bounding_box()["height"] <= label.bounding_box()["height"] * 1.3
    shoot(page, "new-user-try", "en-answer")
    page.get_by_test_id("draw-clear").click()
    expect(page.get_by_test_id("prob-bar")).to_have_count(0)
    expect(page.get_by_test_id("prediction-empty")).to_be_visible()
    shoot(page, "new-user-try", "en-cleared")

    # the misclassified cards list every class of four
    page.goto(f"/#/runs/{run}")
    cards = page.get_by_test_id("eval-sample")
    expect(cards.first).to_be_visible(timeout=60_000)
    assert cards.first.locator("figcaption > div.muted").count() == 4
    # a chart's legend names the lines; values only under the cursor
    chart = page.get_by_test_id("curve-loss")
    expect(chart.locator(".u-legend")).to_be_visible()
    page.mouse.move(5, 5)
    expect(chart.locator(".u-legend .u-value").first).to_be_hidden()
    plot = chart.locator(".u-over")
    plot.hover()
    expect(chart.locator(".u-legend .u-value").first).to_be_visible()
    page.mouse.move(5, 5)
    shoot(page, "new-user-results", "en")
    german(page)
    expect(page.get_by_test_id("eval-sample").first).to_be_visible(timeout=60_000)
    shoot(page, "new-user-results", "de")
    # one number format: four digits are grouped like five (compact FLOPs beside parameters)
    formats = page.evaluate(
        "async () => { const f = await import('./fmt.js');"
        " return [f.compact(1152), f.int(20736), f.int(1152), f.pct(1)]; }"
    )
    assert formats == ["1.152", "20.736", "1.152", "100,0\u00a0%"], formats

    xor_run = trained(client, {"dataset": "moons", "model": "mlp", "train": {"epochs": 1}})
    page.goto(f"/#/runs/{xor_run}/try")
    expect(page.get_by_test_id("prediction-empty")).to_have_text(
        strings("de")["try.nothingYetTable"]
    )
    shoot(page, "new-user-try", "de-table")


# -- 9, 10, 11, 16, 17: the train page ------------------------------------------------------


def taken(client: httpx.Client) -> set[str]:
    return {r["name"] for r in client.get("/api/runs").json() if r.get("name")}


def numbered(base: str, sep: str, names: set[str]) -> str:
    """`base`, else `base` with the first free number from 2."""
    if base not in names:
        return base
    n = 2
    while f"{base}{sep}{n}" in names:
        n += 1
    return f"{base}{sep}{n}"


def test_train_page_datasets_defaults_and_names(page: Any, client: httpx.Client) -> None:
    en, de = strings("en"), strings("de")
    r = client.post(
        "/api/datasets", json={"name": "xor", "from": "xor", "params": {"samples": 200}}
    )
    assert r.status_code in (201, 409), r.text
    page.goto("/#/train?dataset=xor")
    dataset = page.get_by_test_id("train-dataset")
    expect(dataset).to_have_value("xor")
    # 9: the stored xor once, marked as the user's with its samples; the built-in one is gone
    assert dataset.locator("option[value=xor]").count() == 1
    assert "200" in dataset.locator("option[value=xor]").inner_text()
    assert "built-in" in dataset.locator("option[value=smileys]").inner_text()
    # 11: the learning rate and batch size the server would use, before training
    want = client.get("/api/datasets/xor/train-defaults").json()
    expect(page.get_by_test_id("train-lr")).to_have_attribute(
        "placeholder", f"{want['lr']:g} (default)"
    )
    expect(page.get_by_test_id("train-batch-size")).to_have_attribute(
        "placeholder", f"{want['batch_size']} (default)"
    )
    # 16: one rule for the preset: the built-in 28×28 smileys get smiley-cnn, as drawn ones do
    dataset.select_option("smileys")
    expect(page.get_by_test_id("train-model")).to_have_value("smiley-cnn")
    # 17: a dataset with its own test split says so at the validation share
    dataset.select_option("gunpoint")
    hint = page.get_by_test_id("train-val-split-hint")
    expect(hint).to_have_attribute("data-fixed-test", "true")
    expect(hint).to_contain_text("own test split")
    shoot(page, "new-user-train", "en-fixed-split")
    dataset.select_option("xor")
    expect(hint).to_have_attribute("data-fixed-test", "false")
    # 10: automatic names are numbered, in the page's language
    name = page.get_by_test_id("train-name")
    expect(name).to_have_attribute("placeholder", numbered("mlp on xor", " #", taken(client)))
    names = []
    for _ in range(2):  # the API's own names: numbered too
        run = trained(client, {"dataset": "xor", "model": "mlp", "train": {"epochs": 1}})
        names.append(client.get(f"/api/runs/{run}").json()["name"])
    assert names[0] != names[1] and names[1].startswith("mlp on xor #"), names
    page.reload()
    expect(name).to_have_attribute("placeholder", numbered("mlp on xor", " #", taken(client)))
    shoot(page, "new-user-train", "en")
    german(page)
    expect(name).to_have_attribute("placeholder", numbered("mlp auf xor", " Nr. ", taken(client)))
    expect(page.get_by_test_id("train-lr")).to_have_attribute(
        "placeholder", f"{want['lr']:g} (Standard)".replace(".", ",")
    )
    assert en["train.autoName"] != de["train.autoName"]
    shoot(page, "new-user-train", "de")


# -- 14: drawing only for grey images; small images drawn finer -----------------------------


def test_drawing_suits_the_images(page: Any, client: httpx.Client) -> None:
    r = client.post(
        "/api/datasets",
        json={"name": "photos-e2e", "empty": {"classes": ["a"], "image_size": 32, "channels": 3}},
    )
    assert r.status_code == 201, r.text
    page.goto("/#/datasets/photos-e2e")
    expect(page.get_by_test_id("add-tab-webcam")).to_be_visible()
    expect(page.get_by_test_id("add-tab-draw")).to_have_count(0)
    shoot(page, "new-user-draw", "en-colour")

    image_dataset(client, "strokes8-e2e", 8, ["line"], 0)
    page.goto("/#/datasets/strokes8-e2e")
    canvas = page.get_by_test_id("draw-canvas")
    box = canvas.bounding_box()
    y = box["y"] + box["height"] / 2  # on the border of two pixel rows, as strokes often are
    page.mouse.move(box["x"] + box["width"] * 0.1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.9, y, steps=10)
    page.mouse.up()
    shoot(page, "new-user-draw", "en-small")
    page.locator("[data-testid=draw-add][data-class=line]").click()
    expect(page.get_by_test_id("draw-error")).to_be_hidden()
    ids = wait_for(lambda: client.get("/api/datasets/strokes8-e2e/samples").json()["samples"])
    png = client.get(f"/api/datasets/strokes8-e2e/samples/{ids[0]['id']}.png?scale=1").content
    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float) / 255  # (8, 8)
    # a stroke as strong as a scanned one: about a pixel's worth of ink in each column
    mass = img[:, 2:6].sum(axis=0)
    assert (mass >= 0.9).all(), img.round(2)
    german(page)
    expect(page.get_by_test_id("draw-fine")).to_be_visible()
    shoot(page, "new-user-draw", "de-small")


# -- 18: delete with Undo -----------------------------------------------------------------


def test_delete_sample_offers_undo(page: Any, client: httpx.Client) -> None:
    image_dataset(client, "undo-e2e", 8, ["a"], 3)
    page.goto("/#/datasets/undo-e2e")
    tiles = page.locator("details[data-class=a] [data-testid=sample-tile]")
    expect(tiles).to_have_count(3)
    first = tiles.first
    first.hover()
    first.get_by_test_id("sample-delete").click()
    expect(first).to_be_hidden()
    expect(page.get_by_test_id("undo-toast")).to_be_visible()
    shoot(page, "new-user-undo", "en")
    page.get_by_test_id("sample-undo").click()
    expect(first).to_be_visible()
    page.wait_for_timeout(7000)
    assert client.get("/api/datasets/undo-e2e/samples").json()["total"] == 3
    german(page)
    tiles.first.hover()
    tiles.first.get_by_test_id("sample-delete").click()
    expect(page.get_by_test_id("undo-toast")).to_contain_text(strings("de")["dataset.undo"])
    shoot(page, "new-user-undo", "de")
    expect(page.get_by_test_id("undo-toast")).to_be_hidden(timeout=15_000)
    wait_for(lambda: client.get("/api/datasets/undo-e2e/samples").json()["total"] == 2, 15)
    expect(tiles).to_have_count(2)


# -- 12 and 13: `serve --host 0.0.0.0`, its token page, the empty home page ------------------


@pytest.fixture(scope="module")
def lan_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ProcessServer, str]]:
    server = ProcessServer(tmp_path_factory.mktemp("lan") / "ws", "--host", "0.0.0.0")
    try:
        server.wait_ready(timeout=120)
        printed = "\n".join(server.lines)
        token = re.search(r"access token \(generated\): (\S+)", printed)
        assert token, printed
        yield server, printed
    finally:
        server.stop()


def test_serve_on_all_addresses_prints_the_lan_address_and_a_token_page(
    browser: Any, lan_server: tuple[ProcessServer, str]
) -> None:
    server, printed = lan_server
    url = re.search(r"at (http://\S+)", printed).group(1)
    assert "127.0.0.1" not in url, printed
    host = lan_address()
    assert f"http://{host}:{server.port}/?token=" in url, printed
    token = url.split("?token=")[1]
    assert httpx.get(server.url + "/api/health").status_code == 401  # the API keeps its JSON
    assert httpx.get(server.url + "/api/health").json()["error"] == "Unauthorized"
    for lang in ("en", "de"):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=f"{lang}-DE")
        page = context.new_page()
        problems = PageProblems(page)
        answer = page.goto(server.url + "/")
        assert answer.status == 401
        expect(page.get_by_test_id("token-page")).to_contain_text("?token=")
        expect(page.locator("section[lang=en] h1")).to_contain_text("access token")
        expect(page.locator("section[lang=de] h1")).to_contain_text("Zugangsschlüssel")
        shoot(page, "new-user-token", f"{lang}-no-token")
        # 12: with the token, an empty workspace's home page points at the panel on the right
        page.goto(server.url + f"/?token={token}")
        expect(page.get_by_test_id("view-home")).to_be_visible()
        if lang == "de":
            german(page)
        text = strings(lang)
        panel = page.get_by_test_id("new-dataset")
        empty = page.locator(".empty", has_text=text["home.newDataset"])
        expect(empty).to_be_visible()
        assert "left" not in empty.inner_text() and "links" not in empty.inner_text()
        assert panel.bounding_box()["x"] > empty.bounding_box()["x"]
        shoot(page, "new-user-home", lang)
        context.close()
        assert not problems.errors, problems.errors
