"""POST /api/runs/{id}/explain: the explanation of one input given as for predict."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from tests.serving.helpers import ThreadServer

import lernwerk


@pytest.fixture(scope="module")
def runs(server: ThreadServer) -> dict[str, lernwerk.Run]:
    ws = lernwerk.Workspace(server.app.state.settings.workspace)
    return {
        "faces": ws.fit("smileys:per_class=20", "smiley-cnn", epochs=1, seed=0),
        "moons": ws.fit("moons", "mlp", epochs=1, seed=0),
    }


def test_explain_an_image_and_a_row(client: httpx.Client, runs: dict[str, lernwerk.Run]) -> None:
    pixels = np.zeros((28, 28))
    pixels[8:10, 8:20] = 1.0
    r = client.post(f"/api/runs/{runs['faces'].id}/explain", json={"pixels": pixels.tolist()})
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["kind"] == "images" and np.asarray(e["saliency"]).shape == (28, 28)
    assert np.asarray(e["gradcam"]).shape == (28, 28)
    assert [m["layer"] for m in e["feature_maps"]] == ["1", "3", "5"]
    assert e["target_name"] in runs["faces"].predictor.classes
    r = client.post(
        f"/api/runs/{runs['moons'].id}/explain",
        json={"values": {"x1": 1.5, "x2": -0.3}, "target": "0"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["names"] == ["x1", "x2"] and r.json()["target_name"] == "0"


def test_explain_refusals(client: httpx.Client, runs: dict[str, lernwerk.Run]) -> None:
    faces = runs["faces"].id
    r = client.post(f"/api/runs/{faces}/explain", json={"pixels": [["dark"] * 28] * 28})
    assert r.status_code == 422 and r.json()["error"] == "DataError", r.text
    r = client.post(f"/api/runs/{faces}/explain", json={"values": {"x1": 1}})
    assert r.status_code == 422 and "images" in r.json()["message"]
    r = client.post(f"/api/runs/{faces}/explain", json={"pixels": [[0.0] * 28] * 28, "target": "x"})
    assert r.status_code == 422 and "target must be one of the classes" in r.json()["message"]
    assert client.post("/api/runs/nosuchrun/explain", json={"sample": 1}).status_code == 404
    assert client.get("/api/health").status_code == 200  # still serving
