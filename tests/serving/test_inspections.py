"""`POST /api/runs/{id}/inspect` on a real uvicorn: a zip in, a job out, its report (rows,
HTML, CSV), a correction that lands in the dataset, and the refusals."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image
from tests.serving.helpers import SIZE, ThreadServer, wait_for

from lernwerk.api import Workspace


def png(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((SIZE, SIZE), value, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, str]]:
    root = tmp_path_factory.mktemp("inspect-http") / "ws"
    ws = Workspace(root)
    ws.create_empty_dataset("shades", classes=["dark", "light"], image_size=SIZE)
    rng = np.random.default_rng(0)
    dark = rng.uniform(0, 0.3, (12, 1, SIZE, SIZE))
    light = rng.uniform(0.7, 1, (12, 1, SIZE, SIZE))
    ws.add_samples(
        "shades", np.concatenate([dark, light]).astype("float32"), ["dark"] * 12 + ["light"] * 12
    )
    run = ws.fit("shades", "perceptron", epochs=1, batch_size=4, seed=0)
    with ThreadServer(root) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        yield client, run.id


def batch_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("line1/a.png", png(20))
        z.writestr("line1/b.png", png(235))
        z.writestr("line1/broken.png", b"not an image")
        z.writestr("c.png", png(128))
    return buffer.getvalue()


def finished(client: httpx.Client, job: dict) -> dict:
    def ended() -> dict | None:
        body = client.get(f"/api/inspections/{job['inspection_id']}").json()
        return body if body["status"] in ("finished", "failed") else None

    return wait_for(ended, timeout=60)


def test_a_zip_becomes_a_job_whose_result_is_the_report(
    served: tuple[httpx.Client, str],
) -> None:
    client, run_id = served
    answer = client.post(
        f"/api/runs/{run_id}/inspect",
        files=[("files", ("batch.zip", batch_zip(), "application/zip"))],
        data={"review_below": "1.0"},
    )
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["status"] in ("queued", "running", "finished") and job["total"] == 4
    body = finished(client, job)
    assert body["status"] == "finished", body
    result = body["result"]
    assert result["total"] == 4 and result["unreadable"] == 1 and result["flagged"] == 3
    rows = {r["item"]: r for r in result["rows"]}
    assert (
        rows["line1/a.png"]["predicted"] == "dark" and rows["line1/b.png"]["predicted"] == "light"
    )
    assert rows["line1/broken.png"]["why"].startswith("unreadable")
    assert rows["c.png"]["thumbnail"].startswith("data:image/png;base64,")
    assert set(rows["c.png"]["probabilities"]) == {"dark", "light"}
    html = client.get(body["report_html"])
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Flagged for review (3)" in html.text
    csv_text = client.get(body["report_csv"]).text
    assert csv_text.splitlines()[0] == "item,predicted,confidence,p_dark,p_light,review,why"
    # a correction adds the item, as uploaded, to the run's dataset
    before = client.get("/api/datasets/shades").json()
    index = rows["c.png"]["index"]
    added = client.post(
        f"/api/inspections/{job['inspection_id']}/items/{index}/label", json={"name": "light"}
    )
    assert added.status_code == 201, added.text
    after = client.get("/api/datasets/shades").json()
    assert after["num_samples"] == before["num_samples"] + 1
    assert after["class_counts"]["light"] == before["class_counts"]["light"] + 1


def test_refusals(served: tuple[httpx.Client, str]) -> None:
    client, run_id = served
    url = f"/api/runs/{run_id}/inspect"
    cases = [
        (client.post(url, files=[("files", ("rows.csv", b"a,b\n1,2\n", "text/csv"))]), 422),
        (
            client.post(url, files=[("files", ("batch.zip", b"PK not a zip", "application/zip"))]),
            422,
        ),
        (client.post(url, json={"files": []}), 422),
        (
            client.post(
                "/api/runs/nope/inspect", files=[("files", ("a.png", png(3), "image/png"))]
            ),
            404,
        ),
        (
            client.post(
                url, files=[("files", ("a.png", png(3), "image/png"))], data={"review_rate": "x"}
            ),
            422,
        ),
        (client.get("/api/inspections/nope"), 404),
    ]
    for answer, status in cases:
        assert answer.status_code == status, answer.text
        body = answer.json()
        assert body["message"] and body["error"]
    job = client.post(url, files=[("files", ("a.png", png(3), "image/png"))]).json()
    finished(client, job)
    wrong = client.post(
        f"/api/inspections/{job['inspection_id']}/items/0/label", json={"name": "nope"}
    )
    assert wrong.status_code == 404 and "nope" in wrong.json()["message"]
    missing = client.post(
        f"/api/inspections/{job['inspection_id']}/items/9/label", json={"name": "dark"}
    )
    assert missing.status_code == 404
