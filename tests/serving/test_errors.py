"""Bad requests get a 4xx with a JSON error, and the server keeps serving."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.serving.helpers import make_image_dataset

MB = 1024 * 1024


@pytest.fixture(scope="module")
def dataset(client: httpx.Client) -> str:
    make_image_dataset(client, "errs", per_class=3)
    return "errs"


def assert_error(r: httpx.Response, status: int, error: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["error"] == error and isinstance(body["message"], str) and body["message"]
    assert "where" in body
    return body


@pytest.fixture(autouse=True)
def still_healthy(client: httpx.Client) -> Iterator[None]:
    yield
    assert client.get("/api/health").status_code == 200


def test_a_non_image_upload(client: httpx.Client, dataset: str) -> None:
    files = [("files", ("notes.txt", b"hello, not an image", "text/plain"))]
    r = client.post(f"/api/datasets/{dataset}/samples", data={"label": "left"}, files=files)
    body = assert_error(r, 422, "DataError")
    assert body["where"] == "notes.txt" and "not a PNG" in body["message"]
    r = client.post(
        f"/api/datasets/{dataset}/samples",
        json={"label": "left", "image": "data:text/plain;base64,aGk="},
    )
    assert_error(r, 422, "DataError")
    r = client.post(
        f"/api/datasets/{dataset}/samples", json={"label": "left", "pixels": [[0, 2], [0, 0]]}
    )
    assert "[0, 1]" in assert_error(r, 422, "DataError")["message"]


def test_a_50_mb_upload_is_refused_unread(client: httpx.Client, dataset: str) -> None:
    big = b"\0" * (50 * MB)
    files = [("files", ("huge.png", big, "image/png"))]
    r = client.post(f"/api/datasets/{dataset}/samples", data={"label": "left"}, files=files)
    assert_error(r, 413, "TooLarge")


def test_a_streamed_body_over_the_limit(client: httpx.Client, dataset: str) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(25):
            yield b"\0" * MB

    r = client.post(
        f"/api/datasets/{dataset}/samples",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert_error(r, 413, "TooLarge")


def test_a_bad_class_name(client: httpx.Client, dataset: str) -> None:
    # the request's schema (/openapi.json) refuses it, with the core's words
    r = client.post(f"/api/datasets/{dataset}/classes", json={"name": "../x"})
    body = assert_error(r, 422, "RequestError")
    assert "path separator" in body["message"] and body["where"] == "name"
    r = client.post(f"/api/datasets/{dataset}/classes", json={"name": " padded "})
    assert "space at its start or end" in assert_error(r, 422, "RequestError")["message"]
    r = client.post("/api/datasets", json={"name": "../x", "empty": {"classes": ["a"]}})
    assert assert_error(r, 422, "RequestError")["where"] == "name"
    r = client.post("/api/datasets", json={"name": "ok-name", "empty": {"classes": ["a", "../b"]}})
    assert assert_error(r, 422, "RequestError")["where"] == "empty.classes.1"
    assert client.get("/api/datasets/ok-name").status_code == 404


def test_unknown_ids(client: httpx.Client) -> None:
    for path in ("/api/runs/doesnotexist", "/api/runs/doesnotexist/evaluation", "/api/jobs/nope"):
        assert_error(client.get(path), 404, "NotFound")
    assert_error(client.post("/api/runs/doesnotexist/stop"), 404, "NotFound")
    assert_error(client.get("/api/datasets/no-such-data"), 404, "NotFound")
    assert_error(client.get("/api/datasets/no-such-data/samples/1.png"), 404, "NotFound")
    assert_error(client.delete("/api/datasets/no-such-data"), 404, "NotFound")
    assert_error(client.get("/api/no/such/endpoint"), 404, "NotFound")


def test_malformed_json(client: httpx.Client, dataset: str) -> None:
    headers = {"content-type": "application/json"}
    r = client.post("/api/runs", content=b'{"dataset": "errs", ', headers=headers)
    assert assert_error(r, 422, "RequestError")["where"] == "body"
    r = client.post(f"/api/datasets/{dataset}/samples", content=b"{nope", headers=headers)
    assert_error(r, 422, "RequestError")
    r = client.post("/api/runs", json={"dataset": "errs", "model": "mlp", "trian": {}})
    assert assert_error(r, 422, "RequestError")["where"] == "trian"
    r = client.post("/api/runs", json={"model": "mlp"})
    body = assert_error(r, 422, "RequestError")
    assert body["where"] == "dataset" and "required" in body["message"]


def test_a_model_that_does_not_fit(client: httpx.Client, dataset: str) -> None:
    spec = {
        "layers": [
            {"Conv2D": {"filters": 4, "kernel_size": 3}},
            {"MaxPooling2D": {"pool_size": 2}},
            {"Conv2D": {"filters": 4, "kernel_size": 5}},
            "Flatten",
            {"Dense": {"units": "auto", "activation": "softmax"}},
        ]
    }
    r = client.post("/api/models/summary", json={"spec": spec, "dataset": dataset})
    body = assert_error(r, 422, "SpecError")
    assert body["layer"] == 3 and "layer 3 (Conv2D)" in body["message"]
    r = client.post(
        "/api/models/summary", json={"spec": spec, "input_shape": [1, 28, 28], "outputs": 4}
    )
    assert r.status_code == 200, r.text
    r = client.post("/api/runs", json={"dataset": dataset, "model": spec, "train": {"epochs": 1}})
    assert assert_error(r, 422, "SpecError")["layer"] == 3
    r = client.post(
        "/api/runs", json={"dataset": dataset, "model": {"layers": [{"Dense": {"unitz": 3}}]}}
    )
    assert assert_error(r, 422, "SpecError")["layer"] == 1
    assert [j for j in client.get("/api/runs").json() if j.get("dataset") == dataset] == []


def test_a_model_too_large_or_an_empty_input_is_a_422(client: httpx.Client, dataset: str) -> None:
    # no weight is allocated: the server answers at once and keeps serving
    r = client.post(
        "/api/models/summary", json={"spec": "smiley-cnn", "input_shape": [1, 100000, 100000]}
    )
    body = assert_error(r, 422, "SpecError")
    assert body["layer"] == 7 and "parameters" in body["message"]
    huge = {"layers": ["Flatten", {"Dense": {"units": 2_000_000_000}}]}
    r = client.post("/api/runs", json={"dataset": dataset, "model": huge})
    assert assert_error(r, 422, "SpecError")["layer"] == 2
    r = client.post("/api/models/summary", json={"spec": "smiley-cnn", "input_shape": [0, 28, 28]})
    assert assert_error(r, 422, "SpecError")["where"] == "input_shape"
    assert client.get("/api/health").status_code == 200


def test_bad_training_settings_are_no_job(client: httpx.Client, dataset: str) -> None:
    for train, where in (
        ({"epochs": 0}, "epochs"),
        ({"optimizer": "adamm"}, "optimizer"),
        ({"lr": -1}, "lr"),
    ):
        r = client.post("/api/runs", json={"dataset": dataset, "model": "mlp", "train": train})
        assert assert_error(r, 422, "SpecError")["where"] == where
    r = client.post("/api/runs", json={"dataset": "no-such-data", "model": "mlp"})
    assert_error(r, 404, "NotFound")
    r = client.post("/api/runs", json={"dataset": dataset, "model": "/etc/passwd"})
    assert assert_error(r, 422, "RequestError")["where"] == "model"  # the schema says so
    r = client.post("/api/runs", json={"dataset": dataset, "model": "no-such-model"})
    assert_error(r, 404, "NotFound")
