"""Transfer learning through the API: start from a run, freeze, and the 4xx of bad input."""

from __future__ import annotations

import httpx
import pytest
from tests.serving.helpers import wait_for

THREE = "blobs:samples=200,centers=3,seed=7"
FOUR = "blobs:samples=200,centers=4,seed=7"


def finished(client: httpx.Client, body: dict) -> dict:
    r = client.post("/api/runs", json=body)
    assert r.status_code == 202, r.text
    job = r.json()

    def done() -> dict | None:
        answer = client.get(f"/api/jobs/{job['job_id']}").json()
        assert answer["status"] not in ("failed", "interrupted"), answer
        return answer if answer["status"] == "finished" else None

    run_id = wait_for(done, timeout=120)["run_id"]
    return client.get(f"/api/runs/{run_id}").json()


@pytest.fixture(scope="module")
def source(client: httpx.Client) -> dict:
    return finished(client, {"dataset": THREE, "model": "mlp", "train": {"epochs": 2}})


def test_a_run_starts_from_another_with_frozen_features(client: httpx.Client, source) -> None:
    train = {"epochs": 2, "init": source["id"], "freeze": "features", "unfreeze_after": 1}
    run = finished(client, {"dataset": FOUR, "model": source["config"]["model"], "train": train})
    assert run["config"]["train"]["init"] == source["id"]
    assert run["config"]["transfer"]["loaded_layers"] == ["2", "3"]
    assert run["config"]["transfer"]["new_layers"] == ["4"]
    assert run["config"]["transfer"]["frozen_layers"] == ["2", "3"]


@pytest.mark.parametrize(
    ("dataset", "train", "status", "where", "message"),
    [
        (
            "blobs:samples=200,centers=3,seed=7",
            {"freeze": ["Conv2D"]},
            422,
            "freeze",
            "freeze: 'Conv2D' names no layer",
        ),
        ("blobs:samples=200,centers=3,seed=7", {"freeze": 0}, 422, "freeze", "at least 1"),
        ("blobs:samples=200,centers=3,seed=7", {"init": "nope"}, 404, "init", "init: no run"),
        (
            "moons:samples=200",
            {"unfreeze_after": 2},
            422,
            "unfreeze_after",
            "unfreeze_after: nothing is frozen",
        ),
    ],
)
def test_bad_transfer_input_is_a_4xx_with_json(
    client: httpx.Client, source, dataset, train, status, where, message
) -> None:
    before = len(client.get("/api/runs").json())
    r = client.post("/api/runs", json={"dataset": dataset, "model": "mlp", "train": train})
    assert r.status_code == status, r.text
    body = r.json()
    assert message in body["message"] and body["where"] == where, body
    assert len(client.get("/api/runs").json()) == before


def test_a_run_of_another_shape_is_refused(client: httpx.Client, source) -> None:
    body = {
        "dataset": "tabular:rows=200,features=3,informative=2,redundant=0",
        "model": "mlp",
        "train": {"init": source["id"]},
    }
    r = client.post("/api/runs", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["where"] == "init" and "trained on inputs of shape 2" in r.json()["message"]
