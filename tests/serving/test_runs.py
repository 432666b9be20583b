"""Training through the API: jobs in worker processes, live events, stop, results."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from tests.serving.helpers import data_url, make_image_dataset, pattern, png_bytes, wait_for


@pytest.fixture(scope="module")
def images(client: httpx.Client) -> str:
    make_image_dataset(client, "halves", per_class=20)
    return "halves"


def events(client: httpx.Client, run_id: str, **params: Any) -> Iterator[tuple[str, str, dict]]:
    """(id, type, data) of a run's Server-Sent Events, until the server ends the stream."""
    with client.stream("GET", f"/api/runs/{run_id}/events", params=params) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        for line in r.iter_lines():
            if line == "":
                if "event" in fields:
                    yield fields.get("id", ""), fields["event"], json.loads(fields["data"])
                fields = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(":")
                fields[key] = value.strip()


def start(client: httpx.Client, **body: Any) -> dict[str, Any]:
    r = client.post("/api/runs", json=body)
    assert r.status_code == 202, r.text
    job = r.json()
    # a tiny run on a warm worker may already be done when the answer is written
    assert job["status"] in ("queued", "running", "finished") and job["job_id"]
    return job


def run_id_of(client: httpx.Client, job: dict[str, Any]) -> str:
    def known() -> str | None:
        answer = client.get(f"/api/jobs/{job['job_id']}").json()
        assert answer["status"] not in ("failed", "interrupted"), answer
        return answer["run_id"]

    return job["run_id"] or wait_for(known, timeout=60)


def status(client: httpx.Client, run_id: str) -> str:
    return client.get(f"/api/runs/{run_id}").json()["status"]


def test_train_and_follow_the_events(client: httpx.Client, images: str) -> None:
    job = start(
        client, dataset=images, model="mlp", name="web run", train={"epochs": 4, "batch_size": 4}
    )
    run_id = run_id_of(client, job)
    seen = list(events(client, run_id))
    kinds = [kind for _, kind, _ in seen]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert "batch_ended" in kinds and kinds.count("epoch_ended") == 4
    ids = [int(i) for i, _, _ in seen]
    assert ids == sorted(ids)
    epoch = next(data for _, kind, data in seen if kind == "epoch_ended")
    assert {"train_loss", "val_loss", "val_accuracy"} <= set(epoch["metrics"])
    # resuming from an event id replays only what came after it
    later = list(events(client, run_id, after=ids[-3]))
    assert [int(i) for i, _, _ in later] == ids[-2:]
    record = client.get(f"/api/runs/{run_id}").json()
    assert record["status"] == "finished" and record["name"] == "web run"
    assert len(record["history"]) == 4 and record["input"]["classes"] == ["left", "right"]
    answer = wait_for(
        lambda: (a := client.get(f"/api/jobs/{job['job_id']}").json())["status"] != "running" and a
    )
    assert answer["status"] == "finished" and answer["run_id"] == run_id
    rows = client.get("/api/runs").json()
    assert any(r["id"] == run_id and r["status"] == "finished" for r in rows)


def test_evaluation_predict_and_weights(client: httpx.Client, images: str) -> None:
    job = start(
        client, dataset=images, model="mlp", train={"epochs": 30, "batch_size": 8, "lr": 0.01}
    )
    run_id = run_id_of(client, job)
    wait_for(lambda: status(client, run_id) == "finished", timeout=60)

    ev = client.get(f"/api/runs/{run_id}/evaluation", params={"split": "test"}).json()
    assert ev["classes"] == ["left", "right"] and ev["metrics"]["accuracy"] >= 0.75
    matrix = np.array(ev["metrics"]["confusion_matrix"])
    assert matrix.shape == (2, 2) and matrix.sum() == ev["num_samples"] == len(ev["samples"])
    wrong = [s["label"] != s["predicted"] for s in ev["samples"]]
    assert wrong == sorted(wrong, reverse=True)  # misclassified first
    sample = ev["samples"][0]
    assert sample["id"] >= 0 and abs(sum(sample["probabilities"].values()) - 1) < 1e-5
    assert client.get(f"/api/runs/{run_id}/evaluation", params={"split": "nope"}).status_code == 422

    rng = np.random.default_rng(5)
    for body in ({"pixels": pattern(0, rng)}, {"image": data_url(pattern(1, rng))}):
        r = client.post(f"/api/runs/{run_id}/predict", json=body)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert abs(sum(answer["probabilities"].values()) - 1) < 1e-5
        assert answer["predicted"] in ("left", "right") and answer["ms"] > 0
    r = client.post(
        f"/api/runs/{run_id}/predict",
        files={"file": ("x.png", png_bytes(pattern(0, rng)), "image/png")},
    )
    assert r.status_code == 200 and r.json()["input"] == "x.png", r.text
    r = client.post(f"/api/runs/{run_id}/predict", json={"values": {"a": 1}})
    assert r.status_code == 422 and r.json()["error"] == "DataError"

    weights = client.get(f"/api/runs/{run_id}/weights")
    assert weights.status_code == 200 and weights.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(weights.content)) as z:
        assert sorted(z.namelist()) == ["model.json", "model.safetensors"]
        assert json.loads(z.read("model.json"))["task"]["classes"] == ["left", "right"]

    assert client.delete(f"/api/runs/{run_id}").status_code == 204
    assert client.get(f"/api/runs/{run_id}").status_code == 404


def test_a_saved_model_trains_by_name(client: httpx.Client, images: str) -> None:
    spec = {
        "layers": [
            "Flatten",
            {"Dense": {"units": 8, "activation": "relu"}},
            {"Dense": {"units": "auto", "activation": "softmax"}},
        ]
    }
    r = client.post("/api/models", json={"name": "tiny", "spec": spec})
    assert r.status_code == 201 and r.json()["spec"]["name"] == "tiny"
    assert client.post("/api/models", json={"name": "mlp", "spec": spec}).status_code == 409
    # a spec that could never be built is refused, not saved (the layer named)
    for bad, where in (
        ({"layers": [{"Nope": {}}]}, "layer 1"),
        ({"layers": [{"Residual": {"layers": [{"Conv1D": {"filterz": 3}}]}}]}, "layer 1.1"),
    ):
        r = client.post("/api/models", json={"name": "broken", "spec": bad})
        assert r.status_code == 422 and r.json()["where"] == where, r.text
    assert "broken" not in {m["name"] for m in client.get("/api/models").json()}
    models = {(m["name"], m["source"]) for m in client.get("/api/models").json()}
    assert ("tiny", "workspace") in models and ("smiley-cnn", "preset") in models
    summary = client.post("/api/models/summary", json={"spec": "tiny", "dataset": images}).json()
    assert [layer["type"] for layer in summary["layers"]] == ["Flatten", "Dense", "Dense"]
    assert summary["output_shape"] == [2] and summary["total_params"] == 64 * 8 + 8 + 8 * 2 + 2
    layers = {entry["type"]: entry for entry in client.get("/api/layers").json()}
    assert {"Dense", "Conv2D", "LSTM", "Dropout"} <= set(layers)
    padding = next(p for p in layers["Conv2D"]["params"] if p["name"] == "padding")
    assert padding["default"] == "valid" and padding["choices"] == ["valid", "same"]
    job = start(client, dataset=images, model="tiny", train={"epochs": 2})
    run_id = run_id_of(client, job)
    wait_for(lambda: status(client, run_id) == "finished", timeout=60)
    assert client.get(f"/api/runs/{run_id}").json()["model"] == "tiny"


def test_stop_a_run_midway(client: httpx.Client) -> None:
    job = start(client, dataset="xor", model="mlp", train={"epochs": 5000, "batch_size": 8})
    run_id = run_id_of(client, job)
    for _, kind, _ in events(client, run_id):
        if kind == "epoch_ended":
            break
    refused = client.delete(f"/api/runs/{run_id}")  # while it trains
    assert refused.status_code == 409 and "is training; stop it first" in refused.json()["message"]
    r = client.post(f"/api/runs/{run_id}/stop")
    assert r.status_code == 202 and r.json()["run_id"] == run_id
    wait_for(lambda: status(client, run_id) == "stopped", timeout=20)
    kinds = [kind for _, kind, _ in events(client, run_id)]
    assert kinds[-1] == "run_stopped"
    record = client.get(f"/api/runs/{run_id}").json()
    assert 1 <= record["epoch"] < 5000 and record["input"] is not None  # it kept its weights
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 409
    assert client.delete(f"/api/runs/{run_id}").status_code == 204  # stopped: it may go


def test_queued_jobs_wait_their_turn(client: httpx.Client) -> None:
    first = start(client, dataset="xor", model="mlp", train={"epochs": 5000})
    run_id = run_id_of(client, first)
    second = start(client, dataset="xor", model="perceptron", train={"epochs": 5000})
    assert second["status"] == "queued" and second["queue_position"] == 1
    rows = client.get("/api/runs").json()
    assert rows[0]["job_id"] == second["job_id"] and rows[0]["status"] == "queued"
    stopped = client.post(f"/api/runs/{second['job_id']}/stop")
    assert stopped.status_code == 202 and stopped.json()["status"] == "stopped"
    assert client.get(f"/api/jobs/{second['job_id']}").json()["status"] == "stopped"
    assert client.delete(f"/api/runs/{run_id}").status_code == 409  # still training
    client.post(f"/api/runs/{run_id}/stop")
    wait_for(lambda: status(client, run_id) == "stopped", timeout=20)


def test_twenty_clients_add_samples_while_a_run_trains(server: Any, client: httpx.Client) -> None:
    make_image_dataset(client, "crowd", per_class=1)
    job = start(client, dataset="xor", model="mlp", train={"epochs": 5000, "batch_size": 8})
    run_id = run_id_of(client, job)
    assert status(client, run_id) == "running"
    statuses: list[int] = []
    lock = threading.Lock()

    def participant(k: int) -> None:
        rng = np.random.default_rng(k)
        with httpx.Client(base_url=server.url, timeout=60) as own:
            for _ in range(20):
                label = ("left", "right")[k % 2]
                r = own.post(
                    "/api/datasets/crowd/samples",
                    json={"label": label, "pixels": pattern(k % 2, rng)},
                )
                with lock:
                    statuses.append(r.status_code)

    threads = [threading.Thread(target=participant, args=(k,)) for k in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == 400 and set(statuses) == {201}
    info = client.get("/api/datasets/crowd").json()
    assert info["num_samples"] == 2 + 400
    assert status(client, run_id) == "running"
    client.post(f"/api/runs/{run_id}/stop")
    wait_for(lambda: status(client, run_id) == "stopped", timeout=20)


def test_a_worker_that_dies_leaves_its_run_interrupted(client: httpx.Client) -> None:
    job = start(client, dataset="xor", model="mlp", train={"epochs": 5000})
    run_id = run_id_of(client, job)
    pid = wait_for(lambda: client.get(f"/api/runs/{run_id}").json()["pid"])
    os.kill(pid, signal.SIGKILL)  # as the out-of-memory killer would
    answer = wait_for(
        lambda: (a := client.get(f"/api/jobs/{job['job_id']}").json())["status"] != "running" and a
    )
    assert answer["status"] == "interrupted" and "ended unexpectedly" in answer["error"]["message"]
    assert status(client, run_id) == "interrupted"
    kinds = [kind for _, kind, _ in events(client, run_id)]
    assert kinds[-1] == "run_interrupted"
    assert client.post(f"/api/runs/{run_id}/stop").status_code == 409
    assert client.get("/api/health").status_code == 200
