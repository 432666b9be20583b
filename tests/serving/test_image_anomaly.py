"""An image anomaly detector through the API: its evaluation with every score, a
prediction with verdict and map, and its threshold moved and saved."""

from __future__ import annotations

import httpx
import pytest
from tests.serving.helpers import png_bytes, wait_for
from tests.serving.test_runs import run_id_of, start, status


@pytest.fixture(scope="module")
def patchcore_run(client: httpx.Client) -> str:
    r = client.post(
        "/api/datasets", json={"name": "joints", "from": "solder", "params": {"per_class": 6}}
    )
    assert r.status_code == 201, r.text
    job = start(
        client,
        dataset="joints",
        model="patchcore",
        train={"task": "anomaly", "normal_class": "good"},
    )
    run = run_id_of(client, job)
    wait_for(lambda: status(client, run) == "finished", timeout=120)
    return run


def test_evaluation_brings_every_score_and_maps(client: httpx.Client, patchcore_run: str) -> None:
    view = client.get(f"/api/runs/{patchcore_run}/evaluation").json()
    assert view["task"] == "anomaly" and view["normal_class"] == "good"
    assert len(view["scores"]) == view["num_samples"]
    listed = view["samples"]
    assert [s["score"] for s in listed] == sorted((s["score"] for s in listed), reverse=True)
    assert len(listed[0]["map"]) == 32 and len(listed[0]["map"][0]) == 32  # 64×64 averaged


def test_predict_gives_score_verdict_and_map(client: httpx.Client, patchcore_run: str) -> None:
    import numpy as np

    image = png_bytes(np.full((64, 64, 3), 0.5), "RGB")
    r = client.post(
        f"/api/runs/{patchcore_run}/predict", files={"file": ("joint.png", image, "image/png")}
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["verdict"] == ("anomaly" if answer["score"] > answer["threshold"] else "normal")
    assert len(answer["map"]) == 64 and len(answer["map"][0]) == 64
    assert max(max(row) for row in answer["map"]) == pytest.approx(answer["score"], rel=1e-4)


def test_threshold_is_saved_with_the_run(client: httpx.Client, patchcore_run: str) -> None:
    scores = sorted(s["score"] for s in client.get(
        f"/api/runs/{patchcore_run}/evaluation").json()["scores"])  # fmt: skip
    r = client.put(f"/api/runs/{patchcore_run}/threshold", json={"threshold": scores[0] - 1})
    assert r.status_code == 200, r.text
    assert r.json()["metrics"]["test"]["recall"] == 1.0  # every defect flagged
    run = client.get(f"/api/runs/{patchcore_run}").json()
    assert run["metrics"]["test"]["threshold"] == pytest.approx(scores[0] - 1)
    assert run["metrics"]["test"]["threshold_rule"] == "set by hand"


def test_bad_thresholds_are_4xx(client: httpx.Client, patchcore_run: str, images_run: str) -> None:
    r = client.put(f"/api/runs/{patchcore_run}/threshold", json={"threshold": "high"})
    assert r.status_code == 422 and "threshold" in r.text
    r = client.put(f"/api/runs/{images_run}/threshold", json={"threshold": 1.0})
    assert r.status_code == 409 and "only an anomaly detector has a threshold" in r.text
    r = client.put("/api/runs/nosuchrun/threshold", json={"threshold": 1.0})
    assert r.status_code == 404


@pytest.fixture(scope="module")
def images_run(client: httpx.Client) -> str:
    r = client.post(
        "/api/datasets", json={"name": "joints-cls", "from": "solder", "params": {"per_class": 5}}
    )
    assert r.status_code == 201, r.text
    job = start(client, dataset="joints-cls", model="lenet", train={"epochs": 1})
    run = run_id_of(client, job)
    wait_for(lambda: status(client, run) == "finished", timeout=120)
    return run
