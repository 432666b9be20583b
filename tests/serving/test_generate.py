"""The generate task over HTTP: the sample grids per epoch, and new images as a PNG."""

from __future__ import annotations

import httpx
import pytest
from tests.serving.helpers import ThreadServer

import lernwerk


@pytest.fixture(scope="module")
def runs(server: ThreadServer) -> dict[str, lernwerk.Run]:
    ws = lernwerk.Workspace(server.app.state.settings.workspace)
    return {
        "vae": ws.fit("smileys:per_class=20", "vae", task="generate", epochs=2, seed=0),
        "faces": ws.fit("smileys:per_class=20", "smiley-cnn", epochs=1, seed=0),
    }


def test_a_generative_run_serves_its_grids_and_new_images(
    client: httpx.Client, runs: dict[str, lernwerk.Run]
) -> None:
    vae = runs["vae"].id
    r = client.get(f"/api/runs/{vae}/generated")
    assert r.status_code == 200, r.text
    assert r.json() == {"epochs": [1, 2], "latent_map": True, "interpolation": True}
    for name in ("epoch-0001", "epoch-0002", "latent-map", "interpolation"):
        r = client.get(f"/api/runs/{vae}/generated/{name}.png")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png", name
        assert r.content[:4] == b"\x89PNG"
    r = client.post(f"/api/runs/{vae}/generate", params={"n": 9, "seed": 1})
    assert r.status_code == 200 and r.content[:4] == b"\x89PNG"
    again = client.post(f"/api/runs/{vae}/generate", params={"n": 9, "seed": 1})
    assert again.content == r.content  # the same seed, the same images


def test_generate_refusals(client: httpx.Client, runs: dict[str, lernwerk.Run]) -> None:
    faces, vae = runs["faces"].id, runs["vae"].id
    r = client.post(f"/api/runs/{faces}/generate", params={"n": 4})
    assert r.status_code == 422 and "does not generate images" in r.json()["message"], r.text
    r = client.post(f"/api/runs/{vae}/generate", params={"n": 5000})
    assert r.status_code == 422 and r.json()["where"] == "n", r.text
    r = client.post(f"/api/runs/{vae}/generate", params={"n": "many"})
    assert r.status_code == 422
    assert client.get(f"/api/runs/{faces}/generated").json()["epochs"] == []
    assert client.get(f"/api/runs/{faces}/generated/epoch-0001.png").status_code == 404
    assert client.get(f"/api/runs/{vae}/generated/nothing.png").status_code == 404
    assert client.post("/api/runs/nosuchrun/generate").status_code == 404
