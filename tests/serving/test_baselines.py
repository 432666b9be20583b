"""`POST /api/datasets/{name}/baselines`: baselines stored as runs beside the networks; a
baseline refuses what needs a network with a 409; bad input a 422 that stores nothing."""

from __future__ import annotations

import importlib.util

import httpx
import numpy as np
from tests.serving.helpers import make_image_dataset, wait_for
from tests.serving.test_runs import run_id_of, start, status


def runs_on(client: httpx.Client, dataset: str) -> list[dict]:
    return [r for r in client.get("/api/runs").json() if r.get("dataset") == dataset]


def test_baselines_on_an_image_dataset_stand_beside_its_network(client: httpx.Client) -> None:
    make_image_dataset(client, "baseline-halves", per_class=10)
    job = start(client, dataset="baseline-halves", model="mlp", train={"epochs": 2})
    net = run_id_of(client, job)
    wait_for(lambda: status(client, net) == "finished", timeout=60)

    r = client.post("/api/datasets/baseline-halves/baselines", json={})
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer["task"] == "classification"
    assert answer["splits"] == {"train": 12, "val": 4, "test": 4}
    assert [n["id"] for n in answer["networks"]] == [net]
    assert [row["features"] for row in answer["table"]][-1] == "network"
    assert any("at least 32×32" in note for note in answer["notes"])
    ids = {row["id"] for row in answer["runs"]}
    assert len(ids) == (3 if importlib.util.find_spec("xgboost") else 2)  # XGBoost if installed
    listed = {row["id"]: row for row in runs_on(client, "baseline-halves")}
    assert ids | {net} == set(listed)
    assert all(listed[i]["status"] == "finished" and listed[i]["features"] for i in ids)

    run_id = next(iter(ids))
    record = client.get(f"/api/runs/{run_id}").json()
    assert record["config"]["baseline"]["estimator_stored"] is False and record["input"] is None
    ev = client.get(f"/api/runs/{run_id}/evaluation", params={"split": "test"})
    assert ev.status_code == 200 and ev.json()["samples"] == []
    assert np.asarray(ev.json()["metrics"]["confusion_matrix"]).sum() == 4
    for refused in (
        client.get(f"/api/runs/{run_id}/evaluation", params={"split": "train"}),
        client.post(f"/api/runs/{run_id}/predict", json={"sample": 0}),
        client.get(f"/api/runs/{run_id}/weights"),
    ):
        assert refused.status_code == 409 and refused.json()["where"] in ("run", "split")
        assert "baseline" in refused.json()["message"]
    assert client.delete(f"/api/runs/{run_id}").status_code == 204


def test_baselines_on_tables_and_sequences(client: httpx.Client) -> None:
    for name, features in (
        ("moons:samples=60", {"features"}),
        ("process:per_class=6", {"values", "summary", "minirocket"}),
    ):
        r = client.post(f"/api/datasets/{name}/baselines")  # no body: a run's defaults
        assert r.status_code == 201, r.text
        assert {row["features"] for row in r.json()["runs"]} == features
    r = client.post("/api/datasets/basicmotions/baselines", json={"estimators": ["rocket"]})
    assert r.status_code == 201, r.text
    assert [row["model"] for row in r.json()["table"]] == ["rocket"]


def test_bad_input_is_a_422_and_stores_nothing(client: httpx.Client) -> None:
    name = "circles:samples=40"
    for body, where in (
        ({"test_split": 0}, "test_split"),
        ({"val_split": 0.5, "test_split": 0.5}, "val_split"),
    ):
        r = client.post(f"/api/datasets/{name}/baselines", json=body)
        assert r.status_code == 422 and r.json()["where"] == where, r.text
    r = client.post(f"/api/datasets/{name}/baselines", json={"task": "anomaly"})
    assert r.status_code == 422 and r.json()["error"] == "RequestError"
    r = client.post("/api/datasets/seasonal/baselines")
    assert r.status_code == 422 and "classification and regression" in r.json()["message"]
    assert client.post("/api/datasets/no-such-set/baselines").status_code == 404
    r = client.post(f"/api/datasets/{name}/baselines", json={"estimators": ["rocket"]})
    assert r.status_code == 422 and r.json()["where"] == "estimators", r.text
    assert "rocket is the baseline for series" in r.json()["message"]
    r = client.post(f"/api/datasets/{name}/baselines", json={"estimators": ["svm"]})
    assert r.status_code == 422 and r.json()["error"] == "RequestError"
    assert runs_on(client, name) == [] and runs_on(client, "seasonal") == []
