"""Fixing what the model got wrong, on the page (issue 14): smileys drawn on the canvas,
two of them filed under the wrong class; the confusion matrix's cell shows them, both are
moved to the right class where they are shown, one click retrains on the new data
version, and the new run gets them right. Try-it's "add to class" adds a drawing to the
dataset and Undo takes it out again."""

from __future__ import annotations

import re
from typing import Any

import httpx
import numpy as np
import pytest
import torch
from playwright.sync_api import expect
from tests.e2e.helpers import draw, face, strings
from tests.serving.helpers import wait_for

from lernwerk.data.splits import make_splits

pytestmark = pytest.mark.e2e

DATASET = "fix-e2e"
CLASSES = ("smile", "sad")
PER_CLASS = 8
TRAIN = {"epochs": 40, "batch_size": 4, "lr": 0.003, "val_split": 0.2, "test_split": 0.3}


def held_out_seed(labels: list[int], rows: list[int]) -> int:
    """A split seed that puts the samples at `rows` into the test split, so that the model
    never trains on their wrong labels (the split depends on the labels alone)."""
    for seed in range(1000):
        splits = make_splits(torch.tensor(labels), "classification", 0.2, 0.3, seed)
        if set(rows) <= set(splits.test.tolist()):
            return seed
    raise AssertionError("no seed holds them all out")


def draw_dataset(page: Any, client: httpx.Client) -> list[int]:
    """Draw PER_CLASS faces into each class, then two smiles filed under 'sad'; their ids."""
    r = client.post(
        "/api/datasets",
        json={"name": DATASET, "empty": {"classes": list(CLASSES), "image_size": 28}},
    )
    assert r.status_code == 201, r.text
    page.goto(f"/#/datasets/{DATASET}")
    canvas = page.get_by_test_id("draw-canvas")
    expect(canvas).to_be_visible()
    rng = np.random.default_rng(7)
    drawings = [(cls, cls) for _ in range(PER_CLASS) for cls in CLASSES]
    drawings += [("smile", "sad")] * 2  # drawn as a smile, filed as sad
    for n, (mood, filed) in enumerate(drawings, start=1):
        draw(page, canvas, face(mood, rng))
        page.locator(f"[data-testid=draw-add][data-class={filed}]").click()
        expect(page.get_by_test_id("dataset-facts")).to_contain_text(str(n))
    expect(page.get_by_test_id("draw-error")).to_be_hidden()
    samples = client.get(f"/api/datasets/{DATASET}/samples", params={"limit": 100}).json()
    ids = [s["id"] for s in samples["samples"]][-2:]
    assert [s["label"] for s in samples["samples"]][-2:] == ["sad", "sad"]
    return ids


def finished(client: httpx.Client, run: str) -> dict[str, Any]:
    wait_for(lambda: client.get(f"/api/runs/{run}").json()["status"] == "finished", 240, every=0.5)
    return client.get(f"/api/runs/{run}").json()


def split_with(client: httpx.Client, run: str, ids: list[int]) -> str | None:
    """The split whose mistakes hold every one of `ids` (None: none does)."""
    for split in ("test", "val", "train"):
        answer = client.get(f"/api/runs/{run}/mistakes", params={"split": split}).json()
        if set(ids) <= set(answer["ids"]):
            return split
    return None


def all_mistakes(client: httpx.Client, run: str) -> set[int]:
    wrong: set[int] = set()
    for split in ("test", "val", "train"):
        wrong |= set(client.get(f"/api/runs/{run}/mistakes", params={"split": split}).json()["ids"])
    return wrong


def test_relabel_two_mistakes_from_the_confusion_matrix_and_retrain(
    page: Any, client: httpx.Client, shots: Any
) -> None:
    en = strings("en")
    wrong_ids = draw_dataset(page, client)
    shots("drawn")
    labels = [
        CLASSES.index(s["label"])
        for s in client.get(f"/api/datasets/{DATASET}/samples?limit=100").json()["samples"]
    ]
    train = {**TRAIN, "split_seed": held_out_seed(labels, wrong_ids)}  # ids are rows here
    job = client.post("/api/runs", json={"dataset": DATASET, "model": "mlp", "train": train})
    assert job.status_code == 202, job.text
    run = job.json()["run_id"] or wait_for(
        lambda: client.get(f"/api/jobs/{job.json()['job_id']}").json()["run_id"], 120
    )
    first = finished(client, run)
    split = split_with(client, run, wrong_ids)
    assert split == "test", (wrong_ids, all_mistakes(client, run))

    page.goto(f"/#/runs/{run}")
    expect(page.get_by_test_id("data-version")).to_contain_text(first["data_version"])
    expect(page.get_by_test_id("data-changed")).to_have_count(0)
    expect(page.get_by_test_id("eval-split")).to_have_value("test")  # what the page opens on
    cell = page.locator("[data-testid=cm-cell][data-row='1'][data-col='0']")  # sad -> smile
    expect(cell).to_be_visible(timeout=60_000)
    assert int(cell.get_attribute("data-count")) >= 2
    cell.click()
    picked = page.get_by_test_id("cm-samples")
    for sample in wrong_ids:
        expect(picked.locator(f"[data-testid=eval-sample][data-id='{sample}']")).to_be_visible()
    shots("cell-shows-the-two")

    for sample in wrong_ids:  # move each to the class it was drawn as, where it is shown
        tile = picked.locator(f"[data-testid=eval-sample][data-id='{sample}']")
        tile.get_by_test_id("sample-move").select_option("smile")
        expect(tile.get_by_test_id("sample-state")).to_have_text(
            en["fix.nowIn"].replace("{cls}", "smile")
        )
    expect(page.get_by_test_id("data-changed")).to_be_visible()
    expect(page.get_by_test_id("data-bar")).not_to_contain_text("null")
    for sample in wrong_ids:  # also where the same sample is listed again (misclassified)
        states = page.locator(f"[data-testid=sample-state][data-id='{sample}']")
        assert states.count() >= 2
        for i in range(states.count()):
            expect(states.nth(i)).to_have_text(en["fix.nowIn"].replace("{cls}", "smile"))
    expect(page.get_by_test_id("data-last-edit")).to_contain_text("moved 1 sample(s) to smile")
    labels = {
        s["id"]: s["label"]
        for s in client.get(f"/api/datasets/{DATASET}/samples?limit=100").json()["samples"]
    }
    assert [labels[i] for i in wrong_ids] == ["smile", "smile"]
    changed = client.get(f"/api/runs/{run}").json()
    assert changed["dataset_changed"] and changed["dataset_version"] != first["data_version"]
    shots("relabelled-retrain-offered")

    page.get_by_test_id("retrain").click()  # one click: same settings, the new data
    expect(page).to_have_url(re.compile(r"#/train\?(run|job)="))
    again = wait_for(
        lambda: next(
            (r["id"] for r in client.get("/api/runs").json() if r["id"] and r["id"] != run), None
        ),
        120,
    )
    second = finished(client, again)
    assert second["config"]["train"] == first["config"]["train"]
    assert second["data_version"] == changed["dataset_version"] != first["data_version"]
    assert not set(wrong_ids) & all_mistakes(client, again)

    page.goto(f"/#/runs/{again}")
    expect(page.get_by_test_id("data-version")).to_contain_text(second["data_version"])
    expect(page.get_by_test_id("data-changed")).to_have_count(0)
    for split in ("test", "val"):
        page.get_by_test_id("eval-split").select_option(split)
        cell = page.locator("[data-testid=cm-cell][data-row='1'][data-col='0']")
        expect(cell).to_be_visible(timeout=60_000)
        cell.click()
        for sample in wrong_ids:
            expect(page.locator(f"[data-testid=cm-samples] [data-id='{sample}']")).to_have_count(0)
    shots("new-run-without-them")

    page.goto("/#/runs")
    versions = {}
    for r in (run, again):
        row = page.locator(f"[data-testid=run-row][data-run-id='{r}']")
        versions[r] = row.get_by_test_id("run-data-version").inner_text()
    assert versions == {
        run: en["fix.dataShort"].replace("{version}", first["data_version"]),
        again: en["fix.dataShort"].replace("{version}", second["data_version"]),
    }
    shots("runs-table-data-versions")

    page.evaluate("() => localStorage.setItem('lernwerk.lang', 'de')")  # the same in German
    page.goto(f"/#/runs/{run}")
    page.reload()
    expect(page.get_by_test_id("data-changed")).to_contain_text(strings("de")["fix.changed"])
    expect(page.get_by_test_id("retrain")).to_have_text(strings("de")["fix.retrain"])
    page.locator("[data-testid=cm-cell][data-row='1'][data-col='0']").click()
    expect(page.get_by_test_id("sample-move").first).to_be_visible()
    shots("de-old-run-data-changed")


def test_try_it_adds_the_drawing_to_a_class_and_undo_takes_it_out(
    page: Any, client: httpx.Client, shots: Any
) -> None:
    name = "fix-try-e2e"
    r = client.post(
        "/api/datasets", json={"name": name, "empty": {"classes": list(CLASSES), "image_size": 28}}
    )
    assert r.status_code == 201, r.text
    rng = np.random.default_rng(3)
    for k in range(12):  # two easy halves; what is drawn later does not matter
        img = rng.uniform(0, 0.2, (28, 28))
        img[:, (k % 2) * 14 : (k % 2 + 1) * 14] += 0.7
        body = {"label": CLASSES[k % 2], "pixels": np.clip(img, 0, 1).round(3).tolist()}
        assert client.post(f"/api/datasets/{name}/samples", json=body).status_code == 201
    job = client.post("/api/runs", json={"dataset": name, "model": "mlp", "train": {"epochs": 2}})
    run = job.json()["run_id"] or wait_for(
        lambda: client.get(f"/api/jobs/{job.json()['job_id']}").json()["run_id"], 120
    )
    finished(client, run)
    before = client.get(f"/api/datasets/{name}").json()

    page.goto(f"/#/runs/{run}/try")
    add = page.get_by_test_id("add-to-class")
    expect(add).to_be_disabled()  # nothing drawn yet
    draw(page, page.get_by_test_id("draw-canvas"), face("sad", np.random.default_rng(5)))
    expect(page.get_by_test_id("predicted-class")).to_be_visible()
    expect(add).to_be_enabled()
    page.get_by_test_id("add-class-select").select_option("sad")
    add.click()
    note = page.get_by_test_id("add-class-note")
    expect(note).to_contain_text("to sad in fix-try-e2e")
    new_id = int(re.search(r"sample (\d+)", note.inner_text()).group(1))
    after = client.get(f"/api/datasets/{name}").json()
    assert after["num_samples"] == before["num_samples"] + 1
    assert after["content_hash"] != before["content_hash"]
    shown = client.get(f"/api/datasets/{name}/samples?limit=100").json()["samples"]
    assert {"id": new_id, "label": "sad", "test": False} in shown
    shots("added")

    page.get_by_test_id("add-undo").click()
    expect(note).to_contain_text(f"Sample {new_id} taken out of sad again")
    undone = client.get(f"/api/datasets/{name}").json()
    assert undone["num_samples"] == before["num_samples"]
    assert undone["content_hash"] == before["content_hash"]  # the data version as before
    assert new_id not in {
        s["id"] for s in client.get(f"/api/datasets/{name}/samples").json()["samples"]
    }
    expect(page.get_by_test_id("add-undo")).to_be_hidden()
    shots("undone")
