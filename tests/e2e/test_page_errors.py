"""Errors on the page are readable messages next to what caused them (issue 4): the
server's own message for a refused request, the page's for a slip it catches itself; never
a blank page, a toast for an error that has a place, or an uncaught error."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.e2e.helpers import strings

pytestmark = pytest.mark.e2e

DATASET = "errors-e2e"


def server_message(response: httpx.Response) -> str:
    assert 400 <= response.status_code < 500, response.text
    return response.json()["message"]


def test_refusals_are_shown_next_to_their_cause(
    page: Any, shots: Any, client: httpx.Client
) -> None:
    r = client.post(
        "/api/datasets", json={"name": DATASET, "empty": {"classes": ["a", "b"], "image_size": 28}}
    )
    assert r.status_code == 201, r.text

    # a dataset name the server refuses
    page.goto("/")
    page.get_by_test_id("new-empty-name").fill("no/slashes")
    page.get_by_test_id("new-empty-create").click()
    refused = client.post("/api/datasets", json={"name": "no/slashes", "empty": {"classes": ["a"]}})
    expect(page.get_by_test_id("new-empty-error")).to_have_text(server_message(refused))
    expect(page.get_by_test_id("new-empty-name")).to_have_class(re.compile(r"\binvalid\b"))
    expect(page.get_by_test_id("view-home")).to_be_visible()  # still home
    shots("bad-dataset-name")

    # a class name the server refuses, next to the class input
    page.goto(f"/#/datasets/{DATASET}")
    page.get_by_test_id("class-add-input").fill("../x")
    page.get_by_test_id("class-add").click()
    refused = client.post(f"/api/datasets/{DATASET}/classes", json={"name": "../x"})
    error = page.get_by_test_id("class-add-error")
    expect(error).to_have_text(server_message(refused))
    expect(error).to_contain_text("../x")
    expect(page.get_by_test_id("class-add-input")).to_have_class(re.compile(r"\binvalid\b"))
    expect(page.get_by_test_id("class-row")).to_have_count(2)

    # an empty drawing: the page's own message, nothing sent
    page.locator("[data-testid=draw-add][data-class=a]").click()
    expect(page.get_by_test_id("draw-error")).to_have_text(strings("en")["dataset.drawFirst"])
    shots("bad-class-name-and-empty-drawing")

    # a layer that does not fit: the server's message on that layer, the rest still listed
    page.goto(f"/#/designer?dataset={DATASET}&model=smiley-cnn")
    layers = page.get_by_test_id("layer")
    expect(layers).to_have_count(8)
    expect(page.get_by_test_id("total-params")).to_be_visible()
    conv = layers.nth(2)
    conv.get_by_test_id("param-kernel_size").fill("40")
    expect(conv).to_have_class(re.compile(r"\bmisfit\b"))
    message = conv.get_by_test_id("layer-error")
    expect(message).to_contain_text("40")
    expect(page.get_by_test_id("total-params")).to_have_count(0)
    expect(page.get_by_test_id("designer-error")).to_be_hidden()
    for i in (0, 1, 3, 4):
        expect(layers.nth(i)).not_to_have_class(re.compile(r"\bmisfit\b"))
    for i in (0, 1):  # the layers before it keep their shapes, to mend it by
        expect(layers.nth(i).get_by_test_id("layer-summary")).to_contain_text("×")
    expect(layers.nth(3).get_by_test_id("layer-summary")).to_have_text("–")
    shots("misfit-layer")
    conv.get_by_test_id("param-kernel_size").fill("3")  # fixed: the summary is back
    expect(conv).not_to_have_class(re.compile(r"\bmisfit\b"))
    expect(page.get_by_test_id("total-params")).to_be_visible()
    expect(message).to_be_hidden()

    # training settings the server refuses: the message under the form, the field marked
    page.goto(f"/#/train?dataset={DATASET}&model=smiley-cnn")
    page.get_by_test_id("train-lr").fill("0")  # the field takes 0; the server wants lr > 0
    page.get_by_test_id("train-start").click()
    expect(page.get_by_test_id("train-error")).to_contain_text("lr")
    expect(page.get_by_test_id("train-lr")).to_have_class(re.compile(r"\binvalid\b"))
    expect(page.get_by_test_id("live-placeholder")).to_be_visible()  # no run started
    shots("bad-learning-rate")
    # below the field's own minimum: the form leaves the check to the server, whose message
    # names the field (not the browser's bubble, which would block the request silently)
    page.get_by_test_id("train-lr").fill("-1")
    page.get_by_test_id("train-start").click()
    expect(page.get_by_test_id("train-error")).to_contain_text("lr: Input should be greater than 0")
    expect(page.get_by_test_id("train-error")).to_contain_text("-1")
    expect(page.get_by_test_id("train-lr")).to_have_class(re.compile(r"\binvalid\b"))
    expect(page.get_by_test_id("live-placeholder")).to_be_visible()

    # an unknown run and an unknown dataset: the server's message instead of the view
    page.goto("/#/runs/no-such-run")
    expect(page.get_by_test_id("view-error")).to_have_text(
        server_message(client.get("/api/runs/no-such-run"))
    )
    shots("unknown-run")
    page.goto("/#/datasets/no-such-dataset")
    expect(page.get_by_test_id("dataset-error")).to_have_text(
        server_message(client.get("/api/datasets/no-such-dataset"))
    )
    shots("unknown-dataset")
    expect(page.get_by_test_id("toast")).to_be_hidden()
    expect(page.get_by_test_id("server-banner")).to_be_hidden()


def test_the_servers_common_refusals_read_german_on_the_german_page(
    page: Any, shots: Any, client: httpx.Client
) -> None:
    page.goto("/")
    page.get_by_test_id("lang-switch").select_option("de")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_test_id("new-empty-name").fill("Meine Formen")
    page.get_by_test_id("new-empty-create").click()
    error = page.get_by_test_id("new-empty-error")
    expect(error).to_contain_text("nur Buchstaben, Ziffern")
    expect(error).to_contain_text("erhalten: 'Meine Formen'")  # the user's own words stay
    shots("bad-name-german")
    page.goto("/#/train?dataset=xor&model=mlp")
    page.get_by_test_id("train-lr").fill("-1")
    page.get_by_test_id("train-start").click()
    expect(page.get_by_test_id("train-error")).to_have_text(
        "Trainingseinstellungen: lr: muss größer als 0 sein; erhalten: -1"
    )
    shots("bad-learning-rate-german")
    # what the server describes in English has German beside it: generators' settings, presets
    page.goto("/")
    page.get_by_test_id("new-tab-generator").click()
    page.get_by_test_id("new-gen-source").select_option("xor")
    expect(page.get_by_text("Anzahl der Punkte.")).to_be_visible()
    page.goto("/#/designer?model=smiley-cnn")
    expect(page.get_by_test_id("designer-preset-info")).to_have_text(
        "Das CNN der Smiley-App für 28×28-Zeichnungen (Conv 32-64-64, Dense 64)"
    )
    page.get_by_test_id("lang-switch").select_option("en")  # the next test's page is English
