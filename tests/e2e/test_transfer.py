"""Transfer learning on the train page: start from one of my runs, freeze its features,
unfreeze them after an epoch; the stored run records where it started."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.e2e.helpers import strings
from tests.serving.helpers import wait_for

pytestmark = pytest.mark.e2e

SOURCE = "moons"  # 2 features, 2 classes
TARGET = "blobs"  # 2 features, 3 classes: the same input shape, a new head
OTHER_SHAPE = "japanesevowels"  # 12×29 series: no other browser test trains on that shape


def finished_source(client: httpx.Client) -> dict[str, Any]:
    body = {"dataset": SOURCE, "model": "mlp", "name": "moons source", "train": {"epochs": 2}}
    r = client.post("/api/runs", json=body)
    assert r.status_code == 202, r.text
    job = r.json()["job_id"]

    def done() -> str | None:
        answer = client.get(f"/api/jobs/{job}").json()
        assert answer["status"] not in ("failed", "interrupted"), answer
        return answer["run_id"] if answer["status"] == "finished" else None

    return client.get(f"/api/runs/{wait_for(done, timeout=120)}").json()


def test_train_from_a_run_with_frozen_features(page: Any, shots: Any, client: httpx.Client) -> None:
    source = finished_source(client)
    page.goto(f"/#/train?dataset={TARGET}")
    expect(page.get_by_test_id("view-train")).to_be_visible()
    page.get_by_test_id("train-model").select_option("smiley-cnn")  # the run's network wins
    run_select = page.get_by_test_id("train-init-run")
    expect(run_select).to_be_hidden()
    expect(page.get_by_test_id("train-init-pretrained")).to_be_hidden()  # not for tables
    page.get_by_test_id("train-init").select_option("run")
    expect(run_select).to_be_visible()
    expect(run_select.locator(f"option[value='{source['id']}']")).to_have_text(
        f"moons source (mlp on {SOURCE})"
    )
    expect(page.get_by_test_id("train-model")).to_be_disabled()
    run_select.select_option(source["id"])
    unfreeze = page.get_by_test_id("train-unfreeze-after")
    expect(unfreeze).to_be_hidden()
    page.get_by_test_id("train-freeze").select_option("features")
    expect(unfreeze).to_be_visible()
    expect(page.get_by_test_id("train-freeze-n")).to_be_hidden()
    unfreeze.fill("1")
    page.get_by_test_id("train-epochs").fill("2")
    shots("train-form")
    page.get_by_test_id("train-start").click()
    expect(page.get_by_test_id("train-error")).to_be_hidden()
    panel = page.get_by_test_id("live-panel")
    expect(panel).to_have_attribute("data-status", "finished", timeout=120_000)
    run_id = page.url.split("run=")[1].split("&")[0]
    shots("trained")

    config = client.get(f"/api/runs/{run_id}").json()["config"]
    assert config["model"] == source["config"]["model"]
    assert config["train"]["init"] == source["id"]
    assert config["train"]["freeze"] == "features"
    assert config["train"]["unfreeze_after"] == 1
    assert config["transfer"]["new_layers"] == ["4"]  # 3 classes instead of 2
    assert config["transfer"]["frozen_layers"] == ["2", "3"]

    # the results say where it started and what stayed frozen
    page.goto(f"/#/runs/{run_id}")
    expect(page.get_by_test_id("run-settings")).to_contain_text(
        "started from run moons source · layers 2, 3 frozen, unfrozen after epoch 1"
    )

    # "train again" fills the form from that run: the same start and the same freezing
    page.goto(f"/#/train?from={run_id}")
    expect(page.get_by_test_id("train-init")).to_have_value("run")
    expect(page.get_by_test_id("train-init-run")).to_have_value(source["id"])
    expect(page.get_by_test_id("train-freeze")).to_have_value("features")
    expect(page.get_by_test_id("train-unfreeze-after")).to_have_value("1")


def test_only_runs_on_data_of_the_same_shape_are_offered(page: Any, client: httpx.Client) -> None:
    source = finished_source(client)
    page.goto(f"/#/train?dataset={OTHER_SHAPE}")
    page.get_by_test_id("train-init").select_option("run")
    hint = page.get_by_test_id("train-init-hint")
    expect(hint).to_contain_text("No finished run on data of shape")
    expect(
        page.get_by_test_id("train-init-run").locator(f"option[value='{source['id']}']")
    ).to_have_count(0)
    page.get_by_test_id("train-start").click()
    expect(page.get_by_test_id("train-error")).to_have_text("Choose the run to start from.")
    expect(page.get_by_test_id("train-init")).to_have_class(re.compile("invalid"))
    # first N layers: a count the network does not have comes back from the server
    page.get_by_test_id("train-init").select_option("")
    page.get_by_test_id("train-model").select_option("fcn1d")
    page.get_by_test_id("train-freeze").select_option("first")
    page.get_by_test_id("train-freeze-n").fill("40")
    page.get_by_test_id("train-start").click()
    expect(page.get_by_test_id("train-error")).to_contain_text("freeze: 40 layers")
    expect(page.get_by_test_id("train-freeze")).to_have_class(re.compile("invalid"))


def test_fine_tune_the_pretrained_backbone_on_photos(
    page: Any, shots: Any, client: httpx.Client
) -> None:
    page.goto("/#/train?dataset=photos")
    init = page.get_by_test_id("train-init")
    expect(page.get_by_test_id("train-init-pretrained")).to_be_enabled()  # images: offered
    init.select_option("pretrained")
    expect(page.get_by_test_id("train-model")).to_have_value("efficientnet-lite0")
    # the automatic run name follows the network the choice set
    expect(page.get_by_test_id("train-name")).to_have_attribute(
        "placeholder", re.compile(r"^efficientnet-lite0 on photos")
    )
    page.get_by_test_id("train-freeze").select_option("features")
    page.get_by_test_id("train-epochs").fill("1")
    shots("train-form")
    page.get_by_test_id("train-start").click()
    expect(page.get_by_test_id("train-error")).to_be_hidden()
    panel = page.get_by_test_id("live-panel")
    expect(panel).to_have_attribute("data-status", "finished", timeout=240_000)
    run_id = page.url.split("run=")[1].split("&")[0]
    config = client.get(f"/api/runs/{run_id}").json()["config"]
    assert config["train"]["init"] == "efficientnet-lite0"
    assert config["transfer"] == {
        "init": "imagenet",
        "loaded_layers": ["1"],
        "frozen_layers": ["1"],
    }


def test_the_transfer_controls_speak_german(page: Any, shots: Any) -> None:
    de = strings("de")
    page.goto("/#/train?dataset=moons")
    page.get_by_test_id("lang-switch").select_option("de")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    box = page.get_by_test_id("train-transfer")
    expect(box.locator("legend")).to_have_text(de["transfer.title"])
    expect(box).to_contain_text(de["transfer.startFrom"])
    expect(page.get_by_test_id("train-init").locator("option[value='run']")).to_have_text(
        de["transfer.run"]
    )
    expect(page.get_by_test_id("train-freeze").locator("option[value='features']")).to_have_text(
        de["transfer.freeze.features"]
    )
    page.get_by_test_id("train-freeze").select_option("features")
    expect(box).to_contain_text(de["transfer.unfreezeAfter"])
    shots("transfer-german")
