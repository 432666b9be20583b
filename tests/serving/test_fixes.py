"""Fixing what the model got wrong over HTTP: relabel, delete, mark as checked, undo; a
run's mistakes, its data version, and retraining on the new data."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest
from tests.serving.helpers import make_image_dataset, pattern, wait_for


@pytest.fixture(scope="module")
def flipped(client: httpx.Client) -> str:
    """An easy two-class image set with two samples in the wrong class."""
    make_image_dataset(client, "flipped", per_class=16)
    rng = np.random.default_rng(1)
    for _ in range(2):  # 'left' images filed under 'right'
        r = client.post(
            "/api/datasets/flipped/samples", json={"label": "right", "pixels": pattern(0, rng)}
        )
        assert r.status_code == 201, r.text
    return "flipped"


def rows(client: httpx.Client, name: str) -> tuple[Any, Any]:
    """Everything an edit may change: the data version and every sample row."""
    info = client.get(f"/api/datasets/{name}/edits").json()
    samples = client.get(f"/api/datasets/{name}/samples", params={"limit": 1000}).json()
    return info["data_version"], samples


def wait_run(client: httpx.Client, job: dict[str, Any]) -> str:
    run_id = job["run_id"] or wait_for(
        lambda: client.get(f"/api/jobs/{job['job_id']}").json()["run_id"], timeout=60
    )
    wait_for(lambda: client.get(f"/api/runs/{run_id}").json()["status"] == "finished", 120)
    return run_id


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("POST", "relabel", {"ids": [0], "to": "middle"}, 404, "no class 'middle'"),
        ("POST", "relabel", {"ids": [0, 9999], "to": "left"}, 404, "no sample with id 9999"),
        ("POST", "relabel", {"ids": [], "to": "left"}, 422, "ids"),
        ("POST", "relabel", {"ids": ["1"], "to": "left"}, 422, "ids"),
        ("POST", "delete-samples", {"ids": [9999]}, 404, "no sample with id 9999"),
        ("POST", "checked", {"ids": [9999]}, 404, "no sample with id 9999"),
        ("POST", "undo", None, 409, "nothing to undo in dataset 'flipped'"),
    ],
)
def test_a_refused_edit_is_4xx_json_and_changes_nothing(
    client: httpx.Client, flipped: str, method, path, body, status, message
) -> None:
    client.post(f"/api/datasets/{flipped}/relabel", json={"ids": [0], "to": "left"})
    client.post(f"/api/datasets/{flipped}/undo")  # nothing left to undo
    before = rows(client, flipped)
    r = client.request(method, f"/api/datasets/{flipped}/{path}", json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert message in r.text
    assert rows(client, flipped) == before


def test_a_sample_of_another_dataset_is_not_found(client: httpx.Client, flipped: str) -> None:
    make_image_dataset(client, "other-halves", per_class=18)  # ids 0..35; flipped's 0..33
    theirs = client.get("/api/datasets/other-halves/samples", params={"limit": 1000}).json()
    assert 35 in {s["id"] for s in theirs["samples"]}
    before, other = rows(client, flipped), rows(client, "other-halves")
    r = client.post(f"/api/datasets/{flipped}/relabel", json={"ids": [35], "to": "left"})
    assert r.status_code == 404 and f"dataset '{flipped}': no sample with id 35" in r.text
    assert rows(client, flipped) == before and rows(client, "other-halves") == other


def test_mistakes_relabel_and_retrain(client: httpx.Client, flipped: str) -> None:
    body = {
        "dataset": flipped,
        "model": "mlp",
        "train": {"epochs": 30, "batch_size": 8, "lr": 0.01, "val_split": 0.5, "test_split": 0.0},
    }
    r = client.post("/api/runs", json=body)
    run_id = wait_run(client, r.json())
    record = client.get(f"/api/runs/{run_id}").json()
    assert record["dataset_changed"] is False
    assert record["data_version"] == record["dataset_version"] == rows(client, flipped)[0]
    wrong = set()
    for split in ("train", "val"):
        answer = client.get(f"/api/runs/{run_id}/mistakes", params={"split": split}).json()
        wrong |= set(answer["ids"])
    assert {32, 33} <= wrong  # the two filed under the wrong class
    r = client.post(f"/api/datasets/{flipped}/relabel", json={"ids": [32, 33], "to": "left"})
    assert r.status_code == 200 and r.json()["undo"]["action"] == "relabel"
    assert r.json()["data_version"] != record["data_version"]
    record = client.get(f"/api/runs/{run_id}").json()
    assert record["dataset_changed"] is True
    ev = client.get(f"/api/runs/{run_id}/evaluation", params={"split": "val"}).json()
    assert ev["dataset_changed"] is True  # the view shown before, with what became of it
    assert all(s["now"] == "left" for s in ev["samples"] if s["id"] in (32, 33))
    r = client.post(f"/api/runs/{run_id}/retrain")
    assert r.status_code == 202, r.text
    again = wait_run(client, r.json())
    new = client.get(f"/api/runs/{again}").json()
    assert new["config"]["train"] == record["config"]["train"]
    assert new["data_version"] != record["data_version"] and new["dataset_changed"] is False
    table = {row["id"]: row["data_version"] for row in client.get("/api/runs").json() if row["id"]}
    assert table[run_id] == record["data_version"] and table[again] == new["data_version"]


def test_check_delete_and_undo(client: httpx.Client, flipped: str) -> None:
    before = rows(client, flipped)
    r = client.post(f"/api/datasets/{flipped}/checked", json={"ids": [1, 2]})
    assert r.status_code == 200 and r.json()["data_version"] == before[0]
    r = client.post(f"/api/datasets/{flipped}/undo")
    assert r.status_code == 200 and r.json()["undone"]["action"] == "check"
    r = client.post(f"/api/datasets/{flipped}/delete-samples", json={"ids": [3]})
    assert r.status_code == 200 and r.json()["data_version"] != before[0]
    r = client.post(f"/api/datasets/{flipped}/undo")
    assert r.json()["undone"] == {"action": "delete", "ids": [3]}
    assert rows(client, flipped) == before
